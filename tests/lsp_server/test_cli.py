"""The `tether` command line, run as a real subprocess on a copy of the shop fixture."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tether.index.config import IndexConfig
from tether.index.workspace import WorkspaceIndex, database_path

FIXTURE = Path(__file__).parents[1] / "fixtures" / "shop_repo"


def tether(*args: str, cache: Path, timeout: float = 300,
           check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tether", *args], capture_output=True,
                          text=True, timeout=timeout, check=check,
                          env={**os.environ, "TETHER_CACHE_DIR": str(cache)})


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    import shutil

    root = tmp_path_factory.mktemp("cli") / "shop"
    shutil.copytree(FIXTURE, root)
    cache = tmp_path_factory.mktemp("cli-cache")
    done = tether("index", str(root), "--json", cache=cache)
    summary = json.loads(done.stdout)
    assert summary["counts"]["symbols"] > 20 and summary["counts"]["embedded_chunks"] > 0
    assert "symbols" in done.stderr  # the progress bar goes to stderr
    return root, cache


def test_index_summary_is_human_readable(indexed: tuple[Path, Path]) -> None:
    root, cache = indexed
    done = tether("index", str(root), "--symbols-only", cache=cache)
    for label in ("files", "symbols", "deprecations", "chunks", "seconds", "database"):
        assert label in done.stdout
    assert "0 updated" in done.stdout  # nothing changed since the first run


def test_symbols_shows_inherited_members_and_deprecations(indexed: tuple[Path, Path]) -> None:
    root, cache = indexed
    done = tether("symbols", "Cart", "--workspace", str(root), "--json", cache=cache)
    cart = json.loads(done.stdout)[0]
    members = {m["name"]: m for m in cart["members"]}
    assert {"add_item", "save", "touch"} <= set(members)
    assert members["add"]["deprecation"]["replacement"] == "add_item"
    text = tether("symbols", "shop.models.Cart.add", "--workspace", str(root), cache=cache)
    assert "DEPRECATED" in text.stdout and "add_item" in text.stdout


def test_search_filters_by_kind(indexed: tuple[Path, Path]) -> None:
    root, cache = indexed
    done = tether("search", "discount code", "--kind", "docs", "--workspace", str(root),
                  "--json", cache=cache)
    hits = json.loads(done.stdout)
    assert hits and all(hit["kind"] == "docs" for hit in hits)
    assert hits[0]["title"] == "Discounts"


def test_missing_workspace_is_a_clear_error(tmp_path: Path) -> None:
    done = tether("index", str(tmp_path / "nope"), cache=tmp_path, check=False)
    assert done.returncode == 2 and "not a directory" in done.stderr


def test_doctor_reports_every_component(tmp_path: Path) -> None:
    done = tether("doctor", "--json", cache=tmp_path, check=False)
    report = json.loads(done.stdout)
    names = {check["name"] for check in report["checks"]}
    assert {"llama-cpp-python", "pyright", "embedder all-MiniLM-L6-v2", "index"} <= names
    assert any(name.startswith("model ") for name in names)
    assert done.returncode == (0 if report["ok"] else 1)


def test_kill_9_during_indexing_leaves_a_consistent_index(tmp_path: Path) -> None:
    root = tmp_path / "big"
    for package in range(12):
        folder = root / f"pkg{package}"
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text("")
        for module in range(25):
            body = "\n\n".join(f"def function_{i}(x, y=1):\n    return x + y" for i in range(40))
            (folder / f"mod{module}.py").write_text(body + "\n")
    cache = tmp_path / "cache"
    process = subprocess.Popen([sys.executable, "-m", "tether", "index", str(root),
                                "--symbols-only"], env={**os.environ, "TETHER_CACHE_DIR":
                                                        str(cache)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = database_path(root, cache)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not db.exists():
        time.sleep(0.05)
    time.sleep(0.3)
    process.send_signal(signal.SIGKILL)
    process.wait()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        orphans = conn.execute("SELECT COUNT(*) FROM symbols WHERE file_id NOT IN "
                               "(SELECT id FROM files)").fetchone()[0]
        assert orphans == 0
    index = WorkspaceIndex(root, IndexConfig(cache_dir=cache, embeddings=False))
    index.index_all()
    assert index.store.counts()["python_files"] == 12 * 26
    rows = index.store.query("SELECT COUNT(*) FROM symbols WHERE name = ?", ("function_39",))
    assert rows[0][0] == 12 * 25
    index.close()
