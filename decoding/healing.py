"""Token healing: the identifier fragment before the cursor is taken out of the prompt and
the model must write it again.

A prompt that ends in the middle of a word (`cart.ad`) ends on a token the model rarely saw
in that place, and it tends to continue after it as if the word were complete (`cart.ad` →
`.total`). Removing the fragment and constraining the first generated tokens to re-spell it
lets the model pick the tokenization it would have used (`add_item`).
"""

from __future__ import annotations

import codecs
import re
from collections import defaultdict

import numpy as np

from decoding.vocab_trie import TokenMask

_FRAGMENT = re.compile(r" ?[A-Za-z_][A-Za-z0-9_]*$")
_BLANK_LINE = re.compile(r"\n[ \t]*$")


def healing_fragment(prefix: str) -> str:
    """The text to remove from the end of the prompt: the identifier being typed, with the
    single space before it (BPE vocabularies spell ` name` as one token), or the line break
    and indentation of a blank cursor line (some vocabularies merge a newline with the
    indentation that follows it)."""
    blank_line = _BLANK_LINE.search(prefix)
    if blank_line is not None:
        return blank_line.group(0)
    match = _FRAGMENT.search(prefix)
    if match is None:
        return ""
    fragment = match.group(0)
    if fragment.startswith(" ") and prefix[: -len(fragment)].endswith((" ", "\t")):
        fragment = fragment[1:]  # indentation: keep the spaces, heal only the word
    if fragment.startswith(" ") and len(prefix) == len(fragment):
        fragment = fragment[1:]
    return fragment


class TokenTexts:
    """Vocabulary tokens grouped by first character (built once per model)."""

    def __init__(self, pieces: list[bytes], special_ids: set[int]) -> None:
        grouped: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for token_id, piece in enumerate(pieces):
            if token_id in special_ids or not piece:
                continue
            try:
                text = piece.decode("utf-8")
            except UnicodeDecodeError:
                continue
            grouped[text[0]].append((token_id, text))
        self.by_first_char = dict(grouped)
        self.vocab_size = len(pieces)

    def compatible(self, remaining: str) -> np.ndarray:
        """Tokens that spell a prefix of `remaining` or spell all of it and go on."""
        bucket = self.by_first_char.get(remaining[0], [])
        ids = [token_id for token_id, text in bucket
               if remaining.startswith(text) or text.startswith(remaining)]
        return np.array(ids, dtype=np.int32)


class Healer:
    """A logits hook that forces the generation to start with `fragment`."""

    def __init__(self, texts: TokenTexts, fragment: str, piece: object) -> None:
        self.texts = texts
        self.fragment = fragment
        self.piece = piece  # token id -> bytes
        self.mask = TokenMask(texts.vocab_size)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._written = ""
        self._seen = 0

    def logits_hook(self, generated_ids: list[int], logits: np.ndarray) -> None:
        while self._seen < len(generated_ids):
            self._written += self._decoder.decode(
                self.piece(generated_ids[self._seen]))  # type: ignore[operator]
            self._seen += 1
        if len(self._written) >= len(self.fragment):
            return
        remaining = self.fragment[len(self._written):]
        allowed = self.texts.compatible(remaining)
        if allowed.size:
            self.mask.apply(logits, allowed)
