"""Immutable views of open documents.

The protocol loop owns the editor's text (pygls applies each didChange there); every other
thread gets a DocumentSnapshot, a frozen copy of one version, and never the live document.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pygls.uris import to_fs_path

PYTHON_LANGUAGES = ("python", "py")
PYTHON_SUFFIXES = (".py", ".pyi")


@dataclass(frozen=True, slots=True)
class DocumentSnapshot:
    uri: str
    path: Path
    text: str
    version: int | None
    python: bool


def uri_path(uri: str) -> Path | None:
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return Path(path) if path else None


def is_python(language_id: str | None, path: Path) -> bool:
    return (language_id or "").lower() in PYTHON_LANGUAGES or path.suffix in PYTHON_SUFFIXES
