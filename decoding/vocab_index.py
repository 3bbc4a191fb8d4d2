"""Per-model token classes the monitor needs besides the vocabulary trie."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from decoding.vocab_trie import VocabularyTrie

IDENT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class VocabularyIndex:
    """Per-model token classes the monitor needs besides the trie (built once per model)."""

    def __init__(self, pieces: list[bytes], special_ids: set[int],
                 tokenize: Callable[[str], list[int]]) -> None:
        self.trie = VocabularyTrie.cached(pieces, special_ids)
        self.tokenize = tokenize
        self._spellings: dict[str, tuple[tuple[int, str], ...]] = {}
        digit_start, dot_ident, equals, enders = [], [], [], []
        for token_id, piece in enumerate(pieces):
            if token_id in special_ids or not piece:
                continue
            first = piece[:1]
            if chr(first[0]) not in IDENT_CHARS and first[0] < 128:
                enders.append(token_id)
            if first.isdigit():
                digit_start.append(token_id)
            if piece.startswith(b".") and len(piece) > 1 and chr(piece[1]) in IDENT_CHARS:
                dot_ident.append(token_id)
            if piece.lstrip(b" ").startswith(b"=") and not piece.lstrip(b" ").startswith(b"=="):
                equals.append(token_id)
        self.digit_start = np.array(digit_start, dtype=np.int32)
        self.dot_ident = np.array(dot_ident, dtype=np.int32)
        self.keyword_equals = np.array(equals, dtype=np.int32)
        self.name_enders = np.array(enders, dtype=np.int32)  # tokens that end an identifier
        self.continues_name = np.ones(len(pieces), dtype=bool)
        self.continues_name[self.name_enders] = False

    def spelling(self, name: str) -> tuple[tuple[int, str], ...]:
        """How the tokenizer spells `name` after a non-space character: (id, text) pairs."""
        cached = self._spellings.get(name)
        if cached is None:
            ids = self.tokenize(name)
            cached = tuple((token, self.trie.text(token) or "") for token in ids)
            if len(self._spellings) > 50_000:
                self._spellings.clear()
            self._spellings[name] = cached
        return cached
