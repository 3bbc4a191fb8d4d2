"""Tree-sitter checks for completion post-processing: the parse window and its error nodes."""

from __future__ import annotations

import re

from tether.index.parsing import parse

AFTER_LINES = 100
# A line that can start a top-level statement on its own (clauses like `else:` cannot).
TOP_LEVEL = re.compile(r"(?!(?:else|elif|except|finally)\b)[A-Za-z_@]")
_TOP_LEVEL_LINE = re.compile(r"^" + TOP_LEVEL.pattern, re.MULTILINE)

Span = tuple[int, int]


def suffix_window(suffix: str) -> str:
    """The suffix up to the next top-level statement after its first line (bounded)."""
    first = suffix.find("\n")
    if first < 0:
        return suffix
    limit = first
    for _ in range(AFTER_LINES):
        limit = suffix.find("\n", limit + 1)
        if limit < 0:
            limit = len(suffix)
            break
    match = _TOP_LEVEL_LINE.search(suffix, first + 1, limit)
    return suffix[: match.start() if match else limit]


def error_spans(source: bytes) -> list[Span]:
    """Byte spans of the ERROR and MISSING nodes of `source`, outermost only."""
    spans: list[Span] = []
    pending = [parse(source).root_node]
    while pending:
        node = pending.pop()
        if node.is_error or node.is_missing:
            spans.append((node.start_byte, node.end_byte))
        elif node.has_error:
            pending.extend(node.children)
    return spans


def scan_start(prefix: str, lines: int, max_lines: int) -> int:
    """Where a scan of the text before the cursor may start: the start of the top-level
    statement before the one the cursor is in, when that is at most `max_lines` lines back,
    else about `lines` lines back but never inside a string (a scan that starts inside a
    docstring reads every later quote the wrong way round)."""
    pos = len(prefix)
    for _ in range(lines):
        pos = prefix.rfind("\n", 0, pos)
        if pos < 0:
            return 0
    pos += 1
    encoded = prefix.encode("utf-8", errors="surrogatepass")
    root = parse(encoded).root_node
    statements = root.children[-2:]
    statement = statements[0].start_byte if statements else 0
    statement_at = len(encoded[:statement].decode("utf-8", errors="ignore"))
    if prefix.count("\n", statement_at) <= max_lines:
        return statement_at
    at = len(prefix[:pos].encode("utf-8", errors="surrogatepass"))
    node = root.descendant_for_byte_range(at, at)
    while node is not None and node.type not in ("string", "comment"):
        node = node.parent
    if node is None:
        return pos
    end = len(encoded[: node.end_byte].decode("utf-8", errors="ignore"))
    line_end = prefix.find("\n", end)
    return len(prefix) if line_end < 0 else line_end + 1
