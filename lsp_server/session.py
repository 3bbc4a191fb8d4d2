"""The server's domain side, free of LSP types: workspace folders and their indexes, open
buffers, the completer, analysis calls, status. Methods here block (SQLite, tree-sitter, the
model); the protocol layer runs them on worker threads and converts the results.

Who changes what: the buffers (and the index's copy of them) only on the edit thread, from
document snapshots; indexes on the index thread; the completer on the model thread.
Analysis threads only read."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Protocol

from tether.decoding.completion.engine import (
    Completer,
    CompletionRequest,
    CompletionResult,
)
from tether.decoding.model.files import ModelError
from tether.index import analysis
from tether.index import deprecated_uses as deprecation_analysis
from tether.index.embeddings import Embedder
from tether.index.models import Symbol
from tether.index.module_names import module_name
from tether.index.registry import WorkspaceRegistry
from tether.index.workspace import IndexProgress, WorkspaceIndex
from tether.lsp_server.settings import TetherSettings
from tether.lsp_server.snapshots import PYTHON_SUFFIXES, DocumentSnapshot

log = logging.getLogger(__name__)
Progress = Callable[[IndexProgress], None]


class Notifier(Protocol):
    """How the session speaks to the user; the server implements it (thread-safe)."""

    def show_error(self, message: str) -> None: ...

    def log(self, message: str, level: int = logging.INFO) -> None: ...


@dataclass(frozen=True, slots=True)
class Location:
    root: Path
    rel: str
    module: str | None  # None: not a Python file


class Session:
    def __init__(self, settings: TetherSettings, notifier: Notifier) -> None:
        self.settings = settings
        self.notifier = notifier
        threads = max(1, (os.cpu_count() or 2) // 4)
        self.registry = WorkspaceRegistry(settings.index_config(), Embedder(threads=threads),
                                          embeddings_on_first_use=False)
        self.completer = Completer(settings.completer_settings(), self.registry)
        self.roots: list[Path] = []
        self.buffers: dict[Path, DocumentSnapshot] = {}  # written by the edit thread only
        self.indexing: set[Path] = set()
        self.latencies: deque[float] = deque(maxlen=20)
        self.errors: deque[str] = deque(maxlen=20)
        self.model_error: str | None = None
        self.warmed: set[Path] = set()
        self.stop = threading.Event()

    # -- folders and documents --------------------------------------------------------------

    def add_root(self, root: Path) -> bool:
        root = root.resolve()
        if root in self.roots or not root.is_dir():
            return False
        self.roots.append(root)
        return True

    def remove_root(self, root: Path) -> None:
        root = root.resolve()
        if root in self.roots:
            self.roots.remove(root)

    def locate(self, path: Path) -> Location | None:
        """The workspace folder (deepest first) that holds a file, and its module name."""
        resolved = path.resolve()
        for root in sorted(self.roots, key=lambda r: len(r.parts), reverse=True):
            if resolved.is_relative_to(root):
                rel = resolved.relative_to(root).as_posix()
                python = rel.endswith(PYTHON_SUFFIXES)
                return Location(root, rel, module_name(root, rel)[0] if python else None)
        return None

    def index_for(self, root: Path) -> WorkspaceIndex | None:
        """The folder's index if it has been created (never blocks on indexing)."""
        for index in self.registry.open_indexes():
            if index.root == root:
                return index
        return None

    def _located_index(self, path: Path) -> tuple[Location, WorkspaceIndex] | None:
        location = self.locate(path)
        if location is None:
            return None
        index = self.index_for(location.root)
        return (location, index) if index is not None else None

    # -- indexing (index thread) ------------------------------------------------------------

    def index_folder(self, root: Path, progress: Progress) -> dict[str, int]:
        """Symbols phase: create (or refresh) the folder's index (the server then applies
        the open buffers to it, on the edit thread)."""
        self.indexing.add(root)
        try:
            index = self.index_for(root)
            if index is None:
                index = self.registry.get(root, progress)
            else:
                index.index_all(progress, embeddings=False)
            return index.store.counts()
        except Exception as error:
            self._error(f"indexing {root} failed: {error}")
            raise
        finally:
            self.indexing.discard(root)

    def embed_folder(self, root: Path, progress: Progress) -> int:
        """Second phase: third-party deprecations, then embeddings of new chunks."""
        index = self.index_for(root)
        if index is None or self.stop.is_set():
            return 0
        scan = getattr(index, "scan_dependencies", None)
        if scan is not None:
            try:
                scan()
            except Exception as error:  # dependencies are a bonus, never fatal
                self._error(f"scanning dependencies of {root} failed: {error}")
        if not self.settings.embeddings:
            return 0
        try:
            return index.embed_pending(progress, self.stop)
        except Exception as error:
            self._error(f"embeddings for {root} unavailable: {error}")
            return 0

    # -- buffers (edit thread) --------------------------------------------------------------

    def sync_buffer(self, doc: DocumentSnapshot) -> bool:
        """Adopt a document's snapshot, and write it into its folder's index (cheap when
        unchanged). An older version than the one held is ignored."""
        held = self.buffers.get(doc.path)
        if held is not None and held.version is not None and doc.version is not None and (
                held.version > doc.version):
            return False
        self.buffers[doc.path] = doc
        found = self._located_index(doc.path)
        if found is None:
            return False
        location, index = found
        return index.set_buffer(location.rel, doc.text)

    def sync_buffers(self, docs: list[DocumentSnapshot]) -> None:
        for doc in docs:
            self.sync_buffer(doc)

    def close_buffer(self, path: Path) -> None:
        self.buffers.pop(path, None)
        found = self._located_index(path)
        if found is not None:
            found[1].close_buffer(found[0].rel)
            self.completer.close_document(found[0].root, found[0].rel)

    def file_changed(self, path: Path, deleted: bool) -> bool:
        """A change on disk made outside the editor."""
        found = self._located_index(path)
        if found is None:
            return False
        location, index = found
        return index.remove_file(location.rel) if deleted else index.update_file(location.rel)

    # -- analysis (analysis threads) --------------------------------------------------------

    def _python(self, path: Path) -> tuple[Location, WorkspaceIndex] | None:
        found = self._located_index(path)
        return found if found is not None and found[0].module is not None else None

    def hover(self, path: Path, text: str, line: int, char: int) -> Symbol | None:
        found = self._python(path)
        if found is None:
            return None
        return analysis.symbol_at(found[1], found[0].module or "", text, line, char)

    def deprecated_uses(self, path: Path, text: str) -> list[deprecation_analysis.DeprecatedUse]:
        found = self._python(path)
        if found is None:
            return []
        return deprecation_analysis.deprecated_uses(found[1], found[0].module or "", text)

    def fixes(self, path: Path, text: str, span: analysis.Span) -> list[
            tuple[deprecation_analysis.DeprecatedUse, deprecation_analysis.TextEdit]]:
        """Quick fixes for the deprecated uses that overlap `span`."""
        found = []
        for use in self.deprecated_uses(path, text):
            if not _overlap(use.range, span):
                continue
            edit = deprecation_analysis.replacement_edit(use, text)
            if edit is not None:
                found.append((use, edit))
        return found

    def members(self, path: Path, text: str, line: int,
                char: int) -> list[analysis.MemberCompletion]:
        found = self._python(path)
        if found is None:
            return []
        return analysis.member_completions(found[1], found[0].module or "", text, line, char)

    def describe(self, path: Path, qualname: str) -> Symbol | None:
        found = self._located_index(path)
        if found is None:
            return None
        lookup = found[1].lookup
        return lookup.resolve(qualname) or next(iter(lookup.by_qualname(qualname)), None)

    # -- completions (the model thread) -----------------------------------------------------

    def load_model(self) -> bool:
        """Load the model now (so the first completion is fast and a bad model is reported
        at startup). Reports a failure once; later calls answer False without retrying."""
        if self.model_error is not None:
            return False
        try:
            _ = self.completer.runtime
            return True
        except Exception as error:  # a corrupt file can fail inside llama.cpp, not only here
            detail = str(error) if isinstance(error, ModelError) else repr(error)
            self.model_error = f"Tether: cannot load the completion model: {detail}"
            self._error(self.model_error)
            self.notifier.show_error(
                f"{self.model_error}. Completions are off; hover, diagnostics and member "
                "completions keep working. Fix the `modelPath` setting to retry.")
            return False

    def complete(self, path: Path, text: str, line: int, char: int,
                 cancel: threading.Event) -> str | None:
        if not self.settings.enable or not path.name.endswith(PYTHON_SUFFIXES):
            return None
        if not self.load_model() or cancel.is_set():
            return None
        request = self._request(path, text, line, char)
        try:
            result = self._complete(request, cancel)
        except Exception as error:
            self._error(f"completion failed: {error!r}")
            log.exception("completion failed for %s", path)
            return None
        if result.stop_reason == "cancelled":
            return None
        self.latencies.append(round(result.latency_ms, 1))
        return result.text

    def warm_up(self, path: Path) -> None:
        """Do, once per folder, what the first completion there would pay for: load the
        model, build the grounded mode's tables, start the type oracle and evaluate this
        buffer's prompt (kept in the cache), by completing one token at its end."""
        location = self.locate(path)
        doc = self.buffers.get(path)
        if location is None or location.root in self.warmed or doc is None:
            return
        if self.index_for(location.root) is None or not self.load_model():
            return
        self.warmed.add(location.root)
        try:
            self.completer.prepare(location.root, location.rel, doc.text)
        except Exception:
            log.exception("preparing the completer for %s failed", location.root)
        lines = doc.text.split("\n")
        started = time.perf_counter()
        try:
            self._complete(replace(self._request(path, doc.text, len(lines) - 1,
                                                 len(lines[-1])), max_tokens=1),
                           threading.Event())
        except Exception:
            log.exception("warming up for %s failed", location.root)
        log.info("ready to complete in %s (%.0f ms)", location.root,
                 (time.perf_counter() - started) * 1000)

    def _request(self, path: Path, text: str, line: int, char: int) -> CompletionRequest:
        location = self.locate(path)
        ready = location is not None and self.index_for(location.root) is not None
        return CompletionRequest(
            workspace=location.root if location else path.parent,
            path=location.rel if location else path.name, text=text, line=line, character=char,
            mode=None if ready else "plain")

    def _complete(self, request: CompletionRequest, cancel: threading.Event
                  ) -> CompletionResult:
        return self.completer.complete(request, cancel)

    def apply_settings(self, settings: TetherSettings) -> tuple[bool, bool]:
        """Adopt new settings (model thread). Returns (model reloaded, index config changed)."""
        old, self.settings = self.settings, settings
        reload = old.model_key() != settings.model_key()
        completer_settings = settings.completer_settings()
        if reload:
            self.completer.close()
            self.completer = Completer(completer_settings, self.registry)
            self.model_error = None
            self.warmed.clear()
        else:
            self.completer.settings = completer_settings
        reindex = old.index_key() != settings.index_key()
        if reindex:
            config = settings.index_config()
            self.registry.config.excludes[:] = config.excludes
            self.registry.config.doc_folders[:] = config.doc_folders
        return reload, reindex

    # -- status -----------------------------------------------------------------------------

    def status(self) -> dict[str, object]:
        totals = {"files": 0, "symbols": 0, "chunks": 0}
        for root in self.roots:
            index = self.index_for(root)
            if index is None:
                continue
            counts = index.store.counts()
            for key in totals:
                totals[key] += counts.get(key, 0)
        return {
            "model": self.completer.model_name,
            "mode": self.completer.settings.mode,
            "index": {**totals, "indexing": bool(self.indexing),
                      "folders": [str(root) for root in self.roots]},
            "lastLatenciesMs": list(self.latencies),
            "errors": list(self.errors),
            "settings": asdict(self.settings),
        }

    def _error(self, message: str) -> None:
        log.warning("%s", message)
        self.errors.append(f"{time.strftime('%H:%M:%S')} {message}")

    def close(self) -> None:
        self.stop.set()
        try:
            self.completer.close()
        finally:
            self.registry.close()


def _overlap(a: analysis.Span, b: analysis.Span) -> bool:
    return (a.start_line, a.start_char) <= (b.end_line, b.end_char) and (
        (b.start_line, b.start_char) <= (a.end_line, a.end_char))
