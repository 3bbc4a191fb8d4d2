"""The signature probe (decoding.pyright.signature_probe): keyword parameters from the real
pyright server, and the import statements that decide what the probe asks about."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.pyright_workspace import needs_pyright

from tether.decoding.pyright.client import PyrightClient
from tether.decoding.pyright.signature_probe import (
    SignatureProbe,
    bound_names,
    import_binding,
    import_statements,
    signature_probe_path,
)


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


@needs_pyright
def test_signature_probe_reads_imported_functions_on_a_small_document(
        client: PyrightClient, workspace: Path) -> None:
    probe = SignatureProbe(client, timeout=20.0)
    user = workspace / "keywords_user.py"
    text = "import json\nimport textwrap as tw\n\ndef f(helper):\n    x = "
    wrap = probe.keywords(user, text, "tw.wrap")
    assert wrap is not None and {"width", "break_long_words"} <= wrap
    assert probe.keywords(user, text, "tw.wrap") is wrap  # cached
    assert probe.keywords(user, text, "json.dumps") is None  # `**kwds`
    assert probe.keywords(user, text, "helper") is None  # an untyped parameter: Unknown
    assert not signature_probe_path(user).exists()


@needs_pyright
def test_signature_probe_asks_the_file_itself_for_methods_of_its_objects(
        client: PyrightClient, workspace: Path) -> None:
    """Receivers no import binds (a local str, a parameter of an annotated type) are typed by
    the file: its keyword parameters come from there; an Unknown receiver stays free."""
    probe = SignatureProbe(client, timeout=20.0, in_place_timeout=20.0)
    user = workspace / "method_keywords_user.py"
    head = ("from shop.cart import Cart\n\n\ndef f(cart: Cart, thing):\n"
            "    words = 'a b'\n    x = ")
    split = probe.keywords(user, head + "words.split(", "words.split")
    assert split is not None and {"sep", "maxsplit"} <= split
    assert probe.keywords(user, head + "words.split(sep=' ', ", "words.split") is split
    add_item = probe.keywords(user, head + "cart.add_item(", "cart.add_item")
    assert add_item == frozenset({"name"})
    assert probe.keywords(user, head + "thing.run(", "thing.run") is None
