"""Static questions about a live buffer, answered from the index: what a name refers to
(hover), which uses are deprecated and how to fix them (diagnostics, quick fixes), and which
members are legal after `x.` (identifier completions).

No LSP types: positions are (line, UTF-16 column), as editors count them; out-of-range
positions are clamped. Nothing here guesses: an unresolved name yields nothing.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from functools import cached_property

from tree_sitter import Node

from tether.index.lookups import SymbolLookup
from tether.index.models import Symbol, SymbolKind
from tether.index.parsing import parse, text, walk
from tether.index.receiver import Receiver, ReceiverResolver
from tether.index.scope import names_in_scope
from tether.index.text_positions import byte_to_index, utf16_column, utf16_to_index
from tether.index.workspace import WorkspaceIndex

IMPORT_NODES = ("import_statement", "import_from_statement", "future_import_statement")
DEFINITION_NODES = ("function_definition", "class_definition")
LOCAL_SCOPES = ("local", "parameter", "enclosing", "class")


@dataclass(frozen=True, slots=True)
class Span:
    """A range of a buffer in (line, UTF-16 column) coordinates, end exclusive."""

    start_line: int
    start_char: int
    end_line: int
    end_char: int


@dataclass(frozen=True, slots=True)
class MemberCompletion:
    name: str
    kind: str  # a SymbolKind value
    qualname: str
    signature: str | None = None
    doc: str | None = None
    deprecated: bool = False
    replacement: str | None = None
    deprecation_message: str | None = None


# -- positions ----------------------------------------------------------------------------


class Buffer:
    def __init__(self, source: str) -> None:
        self.source = source
        self.lines = source.split("\n")

    @cached_property
    def root(self) -> Node:
        return parse(self.source.encode("utf-8", errors="surrogatepass")).root_node

    def clamp(self, line: int, character: int) -> tuple[int, int]:
        """(line, str index) of an LSP position, clamped into the buffer."""
        line = max(0, min(line, len(self.lines) - 1))
        return line, utf16_to_index(self.lines[line], max(0, character))

    def offset(self, line: int, column: int) -> int:
        return len("\n".join([*self.lines[:line], self.lines[line][:column]]).encode(
            "utf-8", "surrogatepass"))

    def column(self, row: int, byte_column: int, utf16: bool = False) -> int:
        """The str index (or UTF-16 column) of a tree-sitter (row, byte column) point."""
        index = byte_to_index(self.lines[row], byte_column)
        return utf16_column(self.lines[row], index) if utf16 else index

    def span(self, node: Node, start: Node | None = None) -> Span:
        first = start or node
        return Span(first.start_point[0], self.column(*first.start_point, utf16=True),
                    node.end_point[0], self.column(*node.end_point, utf16=True))

    @cached_property
    def imports(self) -> dict[str, str]:
        """Local name → the dotted name it imports, for the buffer's absolute imports."""
        found: dict[str, str] = {}
        for node in walk(self.root):
            if node.type not in ("import_statement", "import_from_statement"):
                continue
            source = text(node.child_by_field_name("module_name"))
            for item in node.children_by_field_name("name"):
                aliased = item.type == "aliased_import"
                name = text(item.child_by_field_name("name") if aliased else item)
                if aliased:
                    alias = text(item.child_by_field_name("alias"))
                    found[alias] = f"{source}.{name}" if source else name
                else:
                    local = name.split(".")[-1 if source else 0]
                    found[local] = f"{source}.{name}" if source else local
        return found

    def scope_of(self, node: Node) -> str | None:
        """Where the name `node` spells is bound, seen from `node` (index.scope labels)."""
        name, row = text(node), node.start_point[0]
        found = names_in_scope(self.source, row, self.column(*node.start_point))
        return next((n.scope for n in found if n.name == name), None)


# -- hover --------------------------------------------------------------------------------


def symbol_at(index: WorkspaceIndex, module: str, text_: str, line: int,
              char: int) -> Symbol | None:
    """The definition the name under (or just before) the cursor refers to: local names,
    imports, dotted attribute chains, `self.x`; a dependency's deprecation record when the
    name comes from a third-party module the index knows a deprecation of."""
    buffer = Buffer(text_)
    row, column = buffer.clamp(line, char)
    node = _identifier_at(buffer.root, buffer.offset(row, column))
    if node is None:
        return None
    lookup = index.lookup
    statement = ancestor(node, IMPORT_NODES)
    if statement is not None:
        return _import_symbol(lookup, module, statement, node)
    parent = node.parent
    if parent is not None and parent.type == "attribute" and is_attribute_name(node):
        return member_symbol(lookup, module, buffer, node)
    if parent is not None and parent.type in DEFINITION_NODES and is_field(parent, "name", node):
        return _definition_symbol(lookup, module, node)
    return _name_symbol(lookup, module, buffer, node)


