"""Identifier-constrained token masks (decoding.mask.trie) over a hand-made vocabulary, checked
against a naive full-vocabulary oracle, plus one check on the embedded model's real vocabulary.
No timing assertions."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pytest

from tether.decoding.mask import trie as vocab_trie
from tether.decoding.mask.trie import (
    LegalNames,
    TokenMask,
    VocabularyTrie,
    allowed_tokens,
    allowed_tokens_union,
)

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


@pytest.fixture(autouse=True, params=["python-walk", "numpy-walk"])
def walk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run every test with both implementations of the legal-names walk."""
    threshold = 10**9 if request.param == "python-walk" else 1
    monkeypatch.setattr(vocab_trie, "VECTOR_MIN_NAMES", threshold)
    return str(request.param)


@pytest.fixture(scope="module")
def trie() -> VocabularyTrie:
    return VocabularyTrie(PIECES, SPECIAL)


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


# ------------------------------------------------------------------------------ LegalNames


def test_legal_names_queries() -> None:
    legal = LegalNames(["add_item", "add", "remove", "", "add"])
    assert len(legal) == 3 and list(legal) == ["add", "add_item", "remove"]
    assert legal.is_complete("add") and legal.is_complete("add_item")
    assert not legal.is_complete("add_") and not legal.is_complete("")
    assert legal.has_prefix("") and legal.has_prefix("add_") and legal.has_prefix("remove")
    assert not legal.has_prefix("removed") and not legal.has_prefix("b")
    assert "remove" in legal and "rem" not in legal
    assert legal.completions("add") == ["add", "add_item"]
    assert legal.completions("z") == []


# ------------------------------------------------------------------------------ allowed_tokens


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


# ------------------------------------------------------------------------------ TokenMask


def test_apply_masks_in_place() -> None:
    buffer = np.arange(40, dtype=np.float32) + 0.5
    logits = buffer[:]  # a view, like the runtime's view into llama.cpp's buffer
    allowed = np.array([3, 17, 5], dtype=np.int32)
    mask = TokenMask(40)
    mask.apply(logits, allowed)
    assert np.shares_memory(logits, buffer)
    keep = np.zeros(40, dtype=bool)
    keep[allowed] = True
    assert np.all(np.isneginf(buffer[~keep]))
    assert buffer[allowed].tolist() == [3.5, 17.5, 5.5]
    assert int(buffer.argmax()) == 17
    # Reusing the scratch buffer with another set.
    fresh = np.arange(40, dtype=np.float32)
    mask.apply(fresh, np.array([0, 39], dtype=np.int32))
    assert np.isfinite(fresh).sum() == 2 and fresh[39] == 39.0
    # Empty set: everything -inf.
    mask.apply(fresh, np.zeros(0, dtype=np.int32))
    assert np.all(np.isneginf(fresh))


def test_apply_other_dtype_and_grown_scratch() -> None:
    logits64 = np.linspace(0.0, 1.0, 10)
    TokenMask(10).apply(logits64, np.array([2], dtype=np.int32))
    assert np.isfinite(logits64).sum() == 1 and logits64[2] == pytest.approx(2 / 9)
    big = np.ones(50, dtype=np.float32)
    TokenMask(4).apply(big, np.arange(0, 50, 2, dtype=np.int32))
    assert np.isfinite(big).sum() == 25


def test_apply_allowed_tokens_end_to_end(trie: VocabularyTrie) -> None:
    logits = np.zeros(len(PIECES), dtype=np.float32)
    logits[26] = 9.0  # the model wants add_item_count, which does not exist
    legal = LegalNames(["add_item"])
    allowed = allowed_tokens(trie, legal, "", allow_leading_space=False)
    TokenMask(len(PIECES)).apply(logits, allowed)
    assert set(np.flatnonzero(np.isfinite(logits)).tolist()) == ids(allowed)
    assert int(logits.argmax()) in ids(allowed)


def test_boost() -> None:
    logits = np.zeros(8, dtype=np.float32)
    logits[5] = -np.inf
    TokenMask.boost(logits, np.array([1, 1, 5], dtype=np.int32), 2.5)
    assert logits[1] == 2.5  # repeated ids are boosted once
    assert np.isneginf(logits[5])
    TokenMask.boost(logits, [3], -1.0)
    assert logits.tolist()[:5] == [0.0, 2.5, 0.0, -1.0, 0.0]


# ------------------------------------------------------------------------------ real vocabulary


@pytest.fixture(scope="module")
def real_runtime(request: pytest.FixtureRequest) -> Any:
    try:
        return request.getfixturevalue("model_runtime")
    except Exception as exc:  # runtime module or embedded model unavailable
        pytest.skip(f"embedded model unavailable: {exc}")


