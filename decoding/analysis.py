"""Static questions about a live buffer, answered from the index: what a name refers to
(hover), which uses are deprecated and how to fix them (diagnostics, quick fixes), and which
members are legal after `x.` (identifier completions).

No LSP types: positions are (line, UTF-16 column), as editors count them; out-of-range
positions are clamped. Nothing here guesses: an unresolved name yields nothing.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterator
from dataclasses import dataclass

from tree_sitter import Node

from decoding.prompt_window import utf16_to_index
from decoding.receiver import Receiver, ReceiverResolver
from index.lookups import SymbolLookup
from index.models import Symbol, SymbolKind
from index.parsing import parse, text
from index.scope import names_in_scope
from index.workspace import WorkspaceIndex

MAX_RESOLUTIONS = 400  # receiver resolutions per diagnostics pass (each parses the buffer)
_IMPORTS = ("import_statement", "import_from_statement", "future_import_statement")
_DEFINITIONS = ("function_definition", "class_definition")
_LOCAL_SCOPES = ("local", "parameter", "enclosing", "class")


@dataclass(frozen=True, slots=True)
class Span:
    """A range of a buffer in (line, UTF-16 column) coordinates, end exclusive."""

    start_line: int
    start_char: int
    end_line: int
    end_char: int


@dataclass(frozen=True, slots=True)
class DeprecatedUse:
    range: Span  # the deprecated name as written
    qualname: str
    message: str
    replacement: str | None = None
    version: str | None = None
    expression: Span | None = None  # the whole dotted expression ending in the name
    attribute: bool = False  # written as `receiver.name`
    external: bool = False  # a dependency's deprecation, not the repository's


@dataclass(frozen=True, slots=True)
class TextEdit:
    range: Span
    new_text: str


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


class _Buffer:
    def __init__(self, source: str) -> None:
        self.source = source
        self.lines = source.split("\n")
        self.encoded = source.encode("utf-8", errors="surrogatepass")
        self._root: Node | None = None

    @property
    def root(self) -> Node:
        if self._root is None:
            self._root = parse(self.encoded).root_node
        return self._root

    def clamp(self, line: int, character: int) -> tuple[int, int]:
        """(line, str index) of an LSP position, clamped into the buffer."""
        line = max(0, min(line, len(self.lines) - 1))
        return line, utf16_to_index(self.lines[line], max(0, character))

    def offset(self, line: int, column: int) -> int:
        before = sum(len(row.encode("utf-8", "surrogatepass")) + 1 for row in self.lines[:line])
        return before + len(self.lines[line][:column].encode("utf-8", "surrogatepass"))

    def column(self, row: int, byte_column: int) -> int:
        """The str index of a tree-sitter (row, byte column) point."""
        raw = self.lines[row].encode("utf-8", "surrogatepass")[:byte_column]
        return len(raw.decode("utf-8", "surrogatepass"))

    def utf16(self, row: int, byte_column: int) -> int:
        raw = self.lines[row].encode("utf-8", "surrogatepass")[:byte_column]
        return len(raw.decode("utf-8", "surrogatepass").encode("utf-16-le", "surrogatepass")) // 2

    def span(self, node: Node, start: Node | None = None) -> Span:
        first = start or node
        return Span(first.start_point[0], self.utf16(*first.start_point),
                    node.end_point[0], self.utf16(*node.end_point))


# -- hover --------------------------------------------------------------------------------


def symbol_at(index: WorkspaceIndex, module: str, text_: str, line: int,
              char: int) -> Symbol | None:
    """The definition the name under (or just before) the cursor refers to: local names,
    imports, dotted attribute chains, `self.x`; a dependency's deprecation record when the
    name comes from a third-party module the index knows a deprecation of."""
    buffer = _Buffer(text_)
    row, column = buffer.clamp(line, char)
    node = _identifier_at(buffer.root, buffer.offset(row, column))
    if node is None:
        return None
    lookup = index.lookup
    statement = _ancestor(node, _IMPORTS)
    if statement is not None:
        return _import_symbol(lookup, module, statement, node)
    parent = node.parent
    if parent is not None and parent.type == "attribute" and _is_attribute_name(node):
        return _member_symbol(lookup, module, buffer, node)
    if parent is not None and parent.type in _DEFINITIONS and _is_field(parent, "name", node):
        return _definition_symbol(lookup, module, node)
    return _name_symbol(lookup, module, buffer, node)


def _identifier_at(root: Node, offset: int) -> Node | None:
    for probe in (offset, offset - 1):
        if probe < 0:
            continue
        node = root.descendant_for_byte_range(probe, probe)
        if node is not None and node.type == "identifier" and (
                node.start_byte <= offset <= node.end_byte):
            return node
    return None


def _ancestor(node: Node, types: tuple[str, ...]) -> Node | None:
    current = node.parent
    while current is not None:
        if current.type in types:
            return current
        if current.type in ("block", "module"):
            return None
        current = current.parent
    return None


def _is_field(parent: Node, field: str, node: Node) -> bool:
    child = parent.child_by_field_name(field)
    return child is not None and child.id == node.id


def _is_attribute_name(node: Node) -> bool:
    return node.parent is not None and _is_field(node.parent, "attribute", node)


def _import_symbol(lookup: SymbolLookup, module: str, statement: Node,
                   node: Node) -> Symbol | None:
    module_part = statement.child_by_field_name("module_name")
    if module_part is not None and module_part.start_byte <= node.start_byte < (
            module_part.end_byte):
        absolute = _absolute_module(module, text(module_part), _is_package(lookup, module))
        return _first(lookup.by_qualname(absolute)) if absolute else None
    item = node.parent
    while item is not None and item.type not in ("aliased_import", "dotted_name"):
        item = item.parent
    if item is None:
        return None
    if item.type == "dotted_name" and item.parent is not None and (
            item.parent.type == "aliased_import"):
        item = item.parent
    original = text(item.child_by_field_name("name") if item.type == "aliased_import" else item)
    alias = text(item.child_by_field_name("alias")) if item.type == "aliased_import" else ""
    if statement.type == "import_statement":
        parts = original.split(".")
        upto = parts[: parts.index(text(node)) + 1] if text(node) in parts else parts
        dotted = ".".join(upto) if not alias or text(node) != alias else original
        return _first(lookup.by_qualname(dotted)) or lookup.external_deprecation(dotted)
    local = alias or original.split(".")[-1]
    absolute = _absolute_module(module, text(module_part), _is_package(lookup, module)) if (
        module_part is not None) else ""
    target = f"{absolute}.{original}" if absolute else original
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


def _member_symbol(lookup: SymbolLookup, module: str, buffer: _Buffer,
                   node: Node) -> Symbol | None:
    receiver = _receiver_before(lookup, module, buffer, node)
    name = text(node)
    found = _member_of(lookup, receiver, name) if receiver is not None else None
    if found is not None:
        return found
    obj = node.parent.child_by_field_name("object") if node.parent is not None else None
    dotted = _dotted(obj)
    if not dotted:
        return None
    qualname = f"{dotted}.{name}"
    resolved = lookup.resolve_in_module(module, qualname)
    if resolved is not None:
        return resolved
    absolute = _external_name(buffer, module, qualname)
    return lookup.external_deprecation(absolute) if absolute else None


def _receiver_before(lookup: SymbolLookup, module: str, buffer: _Buffer,
                     node: Node) -> Receiver | None:
    row = node.start_point[0]
    column = buffer.column(row, node.start_point[1])
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


def _name_symbol(lookup: SymbolLookup, module: str, buffer: _Buffer,
                 node: Node) -> Symbol | None:
    name = text(node)
    row, column = node.start_point[0], buffer.column(*node.start_point)
    scope = next((n.scope for n in names_in_scope(buffer.source, row, column)
                  if n.name == name), None)
    if scope == "builtin":
        return None
    if scope in _LOCAL_SCOPES or name in ("self", "cls"):
        receiver = _receiver_of_name(lookup, module, buffer, node)
        if receiver is not None and receiver.known and receiver.qualname:
            return lookup.resolve(receiver.qualname) or _first(
                lookup.by_qualname(receiver.qualname))
        if scope != "class":
            return None
    resolved = lookup.resolve_in_module(module, name)
    if resolved is not None:
        return resolved
    absolute = _external_name(buffer, module, name)
    return lookup.external_deprecation(absolute) if absolute else None


def _receiver_of_name(lookup: SymbolLookup, module: str, buffer: _Buffer,
                      node: Node) -> Receiver | None:
    """What a local name holds, asked the way completion asks: as if `name.` were typed."""
    row = node.end_point[0]
    column = buffer.column(row, node.end_point[1])
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


# -- imports of the buffer ----------------------------------------------------------------


def _import_map(buffer: _Buffer, module: str, is_package: bool) -> dict[str, str]:
    """Local name → absolute dotted name, for every import of the buffer (any depth)."""
    found: dict[str, str] = {}
    for node in _walk(buffer.root):
        if node.type == "import_statement":
            for item in node.children_by_field_name("name"):
                if item.type == "aliased_import":
                    found[text(item.child_by_field_name("alias"))] = text(
                        item.child_by_field_name("name"))
                else:
                    head = text(item).split(".")[0]
                    found[head] = head
        elif node.type == "import_from_statement":
            source = _absolute_module(module, text(node.child_by_field_name("module_name")),
                                      is_package)
            for item in node.children_by_field_name("name"):
                if item.type == "aliased_import":
                    original = text(item.child_by_field_name("name"))
                    found[text(item.child_by_field_name("alias"))] = f"{source}.{original}"
                else:
                    found[text(item).split(".")[-1]] = f"{source}.{text(item)}"
    return found


def _external_name(buffer: _Buffer, module: str, dotted: str) -> str | None:
    head, _, rest = dotted.partition(".")
    target = _import_map(buffer, module, False).get(head)
    if target is None:
        return None
    return f"{target}.{rest}" if rest else target


def _walk(root: Node) -> Iterator[Node]:
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


# -- deprecations -------------------------------------------------------------------------


def deprecated_uses(index: WorkspaceIndex, module: str, text_: str) -> list[DeprecatedUse]:
    """Uses (calls, attribute accesses, references) of deprecated repository symbols and of
    the dependencies' deprecated APIs recorded in the index, in buffer order."""
    lookup = index.lookup
    repo = {s.name for s in lookup.deprecated_symbols()}
    external = {row["qualname"].rsplit(".", 1)[-1] for row in lookup.store.query(
        "SELECT qualname FROM external_deprecations")}
    candidates = repo | external
    if not candidates:
        return []
    buffer = _Buffer(text_)
    imports = _import_map(buffer, module, False)  # relative imports are never external
    uses: list[DeprecatedUse] = []
    budget = MAX_RESOLUTIONS
    for node in _walk(buffer.root):
        if node.type != "identifier" or text(node) not in candidates or budget <= 0:
            continue
        if _ancestor(node, _IMPORTS) is not None or _is_declaration(node):
            continue
        budget -= 1
        use = _deprecated_use(lookup, module, buffer, imports, node)
        if use is not None:
            uses.append(use)
    uses.sort(key=lambda u: (u.range.start_line, u.range.start_char))
    return uses


