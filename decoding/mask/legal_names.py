"""Legal names at one decoding position (re-exported by :mod:`decoding.mask.trie`)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator

import numpy as np
import numpy.typing as npt

from tether.decoding.mask.hashed import name_matrix

__all__ = ["LegalNames"]

# Upper bound for "strings starting with p": no identifier character is U+10FFFF.
_PAST_PREFIX = "\U0010ffff"


class LegalNames:
    """The identifier strings allowed at one position: a sorted array used as an implicit trie
    (thousands of names build in about a millisecond). Reuse the same object for every step at
    the position: :func:`decoding.mask.trie.allowed_tokens` caches its results on it. The
    empty string is ignored (use ``allow_empty`` instead)."""

    __slots__ = ("__weakref__", "_arrays", "_cache", "_lcp", "_names", "_sorted")

    def __init__(self, names: Iterable[str]) -> None:
        unique = set(names)
        unique.discard("")
        self._names: set[str] = unique  # private, never mutated
        self._sorted: list[str] = sorted(unique)
        self._lcp: list[int] | None = None
        self._arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._cache: dict[tuple[object, ...], npt.NDArray[np.int32]] = {}

    def __len__(self) -> int:
        return len(self._sorted)

    def __iter__(self) -> Iterator[str]:
        return iter(self._sorted)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __repr__(self) -> str:
        return f"LegalNames({len(self._sorted)} names)"

    def is_complete(self, s: str) -> bool:
        """``s`` is a legal name."""
        return s in self._names

    def has_prefix(self, s: str) -> bool:
        """Some legal name starts with ``s`` (or equals it)."""
        names = self._sorted
        i = bisect_left(names, s)
        return i < len(names) and names[i].startswith(s)

    def _range(self, prefix: str) -> tuple[int, int]:
        names = self._sorted
        lo = bisect_left(names, prefix)
        if not prefix:
            return lo, len(names)
        return lo, bisect_left(names, prefix + _PAST_PREFIX, lo)

    def completions(self, prefix: str) -> list[str]:
        """Legal names starting with ``prefix``, sorted."""
        lo, hi = self._range(prefix)
        return self._sorted[lo:hi]

    def _common_prefixes(self) -> list[int]:
        """``lcp[i]``: length of the common prefix of names ``i - 1`` and ``i`` (0 for i = 0)."""
        if self._lcp is None:
            self._prepare()
        assert self._lcp is not None
        return self._lcp

    def _matrix(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Code point matrix, lengths and lcp array of the sorted names."""
        if self._arrays is None:
            self._prepare()
        assert self._arrays is not None
        return self._arrays

    def _prepare(self) -> None:
        names = self._sorted
        points = name_matrix(names)
        lengths = np.fromiter(map(len, names), dtype=np.int64, count=len(names))
        lcp = np.zeros(len(names), dtype=np.int64)
        if len(names) > 1:
            same = points[1:] == points[:-1]
            lcp[1:] = np.argmin(same, axis=1)
            # Distinct names differ at some column unless one is the other + NULs.
            ties = np.flatnonzero(same.all(axis=1))
            lcp[ties + 1] = np.minimum(lengths[ties], lengths[ties + 1])
        self._lcp = lcp.tolist()
        self._arrays = (points, lengths, lcp)
