"""The completion model: its runtime, loaded on first use, and the tables derived from its
vocabulary (token texts for healing, token classes for the monitor, remembered counts)."""

from __future__ import annotations

import threading
from pathlib import Path

from tether.decoding.grounding.healing import TokenTexts
from tether.decoding.mask.vocab_index import VocabularyIndex
from tether.decoding.model.files import DEFAULT_MODEL, embedded_model_for, resolve_model
from tether.decoding.model.runtime import ModelRuntime
from tether.decoding.model.token_counts import TokenCounts


class LoadedModel:
    def __init__(self, model: str | None, *, n_ctx: int, threads: int | None,
                 gpu_layers: int | None, runtime: ModelRuntime | None = None) -> None:
        """`model`: a GGUF path or an embedded model name (None: the default). `runtime`:
        one already loaded (tests share one)."""
        self.model = model
        self.n_ctx = n_ctx
        self.threads = threads
        self.gpu_layers = gpu_layers
        self._runtime = runtime
        self._lock = threading.Lock()
        self._texts: TokenTexts | None = None
        self._vocabulary: VocabularyIndex | None = None
        self._counts: TokenCounts | None = None

    @property
    def runtime(self) -> ModelRuntime:
        with self._lock:
            if self._runtime is None:
                path = resolve_model(self.model)
                spec = embedded_model_for(self.model) if (
                    not self.model or not Path(self.model).suffix) else None
                fim_mode = "auto" if spec is None or spec.use_fim else "prefix"
                self._runtime = ModelRuntime(
                    path, n_ctx=self.n_ctx, n_threads=self.threads,
                    n_gpu_layers=self.gpu_layers, fim_mode=fim_mode)
            return self._runtime

    @property
    def loaded(self) -> bool:
        return self._runtime is not None

    @property
    def name(self) -> str:
        if self._runtime is not None:
            return self._runtime.model_path.name
        return self.model or DEFAULT_MODEL

    def token_counts(self) -> TokenCounts:
        runtime = self.runtime
        if self._counts is None:
            self._counts = TokenCounts(runtime.tokenize)
        return self._counts

    def token_texts(self) -> TokenTexts:
        return self._tables()[0]

    def vocabulary(self) -> VocabularyIndex:
        return self._tables()[1]

    def _tables(self) -> tuple[TokenTexts, VocabularyIndex]:
        runtime = self.runtime
        if self._texts is None or self._vocabulary is None:
            special = set(runtime.vocab.control_ids) | set(runtime.fim_template.stop_ids)
            self._texts = TokenTexts(runtime.token_pieces(), special)
            self._vocabulary = VocabularyIndex(
                runtime.token_pieces(), special,
                lambda name: runtime.tokenize(name, continuation=True))
        return self._texts, self._vocabulary

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.close()
