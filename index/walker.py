"""Find the files of a workspace that the index should read.

Rules, in order, for every directory below the root:
  hidden directories (except `.github`), config excludes plus built-in build-output patterns,
  `.gitignore` files (every level, negations, `.git/info/exclude`, and the `.gitignore` files of
  an enclosing repository when the workspace is a sub-folder of one), and environments (a folder
  holding `pyvenv.cfg`, `conda-meta` or `CACHEDIR.TAG`) are skipped. Symlinked directories are
  never followed: a link inside the workspace is walked under its real path anyway, and a link
  leaving it would read outside the workspace. Symlinked files count only when they resolve
  inside the workspace.

For every file: `.py`/`.pyi` are PYTHON; `.md`/`.markdown`/`.rst`/`.txt` under a configured doc
folder, and README*/CHANGELOG*/CHANGES*/HISTORY*/NEWS* at the root or at a package root (a folder
with `__init__.py`, `pyproject.toml`, `setup.py` or `setup.cfg`), are DOCS. Then excludes,
gitignore rules, secret-looking paths and the size limit apply. Content checks (binary, secret
content, decoding) happen at read time: `Workspace.load_text` or `should_index_content`.

Output order is sorted by relative path; every skip is counted in a `WalkReport`.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path, PurePosixPath

from tether.index.config import IndexConfig
from tether.index.gitignore import (
    IgnoreRules,
    config_excludes,
    is_ignored,
    read_ignore_file,
    repo_layers,
)
from tether.index.secrets import is_secret_path, should_index_content
from tether.index.textfile import (
    SkipReason,
    SourceText,
    read_source,
    reason_for_error,
)

__all__ = [
    "FileKind",
    "IgnoreRules",
    "SkipReason",
    "WalkReport",
    "Workspace",
    "WorkspaceFile",
    "classify",
    "should_index_content",
    "walk_workspace",
]

PYTHON_SUFFIXES = frozenset({".py", ".pyi"})
DOC_SUFFIXES = frozenset({".md", ".markdown", ".rst", ".txt"})
DOC_NAME_PREFIXES = ("README", "CHANGELOG", "CHANGES", "HISTORY", "NEWS")
PACKAGE_MARKERS = frozenset({"__init__.py", "pyproject.toml", "setup.py", "setup.cfg"})
ENV_MARKERS = frozenset({"pyvenv.cfg", "conda-meta", "CACHEDIR.TAG"})
KEPT_HIDDEN_DIRS = frozenset({".github"})
_NOT_DOCS = ("requirements", "constraints", "robots")  # .txt files found in doc folders


class FileKind(StrEnum):
    PYTHON = "python"
    DOCS = "docs"


@dataclass(frozen=True, slots=True)
class WorkspaceFile:
    path: Path
    rel: str  # posix, relative to the workspace root
    kind: FileKind
    size: int
    mtime_ns: int


@dataclass(slots=True)
class WalkReport:
    """Files found and files skipped, by reason, with a few example paths per reason."""

    found: int = 0
    skipped: Counter[SkipReason] = field(default_factory=Counter)
    examples: dict[SkipReason, list[str]] = field(default_factory=dict)
    max_examples: int = 20

    def skip(self, reason: SkipReason, rel: str) -> None:
        self.skipped[reason] += 1
        if reason is SkipReason.UNSUPPORTED:
            return
        bucket = self.examples.setdefault(reason, [])
        if len(bucket) < self.max_examples:
            bucket.append(rel)

    def discard(self, reason: SkipReason, rel: str) -> None:
        """A found file turned out unusable when read."""
        self.found = max(0, self.found - 1)
        self.skip(reason, rel)

    def summary(self) -> str:
        parts = [
            f"{count} {reason.value}"
            for reason, count in sorted(self.skipped.items())
            if reason is not SkipReason.UNSUPPORTED
        ]
        return f"{self.found} files" + (f"; skipped {', '.join(parts)}" if parts else "")


# --- path-only rules --------------------------------------------------------------------------


def _normalize(rel: str) -> str:
    parts = [p for p in rel.replace("\\", "/").split("/") if p not in ("", ".")]
    return "" if ".." in parts else "/".join(parts)


@lru_cache(maxsize=16)
def _doc_prefixes(folders: tuple[str, ...]) -> tuple[str, ...]:
    normalized = (_normalize(folder) for folder in folders)
    return tuple(f"{folder}/" for folder in normalized if folder)


def _kind(rel: str, config: IndexConfig, readme_ok: bool) -> FileKind | None:
    name = rel.rpartition("/")[2]
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in PYTHON_SUFFIXES:
        return FileKind.PYTHON
    if suffix and suffix not in DOC_SUFFIXES:
        return None
    if readme_ok and name.upper().startswith(DOC_NAME_PREFIXES):
        return FileKind.DOCS
    in_docs = rel.startswith(_doc_prefixes(tuple(config.doc_folders)))
    if suffix and in_docs and not name.lower().startswith(_NOT_DOCS):
        return FileKind.DOCS
    return None


def _skip_dir(rel: str, name: str, excludes: IgnoreRules, layers: tuple[IgnoreRules, ...]) -> bool:
    if name.startswith(".") and name not in KEPT_HIDDEN_DIRS:
        return True
    return excludes.verdict(rel, True) is True or is_ignored(layers, rel, True)


def _file_verdict(
    rel: str, config: IndexConfig, readme_ok: bool, layers: tuple[IgnoreRules, ...] = ()
) -> FileKind | SkipReason:
    kind = _kind(rel, config, readme_ok)
    if kind is None:
        return SkipReason.UNSUPPORTED
    if config_excludes(config).verdict(rel, False) is True or is_ignored(layers, rel, False):
        return SkipReason.IGNORED
    if is_secret_path(rel):
        return SkipReason.SECRET
    return kind


def classify(
    rel: str, config: IndexConfig, *, package_dirs: Collection[str] = ()
) -> FileKind | None:
    """The kind of a workspace-relative path, or None if the path rules leave it out.

    Applies everything that needs no disk access: kinds, hidden folders, excludes and secret
    paths. README-like files count at the root and in `package_dirs`. `Workspace.check_file`
    adds the rules that need the disk (gitignore files, environments, symlinks, size).
    """
    rel = _normalize(rel)
    if not rel:
        return None
    parts = rel.split("/")
    excludes = config_excludes(config)
    for i in range(1, len(parts)):
        if _skip_dir("/".join(parts[:i]), parts[i - 1], excludes, ()):
            return None
    parent = "/".join(parts[:-1])
    verdict = _file_verdict(rel, config, not parent or parent in package_dirs)
    return verdict if isinstance(verdict, FileKind) else None


# --- the walk ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Dir:
    rel: str
    entries: list[os.DirEntry[str]]
    layers: tuple[IgnoreRules, ...]
    package_root: bool


def _is_real_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _is_dir_link(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink() and entry.is_dir()
    except OSError:
        return False


def _sort_key(entry: os.DirEntry[str]) -> str:
    # "pkg/" sorts after "pkg.py" exactly as the relative paths of their contents do.
    return f"{entry.name}/" if _is_real_dir(entry) else entry.name


def _has_any(folder: str, names: Iterable[str]) -> bool:
    return any(os.path.lexists(os.path.join(folder, name)) for name in names)


def _identity(path: Path) -> tuple[int, int]:
    try:
        info = os.stat(path)
    except OSError:
        return (-1, -1)
    return (info.st_dev, info.st_ino)


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


class Workspace:
    """Applies the walk rules to a workspace: a full walk, or one file at a time."""

    def __init__(self, root: Path, config: IndexConfig, report: WalkReport | None = None) -> None:
        self.root = Path(root)
        self.config = config
        self.report = report if report is not None else WalkReport()
        self._real_root = os.path.realpath(self.root)
        self._excludes = config_excludes(config)
        self._outer = repo_layers(Path(self._real_root))
        self._layers: dict[str, tuple[IgnoreRules, ...]] = {}

    def invalidate(self) -> None:
        """Forget cached .gitignore rules (call after a .gitignore file changes)."""
        self._layers.clear()
        self._outer = repo_layers(Path(self._real_root))

    def walk(self) -> Iterator[WorkspaceFile]:
        root = self._open_dir("", self._outer)
        if root is None:
            return
        visited = {_identity(self.root)}
        stack = [(root, entry) for entry in reversed(root.entries)]
        while stack:
            parent, entry = stack.pop()
            rel = _join(parent.rel, entry.name)
            if _is_real_dir(entry):
                child = self._enter(rel, entry, parent, visited)
                if child is not None:
                    stack.extend((child, e) for e in reversed(child.entries))
                continue
            if _is_dir_link(entry):
                self.report.skip(SkipReason.SYMLINK, rel)
                continue
            result = self._check(rel, entry.is_symlink(), parent.package_root, parent.layers)
            if isinstance(result, WorkspaceFile):
                self.report.found += 1
                yield result
            else:
                self.report.skip(result, rel)

    def check_file(self, path: Path | str) -> WorkspaceFile | SkipReason:
        """Apply every walk rule to one file (absolute, or relative to the root)."""
        rel = self.relative(path)
        if rel is None:
            return SkipReason.IGNORED
        parts = rel.split("/")
        layers = self._layers_for("", self._outer, self.root / ".gitignore")
        for i in range(1, len(parts)):
            dir_rel = "/".join(parts[:i])
            dir_path = os.path.join(self.root, dir_rel)
            if _skip_dir(dir_rel, parts[i - 1], self._excludes, layers):
                return SkipReason.IGNORED
            if os.path.islink(dir_path):
                return SkipReason.SYMLINK
            if _has_any(dir_path, ENV_MARKERS):
                return SkipReason.IGNORED
            layers = self._layers_for(dir_rel, layers, Path(dir_path) / ".gitignore")
        parent = os.path.join(self.root, *parts[:-1])
        readme_ok = len(parts) == 1 or _has_any(parent, PACKAGE_MARKERS)
        return self._check(rel, os.path.islink(self.root / rel), readme_ok, layers)

    def relative(self, path: Path | str) -> str | None:
        """Workspace-relative posix path of `path`, or None if it lies outside the workspace."""
        candidate = Path(path) if Path(path).is_absolute() else self.root / path
        pairs = (
            (os.path.abspath(self.root), os.path.abspath(candidate)),
            (self._real_root, os.path.realpath(candidate)),
        )
        for base, target in pairs:
            try:
                rel = _normalize(Path(os.path.relpath(target, base)).as_posix())
            except ValueError:  # another drive
                continue
            if rel:
                return rel
        return None

    def load_text(self, file: WorkspaceFile) -> SourceText | None:
        """Read a found file; None (and a report entry) if binary, secret, or unreadable."""
        result = read_source(file.path, self.config.max_file_bytes)
        if isinstance(result, SkipReason):
            self.report.discard(result, file.rel)
            return None
        if not should_index_content(file.rel, result.text):
            self.report.discard(SkipReason.SECRET, file.rel)
            return None
        return result

    def _enter(
        self, rel: str, entry: os.DirEntry[str], parent: _Dir, visited: set[tuple[int, int]]
    ) -> _Dir | None:
        if _skip_dir(rel, entry.name, self._excludes, parent.layers):
            self.report.skip(SkipReason.IGNORED, rel)
            return None
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError as exc:
            self.report.skip(reason_for_error(exc), rel)
            return None
        identity = (info.st_dev, info.st_ino)
        if identity in visited:  # a bind mount or similar loop
            self.report.skip(SkipReason.SYMLINK, rel)
            return None
        visited.add(identity)
        return self._open_dir(rel, parent.layers)

    def _open_dir(self, rel: str, parent_layers: tuple[IgnoreRules, ...]) -> _Dir | None:
        path = os.path.join(self.root, rel) if rel else str(self.root)
        try:
            with os.scandir(path) as listing:
                entries = list(listing)
        except OSError as exc:
            self.report.skip(reason_for_error(exc), rel or ".")
            return None
        names = {entry.name for entry in entries}
        if rel and names & ENV_MARKERS:
            self.report.skip(SkipReason.IGNORED, rel)
            return None
        gitignore = Path(path) / ".gitignore" if ".gitignore" in names else None
        layers = self._layers_for(rel, parent_layers, gitignore)
        entries.sort(key=_sort_key)
        return _Dir(rel, entries, layers, not rel or bool(names & PACKAGE_MARKERS))

    def _layers_for(
        self, rel: str, parent_layers: tuple[IgnoreRules, ...], gitignore: Path | None
    ) -> tuple[IgnoreRules, ...]:
        cached = self._layers.get(rel)
        if cached is not None:
            return cached
        rules = read_ignore_file(gitignore, base=rel) if gitignore is not None else None
        layers = parent_layers if rules is None else (*parent_layers, rules)
        self._layers[rel] = layers
        return layers

    def _check(
        self, rel: str, is_link: bool, readme_ok: bool, layers: tuple[IgnoreRules, ...]
    ) -> WorkspaceFile | SkipReason:
        verdict = _file_verdict(rel, self.config, readme_ok, layers)
        if isinstance(verdict, SkipReason):
            return verdict
        path = self.root / rel
        if is_link and not self._inside(path):
            return SkipReason.SYMLINK
        try:
            info = os.stat(path)
        except OSError as exc:
            return reason_for_error(exc)
        if not stat.S_ISREG(info.st_mode):
            return SkipReason.UNREADABLE
        if info.st_size > self.config.max_file_bytes:
            return SkipReason.TOO_LARGE
        return WorkspaceFile(path, rel, verdict, info.st_size, info.st_mtime_ns)

    def _inside(self, path: Path) -> bool:
        real = os.path.realpath(path)
        try:
            return os.path.commonpath([real, self._real_root]) == self._real_root
        except ValueError:
            return False


def walk_workspace(
    root: Path, config: IndexConfig, report: WalkReport | None = None
) -> Iterator[WorkspaceFile]:
    """Every indexable file under `root`, sorted by relative path. Skips go to `report`."""
    return Workspace(root, config, report).walk()
