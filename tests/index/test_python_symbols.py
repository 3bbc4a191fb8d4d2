"""Symbols extracted from Python source (index.python_symbols): attributes set by `setattr`,
on a class outside its body and in `__new__`, objects given attributes at run time, slots and
metaclasses."""

from __future__ import annotations

from tether.index.models import SymbolKind

DYNAMIC_SOURCE = b"""
class Options:
    def __init__(self, **settings):
        for key, value in settings.items():
            setattr(self, key, value)

class Record:
    def load(self, row):
        self.__dict__.update(row)

class Point:
    def __init__(self):
        setattr(self, "x", 0)
        self.y = 1

class Bag:
    def put(self, key, value):
        self.__dict__[key] = value

class Pickled:
    def __init__(self):
        self.size = 0

    def __setstate__(self, state):
        for name, value in state.items():
            setattr(self, name, value)

    def absorb(self, other):
        self.__dict__.update(other.__dict__)
"""


def test_setattr_defines_attributes_or_marks_the_class_dynamic() -> None:
    from tether.index.models import DYNAMIC_ATTRIBUTES
    from tether.index.python_symbols import extract_module

    symbols = extract_module(DYNAMIC_SOURCE, "m.py", "m").symbols
    members: dict[str, dict[str, list[str]]] = {}
    for symbol in symbols:
        if symbol.parent in ("m.Options", "m.Record", "m.Point", "m.Bag", "m.Pickled"):
            members.setdefault(symbol.parent, {})[symbol.name] = symbol.decorators
    assert DYNAMIC_ATTRIBUTES in members["m.Options"]["__dict__"]  # a computed name
    assert DYNAMIC_ATTRIBUTES in members["m.Record"]["__dict__"]
    assert DYNAMIC_ATTRIBUTES in members["m.Bag"]["__dict__"]
    assert {"x", "y"} <= set(members["m.Point"])  # a literal name is just an attribute
    assert "__dict__" not in members["m.Point"]
    # restoring pickled state and copying another instance add nothing to list
    assert "__dict__" not in members["m.Pickled"]


CLASS_SETATTR_SOURCE = b"""
def with_verbs(cls):
    for verb in ("get", "post"):
        setattr(cls, verb, lambda self: verb)
    return cls

def labelled(target):
    setattr(target, "label", 1)
    return target

@with_verbs
class Client:
    pass

@labelled
class Tagged:
    pass

class Registry:
    @classmethod
    def install(cls, name):
        setattr(cls, name, 1)

class Counter:
    def reset(self):
        setattr(type(self), "count", 0)
        setattr(self, "local", 1)

class Builder:
    def patch(self, methods):
        cls = self._target  # another class, not Builder
        for name, value in methods.items():
            setattr(cls, name, value)

class Ops:
    pass

for op in ("add", "sub"):
    setattr(Ops, op, None)

class Fixed:
    pass

setattr(Fixed, "answer", 42)
setattr(Unknown, "answer", 42)
"""


def test_setattr_on_a_class_defines_class_attributes_or_marks_the_class_dynamic() -> None:
    from tether.index.models import DYNAMIC_ATTRIBUTES
    from tether.index.python_symbols import extract_module

    symbols = extract_module(CLASS_SETATTR_SOURCE, "m.py", "m").symbols
    members = {symbol.qualname: symbol.decorators for symbol in symbols
               if symbol.kind == SymbolKind.ATTRIBUTE}
    for dynamic in ("m.Client", "m.Registry", "m.Ops"):  # a computed name: the class itself
        assert members[f"{dynamic}.__dict__"] == [DYNAMIC_ATTRIBUTES]
    for literal in ("m.Tagged.label", "m.Counter.count", "m.Fixed.answer"):
        assert members[literal] == []  # a class attribute, not an instance one
    assert members["m.Counter.local"] == ["instance"]
    assert not any(qualname.startswith(("m.Unknown", "m.Builder")) for qualname in members)


