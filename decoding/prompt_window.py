"""Which part of the file before the cursor goes into the prompt.

The window starts at a line boundary snapped to a coarse grid, so that while the user types
the window's start (and with it every cached token before the cursor) stays put: only when
the prefix outgrows the budget does the start move, by a whole block of lines at once.
"""

from __future__ import annotations

from collections.abc import Callable

Tokenize = Callable[[str], list[int]]
LINE_GRID = 32


def split_at(text: str, line: int, character: int) -> tuple[str, str]:
    """The text before and after a (line, character) position, clamped into the text.
    `character` counts UTF-16 code units, as LSP positions and the eval contract do."""
    lines = text.split("\n")
    line = max(0, min(line, len(lines) - 1))
    current = lines[line]
    column = utf16_to_index(current, character)
    before = "\n".join(lines[:line]) + ("\n" if line else "") + current[:column]
    return before, text[len(before):]


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


class PrefixWindow:
    def __init__(self, tokenize: Tokenize, budget: int) -> None:
        self.tokenize = tokenize
        self.budget = budget

    def cut(self, prefix: str, hint: str = "") -> str:
        """The tail of `prefix` that fits the token budget, starting at a grid-snapped line,
        with `hint` inserted right before the cursor's line."""
        head, _, current = prefix.rpartition("\n")
        lines = head.split("\n") if head else []
        had_newline = "\n" in prefix
        start = self._start_line(lines, len(self.tokenize(hint + current)))
        kept = lines[start:]
        body = "\n".join(kept) + ("\n" if kept or had_newline else "")
        return body + hint + current

    def _start_line(self, lines: list[str], reserved: int) -> int:
        budget = self.budget - reserved
        if budget <= 0:
            return len(lines)
        # Cheap upper bound first: most files fit entirely.
        total_chars = sum(len(line) + 1 for line in lines)
        if total_chars <= budget or len(self.tokenize("\n".join(lines))) <= budget:
            return 0
        needed = len(lines)
        used = 0
        while needed > 0:
            cost = len(self.tokenize(lines[needed - 1] + "\n"))
            if used + cost > budget:
                break
            used += cost
            needed -= 1
        snapped = -(-needed // LINE_GRID) * LINE_GRID  # round up to the grid: never over budget
        return min(snapped, len(lines))
