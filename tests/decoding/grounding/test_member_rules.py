"""Where `self.` may define an attribute (decoding.grounding.member_rules), on source text."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("head", "defines"), [
    ("        x = (\n            self.", False),
    ("        x = 1 + \\\n            self.", False),
    ("        x = 1\n        self.", True),
    ("        self.a, self.", True),  # the next target of a tuple assignment
    ("        a, *self.", True),
    ("        return a, self.", False),
    ("        f(a), self.", False),
    ("        myself.", False),
    ("", True),
])
def test_self_may_define_an_attribute_only_where_a_statement_starts(head: str,
                                                                    defines: bool) -> None:
    from tether.decoding.grounding.member_rules import statement_function

    text = "class A:\n    def __init__(self, a=(1,\n                 2)):\n" + (
        head or "        self.")
    assert (statement_function("self", text) == "__init__") is defines
