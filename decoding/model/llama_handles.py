"""Thin ownership layer over llama.cpp handles (model, context, batch) and its logging.

Everything that touches raw pointers lives here; :mod:`decoding.model.runtime` holds the policy.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from llama_cpp import llama_cpp as llama

from tether.decoding.model.files import ModelLoadError

__all__ = ["LlamaHandles", "install_log_handler", "load_handles"]

_LOG = logging.getLogger("tether.llama_cpp")
# enum ggml_log_level: NONE=0, DEBUG=1, INFO=2, WARN=3, ERROR=4, CONT=5
_GGML_LOG_LEVEL_WARN = 3
_GGML_LOG_LEVEL_ERROR = 4
_GGML_LOG_LEVEL_CONT = 5
_ALL_LAYERS = 0x7FFFFFFF

MAX_BRANCHES = 16  # candidate continuations scored side by side (sequences 1..16)
_backend_lock = threading.Lock()
_backend_ready = False
_capture_lock = threading.Lock()  # serializes model loads so captured messages are theirs
_captured: list[str] | None = None
_last_level = 0


def _on_log(level: int, text: bytes | None, _user_data: ctypes.c_void_p) -> None:
    global _last_level
    try:
        if level == _GGML_LOG_LEVEL_CONT:
            level = _last_level
        _last_level = level
        msg = (text or b"").decode("utf-8", errors="replace").rstrip("\n")
        if not msg:
            return
        if _captured is not None and level in (_GGML_LOG_LEVEL_WARN, _GGML_LOG_LEVEL_ERROR):
            _captured.append(msg.strip())
        _LOG.debug("%s", msg)
    except Exception:  # pragma: no cover - never let an exception cross into C
        pass


_LOG_CALLBACK = llama.llama_log_callback(_on_log)  # module global: must outlive all calls


def install_log_handler() -> None:
    """Route llama.cpp/ggml logging to the ``tether.llama_cpp`` logger (no stderr output)."""
    llama.llama_log_set(_LOG_CALLBACK, ctypes.c_void_p(0))


def _ensure_backend() -> None:
    global _backend_ready
    with _backend_lock:
        install_log_handler()
        if not _backend_ready:
            llama.llama_backend_init()
            _backend_ready = True


def _read_metadata(model: llama.llama_model_p) -> dict[str, str]:
    out: dict[str, str] = {}
    size = 256
    buf = ctypes.create_string_buffer(size)

    def read(fn: object, index: int) -> str:
        nonlocal buf, size
        n = fn(model, index, buf, size)  # type: ignore[operator]
        if n >= size:
            size = n + 1
            buf = ctypes.create_string_buffer(size)
            n = fn(model, index, buf, size)  # type: ignore[operator]
        return buf.value.decode("utf-8", errors="replace") if n >= 0 else ""

    for i in range(llama.llama_model_meta_count(model)):
        key = read(llama.llama_model_meta_key_by_index, i)
        out[key] = read(llama.llama_model_meta_val_str_by_index, i)
    return out


@dataclass(eq=False)
class LlamaHandles:
    """Owns a model, its context and a reusable batch for sequence 0."""

    path: Path
    model: llama.llama_model_p
    ctx: llama.llama_context_p
    vocab: llama.llama_vocab_p
    memory: llama.llama_memory_t
    batch: llama.llama_batch
    n_ctx: int
    n_batch: int
    n_swa: int  # sliding-window size of the model's SWA layers, 0 when it has none
    metadata: dict[str, str]
    _tok: np.ndarray = field(init=False, repr=False)
    _pos: np.ndarray = field(init=False, repr=False)
    _nseq: np.ndarray = field(init=False, repr=False)
    _out: np.ndarray = field(init=False, repr=False)
    freed: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        b, n = self.batch, self.n_batch
        self._tok = np.ctypeslib.as_array(b.token, shape=(n,))
        self._pos = np.ctypeslib.as_array(b.pos, shape=(n,))
        self._nseq = np.ctypeslib.as_array(b.n_seq_id, shape=(n,))
        self._out = np.ctypeslib.as_array(b.logits, shape=(n,))
        self._nseq[:] = 1
        for i in range(n):
            b.seq_id[i][0] = 0

    def free(self) -> None:
        if self.freed:
            return
        self.freed = True
        llama.llama_batch_free(self.batch)
        llama.llama_free(self.ctx)
        llama.llama_model_free(self.model)

    def decode(self, tokens: Sequence[int], start: int) -> int:
        """Evaluate ``tokens`` at positions ``start...`` in sequence 0; logits for the last."""
        n = len(tokens)
        if not 0 < n <= self.n_batch:
            raise ValueError(f"batch of {n} tokens (n_batch={self.n_batch})")
        self._tok[:n] = tokens
        self._pos[:n] = np.arange(start, start + n, dtype=np.int32)
        self._out[:n] = 0
        self._out[n - 1] = 1
        self.batch.n_tokens = n
        return int(llama.llama_decode(self.ctx, self.batch))

    def decode_tree(self, nodes: Sequence[tuple[int, int, Sequence[int]]]) -> int:
        """Evaluate ``(token, position, sequence ids)`` nodes in one batch, logits for all."""
        n = len(nodes)
        if not 0 < n <= self.n_batch:
            raise ValueError(f"batch of {n} tokens (n_batch={self.n_batch})")
        b = self.batch
        try:
            for i, (token, position, seq_ids) in enumerate(nodes):
                self._tok[i] = token
                self._pos[i] = position
                self._nseq[i] = len(seq_ids)
                for j, seq in enumerate(seq_ids):
                    b.seq_id[i][j] = seq
            self._out[:n] = 1
            b.n_tokens = n
            return int(llama.llama_decode(self.ctx, b))
        finally:
            self._nseq[:n] = 1
            for i in range(n):
                b.seq_id[i][0] = 0

    def logits_at(self, index: int, n_vocab: int) -> np.ndarray:
        """Zero-copy view of the logits of batch entry ``index`` of the last decode."""
        ptr = llama.llama_get_logits_ith(self.ctx, index)
        if not ptr:
            raise RuntimeError(f"llama.cpp returned no logits for batch entry {index}")
        return np.ctypeslib.as_array(ptr, shape=(n_vocab,))

    def seq_copy(self, source: int, target: int) -> None:
        llama.llama_memory_seq_cp(self.memory, source, target, -1, -1)

    def seq_drop(self, seq: int) -> None:
        llama.llama_memory_seq_rm(self.memory, seq, -1, -1)

    def last_logits(self, n_vocab: int) -> np.ndarray:
        """Zero-copy float32 view of the logits of the last evaluated position."""
        ptr = llama.llama_get_logits_ith(self.ctx, -1)
        if not ptr:
            raise RuntimeError("llama.cpp returned no logits for the last position")
        return np.ctypeslib.as_array(ptr, shape=(n_vocab,))

    def synchronize(self) -> None:
        llama.llama_synchronize(self.ctx)

    def seq_rm(self, start: int) -> bool:
        """Remove positions ``[start, inf)`` of sequence 0."""
        return bool(llama.llama_memory_seq_rm(self.memory, 0, start, -1))

    def seq_pos_min(self) -> int:
        return int(llama.llama_memory_seq_pos_min(self.memory, 0))

    def seq_pos_max(self) -> int:
        return int(llama.llama_memory_seq_pos_max(self.memory, 0))

    def clear_memory(self) -> None:
        llama.llama_memory_clear(self.memory, True)

    def save_seq_state(self) -> ctypes.Array[ctypes.c_uint8] | None:
        size = llama.llama_state_seq_get_size(self.ctx, 0)
        if size <= 0:
            return None
        buf = (ctypes.c_uint8 * size)()
        written = llama.llama_state_seq_get_data(self.ctx, buf, size, 0)
        if written <= 0:
            return None
        if written < size:
            small = (ctypes.c_uint8 * written)()
            ctypes.memmove(small, buf, written)
            buf = small
        return buf

    def load_seq_state(self, data: ctypes.Array[ctypes.c_uint8]) -> bool:
        llama.llama_memory_seq_rm(self.memory, 0, -1, -1)
        return llama.llama_state_seq_set_data(self.ctx, data, len(data), 0) > 0


def _llama_cpp_version() -> str:
    try:
        return importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "(unknown version)"


def _load_failure(path: Path, what: str, messages: Sequence[str]) -> ModelLoadError:
    detail = "; ".join(messages[-3:]) if messages else "no details reported"
    return ModelLoadError(
        f"llama.cpp could not {what} for model {path} ({detail}). Check that the file is a "
        "complete GGUF model supported by llama-cpp-python "
        f"{_llama_cpp_version()}, or configure another model.",
        path,
    )


def load_handles(
    path: Path,
    *,
    n_ctx: int,
    n_batch: int,
    n_threads: int,
    n_threads_batch: int,
    n_gpu_layers: int,
) -> LlamaHandles:
    """Load ``path`` (already validated) and create a single-sequence context."""
    global _captured
    _ensure_backend()
    mparams = llama.llama_model_default_params()
    mparams.n_gpu_layers = _ALL_LAYERS if n_gpu_layers < 0 else n_gpu_layers
    with _capture_lock:
        _captured = []
        try:
            model = llama.llama_model_load_from_file(str(path).encode("utf-8"), mparams)
            if not model:
                raise _load_failure(path, "load the weights", _captured)
            n_ctx_train = int(llama.llama_model_n_ctx_train(model))
            n_ctx = max(16, min(n_ctx, n_ctx_train) if n_ctx_train > 0 else n_ctx)
            n_batch = min(n_batch, n_ctx)
            cparams = llama.llama_context_default_params()
            cparams.n_ctx = n_ctx
            cparams.n_batch = n_batch
            cparams.n_ubatch = n_batch
            # Sequence 0 is the document; 1..MAX_BRANCHES score candidate continuations
            # (runtime_branches). One unified cache keeps all n_ctx cells for sequence 0.
            cparams.n_seq_max = 1 + MAX_BRANCHES
            cparams.kv_unified = True
            cparams.n_threads = n_threads
            cparams.n_threads_batch = n_threads_batch
            cparams.swa_full = True  # keep every position so any common prefix is reusable
            cparams.no_perf = True
            ctx = llama.llama_init_from_model(model, cparams)
            if not ctx:
                llama.llama_model_free(model)
                raise _load_failure(path, f"create a context (n_ctx={n_ctx})", _captured)
            messages = _captured
        finally:
            _captured = None
    memory = llama.llama_get_memory(ctx)
    vocab = llama.llama_model_get_vocab(model)
    if not memory or not vocab:
        llama.llama_free(ctx)
        llama.llama_model_free(model)
        raise _load_failure(path, "set up a KV cache and vocabulary", messages)
    batch = llama.llama_batch_init(n_batch, 0, 1 + MAX_BRANCHES)
    return LlamaHandles(
        path=path,
        model=model,
        ctx=ctx,
        vocab=vocab,
        memory=memory,
        batch=batch,
        n_ctx=int(llama.llama_n_ctx(ctx)),
        n_batch=n_batch,
        n_swa=max(0, int(llama.llama_model_n_swa(model))),
        metadata=_read_metadata(model),
    )
