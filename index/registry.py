"""Open workspace indexes, one per root, created and indexed on first use."""

from __future__ import annotations

import threading
from pathlib import Path

from tether.index.config import IndexConfig
from tether.index.embeddings import Embedder
from tether.index.workspace import ProgressCallback, WorkspaceIndex


class WorkspaceRegistry:
    """Shares one embedder between workspaces; thread-safe."""

    def __init__(self, config: IndexConfig | None = None, embedder: Embedder | None = None,
                 embeddings_on_first_use: bool = True) -> None:
        self.config = config or IndexConfig()
        self.embedder = embedder or Embedder()
        self.embeddings_on_first_use = embeddings_on_first_use
        self._indexes: dict[Path, WorkspaceIndex] = {}
        self._lock = threading.Lock()

    def get(self, root: Path, progress: ProgressCallback | None = None) -> WorkspaceIndex:
        resolved = root.resolve()
        with self._lock:
            index = self._indexes.get(resolved)
            if index is not None:
                return index
            index = WorkspaceIndex(resolved, self.config, self.embedder)
            self._indexes[resolved] = index
        index.index_all(progress, embeddings=self.embeddings_on_first_use)
        return index

    def existing(self, root: Path) -> WorkspaceIndex | None:
        """The index of `root` if one is open; never creates one."""
        with self._lock:
            return self._indexes.get(root.resolve())

    def open_indexes(self) -> list[WorkspaceIndex]:
        with self._lock:
            return list(self._indexes.values())

    def close(self) -> None:
        with self._lock:
            for index in self._indexes.values():
                index.close()
            self._indexes.clear()
