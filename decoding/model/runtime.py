"""Local model runtime: llama.cpp driven step by step through llama-cpp-python's low-level API.

:class:`ModelRuntime` loads one GGUF model into one llama.cpp context (KV-cache sequence 0
holds the document; sequences 1..MAX_BRANCHES only live while a hook scores candidate
continuations, see :mod:`decoding.model.branches`) and generates greedily, one token per
``llama_decode`` call, so the caller controls every step: a logits hook may edit the logits in
place, a predicate may stop on text, and a ``threading.Event`` cancels between two steps.

KV-cache reuse:

* Only the part of ``prompt_ids`` after its longest common prefix with the tokens already in
  the cache is evaluated; the stale tail is dropped with ``llama_memory_seq_rm``. At least one
  prompt token is always evaluated (its logits start the generation).
* Generated tokens stay in the cache, so a follow-up prompt that extends the previous prompt
  with (part of) the accepted completion reuses them.
* Requests carry a ``doc_key``. When it changes, the live cache is snapshotted into a bounded
  LRU (:class:`decoding.model.kv_states.StateCache`) and the snapshot -- or the live cache --
  sharing the longest prefix with the new prompt is used.
* Sliding-window models (Gemma 3) are created with ``swa_full`` so the live cache can be
  truncated anywhere. Their *saved* states only hold the last ``n_swa`` positions of the
  sliding layers (llama.cpp serializes no more), so before saving, the live cache is trimmed
  to its last prompt minus one token, and a saved state is used only when the new prompt
  extends all of it -- the common "switch back and keep typing" case.

Thread safety: one generation at a time. ``generate``, ``reset``, ``forget_document`` and
``close`` serialize on an internal lock (a second caller blocks until the first finishes --
cancel it with its event first if it should not wait). ``tokenize``, ``detokenize`` and
``token_pieces`` only read the vocabulary and may be called from any thread concurrently.

llama.cpp's own logging is routed to the ``tether.llama_cpp`` logger at DEBUG level; nothing is
written to stdout/stderr (important when the LSP server talks JSON-RPC over stdio).
"""

from __future__ import annotations

import codecs
import contextlib
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from llama_cpp import llama_cpp as llama

from tether.decoding.model.branches import BranchEvaluator
from tether.decoding.model.files import ModelLoadError, validate_gguf
from tether.decoding.model.fim import FimMode, FimTemplate, detect_fim_template
from tether.decoding.model.kv_states import DocumentCache
from tether.decoding.model.llama_handles import MAX_BRANCHES, LlamaHandles, load_handles
from tether.decoding.model.queries import ModelQuery, QueryAnswer, ScoreContinuations, run_step
from tether.decoding.model.types import (
    ContextOverflowError,
    Generation,
    GenerationError,
    LogitsHook,
    StopReason,
)
from tether.decoding.model.vocabulary import Vocabulary

__all__ = [
    "MAX_BRANCHES",
    "ContextOverflowError",
    "Generation",
    "GenerationError",
    "LogitsHook",
    "ModelLoadError",
    "ModelRuntime",
    "StopReason",
]


