"""What the text around the cursor says, read once per completion request: where the current
statement and the parse window start, the brackets open at the cursor, the indentation a
completion must keep, the lines after the cursor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from tether.decoding.bracket_scanner import BracketScanner
from tether.decoding.completion import parse_window as syntax

SCAN_LINES = 200  # lines before the cursor scanned for the current statement and parse window
MAX_STATEMENT_LINES = 3000  # ...or back to the start of the top-level statement, up to this
_COMPOUND = re.compile(
    r"(?:async\s+)?(?:def|class|if|elif|else|for|while|try|except|finally|with|match|case)\b")
# Block headers that take an expression and end in a colon once written (not `else:`).
_HEADER = re.compile(r"(?:async\s+)?(?:if|elif|for|while|with|except|match|case)\b")


@dataclass(frozen=True, slots=True)
class CompletionContext:
    prefix: str  # document text before the cursor
    suffix: str  # document text after the cursor
    language: str = "python"


@dataclass(frozen=True, slots=True)
class CursorInfo:
    """What the text around the cursor says, computed once per context."""

    scanner: BracketScanner  # state at the cursor: copy before feeding it
    python: bool
    line_before: str
    line_after: str
    reserved: frozenset[int]  # openers that the rest of the cursor's line closes
    opener: bool  # the cursor ends a block opener such as `def f():`
    multiline: bool
    min_indent: int | None  # None: cursor at column 0 of a blank line (postprocess._block_end)
    fallback_indent: int
    next_lines: tuple[str, ...]  # the next non-blank lines after the cursor's line, stripped
    window_before: str  # parse window: from the enclosing top-level statement to the cursor
    header_indent: str | None  # the cursor is in a block header (`if self.`): its indent


@lru_cache(maxsize=16)
def analyze_cursor(ctx: CompletionContext) -> CursorInfo:
    python = ctx.language.lower() in ("python", "py")
    tail = _tail(ctx.prefix, SCAN_LINES)
    scanner = BracketScanner(comments=python)
    statement = window = 0  # offsets in `tail`
    for kind, at, _ in scanner.events(tail, -len(tail)):
        if kind == "newline" and not scanner.stack:
            statement = at + len(tail) + 1
            if syntax.TOP_LEVEL.match(tail, statement):
                window = statement
    line_before = tail[tail.rfind("\n") + 1 :]
    line_end = ctx.suffix.find("\n")
    line_after = ctx.suffix if line_end < 0 else ctx.suffix[:line_end]
    first_line = line_at(tail, statement)
    opener = (not scanner.stack and scanner.string is None and not scanner.in_comment
              and line_before.rstrip().endswith(":")
              and _COMPOUND.match(first_line.lstrip()) is not None)
    blank = not line_before.strip()
    previous = next((line for line in reversed(tail[: len(tail) - len(line_before)].split("\n"))
                     if line.strip()), "")
    if opener:
        min_indent: int | None = indent_width(first_line) + 1
    elif blank:
        min_indent = indent_width(line_before) if line_before else None
    else:
        min_indent = indent_width(first_line)
    return CursorInfo(
        scanner=scanner, python=python, line_before=line_before, line_after=line_after,
        reserved=_reserved(scanner, line_after), opener=opener,
        multiline=not line_after.strip() and (blank or opener), min_indent=min_indent,
        fallback_indent=indent_width(previous) + int(previous.rstrip().endswith(":")),
        next_lines=_next_lines(ctx.suffix), window_before=tail[window:],
        header_indent=(first_line[: len(first_line) - len(first_line.lstrip())]
                       if _HEADER.match(first_line.lstrip()) else None))


def _reserved(scanner: BracketScanner, line_after: str) -> frozenset[int]:
    probe = scanner.copy()
    return frozenset(opener[1] for kind, _, opener in probe.events(line_after, 1 << 40)
                     if kind == "close" and opener is not None and opener[1] < 0)


def _tail(text: str, lines: int) -> str:
    return text[syntax.scan_start(text, lines, MAX_STATEMENT_LINES):]


def _next_lines(suffix: str, count: int = 2, scan: int = 20) -> tuple[str, ...]:
    pos, found = suffix.find("\n"), []
    while pos >= 0 and scan and len(found) < count:
        end = suffix.find("\n", pos + 1)
        line = suffix[pos + 1 : end if end >= 0 else len(suffix)].strip()
        if line:
            found.append(line)
        pos, scan = end, scan - 1
    return tuple(found)


def line_at(text: str, start: int) -> str:
    end = text.find("\n", start)
    return text[start : end if end >= 0 else len(text)]


def indent_width(line: str) -> int:
    expanded = line.expandtabs(8)
    return len(expanded) - len(expanded.lstrip(" "))
