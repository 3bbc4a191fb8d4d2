"""Identifier-constrained token masks: which vocabulary tokens may be sampled at a name position.

At a constrained decoding step the decoder knows ``partial`` (identifier characters already
generated at this position) and a :class:`LegalNames` set (the names static analysis allows
here; :mod:`decoding.mask.legal_names`). :func:`allowed_tokens` returns the ids of the tokens that
keep the output on a legal name; :class:`TokenMask` (:mod:`decoding.mask.logits`) writes
``-inf`` over every other logit in place. Both classes are re-exported here.

Token classification (done once per model by :class:`VocabularyTrie`). Each token's text is
split into ``lead`` + ``ident`` + ``tail``:

* ``lead`` is a single space directly followed by an identifier character (``" foo"``), else
  empty. Lead tokens are allowed only where ``partial == ""`` and the caller allows a space.
  Two or more spaces, tabs or newlines before a name never count as a lead.
* ``ident`` is the longest prefix (after ``lead``) of identifier-continue characters
  (``("_" + c).isidentifier()``).
* ``tail`` is the rest; it starts with a non-identifier character. By default a tail that
  contains an identifier-start character (``"(self"``, ``".append"``, ``") if"``) disqualifies
  the token, because it would write a second, unchecked name; digits are fine (``"[0]"``).

Rules, with ``full = partial + ident``:

* tail empty, ident non-empty: allowed iff ``full`` is a prefix of (or equal to) a legal name;
* tail non-empty: allowed iff ``full`` is a complete legal name (so ident-less tokens such as
  ``"("`` or ``"\\n"`` need ``partial`` itself to be complete), or ``full == ""`` and the
  caller passed ``allow_empty=True`` (the identifier is optional here).

Special/control ids, empty pieces and pieces that are not valid UTF-8 (byte-fallback fragments
of a multi-byte character) are never allowed, so a name whose characters exist only as byte
fragments cannot be spelled.

Data layout: the vocabulary side is a hash trie -- a dict from every prefix of every token
``ident`` to either ``()`` (inner node) or the token ids grouped by (lead, tail empty). The
legal side is a sorted array (an implicit trie: every trie node is a contiguous range, found
by bisection) plus the longest common prefix of neighbours. :func:`allowed_tokens` walks the
legal names below ``partial`` in order, skips prefixes a neighbour already visited, and stops a
branch as soon as it leaves the vocabulary trie, so the cost is proportional to the part of
the legal trie that the vocabulary can spell -- never to the vocabulary size. From
:data:`VECTOR_MIN_NAMES` names below ``partial`` on, the same walk runs level-synchronously in
numpy over hashed trie nodes (:mod:`decoding.mask.hashed`), which is several times faster for
hundreds of names. Results are cached on the :class:`LegalNames` object per (trie, partial,
flags); :func:`allowed_tokens_union` combines cached results of layered legal sets.
"""

from __future__ import annotations

import gc
import re
import threading
import time
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from tether.decoding.mask.hashed import HashedNodes
from tether.decoding.mask.legal_names import LegalNames
from tether.decoding.mask.logits import TokenMask

__all__ = [
    "LegalNames",
    "TokenMask",
    "VocabularyTrie",
    "allowed_tokens",
    "allowed_tokens_union",
]

TokenIds = npt.NDArray[np.int32]

_EMPTY_IDS: TokenIds = np.zeros(0, dtype=np.int32)
_EMPTY_IDS.flags.writeable = False
_MAX_CACHED_RESULTS = 1024
VECTOR_MIN_NAMES = 64
"""From this many legal names below ``partial`` on, walk them with numpy (measured crossover:
the Python walk wins below ~50 names with warm caches, numpy from ~30 with cold ones)."""


# VocabularyTrie.cached: (id(pieces), special ids, flag) -> (pieces, trie); holding `pieces`
# keeps its id from being reused while the entry exists.
_MEMO: dict[tuple[int, frozenset[int], bool], tuple[Sequence[bytes], VocabularyTrie]] = {}
_MEMO_LOCK = threading.Lock()


def _is_ident_continue(c: str) -> bool:
    return ("_" + c).isidentifier()


def _char_class(chars: Iterable[str]) -> str:
    """Regex character class matching exactly ``chars`` (compressed into code point runs)."""
    codes = sorted({ord(c) for c in chars})
    parts: list[str] = []
    i = 0
    while i < len(codes):
        j = i
        while j + 1 < len(codes) and codes[j + 1] == codes[j] + 1:
            j += 1
        lo, hi = re.escape(chr(codes[i])), re.escape(chr(codes[j]))
        parts.append(lo if i == j else f"{lo}-{hi}")
        i = j + 1
    return "[" + "".join(parts) + "]" if parts else "[^\\s\\S]"


