"""Keyword names read from pyright's signature labels (decoding.grounding.call_signatures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tether.decoding.grounding.call_signatures import keyword_names, keywords_of_signatures
from tether.decoding.pyright.signature_probe import bound_names, import_binding, import_statements
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


@pytest.mark.parametrize(("statement", "names"), [
    ("import numpy as np", {"np"}),
    ("import os.path", {"os"}),
    ("from os import path, sep as separator", {"path", "separator"}),
    ("from . import views", {"views"}),
    ("from shop import (", set()),  # a fragment: import_statements joins the lines first
])
def test_names_an_import_statement_binds(statement: str, names: set[str]) -> None:
    assert bound_names(statement) == names


def test_the_last_import_that_binds_a_name_is_the_probes() -> None:
    text = "import json\nimport simplejson as json  # faster\n\ndef f():\n    import textwrap\n"
    assert import_binding(text, "json") == "import simplejson as json"
    assert import_binding(text, "textwrap") == "import textwrap"
    assert import_binding(text, "os") is None


def test_imports_over_several_lines_are_joined() -> None:
    text = ("from textwrap import (  # wrapping\n    dedent,\n    wrap as wrap_text,\n)\n"
            "import os, \\\n    json\nfrom shlex import (quote)\nx = (1,\n     2)\n")
    assert list(import_statements(text)) == [
        "from textwrap import dedent, wrap as wrap_text", "import os, json",
        "from shlex import quote"]
    assert import_binding(text, "wrap_text") == "from textwrap import dedent, wrap as wrap_text"
    assert import_binding(text, "json") == "import os, json"
    assert import_binding(text, "quote") == "from shlex import quote"


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
