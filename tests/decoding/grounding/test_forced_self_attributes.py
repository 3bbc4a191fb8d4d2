"""New attributes on `self` (decoding.grounding.member_rules), teacher-forced through the
monitor: where a method may create one, what `__slots__` allows, after a healed dot."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.grounding import Teacher, monitor_at, written_in_file

from tether.decoding.completion.engine import Completer, CompletionRequest
from tether.index.module_names import module_name


def test_new_attribute_in_an_initializer_is_not_blocked(completer: Completer, shop_root: Path,
                                                       teacher: Teacher) -> None:
    source = (shop_root / "shop" / "models.py").read_text()
    prefix = source[: source.index("        self.owner = owner")] + "        "
    try:
        monitor = monitor_at(completer, shop_root, prefix, rel="shop/models.py")
        assert teacher.run(monitor, "self.created_at = 0\n") == "self.created_at = 0\n"
        pair = "self.created_at, self.updated_at = 0, 0\n"
        assert teacher.run(monitor_at(completer, shop_root, prefix, rel="shop/models.py"),
                           pair) == pair
        assert teacher.run(monitor_at(completer, shop_root, prefix, rel="shop/models.py"),
                           "self.items.append(owner)") == "self.items.append(owner)"
    finally:
        completer.registry.get(shop_root).close_buffer("shop/models.py")
        completer.close_document(shop_root, "shop/models.py")


@pytest.mark.parametrize(("head", "intended", "passes"), [
    ('    __slots__ = ("x", "y")\n', "x = x\n", True),
    ('    __slots__ = ("x", "y")\n', "z = x\n", False),  # AttributeError at run time
    ('    __slots__ = ("x", "__dict__")\n', "z = x\n", True),
    ("", "z = x\n", True),  # no slots: a new attribute
])
def test_an_initializer_of_a_slotted_class_assigns_only_its_slots(
        completer: Completer, shop_root: Path, teacher: Teacher, head: str, intended: str,
        passes: bool) -> None:
    text = f"class Point:\n{head}\n    def __init__(self, x):\n        self."
    written = written_in_file(completer, shop_root, teacher, text, "shop/points.py", intended)
    assert (written == intended) is passes


@pytest.mark.parametrize(("intended", "passes"), [("x + 1\n", True), ("z + 1\n", False)])
def test_self_continuing_an_expression_in_an_initializer_only_reads(
        completer: Completer, shop_root: Path, teacher: Teacher, intended: str,
        passes: bool) -> None:
    """`total = (` / `self.`: not a statement that may create an attribute."""
    text = ("class Point:\n    def __init__(self, x):\n        self.x = x\n"
            "        total = (\n            self.")
    written = written_in_file(completer, shop_root, teacher, text, "shop/points.py", intended)
    assert (written == intended) is passes


@pytest.mark.parametrize(("intended", "passes"), [
    ("self.cache = {}\n", True),  # any method may create an attribute
    ("self.cache == {}\n", False),
    ("self.cache.clear()\n", False),  # a new name that is read
    ("self.x = 0\n", True),
    ("self.x += 1\n", True),
    ("self.low, self.high = 0, 1\n", True),  # the targets of a tuple assignment
    ("self.size: int = 0\n", True),  # an annotated assignment
    ("self.low, self.high\n", False),  # reads of names nobody defined
    ("self.low + 1\n", False),
    ("self.x, self.high.clear()\n", False),
])
def test_a_method_may_assign_a_new_attribute(completer: Completer, shop_root: Path,
                                             teacher: Teacher, intended: str,
                                             passes: bool) -> None:
    text = ("class Point:\n    def __init__(self, x):\n        self.x = x\n\n"
            "    def move(self):\n        ")
    written = written_in_file(completer, shop_root, teacher, text, "shop/points.py", intended)
    assert (written == intended) is passes


@pytest.mark.parametrize(("intended", "passes"), [
    (".cache = {}\n", True),
    (".cache.clear()\n", False),
])
def test_a_new_attribute_after_a_healed_dot(completer: Completer, shop_root: Path,
                                            teacher: Teacher, intended: str,
                                            passes: bool) -> None:
    """The prompt ends `self` (healing took the dot): the dot alone may come first, then a
    new attribute's name, as long as `=` follows it."""
    rel = "shop/points.py"
    head = ("class Point:\n    def __init__(self, x):\n        self._x = x\n\n"
            "    def move(self):\n        self")
    index = completer.registry.get(shop_root)
    index.set_buffer(rel, head + ".")
    module, _ = module_name(index.root, rel)
    lines = head.split("\n")
    request = CompletionRequest(shop_root, rel, head + ".", len(lines) - 1,
                                len(lines[-1]) + 1, "grounded")
    monitor = completer.build_monitor(index, module, request, head, type_blind=False,
                                      rescore=False, healed=".")
    try:
        assert (teacher.run(monitor, intended) == intended) is passes
    finally:
        index.close_buffer(rel)


def test_a_slotted_class_on_an_unslotted_base_takes_new_attributes(
        completer: Completer, shop_root: Path, teacher: Teacher) -> None:
    text = ("class Base:\n    pass\n\n\nclass Point(Base):\n    __slots__ = ('x',)\n\n"
            "    def __init__(self, x):\n        self.")
    written = written_in_file(completer, shop_root, teacher, text, "shop/points.py", "z = x\n")
    assert written == "z = x\n"  # Base gives it a __dict__