def test_assignments_on_a_class_outside_its_body_define_class_attributes() -> None:
    from tether.index.python_symbols import extract_module

    source = (b"class Counter:\n    pass\n\nCounter.value = 0\nCounter.a, Counter.b = 1, 2\n\n"
              b"def reset():\n    Counter.value = 0\n    Counter.total += 1\n"
              b"    other.attr = 1\n    if Counter.flag == 1:\n        pass\n")
    members = {symbol.qualname: symbol.decorators for symbol in
               extract_module(source, "m.py", "m").symbols if symbol.kind == SymbolKind.ATTRIBUTE}
    assert members == {"m.Counter.value": [], "m.Counter.a": [], "m.Counter.b": []}


def test_attributes_a_new_method_sets_on_the_instance_it_makes() -> None:
    """`self = object.__new__(cls)` in `__new__` (networkx's `_dispatchable`)."""
    from tether.index.python_symbols import extract_module

    source = (b"class Dispatch:\n    def __new__(cls, name):\n"
              b"        self = object.__new__(cls)\n        self.name = name\n"
              b"        self.graphs, self.backends = {}, set()\n        other.x = 1\n"
              b"        return self\n\n\nclass Made:\n    def __new__(cls):\n"
              b"        obj = super().__new__(cls)\n        obj.ready = True\n"
              b"        return obj\n\n\nclass Plain:\n    def __new__(cls):\n"
              b"        cls.counter = 0\n        return cls\n")
    members = {symbol.qualname: symbol.decorators for symbol in
               extract_module(source, "m.py", "m").symbols if symbol.kind == SymbolKind.ATTRIBUTE}
    assert members == {"m.Dispatch.name": ["instance"], "m.Dispatch.graphs": ["instance"],
                       "m.Dispatch.backends": ["instance"], "m.Made.ready": ["instance"]}


def test_module_level_objects_given_attributes_at_run_time_are_tagged() -> None:
    from tether.index.models import DYNAMIC_ATTRIBUTES
    from tether.index.python_symbols import extract_module

    source = (b"codes = Lookup()\nplain = Lookup()\nstate = Lookup()\nbag = Lookup()\n\n"
              b"def _init():\n    for title in TITLES:\n        setattr(codes, title, 1)\n\n"
              b"state.__dict__.update(extra)\nbag.__dict__['key'] = 1\nplain.name = 'x'\n")
    tagged = {symbol.name for symbol in extract_module(source, "m.py", "m").symbols
              if symbol.kind == SymbolKind.VARIABLE and DYNAMIC_ATTRIBUTES in symbol.decorators}
    assert tagged == {"codes", "state", "bag"}
    only_vars = b"config = Settings()\nvars(config).update(loaded)\n"
    assert {symbol.name for symbol in extract_module(only_vars, "m.py", "m").symbols
            if DYNAMIC_ATTRIBUTES in symbol.decorators} == {"config"}


def test_a_class_listing_its_slots_is_tagged() -> None:
    from tether.index.models import SLOTTED
    from tether.index.python_symbols import extract_module

    source = (b"class A:\n    __slots__ = ('x', 'y')\n\nclass B:\n    __slots__ = ('x', '__dict__')"
              b"\n\nclass C:\n    __slots__ = make_slots()\n\nclass D:\n    __slots__ = ()\n")
    tags = {symbol.name: symbol.decorators for symbol in extract_module(source, "m.py", "m").symbols
            if symbol.kind == SymbolKind.CLASS}
    assert {name for name, decorators in tags.items() if SLOTTED in decorators} == {"A", "D"}


def test_a_class_keeps_its_metaclass_as_a_tag_not_a_base() -> None:
    from tether.index.python_symbols import extract_module

    source = b"class Model(Base, metaclass=ModelBase):\n    pass\n"
    model = extract_module(source, "m.py", "m").symbols[1]
    assert model.bases == ["Base"]
    assert "metaclass=ModelBase" in model.decorators
