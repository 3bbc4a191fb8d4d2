"""Which part of the file before the cursor goes into the prompt.

The window starts at a line boundary snapped to a coarse grid, so that while the user types
the window's start (and with it every cached token before the cursor) stays put: only when
the prefix outgrows the budget does the start move, by a whole block of lines at once.
Tokens are counted per grid block, from the cursor back, so a long file costs a few block
counts (remembered between requests, see :class:`decoding.model.token_counts.TokenCounts`)
instead of tokenizing all of it.
"""

from __future__ import annotations

from collections.abc import Callable

CountTokens = Callable[[str], int]
LINE_GRID = 32


class PrefixWindow:
    def __init__(self, count_tokens: CountTokens, budget: int) -> None:
        self.count_tokens = count_tokens
        self.budget = budget

    def cut(self, prefix: str, hint: str = "") -> str:
        """The tail of `prefix` that fits the token budget, starting at a grid-snapped line,
        with `hint` inserted right before the cursor's line."""
        head, _, current = prefix.rpartition("\n")
        lines = head.split("\n") if head else []
        had_newline = "\n" in prefix
        start = self._start_line(lines, self.count_tokens(hint + current))
        kept = lines[start:]
        body = "\n".join(kept) + ("\n" if kept or had_newline else "")
        return body + hint + current

    def _start_line(self, lines: list[str], reserved: int) -> int:
        """The first line to keep: the start of the longest run of whole grid blocks before
        the cursor's line that fits the budget. When not even the cursor's own block fits,
        as many of its last lines as fit (no stable start is possible then)."""
        budget = self.budget - reserved
        if budget <= 0:
            return len(lines)
        used = 0
        end = len(lines)
        while end > 0:
            start = (end - 1) // LINE_GRID * LINE_GRID
            cost = self.count_tokens("\n".join(lines[start:end]) + "\n")
            if used + cost > budget:
                return self._lines_that_fit(lines, end, budget) if used == 0 else end
            used += cost
            end = start
        return 0

    def _lines_that_fit(self, lines: list[str], end: int, budget: int) -> int:
        start = end
        while start > 0:
            cost = self.count_tokens(lines[start - 1] + "\n")
            if cost > budget:
                break
            budget -= cost
            start -= 1
        return start