REAL_NAMES = ["list_python_files", "filenames", "dirpath", "os", "result", "root", "walk"]
REAL_STEPS = [("", True), ("", False), ("list_", False), ("list_python_files", False)]


@pytest.fixture(scope="module")
def real_expected(real_runtime: Any) -> list[set[int]]:
    """Oracle answers on the real vocabulary (computed once for both walks)."""
    pieces = real_runtime.token_pieces()
    special = set(real_runtime.vocab.control_ids)
    return [
        oracle(pieces, special, REAL_NAMES, partial, allow_leading_space=space)
        for partial, space in REAL_STEPS
    ]


def test_real_vocabulary(real_runtime: Any, real_expected: list[set[int]]) -> None:
    pieces: list[bytes] = real_runtime.token_pieces()
    special = set(real_runtime.vocab.control_ids)
    trie = VocabularyTrie.cached(pieces, special)
    legal = LegalNames(REAL_NAMES)
    for (partial, space), expected in zip(REAL_STEPS, real_expected, strict=True):
        got = ids(allowed_tokens(trie, legal, partial, allow_leading_space=space))
        assert got == expected
        assert got and not got & special
    # The tokenizer's own spelling of the name is reachable step by step.
    tokens = real_runtime.tokenize(" list_python_files(")
    partial: str | None = ""
    for step, token in enumerate(tokens):
        assert partial is not None
        assert token in ids(allowed_tokens(trie, legal, partial, allow_leading_space=step == 0))
        split = trie.split(token)
        assert split is not None
        partial = None if split[2] else partial + split[1]
    assert partial is None or partial == "list_python_files"


def test_constrained_generation_on_real_logits(real_runtime: Any) -> None:
    """Mask llama.cpp's own logits buffer in place from a logits hook: the model can only
    write a legal name, here names that do not occur in the prompt."""
    rt = real_runtime
    rt.reset()
    trie = VocabularyTrie.cached(rt.token_pieces(), rt.vocab.control_ids)
    legal = LegalNames(["collect_python_sources", "walk_tree", "root_directory"])
    mask = TokenMask(rt.vocab_size)
    partial = ""

    def hook(generated: list[int], logits: np.ndarray) -> None:
        nonlocal partial
        if generated:
            split = trie.split(generated[-1])
            assert split is not None and not split[2]  # generation stops after a tail
            partial += split[1]
        allowed = allowed_tokens(trie, legal, partial, allow_leading_space=not generated)
        assert allowed.size
        mask.apply(logits, allowed)
        assert np.isneginf(logits).sum() == logits.size - allowed.size

    generation = rt.generate(
        rt.build_prompt("import os\n\n\ndef main(path):\n    files ="),
        max_tokens=12,
        logits_hook=hook,
        should_stop=lambda text: re.search(r"\W", text.lstrip(" ")) is not None,
    )
    match = re.match(r" ?(\w+)", generation.text)
    assert match is not None and legal.has_prefix(match.group(1)), generation.text
    if generation.stop_reason == "stop":
        assert legal.is_complete(match.group(1))


def test_keyword_equals_outside_the_callees_keywords() -> None:
    """`name=` tokens blocked for names a call does not take: a lone `=` after a finished
    name, and tokens that finish a name and add its `=` (`key=`, ` key=`)."""
    from tether.decoding.mask.vocab_index import VocabularyIndex

    pieces = [b"key=", b" key=", b"=", b" =", b"==", b"name", b"ey=", b"re", b"verse="]
    vocabulary = VocabularyIndex(pieces, set(), lambda text: [])
    blocked = lambda partial: {pieces[t] for t in  # noqa: E731
                               vocabulary.keyword_equals_outside(partial, frozenset({"key"}))}
    assert blocked("") == {b"ey=", b"verse="}  # no keywords; `key=` is fine
    assert blocked("k") == {b"key=", b"verse=", b"=", b" ="}  # `ey=` makes `key=`
    assert blocked("re") == {b"key=", b"ey=", b"verse=", b"=", b" ="}
    assert blocked("key") == {b"key=", b"ey=", b"verse="}  # `key` itself may take `=`
    assert b"==" not in blocked("re")  # a comparison, not a keyword


def test_tokens_that_write_a_space_and_a_name_start() -> None:
    from tether.decoding.mask.vocab_index import VocabularyIndex

    pieces = [b" name", b"  _x", b"name", b" ", b" (", b" 1", b" =", b"\n name"]
    vocabulary = VocabularyIndex(pieces, set(), lambda text: [])
    assert {pieces[t] for t in vocabulary.space_ident} == {b" name", b"  _x"}
