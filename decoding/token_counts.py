"""Remembered token counts of text pieces.

A prompt is assembled from the same pieces request after request: the unchanged blocks of
lines above the cursor, the signatures and snippets of the repository context. Tokenizing a
large vocabulary's text costs about 0.6 µs per character (20 ms for a 30 KB file), so each
piece is counted once and its count kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

Tokenize = Callable[[str], list[int]]
KEPT_COUNTS = 2048


class TokenCounts:
    """``counts(text)`` is ``len(tokenize(text))``, remembered for the latest KEPT_COUNTS
    texts. Safe to call from several threads."""

    def __init__(self, tokenize: Tokenize, kept: int = KEPT_COUNTS) -> None:
        self._tokenize = tokenize
        self._kept = kept
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, text: str) -> int:
        with self._lock:
            count = self._counts.get(text)
            if count is not None:
                self._counts.move_to_end(text)
                return count
        count = len(self._tokenize(text))
        with self._lock:
            self._counts[text] = count
            while len(self._counts) > self._kept:
                self._counts.popitem(last=False)
        return count
