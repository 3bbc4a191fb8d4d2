"""`tether doctor`: what is installed, what was found, what is missing."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import platform
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from tether.index.workspace import database_path

PACKAGES = ("llama-cpp-python", "tree-sitter", "tree-sitter-python", "sentence-transformers",
            "torch", "pygls", "lsprotocol", "pyright")


@dataclass(slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_packages() -> list[Check]:
    checks = []
    for package in PACKAGES:
        version = _version(package)
        checks.append(Check(package, version is not None, version or "not installed"))
    return checks


def check_models() -> list[Check]:
    from tether.decoding.model.files import DEFAULT_MODEL, EMBEDDED_MODELS, resolve_model

    checks = []
    for name in EMBEDDED_MODELS:
        try:
            path = resolve_model(name)
            checks.append(Check(f"model {name}", True, str(path), required=name == DEFAULT_MODEL))
        except Exception as error:  # the message names the path and the fix
            checks.append(Check(f"model {name}", False, str(error),
                                required=name == DEFAULT_MODEL))
    return checks


def check_embedder() -> Check:
    from tether.index.embeddings import EmbedderUnavailableError, bundled_model_dir

    try:
        path = bundled_model_dir()
    except EmbedderUnavailableError as error:
        return Check("embedder all-MiniLM-L6-v2", False, str(error))
    ok = (path / "config.json").exists()
    return Check("embedder all-MiniLM-L6-v2", ok, str(path) if ok else f"incomplete: {path}")


def check_pyright() -> Check:
    executable = shutil.which("pyright-langserver")
    if executable is None:
        return Check("pyright", False, "pyright-langserver not on PATH: pip install "
                     "'pyright[nodejs]'")
    pyright = shutil.which("pyright")
    try:
        done = subprocess.run([pyright or "pyright", "--version"], capture_output=True,
                              text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return Check("pyright", False, f"pyright does not run: {error}")
    if done.returncode != 0:
        return Check("pyright", False, f"pyright --version failed: {done.stderr.strip()[:200]}")
    return Check("pyright", True, f"{done.stdout.strip()} ({executable})")


def run_doctor(args: argparse.Namespace) -> int:
    checks = [Check("python", True, platform.python_version()), *check_packages(),
              *check_models(), check_embedder(), check_pyright()]
    index_path = database_path(Path(args.workspace))
    checks.append(Check("index", True, f"{index_path}"
                        f"{'' if index_path.exists() else ' (not built yet)'}", required=False))
    failed = [c for c in checks if not c.ok and c.required]
    if args.json:
        print(json.dumps({"ok": not failed, "checks": [asdict(c) for c in checks]}, indent=2))
    else:
        for check in checks:
            mark = "ok " if check.ok else ("!! " if check.required else "-- ")
            print(f"{mark} {check.name:<28} {check.detail}")
        if failed:
            print(f"\n{len(failed)} problem(s): " + "; ".join(c.name for c in failed))
    return 1 if failed else 0
