"""What the expression before a `.` is, resolved from the index and the live buffer.

This is the fast path of static analysis: `self`/`cls`, module aliases, names annotated or
assigned from a constructor or from a call with a known return type, and attribute chains
over those. Anything it cannot prove is reported as unknown, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from tether.index.dynamic_attributes import first_parameter
from tether.index.lookups import SymbolLookup
from tether.index.models import DYNAMIC_ATTRIBUTES, Symbol, SymbolKind
from tether.index.parsing import class_path, parse, text, with_placeholder_line
from tether.index.receiver_syntax import (
    defined_in_function,
    enclosing_class,
    enclosing_function,
    local_binding,
    takes_the_class,
)
from tether.index.scope import bound_in_functions

_IDENT_TAIL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
_TYPE_WRAPPERS = ("Optional", "typing.Optional", "Final", "typing.Final", "ClassVar",
                  "typing.ClassVar", "Annotated", "typing.Annotated", "type", "Type",
                  "typing.Type")
_DYNAMIC_MEMBERS = ("__getattr__", "__getattribute__")


@dataclass(slots=True)
class Receiver:
    kind: str  # instance | class | module | unknown
    qualname: str = ""
    expression: str = ""
    members: list[Symbol] = field(default_factory=list)
    complete: bool = False  # every member is known (no external bases, no __getattr__)
    dynamic: bool = False  # instances get attributes set by computed names (`setattr`)
    enclosing: bool = False  # `self`/`cls` of the class the cursor is in

    @property
    def known(self) -> bool:
        return self.kind != "unknown"


def receiver_expression(line_prefix: str) -> str | None:
    """The expression whose member is being written at the end of `line_prefix`, or None
    when the cursor is not at a member-access position (`foo.ba|` → `foo`)."""
    head = _IDENT_TAIL.sub("", line_prefix)
    if not head.endswith(".") or head.endswith(".."):
        return None
    end = len(head) - 1
    start = end
    depth = 0
    while start > 0:
        char = head[start - 1]
        if char in ")]":
            depth += 1
        elif char in "([":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and not (char.isalnum() or char in "_."):
            break
        start -= 1
    expression = head[start:end].strip()
    if not expression or expression[0].isdigit() or expression.startswith("."):
        return None
    return expression


class ReceiverResolver:
    def __init__(self, lookup: SymbolLookup) -> None:
        self.lookup = lookup

    def resolve(self, module: str, source: str, line: int, character: int) -> Receiver | None:
        lines = source.split("\n")
        if line >= len(lines):
            return None
        expression = receiver_expression(lines[line][:character])
        if expression is None:
            return None
        stand_in, offset = with_placeholder_line(source, line)
        root = parse(stand_in.encode("utf-8", errors="surrogatepass")).root_node
        receiver = self._resolve_chain(module, root, offset, _split_chain(expression))
        receiver.expression = expression
        return receiver

    def _resolve_chain(self, module: str, root: Node, offset: int,
                       chain: list[tuple[str, bool]]) -> Receiver:
        if not chain:
            return Receiver("unknown")
        first, called = chain[0]
        current = self._resolve_first(module, root, offset, first)
        if called:
            current = self._call_result(current)
        for name, is_call in chain[1:]:
            current = self._member(current, name)
            if is_call:
                current = self._call_result(current)
        return current

    def _resolve_first(self, module: str, root: Node, offset: int, name: str) -> Receiver:
        scope = enclosing_function(root, offset)
        if name in ("self", "cls") and scope is not None:
            cls = enclosing_class(scope)
            if cls is not None and defined_in_function(cls):
                return Receiver("unknown")  # not indexed (jsonschema's `create()` builds one)
            if cls is not None:
                qualname = f"{module}.{class_path(cls)}"
                kind = "instance" if name == "self" or (
                    self.lookup.is_metaclass(qualname) and not takes_the_class(scope)) \
                    else "class"
                receiver = self._class_receiver(qualname, kind)
                receiver.enclosing = True
                return receiver
        if scope is not None and name not in ("self", "cls") \
                and self._rewrapped_by_metaclass(module, scope, name):
            return Receiver("unknown", dynamic=True)
        if scope is not None:
            annotation, value = local_binding(scope, name, offset)
            if annotation:
                return self._from_annotation(module, annotation)
            if value is not None:
                return self._from_value(module, value, root, offset)
            if bound_in_functions(root, offset, name):
                return Receiver("unknown")  # a parameter, loop variable, `with … as` name…
        annotation, value = local_binding(root, name, offset, module_level=True)
        symbol = self.lookup.resolve_in_module(module, name)
        if symbol is not None and _set_at_run_time(symbol):
            return Receiver("unknown", symbol.qualname, dynamic=True)  # `setattr(codes, ...)`
        if annotation:
            return self._from_annotation(module, annotation)
        if value is not None:
            return self._from_value(module, value, root, offset)
        if symbol is None:
            target = self._import_target(module, name)
            return self._module_receiver(target) if target else Receiver("unknown")
        return self._from_symbol(symbol)

    def _rewrapped_by_metaclass(self, module: str, function: Node, name: str) -> bool:
        """`name` is the first parameter of an undecorated method not calling it `self`, in
        a class made by a metaclass: such a metaclass may rewrap the method (pygments'
        `def analyse_text(text)` becomes a staticmethod), so the parameter may be anything."""
        if first_parameter(function) != name or function.parent is None \
                or function.parent.type == "decorated_definition":
            return False
        owner = enclosing_class(function)
        return owner is not None and any(
            ancestor.metaclasses
            for ancestor in self.lookup.mro(f"{module}.{class_path(owner)}"))

    def _import_target(self, module: str, name: str) -> str | None:
        for symbol in self.lookup.by_qualname(f"{module}.{name}"):
            if symbol.kind == SymbolKind.IMPORT and symbol.target:
                return symbol.value if symbol.value and name == symbol.target else symbol.target
        return None

    def _from_symbol(self, symbol: Symbol) -> Receiver:
        if symbol.kind == SymbolKind.CLASS:
            return self._class_receiver(symbol.qualname, "class")
        if symbol.kind == SymbolKind.MODULE:
            return self._module_receiver(symbol.qualname)
        if symbol.kind == SymbolKind.IMPORT and symbol.target:
            return self._module_receiver(symbol.target)
        if symbol.kind in (SymbolKind.FUNCTION, SymbolKind.METHOD):
            return Receiver("callable", symbol.qualname)
        if _set_at_run_time(symbol):
            return Receiver("unknown", symbol.qualname, dynamic=True)
        type_text = symbol.returns if symbol.kind == SymbolKind.PROPERTY else symbol.annotation
        if type_text:
            return self._from_annotation(symbol.module, type_text)
        if symbol.value:
            constructor = _constructor_name(symbol.value)
            if constructor:
                return self._call_result(self._from_name(symbol.module, constructor))
        return Receiver("unknown", symbol.qualname)

    def _from_name(self, module: str, dotted: str) -> Receiver:
        symbol = self.lookup.resolve_in_module(module, dotted)
        if symbol is None:
            return Receiver("unknown")
        return self._from_symbol(symbol)

    def _from_annotation(self, module: str, annotation: str) -> Receiver:
        type_name = _plain_type(annotation)
        if type_name is None:
            return Receiver("unknown")
        receiver = self._from_name(module, type_name)
        if receiver.kind == "class":
            return self._class_receiver(receiver.qualname, "instance")
        return Receiver("unknown", receiver.qualname)

    def _from_value(self, module: str, value: Node, root: Node, offset: int) -> Receiver:
        # Names in an assigned value mean what they meant before that assignment
        # (`name = name.strip()`), which also keeps resolution from chasing itself.
        offset = min(offset, value.start_byte)
        if value.type == "call":
            function = value.child_by_field_name("function")
            chain = _split_chain(text(function)) if function is not None else []
            if chain:
                return self._call_result(self._resolve_chain(module, root, offset, chain))
        if value.type in ("identifier", "attribute"):
            return self._resolve_chain(module, root, offset, _split_chain(text(value)))
        return Receiver("unknown")

    def _call_result(self, receiver: Receiver) -> Receiver:
        if receiver.kind == "class":
            return self._class_receiver(receiver.qualname, "instance")
        if receiver.kind == "callable":
            symbols = self.lookup.by_qualname(receiver.qualname)
            if symbols and symbols[0].returns:
                returns = symbols[0].returns
                if returns in ("Self", "typing.Self", "typing_extensions.Self") and symbols[
                        0].parent:
                    return self._class_receiver(symbols[0].parent, "instance")
                return self._from_annotation(symbols[0].module, returns)
        return Receiver("unknown")

    def _member(self, receiver: Receiver, name: str) -> Receiver:
        if receiver.kind == "module":
            symbol = self.lookup.resolve(f"{receiver.qualname}.{name}")
            if symbol is None and f"{receiver.qualname}.{name}" in self.lookup.submodules(
                    receiver.qualname):
                return self._module_receiver(f"{receiver.qualname}.{name}")
            return self._from_symbol(symbol) if symbol else Receiver("unknown")
        if receiver.kind in ("instance", "class"):
            member = self.lookup.member(receiver.qualname, name)
            if member is None:
                return Receiver("unknown")
            if member.kind in (SymbolKind.METHOD, SymbolKind.FUNCTION):
                return Receiver("callable", member.qualname)
            return self._from_symbol(member)
        return Receiver("unknown")

    def _class_receiver(self, qualname: str, kind: str) -> Receiver:
        members = self.lookup.class_members(qualname)
        if not members and not self.lookup.by_qualname(qualname):
            return Receiver("unknown", qualname)
        dynamic = any(m.name in _DYNAMIC_MEMBERS for m in members)
        complete = not dynamic and not self.lookup.unresolved_bases(qualname)
        if kind == "class":
            members = [m for m in members if "instance" not in m.decorators]
        if any(DYNAMIC_ATTRIBUTES in m.decorators for m in members) \
                or self.lookup.gets_attributes_set(qualname) \
                or (kind == "instance" and self.lookup.is_metaclass(qualname)):
            # a metaclass's instances are classes, each with attributes of its own
            return Receiver(kind, qualname, members=members, dynamic=True)
        return Receiver(kind, qualname, members=members, complete=complete)

    def type_names_dynamic(self, type_text: str) -> bool:
        """Whether a type as pyright prints it (`Options | None`, `list[Options]`) names a
        repository class whose instances or class get attributes by computed names."""
        for name in set(re.findall(r"[A-Za-z_]\w*", type_text)):
            # `type[Meta]` is the metaclass itself, `Meta` one of the classes it makes
            kind = "class" if re.search(rf"\btype\[[^\]]*\b{name}\b", type_text) \
                else "instance"
            for symbol in self.lookup.by_name(name):
                if symbol.kind == SymbolKind.CLASS \
                        and self._class_receiver(symbol.qualname, kind).dynamic:
                    return True
        return False

    def _module_receiver(self, module: str) -> Receiver:
        exports = self.lookup.module_exports(module, public_only=False, respect_all=False)
        submodules = self.lookup.submodules(module)
        if not exports and not submodules and self.lookup.store.module_info(module) is None:
            return Receiver("unknown", module)
        has_getattr = any(s.name == "__getattr__" for s in exports)
        members = [s for s in exports if s.name != "__getattr__"]
        known = {s.name for s in members}
        for sub in submodules:
            short = sub.rsplit(".", 1)[-1]
            if short not in known:
                members.append(Symbol(qualname=sub, name=short, kind=SymbolKind.MODULE,
                                      module=sub, path=""))
        return Receiver("module", module, members=members, complete=not has_getattr)


def _set_at_run_time(symbol: Symbol) -> bool:
    """A module-level object that gets attributes at run time (index.dynamic_attributes)."""
    return symbol.kind == SymbolKind.VARIABLE and DYNAMIC_ATTRIBUTES in symbol.decorators


def _split_chain(expression: str) -> list[tuple[str, bool]]:
    """`a.b().c` → [("a", False), ("b", True), ("c", False)]; subscripts make it unknown."""
    parts: list[tuple[str, bool]] = []
    for raw in _top_level_split(expression):
        called = raw.endswith(")")
        name = raw.split("(", 1)[0].strip()
        if not name.isidentifier() or "[" in raw:
            return []
        parts.append((name, called))
    return parts


def _top_level_split(expression: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in expression:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "." and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _plain_type(annotation: str) -> str | None:
    value = annotation.strip().strip("'\"")
    if "|" in value:
        options = [part.strip() for part in value.split("|") if part.strip() != "None"]
        if len(options) != 1:
            return None
        value = options[0]
    while "[" in value:
        outer, _, inner = value.partition("[")
        if outer.strip() in _TYPE_WRAPPERS:
            value = inner.rsplit("]", 1)[0].split(",")[0].strip().strip("'\"")
        else:
            value = outer.strip()
    return value if value.replace(".", "").replace("_", "").isalnum() else None


def _constructor_name(value: str) -> str | None:
    match = re.match(r"^([A-Za-z_][A-Za-z0-9_.]*)\(", value)
    return match.group(1) if match else None
