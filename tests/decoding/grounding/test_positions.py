"""Identifier positions: decoding.grounding.positions (the cursor line) and
decoding.grounding.position_reader (the lines above)."""

from __future__ import annotations

import pytest

from tether.decoding.grounding.position_reader import PositionReader, position_at_end
from tether.decoding.grounding.positions import detect_position

CHAIN_ABOVE = "rows = (\n    Table(title)\n"


@pytest.mark.parametrize(("line", "kind", "partial", "receiver"), [
    ("    cart.ad", "member", "ad", "cart"),
    ("    x = a[0].", "member", "", "a[0]"),
    ("from shop.models import Ca", "from_name", "Ca", None),
    ("    return tot", "name", "tot", None),
])
def test_positions_on_one_line(line: str, kind: str, partial: str,
                               receiver: str | None) -> None:
    position = detect_position(line)
    assert position is not None
    assert (position.kind, position.partial, position.receiver) == (kind, partial, receiver)


@pytest.mark.parametrize("line", ["    .", "    .add_r"])
def test_a_chained_call_continued_on_a_new_line_is_a_member_position(line: str) -> None:
    position = detect_position(line, CHAIN_ABOVE)
    assert position is not None and position.kind == "member"
    assert position.receiver == ""  # its expression ends the line above
    assert position.column == line.index(".") + 1
    assert position.partial == line.split(".")[1]


@pytest.mark.parametrize(("line", "above"), [
    ("    .", ""),  # nothing above to continue
    ("    .", "rows = (\n"),  # the line above opens a bracket: no receiver before the dot
    ("    ...", CHAIN_ABOVE),  # an ellipsis, not a member
    ("x = .5", CHAIN_ABOVE),
])
def test_a_leading_dot_without_an_expression_above_is_no_member_position(
        line: str, above: str) -> None:
    position = detect_position(line, above)
    assert position is None or position.kind != "member"


@pytest.mark.parametrize(("text", "module", "partial"), [
    ("from os import (\n    pa", "os", "pa"),
    ("from os import (path,\n    se", "os", "se"),
    ("from .models import (\n    Cart,  # the main one (for now)\n    Item, Or", ".models",
     "Or"),
    ("from os import path, \\\n    se", "os", "se"),
])
def test_a_from_import_continued_on_later_lines_is_a_name_position(text: str, module: str,
                                                                   partial: str) -> None:
    position = position_at_end(text)
    assert position is not None and position.kind == "from_name"
    assert (position.module, position.partial) == (module, partial)
    assert position.name_optional is ("(" in text)  # the bracket may close instead


@pytest.mark.parametrize(("text", "partial"), [
    ("from lib import pandas", "pandas"),  # a name ending in the letters of `as`
    ("from lib import as", "as"),  # the start of a name (`assert_called`), not an alias
    ("from lib import (\n    canvas", "canvas"),
    ("from lib import a as b, alias", "alias"),
])
def test_a_name_ending_like_as_is_an_imported_name(text: str, partial: str) -> None:
    position = position_at_end(text)
    assert position is not None and position.kind == "from_name"
    assert position.partial == partial


def test_a_name_is_optional_only_inside_the_import_bracket() -> None:
    assert not detect_position("from os import ").name_optional  # type: ignore[union-attr]
    assert not detect_position("from os import path, ").name_optional  # type: ignore[union-attr]
    assert detect_position("from os import (").name_optional  # type: ignore[union-attr]
    assert detect_position("from os import (path, ").name_optional  # type: ignore[union-attr]


@pytest.mark.parametrize("text", [
    "from os import (\n    path as p",  # an alias is bound, not imported
    "from os import (\n    path as",
    "from os import (\n    path a",  # `as` being written
    "from os import path as",
    "from os import path a",
    "from os import (\n    path ",
    "from os import path ",  # `as` or the end may follow
    "from os import (path)\nse",  # the list is closed
    "x = (\n    pa",
])
def test_lines_that_are_no_imported_name(text: str) -> None:
    position = position_at_end(text)
    assert position is None or position.kind != "from_name"


