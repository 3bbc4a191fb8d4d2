"""Real third-party source trees for benchmarks: sdists fetched with pip, unpacked once."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

CACHE = Path(__file__).parent / ".cache"
DEFAULT_PACKAGES = ("requests==2.32.3", "click==8.1.7", "rich==13.9.4")


def fetch_sdist(requirement: str, cache: Path = CACHE) -> Path:
    """Download (once) and unpack the sdist of `requirement`; return the source folder."""
    name = requirement.split("==")[0]
    unpacked = cache / "src"
    existing = sorted(unpacked.glob(f"{name}-*/")) if unpacked.exists() else []
    if existing:
        return existing[-1]
    downloads = cache / "sdists"
    downloads.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--no-binary", ":all:", "-d", str(downloads), requirement], check=True)
    archives = sorted(downloads.glob(f"{name}-*.tar.gz")) + sorted(
        downloads.glob(f"{name}-*.zip"))
    if not archives:
        raise RuntimeError(f"pip download produced no sdist for {requirement}")
    unpacked.mkdir(parents=True, exist_ok=True)
    archive = archives[-1]
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(unpacked)
    else:
        with tarfile.open(archive) as bundle:
            bundle.extractall(unpacked, filter="data")
    return sorted(unpacked.glob(f"{name}-*/"))[-1]


def python_loc(root: Path) -> tuple[int, int]:
    """(number of .py files, lines of code) under root."""
    files = [p for p in root.rglob("*.py") if p.is_file()]
    lines = sum(len(p.read_text(errors="replace").splitlines()) for p in files)
    return len(files), lines