def _is_declaration(node: Node) -> bool:
    parent = node.parent
    if parent is None:
        return False
    if parent.type in _DEFINITIONS and _is_field(parent, "name", node):
        return True
    if parent.type == "keyword_argument" and _is_field(parent, "name", node):
        return True
    return parent.type in ("parameters", "typed_parameter", "default_parameter",
                           "typed_default_parameter")


def _deprecated_use(lookup: SymbolLookup, module: str, buffer: _Buffer,
                    imports: dict[str, str], node: Node) -> DeprecatedUse | None:
    name = text(node)
    attribute = _is_attribute_name(node)
    symbol: Symbol | None = None
    dotted = name
    if attribute:
        obj = node.parent.child_by_field_name("object") if node.parent is not None else None
        receiver = _receiver_before(lookup, module, buffer, node)
        if receiver is not None and receiver.known:
            symbol = _member_of(lookup, receiver, name)
        prefix = _dotted(obj)
        dotted = f"{prefix}.{name}" if prefix else ""
    else:
        row, column = node.start_point[0], buffer.column(*node.start_point)
        scope = next((n.scope for n in names_in_scope(buffer.source, row, column)
                      if n.name == name), None)
        if scope in _LOCAL_SCOPES or scope == "builtin":
            return None
        symbol = lookup.resolve_in_module(module, name)
    external = False
    if (symbol is None or symbol.deprecation is None) and dotted:
        head, _, rest = dotted.partition(".")
        if head in imports:
            target = f"{imports[head]}.{rest}" if rest else imports[head]
            found = lookup.external_deprecation(target)
            if found is not None:
                symbol, external = found, True
    if symbol is None or symbol.deprecation is None:
        return None
    dep = symbol.deprecation
    top = node.parent if attribute and node.parent is not None else node
    start = top
    while start.type == "attribute" and (inner := start.child_by_field_name("object")) and (
            inner.type in ("attribute", "identifier")):
        start = inner
    return DeprecatedUse(range=buffer.span(node), qualname=symbol.qualname, message=dep.message,
                         replacement=dep.replacement, version=dep.version,
                         expression=buffer.span(top, start), attribute=attribute,
                         external=external)


