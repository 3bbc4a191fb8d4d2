"""In-place logit masking for constrained decoding (re-exported by :mod:`decoding.mask.trie`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["TokenMask"]


class TokenMask:
    """Applies allowed-token sets to logits in place: gather the allowed logits into a
    preallocated scratch buffer, fill the whole row with ``-inf`` (a memset), scatter them back.
    Measured fastest against a boolean-mask ``np.copyto(where=)`` (3-5x slower) and a full
    scratch-row copy; nothing proportional to the vocabulary is allocated per step. Not
    thread-safe: use one instance per generation loop."""

    def __init__(self, vocab_size: int) -> None:
        self._scratch = np.empty(max(1, vocab_size), dtype=np.float32)

    def apply(self, logits: np.ndarray, allowed: np.ndarray) -> None:
        """Set every logit whose id is not in ``allowed`` to ``-inf``, in place (``logits`` may
        be a view into llama.cpp's buffer). ``allowed`` ids must be valid indices. An empty
        ``allowed`` leaves every logit at ``-inf``; callers should treat that as a dead end."""
        k = allowed.shape[0]
        if logits.dtype != self._scratch.dtype:
            saved = logits[allowed]
            logits.fill(-np.inf)
            logits[allowed] = saved
            return
        if k > self._scratch.shape[0]:
            self._scratch = np.empty(k, dtype=np.float32)
        saved = self._scratch[:k]
        np.take(logits, allowed, out=saved)  # bounds-checked gather, no allocation
        logits.fill(-np.inf)
        logits[allowed] = saved

    @staticmethod
    def boost(logits: np.ndarray, token_ids: np.ndarray | Sequence[int], amount: float) -> None:
        """Add ``amount`` to the logits of ``token_ids`` in place (each id once, even if
        repeated); ``-inf`` logits stay ``-inf``."""
        logits[np.asarray(token_ids, dtype=np.intp)] += amount
