"""Deprecated uses in a live buffer and the edits that fix them (diagnostics, quick fixes).

No LSP types: positions are (line, UTF-16 column) spans, as in `index.analysis`.
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from tether.index.analysis import (
    DEFINITION_NODES,
    IMPORT_NODES,
    LOCAL_SCOPES,
    Buffer,
    Span,
    ancestor,
    is_attribute_name,
    is_field,
    member_symbol,
    resolve_written,
    walk,
)
from tether.index.lookups import SymbolLookup
from tether.index.parsing import text
from tether.index.scope import names_in_scope
from tether.index.workspace import WorkspaceIndex

MAX_RESOLUTIONS = 400  # receiver resolutions per diagnostics pass (each parses the buffer)


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
    buffer = Buffer(text_)
    candidates |= {local for local, target in buffer.imports.items()
                   if target.rsplit(".", 1)[-1] in external}  # `from x import old as new`
    uses: list[DeprecatedUse] = []
    budget = MAX_RESOLUTIONS
    for node in walk(buffer.root):
        if node.type != "identifier" or text(node) not in candidates or budget <= 0:
            continue
        if ancestor(node, IMPORT_NODES) is not None or _is_declaration(node):
            continue
        budget -= 1
        use = _deprecated_use(lookup, module, buffer, node)
        if use is not None:
            uses.append(use)
    uses.sort(key=lambda u: (u.range.start_line, u.range.start_char))
    return uses


def _is_declaration(node: Node) -> bool:
    """A name being defined (a definition, a parameter, a keyword argument), not used."""
    parent = node.parent
    if parent is None or parent.type in ("parameters", "typed_parameter"):
        return parent is not None
    return parent.type in (*DEFINITION_NODES, "keyword_argument", "default_parameter",
                           "typed_default_parameter") and is_field(parent, "name", node)


def _deprecated_use(lookup: SymbolLookup, module: str, buffer: Buffer,
                    node: Node) -> DeprecatedUse | None:
    attribute = is_attribute_name(node)
    if attribute:
        symbol = member_symbol(lookup, module, buffer, node)
    elif buffer.scope_of(node) in (*LOCAL_SCOPES, "builtin"):
        return None
    else:
        symbol = resolve_written(lookup, module, buffer, text(node))
    if symbol is None or symbol.deprecation is None:
        return None
    dep = symbol.deprecation
    top = start = node.parent if attribute and node.parent is not None else node
    while start.type == "attribute" and (inner := start.child_by_field_name("object")) and (
            inner.type in ("attribute", "identifier")):
        start = inner
    return DeprecatedUse(range=buffer.span(node), qualname=symbol.qualname, message=dep.message,
                         replacement=dep.replacement, version=dep.version,
                         expression=buffer.span(top, start), attribute=attribute,
                         external=symbol.path.startswith("<"))


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
    buffer = Buffer(text_)
    row, column = buffer.clamp(use.range.start_line, use.range.start_char)
    visible = {n.name: n.scope for n in names_in_scope(text_, row, column)}
    if visible.get(last) in ("module", "import") and (sibling or "." not in replacement):
        return TextEdit(use.expression or use.range, last)
    head = replacement.split(".")[0]
    if "." in replacement and visible.get(head) == "import":
        return TextEdit(use.expression or use.range, replacement)
    return None
