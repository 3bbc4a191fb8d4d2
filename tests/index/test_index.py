"""The workspace index end to end on the shop fixture: real tree-sitter, real SQLite. What the
walk keeps, symbols and signatures, members and their MRO, exports, deprecations, and buffers
that change the class graph."""

from __future__ import annotations

from tether.index.models import ParamKind, SymbolKind
from tether.index.workspace import WorkspaceIndex


def names(symbols: list) -> list[str]:
    return [s.name for s in symbols]


def test_files_walked_and_secrets_excluded(shop: WorkspaceIndex) -> None:
    paths = set(shop.store.files())
    assert {"shop/models.py", "shop/base.py", "shop/service.py", "README.md",
            "docs/guide.md", "scripts/run.py"} <= paths
    for excluded in (".env", "id_rsa", "debug.log", "ignored/hidden.py", "settings.py",
                     "blob.py"):
        assert excluded not in paths


def test_non_utf8_file_indexed_with_replacement(shop: WorkspaceIndex) -> None:
    assert shop.lookup.by_qualname("latin1.caf\ufffd") or shop.lookup.by_name("caf\xe9") \
        or "latin1.py" in shop.store.files()


def test_module_names_and_signatures(shop: WorkspaceIndex) -> None:
    add_item = shop.lookup.by_qualname("shop.models.Cart.add_item")[0]
    assert add_item.kind == SymbolKind.METHOD
    assert add_item.signature == "(self, item: Item, quantity: int = 1) -> None"
    assert add_item.summary == "Add an item to the cart."
    discount = shop.lookup.by_qualname("shop.models.Cart.apply_discount")[0]
    kinds = [p.kind for p in discount.params]
    assert kinds == [ParamKind.POSITIONAL_ONLY, ParamKind.POSITIONAL_ONLY,
                     ParamKind.KEYWORD_ONLY]
    assert discount.signature == "(self, code: str, /, *, percent: float = 10.0) -> float"
    checkout = shop.lookup.by_qualname("shop.service.checkout")[0]
    assert checkout.params[-1].kind == ParamKind.VAR_KEYWORD
    assert checkout.signature == "(cart: Cart, *, pay: bool = True, **options: object) -> str"
    total = shop.lookup.by_qualname("shop.models.Cart.total")[0]
    assert total.kind == SymbolKind.PROPERTY
    empty = shop.lookup.by_qualname("shop.models.Cart.empty")[0]
    assert "classmethod" in empty.decorators


def test_class_attributes_fields_slots_and_instance_attributes(shop: WorkspaceIndex) -> None:
    item_members = {m.name: m for m in shop.lookup.class_members("shop.models.Item")}
    assert item_members["price"].value == "0.0"
    assert "field" in item_members["name"].decorators
    cart_members = {m.name: m for m in shop.lookup.class_members("shop.models.Cart")}
    assert cart_members["owner"].annotation == "str"  # `self.owner = owner`, owner: str
    cart = names(shop.lookup.class_members("shop.models.Cart"))
    assert {"items", "owner", "add_item", "total", "add", "apply_discount"} <= set(cart)


def test_inherited_members_in_mro_order(shop: WorkspaceIndex) -> None:
    members = shop.lookup.class_members("shop.models.Cart")
    member_names = names(members)
    assert {"touch", "updated_at", "save", "delete", "ident", "registry"} <= set(member_names)
    assert member_names.index("add_item") < member_names.index("touch") < member_names.index(
        "save")
    init = [m for m in members if m.name == "__init__"]
    assert init[0].parent == "shop.models.Cart"  # the nearest definition wins
    mro = [c.qualname for c in shop.lookup.mro("shop.models.Cart")]
    assert mro == ["shop.models.Cart", "shop.base.Timestamped", "shop.base.Entity"]


def test_reexports_and_star_imports(shop: WorkspaceIndex) -> None:
    exports = names(shop.lookup.module_exports("shop"))
    assert exports == ["Cart", "Item", "checkout", "shipping_cost"]
    assert shop.lookup.resolve("shop.Cart").qualname == "shop.models.Cart"
    assert shop.lookup.resolve("shop.checkout").qualname == "shop.service.checkout"
    service = names(shop.lookup.module_exports("shop.service"))
    assert "_private_helper" not in service and "compute_shipping" in service
    alias = shop.lookup.resolve_in_module("scripts.run", "C")
    assert alias is not None and alias.qualname == "shop.models.Cart"
    assert shop.lookup.resolve("shop.Cart.add_item").qualname == "shop.models.Cart.add_item"


def test_star_imported_names_or_none_when_a_source_is_not_indexed(
        shop: WorkspaceIndex) -> None:
    starred = shop.lookup.star_imported_names("shop")
    assert starred is not None and "compute_shipping" in starred  # `from .service import *`
    assert "_private_helper" not in starred
    assert shop.lookup.star_imported_names("shop.models") == frozenset()  # none
    shop.set_buffer("scripts/starred.py", "from os.path import *\nfrom shop import *\n")
    try:
        assert shop.lookup.star_imported_names("scripts.starred") is None  # os.path: unknown
    finally:
        shop.close_buffer("scripts/starred.py")


def test_deprecations_with_replacements(shop: WorkspaceIndex) -> None:
    add = shop.lookup.by_qualname("shop.models.Cart.add")[0].deprecation
    assert add is not None and add.replacement == "add_item" and add.version == "2.0"
    old_total = shop.lookup.by_qualname("shop.models.Cart.old_total")[0].deprecation
    assert old_total is not None and old_total.replacement == "total"
    assert old_total.source == "warning"
    shipping = shop.lookup.by_qualname("shop.service.shipping_cost")[0].deprecation
    assert shipping is not None and shipping.version == "3.1"
    assert shipping.replacement == "shop.service.compute_shipping"


