"""Per-document KV-cache bookkeeping for :class:`decoding.model.runtime.ModelRuntime`:
:class:`DocumentCache` (what sequence 0 holds, switching documents, trimming to a common
prefix) and :class:`StateCache`, a bounded LRU of saved per-document states.

A saved state is the serialized KV cache of sequence 0 (``llama_state_seq_get_data``) plus the
token ids it holds. For sliding-window models llama.cpp serializes only the last ``n_swa``
positions of the sliding layers, so such a state can be continued but not truncated.

The runtime keeps only the *live* document in the KV cache; when a request for another
document arrives it snapshots the live one here and, if some snapshot shares a longer prefix
with the new prompt than the live cache does, restores that one.
"""

from __future__ import annotations

import ctypes
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tether.decoding.model.fim import common_prefix_len
from tether.decoding.model.llama_handles import LlamaHandles

__all__ = ["DocumentCache", "SavedState", "StateCache"]


@dataclass(frozen=True, slots=True)
class SavedState:
    tokens: tuple[int, ...]
    data: ctypes.Array[ctypes.c_uint8]

    @property
    def nbytes(self) -> int:
        return len(self.data)


class StateCache:
    """LRU of :class:`SavedState` bounded by entry count and total bytes. Not thread-safe;
    the runtime only touches it while holding its generation lock."""

    def __init__(self, max_states: int, max_bytes: int) -> None:
        self.max_states = max(0, max_states)
        self.max_bytes = max(0, max_bytes)
        self._states: OrderedDict[str, SavedState] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._states)

    def __contains__(self, key: object) -> bool:
        return key in self._states

    def __iter__(self) -> Iterator[str]:
        return iter(self._states)

    @property
    def total_bytes(self) -> int:
        return self._bytes

    def fits(self, nbytes: int) -> bool:
        return self.max_states > 0 and nbytes <= self.max_bytes

    def put(self, key: str, state: SavedState) -> None:
        self.pop(key)
        if not self.fits(state.nbytes):
            return
        self._states[key] = state
        self._bytes += state.nbytes
        while len(self._states) > self.max_states or self._bytes > self.max_bytes:
            _, old = self._states.popitem(last=False)
            self._bytes -= old.nbytes

    def pop(self, key: str) -> SavedState | None:
        state = self._states.pop(key, None)
        if state is not None:
            self._bytes -= state.nbytes
        return state

    def clear(self) -> None:
        self._states.clear()
        self._bytes = 0

    def best_match(
        self, prompt: Sequence[int], *, whole_only: bool = False
    ) -> tuple[str | None, int]:
        """Key of the saved state sharing the longest token prefix with ``prompt``, and that
        length (``(None, 0)`` when nothing matches). With ``whole_only`` a state counts only
        if all its tokens are a proper prefix of ``prompt`` (sliding-window models: their
        saved states cannot be truncated)."""
        best_key: str | None = None
        best_len = 0
        for key, state in self._states.items():
            n = common_prefix_len(state.tokens, prompt)
            if whole_only and not n == len(state.tokens) < len(prompt):
                continue
            if n > best_len:
                best_key, best_len = key, n
        return best_key, best_len

    def get(self, key: str) -> SavedState | None:
        """The state saved under ``key``, marked as most recently used."""
        state = self._states.get(key)
        if state is not None:
            self._states.move_to_end(key)
        return state


class DocumentCache:
    """What KV sequence 0 holds (``tokens``: position i holds tokens[i]; the first
    ``prompt_len`` came from the last prompt, the rest were generated), which document that
    is, and the saved states of other documents. Every method takes the live handles; the
    runtime calls them under its generation lock."""

    def __init__(self, n_swa: int, max_states: int, max_bytes: int) -> None:
        self.n_swa = n_swa
        self.tokens: list[int] = []
        self.prompt_len = 0
        self.doc_key: str | None = None
        self.states = StateCache(max_states, max_bytes)

    def reset(self, h: LlamaHandles) -> None:
        """Drop the live cache and every saved state."""
        h.clear_memory()
        self.forget_all()

    def forget_all(self) -> None:
        """Forget what the cache holds without touching it (its context is being freed)."""
        self.tokens = []
        self.prompt_len = 0
        self.doc_key = None
        self.states.clear()

    def switch(self, h: LlamaHandles, prompt: Sequence[int], doc_key: str | None) -> bool:
        """Make the KV cache hold the best available prefix for ``prompt``; True if a saved
        state was restored."""
        if doc_key == self.doc_key:
            return False
        self._save_live(h)
        self.doc_key = doc_key
        live = common_prefix_len(self.tokens, prompt)
        key, saved_len = self.states.best_match(prompt, whole_only=self.n_swa > 0)
        if key is None or saved_len <= live:
            return False
        state = self.states.pop(key) if key == doc_key else self.states.get(key)
        assert state is not None
        if h.load_seq_state(state.data):
            self.tokens = list(state.tokens)
            return True
        h.clear_memory()
        self.tokens = []
        return False

    def trim(self, h: LlamaHandles, prompt: Sequence[int]) -> int:
        """Drop cached tokens past the common prefix; return how many prompt tokens to reuse."""
        n = min(common_prefix_len(self.tokens, prompt), len(prompt) - 1)
        if n > 0:
            # A restored SWA state lacks sliding-layer positions before pos_min; keeping n
            # tokens needs the window before n (llama-server's rule). Check before seq_rm,
            # which may empty the sliding cache and hide the gap.
            pos_min = h.seq_pos_min()
            if pos_min > 0 and (self.n_swa <= 0 or pos_min > n - self.n_swa):
                n = 0
        if n < len(self.tokens):
            if n == 0 or not h.seq_rm(n):
                h.clear_memory()
                n = 0
            del self.tokens[n:]
        return n

    def resync_after_failure(self, h: LlamaHandles) -> None:
        """Partially processed ubatches may remain after a failed decode; drop them."""
        if not h.seq_rm(len(self.tokens)):
            h.clear_memory()
            self.tokens = []

    def _save_live(self, h: LlamaHandles) -> None:
        if self.doc_key is None or not self.tokens:
            return
        if self.n_swa > 0:
            # A saved SWA state cannot be truncated later: keep only what the same prompt
            # (re-sent when the user comes back) will reuse, i.e. all of it but the last token.
            keep = min(len(self.tokens), self.prompt_len - 1)
            if keep <= 0 or not h.seq_rm(keep):
                return
            del self.tokens[keep:]
        data = h.save_seq_state()
        if data is not None:
            self.states.put(self.doc_key, SavedState(tuple(self.tokens), data))
