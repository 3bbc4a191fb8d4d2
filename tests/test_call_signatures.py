"""Keyword names read from pyright's signature labels (decoding.call_signatures)."""

from __future__ import annotations

import pytest

from decoding.call_signatures import keywords_of_signatures
from decoding.pyright_signatures import bound_names, import_binding, import_statements


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
