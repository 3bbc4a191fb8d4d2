"""Bare names and imported names, teacher-forced through the monitor on the shop fixture: star
imports and names set through `globals()`, a name written with the space before it, the names
of a `from` import, names bound below the cursor, and imports guarded by `ImportError`."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.grounding import Teacher, body_prefix, monitor_at, written_in_file

from tether.decoding.completion.engine import Completer


@pytest.mark.parametrize(("prefix", "intended", "passes"), [
    ("from os.path import *\n\n\ndef f():\n    ", "x = join('a', 'b')\n", True),
    ("from not_installed_anywhere import *\n\n\ndef f():\n    ", "x = anything()\n", True),
    ("from shop import *\n\n", "x = shipping_cost\n", True),  # indexed: its `__all__`
    ("from shop import *\n\n", "x = compute_shipping\n", False),  # not in `__all__`
    ("globals()['made'] = 1\n\n\ndef f():\n    ", "x = made\n", True),
    ("exec(source)\n\n\ndef f():\n    ", "x = made\n", True),  # into this module
    ("exec(source, globals())\n\n\ndef f():\n    ", "x = made\n", True),
    ("exec(source, env)\n\n\ndef f():\n    ", "x = made\n", False),  # into `env`
    ("# exec(source)\n\n\ndef f():\n    ", "x = made\n", False),
    ("class A:\n    def f(self):\n        ", "x = __class__\n", True),
    ("def f():\n    ", "x = __class__\n", False),  # only methods have it
    ("def f():\n    ", "return __import__('pydoc').pager\n", True),  # a dunder builtin
    ("import json\n", "from os.path import *\nx = join('a')\n", True),  # written now
    ("import json\n", "from shop import *\nx = shipping_cost\n", True),
    ("import json\n", "from shop import *\nx = compute_shipping\n", False),
])
def test_bare_names_star_imported_or_set_through_globals(
        completer: Completer, shop_root: Path, teacher: Teacher, prefix: str, intended: str,
        passes: bool) -> None:
    written = teacher.run(monitor_at(completer, shop_root, prefix), intended)
    assert (written == intended) is passes


@pytest.mark.parametrize(("intended", "passes"), [
    ("return undefined_helper(cart)\n", False),  # ` undefined` after a keyword, one token
    ("if undefined_flag:\n        pass\n", False),
    ("flag = cart and undefined_flag\n", False),
    ("from shop.models import Basket\n", False),
    ("return not total and cart\n", True),
    ("from shop.models import Item\n", True),
    ("first = last = None\n", True),  # a chained assignment's new targets
    ("first = cart.items = last = 0\n", True),
    ("first = last + 1\n", False),  # a new name that is read, not assigned
    ("first = last == 1\n", False),
    ("first = carts\n", False),
])
def test_a_name_written_with_the_space_before_it_is_checked(
        completer: Completer, shop_root: Path, teacher: Teacher, intended: str,
        passes: bool) -> None:
    monitor = monitor_at(completer, shop_root, body_prefix(shop_root))
    assert (teacher.run(monitor, intended) == intended) is passes


def test_from_import_names_are_the_modules_exports(completer: Completer, shop_root: Path,
                                                   teacher: Teacher) -> None:
    prefix = "from shop.service import "
    assert teacher.run(monitor_at(completer, shop_root, prefix), "compute_shipping\n") == (
        "compute_shipping\n")
    assert teacher.run(monitor_at(completer, shop_root, prefix), "compute_taxes\n") != (
        "compute_taxes\n")


@pytest.mark.parametrize(("prefix", "intended", "passes"), [
    ("from shop.service import (\n    ", "compute_shipping,\n)\n", True),
    ("from shop.service import (\n    ", "compute_taxes,\n)\n", False),  # not exported
    ("from shop.service import (", "\n    compute_shipping,\n)\n", True),  # a line break
    ("from shop.service import (compute_shipping, ", ")\n", True),
    ("from shop.service import ", "compute_shipping as ship\n", True),  # `as` after a space
])
def test_names_of_a_from_import_over_several_lines_are_the_modules_exports(
        completer: Completer, shop_root: Path, teacher: Teacher, prefix: str, intended: str,
        passes: bool) -> None:
    written = teacher.run(monitor_at(completer, shop_root, prefix), intended)
    assert (written == intended) is passes


_NESTED = ("def escape(text):\n    parts = []\n    start = 0\n\n    def flush():\n        ",
           "\n\n    for index, char in enumerate(text):\n        flush()\n    return parts\n")


_LOOP = ("def joined(fh):\n    for line in fh:\n        ",
         "\n        if line.endswith('\\\\'):\n            oldline = line\n            continue\n")


@pytest.mark.parametrize(("layout", "intended", "passes"), [
    (_NESTED, "if start != index:\n", True),  # bound below the nested function, read when it runs
    (_NESTED, "if start != indexes:\n", False),
    (_LOOP, "line = oldline + line\n", True),  # set further down the loop, read on the next pass
    (_LOOP, "line = oldlines + line\n", False),
])
def test_names_bound_below_that_the_line_reads_later(
        completer: Completer, shop_root: Path, teacher: Teacher, layout: tuple[str, str],
        intended: str, passes: bool) -> None:
    text, suffix = layout
    written = written_in_file(completer, shop_root, teacher, text, "shop/escaping.py",
                              intended, suffix)
    assert (written == intended) is passes


@pytest.mark.parametrize(("intended", "guarded", "passes"), [
    ("import ujson as json\n", True, True),  # an optional dependency, not installed
    ("import ujson as json\n", False, False),  # unguarded: no such module here
    ("from paste import httpserver\n", True, True),
])
def test_a_module_may_be_missing_where_import_error_is_caught(
        completer: Completer, shop_root: Path, teacher: Teacher, intended: str,
        guarded: bool, passes: bool) -> None:
    text = "def serve():\n    try:\n        " if guarded else "def serve():\n    "
    suffix = "\n    except ImportError:\n        import json\n" if guarded else "\n"
    written = written_in_file(completer, shop_root, teacher, text, "shop/serving.py",
                              intended, suffix)
    assert (written == intended) is passes
