"""Where `AttributeError` and `ImportError` are caught (decoding.grounding.error_guards)."""

from __future__ import annotations

import pytest

_GUARDS = """def f(s):
    try:
        n = s.
    except* AttributeError:
        pass
    try:
        def g():
            s.
    except AttributeError:
        s.
    with open(p), suppress(TypeError, AttributeError):
        s.
    with suppress(KeyError):
        s.
"""


@pytest.mark.parametrize(("line", "caught"), [
    (2, True), (7, False), (9, False), (11, True), (13, False), (40, False)])
def test_where_attribute_errors_are_caught(line: int, caught: bool) -> None:
    """A function defined in the `try` body runs elsewhere; the handler is not guarded."""
    from tether.decoding.grounding.error_guards import ATTRIBUTE_ERROR, caught_errors

    assert (ATTRIBUTE_ERROR in caught_errors(_GUARDS, line)) is caught


_IMPORT_GUARDS = """try:
    import ujson as json
except ImportError:
    import json
try:
    from lxml import etree
except (ModuleNotFoundError, OSError):
    etree = None
with suppress(ImportError):
    import yaml
try:
    import toml
except AttributeError:
    pass
"""


@pytest.mark.parametrize(("line", "caught"), [
    (1, True), (3, False), (5, True), (7, False), (9, True), (11, False), (40, False)])
def test_where_import_errors_are_caught(line: int, caught: bool) -> None:
    from tether.decoding.grounding.error_guards import IMPORT_ERROR, caught_errors

    assert (IMPORT_ERROR in caught_errors(_IMPORT_GUARDS, line)) is caught
