"""Real third-party source trees for benchmarks: sdists fetched with pip, unpacked once."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

CACHE = Path(__file__).parent / ".cache"
DEFAULT_PACKAGES = ("requests==2.32.3", "click==8.1.7", "rich==13.9.4")


def canonical_name(name: str) -> str:
    """PEP 503 normalisation: `Django`, `typing_extensions` and `zope.interface` match how
    their archives and folders are spelled in any case or separator."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _matching(folder: Path, requirement: str, suffixes: tuple[str, ...]) -> list[Path]:
    """Entries of `folder` named `<name>-<version><suffix>` for the requirement (any version
    when it pins none), newest name last."""
    name, _, version = requirement.partition("==")
    wanted = canonical_name(name.strip())
    found = []
    for entry in folder.iterdir() if folder.is_dir() else ():
        for suffix in suffixes:
            if not entry.name.endswith(suffix):
                continue
            stem = entry.name[:len(entry.name) - len(suffix)] if suffix else entry.name
            entry_name, _, entry_version = stem.rpartition("-")
            if canonical_name(entry_name) == wanted and (
                    not version or entry_version == version.strip()):
                found.append(entry)
    return sorted(found)


def fetch_sdist(requirement: str, cache: Path = CACHE) -> Path:
    """Download (once) and unpack the sdist of `requirement` (`name==version`, or `name` for
    the newest); return the source folder."""
    unpacked = cache / "src"
    existing = [p for p in _matching(unpacked, requirement, ("",)) if p.is_dir()]
    if existing:
        return existing[-1]
    downloads = cache / "sdists"
    downloads.mkdir(parents=True, exist_ok=True)
    # `--no-binary :all:` would also build the sdist's build requirements (Cython…) from source.
    name = requirement.partition("==")[0].strip()
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--no-binary", name, "-d", str(downloads), requirement], check=True)
    archives = _matching(downloads, requirement, (".tar.gz", ".zip"))
    if not archives:
        raise RuntimeError(f"pip download produced no sdist for {requirement}")
    archive = archives[-1]
    unpacked.mkdir(parents=True, exist_ok=True)
    before = set(unpacked.iterdir())
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(unpacked)
    else:
        with tarfile.open(archive) as bundle:
            bundle.extractall(unpacked, filter="data")
    created = _matching(unpacked, requirement, ("",)) or sorted(set(unpacked.iterdir()) - before)
    if not created:
        raise RuntimeError(f"unpacking {archive.name} produced no source folder")
    return created[-1]


def python_loc(root: Path) -> tuple[int, int]:
    """(number of .py files, lines of code) under root."""
    files = [p for p in root.rglob("*.py") if p.is_file()]
    lines = sum(len(p.read_text(errors="replace").splitlines()) for p in files)
    return len(files), lines
