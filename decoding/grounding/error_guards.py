"""Code written where an error is caught on purpose. In the body of a `try:` whose `except`
names AttributeError (or of `with suppress(AttributeError)`), code reads attributes that may
be missing (`try: fileno = out.fileno() except AttributeError: ...`): no member name may be
ruled out. Where ImportError is caught, code imports modules that may be absent (`try:
import ujson as json except ImportError: import json`): no module name may be ruled out.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from tether.index.parsing import parse_with_placeholder, text

ATTRIBUTE_ERROR = "AttributeError"
IMPORT_ERROR = "ImportError"
_NAMED = {ATTRIBUTE_ERROR: re.compile(r"\bAttributeError\b"),
          IMPORT_ERROR: re.compile(r"\b(?:ImportError|ModuleNotFoundError)\b")}


def caught_errors(source: str, line: int) -> frozenset[str]:
    """Which of ATTRIBUTE_ERROR and IMPORT_ERROR code on `line` of `source` (the whole
    buffer, below the cursor too) is guarded against. A handler's own body is not guarded,
    nor is a function defined in a guarded body (it runs elsewhere)."""
    named = {error: pattern for error, pattern in _NAMED.items() if pattern.search(source)}
    if not named:
        return frozenset()
    if not 0 <= line <= source.count("\n"):
        return frozenset()
    root, offset = parse_with_placeholder(source, line)  # the cursor line, made whole
    caught: set[str] = set()
    node: Node | None = root.descendant_for_byte_range(offset, offset)
    while node is not None and node.parent is not None:
        parent = node.parent
        if node.type == "block" and parent.child_by_field_name("body") == node:
            caught.update(error for error, pattern in named.items()
                          if _guards(parent, pattern))
        if parent.type in ("function_definition", "class_definition", "lambda"):
            break  # an enclosing function's `try` does not run this code
        node = parent
    return frozenset(caught)


def _guards(statement: Node, error: re.Pattern[str]) -> bool:
    if statement.type == "try_statement":
        return any(child.type in ("except_clause", "except_group_clause")
                   and error.search(_header(child)) is not None
                   for child in statement.children)
    if statement.type == "with_statement":
        header = _header(statement)
        return "suppress" in header and error.search(header) is not None
    return False


def _header(clause: Node) -> str:
    """The clause's text before its block (`except (KeyError, AttributeError) as e:`)."""
    return " ".join(text(child) for child in clause.children if child.type != "block")
