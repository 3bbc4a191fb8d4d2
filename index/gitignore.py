"""Gitignore-syntax rules: nested `.gitignore` files, `.git/info/exclude`, the enclosing
repository's rules, and the configured excludes (which always win)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import pathspec
from pathspec.pattern import Pattern

from tether.index.config import IndexConfig
from tether.index.textfile import SkipReason, decode_bytes, read_bytes

BUILTIN_EXCLUDES = (
    "_build/", "htmlcov/", "__pypackages__/", "*.dist-info/", "site-packages/", ".eggs/",
)  # fmt: skip
_IGNORE_FILE_LIMIT = 1 << 20


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: Pattern
    ignore: bool  # False for a negated (`!`) pattern
    dir_only: bool  # the pattern ends with `/`


@dataclass(frozen=True, slots=True)
class IgnoreRules:
    """The patterns of one gitignore-syntax source, anchored at one directory.

    `base` is the workspace-relative folder holding the source ("" for the root). For a source
    above the workspace (an enclosing repository), `outer` is the workspace root's path relative
    to the source's folder.
    """

    rules: tuple[_Rule, ...]
    base: str = ""
    outer: str = ""

    @classmethod
    def parse(cls, lines: Iterable[str], base: str = "", outer: str = "") -> IgnoreRules:
        parsed = (_parse_rule(line) for line in lines)
        return cls(tuple(rule for rule in parsed if rule is not None), base, outer)

    def verdict(self, rel: str, is_dir: bool) -> bool | None:
        """True: ignored, False: re-included by a negation, None: no pattern matches."""
        local = self._local(rel)
        for rule in reversed(self.rules):  # the last matching pattern wins
            # Directories are tested without a trailing slash except by directory-only
            # patterns, so that `foo/**` (contents only) does not hide `foo` itself.
            probe = f"{local}/" if is_dir and rule.dir_only else local
            if rule.pattern.match_file(probe) is not None:
                return rule.ignore
        return None

    def _local(self, rel: str) -> str:
        if self.outer:
            return f"{self.outer}/{rel}"
        return rel[len(self.base) + 1 :] if self.base else rel


def _parse_rule(line: str) -> _Rule | None:
    line = line.rstrip("\r\n")
    text = line.rstrip(" ")
    if text.endswith("\\") and len(text) < len(line):
        text += " "  # an escaped trailing space is kept
    if not text or text.startswith("#"):
        return None
    try:
        patterns = pathspec.GitIgnoreSpec.from_lines([text]).patterns
    except ValueError:  # invalid pattern: git ignores it too
        return None
    if not patterns or patterns[0].include is None:
        return None
    return _Rule(patterns[0], bool(patterns[0].include), text.endswith("/"))


def is_ignored(layers: tuple[IgnoreRules, ...], rel: str, is_dir: bool) -> bool:
    """Deeper .gitignore files take precedence over shallower ones."""
    for layer in reversed(layers):
        verdict = layer.verdict(rel, is_dir)
        if verdict is not None:
            return verdict
    return False


def read_ignore_file(path: Path, base: str = "", outer: str = "") -> IgnoreRules | None:
    data = read_bytes(path, _IGNORE_FILE_LIMIT)
    if isinstance(data, SkipReason):
        return None
    rules = IgnoreRules.parse(decode_bytes(data).text.splitlines(), base, outer)
    return rules if rules.rules else None


@lru_cache(maxsize=16)
def exclude_rules(patterns: tuple[str, ...]) -> IgnoreRules:
    return IgnoreRules.parse(patterns)


def config_excludes(config: IndexConfig) -> IgnoreRules:
    # Built-ins first so a user's `!pattern` in config.excludes can re-include them.
    return exclude_rules((*BUILTIN_EXCLUDES, *config.all_excludes()))


# --- enclosing repository ---------------------------------------------------------------------


def repo_layers(real_root: Path) -> tuple[IgnoreRules, ...]:
    """`.git/info/exclude` and the `.gitignore` files above the root, lowest precedence first.

    Empty when the enclosing repository ignores the workspace itself: the workspace is then no
    part of that repository (think of a home directory repository ignoring `*`).
    """
    repo = _find_repo(real_root)
    if repo is None:
        return ()
    above = [d for d in reversed(real_root.parents) if d == repo or repo in d.parents]
    sources = [(_git_dir(repo) / "info" / "exclude", repo), *((d / ".gitignore", d) for d in above)]
    anchored = [read_ignore_file(source, base=_rel(folder, repo)) for source, folder in sources]
    layers = tuple(rules for rules in anchored if rules is not None)
    if _root_is_ignored(layers, real_root.relative_to(repo).parts):
        return ()
    return tuple(replace(r, base="", outer=_rel(real_root, repo / r.base)) for r in layers)


def _rel(path: Path, start: Path) -> str:
    return "" if path == start else path.relative_to(start).as_posix()


def _root_is_ignored(layers: tuple[IgnoreRules, ...], parts: tuple[str, ...]) -> bool:
    """Whether any folder from the repository down to the workspace root is ignored."""
    for i in range(1, len(parts) + 1):
        folder = "/".join(parts[:i])
        applicable = tuple(r for r in layers if not r.base or folder.startswith(f"{r.base}/"))
        if is_ignored(applicable, folder, True):
            return True
    return False


def _find_repo(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        try:
            if (folder / ".git").exists():
                return folder
        except OSError:
            return None
    return None


def _git_dir(repo: Path) -> Path:
    """The git directory, following `gitdir:` files (worktrees, submodules)."""
    dot_git = repo / ".git"
    pointer = read_bytes(dot_git, 4096) if dot_git.is_file() else b""
    if isinstance(pointer, SkipReason) or not pointer.startswith(b"gitdir:"):
        return dot_git
    git_dir = repo / pointer[len(b"gitdir:") :].decode(errors="replace").strip()
    common = read_bytes(git_dir / "commondir", 4096)
    if isinstance(common, bytes):
        git_dir = git_dir / common.decode(errors="replace").strip()
    return git_dir
