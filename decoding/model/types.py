"""Result, callback and error types of :mod:`decoding.model.runtime` (re-exported there)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tether.decoding.model.queries import LogitsHook

__all__ = ["ContextOverflowError", "Generation", "GenerationError", "LogitsHook", "StopReason"]

StopReason = Literal["eos", "stop", "max_tokens", "cancelled"]


class GenerationError(RuntimeError):
    """llama.cpp failed to evaluate a batch. The runtime stays usable."""


class ContextOverflowError(ValueError):
    """The prompt does not fit in the context window (``n_ctx``)."""


@dataclass(frozen=True, slots=True)
class Generation:
    """Result of :meth:`ModelRuntime.generate`.

    ``text`` is the UTF-8 decoding of ``token_ids`` (stop tokens are not included; with
    ``stop_reason == "stop"`` the token that made ``should_stop`` true is included).
    ``reused_tokens`` prompt tokens came from the KV cache; ``prompt_tokens - reused_tokens``
    were evaluated in ``prompt_eval_ms``. ``tokens_per_s`` is generated tokens per second of
    ``decode_ms``. ``restored_state`` is true when a saved document state was loaded.
    """

    text: str
    token_ids: list[int]
    stop_reason: StopReason
    prompt_tokens: int
    reused_tokens: int
    prompt_eval_ms: float
    decode_ms: float
    tokens_per_s: float
    restored_state: bool = False

    @property
    def evaluated_tokens(self) -> int:
        return self.prompt_tokens - self.reused_tokens
