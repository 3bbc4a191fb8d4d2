"""Vectorized variant of the legal-names x vocabulary trie walk, for large legal sets.

:mod:`decoding.mask.trie` walks the sorted legal names in Python, one dict probe per trie
node. With hundreds of names those probes dominate (scattered memory, interpreter overhead),
so for large ranges the same walk is done level-synchronously with numpy instead:

* every vocabulary trie node (each prefix of each token ``ident``) is stored by two 64-bit
  polynomial hashes of its code points, in a bucketed open table (``HashedNodes``);
* the legal names are a code point matrix; the hashes of all their prefixes below ``partial``
  are computed column by column, restricted to the prefixes a sorted neighbour has not
  already produced (the same longest-common-prefix rule as the Python walk, so no duplicates);
* all of them are looked up at once; a hit must match both hashes and the length, so a
  false match needs two independent 64-bit collisions on short strings;
* the token ids of the hit nodes are gathered from one flat int32 array with ranges.

The result is the same set the Python walk produces (checked in the tests), at a cost of a
few dozen numpy calls plus work proportional to the legal names in range.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["HashedNodes", "name_matrix"]

_B1 = np.uint64(0x100000001B3)
_B2 = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0x5BD1E995)
_ONE = np.uint64(1)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def name_matrix(names: Sequence[str]) -> npt.NDArray[np.uint32]:
    """Code points of ``names``, one row each, NUL-padded to the longest."""
    width = max(1, max(map(len, names), default=1))
    return np.array(names, dtype=f"<U{width}").view(np.uint32).reshape(len(names), width)


def _step(h1: np.ndarray, h2: np.ndarray, column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = column.astype(np.uint64, copy=False)
    return h1 * _B1 + (c + _ONE), (h2 ^ (c + _K2)) * _B2


class HashedNodes:
    """Numpy mirror of a vocabulary trie's nodes. ``nodes`` are all ident prefixes, those with
    tokens first: node ``j`` of those has the token ids ``flat[marks[4j + c]:marks[4j + c + 1]]``
    in category ``c`` (0 plain, 1 plain + tail, 2 lead, 3 lead + tail)."""

    def __init__(
        self,
        nodes: Sequence[str],
        flat: npt.NDArray[np.int32],
        marks: npt.NDArray[np.int32],
        max_len: int,
    ) -> None:
        n = len(nodes)
        self.max_len = max_len
        lengths = np.fromiter(map(len, nodes), dtype=np.int64, count=n)
        points = name_matrix(nodes) if n else np.zeros((0, 1), dtype=np.uint32)
        h1 = np.zeros(n, dtype=np.uint64)
        h2 = np.zeros(n, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for k in range(points.shape[1]):
                live = k < lengths
                n1, n2 = _step(h1, h2, points[:, k])
                h1 = np.where(live, n1, h1)
                h2 = np.where(live, n2, h2)
        bits = max(4, int(n).bit_length())  # about one node per bucket
        self._shift = np.uint64(64 - bits)
        buckets = self._bucket(h1)
        order = np.argsort(buckets, kind="stable")
        self._h1 = h1[order]
        self._h2 = h2[order]
        self._len = lengths[order].astype(np.int32)
        self._start = np.searchsorted(buckets[order], np.arange((1 << bits) + 1))
        self._start = self._start.astype(np.int32)
        self._flat = flat
        with_tokens = (len(marks) - 1) // 4
        bounds = np.zeros((n, 5), dtype=np.int32)  # inner nodes: empty ranges
        bounds[:with_tokens] = marks[4 * np.arange(with_tokens)[:, None] + np.arange(5)]
        self._bounds = bounds[order]  # [j, c] .. [j, c + 1]: category c of sorted node j

    def _bucket(self, h1: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return ((h1 * _GOLDEN) >> self._shift).astype(np.intp)

    def _lookup(self, q1: np.ndarray, q2: np.ndarray, qlen: np.ndarray) -> np.ndarray:
        """Sorted-table position of each query, -1 where it is not a node."""
        buckets = self._bucket(q1)
        lo = self._start[buckets]
        hi = self._start[buckets + 1]
        found = np.full(q1.shape[0], -1, dtype=np.intp)
        todo = np.flatnonzero(lo < hi)
        offset = 0
        while todo.size:
            slot = lo[todo] + offset
            match = self._h1[slot] == q1[todo]
            match[match] = (self._h2[slot[match]] == q2[todo[match]]) & (
                self._len[slot[match]] == qlen[todo[match]]
            )
            found[todo[match]] = slot[match]
            todo = todo[~match]
            offset += 1
            todo = todo[lo[todo] + offset < hi[todo]]
        return found

    def allowed(
        self,
        points: npt.NDArray[np.uint32],
        lengths: npt.NDArray[np.int64],
        lcp: npt.NDArray[np.int64],
        n0: int,
        lead: bool,
    ) -> npt.NDArray[np.int32]:
        """Token ids whose ident continues a length-``n0`` common prefix of the given names
        (code point rows, lengths, lcp with the previous row) along one of them: plain (and,
        with ``lead``, spaced) tokens for every prefix, tail tokens where a name ends."""
        depth = min(self.max_len, points.shape[1] - n0)
        if depth <= 0:
            return np.zeros(0, dtype=np.int32)
        rows = points.shape[0]
        columns = np.ascontiguousarray(points[:, n0 : n0 + depth].T, dtype=np.uint64)
        h1 = np.zeros(rows, dtype=np.uint64)
        h2 = np.zeros(rows, dtype=np.uint64)
        q1 = np.empty((depth, rows), dtype=np.uint64)  # q[k - 1, r]: prefix of length k of r
        q2 = np.empty((depth, rows), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for k in range(depth):
                h1, h2 = _step(h1, h2, columns[k])
                q1[k] = h1
                q2[k] = h2
        ks = np.arange(1, depth + 1)[:, None]
        rest = lengths - n0
        wanted = (ks <= rest) & (ks > lcp - n0)  # shorter prefixes: produced by the previous row
        qlen = np.nonzero(wanted)[0].astype(np.int32) + 1
        found = self._lookup(q1[wanted], q2[wanted], qlen)
        hit = found >= 0
        nodes = found[hit]
        ends = nodes[qlen[hit] == np.broadcast_to(rest, wanted.shape)[wanted][hit]]
        b = self._bounds
        if lead:
            starts = (b[nodes, 0], b[nodes, 2], b[ends, 1], b[ends, 3])
            stops = (b[nodes, 1], b[nodes, 3], b[ends, 2], b[ends, 4])
        else:
            starts, stops = (b[nodes, 0], b[ends, 1]), (b[nodes, 1], b[ends, 2])
        first = np.concatenate(starts).astype(np.intp)
        sizes = np.concatenate(stops) - first
        total = int(sizes.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int32)
        shift = first - (np.cumsum(sizes) - sizes)
        return self._flat[np.repeat(shift, sizes) + np.arange(total)]
