"""Keyword names (decoding.grounding.call_signatures): read from pyright's signature labels,
and from the index for a function defined more than once. The import statements the
signature probe reads are tested in tests/decoding/pyright/test_signature_probe.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tether.decoding.grounding.call_signatures import keyword_names, keywords_of_signatures
from tether.index.config import IndexConfig
from tether.index.workspace import WorkspaceIndex


@pytest.mark.parametrize(("signatures", "keywords"), [
    ([["obj: Any", "*", "indent: int | None = None", "sort_keys: bool = False"]],
     {"obj", "indent", "sort_keys"}),
    ([["value", "/", "factor", "*", "exact=False"]], {"factor", "exact"}),  # positional-only
    ([["self", "size: int"], ["self", "name: str"]], {"size", "name"}),  # overloads
    ([["obj: Any", "**kwds: Any"]], None),  # any keyword
    ([["..."]], None),  # a callable type that takes any arguments: `(...) -> T`
    ([[]], None),  # what pyright shows for a class on a base it cannot import
    ([], None),
])
def test_keywords_of_signatures(signatures: list[list[str]], keywords: set[str] | None) -> None:
    found = keywords_of_signatures(signatures)
    assert (found if found is None else set(found)) == keywords


def test_keywords_of_a_function_defined_more_than_once(tmp_path: Path) -> None:
    """A stub's overloads and the implementation beside it: a keyword any of them takes is
    legal (more-itertools' `last(pool, default=...)` was blocked by the first overload)."""
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "more.py").write_text(
        "_marker = object()\n\n\ndef last(iterable, default=_marker):\n    pass\n\n\n"
        "def first(iterable):\n    pass\n\n\ndef loose(iterable):\n    pass\n")
    (root / "pkg" / "more.pyi").write_text(
        "from typing import overload\n\n@overload\ndef last(iterable: list) -> int: ...\n"
        "@overload\ndef last(iterable: list, default: str) -> str: ...\n"
        "def first(iterable: list) -> int: ...\n"
        "@overload\ndef loose(iterable: list) -> int: ...\n"
        "@overload\ndef loose(iterable: list, **options: str) -> str: ...\n")
    index = WorkspaceIndex(root, IndexConfig(cache_dir=tmp_path / "cache", embeddings=False))
    try:
        index.index_all(embeddings=False)

        def keywords(qualname: str) -> set[str] | None:
            found = keyword_names(index.lookup, index.lookup.by_qualname(qualname)[0])
            return found if found is None else set(found)

        assert keywords("pkg.more.last") == {"iterable", "default"}
        assert keywords("pkg.more.first") == {"iterable"}
        assert keywords("pkg.more.loose") is None  # one overload takes any keyword
    finally:
        index.close()
