"""Queries on a sorted set of legal names (decoding.mask.legal_names)."""

from __future__ import annotations

from tether.decoding.mask.trie import LegalNames


def test_legal_names_queries() -> None:
    legal = LegalNames(["add_item", "add", "remove", "", "add"])
    assert len(legal) == 3 and list(legal) == ["add", "add_item", "remove"]
    assert legal.is_complete("add") and legal.is_complete("add_item")
    assert not legal.is_complete("add_") and not legal.is_complete("")
    assert legal.has_prefix("") and legal.has_prefix("add_") and legal.has_prefix("remove")
    assert not legal.has_prefix("removed") and not legal.has_prefix("b")
    assert "remove" in legal and "rem" not in legal
    assert legal.completions("add") == ["add", "add_item"]
    assert legal.completions("z") == []
