"""Per-model token classes the monitor needs besides the vocabulary trie."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from tether.decoding.mask.trie import VocabularyTrie

IDENT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_NAME_THEN_EQUALS = re.compile(rb"^ *([A-Za-z0-9_]+) *=(?!=)")


class VocabularyIndex:
    """Per-model token classes the monitor needs besides the trie (built once per model)."""

    def __init__(self, pieces: list[bytes], special_ids: set[int],
                 tokenize: Callable[[str], list[int]]) -> None:
        self.trie = VocabularyTrie.cached(pieces, special_ids)
        self.tokenize = tokenize
        self._spellings: dict[str, tuple[tuple[int, str], ...]] = {}
        self._named_equals: list[tuple[int, str, bool]] = []  # (token, name part, spaced)
        digit_start, dot_ident, space_ident, equals, enders = [], [], [], [], []
        ident_only, space_ident_only, equals_start, dot = [], [], [], []
        comma_or_colon: list[int] = []
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
            spaced = piece.lstrip(b" ")
            if spaced is not piece and spaced and chr(spaced[0]) in IDENT_CHARS \
                    and not spaced[:1].isdigit():
                space_ident.append(token_id)
            if piece == b"." and not dot:
                dot.append(token_id)
            if all(chr(byte) in IDENT_CHARS for byte in spaced) and spaced:
                (ident_only if spaced is piece else space_ident_only).append(token_id)
            if spaced.startswith(b"="):
                equals_start.append(token_id)
            if spaced.startswith(b"=") and not spaced.startswith(b"=="):
                equals.append(token_id)
            if spaced[:1] in (b",", b":") and spaced[1:2] in (b"", b" "):
                comma_or_colon.append(token_id)  # not `:=`, not a line break
            named = _NAME_THEN_EQUALS.match(piece)
            if named is not None:  # `key=`: a name's end and its `=` in one token
                self._named_equals.append((token_id, named.group(1).decode(),
                                           piece.startswith(b" ")))
        self.digit_start = np.array(digit_start, dtype=np.int32)
        self.dot_ident = np.array(dot_ident, dtype=np.int32)
        self.space_ident = np.array(space_ident, dtype=np.int32)  # ` name`: space + a name
        self.keyword_equals = np.array(equals, dtype=np.int32)
        self.equals_start = np.array(equals_start, dtype=np.int32)  # `=`, ` ==`, `=x`...
        self.name_enders = np.array(enders, dtype=np.int32)  # tokens that end an identifier
        self.continues_name = np.ones(len(pieces), dtype=bool)
        self.continues_name[self.name_enders] = False
        self.dot = np.array(dot, dtype=np.int32)  # `.` alone (at most one token)
        # a new name, then `=`: its first token (without / with a leading space), and a
        # token going on from a name begun (see new_name_then_equals)
        starts = [token for token in ident_only if not pieces[token][:1].isdigit()]
        starts += [token for token, name, spaced in self._named_equals
                   if not spaced and not name[:1].isdigit()]
        spaced_starts = [token for token in space_ident_only
                         if not pieces[token].lstrip(b" ")[:1].isdigit()]
        spaced_starts += [token for token, name, spaced in self._named_equals
                          if spaced and not name[:1].isdigit()]
        self._new_name_starts = (_ids(starts), _ids(starts + spaced_starts))
        self._new_name_continued = _ids(ident_only + equals + [
            token for token, _, spaced in self._named_equals if not spaced])
        self._new_attribute_continued = _ids(
            self._new_name_continued.tolist() + comma_or_colon)

    def new_name_then_equals(self, partial: str, allow_leading_space: bool,
                             attribute: bool = False) -> np.ndarray:
        """Tokens that go on spelling a name nobody has bound yet, or end it with `=` (not
        `==`): where the name can only be an assignment's target (`x = y = 0`). A new
        `attribute` begun at a statement's start may also end with `,` (the next target of
        `self.a, self.b = ...`) or `:` (an annotation, `self.a: int = 0`)."""
        if partial:
            return self._new_attribute_continued if attribute else self._new_name_continued
        return self._new_name_starts[allow_leading_space]

    def keyword_equals_outside(self, partial: str, keywords: frozenset[str]) -> np.ndarray:
        """Tokens that would write `name=` after `partial` for a name not in `keywords`: an
        `=` right after a finished `partial`, or a token that finishes a name and adds `=`."""
        blocked = [token for token, name, spaced in self._named_equals
                   if not (spaced and partial) and partial + name not in keywords]
        if partial and partial not in keywords:
            blocked.extend(self.keyword_equals.tolist())
        return np.array(blocked, dtype=np.int32)

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


def _ids(tokens: list[int]) -> np.ndarray:
    return np.unique(np.array(tokens, dtype=np.int32))
