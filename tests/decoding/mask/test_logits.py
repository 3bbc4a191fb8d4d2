"""TokenMask (decoding.mask.logits): masking and boosting logits in place."""

from __future__ import annotations

import numpy as np
import pytest
from support.vocab import PIECES, ids

from tether.decoding.mask.trie import LegalNames, TokenMask, VocabularyTrie, allowed_tokens


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
