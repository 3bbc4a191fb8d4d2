"""A small synchronous, thread-safe pyright language-server client.

Tether asks pyright which member names are legal at identifier positions (after `obj.` it
needs the attributes of obj's type). Every public method returns None (or an empty value)
instead of raising when pyright is missing, slow, crashed or answers with an error: the
caller treats None as "unknown, don't constrain". A dead server is restarted lazily on the
next call; after three restarts within a minute the client gives up for good (see
decoding.pyright.session).

Positions are (0-based line, Python-string column); they are converted to LSP UTF-16
offsets here. Ask for members right after the `.` with no partial identifier: pyright
filters completions by the prefix already typed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types

from tether.decoding.pyright.protocol import (
    CompletionResult,
    MemberSet,
    PyrightCompletion,
    completion_context,
    default_settings,
    member_set,
    parse_completions,
    split_lines,
)
from tether.decoding.pyright.session import FAILED, PyrightSession
from tether.index.lru import LruCache
from tether.index.text_positions import utf16_column

__all__ = ["MemberSet", "PyrightClient", "PyrightCompletion", "default_settings"]

CACHE_SIZE = 1024


class PyrightClient(PyrightSession):
    """Completions, member names and hovers from pyright, cached per document text."""

    def __init__(self, workspace: Path, *, python_path: str | None = None,
                 timeout: float = 5.0, command: list[str] | None = None,
                 settings: dict[str, Any] | None = None) -> None:
        super().__init__(workspace, python_path=python_path, timeout=timeout,
                         command=command, settings=settings)
        # answers keyed (uri, len(text), hash(text), line, character)
        self._cache: LruCache[tuple[Any, ...], CompletionResult] = LruCache(CACHE_SIZE)

    def warm_up(self) -> None:
        """Open a tiny in-memory document and ask for a completion, so builtins and typeshed
        are loaded before the first real request."""
        with self._lock:
            path = self.workspace / f".tether_warmup_{os.getpid()}.py"
            self.completions(path, "value = ''\nvalue.", 1, 6, timeout=max(self.timeout, 30.0))
            self.close_document(path)

    def _forget(self, doomed: Callable[[tuple[Any, ...]], bool]) -> None:
        self._cache.drop_where(doomed)

    # -- requests ------------------------------------------------------------------------
    def completions(self, path: Path, text: str, line: int, character: int, *,
                    timeout: float | None = None) -> list[PyrightCompletion] | None:
        """Completion items at (line, character) of `text` (the unsaved buffer for `path`),
        or None when pyright cannot answer in time."""
        raw = self._completion_raw(path, text, line, character, timeout)
        return list(raw[0]) if raw is not None else None

    def member_names(self, path: Path, text: str, line: int, character: int, *,
                     timeout: float | None = None) -> MemberSet | None:
        """Identifier names offered at the position (ask right after the `.`); None when
        pyright cannot answer. Check `complete` before using the names as a constraint."""
        raw = self._completion_raw(path, text, line, character, timeout)
        if raw is None:
            return None
        return member_set(raw)

    def _completion_raw(self, path: Path, text: str, line: int, character: int,
                        timeout: float | None) -> CompletionResult | None:
        uri = self._uri(path)
        key = (uri, len(text), hash(text), line, character)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._stats["cache_hits"] += 1
                return cached
            lines = split_lines(text)
            if not 0 <= line < len(lines):
                return None
            lsp_char = utf16_column(lines[line], character)
            context = completion_context(lines[line][:character])
            result = self._request(path, text, types.TEXT_DOCUMENT_COMPLETION, {
                "textDocument": {"uri": uri},
                "position": {"line": line, "character": lsp_char},
                "context": context}, timeout)
            if result is FAILED:
                return None
            raw = parse_completions(result)
            self._cache.put(key, raw)
            return raw

    def hover(self, path: Path, text: str, line: int, character: int, *,
              timeout: float | None = None) -> str | None:
        """Hover text (usually the declared signature) at the position, or None."""
        result = self._at_position(types.TEXT_DOCUMENT_HOVER, path, text, line, character, timeout)
        if not isinstance(result, dict):
            return None
        contents = result.get("contents")
        if isinstance(contents, dict):
            return str(contents.get("value", ""))
        if isinstance(contents, list):
            return "\n".join(c.get("value", "") if isinstance(c, dict) else str(c)
                             for c in contents)
        return str(contents) if contents else None

    def signature_labels(self, path: Path, text: str, line: int, character: int, *,
                         timeout: float | None = None) -> list[list[str]] | None:
        """For each signature pyright offers inside the call open at the position (one per
        overload), its parameters as written (`indent: int | None = None`, `*`, `**kwds:
        Any`); [] when it knows no signature there; None when it cannot answer."""
        result = self._at_position(types.TEXT_DOCUMENT_SIGNATURE_HELP, path, text, line, character,
                                   timeout)
        if result is FAILED:
            return None
        if not isinstance(result, dict):
            return []  # answered: no call there, or nothing known of its callee
        found = []
        for signature in result.get("signatures") or ():
            label = str(signature.get("label", ""))
            params = []
            for parameter in signature.get("parameters") or ():
                part = parameter.get("label") if isinstance(parameter, dict) else None
                if isinstance(part, list) and len(part) == 2:
                    part = label[int(part[0]):int(part[1])]
                params.append(str(part or ""))
            found.append(params)
        return found

    def _at_position(self, method: str, path: Path, text: str, line: int, character: int,
                     timeout: float | None) -> Any:
        """Pyright's answer to a request about one position of `text` (the buffer for
        `path`): FAILED when it could not answer, None when it found nothing there."""
        with self._lock:
            lines = split_lines(text)
            if not 0 <= line < len(lines):
                return FAILED
            return self._request(path, text, method, {
                "textDocument": {"uri": self._uri(path)},
                "position": {"line": line, "character": utf16_column(lines[line], character)}},
                timeout)
