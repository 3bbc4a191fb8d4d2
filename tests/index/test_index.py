"""The workspace index end to end on a fixture repository: real tree-sitter, real SQLite,
real MiniLM embeddings."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from tether.index.config import IndexConfig
from tether.index.models import ParamKind, SymbolKind
from tether.index.scope import names_in_scope
from tether.index.store import SCHEMA_VERSION, IndexStore
from tether.index.workspace import WorkspaceIndex, database_path

FIXTURE = Path(__file__).parents[1] / "fixtures" / "shop_repo"


def copy_shop_repo(target: Path) -> Path:
    shutil.copytree(FIXTURE, target)
    (target / ".env").write_text("API_TOKEN=abc123supersecretvalue\n")
    (target / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n")
    (target / "debug.log").write_text("ignored by .gitignore\n")
    (target / "ignored").mkdir()
    (target / "ignored" / "hidden.py").write_text("def should_not_be_indexed():\n    pass\n")
    token = "ghp_" + "x7Qm2Lk9Pz4Rt8Vb3Nc6Hd1Jf5Gs0Aw2Ey7U"  # a GitHub token's format
    (target / "settings.py").write_text(f'GITHUB_TOKEN = "{token}"\n')
    (target / "blob.py").write_bytes(b"\x00\x01\x02binary\x00")
    latin1 = "def caf\xe9():\n    return 'd\xe9j\xe0'\n".encode("latin-1")
    (target / "latin1.py").write_bytes(latin1)
    return target


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> WorkspaceIndex:
    root = copy_shop_repo(tmp_path_factory.mktemp("ws") / "shop_repo")
    config = IndexConfig(cache_dir=tmp_path_factory.mktemp("cache"))
    index = WorkspaceIndex(root, config)
    index.index_all()
    yield index
    index.close()


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


DYNAMIC_SOURCE = b"""
class Options:
    def __init__(self, **settings):
        for key, value in settings.items():
            setattr(self, key, value)

class Record:
    def load(self, row):
        self.__dict__.update(row)

class Point:
    def __init__(self):
        setattr(self, "x", 0)
        self.y = 1

class Bag:
    def put(self, key, value):
        self.__dict__[key] = value

class Pickled:
    def __init__(self):
        self.size = 0

    def __setstate__(self, state):
        for name, value in state.items():
            setattr(self, name, value)

    def absorb(self, other):
        self.__dict__.update(other.__dict__)
"""


def test_setattr_defines_attributes_or_marks_the_class_dynamic() -> None:
    from tether.index.models import DYNAMIC_ATTRIBUTES
    from tether.index.python_symbols import extract_module

    symbols = extract_module(DYNAMIC_SOURCE, "m.py", "m").symbols
    members: dict[str, dict[str, list[str]]] = {}
    for symbol in symbols:
        if symbol.parent in ("m.Options", "m.Record", "m.Point", "m.Bag", "m.Pickled"):
            members.setdefault(symbol.parent, {})[symbol.name] = symbol.decorators
    assert DYNAMIC_ATTRIBUTES in members["m.Options"]["__dict__"]  # a computed name
    assert DYNAMIC_ATTRIBUTES in members["m.Record"]["__dict__"]
    assert DYNAMIC_ATTRIBUTES in members["m.Bag"]["__dict__"]
    assert {"x", "y"} <= set(members["m.Point"])  # a literal name is just an attribute
    assert "__dict__" not in members["m.Point"]
    # restoring pickled state and copying another instance add nothing to list
    assert "__dict__" not in members["m.Pickled"]


CLASS_SETATTR_SOURCE = b"""
def with_verbs(cls):
    for verb in ("get", "post"):
        setattr(cls, verb, lambda self: verb)
    return cls

def labelled(target):
    setattr(target, "label", 1)
    return target

@with_verbs
class Client:
    pass

@labelled
class Tagged:
    pass

class Registry:
    @classmethod
    def install(cls, name):
        setattr(cls, name, 1)

class Counter:
    def reset(self):
        setattr(type(self), "count", 0)
        setattr(self, "local", 1)

class Builder:
    def patch(self, methods):
        cls = self._target  # another class, not Builder
        for name, value in methods.items():
            setattr(cls, name, value)

class Ops:
    pass

for op in ("add", "sub"):
    setattr(Ops, op, None)

class Fixed:
    pass

