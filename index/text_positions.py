"""Text positions: the one place where LSP's UTF-16 columns meet Python's str indexes.

LSP positions count UTF-16 code units; Python strings index code points; tree-sitter counts
UTF-8 bytes. A lone surrogate (an editor buffer may hold one) is one unit in UTF-16 and is
encoded with `surrogatepass` so that no conversion ever raises.
"""

from __future__ import annotations


def utf16_length(text: str) -> int:
    """How many UTF-16 code units `text` takes."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf16_column(line: str, index: int) -> int:
    """The UTF-16 column of a str index within one line."""
    return utf16_length(line[:index])


def utf16_to_index(line: str, units: int) -> int:
    """The str index of a UTF-16 offset within one line (clamped to the line)."""
    if units <= 0:
        return 0
    if line.isascii():
        return min(units, len(line))
    count = 0
    for index, char in enumerate(line):
        if count >= units:
            return index
        count += 2 if ord(char) > 0xFFFF else 1
    return len(line)


def byte_to_index(line: str, byte_column: int) -> int:
    """The str index of a UTF-8 byte column (a tree-sitter point) within one line."""
    if line.isascii():
        return min(byte_column, len(line))
    head = line.encode("utf-8", "surrogatepass")[:byte_column]
    return len(head.decode("utf-8", "surrogatepass"))


def split_at(text: str, line: int, character: int) -> tuple[str, str]:
    """The text before and after a (line, UTF-16 character) position, clamped into the text."""
    lines = text.split("\n")
    line = max(0, min(line, len(lines) - 1))
    current = lines[line]
    column = utf16_to_index(current, character)
    before = "\n".join(lines[:line]) + ("\n" if line else "") + current[:column]
    return before, text[len(before):]
