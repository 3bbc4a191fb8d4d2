"""Identifier positions: where, on the line being written, an identifier is being spelled
whose legal values static analysis can supply.

Read from that line alone, which is cheap enough to redo after every generated token; what
lines above add (a string or a bracket left open) is decoding.grounding.position_reader's.
"""

from __future__ import annotations

import itertools
import keyword
import re
from dataclasses import dataclass

from tether.index.receiver import receiver_expression

_PARTIAL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
_IMPORT = re.compile(r"^\s*import\s+(?P<modules>[\w.,\s]*?)$")
_FROM = re.compile(r"^\s*from\s+(?P<module>[\w.]*)$")
_FROM_IMPORT = re.compile(r"^\s*from\s+(?P<module>[\w.]+)\s+import\s+\(?(?P<names>[\w\s,]*)$")
# A bare name right after these is read, not bound: only there are bare names constrained.
_LOAD_KEYWORDS = ("return", "if", "elif", "while", "not", "and", "or", "await", "in", "is",
                  "assert", "yield", "else", "del", "raise")
_LOAD_OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "@", "|", "&",
                   "^", "~", "=")
KEYWORDS: frozenset[str] = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)
# Letters that open a string literal (`f"…"`, `rb'…'`, 3.14's `t"…"`), written where a name
# may start: not names, but spelled like them.
STRING_PREFIXES: frozenset[str] = frozenset(
    "".join(letters) for prefix in ("f", "r", "b", "u", "t", "fr", "rf", "br", "rb", "tr", "rt")
    for letters in itertools.product(*((char, char.upper()) for char in prefix)))


@dataclass(frozen=True, slots=True)
class IdentifierPosition:
    kind: str  # member | import_module | from_module | from_name | argument | name
    partial: str  # identifier characters already written at this position
    receiver: str | None = None  # member: the expression before the dot ("": on a line above)
    module: str | None = None  # import_module / from_module: dotted package so far
    callee: str | None = None  # argument: the called expression
    column: int = 0  # where the identifier starts on the line (UTF-16 agnostic: str index)
    # from_name inside `import (`: the bracket may close (or the line end) instead of a name
    name_optional: bool = False


def detect_position(line: str, above: str = "") -> IdentifierPosition | None:
    """The identifier position at the end of `line` (the cursor line up to the cursor).
    `above`, the text before the line, is only read when the line starts with a dot: a
    chained call continued on a new line (`Text("a")` / `    .join(...)`), whose member
    position has the receiver "" (its expression ends an earlier line)."""
    in_text, field = _scan(line)
    if in_text:
        if field is None:
            return None
        # the expression of an f-string's replacement field, at its own columns
        return detect_position(" " * field + line[field:], above)
    partial = partial_at_end(line)
    before = line[: len(line) - len(partial)]
    if before and (before[-1].isdigit() or before[-1] in "'\""):
        return None
    column = len(before)
    if re.match(r"^\s*(import|from)\s", line):
        return _import_position(line, partial, column)
    receiver = receiver_expression(line)
    if receiver is not None:
        return IdentifierPosition("member", partial, receiver=receiver, column=column)
    if before.strip() == "." and _ends_expression(above):
        return IdentifierPosition("member", partial, receiver="", column=column)
    if before.rstrip().endswith(".") or before.endswith("@"):
        return None
    call = _open_call(before)
    if call is not None:
        callee, paren = call
        last_arg = before[paren + 1:].rsplit(",", 1)[-1]
        if not last_arg.strip():
            return IdentifierPosition("argument", partial, callee=callee, column=column)
        return None
    if _is_load_context(before):
        return IdentifierPosition("name", partial, column=column)
    return None


def _import_position(line: str, partial: str, column: int) -> IdentifierPosition | None:
    from_import = _FROM_IMPORT.match(line)
    if from_import is not None:
        names = from_import.group("names")
        if after_imported_name(names[: len(names) - len(partial)]):
            return None
        bracketed = line[: from_import.start("names")].rstrip().endswith("(")
        return IdentifierPosition("from_name", partial, module=from_import.group("module"),
                                  column=column, name_optional=bracketed)
    for pattern, kind in ((_FROM, "from_module"), (_IMPORT, "import_module")):
        match = pattern.match(line)
        if match is None:
            continue
        dotted = (match.group("module") if kind == "from_module"
                  else match.group("modules").rsplit(",", 1)[-1].strip())
        if kind == "import_module" and " as" in match.group("modules").rsplit(",", 1)[-1]:
            return None
        package = dotted[: len(dotted) - len(partial)].rstrip(".")
        if dotted.startswith(".") or (partial and not dotted.endswith(partial)):
            return None
        return IdentifierPosition(kind, partial, module=package, column=column)
    return None


