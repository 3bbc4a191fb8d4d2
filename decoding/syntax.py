"""Tree-sitter checks for completion post-processing: the parse window and its error nodes."""

from __future__ import annotations

import re

from index.parsing import parse

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
