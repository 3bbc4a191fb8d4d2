"""The legal sets the monitor's provider computes from the index on the shop fixture (no
forcing): an open-ended buffer, priors of class-level and overridden members, attributes set
by `setattr`, module names defined below the cursor."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.completion import complete
from support.grounding import body_prefix, legal_set_when, monitor_at

from tether.decoding.completion.engine import Completer, CompletionRequest
from tether.index.module_names import module_name


def test_open_ended_buffer_allows_what_the_edited_class_already_reads(
        completer: Completer, shop_root: Path) -> None:
    """A buffer cut at the cursor hides the methods below it: `self.` in the class being
    edited allows the members defined above, inherited ones, and any member the class body
    above already reads (defined further down in the full file); nothing else."""
    from tether.decoding.grounding.positions import detect_position

    source = (shop_root / "shop" / "models.py").read_text()
    head = source[: source.index("        self.items.extend(")] + (
        "        print(self.total)\n        self.")
    index = completer.registry.get(shop_root)
    module, _ = module_name(index.root, "shop/models.py")
    lines = head.split("\n")
    request = CompletionRequest(shop_root, "shop/models.py", head, len(lines) - 1,
                                len(lines[-1]), "grounded")
    position = detect_position(lines[-1])
    assert position is not None and position.kind == "member"
    try:
        index.set_buffer("shop/models.py", head)
        monitor = completer.build_monitor(index, module, request, head, type_blind=False,
                                          rescore=False, open_ended=True)
        legal = monitor.provider.legal_for(position, head, len(lines) - 1)
        assert legal is not None
        assert {"items", "owner", "add_item", "total"} <= legal.names  # above, read above
        assert "apply_discount" not in legal.names  # below and never read: unknown
        assert "touch" in legal.names  # inherited from Timestamped
    finally:
        index.close_buffer("shop/models.py")
        completer.close_document(shop_root, "shop/models.py")


def test_members_read_on_the_class_itself_favour_class_level_ones(completer: Completer,
                                                                  shop_root: Path) -> None:
    from tether.decoding.grounding.member_rules import CLASS_LEVEL_BONUS, PROPERTY_ON_CLASS_PENALTY
    from tether.decoding.grounding.positions import detect_position

    head = body_prefix(shop_root) + "other = C."
    lines = head.split("\n")
    position = detect_position(lines[-1])
    assert position is not None
    legal = monitor_at(completer, shop_root, head).provider.legal_for(position, head,
                                                                      len(lines) - 1)
    assert legal is not None and legal.source == "index"
    assert legal.prior["empty"] == CLASS_LEVEL_BONUS  # a classmethod
    assert legal.prior["total"] == PROPERTY_ON_CLASS_PENALTY  # a property
    assert "add_item" in legal.names and "add_item" not in legal.prior  # legal, no bonus
    instance = body_prefix(shop_root) + "other = cart."
    legal = monitor_at(completer, shop_root, instance).provider.legal_for(
        detect_position("    other = cart."), instance, len(lines) - 1)
    assert legal is not None and not legal.prior


@pytest.mark.parametrize(("method", "expected"), [("save", "save("), ("__init__", "__init__(")])
def test_super_in_an_override_calls_the_overridden_method(completer: Completer, shop_root: Path,
                                                          method: str, expected: str) -> None:
    from tether.decoding.grounding.member_rules import OVERRIDDEN_BONUS
    from tether.decoding.grounding.positions import detect_position

    signature, call = ("self, ident: int) -> None", "super().") if method == "__init__" \
        else ("self, *, force: bool = False) -> bool", "return super().")
    text = ("from shop.base import Entity\n\n\nclass Archive(Entity):\n"
            f"    def {method}({signature}:\n        self.archived = True\n        {call}")
    lines = text.split("\n")
    rel = "shop/archive.py"
    legal = monitor_at(completer, shop_root, text, rel).provider.legal_for(
        detect_position(lines[-1]), text, len(lines) - 1)
    assert legal is not None and legal.prior[method] == OVERRIDDEN_BONUS
    result = complete(completer, CompletionRequest(shop_root, rel, text, len(lines) - 1,
                                                  len(lines[-1]), "grounded"))
    assert result.text.startswith(expected)


DYNAMIC_HEAD = ("from collections import OrderedDict\n\n\n"
                "class Options:\n    def __init__(self, **settings):\n"
                "        for key, value in settings.items():\n"
                "            setattr(self, key, value)\n\n\n"
                "class Point:\n    def __init__(self):\n        setattr(self, 'x', 0)\n\n\n"
                "class Settings:\n    def load(self, **values):\n"
                "        self.__dict__.update(values)\n\n\n"
                "class Verbs:\n    pass\n\n\nfor verb in ('get', 'post'):\n"
                "    setattr(Verbs, verb, None)\n\n\n"
                "class Fixed:\n    pass\n\n\nsetattr(Fixed, 'answer', 42)\n\n\n"
                "class Tally(OrderedDict):\n    pass\n\n\nsetattr(Tally, 'answer', 42)\n\n\n"
                "class ModelBase(type):\n    def add_to_class(cls, name, value):\n"
                "        setattr(cls, name, value)\n\n\n"
                "class Model(metaclass=ModelBase):\n    pass\n\n\n"
                "class Article(Model):\n    title = ''\n\n\n"
                "codes = Point()\norigin = Point()\n\n\n"
                "def fill(names):\n    for name in names:\n        setattr(codes, name, 1)\n\n\n"
                "def main():\n")


@pytest.mark.parametrize(("body", "legal_names"), [
    ("    opts = Options(verbose=True)\n    opts.", None),  # any name may have been set
    ("    found = [Settings()][0]\n    found.", None),  # typed by pyright only (its hover)
    ("    point = Point()\n    point.", {"x"}),
    ("    Verbs.", None),  # set on the class by computed names
    ("    Verbs().", None),  # and so on its instances
    ("    Fixed.", {"answer"}),
    ("    Fixed().", {"answer"}),
    ("    Tally().", {"answer", "popitem"}),  # pyright's members (the base is not indexed)
    ("    Article.", None),  # its metaclass sets attributes (Django's `Article.objects`)
    ("    Article().", None),
    ("    codes.", None),  # a module-level object filled by setattr (requests' status codes)
    ("    origin.", {"x"}),
])
def test_attributes_set_by_setattr(completer: Completer, shop_root: Path, body: str,
                                   legal_names: set[str] | None) -> None:
    legal = legal_set_when(lambda legal: (legal is None) == (legal_names is None),
                           completer, shop_root, "shop/options.py", DYNAMIC_HEAD + body)
    if legal_names is None:
        assert legal is None
    else:
        assert legal is not None and legal_names <= legal.names
        assert "verbose" not in legal.names


@pytest.mark.parametrize(("head", "visible"), [
    ("def main():\n    return ", True),  # runs after the module has defined `helper`
    ("value = ", False),  # module level: `helper` is not bound yet
])
def test_a_function_body_sees_module_names_defined_below_the_cursor(
        completer: Completer, shop_root: Path, head: str, visible: bool) -> None:
    from tether.decoding.grounding.position_reader import position_at_end

    rel = "shop/below.py"
    buffer = head + "\n\n\ndef helper():\n    return 1\n"
    index = completer.registry.get(shop_root)
    lines = head.split("\n")
    request = CompletionRequest(shop_root, rel, buffer, len(lines) - 1, len(lines[-1]),
                                "grounded")
    position = position_at_end(head)
    assert position is not None and position.kind == "name"
    try:
        index.set_buffer(rel, buffer)
        monitor = completer.build_monitor(index, "shop.below", request, head,
                                          type_blind=False, rescore=False)
        legal = monitor.provider.legal_for(position, head, len(lines) - 1)
    finally:
        index.close_buffer(rel)
        completer.close_document(shop_root, rel)
    assert legal is not None and ("helper" in legal.names) is visible
