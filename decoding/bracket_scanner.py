"""A bracket, string and comment scanner for source text fed to it piece by piece."""

from __future__ import annotations

import re
from collections.abc import Iterator

PAIRS = {"(": ")", "[": "]", "{": "}"}
_CODE = r"(?P<q>'''|\"\"\"|'|\")|(?P<o>[(\[{])|(?P<x>[)\]}])|(?P<n>\\?\n)"
_TOKENS = {True: re.compile(r"(?P<c>#)|" + _CODE), False: re.compile(_CODE)}
# From inside a string through its closing quote (a short string also ends with its line).
STRING_END = {
    '"""': re.compile(r'(?:\\.|[^\\])*?"""', re.DOTALL),
    "'''": re.compile(r"(?:\\.|[^\\])*?'''", re.DOTALL),
    '"': re.compile(r'(?:\\.|[^\\\n"])*(?:"|(?=\n))', re.DOTALL),
    "'": re.compile(r"(?:\\.|[^\\\n'])*(?:'|(?=\n))", re.DOTALL),
}

Entry = tuple[str, int]  # an open bracket and its offset
Event = tuple[str, int, Entry | None]


class BracketScanner:
    """Tracks brackets, strings and comments across text fed to it."""

    __slots__ = ("comments", "in_comment", "stack", "string", "string_at")

    def __init__(self, comments: bool) -> None:
        self.comments = comments
        self.stack: list[Entry] = []
        self.string: str | None = None
        self.string_at = 0
        self.in_comment = False

    def copy(self) -> BracketScanner:
        twin = BracketScanner(self.comments)
        twin.stack, twin.string = list(self.stack), self.string
        twin.string_at, twin.in_comment = self.string_at, self.in_comment
        return twin

    def events(self, text: str, base: int = 0) -> Iterator[Event]:
        """("newline", at, None) for line ends outside strings, ("close", at, opener) and
        ("stray", at, None) for closing brackets; `at` is `base` + the index in `text`."""
        pos, tokens = 0, _TOKENS[self.comments]
        while pos < len(text):
            if self.string is not None:
                end = STRING_END[self.string].match(text, pos)
                if end is None:
                    return
                self.string, pos = None, end.end()
            elif self.in_comment:
                pos = text.find("\n", pos)
                if pos < 0:
                    return
                self.in_comment = False
            else:
                match = tokens.search(text, pos)
                if match is None:
                    return
                pos, kind, at = match.end(), match.lastgroup, base + match.start()
                if kind == "q":
                    self.string, self.string_at = match.group(), at
                elif kind == "c":
                    self.in_comment = True
                elif kind == "o":
                    self.stack.append((match.group(), at))
                elif kind == "x":
                    if self.stack and PAIRS[self.stack[-1][0]] == match.group():
                        yield "close", at, self.stack.pop()
                    else:
                        yield "stray", at, None
                elif match.group() == "\n":
                    yield "newline", at, None
