"""Fixtures of the token-mask tests."""

from __future__ import annotations

import pytest
from support.vocab import PIECES, SPECIAL

from tether.decoding.mask import trie as vocab_trie
from tether.decoding.mask.trie import VocabularyTrie


@pytest.fixture(autouse=True, params=["python-walk", "numpy-walk"])
def walk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run every test of tests/decoding/mask/ with both implementations of the legal-names
    walk."""
    threshold = 10**9 if request.param == "python-walk" else 1
    monkeypatch.setattr(vocab_trie, "VECTOR_MIN_NAMES", threshold)
    return str(request.param)


@pytest.fixture(scope="module")
def trie() -> VocabularyTrie:
    return VocabularyTrie(PIECES, SPECIAL)
