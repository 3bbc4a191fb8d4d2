"""Token healing: the identifier fragment before the cursor (with its dot, after a receiver)
is taken out of the prompt and the model must write it again.

A prompt that ends in the middle of a word (`cart.ad`) ends on a token the model rarely saw
in that place, and it tends to continue after it as if the word were complete (`cart.ad` →
`.total`). Removing the fragment and constraining the first generated tokens to re-spell it
lets the model pick the tokenization it would have used (`add_item`).
"""

from __future__ import annotations

import bisect
import codecs
import re

import numpy as np

from tether.decoding.mask.trie import TokenMask

_FRAGMENT = re.compile(r" ?[A-Za-z_][A-Za-z0-9_]*$")
_BLANK_LINE = re.compile(r"\n[ \t]*$")
_MEMBER = re.compile(r"(?<=[A-Za-z0-9_)\]])\.[A-Za-z_]?[A-Za-z0-9_]*$")
_CONTINUED_MEMBER = re.compile(r"\n[ \t]*(\.[A-Za-z_]?[A-Za-z0-9_]*)$")  # chained call
_NUMBER_END = re.compile(r"(?<![A-Za-z0-9_])[0-9][A-Za-z0-9_]*$")  # `1.`, `0x1f.` are numbers
_LAST_CHAR = chr(0x10FFFF)  # sorts after every text that starts with a given one


def healing_fragment(prefix: str) -> str:
    """The text to remove from the end of the prompt: the member being typed with its dot,
    also where the dot starts a line continuing a chained call (vocabularies spell `._` and
    `.__` as one token, so a prompt ending in `self.` hides `self._pool` and
    `super().__init__` from the model), the identifier being typed, with
    the single space before it (BPE vocabularies spell ` name` as one token), or the line
    break and indentation of a blank cursor line (some vocabularies merge a newline with the
    indentation that follows it)."""
    blank_line = _BLANK_LINE.search(prefix)
    if blank_line is not None:
        return blank_line.group(0)
    member = _MEMBER.search(prefix)
    if member is not None and not _NUMBER_END.search(prefix, 0, member.start()):
        return member.group(0)
    continued = _CONTINUED_MEMBER.search(prefix)
    if continued is not None:
        return continued.group(1)
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
    """Vocabulary token texts, sorted once per model: the tokens that start with a text are
    one bisected range and the tokens that spell a prefix of it a few more, so a healing
    step never scans the vocabulary."""

    def __init__(self, pieces: list[bytes], special_ids: set[int]) -> None:
        texts: list[str] = []
        ids: list[int] = []
        for token_id, piece in enumerate(pieces):
            if token_id in special_ids or not piece:
                continue
            try:
                texts.append(piece.decode("utf-8"))
            except UnicodeDecodeError:
                continue
            ids.append(token_id)
        order = sorted(range(len(texts)), key=texts.__getitem__)
        self._sorted = [texts[i] for i in order]
        self._ids = np.array(ids, dtype=np.int32)[order]
        self.vocab_size = len(pieces)

    def prefixes_of(self, remaining: str) -> np.ndarray:
        """Tokens whose text is a non-empty prefix of `remaining` (all of it included)."""
        found: list[np.ndarray] = []
        for length in range(1, len(remaining) + 1):
            prefix = remaining[:length]
            low = bisect.bisect_left(self._sorted, prefix)
            if low == len(self._sorted) or not self._sorted[low].startswith(prefix):
                break  # no token starts with this prefix, so none spells a longer one
            high = bisect.bisect_right(self._sorted, prefix, low)
            found.append(self._ids[low:high])
        return np.concatenate(found) if found else np.empty(0, dtype=np.int32)

    def compatible(self, remaining: str) -> np.ndarray:
        """Tokens that spell a prefix of `remaining` or spell all of it and go on."""
        shorter = self.prefixes_of(remaining[:-1])
        low = bisect.bisect_left(self._sorted, remaining)
        high = bisect.bisect_left(self._sorted, remaining + _LAST_CHAR, low)
        return np.concatenate([shorter, self._ids[low:high]])


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
