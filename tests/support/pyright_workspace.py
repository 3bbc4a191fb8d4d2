"""Helpers for the tests of the pyright client and its probes (no tests here): a small shop
workspace for the real pyright language server to read."""

from __future__ import annotations

from pathlib import Path

import pytest

from tether.decoding.pyright.client import MemberSet, PyrightClient
from tether.decoding.pyright.rpc import langserver_command

BASE = '''\
from typing_extensions import deprecated


class Base:
    def save(self) -> None:
        pass


@deprecated("use new_total")
def old_total() -> int:
    return 1


def new_total() -> int:
    return 2
'''
CART = '''\
from typing_extensions import deprecated

from shop.base import Base


class Cart(Base):
    def add_item(self, name: str) -> None:
        pass

    @deprecated("add() is deprecated since 2.0; use add_item() instead")
    def add(self, name: str) -> None:
        pass
'''
ORDERS = '''\
class Order:
    def disk_only(self) -> None:
        pass
'''
CART_USE = "from shop.cart import Cart\ncart = Cart()\ncart."

needs_pyright = pytest.mark.skipif(langserver_command() is None,
                                   reason="pyright language server not installed")


def write_workspace(root: Path) -> Path:
    """The shop package (base, cart, orders) under `root`."""
    shop = root / "shop"
    shop.mkdir()
    (shop / "__init__.py").write_text("")
    (shop / "base.py").write_text(BASE)
    (shop / "cart.py").write_text(CART)
    (shop / "orders.py").write_text(ORDERS)
    return root


def end_of(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines) - 1, len(lines[-1])


def members(client: PyrightClient, path: Path, text: str) -> MemberSet | None:
    return client.member_names(path, text, *end_of(text))
