"""Remembered token counts of text pieces.

A prompt is assembled from the same pieces request after request: the unchanged blocks of
lines above the cursor, the signatures and snippets of the repository context. Tokenizing
with a large vocabulary costs about 0.6 µs per character (20 ms for a 30 KB file), so each
piece is counted once and its count kept.
"""

from __future__ import annotations

from collections.abc import Callable

from tether.index.lru import LruCache

Tokenize = Callable[[str], list[int]]
KEPT_COUNTS = 2048


class TokenCounts:
    """``counts(text)`` is ``len(tokenize(text))``, remembered for the latest `kept` texts.
    Safe to call from several threads."""

    def __init__(self, tokenize: Tokenize, kept: int = KEPT_COUNTS) -> None:
        self._tokenize = tokenize
        self._counts: LruCache[str, int] = LruCache(kept)

    def __call__(self, text: str) -> int:
        return self._counts.get_or_compute(text, lambda: len(self._tokenize(text)))
