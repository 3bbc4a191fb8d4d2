"""The keyword arguments a call accepts: from the index, a function's parameters or a
class's constructor (its `__init__`, its `__new__`, or the fields a dataclass-like decorator
turns into one); from pyright's signature help, everything else it can type (the standard
library's and installed packages' functions). None wherever neither can know them, so that
no keyword is blocked: `**kwargs`, a decorator that may change the signature, a class built
on a base the index does not hold (`pydantic.BaseModel`, Django's `Model`) or given a
metaclass, a signature pyright shows without parameters (what it shows for a class whose
base it cannot import).
"""

from __future__ import annotations

from tether.index.lookups import SymbolLookup
from tether.index.models import Parameter, ParamKind, Symbol, SymbolKind

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
    """Names `target` (a function, method or class) accepts as `name=`; None: any name. A
    function defined more than once (a stub's `@overload`s, the implementation beside its
    stub, a definition per platform) takes what any of its definitions takes."""
    if target.kind == SymbolKind.CLASS:
        return _keywords(_constructor(lookup, target))
    definitions = [symbol for symbol in lookup.by_qualname(target.qualname)
                   if symbol.kind == target.kind] or [target]
    names: set[str] = set()
    for definition in definitions:
        keywords = _keywords(_function(definition))
        if keywords is None:
            return None
        names |= keywords
    return frozenset(names)


def _keywords(params: list[Parameter] | None) -> frozenset[str] | None:
    if params is None or any(p.kind == ParamKind.VAR_KEYWORD for p in params):
        return None
    return frozenset(p.name for p in params
                     if p.kind not in _SKIPPED_KINDS and p.name not in ("self", "cls"))


def pyright_may_know(lookup: SymbolLookup, target: Symbol | None) -> bool:
    """Whether to ask pyright for the keywords of a callee the index gave up on: one it did
    not find, or a class built on a base it does not hold (pyright may read the base, e.g.
    pydantic's fields). Not where the index saw a decorator that may change the signature,
    a metaclass, or `**kwargs`: pyright shows an Unknown decorator's function undecorated."""
    if target is None:
        return True
    return (target.kind == SymbolKind.CLASS and bool(lookup.unresolved_bases(target.qualname))
            and not any(lookup.member(target.qualname, special) is not None
                        for special in ("__init__", "__new__"))
            and not any(ancestor.metaclasses for ancestor in lookup.mro(target.qualname)))


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
    if any(ancestor.metaclasses for ancestor in lookup.mro(cls.qualname)):
        return None  # a metaclass's `__call__` may take anything
    if lookup.unresolved_bases(cls.qualname):
        return None
    return [Parameter(field.name) for field in fields]  # none at all: `object()`


def keywords_of_signatures(signatures: list[list[str]]) -> frozenset[str] | None:
    """Keyword names any of pyright's signatures (overloads) takes, from its parameter labels
    (`obj: Any`, `/`, `*`, `indent: int = 2`, `**kwds: Any`); None: any name, or unknown."""
    if not signatures or any(not params for params in signatures):
        return None
    names: set[str] = set()
    for params in signatures:
        if "/" in params:  # what comes before it is positional-only
            params = params[params.index("/") + 1:]
        for label in params:
            name = label.split(":", 1)[0].split("=", 1)[0].strip()
            if name.startswith("**") or name == "...":  # `(...)`: any arguments at all
                return None
            if name.isidentifier() and name not in ("self", "cls"):
                names.add(name)
    return frozenset(names)
