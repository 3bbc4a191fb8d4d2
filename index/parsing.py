"""Tree-sitter Python parsing helpers shared by the index."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import lru_cache

import tree_sitter_python
from tree_sitter import Language, Node, Parser, Tree

PYTHON = Language(tree_sitter_python.language())
_local = threading.local()


def parser() -> Parser:
    """A per-thread parser: tree-sitter parsers are not safe to share across threads."""
    existing: Parser | None = getattr(_local, "parser", None)
    if existing is None:
        existing = Parser(PYTHON)
        _local.parser = existing
    return existing


def parse(source: bytes) -> Tree:
    return parser().parse(source)


def text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", errors="replace")


def named_children(node: Node) -> Iterator[Node]:
    for child in node.children:
        if child.is_named:
            yield child


def class_path(cls: Node) -> str:
    """`Outer.Inner`: a class's name under the classes that contain it."""
    names = [text(cls.child_by_field_name("name"))]
    node = cls.parent
    while node is not None:
        if node.type == "class_definition":
            names.append(text(node.child_by_field_name("name")))
        node = node.parent
    return ".".join(reversed(names))


def walk(root: Node) -> Iterator[Node]:
    """Every node below `root` (inclusive), in document order."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def string_literal_value(node: Node) -> str | None:
    """The value of a plain string literal (no f-string interpolation), else None."""
    if node.type == "concatenated_string":
        parts = [string_literal_value(child) for child in named_children(node)]
        return None if any(part is None for part in parts) else "".join(p or "" for p in parts)
    if node.type != "string":
        return None
    pieces: list[str] = []
    for child in node.children:
        if child.type == "string_content":
            pieces.append(text(child))
        elif child.type == "escape_sequence":
            pieces.append(_unescape(text(child)))
        elif child.type == "interpolation":
            return None
    return "".join(pieces)


def _unescape(sequence: str) -> str:
    simple = {"\\n": "\n", "\\t": "\t", '\\"': '"', "\\'": "'", "\\\\": "\\"}
    return simple.get(sequence, sequence)


def docstring_of(body: Node | None) -> str | None:
    """The docstring of a module/class/function body: its first statement if a string."""
    if body is None:
        return None
    for child in named_children(body):
        if child.type == "comment":
            continue
        if child.type == "expression_statement" and child.named_child_count == 1:
            value = child.named_children[0]
            if value.type in ("string", "concatenated_string"):
                literal = string_literal_value(value)
                return _clean_docstring(literal) if literal is not None else None
        return None
    return None


def _clean_docstring(doc: str) -> str:
    lines = doc.expandtabs().splitlines()
    if not lines:
        return ""
    indents = [len(line) - len(line.lstrip()) for line in lines[1:] if line.strip()]
    margin = min(indents) if indents else 0
    cleaned = [lines[0].strip(), *(line[margin:].rstrip() for line in lines[1:])]
    return "\n".join(cleaned).strip()


def with_placeholder_line(source: str, line: int) -> tuple[str, int]:
    """The source up to (not including) `line`, plus a `pass` statement at that line's
    indentation; returns it with the byte offset of the placeholder.

    Text typed up to a cursor is usually incomplete (`foo(bar.`), and tree-sitter's error
    recovery can then detach the enclosing function from the tree. Scope questions about
    the cursor only need the lines above it, so they are asked of this well-formed stand-in.
    """
    lines = source.split("\n")
    line = max(0, min(line, len(lines) - 1))
    current = lines[line]
    indent = current[: len(current) - len(current.lstrip())]
    head = "\n".join(lines[:line]) + ("\n" if line else "")
    placeholder = f"{head}{indent}pass\n"
    return placeholder, len((head + indent).encode("utf-8", errors="surrogatepass"))


def parse_with_placeholder(source: str, line: int) -> tuple[Node, int]:
    """The whole `source` with its `line` replaced by a placeholder statement (see
    `with_placeholder_line`; the lines below are kept), parsed: its root node and the
    placeholder's byte offset. Questions about what is bound or caught around the cursor,
    below it too, are asked of this tree; the last few are kept, since one request may ask
    several."""
    tree, offset = _placeholder_tree(source, max(0, min(line, source.count("\n"))))
    return tree.root_node, offset


@lru_cache(maxsize=4)
def _placeholder_tree(source: str, line: int) -> tuple[Tree, int]:
    head, offset = with_placeholder_line(source, line)
    rest = source.split("\n")[line + 1:]
    return parse((head + "\n".join(rest)).encode("utf-8", errors="surrogatepass")), offset
