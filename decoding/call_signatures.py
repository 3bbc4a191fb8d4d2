"""The keyword arguments a call accepts, from the index: a function's parameters, a class's
constructor (its `__init__`, its `__new__`, or the fields a dataclass-like decorator or base
turns into one). None wherever the index cannot know them, so that no keyword is blocked:
`**kwargs`, a decorator that may change the signature, a class built on a base the index does
not hold (`pydantic.BaseModel`, `typing.NamedTuple`, Django's `Model`) or given a metaclass.
"""

from __future__ import annotations

from index.lookups import SymbolLookup
from index.models import METACLASS, Parameter, ParamKind, Symbol, SymbolKind

# Decorators that leave a function's call signature as it is.
SIGNATURE_KEEPING = frozenset({
    "staticmethod", "classmethod", "abstractmethod", "abc.abstractmethod", "overload",
    "typing.overload", "override", "typing.override", "typing_extensions.override",
    "deprecated", "warnings.deprecated", "typing_extensions.deprecated", "lru_cache",
    "functools.lru_cache", "cache", "functools.cache", "wraps", "functools.wraps",
    "final", "typing.final", "async",
})
_SKIPPED_KINDS = (ParamKind.POSITIONAL_ONLY, ParamKind.VAR_POSITIONAL)


def keyword_names(lookup: SymbolLookup, target: Symbol) -> frozenset[str] | None:
    """Names `target` (a function, method or class) accepts as `name=`; None: any name."""
    params = _constructor(lookup, target) if target.kind == SymbolKind.CLASS \
        else _function(target)
    if params is None or any(p.kind == ParamKind.VAR_KEYWORD for p in params):
        return None
    return frozenset(p.name for p in params
                     if p.kind not in _SKIPPED_KINDS and p.name not in ("self", "cls"))


def _function(function: Symbol) -> list[Parameter] | None:
    if any(decorator not in SIGNATURE_KEEPING for decorator in function.decorators):
        return None
    return function.params


def _constructor(lookup: SymbolLookup, cls: Symbol) -> list[Parameter] | None:
    fields = [member for member in lookup.class_members(cls.qualname)
              if "field" in member.decorators]
    generated = any(field.parent == cls.qualname for field in fields)  # a dataclass's own
    for special in ("__init__", "__new__"):
        method = lookup.member(cls.qualname, special)
        if method is not None and (method.parent == cls.qualname or not generated):
            return _function(method)
    if any(tag.startswith(METACLASS) for ancestor in lookup.mro(cls.qualname)
           for tag in ancestor.decorators):
        return None  # a metaclass's `__call__` may take anything
    if lookup.unresolved_bases(cls.qualname):
        return None
    return [Parameter(field.name) for field in fields]  # none at all: `object()`