class VocabularyTrie:
    """Per-model index of token texts by their identifier part. Build once per model (1-2 s for
    a 262k vocabulary; :meth:`cached` memoizes per ``pieces`` object) and share it; it is
    immutable after construction and safe to use from several threads.

    Args:
        pieces: decoded bytes of every token, indexed by id (SentencePiece's ``▁`` already
            turned into a space, as :meth:`decoding.model.runtime.ModelRuntime.token_pieces` does).
        special_ids: control/special token ids, never allowed.
        allow_identifier_in_tail: accept tails such as ``"(self"`` that contain a second
            (unchecked) identifier. Off by default.
    """

    def __init__(
        self,
        pieces: Sequence[bytes],
        special_ids: Iterable[int] = (),
        *,
        allow_identifier_in_tail: bool = False,
    ) -> None:
        started = time.perf_counter()
        self.vocab_size: int = len(pieces)
        self.special_ids: frozenset[int] = frozenset(int(t) for t in special_ids)
        self.allow_identifier_in_tail = allow_identifier_in_tail
        self._pieces = pieces
        gc_was_enabled = gc.isenabled()
        gc.disable()  # hundreds of thousands of new containers: collections would dominate
        try:
            self._build(pieces)
        finally:
            if gc_was_enabled:
                gc.enable()
        self.build_seconds: float = time.perf_counter() - started

    def _build(self, pieces: Sequence[bytes]) -> None:
        texts: list[str | None] = []
        for piece in pieces:
            try:
                texts.append(piece.decode("utf-8"))
            except UnicodeDecodeError:
                texts.append(None)
        for t in self.special_ids:
            if 0 <= t < len(texts):
                texts[t] = None
        chars = set("".join(t for t in texts if t))
        cont = _char_class(c for c in chars if _is_ident_continue(c))
        self._split_re = re.compile(f"( (?={cont}))?({cont}*)")
        self._start_re = re.compile(_char_class(c for c in chars if c.isidentifier()))

        groups: dict[str, int] = {}  # ident -> node number, in order of first appearance
        tail_only: list[int] = []
        tok_ids: list[int] = []
        tok_key: list[int] = []  # 4 * node number + category (plain, +tail, lead, lead+tail)
        split, start_search = self._split_re.match, self._start_re.search
        allow_dirty = self.allow_identifier_in_tail
        for tid, text in enumerate(texts):
            if not text:
                continue
            m = split(text)
            assert m is not None  # the pattern matches the empty string
            end = m.end()
            tail = end < len(text)
            if tail and not allow_dirty and start_search(text, end):
                continue
            ident = m.group(2)
            if not ident:
                tail_only.append(tid)
                continue
            node = groups.get(ident)
            if node is None:
                node = groups[ident] = len(groups)
            tok_ids.append(tid)
            tok_key.append(4 * node + (2 if m.group(1) else 0) + tail)
        del texts

        # Token ids grouped by (node, category): flat[marks[4j + c] : marks[4j + c + 1]].
        keys = np.array(tok_key, dtype=np.int64)
        by_key = np.argsort(keys, kind="stable")
        flat = np.array(tok_ids, dtype=np.int32)[by_key]
        marks = np.searchsorted(keys[by_key], np.arange(4 * len(groups) + 1)).astype(np.int32)
        ids, bounds = flat.tolist(), marks.tolist()
        index: dict[str, tuple[tuple[int, ...], ...]] = dict(
            zip(
                groups,
                [
                    (
                        tuple(ids[bounds[j] : bounds[j + 1]]),
                        tuple(ids[bounds[j + 1] : bounds[j + 2]]),
                        tuple(ids[bounds[j + 2] : bounds[j + 3]]),
                        tuple(ids[bounds[j + 3] : bounds[j + 4]]),
                    )
                    for j in range(0, 4 * len(groups), 4)
                ],
                strict=True,
            )
        )
        for ident in groups:
            for k in range(len(ident) - 1, 0, -1):
                if ident[:k] in index:
                    break  # all shorter prefixes are present too
                index[ident[:k]] = ()  # inner node
        self._index = index
        self._max_ident = max(map(len, groups), default=0)
        # Node numbers = positions in `index`: idents first, then inner nodes.
        self._hashed = HashedNodes(list(index), flat, marks, self._max_ident)
        self._tail_only: TokenIds = np.asarray(tail_only, dtype=np.int32)
        self._tail_only.flags.writeable = False
        self.n_identifier_tokens: int = len(tok_ids)
        """Tokens with a non-empty identifier part (admissible at some name position)."""
        self.n_tail_only_tokens: int = len(tail_only)
        """Tokens without identifier part, admissible after a complete name."""

    @classmethod
    def cached(
        cls,
        pieces: Sequence[bytes],
        special_ids: Iterable[int] = (),
        *,
        allow_identifier_in_tail: bool = False,
    ) -> VocabularyTrie:
        """Build once per ``pieces`` object (the runtime shares one list per model) and reuse.
        Keeps the two most recent tries."""
        special = frozenset(int(t) for t in special_ids)
        key = (id(pieces), special, allow_identifier_in_tail)
        with _MEMO_LOCK:
            hit = _MEMO.get(key)
            if hit is not None and hit[0] is pieces:
                return hit[1]
            trie = cls(pieces, special, allow_identifier_in_tail=allow_identifier_in_tail)
            _MEMO[key] = (pieces, trie)
            while len(_MEMO) > 2:
                del _MEMO[next(iter(_MEMO))]
            return trie

    def text(self, token_id: int) -> str | None:
        """Decoded text of a token, ``None`` for special or non-UTF-8 tokens."""
        if not 0 <= token_id < self.vocab_size or token_id in self.special_ids:
            return None
        try:
            return self._pieces[token_id].decode("utf-8")
        except UnicodeDecodeError:
            return None

    def split(self, token_id: int) -> tuple[str, str, str] | None:
        """``(lead, ident, tail)`` of a token (``None`` for special or non-UTF-8 tokens).
        After sampling a token, the next ``partial`` is ``partial + ident`` if ``tail`` is
        empty; otherwise the name is finished."""
        text = self.text(token_id)
        if not text:
            return None
        m = self._split_re.match(text)
        assert m is not None
        return m.group(1) or "", m.group(2), text[m.end() :]


