"""Plain data types shared by the index: symbols, parameters, deprecations, chunks."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

# Decorator of the `__dict__` member the index adds to a class whose instances get attributes
# nobody can list statically (`setattr(self, name, value)`, `self.__dict__.update(...)`); the
# member is also tagged "instance" unless the class itself gets them (`setattr(cls, ...)`).
DYNAMIC_ATTRIBUTES = "dynamic-attributes"
# Prefix of a class's tag naming its metaclass as written (`metaclass=ModelBase`).
METACLASS = "metaclass="
# Tag of a class whose body lists its `__slots__` (literally, without `__dict__`): where every
# class of its MRO does, instances take no attribute beyond the slots.
SLOTTED = "slots"


class SymbolKind(StrEnum):
    MODULE = "module"
    CLASS = "class"
    FUNCTION = "function"
    METHOD = "method"
    PROPERTY = "property"
    ATTRIBUTE = "attribute"
    VARIABLE = "variable"
    IMPORT = "import"


class ParamKind(StrEnum):
    POSITIONAL_ONLY = "positional_only"
    POSITIONAL_OR_KEYWORD = "positional_or_keyword"
    VAR_POSITIONAL = "var_positional"
    KEYWORD_ONLY = "keyword_only"
    VAR_KEYWORD = "var_keyword"


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    kind: ParamKind = ParamKind.POSITIONAL_OR_KEYWORD
    annotation: str | None = None
    default: str | None = None

    def render(self) -> str:
        prefix = {ParamKind.VAR_POSITIONAL: "*", ParamKind.VAR_KEYWORD: "**"}.get(self.kind, "")
        text = prefix + self.name
        if self.annotation:
            text += f": {self.annotation}"
        if self.default is not None:
            text += f" = {self.default}" if self.annotation else f"={self.default}"
        return text


@dataclass(frozen=True, slots=True)
class Deprecation:
    """A deprecation fact: what the code says about an API being deprecated."""

    message: str
    version: str | None = None
    replacement: str | None = None
    source: str = "decorator"  # decorator | warning | docstring


@dataclass(slots=True)
class Symbol:
    qualname: str
    name: str
    kind: SymbolKind
    module: str
    path: str
    line: int = 0
    end_line: int = 0
    parent: str | None = None
    signature: str | None = None
    params: list[Parameter] = field(default_factory=list)
    returns: str | None = None
    annotation: str | None = None
    value: str | None = None
    bases: list[str] = field(default_factory=list)
    decorators: list[str] = field(default_factory=list)
    doc: str | None = None
    target: str | None = None
    deprecation: Deprecation | None = None

    @property
    def metaclasses(self) -> list[str]:
        """A class's `metaclass=` keyword as written (kept among its decorators as a tag)."""
        return [tag[len(METACLASS):] for tag in self.decorators if tag.startswith(METACLASS)]

    @property
    def summary(self) -> str:
        """One line: the first line of the docstring."""
        if not self.doc:
            return ""
        return self.doc.strip().splitlines()[0].strip()


@dataclass(slots=True)
class Chunk:
    """A retrievable piece of text: a code definition or a section of docs."""

    path: str
    kind: str  # "code" | "docs"
    title: str
    text: str
    start_line: int
    end_line: int
    content_hash: str = ""
