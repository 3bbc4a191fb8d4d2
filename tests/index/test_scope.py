"""Names in scope at a position (index.scope), and the names bound below it that a nested
function or the next pass of a loop reads."""

from __future__ import annotations

from support.shop_index import FIXTURE

from tether.index.scope import names_in_scope


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