setattr(Fixed, "answer", 42)
setattr(Unknown, "answer", 42)
"""


def test_setattr_on_a_class_defines_class_attributes_or_marks_the_class_dynamic() -> None:
    from tether.index.models import DYNAMIC_ATTRIBUTES
    from tether.index.python_symbols import extract_module

    symbols = extract_module(CLASS_SETATTR_SOURCE, "m.py", "m").symbols
    members = {symbol.qualname: symbol.decorators for symbol in symbols
               if symbol.kind == SymbolKind.ATTRIBUTE}
    for dynamic in ("m.Client", "m.Registry", "m.Ops"):  # a computed name: the class itself
        assert members[f"{dynamic}.__dict__"] == [DYNAMIC_ATTRIBUTES]
    for literal in ("m.Tagged.label", "m.Counter.count", "m.Fixed.answer"):
        assert members[literal] == []  # a class attribute, not an instance one
    assert members["m.Counter.local"] == ["instance"]
    assert not any(qualname.startswith(("m.Unknown", "m.Builder")) for qualname in members)


def test_assignments_on_a_class_outside_its_body_define_class_attributes() -> None:
    from tether.index.python_symbols import extract_module

    source = (b"class Counter:\n    pass\n\nCounter.value = 0\nCounter.a, Counter.b = 1, 2\n\n"
              b"def reset():\n    Counter.value = 0\n    Counter.total += 1\n"
              b"    other.attr = 1\n    if Counter.flag == 1:\n        pass\n")
    members = {symbol.qualname: symbol.decorators for symbol in
               extract_module(source, "m.py", "m").symbols if symbol.kind == SymbolKind.ATTRIBUTE}
    assert members == {"m.Counter.value": [], "m.Counter.a": [], "m.Counter.b": []}


def test_attributes_a_new_method_sets_on_the_instance_it_makes() -> None:
    """`self = object.__new__(cls)` in `__new__` (networkx's `_dispatchable`)."""
    from tether.index.python_symbols import extract_module

    source = (b"class Dispatch:\n    def __new__(cls, name):\n"
              b"        self = object.__new__(cls)\n        self.name = name\n"
              b"        self.graphs, self.backends = {}, set()\n        other.x = 1\n"
              b"        return self\n\n\nclass Made:\n    def __new__(cls):\n"
              b"        obj = super().__new__(cls)\n        obj.ready = True\n"
              b"        return obj\n\n\nclass Plain:\n    def __new__(cls):\n"
              b"        cls.counter = 0\n        return cls\n")
    members = {symbol.qualname: symbol.decorators for symbol in
               extract_module(source, "m.py", "m").symbols if symbol.kind == SymbolKind.ATTRIBUTE}
    assert members == {"m.Dispatch.name": ["instance"], "m.Dispatch.graphs": ["instance"],
                       "m.Dispatch.backends": ["instance"], "m.Made.ready": ["instance"]}


def test_module_level_objects_given_attributes_at_run_time_are_tagged() -> None:
    from tether.index.models import DYNAMIC_ATTRIBUTES
    from tether.index.python_symbols import extract_module

    source = (b"codes = Lookup()\nplain = Lookup()\nstate = Lookup()\nbag = Lookup()\n\n"
              b"def _init():\n    for title in TITLES:\n        setattr(codes, title, 1)\n\n"
              b"state.__dict__.update(extra)\nbag.__dict__['key'] = 1\nplain.name = 'x'\n")
    tagged = {symbol.name for symbol in extract_module(source, "m.py", "m").symbols
              if symbol.kind == SymbolKind.VARIABLE and DYNAMIC_ATTRIBUTES in symbol.decorators}
    assert tagged == {"codes", "state", "bag"}
    only_vars = b"config = Settings()\nvars(config).update(loaded)\n"
    assert {symbol.name for symbol in extract_module(only_vars, "m.py", "m").symbols
            if DYNAMIC_ATTRIBUTES in symbol.decorators} == {"config"}


def test_a_class_listing_its_slots_is_tagged() -> None:
    from tether.index.models import SLOTTED
    from tether.index.python_symbols import extract_module

    source = (b"class A:\n    __slots__ = ('x', 'y')\n\nclass B:\n    __slots__ = ('x', '__dict__')"
              b"\n\nclass C:\n    __slots__ = make_slots()\n\nclass D:\n    __slots__ = ()\n")
    tags = {symbol.name: symbol.decorators for symbol in extract_module(source, "m.py", "m").symbols
            if symbol.kind == SymbolKind.CLASS}
    assert {name for name, decorators in tags.items() if SLOTTED in decorators} == {"A", "D"}


def test_a_class_keeps_its_metaclass_as_a_tag_not_a_base() -> None:
    from tether.index.python_symbols import extract_module

    source = b"class Model(Base, metaclass=ModelBase):\n    pass\n"
    model = extract_module(source, "m.py", "m").symbols[1]
    assert model.bases == ["Base"]
    assert "metaclass=ModelBase" in model.decorators


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


def test_hybrid_search_code_and_docs(shop: WorkspaceIndex) -> None:
    docs = shop.searcher.search("how do I apply a discount code", kind="docs", limit=3,
                                use_vectors=True)
    assert docs and docs[0].path == "docs/guide.md" and docs[0].title == "Discounts"
    code = shop.searcher.search("pay for the cart receipt", kind="code", limit=3,
                                use_vectors=True)
    assert code[0].title == "shop.service.checkout"
    assert all(hit.kind == "code" for hit in code)
    lexical_only = shop.searcher.search("shipping fee", limit=5, use_vectors=False)
    assert any(hit.title == "shop.service.shipping_cost" for hit in lexical_only)


def test_a_repeated_query_is_embedded_once(shop: WorkspaceIndex) -> None:
    embedder = shop.searcher.embedder
    assert embedder is not None
    embedded: list[list[str]] = []
    real_embed = embedder.embed

    def counting_embed(texts: list[str], batch_size: int = 32) -> np.ndarray:
        embedded.append(texts)
        return real_embed(texts, batch_size)

    embedder.embed = counting_embed  # type: ignore[method-assign]
    try:
        query = "remove an item from the cart while typing"
        first = shop.searcher.search(query, limit=3, use_vectors=True)
        again = shop.searcher.search(query, limit=3, use_vectors=True)
    finally:
        del embedder.embed
    assert embedded == [[query]]
    assert [hit.chunk_id for hit in again] == [hit.chunk_id for hit in first]


def test_embeddings_cached_by_content_hash(shop: WorkspaceIndex) -> None:
    assert shop.embed_pending() == 0
    counts = shop.store.counts()
    assert counts["embedded_chunks"] == counts["chunks"] > 0


def test_reopening_an_embedded_index_loads_the_embedder(shop: WorkspaceIndex) -> None:
    """Searches use vectors only once the embedder is loaded; a session whose chunks were
    all embedded before must still load it, or its retrieval stays lexical."""
    again = WorkspaceIndex(shop.root, shop.config)
    try:
        assert not again.embedder.is_loaded()
        summary = again.index_all()
        assert summary.chunks_embedded == 0
        assert again.embedder.is_loaded()
        hits = again.searcher.search("remove an item from the cart", limit=3)
        assert any(hit.vector_rank is not None for hit in hits)
    finally:
        again.close()


def test_names_enclosing_functions_bind_below_a_nested_function() -> None:
    from tether.index.scope import names_bound_later as names_of_enclosing_functions

    source = ("def outer(a):\n    first = 1\n\n    def inner():\n        return fir\n\n"
              "    for later, _ in pairs:\n        inner()\n\n    class Local:\n"
              "        attr = 1\n\n        def method(self):\n            pass\n")
    assert names_of_enclosing_functions(source, 4) >= {"a", "first", "inner", "later", "Local"}
    assert "attr" not in names_of_enclosing_functions(source, 13)  # class bodies do not count
    assert "later" in names_of_enclosing_functions(source, 13)  # a method of a local class
    assert names_of_enclosing_functions(source, 1) == frozenset()  # not nested
    assert names_of_enclosing_functions(source, 10) == frozenset()  # a class body


def test_names_a_loop_binds_below_are_read_on_its_next_pass() -> None:
    from tether.index.scope import names_bound_later

    source = ("def roget(fh):\n    for line in fh:\n        line = oldline + line\n"
              "        if line.endswith('x'):\n            oldline = line\n            continue\n"
              "        while line:\n            rest = line\n    after = 1\n")
    assert names_bound_later(source, 2) >= {"oldline", "rest"}
    assert "after" not in names_bound_later(source, 2)  # below the loop
    assert "after" not in names_bound_later(source, 1)
    assert names_bound_later(source, 8) == frozenset()  # not in a loop
    script = "total = 0\nwhile True:\n    x = carry\n    carry = x\nlast = 1\n"
    assert names_bound_later(script, 2) == {"carry"}  # a module-level loop
    visible = {n.name for n in names_in_scope(
        "total = 0\nwhile True:\n    x = ", 2, 8, bound_later=lambda: {"carry"})}
    assert "carry" in visible
    visible = {n.name for n in names_in_scope("total = 0\nx = ", 1, 4,
                                              bound_later=lambda: {"carry"})}
    assert "carry" not in visible  # asked for only in a loop or a nested function


def test_names_in_scope() -> None:
    source = (FIXTURE / "scripts" / "run.py").read_text()
    visible = {n.name: n.scope for n in names_in_scope(source, 8, 8)}
    assert visible["cart"] == "local" and visible["item"] == "local"
    assert visible["C"] == "import" and visible["s"] == "import"
    assert visible["main"] == "module" and visible["len"] == "builtin"
    early = {n.name for n in names_in_scope(source, 5, 4)}
    assert "total" not in early  # bound after the position
    assert {"__doc__", "__spec__", "__debug__"} <= early  # what every module has


def test_implicit_names_of_class_bodies_and_methods() -> None:
    source = ("class A:\n    label = __qualname__\n\n    def f(self):\n"
              "        def inner():\n            pass\n        return 1\n\n\n"
              "def g():\n    return 1\n")
    body = {n.name for n in names_in_scope(source, 1, 4)}
    method = {n.name for n in names_in_scope(source, 6, 8)}
    nested = {n.name for n in names_in_scope(source, 5, 12)}
    function = {n.name for n in names_in_scope(source, 10, 4)}
    assert {"__qualname__", "__module__"} <= body and "__class__" not in body
    assert "__class__" in method and "__class__" in nested and "__qualname__" not in method
    assert "__class__" not in function


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