def partial_at_end(line: str) -> str:
    """The identifier characters already written at the end of `line`."""
    found = _PARTIAL.search(line)
    return found.group(0) if found else ""


def after_imported_name(before: str) -> bool:
    """Whether the word being written follows a name and a space in an import's name list
    (`path as`, `path as p`: `as` or an alias, not an imported name, comes there); `before`
    is the list up to that word."""
    return re.search(r"\w\s+$", before) is not None


def _open_call(before: str) -> tuple[str, int] | None:
    """The callee of the innermost call whose parenthesis is still open on this line, and
    the parenthesis' index."""
    depth = 0
    for index in range(len(before) - 1, -1, -1):
        char = before[index]
        if char in ")]}":
            depth += 1
        elif char in "[{":
            if depth == 0:
                return None
            depth -= 1
        elif char == "(":
            if depth > 0:
                depth -= 1
                continue
            name = callee_before(before[:index])
            return (name, index) if name is not None else None
    return None


def callee_before(head: str) -> str | None:
    """The called expression that `head`, the text before an opening parenthesis, ends with;
    None where the bracket is no call's (`if (`, `def f(`, `class A(`) or where the callee is
    a member of something other than a dotted name (`'{a}'.format(`, `f().g(`, `a[0].g(`):
    that is not the bare function the name alone would be."""
    callee = re.search(r"([A-Za-z_][\w.]*)\s*$", head)
    if callee is None or callee.group(1).split(".")[-1] in KEYWORDS \
            or head[: callee.start()].endswith(".") \
            or re.search(r"\b(def|class)\s+\w*\s*$", head):
        return None
    return callee.group(1)


def _is_load_context(before: str) -> bool:
    stripped = before.rstrip()
    if not stripped or not before.endswith((" ", "\t", "=", "(")):
        return False
    if re.match(r"^\s*(def|class|for|with|except|global|nonlocal|lambda|import|from)\b",
                stripped):
        # Binding constructs: only the part after `in` of a for-loop is a read.
        return bool(re.match(r"^\s*for\b.*\bin$", stripped))
    if _open_brackets(stripped) or "lambda" in stripped:
        return False  # comprehensions and lambdas bind names after they are used
    last_word = re.search(r"(\w+)$", stripped)
    if last_word is not None and last_word.group(1) in _LOAD_KEYWORDS:
        return True
    return stripped.endswith(_LOAD_OPERATORS) and not stripped.endswith(("->", ":="))


def _ends_expression(text: str) -> bool:
    """Whether `text` ends in something a member access can follow: a name, a closing
    bracket, a string, or a backslash continuation."""
    stripped = text.rstrip()
    return bool(stripped) and (stripped[-1].isalnum() or stripped[-1] in "_)]}'\"\\")


def _open_brackets(text: str) -> bool:
    depth = 0
    for char in text:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
    return depth > 0


def _scan(line: str) -> tuple[bool, int | None]:
    """Whether `line` ends inside a string or comment, and where the expression starts when
    it ends inside an f-string's replacement field (`f"total: {cart.` → the index after
    `{`; None elsewhere, including a field's format spec and a string nested in it)."""
    quote: str | None = None
    is_f = False
    field: int | None = None  # start of the open field's expression
    depth = 0  # brackets open inside the field; -1 in its format spec
    index = 0
    while index < len(line):
        char = line[index]
        if quote is None:
            if char == "#":
                return True, None
            if char in "'\"":
                start = index
                while start > 0 and line[start - 1].isalpha():
                    start -= 1
                letters = line[start:index].lower()
                is_f = "f" in letters and len(letters) <= 2 and set(letters) <= set("rfb")
                triple = line[index:index + 3]
                quote = triple if triple in ('"""', "'''") else char
                index += len(quote)
                continue
        elif field is not None:
            if char in "'\"":  # a string inside the field's expression: skip it
                end = line.find(char, index + 1)
                if end < 0:
                    return True, None
                index = end
            elif char in "([{":
                depth += 1
            elif char in ")]}":
                if depth == 0:
                    field = None
                else:
                    depth -= 1
            elif char in ":!" and depth == 0 and line[index:index + 2] != "!=":
                field, depth = None, -1  # conversion or format spec: no longer the expression
        elif depth == -1:
            if char == "}":
                depth = 0
        elif char == "\\":
            index += 2
            continue
        elif line.startswith(quote, index):
            index += len(quote)
            quote = None
            continue
        elif is_f and char == "{":
            if line.startswith("{{", index):
                index += 2
                continue
            field, depth = index + 1, 0
        index += 1
    return quote is not None, field if quote is not None else None
