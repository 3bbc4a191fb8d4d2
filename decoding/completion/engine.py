"""The completion engine: one request in, one post-processed completion out, through the
stages of decoding.completion.stages.

Modes: `plain` (the model alone on the file's prefix), `rag` (plus repository context and
the receiver's members), `grounded` (rag plus the monitor that constrains identifiers).
No LSP types here: the server converts. The engine reads the index; it never writes the
buffer into it: whoever owns the buffer does, before asking (the server's edit thread,
or `sync_buffer` for a command-line run).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tether.decoding.completion import stages
from tether.decoding.completion.loaded_model import LoadedModel
from tether.decoding.completion.prompt_window import PrefixWindow
from tether.decoding.completion.repo_context import SnippetMemo
from tether.decoding.completion.requests import (
    MODES,
    CompleterSettings,
    CompletionRequest,
    CompletionResult,
    check_request,
)
from tether.decoding.grounding.legal_sets import LegalSetProvider
from tether.decoding.grounding.monitor import Monitor
from tether.decoding.grounding.position_reader import PositionReader
from tether.decoding.model.runtime import ModelRuntime
from tether.decoding.pyright.pool import PyrightPool
from tether.index.dependencies import workspace_interpreter
from tether.index.lru import LruCache
from tether.index.registry import WorkspaceRegistry
from tether.index.textfile import normalize_newlines
from tether.index.workspace import WorkspaceIndex

__all__ = ["MODES", "Completer", "CompleterSettings", "CompletionRequest", "CompletionResult"]
KEPT_SNIPPET_SCOPES = 64  # (file, enclosing definition) pairs whose snippets are remembered


class Completer:
    """Runs the stages. The model, pyright and the snippet memos have owners of their own
    (LoadedModel, PyrightPool, one memo per workspace root) that live as long as it does."""

    def __init__(self, settings: CompleterSettings | None = None,
                 registry: WorkspaceRegistry | None = None,
                 runtime: ModelRuntime | None = None) -> None:
        self.settings = settings or CompleterSettings()
        self.registry = registry or WorkspaceRegistry()
        self.model = LoadedModel(self.settings.model, n_ctx=self.settings.n_ctx,
                                 threads=self.settings.threads,
                                 gpu_layers=self.settings.gpu_layers, runtime=runtime)
        self.pyright = PyrightPool(
            lambda root: workspace_interpreter(root, self.registry.config.interpreter),
            enabled=self.settings.use_pyright)
        self._snippets: dict[Path, SnippetMemo] = {}
        self.last_prompt: list[int] = []  # the most recent prompt's tokens, for diagnostics

    @property
    def runtime(self) -> ModelRuntime:
        return self.model.runtime

    @property
    def model_name(self) -> str:
        return self.model.name

    def close(self) -> None:
        self.pyright.close()
        self.model.close()

    def complete(self, request: CompletionRequest,
                 cancel: threading.Event | None = None) -> CompletionResult:
        started = time.perf_counter()
        cursor = stages.read_cursor(request, check_request(request, self.settings.mode))
        runtime = self.runtime
        index = None if cursor.mode == "plain" else self.registry.get(request.workspace)
        count_tokens = self.model.token_counts()
        gathered = stages.gather_context(
            cursor, index, self._snippet_memo(index), count_tokens,
            self.settings.context_budget)
        healing = stages.heal(cursor.prefix, self.model.vocabulary())
        monitor = stages.constrain(cursor, gathered, healing, self.build_monitor)
        healer = stages.healer_for(healing, self.model.token_texts(), runtime.vocab.piece)
        hooks = [*([healer.logits_hook] if healer else []), *([monitor.step] if monitor else [])]
        self.last_prompt, generation = stages.generate(
            runtime, PrefixWindow(count_tokens, self.settings.prefix_budget), cursor,
            gathered, healing, hooks,
            request.max_tokens or self.settings.max_tokens, cancel)
        text = stages.post_process(cursor, healing, generation)
        return stages.result(cursor, gathered, generation, text, monitor, self.model_name,
                             started)

    def sync_buffer(self, request: CompletionRequest) -> None:
        """Write the request's buffer into its workspace's index, for callers that own the
        buffer themselves (a command-line run, a benchmark)."""
        if check_request(request, self.settings.mode) != "plain":
            self.registry.get(request.workspace).set_buffer(
                request.path, normalize_newlines(request.text))

    def _snippet_memo(self, index: WorkspaceIndex | None) -> SnippetMemo:
        if index is None:
            return LruCache(1)
        return self._snippets.setdefault(index.root, LruCache(KEPT_SNIPPET_SCOPES))

    def release(self, request: CompletionRequest) -> None:
        """Drop the request's buffer override (batch use: the next task must see the other
        files as they are on disk, not cut at an earlier task's cursor)."""
        if request.mode == "plain" or (request.mode is None and self.settings.mode == "plain"):
            return
        index = self.registry.existing(request.workspace)
        if index is None:  # never indexed (e.g. a missing workspace): nothing to release
            return
        index.close_buffer(request.path)
        self.close_document(request.workspace, request.path)

    def close_document(self, workspace: Path, path: str) -> None:
        """Pyright forgets its copy of the buffer and reads the disk again."""
        root = workspace.resolve()
        self.pyright.close_document(root, root / path)

    def prepare(self, workspace: Path, path: str | None = None, text: str | None = None) -> None:
        """Pay start-up costs before the first request: load the model, build the token
        tables, start pyright and let it analyse the open document."""
        self.model.vocabulary()
        running = self.pyright.get(workspace.resolve())
        if running is not None:
            running.client.warm_up()
            if path is not None and text is not None:
                running.client.update_document(workspace.resolve() / path, text)

    def build_monitor(self, index: WorkspaceIndex, module: str, request: CompletionRequest,
                      prefix: str, type_blind: bool, rescore: bool = True,
                      open_ended: bool = False, healed: str = "",
                      positions: PositionReader | None = None) -> Monitor:
        """`rescore`: choose names by whole-name scores, asked of the runtime that drives
        the generation (off for monitors driven without a model). `open_ended`: the buffer
        ends at the cursor (see LegalSetProvider). `healed`: what healing took off the
        prefix's end. `positions`: a reader that has already scanned the lines above."""
        pyright = None if type_blind else self.pyright.get(index.root)
        provider = LegalSetProvider(
            index.lookup, module, index.root / request.path,
            oracle=pyright.client if pyright is not None else None,
            type_blind=type_blind, open_ended=open_ended,
            member_probe=pyright.members if pyright is not None else None,
            signature_probe=pyright.signatures if pyright is not None else None,
            document=(request.text, request.line))
        return Monitor(self.model.vocabulary(), provider, self.runtime.vocab.piece, prefix,
                       rescore, healed, positions=positions)
