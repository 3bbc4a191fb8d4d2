"""Forced decoding: drive a logits hook (a monitor) towards an intended text.

At each step the logits favour the longest vocabulary token that continues the intended
text (every other token sits far below), the hook edits them, and the argmax is taken as
the runtime would. The text comes out unchanged where the hook lets it through; where it
masks or outranks the intended tokens, the run stops at the first token that leaves the
text. Used to check that real code passes the monitor and invented names do not, without
running the model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from tether.decoding.grounding.healing import TokenTexts

FORCED_FLOOR = -10.0  # the logit of every token that does not continue the intended text
LogitsEditor = Callable[[list[int], np.ndarray], object]


@dataclass(frozen=True, slots=True)
class ForcedRun:
    intended: str
    written: str  # what came out; past `intended`'s agreeing prefix by one token if steered

    @property
    def passed(self) -> bool:
        return self.written == self.intended

    @property
    def steered_at(self) -> int:
        """Length of the intended text's prefix that was written before the hook steered."""
        agreed = 0
        for wrote, wanted in zip(self.written, self.intended, strict=False):
            if wrote != wanted:
                break
            agreed += 1
        return agreed


class ForcedDecoder:
    """Greedy decoding steered towards an intended text over one model's vocabulary."""

    def __init__(self, pieces: Sequence[bytes], control_ids: set[int]) -> None:
        self.pieces = [piece.decode("utf-8", errors="replace") for piece in pieces]
        self.texts = TokenTexts(list(pieces), control_ids)

    def run(self, hook: LogitsEditor, intended: str, max_steps: int = 200) -> ForcedRun:
        generated: list[int] = []
        written = ""
        for _ in range(max_steps):
            remaining = intended[len(written):]
            if not remaining:
                break
            logits = np.full(len(self.pieces), FORCED_FLOOR, dtype=np.float32)
            for token_id in self.texts.prefixes_of(remaining):
                logits[token_id] = float(len(self.pieces[token_id]))
            replaced = hook(generated, logits)  # edits in place, or returns new logits
            if isinstance(replaced, np.ndarray):
                logits = replaced
            token = int(logits.argmax())
            piece = self.pieces[token]
            if not np.isfinite(logits[token]) or not remaining.startswith(piece):
                return ForcedRun(intended, written + piece)
            generated.append(token)
            written += piece
        return ForcedRun(intended, written)