def test_syntax_errors_still_indexed(shop: WorkspaceIndex) -> None:
    assert shop.lookup.by_qualname("shop.broken.before_error")
    assert shop.lookup.by_qualname("shop.broken.AfterError.method")


def test_third_party_deprecations_from_imports(shop: WorkspaceIndex) -> None:
    # shop/models.py imports typing_extensions; its deprecated APIs are scanned from the
    # installed package without importing it.
    assert "typing_extensions" in shop.imported_top_level_modules()
    assert shop.scan_dependencies() > 0
    assert shop.store.counts()["external_deprecations"] > 0


def test_subclass_methods_follow_edits_that_change_the_class_graph(
        shop: WorkspaceIndex) -> None:
    rel = "shop/hooks.py"
    base = "class Timed:\n    pass\n\n\nclass TTL(Timed):\n    def expire(self):\n        pass\n"
    shop.set_buffer(rel, base)
    try:
        assert shop.lookup.members_of_subclasses("shop.hooks.Timed") == {"expire"}
        classes_read = shop.store.class_generation
        shop.set_buffer(rel, base + "        # a comment\n")  # the graph stays as it was
        assert shop.store.class_generation == classes_read
        shop.set_buffer(rel, base + "\n\nclass LRU(Timed):\n    def evict(self):\n        pass\n")
        assert shop.lookup.members_of_subclasses("shop.hooks.Timed") == {"expire", "evict"}
        shop.set_buffer(rel, base.replace("TTL(Timed)", "TTL(object)"))
        assert shop.lookup.members_of_subclasses("shop.hooks.Timed") == set()
    finally:
        shop.close_buffer(rel)


def test_a_module_shadowed_by_a_namesake_its_package_imports(shop: WorkspaceIndex) -> None:
    """`from .isoparser import isoparser` in the package: `pkg.isoparser` is the class at
    run time, but names inside the module are still the module's (dateutil's layout)."""
    shop.set_buffer("shop/dates/__init__.py", "from .isoparser import isoparser\n")
    shop.set_buffer("shop/dates/isoparser.py",
                    "class isoparser(object):\n    def parse(self):\n        pass\n")
    try:
        mro = shop.lookup.mro("shop.dates.isoparser.isoparser")
        assert [cls.qualname for cls in mro] == ["shop.dates.isoparser.isoparser"]
        assert "parse" in {m.name for m in shop.lookup.class_members(
            "shop.dates.isoparser.isoparser")}
    finally:
        shop.close_buffer("shop/dates/isoparser.py")
        shop.close_buffer("shop/dates/__init__.py")


def test_a_buffer_that_does_not_parse_keeps_what_its_last_version_defined(
        shop: WorkspaceIndex) -> None:
    """The `if` line above an indented block, cleared to be rewritten: tree-sitter's
    recovery drops the rest of the class (mako's `ControlLine`), the index keeps it."""
    rel = "shop/nodes.py"
    whole = ("class Node:\n    def __init__(self, isend):\n        self.isend = isend\n"
             "        if self.isend:\n            self.names = []\n        else:\n"
             "            self.names = None\n\n    def children(self):\n        return []\n")
    members = {"__init__", "isend", "names", "children"}

    def names() -> set[str]:
        return {m.name for m in shop.lookup.class_members("shop.nodes.Node")}

    shop.set_buffer(rel, whole)
    try:
        assert names() == members
        shop.set_buffer(rel, whole.replace("        if self.isend:\n", "        \n"))
        assert names() == members
        shop.set_buffer(rel, whole.split("        if self.isend")[0] + "        x = self.")
        assert names() == {"__init__", "isend"}  # cut short: what was below is not kept
        shop.set_buffer(rel, whole.replace("children", "kids"))  # parses: as written
        assert names() == {"__init__", "isend", "names", "kids"}
    finally:
        shop.close_buffer(rel)


def test_a_mixin_may_call_what_the_classes_it_is_mixed_with_define(
        shop: WorkspaceIndex) -> None:
    rel = "shop/loader.py"
    shop.set_buffer(rel, "class Scanner:\n    def get_token(self):\n        pass\n\n"
                         "    def init(self, **params):\n        self.params = params\n\n\n"
                         "class Parser:\n    def parse(self):\n        pass\n\n\n"
                         "class Loader(Scanner, Parser):\n    encoding = 'utf-8'\n\n"
                         "    def load(self):\n        pass\n\n\n"
                         "class Unrelated:\n    def other(self):\n        pass\n")
    try:
        # attributes too: set in a partner's method (peewee's `connect_params`) or in the
        # subclass's body
        assert shop.lookup.members_of_subclasses("shop.loader.Parser") == {
            "get_token", "init", "params", "load", "encoding"}
        assert shop.lookup.members_of_subclasses("shop.loader.Unrelated") == set()
        shop.set_buffer(rel, "class Scanner:\n    def get_token(self):\n        pass\n\n\n"
                             "class Loader(Scanner, Parser):\n    pass\n\n\n"
                             "class Parser:\n    pass\n\n\nclass Reader:\n    pass\n")
        classes_read = shop.store.class_generation
        shop.set_buffer(rel, "class Scanner:\n    def get_token(self):\n        pass\n\n\n"
                             "class Loader(Scanner, Parser):\n    pass\n\n\n"
                             "class Parser:\n    pass\n")  # a class without bases went away
        assert shop.store.class_generation != classes_read
    finally:
        shop.close_buffer(rel)
