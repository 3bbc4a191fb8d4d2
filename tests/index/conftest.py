"""Fixtures of the index tests."""

from __future__ import annotations

import pytest
from support.shop_index import copy_shop_repo

from tether.index.config import IndexConfig
from tether.index.workspace import WorkspaceIndex


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> WorkspaceIndex:
    """The shop fixture indexed with embeddings (one per test module)."""
    root = copy_shop_repo(tmp_path_factory.mktemp("ws") / "shop_repo")
    config = IndexConfig(cache_dir=tmp_path_factory.mktemp("cache"))
    index = WorkspaceIndex(root, config)
    index.index_all()
    yield index
    index.close()
