"""Protocol helpers (decoding.pyright.rpc, decoding.pyright.protocol): framing, UTF-16 columns,
deprecation diagnostics, member sets from completion lists."""

from __future__ import annotations

import io

from tether.decoding.pyright.protocol import (
    deprecated_name,
    looks_complete,
    member_set,
    parse_completions,
    python_column,
    range_text,
)
from tether.decoding.pyright.rpc import encode_message, read_message
from tether.index.text_positions import utf16_column


def test_framing_round_trip() -> None:
    payloads = [{"jsonrpc": "2.0", "id": 1, "result": {"text": "é😀"}},
                {"jsonrpc": "2.0", "method": "x", "params": None}]
    stream = io.BytesIO(b"".join(encode_message(p) for p in payloads))
    assert [read_message(stream), read_message(stream)] == payloads
    assert read_message(stream) is None


def test_utf16_columns() -> None:
    line = 'a = "😀é"; a.'
    assert utf16_column(line, len(line)) == len(line) + 1
    assert python_column(line, utf16_column(line, len(line))) == len(line)
    assert python_column("abc", 2) == 2
    assert range_text("x\n😀 name = 1", {"start": {"line": 1, "character": 3},
                                         "end": {"line": 1, "character": 7}}) == "name"
    assert range_text("x", {"start": {"line": 5, "character": 0},
                            "end": {"line": 5, "character": 1}}) == ""


def test_deprecated_name_from_range_or_message() -> None:
    diagnostic = {"range": {"start": {"line": 0, "character": 4},
                            "end": {"line": 0, "character": 11}},
                  "message": 'The method "old_api" is deprecated', "tags": [2]}
    assert deprecated_name(diagnostic, "obj.old_api()") == "old_api"
    assert deprecated_name(diagnostic, None) == "old_api"
    assert deprecated_name({**diagnostic, "tags": [1]}, "obj.old_api()") is None


def test_member_set_filters_and_flags() -> None:
    items = [{"label": "save", "kind": 2}, {"label": "name=", "kind": 5},
             {"label": "__doc__", "kind": 6},
             {"label": "x", "kind": 6, "textEdit": {"newText": "y"}}]
    members = member_set(parse_completions({"isIncomplete": True, "items": items}))
    assert members.names == {"save", "__doc__", "y"}
    assert members.complete and members.incomplete
    # keywords come with names in scope, not with a receiver's members
    names = member_set(parse_completions({"items": [*items, {"label": "if", "kind": 14}]}))
    assert names.names == {"save", "__doc__", "y"} and not names.complete
    assert not looks_complete(frozenset())
    assert not looks_complete(frozenset({"__class__", "__doc__"}))
    assert not looks_complete(frozenset({"save", "__getattr__"}))
    assert parse_completions(None) == ((), False)
