"""Keyword names read from pyright's signature labels (decoding.call_signatures)."""

from __future__ import annotations

import pytest

from decoding.call_signatures import keywords_of_signatures


@pytest.mark.parametrize(("signatures", "keywords"), [
    ([["obj: Any", "*", "indent: int | None = None", "sort_keys: bool = False"]],
     {"obj", "indent", "sort_keys"}),
    ([["value", "/", "factor", "*", "exact=False"]], {"factor", "exact"}),  # positional-only
    ([["self", "size: int"], ["self", "name: str"]], {"size", "name"}),  # overloads
    ([["obj: Any", "**kwds: Any"]], None),  # any keyword
    ([[]], None),  # what pyright shows for a class on a base it cannot import
    ([], None),
])
def test_keywords_of_signatures(signatures: list[list[str]], keywords: set[str] | None) -> None:
    found = keywords_of_signatures(signatures)
    assert (found if found is None else set(found)) == keywords
