"""Helpers for the token-mask tests (no tests here): a hand-made vocabulary and a naive
full-vocabulary oracle of the rules of decoding.mask.trie."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from tether.decoding.mask.trie import LegalNames, VocabularyTrie, allowed_tokens

PIECES: list[bytes] = [
    b"",  # 0 control (empty piece)
    b"<eos>",  # 1 special
    b"add",  # 2
    b"_item",  # 3
    b"add_item",  # 4
    b"add_item(",  # 5
    b" add",  # 6
    b" add_item",  # 7
    b"(",  # 8
    b".",  # 9
    b"_",  # 10
    b"item",  # 11
    b"it",  # 12
    b"em",  # 13
    b"em(",  # 14
    b" ",  # 15
    b"\n",  # 16
    b"a",  # 17
    b"d",  # 18
    b"(self",  # 19 tail with a second identifier
    b".append",  # 20 tail with a second identifier
    b"  add",  # 21 two spaces: not a lead
    b"remove",  # 22
    b"x.y",  # 23 tail with a second identifier
    "données".encode(),  # 24
    b"\xc3",  # 25 byte fragment (not UTF-8)
    b"add_item_count",  # 26
    b"em)",  # 27
    b"1",  # 28
    b"[0]",  # 29 digits in a tail are fine
    b"):",  # 30
    b" (",  # 31 space then punctuation: a tail, not a lead
    b"ad",  # 32
    "ées".encode(),  # 33
    b"donn",  # 34
    b"((",  # 35 special
    b"add",  # 36 special duplicate of "add"
    "é".encode(),  # 37
    b"es",  # 38
    b"\tadd",  # 39 tab: not a lead
]
SPECIAL = {0, 1, 35, 36}
TAIL_ONLY = {8, 9, 15, 16, 29, 30, 31}


def _is_continue(c: str) -> bool:
    return ("_" + c).isidentifier()


def oracle(
    pieces: Sequence[bytes],
    special: Iterable[int],
    legal: Iterable[str],
    partial: str,
    *,
    allow_leading_space: bool,
    allow_empty: bool = False,
) -> set[int]:
    """The rules of decoding.mask.trie, applied token by token to the whole vocabulary."""
    special = set(special)
    names = {n for n in legal if n}
    prefixes = {n[:k] for n in names for k in range(len(n) + 1)}
    out: set[int] = set()
    for tid, piece in enumerate(pieces):
        if tid in special or not piece:
            continue
        try:
            text = piece.decode("utf-8")
        except UnicodeDecodeError:
            continue
        spaced = len(text) > 1 and text[0] == " " and _is_continue(text[1])
        if spaced:
            if partial or not allow_leading_space:
                continue
            text = text[1:]
        i = 0
        while i < len(text) and _is_continue(text[i]):
            i += 1
        ident, tail = text[:i], text[i:]
        if any(c.isidentifier() for c in tail):
            continue
        full = partial + ident
        if tail:
            ok = full in names or (full == "" and allow_empty)
        else:
            ok = bool(ident) and full in prefixes
        if ok:
            out.add(tid)
    return out


def ids(arr: np.ndarray) -> set[int]:
    assert arr.dtype == np.int32 and arr.ndim == 1
    values = arr.tolist()
    assert len(values) == len(set(values)), "duplicate token ids"
    return set(values)


def check(
    trie: VocabularyTrie,
    legal: LegalNames,
    partial: str,
    *,
    allow_leading_space: bool = False,
    allow_empty: bool = False,
) -> set[int]:
    got = ids(
        allowed_tokens(
            trie, legal, partial, allow_leading_space=allow_leading_space, allow_empty=allow_empty
        )
    )
    expected = oracle(
        PIECES,
        SPECIAL,
        legal,
        partial,
        allow_leading_space=allow_leading_space,
        allow_empty=allow_empty,
    )
    assert got == expected, (partial, sorted(got ^ expected))
    return got
