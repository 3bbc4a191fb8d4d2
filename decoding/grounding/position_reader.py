"""Identifier positions at the end of a growing text, read with the lines above: a line
inside a docstring begun above is text, a line of names continues a `from x import (` list,
and a line inside a call's open bracket holds that call's arguments.
"""

from __future__ import annotations

import re

from tether.decoding.bracket_scanner import STRING_END, BracketScanner
from tether.decoding.grounding.positions import (
    IdentifierPosition,
    after_imported_name,
    callee_before,
    detect_position,
    partial_at_end,
)

# A from-import whose name list goes on past the end of the text: in brackets, or after a
# backslash; and a line that holds only names of such a list.
_CONTINUED_FROM_IMPORT = re.compile(
    r"(?:^|\n)[ \t]*from[ \t]+(?P<module>[\w.]+)[ \t]+import"
    r"(?:[ \t]*(?P<bracket>\()(?:[^()#]|#[^\n]*)*|(?:[ \t\w,]*\\\n)+)\Z")
_NAMES_LINE = re.compile(r"^[\w \t,]*$")
IMPORT_LOOKBACK = 4000  # characters searched above a line for the import it continues
_STRING_OR_COMMENT = re.compile(r"#[^\n]*|'''|\"\"\"|'|\"")


class PositionReader:
    """Identifier positions at the end of a text that only grows (a buffer's prefix, then the
    model's tokens after it). Remembers the string left open at the start of the last line it
    read, so that a line inside a docstring begun above is read as text, not code, and, once
    a line may hold a call's arguments, the brackets open above it."""

    __slots__ = ("_bracketed", "_brackets", "_open", "_scanned")

    def __init__(self) -> None:
        self._open: str | None = None  # the quote of the string open at `_scanned`
        self._scanned = 0
        # brackets open at `_bracketed`, read only once a line may continue a call above
        self._brackets: BracketScanner | None = None
        self._bracketed = 0

    def position(self, text: str, line_start: int, line: str) -> IdentifierPosition | None:
        """The position at the end of `line`, which starts at `line_start` in `text` (it may
        run past `text`'s end: a probe with a dot added). `text` before `line_start` must
        extend what earlier calls saw."""
        if line_start < self._scanned:
            self._open, self._scanned = None, 0
        self._open = open_string_after(text, self._scanned, line_start, self._open)
        self._scanned = line_start
        if self._open is not None:
            closing = STRING_END[self._open].match(line)
            if closing is None:
                return None  # the whole line is string text
            line = " " * closing.end() + line[closing.end():]  # code after the string ends
        if _NAMES_LINE.match(line):
            continued = _CONTINUED_FROM_IMPORT.search(
                text, max(0, line_start - IMPORT_LOOKBACK), line_start)
            if continued is not None:
                return _from_name_position(continued.group("module"), line,
                                           continued.group("bracket") is not None)
        if _starts_an_argument(line) and _continues_arguments(text, line_start):
            callee = self._call_open_above(text, line_start)
            if callee is not None:
                partial = partial_at_end(line)
                return IdentifierPosition("argument", partial, callee=callee,
                                          column=len(line) - len(partial))
        above = text[:line_start] if line.lstrip().startswith(".") else ""
        return detect_position(line, above)

    def _call_open_above(self, text: str, line_start: int) -> str | None:
        """The callee of the innermost bracket open at `line_start`, if it is a call's."""
        if self._brackets is None or line_start < self._bracketed:
            self._brackets, self._bracketed = BracketScanner(comments=True), 0
        for _ in self._brackets.events(text[self._bracketed:line_start], self._bracketed):
            pass
        self._bracketed = line_start
        stack = self._brackets.stack
        if not stack or stack[-1][0] != "(" or self._brackets.string is not None:
            return None
        opened = stack[-1][1]
        return callee_before(text[max(0, opened - 200):opened])


def _starts_an_argument(line: str) -> bool:
    """Whether `line` may go on with arguments of a call opened above: blank before the name
    being written, or arguments closed by a comma, with no bracket left open or closed."""
    before = line[: len(line) - len(partial_at_end(line))]
    if not before.strip():
        return True
    if not before.rstrip().endswith(","):
        return False
    scanner = BracketScanner(comments=True)
    if any(kind == "stray" for kind, _, _ in scanner.events(before)):
        return False
    return not scanner.stack and scanner.string is None and not scanner.in_comment


def _continues_arguments(text: str, line_start: int) -> bool:
    """Whether the line above ends with `(` or `,` (a comment aside): the cheap test before
    brackets are counted from the start of the text."""
    above = text[text.rfind("\n", 0, max(0, line_start - 1)) + 1:line_start]
    return above.split("#", 1)[0].rstrip().endswith(("(", ","))


def position_at_end(text: str) -> IdentifierPosition | None:
    """The identifier position at the end of `text`, read from its beginning."""
    line_start = text.rfind("\n") + 1
    return PositionReader().position(text, line_start, text[line_start:])


def open_string_after(text: str, start: int, end: int, quote: str | None) -> str | None:
    """The quote of the string still open at `end` in `text`, reading from `start`, where the
    string opened by `quote` (None: none) was open."""
    at = start
    while at < end:
        if quote is not None:
            closing = STRING_END[quote].match(text, at, end)
            if closing is None:
                return quote
            at, quote = closing.end(), None
            continue
        found = _STRING_OR_COMMENT.search(text, at, end)
        if found is None:
            return None
        at = found.end()
        if not found.group().startswith("#"):
            quote = found.group()
    return quote


def _from_name_position(module: str, line: str, bracketed: bool) -> IdentifierPosition | None:
    """On a line of names that continues `from module import`; None after `as`."""
    partial = partial_at_end(line)
    if after_imported_name(line[: len(line) - len(partial)]):
        return None
    return IdentifierPosition("from_name", partial, module=module,
                              column=len(line) - len(partial), name_optional=bracketed)
