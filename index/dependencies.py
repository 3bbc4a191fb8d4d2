"""Deprecation facts of the third-party packages a repository imports.

Finds the site-packages the workspace runs against, maps imported top-level modules to their
installed distributions through `*.dist-info` metadata, and statically scans each
distribution's public modules with `index.deprecations`, caching the facts per
(distribution, version) as JSON. Nothing here imports or runs the packages' code.
"""

from __future__ import annotations

import json
import logging
import os
import re
import site
import subprocess
import sysconfig
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path

from tether.index.models import Deprecation
from tether.index.module_deprecations import module_deprecations
from tether.index.parsing import parse

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 1_000_000
INTERPRETER_TIMEOUT_S = 10.0
CACHE_SCHEMA = 5
_VENV_NAMES = (".venv", "venv")
_SKIPPED_DIRS = frozenset({"tests", "test", "testing", "__pycache__"})
# Runs inside the configured interpreter: prints its install paths, nothing else.
_PATHS_SNIPPET = ("import json, sysconfig; p = sysconfig.get_paths(); "
                  "print(json.dumps([p['purelib'], p['platlib']]))")


class SitePackagesError(RuntimeError):
    """The configured interpreter could not report its site-packages."""


# -- locating site-packages ------------------------------------------------------------------

def find_site_packages(workspace: Path, interpreter: str | None) -> list[Path]:
    """Where the workspace's dependencies are installed, most specific first: a `.venv`/`venv`
    in the workspace, else the configured interpreter's purelib/platlib, else this process's
    site-packages. Raises `SitePackagesError` when a configured interpreter fails."""
    for name in _VENV_NAMES:
        found = _venv_site_packages(workspace / name)
        if found:
            return found
    if interpreter:
        return _interpreter_site_packages(_resolve_interpreter(workspace, interpreter))
    paths = [*site.getsitepackages(), sysconfig.get_paths()["purelib"],
             sysconfig.get_paths()["platlib"]]
    return _existing_unique(Path(p) for p in paths)


def workspace_interpreter(workspace: Path, interpreter: str | None) -> str | None:
    """The Python the workspace runs on, for tools that analyse its imports: a `.venv`/`venv`
    in the workspace, else the configured interpreter; None: leave the tool its default."""
    for name in _VENV_NAMES:
        for candidate in (workspace / name / "bin" / "python",
                          workspace / name / "Scripts" / "python.exe"):
            if candidate.is_file():
                return str(candidate)
    return _resolve_interpreter(workspace, interpreter) if interpreter else None


def _venv_site_packages(venv: Path) -> list[Path]:
    if not venv.is_dir():
        return []
    candidates = [*sorted(venv.glob("lib/python*/site-packages")),
                  *sorted(venv.glob("lib64/python*/site-packages")), venv / "Lib" / "site-packages"]
    return _existing_unique(candidates)


def _resolve_interpreter(workspace: Path, interpreter: str) -> str:
    path = Path(interpreter).expanduser()
    if not path.is_absolute() and len(path.parts) > 1:  # e.g. ".venv/bin/python"
        return str(workspace / path)
    return str(path)


