"""Bounded LRU of saved per-document KV-cache states for :class:`decoding.runtime.ModelRuntime`.

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

from decoding.fim import common_prefix_len

__all__ = ["SavedState", "StateCache"]


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
