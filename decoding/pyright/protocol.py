"""LSP payloads and conversions for the pyright client: result types, the settings and
capabilities Tether declares, UTF-16 position mapping, completion parsing."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lsprotocol import types

from tether.index.text_positions import utf16_to_index

KIND_KEYWORD = types.CompletionItemKind.Keyword.value
TAG_UNNECESSARY = types.DiagnosticTag.Unnecessary.value
TAG_DEPRECATED = types.DiagnosticTag.Deprecated.value
SEVERITY_ERROR = types.DiagnosticSeverity.Error.value
IDENT = re.compile(r"[^\W\d]\w*")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_QUOTED = re.compile(r"\"([^\W\d]\w*)\"")


@dataclass(frozen=True, slots=True)
class PyrightCompletion:
    label: str
    kind: int  # an lsprotocol CompletionItemKind value; 0 where pyright gave none
    detail: str | None = None
    sort_text: str | None = None
    insert_text: str | None = None


@dataclass(frozen=True, slots=True)
class MemberSet:
    """Identifier completions at a position. `complete` is False when the list looks like a
    fallback: empty, only dunders (Unknown/Any/TypeVar/None receivers), or `__getattr__`."""

    names: frozenset[str]
    kinds: Mapping[str, int] = field(default_factory=dict)
    complete: bool = True
    incomplete: bool = False  # pyright's raw isIncomplete flag (set on nearly every list)


CompletionResult = tuple[tuple[PyrightCompletion, ...], bool]  # items, isIncomplete


def default_settings(python_path: str | None = None) -> dict[str, Any]:
    """What the client answers to workspace/configuration (sections python, pyright)."""
    analysis = {
        "typeCheckingMode": "basic",
        "diagnosticMode": "openFilesOnly",
        "autoSearchPaths": True,
        "useLibraryCodeForTypes": True,
        "autoImportCompletions": False,
        "diagnosticSeverityOverrides": {"reportAttributeAccessIssue": "error"},
    }
    python: dict[str, Any] = {"analysis": analysis}
    if python_path:
        python["pythonPath"] = python_path
    return {"python": python, "pyright": {"disableLanguageServices": False,
                                          "disableOrganizeImports": True}}


def client_capabilities() -> dict[str, Any]:
    return {
        "general": {"positionEncodings": [types.PositionEncodingKind.Utf16.value]},
        "workspace": {"configuration": True, "workspaceFolders": True,
                      "didChangeConfiguration": {"dynamicRegistration": True},
                      "didChangeWatchedFiles": {"dynamicRegistration": True}},
        "window": {"workDoneProgress": False},
        "textDocument": {
            "synchronization": {"dynamicRegistration": False, "didSave": False},
            "completion": {
                "contextSupport": True,
                "completionItem": {"snippetSupport": False, "deprecatedSupport": True,
                                   "tagSupport": {"valueSet": [TAG_UNNECESSARY]},
                                   "labelDetailsSupport": True,
                                   "documentationFormat": ["plaintext", "markdown"]},
                "completionItemKind": {"valueSet": [kind.value for kind in
                                                    types.CompletionItemKind]},
            },
            "hover": {"contentFormat": ["plaintext", "markdown"]},
            "publishDiagnostics": {"relatedInformation": False, "versionSupport": True,
                                   "tagSupport": {"valueSet": [TAG_UNNECESSARY,
                                                               TAG_DEPRECATED]}},
        },
    }


def initialize_params(workspace: Path, process_id: int) -> dict[str, Any]:
    root = workspace.as_uri()
    return {
        "processId": process_id,
        "clientInfo": {"name": "tether"},
        "rootUri": root,
        "rootPath": str(workspace),
        "workspaceFolders": [{"uri": root, "name": workspace.name or "root"}],
        "capabilities": client_capabilities(),
        "initializationOptions": {},
    }


_IGNORED_SERVER_REQUESTS = frozenset({
    "client/registerCapability", "client/unregisterCapability",
    types.WINDOW_WORK_DONE_PROGRESS_CREATE, types.WINDOW_SHOW_MESSAGE_REQUEST})


def server_request_answer(method: str, params: Any, settings: dict[str, Any],
                          workspace: Path) -> tuple[bool, Any]:
    """(answered, result) for a request pyright sends to its client."""
    if method == types.WORKSPACE_CONFIGURATION:
        items = (params or {}).get("items") or []
        return True, [_section(settings, item.get("section")) for item in items]
    if method in _IGNORED_SERVER_REQUESTS:
        return True, None
    if method == types.WORKSPACE_WORKSPACE_FOLDERS:
        return True, [{"uri": workspace.as_uri(), "name": workspace.name or "root"}]
    return False, None


def _section(settings: dict[str, Any], section: str | None) -> Any:
    value: Any = settings
    for part in (section or "").split("."):
        if not part:
            continue
        value = value.get(part) if isinstance(value, dict) else None
    return value


def split_lines(text: str) -> list[str]:
    """Lines as LSP counts them (\\n, \\r\\n and \\r end a line)."""
    return _LINE_BREAK.split(text)


def python_column(line_text: str, utf16: int) -> int:
    return utf16_to_index(line_text, utf16)


def range_text(text: str, lsp_range: Mapping[str, Any]) -> str:
    """The text an LSP range covers ("" when it is outside the text)."""
    lines = split_lines(text)
    try:
        start, end = lsp_range["start"], lsp_range["end"]
        first, last = int(start["line"]), int(end["line"])
        if not 0 <= first <= last < len(lines):
            return ""
        begin = python_column(lines[first], int(start["character"]))
        stop = python_column(lines[last], int(end["character"]))
    except (KeyError, TypeError, ValueError):
        return ""
    if first == last:
        return lines[first][begin:stop]
    return "\n".join([lines[first][begin:], *lines[first + 1:last], lines[last][:stop]])


def deprecated_name(diagnostic: Mapping[str, Any], text: str | None) -> str | None:
    """The identifier a Deprecated-tagged diagnostic points at: the last identifier in its
    range of `text`, else the first quoted name in its message."""
    if TAG_DEPRECATED not in (diagnostic.get("tags") or ()):
        return None
    found = IDENT.findall(range_text(text, diagnostic.get("range") or {})) if text else []
    if not found:
        found = _QUOTED.findall(str(diagnostic.get("message", "")))[:1]
    return found[-1] if found else None


def normal_uri(uri: str) -> str:
    """A file URI in a form comparable with what pyright echoes back."""
    plain = unquote(uri).rstrip("/")
    return plain.lower() if os.name == "nt" else plain


def completion_context(line_prefix: str) -> dict[str, Any]:
    if line_prefix.endswith("."):
        return {"triggerKind": types.CompletionTriggerKind.TriggerCharacter.value,
                "triggerCharacter": "."}
    return {"triggerKind": types.CompletionTriggerKind.Invoked.value}


def parse_completions(result: Any) -> CompletionResult:
    incomplete = False
    items: Any = result
    if isinstance(result, dict):
        incomplete = bool(result.get("isIncomplete"))
        items = result.get("items")
    parsed: list[PyrightCompletion] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or "label" not in item:
            continue
        insert = item.get("insertText")
        edit = item.get("textEdit")
        if insert is None and isinstance(edit, dict):
            insert = edit.get("newText")
        kind = item.get("kind")
        parsed.append(PyrightCompletion(
            label=str(item["label"]), kind=kind if isinstance(kind, int) else 0,
            detail=item.get("detail"), sort_text=item.get("sortText"), insert_text=insert))
    return tuple(parsed), incomplete


def member_set(result: CompletionResult) -> MemberSet:
    """Identifier names among completion items (keywords and non-identifiers dropped). A list
    with keywords in it answers a name position, not a member access (pyright gives one after
    `del x.`, say): it proves nothing about the receiver's members."""
    items, incomplete = result
    kinds: dict[str, int] = {}
    names_position = False
    for item in items:
        if item.kind == KIND_KEYWORD:
            names_position = True
            continue
        for candidate in (item.insert_text, item.label):
            if candidate and IDENT.fullmatch(candidate):
                kinds.setdefault(candidate, item.kind)
                break
    names = frozenset(kinds)
    return MemberSet(names, kinds, complete=looks_complete(names) and not names_position,
                     incomplete=incomplete)


def looks_complete(names: frozenset[str]) -> bool:
    """Whether a member list can be trusted as the full set of legal names. Pyright drops
    Unknown/Any parts of a type from completions, so an empty list, one with nothing but
    dunders (`object`, None, an unsolved TypeVar) or a type with `__getattr__` (any name
    is legal) is not a proof. Pyright's isIncomplete flag is not used: it reflects only the
    completion trigger kind (pyright sets it on every list so editors re-query per key)."""
    if "__getattr__" in names:
        return False
    return any(not (name.startswith("__") and name.endswith("__")) for name in names)