def _interpreter_site_packages(interpreter: str) -> list[Path]:
    try:
        completed = subprocess.run([interpreter, "-I", "-c", _PATHS_SNIPPET], capture_output=True,
                                   text=True, timeout=INTERPRETER_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as error:
        raise SitePackagesError(f"interpreter {interpreter!r} did not report its site-packages "
                                f"within {INTERPRETER_TIMEOUT_S:g}s") from error
    except OSError as error:
        raise SitePackagesError(f"cannot run interpreter {interpreter!r}: {error}") from error
    if completed.returncode != 0:
        detail = completed.stderr.strip().splitlines()[-1:] or ["no output"]
        raise SitePackagesError(f"interpreter {interpreter!r} exited with status "
                                f"{completed.returncode}: {detail[0]}")
    try:
        paths = json.loads(completed.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError) as error:
        raise SitePackagesError(f"interpreter {interpreter!r} printed no site-packages") from error
    return _existing_unique(Path(p) for p in paths if isinstance(p, str))


def _existing_unique(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir() and path not in found:
            found.append(path)
    return found


# -- distributions ---------------------------------------------------------------------------

def distributions_for_imports(top_level_modules: Iterable[str],
                              site_packages: list[Path]) -> dict[str, tuple[str, str]]:
    """Top-level module -> (distribution name, version) for the modules installed by some
    `*.dist-info` (its `top_level.txt`, else the paths in its `RECORD`). Earlier
    site-packages win."""
    wanted = set(top_level_modules)
    found: dict[str, tuple[str, str]] = {}
    for directory in site_packages:
        for info in _sorted_glob(directory, "*.dist-info"):
            name, version = _name_and_version(info)
            for module in _top_levels(info) & (wanted - found.keys()):
                found[module] = (name, version)
    return found


def _sorted_glob(directory: Path, pattern: str) -> list[Path]:
    try:
        return sorted(directory.glob(pattern))
    except OSError:
        return []


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _name_and_version(info: Path) -> tuple[str, str]:
    headers: dict[str, str] = {}
    for line in _read_text(info / "METADATA").splitlines():
        if not line.strip():
            break  # the headers end at the first blank line
        key, _, value = line.partition(":")
        headers.setdefault(key.strip().lower(), value.strip())
    stem_name, _, stem_version = info.name.removesuffix(".dist-info").partition("-")
    return headers.get("name") or stem_name, headers.get("version") or stem_version


def _top_levels(info: Path) -> set[str]:
    listed = {line.strip() for line in _read_text(info / "top_level.txt").splitlines()}
    listed = {name.replace("/", ".").split(".")[0] for name in listed if name}
    if listed:
        return listed
    modules: set[str] = set()
    for line in _read_text(info / "RECORD").splitlines():
        path = line.split(",", 1)[0].strip().replace("\\", "/")
        first = path.split("/", 1)[0]
        if not first or first.startswith("..") or first.endswith((".dist-info", ".data")):
            continue
        if "/" in path:
            modules.add(first)
        elif first.endswith((".py", ".pyi", ".so", ".pyd")):
            modules.add(first.split(".", 1)[0])
    return {m for m in modules if m.isidentifier() and m != "__pycache__"}


def import_paths(top_level: str, site_packages: list[Path]) -> list[Path]:
    """The package directory or module file(s) of an importable top-level name."""
    for directory in site_packages:
        found = [path for path in (directory / top_level, directory / f"{top_level}.py",
                                   directory / f"{top_level}.pyi") if path.exists()]
        if found:
            return found
    return []


# -- scanning with a per-version cache -------------------------------------------------------

class DependencyDeprecations:
    """Deprecation facts of installed distributions, each (name, version) scanned once.

    Facts are cached as JSON files under `cache_dir`; a missing, stale or corrupt cache file
    means a rescan. `parsed_files` counts the files parsed by this instance.
    """

    def __init__(self, cache_dir: Path, max_file_bytes: int = MAX_FILE_BYTES) -> None:
        self.cache_dir = cache_dir
        self.max_file_bytes = max_file_bytes
        self.parsed_files = 0

    def scan(self, dist_name: str, version: str,
             package_dirs: Iterable[Path]) -> dict[str, Deprecation]:
        """Facts keyed by qualified name from the import package (`requests.utils.x`) for the
        given package directories (or single-module files) of one distribution."""
        roots = sorted({Path(p) for p in package_dirs})
        packages = sorted({_module_name(root) for root in roots})
        cache_file = self.cache_dir / f"{_safe(dist_name)}-{_safe(version)}.json"
        cached = self._load(cache_file, packages)
        if cached is not None:
            return cached
        facts: dict[str, Deprecation] = {}
        for root in roots:
            for path in _public_sources(root, self.max_file_bytes):
                for name, fact in self._scan_file(path, root).items():
                    facts.setdefault(name, fact)
        self._store(cache_file, dist_name, version, packages, facts)
        return facts

    def scan_imports(self, top_level_modules: Iterable[str],
                     site_packages: list[Path]) -> dict[str, tuple[Deprecation, str]]:
        """Facts for every installed distribution providing one of the imported top-level
        modules, as {qualname: (fact, distribution name)}."""
        modules = set(top_level_modules)
        by_dist: dict[tuple[str, str], list[Path]] = {}
        for module, dist in sorted(distributions_for_imports(modules, site_packages).items()):
            by_dist.setdefault(dist, []).extend(import_paths(module, site_packages))
        found: dict[str, tuple[Deprecation, str]] = {}
        for (name, version), paths in by_dist.items():
            for qualname, fact in self.scan(name, version, paths).items():
                if qualname.split(".", 1)[0] in modules:
                    found.setdefault(qualname, (fact, name))
        return found

    def _scan_file(self, path: Path, root: Path) -> dict[str, Deprecation]:
        try:
            source = path.read_bytes()
        except OSError as error:
            log.debug("skipping unreadable %s: %s", path, error)
            return {}
        self.parsed_files += 1
        module = _module_name(root, path)
        try:
            facts = module_deprecations(parse(source).root_node, source, module)
        except (RecursionError, ValueError, UnicodeError) as error:
            log.debug("skipping %s: %s", path, error)
            return {}
        return {name: fact for name, fact in facts.items() if _is_public(name)}

    def _load(self, cache_file: Path, packages: list[str]) -> dict[str, Deprecation] | None:
        try:
            payload = json.loads(cache_file.read_text(encoding="utf-8"))
            if payload["schema"] != CACHE_SCHEMA or payload["packages"] != packages:
                return None
            return {name: Deprecation(**fact) for name, fact in payload["facts"].items()}
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            log.info("rescanning: unusable deprecation cache %s (%s)", cache_file, error)
            return None

    def _store(self, cache_file: Path, dist_name: str, version: str, packages: list[str],
               facts: dict[str, Deprecation]) -> None:
        payload = {"schema": CACHE_SCHEMA, "distribution": dist_name, "version": version,
                   "packages": packages,
                   "facts": {name: asdict(fact) for name, fact in sorted(facts.items())}}
        temporary = cache_file.with_name(f"{cache_file.name}.{os.getpid()}.tmp")
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(payload, indent=1), encoding="utf-8")
            os.replace(temporary, cache_file)
        except OSError as error:
            log.warning("cannot write deprecation cache %s: %s", cache_file, error)


def _public_sources(root: Path, max_bytes: int) -> Iterator[Path]:
    """`.py`/`.pyi` files of a package, minus private modules/packages (`__init__` kept),
    test folders and files over `max_bytes`."""
    if root.is_file():
        candidates: Iterable[Path] = [root]
    else:
        candidates = sorted(_walk(root))
    for path in candidates:
        if path.suffix not in (".py", ".pyi") or (
                path.stem.startswith("_") and path.stem != "__init__"):
            continue
        try:
            if path.stat().st_size <= max_bytes:
                yield path
        except OSError:
            continue


def _walk(root: Path) -> Iterator[Path]:
    for directory, subdirectories, files in os.walk(root, onerror=lambda error: None):
        subdirectories[:] = [d for d in subdirectories
                             if d not in _SKIPPED_DIRS and not d.startswith((".", "_"))]
        yield from (Path(directory) / name for name in files)


def _module_name(root: Path, path: Path | None = None) -> str:
    """Dotted module name of `path` inside the package `root` (the root's own name if None)."""
    base = root.name.split(".")[0] if root.is_file() or root.suffix in (".py", ".pyi") \
        else root.name
    if path is None or path == root:
        return base
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join([base, *parts])


def _is_public(qualname: str) -> bool:
    """No `_private` part below the import package itself (dunders are public)."""
    return not any(part.startswith("_") and not (part.startswith("__") and part.endswith("__"))
                   for part in qualname.split(".")[1:])


def _safe(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", value) or "_"
