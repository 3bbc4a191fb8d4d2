"""Identifier-constrained token sets (decoding.mask.trie) over a hand-made vocabulary
(support.vocab), checked against a naive full-vocabulary oracle; every test runs with both
walks (tests/decoding/mask/conftest.py). No timing assertions."""

from __future__ import annotations

import random

import numpy as np
import pytest
from support.vocab import PIECES, SPECIAL, TAIL_ONLY, check, ids, oracle

from tether.decoding.mask.trie import (
    LegalNames,
    VocabularyTrie,
    allowed_tokens,
    allowed_tokens_union,
)


def test_partial_prefix_continuation(trie: VocabularyTrie) -> None:
    legal = LegalNames(["add_item", "remove"])
    assert check(trie, legal, "add") == {3, 10}  # "_item", "_"
    assert check(trie, legal, "a") == {18}  # "d" ("ad" would make "aad")


def test_start_of_name_without_and_with_leading_space(trie: VocabularyTrie) -> None:
    legal = LegalNames(["add_item", "remove"])
    plain = check(trie, legal, "")
    assert plain == {2, 4, 5, 17, 22, 32}  # add, add_item, add_item(, a, remove, ad
    spaced = check(trie, legal, "", allow_leading_space=True)
    assert spaced == plain | {6, 7}  # " add", " add_item"; never "  add", "\tadd", " ("
    # A space is only a lead at the start of the name.
    assert 6 not in check(trie, LegalNames(["x_add"]), "x_", allow_leading_space=True)


def test_exact_completion_with_tail(trie: VocabularyTrie) -> None:
    legal = LegalNames(["add_item", "remove"])
    assert check(trie, legal, "add_it") == {13, 14, 27}  # "em", "em(", "em)"
    # add_item( completes the name in one token; add_item_count overshoots it.
    start = check(trie, legal, "")
    assert 5 in start and 26 not in start


def test_complete_partial_allows_tail_only_tokens(trie: VocabularyTrie) -> None:
    legal = LegalNames(["add_item", "remove"])
    assert check(trie, legal, "add_item") == TAIL_ONLY
    longer = LegalNames(["add_item", "add_item_count"])
    assert check(trie, longer, "add_item") == TAIL_ONLY | {10}  # and "_"
    assert check(trie, longer, "add_item_") == set()  # "count" is not a token here


def test_tail_only_tokens_need_a_complete_name(trie: VocabularyTrie) -> None:
    legal = LegalNames(["add_item"])
    assert not check(trie, legal, "") & TAIL_ONLY
    assert not check(trie, legal, "add") & TAIL_ONLY
    # ... unless the caller says no identifier at all is fine here.
    assert check(trie, legal, "", allow_empty=True) >= TAIL_ONLY
    assert check(trie, LegalNames([]), "", allow_empty=True) == TAIL_ONLY


def test_tails_that_start_another_identifier_are_excluded(trie: VocabularyTrie) -> None:
    legal = LegalNames(["add_item", "x", "y"])
    for partial in ("", "add_item", "x"):
        got = check(trie, legal, partial, allow_leading_space=True, allow_empty=True)
        assert not got & {19, 20, 23}
    permissive = VocabularyTrie(PIECES, SPECIAL, allow_identifier_in_tail=True)
    assert {19, 20} <= ids(allowed_tokens(permissive, legal, "add_item", allow_leading_space=False))
    assert 23 in ids(allowed_tokens(permissive, legal, "", allow_leading_space=False))


def test_multi_token_spelling(trie: VocabularyTrie) -> None:
    """Step through several spellings of add_item(; every step's set matches the oracle."""
    legal = LegalNames(["add_item", "add", "remove"])
    spellings = [[17, 18, 18, 10, 12, 14], [2, 3, 8], [6, 10, 11, 9], [32, 18, 3, 16], [5]]
    for tokens in spellings:
        partial = ""
        for step, token in enumerate(tokens):
            allowed = check(trie, legal, partial, allow_leading_space=step == 0)
            assert token in allowed, (tokens, step, partial)
            split = trie.split(token)
            assert split is not None
            lead, ident, tail = split
            assert not lead or step == 0
            if tail:
                assert legal.is_complete(partial + ident)
                assert step == len(tokens) - 1
                partial = None  # the name is finished
                break
            partial += ident
        assert partial in (None, "add_item")


def test_greedy_longest_token_spells_the_name(trie: VocabularyTrie) -> None:
    legal = LegalNames(["add_item"])
    partial, text = "", ""
    while not legal.is_complete(partial):
        allowed = allowed_tokens(trie, legal, partial, allow_leading_space=False)
        parts = {t: trie.split(t) for t in allowed.tolist()}
        idents = {t: p[1] for t, p in parts.items() if p is not None and not p[2]}
        token = max(idents, key=lambda t: len(idents[t]))
        partial += idents[token]
        text += PIECES[token].decode()
    assert text == "add_item"


def test_no_legal_continuation_is_empty(trie: VocabularyTrie) -> None:
    legal = LegalNames(["add_item", "remove"])
    for partial in ("xyz", "add_items", "remov_"):
        got = allowed_tokens(trie, legal, partial, allow_leading_space=True)
        assert got.shape == (0,) and got.dtype == np.int32
    assert allowed_tokens(trie, LegalNames([]), "", allow_leading_space=True).size == 0
    assert allowed_tokens(trie, LegalNames(["zzz"]), "", allow_leading_space=True).size == 0