def replacement_edit(use: DeprecatedUse, text_: str) -> TextEdit | None:
    """The edit that rewrites a deprecated use to its replacement, when that is safe:
    a sibling member or function keeps the receiver and changes the name
    (`cart.add(x)` → `cart.add_item(x)`); otherwise the qualified replacement, when its
    first component (or its own name) is bound in the buffer's scope."""
    replacement = (use.replacement or "").strip().removesuffix("()")
    if not replacement or not all(p.isidentifier() for p in replacement.split(".")):
        return None
    last = replacement.rsplit(".", 1)[-1]
    replacement_parent = replacement.rpartition(".")[0]
    deprecated_parent = use.qualname.rpartition(".")[0]
    sibling = not replacement_parent or replacement_parent == deprecated_parent or (
        deprecated_parent.endswith("." + replacement_parent))
    if sibling and use.attribute:
        return TextEdit(use.range, last)
    buffer = _Buffer(text_)
    row, column = buffer.clamp(use.range.start_line, use.range.start_char)
    visible = {n.name: n.scope for n in names_in_scope(text_, row, column)}
    if visible.get(last) in ("module", "import") and (sibling or "." not in replacement):
        return TextEdit(use.expression or use.range, last)
    head = replacement.split(".")[0]
    if "." in replacement and visible.get(head) == "import":
        return TextEdit(use.expression or use.range, replacement)
    return None


