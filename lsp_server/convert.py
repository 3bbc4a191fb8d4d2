"""Domain results → LSP types. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lsprotocol import types

from tether.index.analysis import MemberCompletion, Span
from tether.index.deprecated_uses import DeprecatedUse, TextEdit
from tether.index.models import Symbol, SymbolKind
from tether.index.text_positions import utf16_length, utf16_to_index

if TYPE_CHECKING:
    from tether.lsp_server.snapshots import DocumentSnapshot

SOURCE = "tether"
MODEL_SORT = "0000"
_ITEM_KINDS = {
    SymbolKind.METHOD.value: types.CompletionItemKind.Method,
    SymbolKind.FUNCTION.value: types.CompletionItemKind.Function,
    SymbolKind.PROPERTY.value: types.CompletionItemKind.Property,
    SymbolKind.ATTRIBUTE.value: types.CompletionItemKind.Field,
    SymbolKind.VARIABLE.value: types.CompletionItemKind.Variable,
    SymbolKind.CLASS.value: types.CompletionItemKind.Class,
    SymbolKind.MODULE.value: types.CompletionItemKind.Module,
    SymbolKind.IMPORT.value: types.CompletionItemKind.Reference,
}


def to_range(span: Span) -> types.Range:
    return types.Range(types.Position(span.start_line, span.start_char),
                       types.Position(span.end_line, span.end_char))


def to_span(range_: types.Range) -> Span:
    return Span(range_.start.line, range_.start.character, range_.end.line,
                range_.end.character)


def clamp_position(text: str, position: types.Position) -> types.Position:
    """A position moved into the document (past the last line or past a line's end)."""
    lines = text.split("\n")
    line = min(position.line, len(lines) - 1)
    if position.line > line:
        return types.Position(line, utf16_length(lines[line]))
    return types.Position(line, min(position.character, utf16_length(lines[line])))


# -- completions ----------------------------------------------------------------------------


def in_line_endings_of(document: str, text: str | None) -> str | None:
    """A completion (written with `\n`, see Completer.complete) in the document's own line
    endings, so that a Windows file gets no mixed ones."""
    if not text or "\n" not in text:
        return text
    newline = "\r\n" if "\r\n" in document else "\r" if "\r" in document else "\n"
    return text.replace("\n", newline) if newline != "\n" else text


def inline_list(text: str | None, position: types.Position) -> types.InlineCompletionList:
    if not text:
        return types.InlineCompletionList(items=[])
    return types.InlineCompletionList(items=[types.InlineCompletionItem(
        insert_text=text, range=types.Range(position, position))])


def model_item(text: str, position: types.Position, typed: str) -> types.CompletionItem:
    first = text.strip().splitlines()[0] if text.strip() else text
    label = typed + (first if len(first) <= 60 else first[:57] + "...")
    return types.CompletionItem(
        label=label, kind=types.CompletionItemKind.Text, sort_text=MODEL_SORT, preselect=True,
        filter_text=typed + text, detail="Tether completion",
        insert_text_format=types.InsertTextFormat.PlainText,
        text_edit=types.TextEdit(range=types.Range(position, position), new_text=text))


def member_items(members: list[MemberCompletion], uri: str,
                 tag_support: bool) -> list[types.CompletionItem]:
    items = []
    for number, member in enumerate(members):
        detail = member.signature or member.kind
        if member.deprecated:
            detail += (f" (deprecated: use {member.replacement})" if member.replacement
                       else " (deprecated)")
        items.append(types.CompletionItem(
            label=member.name, kind=_ITEM_KINDS.get(member.kind, types.CompletionItemKind.Field),
            detail=detail, sort_text=f"{2 if member.deprecated else 1}{number:04d}",
            tags=[types.CompletionItemTag.Deprecated] if member.deprecated and tag_support
            else None,
            deprecated=True if member.deprecated and not tag_support else None,
            data={"uri": uri, "qualname": member.qualname}))
    return items


def completion_list(text: str | None, members: list[MemberCompletion], doc: DocumentSnapshot,
                    position: types.Position,
                    capabilities: types.ClientCapabilities) -> types.CompletionList:
    """The model's completion first (when there is one), then the receiver's members."""
    items = member_items(members, doc.uri, _tag_support(capabilities))
    if text:
        line = doc.text.split("\n")[position.line] if doc.text else ""
        items.insert(0, model_item(text, position, _typed(line, position.character)))
    return types.CompletionList(is_incomplete=bool(text), items=items)


def _tag_support(capabilities: types.ClientCapabilities) -> bool:
    document = capabilities.text_document
    completion = document.completion if document is not None else None
    item = completion.completion_item if completion is not None else None
    tags = item.tag_support if item is not None else None
    return tags is not None and types.CompletionItemTag.Deprecated in tags.value_set


def _typed(line: str, character: int) -> str:
    """The identifier characters right before the cursor (ASCII-safe slice)."""
    prefix = line[:character] if line.isascii() else line[:utf16_to_index(line, character)]
    start = len(prefix)
    while start > 0 and (prefix[start - 1].isalnum() or prefix[start - 1] == "_"):
        start -= 1
    return prefix[start:]


def resolved_item(item: types.CompletionItem, symbol: Symbol | None,
                  capabilities: types.ClientCapabilities) -> types.CompletionItem:
    if symbol is not None:
        completion = capabilities.text_document.completion if (
            capabilities.text_document) else None
        options = completion.completion_item if completion is not None else None
        formats = options.documentation_format if options is not None else None
        item.documentation = _markup(symbol_markdown(symbol), formats)
    return item


def _markup(text: str, formats: Sequence[types.MarkupKind] | None) -> types.MarkupContent:
    """Markdown unless the client says it only takes plain text."""
    kind = types.MarkupKind.PlainText if formats and types.MarkupKind.Markdown not in (
        formats) else types.MarkupKind.Markdown
    return types.MarkupContent(kind, text)


# -- hover ----------------------------------------------------------------------------------


def symbol_markdown(symbol: Symbol) -> str:
    if symbol.kind in (SymbolKind.FUNCTION, SymbolKind.METHOD):
        head = f"def {symbol.qualname}{symbol.signature or '()'}"
    elif symbol.kind == SymbolKind.CLASS:
        bases = f"({', '.join(symbol.bases)})" if symbol.bases else ""
        head = f"class {symbol.qualname}{bases}"
    elif symbol.kind == SymbolKind.PROPERTY:
        head = f"property {symbol.qualname}" + (f": {symbol.returns}" if symbol.returns else "")
    elif symbol.kind == SymbolKind.MODULE:
        head = f"module {symbol.qualname}"
    else:
        annotation = f": {symbol.annotation}" if symbol.annotation else ""
        value = f" = {symbol.value}" if symbol.value else ""
        head = f"{symbol.kind.value} {symbol.qualname}{annotation}{value}"
    parts = [f"```python\n{head}\n```"]
    if symbol.deprecation is not None:
        parts.append(deprecation_text(symbol))
    if symbol.doc:
        parts.append(symbol.doc)
    if symbol.path.startswith("<"):
        parts.append(f"*from {symbol.path.strip('<>')}*")
    return "\n\n---\n\n".join(parts)


def deprecation_text(symbol: Symbol) -> str:
    dep = symbol.deprecation
    if dep is None:
        return ""
    since = f" since {dep.version}" if dep.version else ""
    text = f"**Deprecated{since}**: {dep.message}"
    if dep.replacement:
        text += f"\n\nUse `{dep.replacement}` instead."
    return text


def hover(symbol: Symbol | None,
          capabilities: types.ClientCapabilities) -> types.Hover | None:
    if symbol is None:
        return None
    hover_caps = capabilities.text_document.hover if capabilities.text_document else None
    formats = hover_caps.content_format if hover_caps is not None else None
    return types.Hover(contents=_markup(symbol_markdown(symbol), formats))


# -- diagnostics and quick fixes ------------------------------------------------------------


def diagnostic(use: DeprecatedUse) -> types.Diagnostic:
    name = use.qualname.rsplit(".", 1)[-1]
    message = f"`{name}` is deprecated: {use.message}"
    if use.replacement and use.replacement not in use.message:
        message += f" (use `{use.replacement}`)"
    return types.Diagnostic(
        range=to_range(use.range), message=message, severity=types.DiagnosticSeverity.Warning,
        source=SOURCE, code="deprecated", tags=[types.DiagnosticTag.Deprecated],
        data={"qualname": use.qualname, "replacement": use.replacement})


def quick_fix(uri: str, use: DeprecatedUse, edit: TextEdit,
              attached: types.Diagnostic | None) -> types.CodeAction:
    return types.CodeAction(
        title=f"Replace with `{edit.new_text}`", kind=types.CodeActionKind.QuickFix,
        diagnostics=[attached or diagnostic(use)], is_preferred=True,
        edit=types.WorkspaceEdit(changes={uri: [
            types.TextEdit(range=to_range(edit.range), new_text=edit.new_text)]}))


def quick_fixes(uri: str, fixes: list[tuple[DeprecatedUse, TextEdit]],
                diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
    actions = []
    for use, edit in fixes:
        attached = next((d for d in diagnostics if d.source == SOURCE
                         and to_span(d.range) == use.range), None)
        actions.append(quick_fix(uri, use, edit, attached))
    return actions