@pytest.mark.parametrize(("text", "callee", "partial"), [
    ("x = foo(\n    1,\n    wid", "foo", "wid"),
    ("parser.add_argument(  # the flag\n    '--x',\n    ", "parser.add_argument", ""),
    ('x = foo(\n    """a ( in a string\n""",\n    he', "foo", "he"),
    ("foo(\n    a=1, b", "foo", "b"),
    ("foo(\n    bar(1), [2, 3], 'a(', ti", "foo", "ti"),  # brackets closed on the line
    ("foo(\n    bar(1, ", "bar", ""),  # the line's own call is the innermost
])
def test_arguments_of_a_call_opened_on_a_line_above(text: str, callee: str,
                                                    partial: str) -> None:
    position = position_at_end(text)
    assert position is not None and position.kind == "argument"
    assert (position.callee, position.partial) == (callee, partial)


@pytest.mark.parametrize("text", [
    "def f(\n    a,\n    ",  # parameters
    "class A(\n    Base, meta",
    "if (\n    a,\n    b",
    "x = [\n    a,\n    ",
    "x = foo(1,\n        2)\ny",  # closed
    "x = foo(\n    a), b",  # closes the call above
    "x = foo(\n    a + b",
    "def f (\n    a,\n    ",  # a space before the bracket
    "def f (a, b",  # on the definition's own line too
    "t = '{a}'.format(a",  # a member of a literal, not the builtin `format`
    "x = f().g(a",
    "x = foo(\n    a,\n).bar(\n    b",
])
def test_lines_that_are_no_argument_of_a_call_above(text: str) -> None:
    position = position_at_end(text)
    assert position is None or position.kind != "argument"


@pytest.mark.parametrize(("line", "receiver", "partial"), [
    ('    msg = f"total: {cart.', "cart", ""),
    ('    msg = f"total: {cart.ad', "cart", "ad"),
    ("    x = rf'{a!r} {cart.", "cart", ""),
    ('    x = f"{fn(cart.', "cart", ""),
    ('    x = f"{a}" + f"{items[0].', "items[0]", ""),
])
def test_a_member_in_an_f_string_field_is_a_member_position(line: str, receiver: str,
                                                            partial: str) -> None:
    position = detect_position(line)
    assert position is not None and position.kind == "member"
    assert (position.receiver, position.partial) == (receiver, partial)
    assert line[: position.column].endswith(receiver + ".")


@pytest.mark.parametrize("line", [
    '    x = "{cart.',  # not an f-string
    '    x = f"{{cart.',  # an escaped brace
    '    x = f"{width:>{cart.',  # inside the format spec... its nested field is not read
    '    x = f"{cart.total} and cart.',  # after the field closed
    '    # f"{cart.',
])
def test_no_member_position_in_plain_string_text(line: str) -> None:
    assert detect_position(line) is None


DOC_OPEN = 'def pay(cart):\n    """Pay for the cart.\n\n'


@pytest.mark.parametrize("text", [
    DOC_OPEN + "    Call cart.",  # a docstring's later line
    DOC_OPEN + "    >>> cart.",  # a doctest is text to static analysis too
    "x = '''\n''' '''\ncart.",  # closed, then another string opened on the same line
    'x = "a\\\ncart.',  # a short string continued by a backslash
])
def test_no_member_position_inside_a_string_begun_above(text: str) -> None:
    assert position_at_end(text) is None


@pytest.mark.parametrize(("text", "column"), [
    (DOC_OPEN + '    """\n    cart.', 9),  # the docstring closed on the line above
    (DOC_OPEN + '    """; cart.', 14),  # and code after its end on the same line
    ("# an apostrophe's '''\ncart.", 5),  # quotes in a comment open nothing
    ("s = 'it' \"'''\"\ncart.", 5),  # a triple quote inside a short string opens nothing
])
def test_code_after_a_string_has_ended_is_read(text: str, column: int) -> None:
    position = position_at_end(text)
    assert position is not None and position.kind == "member"
    assert (position.receiver, position.column) == ("cart", column)


def test_the_reader_follows_a_growing_text_in_and_out_of_a_docstring() -> None:
    reader = PositionReader()
    text = DOC_OPEN + "    See cart."
    assert reader.position(text, text.rfind("\n") + 1, "    See cart.") is None
    text += ' first.\n    """\n    cart.'  # what the model writes next closes the docstring
    position = reader.position(text, text.rfind("\n") + 1, "    cart.")
    assert position is not None and position.receiver == "cart"
