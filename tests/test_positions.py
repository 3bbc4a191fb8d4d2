"""Identifier positions detected on the cursor line (decoding.positions)."""

from __future__ import annotations

import pytest

from decoding.positions import detect_position

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
