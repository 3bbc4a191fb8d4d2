"""Identifier positions: where, in the text written so far, an identifier is being spelled
whose legal values static analysis can supply.

Detected on the current line (plus whether the line starts inside a string begun above),
which is cheap enough to redo after every generated token.
"""

from __future__ import annotations

import itertools
import keyword
import re
from dataclasses import dataclass

from decoding.bracket_scanner import STRING_END, BracketScanner
from decoding.receiver import receiver_expression

_PARTIAL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
_IMPORT = re.compile(r"^\s*import\s+(?P<modules>[\w.,\s]*?)$")
_FROM = re.compile(r"^\s*from\s+(?P<module>[\w.]*)$")
_FROM_IMPORT = re.compile(r"^\s*from\s+(?P<module>[\w.]+)\s+import\s+\(?(?P<names>[\w\s,]*)$")
# A from-import whose name list goes on past the end of the text: in brackets, or after a
# backslash; and a line that holds only names of such a list.
_CONTINUED_FROM_IMPORT = re.compile(
    r"(?:^|\n)[ \t]*from[ \t]+(?P<module>[\w.]+)[ \t]+import"
    r"(?:[ \t]*(?P<bracket>\()(?:[^()#]|#[^\n]*)*|(?:[ \t\w,]*\\\n)+)\Z")
_NAMES_LINE = re.compile(r"^[\w \t,]*$")
IMPORT_LOOKBACK = 4000  # characters searched above a line for the import it continues
# A bare name right after these is read, not bound: only there are bare names constrained.
_STRING_OR_COMMENT = re.compile(r"#[^\n]*|'''|\"\"\"|'|\"")
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
                partial = _partial_at_end(line)
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
        return _callee_before(text[max(0, opened - 200):opened])


def _starts_an_argument(line: str) -> bool:
    """Whether `line` may go on with arguments of a call opened above: blank before the name
    being written, or arguments closed by a comma, with no bracket left open or closed."""
    before = line[: len(line) - len(_partial_at_end(line))]
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
    partial = _partial_at_end(line)
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
        if _after_imported_name(names[: len(names) - len(partial)]):
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


def _partial_at_end(line: str) -> str:
    """The identifier characters already written at the end of `line`."""
    found = _PARTIAL.search(line)
    return found.group(0) if found else ""


def _after_imported_name(before: str) -> bool:
    """Whether the word being written follows a name and a space in an import's name list
    (`path as`, `path as p`: `as` or an alias, not an imported name, comes there); `before`
    is the list up to that word."""
    return re.search(r"\w\s+$", before) is not None


def _from_name_position(module: str, line: str, bracketed: bool) -> IdentifierPosition | None:
    """On a line of names that continues `from module import`; None after `as`."""
    partial = _partial_at_end(line)
    if _after_imported_name(line[: len(line) - len(partial)]):
        return None
    return IdentifierPosition("from_name", partial, module=module,
                              column=len(line) - len(partial), name_optional=bracketed)


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
            name = _callee_before(before[:index])
            return (name, index) if name is not None else None
    return None


def _callee_before(head: str) -> str | None:
    """The called expression that `head`, the text before an opening parenthesis, ends with;
    None where the bracket is no call's (`if (`, `def f(`, `class A(`)."""
    callee = re.search(r"([A-Za-z_][\w.]*)\s*$", head)
    if callee is None or callee.group(1).split(".")[-1] in KEYWORDS \
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
