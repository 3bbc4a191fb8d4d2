"""index.analysis on the shop fixture: hover symbols, deprecated uses, fixes, members."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tether.index.analysis import Span, member_completions, symbol_at
from tether.index.config import IndexConfig
from tether.index.deprecated_uses import DeprecatedUse, deprecated_uses, replacement_edit
from tether.index.workspace import WorkspaceIndex

FIXTURE = Path(__file__).parents[1] / "fixtures" / "shop_repo"

USE = """\
import shop
from shop.models import Cart
from shop.service import compute_shipping, shipping_cost


def order(cart: Cart) -> float:
    cart.add(None)
    cart.add_item(None)
    cost = shipping_cost(cart.total)
    cart.old_total()
    return shop.service.shipping_cost(cost)


def member(cart: Cart):
    cart.
"""


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkspaceIndex]:
    root = tmp_path_factory.mktemp("analysis") / "shop_repo"
    shutil.copytree(FIXTURE, root)
    (root / "scripts" / "use.py").write_text(USE)
    workspace = WorkspaceIndex(root, IndexConfig(embeddings=False,
                                                 cache_dir=root.parent / "cache"))
    workspace.index_all()
    yield workspace
    workspace.close()


def position(text: str, needle: str, offset: int = 0) -> tuple[int, int]:
    before = text[: text.index(needle) + offset]
    return before.count("\n"), len(before.rsplit("\n", 1)[-1])


def test_hover_attribute_method_and_deprecation(index: WorkspaceIndex) -> None:
    symbol = symbol_at(index, "scripts.use", USE, *position(USE, "cart.add(", 6))
    assert symbol is not None and symbol.qualname == "shop.models.Cart.add"
    assert symbol.deprecation is not None and symbol.deprecation.replacement == "add_item"


def test_hover_names_imports_and_chains(index: WorkspaceIndex) -> None:
    called = symbol_at(index, "scripts.use", USE, *position(USE, "shipping_cost(cart", 3))
    assert called is not None and called.qualname == "shop.service.shipping_cost"
    imported = symbol_at(index, "scripts.use", USE, *position(USE, "Cart\n", 1))
    assert imported is not None and imported.qualname == "shop.models.Cart"
    module = symbol_at(index, "scripts.use", USE, *position(USE, "shop.models", 6))
    assert module is not None and module.qualname == "shop.models"
    chained = symbol_at(index, "scripts.use", USE, *position(USE, "service.shipping_cost(c", 9))
    assert chained is not None and chained.qualname == "shop.service.shipping_cost"
    local = symbol_at(index, "scripts.use", USE, *position(USE, "cart.add_item", 1))
    assert local is not None and local.qualname == "shop.models.Cart"


def test_hover_self_attribute(index: WorkspaceIndex) -> None:
    text = (index.root / "shop" / "models.py").read_text()
    symbol = symbol_at(index, "shop.models", text, *position(text, "self.add_item(item)", 6))
    assert symbol is not None and symbol.qualname == "shop.models.Cart.add_item"


def test_hover_out_of_range_and_nothing(index: WorkspaceIndex) -> None:
    assert symbol_at(index, "scripts.use", USE, 10_000, 10_000) is None
    assert symbol_at(index, "scripts.use", USE, 0, 0) is None  # the `import` keyword


def test_deprecated_uses(index: WorkspaceIndex) -> None:
    uses = deprecated_uses(index, "scripts.use", USE)
    found = [(u.qualname, u.range.start_line) for u in uses]
    assert ("shop.models.Cart.add", 6) in found
    assert ("shop.models.Cart.old_total", 9) in found
    assert ("shop.service.shipping_cost", 8) in found
    assert ("shop.service.shipping_cost", 10) in found
    assert all(u.qualname != "shop.models.Cart.add_item" for u in uses)
    add = next(u for u in uses if u.qualname.endswith(".add"))
    assert add.range == Span(6, 9, 6, 12) and add.attribute
    assert add.replacement == "add_item"


def test_replacement_edits(index: WorkspaceIndex) -> None:
    uses = {(u.qualname, u.range.start_line): u for u in deprecated_uses(index, "scripts.use",
                                                                         USE)}
    add = replacement_edit(uses["shop.models.Cart.add", 6], USE)
    assert add is not None and add.new_text == "add_item" and add.range == Span(6, 9, 6, 12)
    bare = replacement_edit(uses["shop.service.shipping_cost", 8], USE)
    assert bare is not None and bare.new_text == "compute_shipping"
    chained = replacement_edit(uses["shop.service.shipping_cost", 10], USE)
    assert chained is not None and chained.new_text == "compute_shipping"
    unknown = DeprecatedUse(range=Span(8, 11, 8, 24), qualname="shop.service.shipping_cost",
                            message="gone", replacement="elsewhere.new_cost")
    assert replacement_edit(unknown, USE) is None
    qualified = DeprecatedUse(range=Span(8, 11, 8, 24), qualname="shop.service.shipping_cost",
                              message="gone", replacement="shop.models.new_cost",
                              expression=Span(8, 11, 8, 24))
    edit = replacement_edit(qualified, USE)
    assert edit is not None and edit.new_text == "shop.models.new_cost"


def test_member_completions(index: WorkspaceIndex) -> None:
    members = member_completions(index, "scripts.use", USE, *position(USE, "cart.\n", 5))
    names = [m.name for m in members]
    assert {"add_item", "add", "total", "items", "save", "touch"} <= set(names)
    assert "__init__" not in names and "_private" not in names
    add = next(m for m in members if m.name == "add")
    assert add.deprecated and add.replacement == "add_item"
    item = next(m for m in members if m.name == "add_item")
    assert item.signature is not None and "quantity" in item.signature and not item.deprecated
    assert member_completions(index, "scripts.use", USE, 0, 3) == []
    assert member_completions(index, "scripts.use", USE, 99, 99) == []


def test_third_party_deprecations(index: WorkspaceIndex) -> None:
    from tether.index.models import Deprecation

    index.store.replace_external_deprecations({
        "oldlib.fetch": (Deprecation("fetch() is deprecated", "2.0", "oldlib.fetch_all"),
                         "oldlib")})
    text = ("import oldlib\nfrom oldlib import fetch as grab\n\n"
            "oldlib.fetch(1)\ngrab(2)\n\n\ndef local(fetch):\n    return fetch()\n")
    try:
        uses = deprecated_uses(index, "scripts.use", text)
        assert [(u.range.start_line, u.external) for u in uses] == [(3, True), (4, True)]
        assert all(u.qualname == "oldlib.fetch" for u in uses)
        edit = replacement_edit(uses[0], text)
        assert edit is not None and edit.new_text == "fetch_all"
        aliased = replacement_edit(uses[1], text)
        assert aliased is not None and aliased.new_text == "oldlib.fetch_all"
        hover = symbol_at(index, "scripts.use", text, 3, 9)
        assert hover is not None and hover.deprecation is not None
        assert hover.deprecation.replacement == "oldlib.fetch_all"
    finally:
        index.store.replace_external_deprecations({})