def allowed_tokens(
    trie: VocabularyTrie,
    legal: LegalNames,
    partial: str,
    *,
    allow_leading_space: bool,
    allow_empty: bool = False,
) -> TokenIds:
    """Token ids (int32, read-only, no duplicates, unspecified order) that continue ``partial``
    toward a name in ``legal`` -- see the module docstring for the exact rules.

    ``allow_leading_space`` admits ``" name"`` tokens and ``allow_empty`` admits tokens that
    write no identifier at all (both only matter when ``partial == ""``). An empty result
    means no legal continuation exists. Cached on ``legal`` per (trie, partial, flags).
    """
    return allowed_tokens_union(
        trie, (legal,), partial, allow_leading_space=allow_leading_space, allow_empty=allow_empty
    )


def allowed_tokens_union(
    trie: VocabularyTrie,
    layers: Sequence[LegalNames],
    partial: str,
    *,
    allow_leading_space: bool,
    allow_empty: bool = False,
) -> TokenIds:
    """:func:`allowed_tokens` for the union of several legal sets, e.g. builtins (one object
    per process) + module globals (per document version) + locals (per position). The allowed
    set of a union is the union of the allowed sets, so each layer's cached result is reused
    across positions and only the small per-position layer is walked. Put the per-position
    layer last: the merged result is cached on it."""
    if not layers:
        return _EMPTY_IDS
    if partial:
        allow_leading_space = allow_empty = False
    cache = layers[-1]._cache
    key = (trie, partial, allow_leading_space, allow_empty, *layers[:-1])
    result = cache.get(key)
    if result is None:
        if len(layers) == 1:
            result = _compute(trie, layers[0], partial, allow_leading_space, allow_empty)
        else:
            flags = {"allow_leading_space": allow_leading_space, "allow_empty": allow_empty}
            parts = [allowed_tokens(trie, legal, partial, **flags) for legal in layers]
            parts = [part for part in parts if part.size]
            if len(parts) <= 1:
                result = parts[0] if parts else _EMPTY_IDS
            else:
                result = np.unique(np.concatenate(parts))
                result.flags.writeable = False
        if len(cache) >= _MAX_CACHED_RESULTS:
            cache.clear()
        cache[key] = result
    return result


def _compute(
    trie: VocabularyTrie, legal: LegalNames, partial: str, lead: bool, allow_empty: bool
) -> TokenIds:
    names = legal._sorted
    lo, hi = legal._range(partial)
    tail_only = allow_empty
    out: list[int] = []
    if hi - lo >= VECTOR_MIN_NAMES:
        points, lengths, lcps = legal._matrix()
        n = len(partial)
        found = trie._hashed.allowed(points[lo:hi], lengths[lo:hi], lcps[lo:hi], n, lead)
        if tail_only or lengths[lo] == n:  # ... or partial itself is a legal name
            found = np.concatenate((found, trie._tail_only))
        found.flags.writeable = False
        return found
    if lo < hi:
        lcp = legal._common_prefixes()
        get = trie._index.get
        extend = out.extend
        n = len(partial)
        reach = n + trie._max_ident
        for i in range(lo, hi):
            name = names[i]
            size = len(name)
            if size == n:  # partial itself is a legal name
                tail_only = True
                continue
            # Prefixes up to the common prefix with the previous name were visited there.
            k = max(lcp[i], n) + 1
            end = min(size, reach)
            while k <= end:
                entry = get(name[n:k])
                if entry is None:  # no token spells this continuation
                    break
                if entry:  # () for an inner node
                    extend(entry[0])
                    if lead:
                        extend(entry[2])
                    if k == size:  # completes the name: tokens with a tail fit too
                        extend(entry[1])
                        if lead:
                            extend(entry[3])
                k += 1
    if not out:
        result = trie._tail_only if tail_only else _EMPTY_IDS
    else:
        result = np.array(out, dtype=np.int32)
        if tail_only:
            result = np.concatenate((result, trie._tail_only))
        result.flags.writeable = False
    return result
