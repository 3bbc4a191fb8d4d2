"""Conversions between Tether's results and LSP types that need no server."""

from __future__ import annotations

from tether.lsp_server.convert import in_line_endings_of


def test_completions_take_the_documents_line_endings() -> None:
    assert in_line_endings_of("a\r\nb\r\n", "x\n    y") == "x\r\n    y"
    assert in_line_endings_of("a\nb\n", "x\n    y") == "x\n    y"
    assert in_line_endings_of("a\r\n", "x") == "x"
    assert in_line_endings_of("a\r\n", None) is None