def _identifier_at(root: Node, offset: int) -> Node | None:
    """The identifier under the cursor, or the one just before it."""
    for probe in (offset, max(0, offset - 1)):
        node = root.descendant_for_byte_range(probe, probe)
        if node is not None and node.type == "identifier" and (
                node.start_byte <= offset <= node.end_byte):
            return node
    return None


def ancestor(node: Node, types: tuple[str, ...]) -> Node | None:
    """The nearest enclosing node of one of `types` within the same statement."""
    current = node.parent
    while current is not None and current.type not in ("block", "module"):
        if current.type in types:
            return current
        current = current.parent
    return None


def is_field(parent: Node, field: str, node: Node) -> bool:
    return (child := parent.child_by_field_name(field)) is not None and child.id == node.id


def is_attribute_name(node: Node) -> bool:
    return node.parent is not None and is_field(node.parent, "attribute", node)


def _import_symbol(lookup: SymbolLookup, module: str, statement: Node,
                   node: Node) -> Symbol | None:
    module_part = statement.child_by_field_name("module_name")
    package = _is_package(lookup, module)
    source = _absolute_module(module, text(module_part), package) if module_part else ""
    if module_part is not None and module_part.start_byte <= node.start_byte < (
            module_part.end_byte):
        return _first(lookup.by_qualname(source))
    item = node.parent
    if item is not None and item.type == "dotted_name" and item.parent is not None and (
            item.parent.type == "aliased_import"):
        item = item.parent
    if item is None or item.type not in ("aliased_import", "dotted_name"):
        return None
    aliased = item.type == "aliased_import"
    original = text(item.child_by_field_name("name") if aliased else item)
    if statement.type == "import_statement":
        parts = original.split(".")
        dotted = ".".join(parts[: parts.index(text(node)) + 1]) if text(node) in parts else (
            original)
        return _first(lookup.by_qualname(dotted)) or lookup.external_deprecation(dotted)
    local = text(item.child_by_field_name("alias")) if aliased else original.split(".")[-1]
    target = f"{source}.{original}" if source else original
    return lookup.resolve(f"{module}.{local}") or lookup.resolve(
        target) or lookup.external_deprecation(target)


def _is_package(lookup: SymbolLookup, module: str) -> bool:
    rows = lookup.store.query("SELECT path FROM files WHERE module = ? LIMIT 1", (module,))
    return bool(rows) and rows[0]["path"].rsplit("/", 1)[-1].startswith("__init__.")


def _absolute_module(module: str, written: str, is_package: bool) -> str:
    """The absolute name of a (possibly relative) module in an import of `module`."""
    dots = len(written) - len(written.lstrip("."))
    if not dots:
        return written
    base = module.split(".")
    anchor = base[: max(0, len(base) - dots + (1 if is_package else 0))]
    rest = written[dots:]
    return ".".join([*anchor, rest] if rest else anchor)


def member_symbol(lookup: SymbolLookup, module: str, buffer: Buffer,
                   node: Node) -> Symbol | None:
    receiver = _receiver_before(lookup, module, buffer, node)
    name = text(node)
    found = _member_of(lookup, receiver, name) if receiver is not None else None
    if found is not None:
        return found
    obj = node.parent.child_by_field_name("object") if node.parent is not None else None
    dotted = _dotted(obj)
    return resolve_written(lookup, module, buffer, f"{dotted}.{name}") if dotted else None


def _receiver_before(lookup: SymbolLookup, module: str, buffer: Buffer,
                     node: Node) -> Receiver | None:
    row, column = node.start_point[0], buffer.column(*node.start_point)
    try:
        return ReceiverResolver(lookup).resolve(module, buffer.source, row, column)
    except Exception:  # analysis answers "unknown" rather than failing a request
        return None


def _member_of(lookup: SymbolLookup, receiver: Receiver, name: str) -> Symbol | None:
    if receiver.kind == "module":
        return lookup.resolve(f"{receiver.qualname}.{name}")
    if receiver.kind in ("instance", "class"):
        member = lookup.member(receiver.qualname, name)
        if member is not None and member.kind == SymbolKind.IMPORT:
            return lookup.resolve(member.qualname) or member
        return member
    return None


