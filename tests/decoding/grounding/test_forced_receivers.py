"""Members of receivers the monitor has to type with care, teacher-forced on the shop fixture:
local names shadowing a module, metaclass instances, module dunders, names assigned on a
receiver above, members subclasses define, local classes, and `AttributeError` guards."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.grounding import Teacher, body_prefix, monitor_at, written_in_file

from tether.decoding.completion.engine import Completer


@pytest.mark.parametrize(("prefix", "intended"), [
    ("import shop as s\n\n\ndef f(s):\n    ", "return s.upper()\n"),  # a parameter
    ("import shop as s\n\n\ndef f(items):\n    for s in items:\n        ", "s.title()\n"),
    ("import shop as s\n\n\ndef f(path):\n    with open(path) as s:\n        ",
     "return s.read()\n"),
    ("import shop as s\n\n\ndef f(rows):\n    s = rows[0]\n\n    def g():\n        ",
     "return s.lower()\n"),  # a closure's variable
])
def test_a_local_name_shadows_a_module_name(completer: Completer, shop_root: Path,
                                            teacher: Teacher, prefix: str,
                                            intended: str) -> None:
    """`s` is the package `shop` at module level; in these functions it is something else,
    whose members the index does not know."""
    monitor = monitor_at(completer, shop_root, prefix)
    assert teacher.run(monitor, intended) == intended


METACLASS = ("class Registry(type):\n    known = {}\n\n"
             "    def __new__(mcs, name, bases, namespace):\n"
             "        made = super().__new__(mcs, name, bases, namespace)\n")


@pytest.mark.parametrize(("prefix", "intended", "passes"), [
    (METACLASS + "        ", "made.declared = made.Meta\n", True),  # typed by pyright
    (METACLASS + "        ", "return mcs.known\n", True),  # `__new__` takes the metaclass
    (METACLASS + "        ", "return mcs.invented_thing\n", False),
    (METACLASS + "        return made\n\n    def __call__(cls, *args):\n        ",
     "return cls.build_from(args)\n", True),  # `cls` here is a class made by it
    (METACLASS + "        return made\n\n    def describe(self):\n        ",
     "return self.__doc__ or self.title\n", True),
])
def test_instances_of_a_metaclass_are_classes_with_any_attribute(
        completer: Completer, shop_root: Path, teacher: Teacher, prefix: str, intended: str,
        passes: bool) -> None:
    written = teacher.run(monitor_at(completer, shop_root, prefix), intended)
    assert (written == intended) is passes


@pytest.mark.parametrize(("intended", "passes"), [
    ("meta.__version__.split('.')\n", True),
    ("meta.__versions__.split('.')\n", False),
])
def test_a_module_s_dunder_variables_are_its_members(
        completer: Completer, shop_root: Path, teacher: Teacher, intended: str,
        passes: bool) -> None:
    """celery's tests read `celery.__version__`; the index had skipped dunder names."""
    index = completer.registry.get(shop_root)
    index.set_buffer("shop/meta.py", "__version__ = '1.0'\n__author__ = 'shop'\n")
    try:
        text = "from shop import meta\n\n\ndef version():\n    return "
        written = written_in_file(completer, shop_root, teacher, text, "shop/versions.py",
                                  intended)
        assert (written == intended) is passes
    finally:
        index.close_buffer("shop/meta.py")


@pytest.mark.parametrize(("intended", "passes"), [
    ("cart.population['x'] = 1\n", True),  # assigned above on the same receiver
    ("cart.populations['x'] = 1\n", False),
])
def test_a_name_assigned_on_a_receiver_above_may_be_read(
        completer: Completer, shop_root: Path, teacher: Teacher, intended: str,
        passes: bool) -> None:
    """networkx's examples: `G.population = {}`, then `G.population[city] = ...`."""
    text = ("from shop.models import Cart\n\n\ndef load():\n    cart = Cart()\n"
            "    cart.population = {}\n    ")
    written = written_in_file(completer, shop_root, teacher, text, "shop/loading.py",
                              intended)
    assert (written == intended) is passes


@pytest.mark.parametrize(("intended", "passes"), [
    ("expire(now)\n", True),  # defined by a subclass (and by its subclass's subclass)
    ("evict(now)\n", True),
    ("expires(now)\n", False),
    ("size + now\n", True),  # an attribute a subclass sets (a template attribute)
    ("sizes + now\n", False),
])
def test_a_base_class_uses_members_its_subclasses_define(
        completer: Completer, shop_root: Path, teacher: Teacher, intended: str,
        passes: bool) -> None:
    text = "class Timed:\n    def __len__(self, now=0):\n        self."
    suffix = ("\n        return 0\n\n\nclass TTL(Timed):\n    size = 0\n\n"
              "    def expire(self, now=None):\n        pass\n\n\n"
              "class Evicting(TTL):\n    def evict(self, now=None):\n        pass\n")
    monitor = monitor_at(completer, shop_root, text, "shop/timed.py", suffix=suffix)
    try:
        written = teacher.run(monitor, intended)
        assert (written == intended) is passes
        assert monitor.stats.constrained_steps > 0
    finally:
        completer.registry.get(shop_root).close_buffer("shop/timed.py")


@pytest.mark.parametrize(("intended", "passes"), [
    ("_resolver\n", True),
    ("_resolvers\n", False),
])
def test_self_in_a_class_local_to_a_function_is_typed_by_pyright(
        completer: Completer, shop_root: Path, teacher: Teacher, intended: str,
        passes: bool) -> None:
    """The index holds no local class; a module-level namesake must not stand in for it
    (jsonschema's `create()` defines `Validator`, and the module imports one)."""
    text = ("from shop.models import Cart as Validator\n\n\ndef create():\n"
            "    class Validator:\n        def __init__(self):\n"
            "            self._resolver = None\n\n        def lookup(self):\n"
            "            return self.")
    written = written_in_file(completer, shop_root, teacher, text, "shop/creating.py",
                              intended)
    assert (written == intended) is passes


@pytest.mark.parametrize(("before", "after", "passes"), [
    ("try:\n        ", "\n    except AttributeError:\n        fileno = None", True),
    ("try:\n        ", "\n    except (KeyError, AttributeError) as error:\n        raise", True),
    ("with suppress(AttributeError):\n        ", "", True),
    ("try:\n        ", "\n    except KeyError:\n        fileno = None", False),
    ("try:\n        pass\n    except AttributeError:\n        ", "", False),  # the handler
])
def test_members_are_free_where_attribute_error_is_caught(
        completer: Completer, shop_root: Path, teacher: Teacher, before: str, after: str,
        passes: bool) -> None:
    """`try: fileno = cart.fileno() except AttributeError:` reads a member Cart lacks on
    purpose. The `except` lies below the cursor: the monitor reads the whole buffer."""
    intended = "fileno = cart.fileno()"
    suffix = after + "\n    return s.checkout(cart)\n"
    monitor = monitor_at(completer, shop_root, body_prefix(shop_root) + before, suffix=suffix)
    assert (teacher.run(monitor, intended) == intended) is passes