def test_special_and_invalid_tokens_never_allowed(trie: VocabularyTrie) -> None:
    legal = LegalNames(["add", "add_item", "remove"])
    seen: set[int] = set()
    for partial in ("", "a", "ad", "add", "add_", "add_item"):
        for space in (False, True):
            seen |= check(trie, legal, partial, allow_leading_space=space, allow_empty=True)
    assert 2 in seen and not seen & (SPECIAL | {25})
    assert trie.split(36) is None and trie.split(25) is None and trie.text(0) is None


def test_unicode_identifiers(trie: VocabularyTrie) -> None:
    legal = LegalNames(["données"])
    assert check(trie, legal, "") == {18, 24, 34}  # "d", "données", "donn"
    assert check(trie, legal, "donn") == {33, 37}  # "ées", "é"
    assert check(trie, legal, "donné") == {38}  # "es"
    assert check(trie, legal, "données") == TAIL_ONLY


def test_results_are_cached_and_read_only(trie: VocabularyTrie) -> None:
    legal = LegalNames(["add_item", "remove"])
    first = allowed_tokens(trie, legal, "add", allow_leading_space=True)
    again = allowed_tokens(trie, legal, "add", allow_leading_space=False)  # flag moot mid-name
    assert first is again
    assert not first.flags.writeable
    with pytest.raises(ValueError):
        first[0] = 0


def test_union_of_layers(trie: VocabularyTrie) -> None:
    shared = LegalNames(["add_item", "remove"])
    local = LegalNames(["add", "données"])
    both = LegalNames(["add_item", "remove", "add", "données"])
    for partial in ("", "a", "add", "add_", "donn", "remove", "zz"):
        for space in (False, True):
            union = allowed_tokens_union(
                trie, [shared, local], partial, allow_leading_space=space, allow_empty=True
            )
            assert ids(union) == check(
                trie, both, partial, allow_leading_space=space, allow_empty=True
            )
            again = allowed_tokens_union(
                trie, [shared, local], partial, allow_leading_space=space, allow_empty=True
            )
            assert again is union
    assert allowed_tokens_union(trie, [], "", allow_leading_space=True).size == 0
    single = allowed_tokens_union(trie, [shared], "add", allow_leading_space=False)
    assert single is allowed_tokens(trie, shared, "add", allow_leading_space=False)


def test_randomized_against_oracle() -> None:
    """Random BPE-like vocabulary and legal sets with shared prefixes: every reachable
    partial, with and without a leading space, matches the full-vocabulary oracle."""
    rng = random.Random(7)
    alphabet = "ab_cé1"
    frags = {"".join(rng.choices(alphabet, k=rng.randint(1, 4))) for _ in range(150)}
    tails = ["", "", "", "(", ").", " ", ":\n", "(x", "[0]"]
    pieces = [b""]
    for frag in sorted(frags):
        for lead in ("", " "):
            pieces.append((lead + frag + rng.choice(tails)).encode())
            pieces.append((lead + frag).encode())
    pieces += [b"(", b")", b" ", b".", b"\xe9", b"\xc3"]
    special = {0, 3}
    trie = VocabularyTrie(pieces, special)
    for _ in range(15):
        names = {
            "".join(rng.choices(alphabet[:4], k=rng.randint(1, 3)))
            + "".join(rng.choices(alphabet, k=rng.randint(0, 6)))
            for _ in range(rng.randint(1, 40))
        }
        names = {n for n in names if n.isidentifier()}
        legal = LegalNames(names)
        partials = {n[:k] for n in names for k in range(len(n) + 1)} | {"zz", "a_x"}
        for partial in sorted(partials):
            for space in (False, True):
                got = allowed_tokens(
                    trie, legal, partial, allow_leading_space=space, allow_empty=space
                )
                want = oracle(
                    pieces, special, names, partial, allow_leading_space=space, allow_empty=space
                )
                assert ids(got) == want, (sorted(names), partial, space)


def test_degenerate_vocabularies() -> None:
    legal = LegalNames(["a", "ab"])
    for pieces in ([], [b""], [b"(", b" "], [b"\xc3"]):
        trie = VocabularyTrie(pieces)
        for partial in ("", "a", "ab"):
            got = ids(allowed_tokens(trie, legal, partial, allow_leading_space=True))
            assert got == oracle(pieces, (), legal, partial, allow_leading_space=True)


def test_split_and_cached_build() -> None:
    trie = VocabularyTrie.cached(PIECES, SPECIAL)
    assert VocabularyTrie.cached(PIECES, SPECIAL) is trie
    assert VocabularyTrie.cached(PIECES, set()) is not trie
    assert trie.vocab_size == len(PIECES)
    assert trie.split(7) == (" ", "add_item", "")
    assert trie.split(5) == ("", "add_item", "(")
    assert trie.split(31) == ("", "", " (")
    assert trie.split(21) == ("", "", "  add")
    assert trie.split(999) is None