def _definition_symbol(lookup: SymbolLookup, module: str, node: Node) -> Symbol | None:
    row = node.parent.start_point[0] if node.parent is not None else node.start_point[0]
    candidates = [s for s in lookup.by_name(text(node), 200) if s.module == module]
    exact = [s for s in candidates if s.line == row]
    return _first(exact or candidates)


def _name_symbol(lookup: SymbolLookup, module: str, buffer: Buffer,
                 node: Node) -> Symbol | None:
    name = text(node)
    scope = buffer.scope_of(node)
    if scope == "builtin":
        return None
    if scope in LOCAL_SCOPES or name in ("self", "cls"):
        receiver = _receiver_of_name(lookup, module, buffer, node)
        if receiver is not None and receiver.known and receiver.qualname:
            return lookup.resolve(receiver.qualname) or _first(
                lookup.by_qualname(receiver.qualname))
        if scope != "class":
            return None
    return resolve_written(lookup, module, buffer, name)


def _receiver_of_name(lookup: SymbolLookup, module: str, buffer: Buffer,
                      node: Node) -> Receiver | None:
    """What a local name holds, asked the way completion asks: as if `name.` were typed."""
    row, column = node.end_point[0], buffer.column(*node.end_point)
    lines = list(buffer.lines)
    lines[row] = lines[row][:column] + "."
    try:
        return ReceiverResolver(lookup).resolve(module, "\n".join(lines), row, column + 1)
    except Exception:  # analysis answers "unknown" rather than failing a request
        return None


def _first(symbols: list[Symbol]) -> Symbol | None:
    return symbols[0] if symbols else None


def _dotted(node: Node | None) -> str:
    """`a.b.c` for a chain of plain names, else ""."""
    if node is None:
        return ""
    if node.type == "identifier":
        return text(node)
    if node.type == "attribute":
        obj = _dotted(node.child_by_field_name("object"))
        attr = node.child_by_field_name("attribute")
        return f"{obj}.{text(attr)}" if obj and attr is not None else ""
    return ""


def resolve_written(lookup: SymbolLookup, module: str, buffer: Buffer,
                     dotted: str) -> Symbol | None:
    """A dotted name as written in the module; for a third-party import, its deprecation."""
    found = lookup.resolve_in_module(module, dotted)
    if found is not None:
        return found
    head, _, rest = dotted.partition(".")
    target = buffer.imports.get(head)
    return lookup.external_deprecation(f"{target}.{rest}" if rest else target) if (
        target) else None



# -- member completions -------------------------------------------------------------------


def member_completions(index: WorkspaceIndex, module: str, text_: str, line: int,
                       char: int) -> list[MemberCompletion]:
    """The members legal after `receiver.` at the cursor (nothing when the cursor is not at
    a member access or the receiver is unknown), nearest definition first."""
    buffer = Buffer(text_)
    row, column = buffer.clamp(line, char)
    lookup = index.lookup
    try:
        receiver = ReceiverResolver(lookup).resolve(module, text_, row, column)
    except Exception:  # analysis answers "unknown" rather than failing a request
        return []
    if receiver is None or not receiver.known or receiver.kind == "callable":
        return []
    typed = re.search(r"\w*$", buffer.lines[row][:column]).group()  # type: ignore[union-attr]
    own = receiver.expression in ("self", "cls")
    completions: list[MemberCompletion] = []
    seen: set[str] = set()
    for member in receiver.members:
        name = member.name
        if name in seen or not name.isidentifier() or keyword.iskeyword(name):
            continue
        if name.startswith("__") and not typed.startswith("_"):
            continue
        if name.startswith("_") and not (own or typed.startswith("_")):
            continue
        seen.add(name)
        resolved = member
        if member.kind == SymbolKind.IMPORT:
            resolved = lookup.resolve(member.qualname) or member
        completions.append(_member_completion(name, resolved))
    return completions


def _member_completion(name: str, symbol: Symbol) -> MemberCompletion:
    dep = symbol.deprecation
    signature = symbol.signature
    if symbol.kind == SymbolKind.PROPERTY:
        signature = f": {symbol.returns}" if symbol.returns else None
    elif signature is None and symbol.annotation:
        signature = f": {symbol.annotation}"
    return MemberCompletion(name=name, kind=symbol.kind.value, qualname=symbol.qualname,
                            signature=signature, doc=symbol.doc, deprecated=dep is not None,
                            replacement=dep.replacement if dep else None,
                            deprecation_message=dep.message if dep else None)
