"""Settings that control what the index reads and where it stores it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git/",
    ".hg/",
    ".svn/",
    "__pycache__/",
    "node_modules/",
    ".venv/",
    "venv/",
    "env/",
    ".tox/",
    ".nox/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    "build/",
    "dist/",
    "*.egg-info/",
    "site-packages/",
)

DEFAULT_DOC_FOLDERS: tuple[str, ...] = ("docs", "doc")


@dataclass(slots=True)
class IndexConfig:
    """What to index. Paths in `excludes` are gitignore-style patterns."""

    excludes: list[str] = field(default_factory=list)
    doc_folders: list[str] = field(default_factory=lambda: list(DEFAULT_DOC_FOLDERS))
    max_file_bytes: int = 1_000_000
    embeddings: bool = True
    interpreter: str | None = None
    cache_dir: Path | None = None

    def all_excludes(self) -> list[str]:
        return [*DEFAULT_EXCLUDES, *self.excludes]
