"""The index across changes on a private copy of the shop fixture: buffers over disk,
incremental updates, renames and deletions, unchanged files, and databases rebuilt when
corrupt or of another schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from support.shop_index import copy_shop_repo

from tether.index.config import IndexConfig
from tether.index.store import SCHEMA_VERSION, IndexStore
from tether.index.workspace import WorkspaceIndex, database_path


def test_buffer_overrides_disk_and_close_restores(tmp_path: Path) -> None:
    root = copy_shop_repo(tmp_path / "repo")
    index = WorkspaceIndex(root, IndexConfig(cache_dir=tmp_path / "cache", embeddings=False))
    index.index_all()
    buffer = "class Fresh:\n    def only_in_buffer(self):\n        pass\n"
    assert index.set_buffer("shop/service.py", buffer)
    assert index.lookup.by_qualname("shop.service.Fresh.only_in_buffer")
    assert not index.lookup.by_qualname("shop.service.checkout")
    index.index_all(embeddings=False)  # a rescan never clobbers an open buffer
    assert not index.lookup.by_qualname("shop.service.checkout")
    index.close_buffer("shop/service.py")
    assert index.lookup.by_qualname("shop.service.checkout")
    index.close()


def test_incremental_update_rename_and_delete(tmp_path: Path) -> None:
    root = copy_shop_repo(tmp_path / "repo")
    index = WorkspaceIndex(root, IndexConfig(cache_dir=tmp_path / "cache", embeddings=False))
    index.index_all()
    (root / "shop" / "service.py").write_text("def brand_new():\n    pass\n")
    assert index.update_file("shop/service.py")
    assert index.lookup.by_qualname("shop.service.brand_new")
    (root / "shop" / "service.py").rename(root / "shop" / "orders.py")
    index.rename_file("shop/service.py", "shop/orders.py")
    assert not index.lookup.by_qualname("shop.service.brand_new")
    assert index.lookup.by_qualname("shop.orders.brand_new")
    (root / "shop" / "base.py").unlink()
    summary = index.index_all(embeddings=False)
    assert summary.files_removed == 1
    assert not index.lookup.by_qualname("shop.base.Entity")
    assert not index.searcher.search("Entity persist", use_vectors=False) or all(
        hit.path != "shop/base.py" for hit in index.searcher.search("Entity", use_vectors=False))
    index.close()


def test_unchanged_files_are_not_reparsed(tmp_path: Path) -> None:
    root = copy_shop_repo(tmp_path / "repo")
    index = WorkspaceIndex(root, IndexConfig(cache_dir=tmp_path / "cache", embeddings=False))
    first = index.index_all()
    second = index.index_all()
    assert first.files_indexed > 0 and second.files_indexed == 0
    index.close()


def test_corrupt_database_is_rebuilt(tmp_path: Path) -> None:
    root = copy_shop_repo(tmp_path / "repo")
    db = database_path(root, tmp_path / "cache")
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not a database" * 100)
    index = WorkspaceIndex(root, IndexConfig(cache_dir=tmp_path / "cache", embeddings=False))
    assert index.store.rebuilt_reason and "rebuilt" in index.store.rebuilt_reason
    index.index_all()
    assert index.lookup.by_qualname("shop.models.Cart")
    index.close()


def test_schema_mismatch_rebuilds(tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite"
    IndexStore(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value='0' WHERE key='schema_version'")
    store = IndexStore(db)
    assert store.rebuilt_reason and f"!= {SCHEMA_VERSION}" in store.rebuilt_reason
    assert store.get_meta("schema_version") == str(SCHEMA_VERSION)
    store.close()