# -- member completions -------------------------------------------------------------------


def member_completions(index: WorkspaceIndex, module: str, text_: str, line: int,
                       char: int) -> list[MemberCompletion]:
    """The members legal after `receiver.` at the cursor (nothing when the cursor is not at
    a member access or the receiver is unknown), nearest definition first."""
    buffer = _Buffer(text_)
    row, column = buffer.clamp(line, char)
    lookup = index.lookup
    try:
        receiver = ReceiverResolver(lookup).resolve(module, text_, row, column)
    except Exception:  # analysis answers "unknown" rather than failing a request
        return []
    if receiver is None or not receiver.known or receiver.kind == "callable":
        return []
    typed = _typed_identifier(buffer.lines[row][:column])
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
    if signature is None and symbol.annotation:
        signature = f": {symbol.annotation}"
    elif signature is None and symbol.kind == SymbolKind.PROPERTY and symbol.returns:
        signature = f": {symbol.returns}"
    return MemberCompletion(name=name, kind=symbol.kind.value, qualname=symbol.qualname,
                            signature=signature, doc=symbol.doc, deprecated=dep is not None,
                            replacement=dep.replacement if dep else None,
                            deprecation_message=dep.message if dep else None)


def _typed_identifier(line_prefix: str) -> str:
    end = len(line_prefix)
    start = end
    while start > 0 and (line_prefix[start - 1].isalnum() or line_prefix[start - 1] == "_"):
        start -= 1
    return line_prefix[start:end]