def _default_threads() -> int:
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        available = os.cpu_count() or 1
    # Half the CPUs: SMT siblings add little, and llama.cpp's OpenMP workers spin at barriers,
    # so one oversubscribed core (editor, indexer, another process) can slow decoding 20x.
    return max(1, min(8, available // 2))


class ModelRuntime:
    """One GGUF model + one llama.cpp context with prefix-reusing greedy generation.

    Args:
        model_path: a GGUF file (use :func:`decoding.model.files.resolve_model`).
        n_ctx: context window in tokens (clamped to the model's training context).
        n_threads / n_threads_batch: CPU threads for single-token decoding / prompt batches.
        n_batch: prompt tokens per ``llama_decode`` call; cancellation is checked between
            batches during prompt evaluation.
        n_gpu_layers: layers to offload; ``None`` offloads all when llama.cpp was built with
            GPU support (``llama_supports_gpu_offload()``), else 0. ``-1`` means all.
        fim_mode: passed to :func:`decoding.model.fim.detect_fim_template` (use ``"prefix"`` for
            the embedded models, see ``EmbeddedModel.use_fim``).
        max_saved_states / max_saved_state_bytes: bounds of the per-document state LRU.

    Raises:
        ModelNotFoundError / ModelLoadError: missing, corrupt or unloadable model file.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        n_threads_batch: int | None = None,
        n_batch: int = 512,
        n_gpu_layers: int | None = None,
        fim_mode: FimMode = "auto",
        max_saved_states: int = 4,
        max_saved_state_bytes: int = 256 << 20,
    ) -> None:
        self.model_path = Path(model_path).expanduser()
        self._lock = threading.Lock()
        self._handles: LlamaHandles | None = None
        validate_gguf(self.model_path)
        if n_gpu_layers is None:
            n_gpu_layers = -1 if llama.llama_supports_gpu_offload() else 0
        self.n_gpu_layers = n_gpu_layers
        threads = n_threads or _default_threads()
        self._handles = load_handles(
            self.model_path,
            n_ctx=n_ctx,
            n_batch=max(1, n_batch),
            n_threads=threads,
            n_threads_batch=n_threads_batch or threads,
            n_gpu_layers=n_gpu_layers,
        )
        h = self._handles
        self.metadata: dict[str, str] = h.metadata
        self.n_ctx: int = h.n_ctx
        self.n_batch: int = h.n_batch
        self.vocab = Vocabulary(h)
        self.vocab_size: int = self.vocab.size
        self.bos_id: int | None = self.vocab.bos_id
        self.eos_id: int | None = self.vocab.eos_id
        self.eot_id: int | None = self.vocab.eot_id
        self.fim_template: FimTemplate = detect_fim_template(
            self.metadata, self.vocab.info, mode=fim_mode
        )
        self._stop_ids = frozenset(self.vocab.control_ids | self.fim_template.stop_ids)
        self.n_swa: int = h.n_swa
        self._doc = DocumentCache(h.n_swa, max_saved_states, max_saved_state_bytes)
        self._branches = BranchEvaluator(lambda: self._h, lambda: self._doc.tokens,
                                         self.vocab_size)

    # ---------------------------------------------------------------- lifecycle / info

    def close(self) -> None:
        """Free the llama.cpp context and model. Idempotent."""
        with self._lock:
            handles, self._handles = self._handles, None
            self._doc.forget_all()
            if handles is not None:
                handles.free()

    def __enter__(self) -> ModelRuntime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        handles = getattr(self, "_handles", None)
        if handles is not None:
            with contextlib.suppress(Exception):  # interpreter shutdown
                handles.free()

    @property
    def _h(self) -> LlamaHandles:
        if self._handles is None:
            raise RuntimeError(f"ModelRuntime for {self.model_path} is closed")
        return self._handles

    @property
    def architecture(self) -> str:
        return self.metadata.get("general.architecture", "")

    @property
    def model_name(self) -> str:
        return self.metadata.get("general.name", self.model_path.stem)

    @property
    def cached_tokens(self) -> list[int]:
        """Copy of the token ids currently in the KV cache (for diagnostics and tests)."""
        return list(self._doc.tokens)

    @property
    def current_document(self) -> str | None:
        return self._doc.doc_key

    @property
    def saved_documents(self) -> list[str]:
        """Keys of saved (not live) document states, least recently used first."""
        return list(self._doc.states)

    def is_stop_token(self, token: int) -> bool:
        """End-of-generation, control, or template stop token."""
        return token in self._stop_ids or self.vocab.is_eog(token)

    # ---------------------------------------------------------------- vocabulary

    def tokenize(
        self, text: str, *, special: bool = False, continuation: bool = False
    ) -> list[int]:
        """Tokenize without adding BOS/EOS. ``special`` parses special-token text (keep it off
        for user code). ``continuation`` suppresses the SentencePiece dummy space that
        ``add_space_prefix`` vocabularies put before the text (for suffixes and text that
        continues earlier tokens); it is a no-op for other vocabularies."""
        return self.vocab.tokenize(text, special=special, continuation=continuation)

    def detokenize(self, token_ids: Sequence[int], *, special: bool = False) -> str:
        """Concatenate token pieces and decode as UTF-8 (invalid bytes -> U+FFFD)."""
        return self.vocab.detokenize(token_ids, special=special)

    def token_pieces(self) -> list[bytes]:
        """Decoded bytes of every vocabulary token, indexed by id (control tokens -> b"").
        Computed once (about 0.3 s for a 262k vocabulary) and shared; do not mutate."""
        return self.vocab.pieces()

    def build_prompt(self, prefix: str, suffix: str = "", context: str = "") -> list[int]:
        """Tokenize and assemble a prompt with :attr:`fim_template` (see :mod:`decoding.model.fim`).
        Follows the SentencePiece convention of CodeLlama/Codestral: the prefix gets the dummy
        space after a special token, the suffix never does."""
        template = self.fim_template
        context_ids = self.tokenize(context) if context else []
        prefix_after_text = not template.is_fim and bool(context_ids)
        prefix_ids = self.tokenize(prefix, continuation=prefix_after_text) if prefix else []
        suffix_ids = self.tokenize(suffix, continuation=True) if suffix and template.is_fim else []
        return template.build(prefix_ids, suffix_ids, context_ids)

    # ---------------------------------------------------------------- cache management

    def reset(self) -> None:
        """Drop the live KV cache and every saved document state."""
        with self._lock:
            self._doc.reset(self._h)

    def forget_document(self, doc_key: str) -> None:
        """Discard the saved state of a closed document (the live cache is left alone)."""
        with self._lock:
            self._doc.states.pop(doc_key)

    def _decode(self, tokens: Sequence[int], start: int) -> None:
        rc = self._h.decode(tokens, start)
        if rc != 0:
            self._doc.resync_after_failure(self._h)
            raise GenerationError(
                f"llama_decode failed with code {rc} ({len(tokens)} tokens at position {start}; "
                f"n_ctx={self.n_ctx})"
            )
        self._doc.tokens.extend(tokens)

    # ---------------------------------------------------------------- generation

    def _answer(self, query: ModelQuery) -> QueryAnswer:
        """A constraint's question about the live generation (inside generate only)."""
        if isinstance(query, ScoreContinuations):
            return self.score_continuations(query.logits, query.branches, query.enders)
        return self.log_probs_after(query.logits, query.tokens)

    def score_continuations(self, logits: np.ndarray, branches: Sequence[Sequence[int]],
                            enders: np.ndarray | None = None
                            ) -> tuple[list[float] | None, np.ndarray]:
        """See BranchEvaluator.score_continuations (only inside generate: a hook's query)."""
        return self._branches.score_continuations(logits, branches, enders)

    def log_probs_after(self, logits: np.ndarray, tokens: Sequence[int]
                        ) -> tuple[list[np.ndarray] | None, np.ndarray]:
        """See BranchEvaluator.log_probs_after (only inside generate: a hook's query)."""
        return self._branches.log_probs_after(logits, tokens)

    def generate(
        self,
        prompt_ids: Sequence[int],
        *,
        max_tokens: int = 64,
        should_stop: Callable[[str], bool] | None = None,
        logits_hook: LogitsHook | None = None,
        cancel: threading.Event | None = None,
        doc_key: str | None = None,
    ) -> Generation:
        """Greedy (argmax) generation continuing ``prompt_ids``.

        Each step: ``logits_hook(generated_ids, logits)`` may edit ``logits`` -- a float32
        numpy view of llama.cpp's buffer for the last position, valid only during the call --
        in place, or return a Step (see decoding.model.queries) whose queries are answered on
        the live generation; the argmax is taken; a stop/EOG/control token ends with ``"eos"``;
        ``should_stop(text_so_far)`` ends with ``"stop"``; ``max_tokens`` ends with
        ``"max_tokens"``. ``cancel`` is checked between prompt batches and between steps.
        ``max_tokens=0`` only evaluates (prefills) the prompt. ``doc_key`` names the
        document for per-document cache states (``None``: just use the live cache).

        Raises:
            ContextOverflowError: the prompt has ``n_ctx`` tokens or more.
            ValueError: empty prompt or token ids outside the vocabulary.
            GenerationError: llama.cpp failed (the runtime remains usable).
        """
        prompt = list(prompt_ids)
        if not prompt:
            raise ValueError("prompt_ids is empty")
        if len(prompt) >= self.n_ctx:
            raise ContextOverflowError(
                f"prompt has {len(prompt)} tokens; the context holds {self.n_ctx}"
            )
        if min(prompt) < 0 or max(prompt) >= self.vocab_size:
            raise ValueError(f"prompt contains token ids outside [0, {self.vocab_size})")
        max_tokens = max(0, min(max_tokens, self.n_ctx - len(prompt)))

        with self._lock:
            h = self._h
            t0 = time.perf_counter()
            restored = self._doc.switch(h, prompt, doc_key)
            reused = self._doc.trim(h, prompt)
            self._doc.prompt_len = len(prompt)
            cancelled = False
            pos = reused
            while pos < len(prompt):
                if cancel is not None and cancel.is_set():
                    cancelled = True
                    break
                chunk = prompt[pos : pos + self.n_batch]
                self._decode(chunk, pos)
                pos += len(chunk)
            h.synchronize()
            t1 = time.perf_counter()

            generated: list[int] = []
            text = ""
            reason: StopReason = "cancelled" if cancelled else "max_tokens"
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            stop_ids, vocab, piece = self._stop_ids, h.vocab, self.vocab.piece
            while not cancelled and len(generated) < max_tokens:
                if cancel is not None and cancel.is_set():
                    reason = "cancelled"
                    break
                logits = h.last_logits(self.vocab_size)
                if logits_hook is not None:
                    replaced = run_step(logits_hook(generated, logits), self._answer)
                    if replaced is not None:
                        logits = replaced
                    if cancel is not None and cancel.is_set():
                        reason = "cancelled"
                        break
                token = int(logits.argmax())
                if token in stop_ids or llama.llama_vocab_is_eog(vocab, token):
                    reason = "eos"
                    break
                generated.append(token)
                text += decoder.decode(piece(token))
                if should_stop is not None and should_stop(text):
                    reason = "stop"
                    break
                if len(generated) >= max_tokens:
                    reason = "max_tokens"
                    break
                self._decode((token,), len(self._doc.tokens))
            text += decoder.decode(b"", final=True)
            t2 = time.perf_counter()

        decode_s = t2 - t1
        return Generation(
            text=text,
            token_ids=generated,
            stop_reason=reason,
            prompt_tokens=len(prompt),
            reused_tokens=reused,
            prompt_eval_ms=(t1 - t0) * 1000.0,
            decode_ms=decode_s * 1000.0,
            tokens_per_s=len(generated) / decode_s if decode_s > 0 and generated else 0.0,
            restored_state=restored,
        )
