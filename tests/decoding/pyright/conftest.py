"""Fixtures of the pyright tests: the shop workspace and a real pyright client on it (one
process per test module)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.pyright_workspace import write_workspace

from tether.decoding.pyright.client import PyrightClient


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_workspace(tmp_path_factory.mktemp("pyright_ws"))


@pytest.fixture(scope="module")
def client(workspace: Path) -> Iterator[PyrightClient]:
    with PyrightClient(workspace, timeout=20.0) as pyright:
        pyright.warm_up()
        yield pyright
