"""The completion engine: one request in, one post-processed completion out.

Modes: `plain` (the model alone on the file's prefix), `rag` (plus repository context and
the receiver's members), `grounded` (rag plus the monitor that constrains identifiers).
No LSP types here: the server converts.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from tether.decoding.completion.cursor_context import CompletionContext
from tether.decoding.completion.postprocess import is_multiline_context, postprocess, should_stop
from tether.decoding.completion.prompt_window import PrefixWindow
from tether.decoding.completion.repo_context import ContextBuilder, SnippetMemo, member_hint
from tether.decoding.grounding.healing import Healer, TokenTexts, healing_fragment
from tether.decoding.grounding.legal_sets import LegalSetProvider
from tether.decoding.grounding.monitor import Monitor
from tether.decoding.grounding.position_reader import PositionReader
from tether.decoding.mask.vocab_index import VocabularyIndex
from tether.decoding.model.files import DEFAULT_MODEL, embedded_model_for, resolve_model
from tether.decoding.model.runtime import LogitsHook, ModelRuntime
from tether.decoding.model.token_counts import TokenCounts
from tether.decoding.pyright.client import PyrightClient
from tether.decoding.pyright.member_probe import MemberProbe, probe_path
from tether.decoding.pyright.signature_probe import SignatureProbe
from tether.index.dependencies import workspace_interpreter
from tether.index.lru import LruCache
from tether.index.module_names import module_name
from tether.index.receiver import Receiver, ReceiverResolver
from tether.index.registry import WorkspaceRegistry
from tether.index.text_positions import split_at
from tether.index.textfile import normalize_newlines
from tether.index.workspace import WorkspaceIndex

log = logging.getLogger(__name__)
MODES = ("plain", "rag", "grounded", "blind")  # blind: the type-blind baseline monitor
KEPT_SNIPPET_SCOPES = 64  # (file, enclosing definition) pairs whose snippets are remembered


@dataclass(slots=True)
class CompleterSettings:
    model: str | None = None  # a GGUF path or an embedded model name; None = the default
    mode: str = "grounded"
    max_tokens: int = 64
    prefix_budget: int = 1024  # tokens of the file before the cursor
    context_budget: int = 384  # tokens of repository context (rag, grounded)
    n_ctx: int = 4096
    threads: int | None = None
    gpu_layers: int | None = None
    use_pyright: bool = True  # ask pyright where the index cannot resolve a receiver


@dataclass(slots=True)
class CompletionRequest:
    workspace: Path
    path: str  # relative to the workspace
    text: str  # the buffer as the editor has it; may end at the cursor
    line: int
    character: int
    mode: str | None = None  # None: the settings' mode


@dataclass(slots=True)
class CompletionResult:
    text: str
    mode: str
    model: str
    latency_ms: float
    prompt_tokens: int = 0
    reused_tokens: int = 0
    generated_tokens: int = 0
    tokens_per_s: float = 0.0
    stop_reason: str = ""
    multiline: bool = False
    raw: str = ""
    context_sources: list[str] = field(default_factory=list)
    receiver: str | None = None
    avoided_deprecations: list[str] = field(default_factory=list)
    constrained_steps: int = 0
    rescored_positions: int = 0  # identifier positions decided by whole-name scoring
    mask_ms: float = 0.0  # time spent in the monitor's logits hook, analysis included
    analysis_ms: float = 0.0  # of which: computing legal sets (index, pyright, parsing)
    scoring_ms: float = 0.0  # of which: whole-name scoring on the model
    decode_ms: float = 0.0
    legal_set_sources: dict[str, int] = field(default_factory=dict)  # index | pyright | ...

    def to_json(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


class Completer:
    """Owns the model runtime (loaded on first use) and the workspace indexes."""

    def __init__(self, settings: CompleterSettings | None = None,
                 registry: WorkspaceRegistry | None = None,
                 runtime: ModelRuntime | None = None) -> None:
        self.settings = settings or CompleterSettings()
        self.registry = registry or WorkspaceRegistry()
        self._runtime = runtime
        self._runtime_lock = threading.Lock()
        self._vocabulary: VocabularyIndex | None = None
        self._token_texts: TokenTexts | None = None
        self._token_counts: TokenCounts | None = None
        self.last_prompt: list[int] = []  # the most recent prompt's tokens, for diagnostics
        self._pyright: dict[Path, PyrightClient] = {}
        self._probes: dict[Path, MemberProbe] = {}
        self._signatures: dict[Path, SignatureProbe] = {}
        self._snippets: dict[Path, SnippetMemo] = {}

    @property
    def runtime(self) -> ModelRuntime:
        with self._runtime_lock:
            if self._runtime is None:
                path = resolve_model(self.settings.model)
                spec = embedded_model_for(self.settings.model) if (
                    not self.settings.model or not Path(self.settings.model).suffix) else None
                fim_mode = "auto" if spec is None or spec.use_fim else "prefix"
                self._runtime = ModelRuntime(
                    path, n_ctx=self.settings.n_ctx, n_threads=self.settings.threads,
                    n_gpu_layers=self.settings.gpu_layers, fim_mode=fim_mode)
            return self._runtime

    @property
    def model_name(self) -> str:
        if self._runtime is not None:
            return self._runtime.model_path.name
        return self.settings.model or DEFAULT_MODEL

    def close(self) -> None:
        for client in self._pyright.values():
            client.shutdown()
        self._pyright.clear()
        if self._runtime is not None:
            self._runtime.close()

    def complete(self, request: CompletionRequest,
                 cancel: threading.Event | None = None) -> CompletionResult:
        started = time.perf_counter()
        mode = request.mode or self.settings.mode
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
        if "\r" in request.text:  # a Windows buffer: lines and columns stay where they were
            request = replace(request, text=normalize_newlines(request.text))
        runtime = self.runtime
        prefix, suffix = split_at(request.text, request.line, request.character)
        ctx = CompletionContext(prefix=prefix, suffix=suffix,
                                language="python" if request.path.endswith((".py", ".pyi"))
                                else "text")
        multiline = is_multiline_context(ctx)
        count_tokens = self._counts()
        window = PrefixWindow(count_tokens, self.settings.prefix_budget)
        context_text, sources, receiver = "", [], None
        monitor: Monitor | None = None
        index: WorkspaceIndex | None = None
        module = ""
        positions = PositionReader()  # the prefix is scanned once, here and by the monitor
        if mode != "plain":
            check_location(request)
            index = self.registry.get(request.workspace)
            index.set_buffer(request.path, request.text)
            module, _ = module_name(index.root, request.path)
            line_start = prefix.rfind("\n") + 1
            position = positions.position(prefix, line_start, prefix[line_start:]) \
                if ctx.language == "python" else None
            if position is not None and position.kind == "member":  # not in a docstring
                receiver = self._receiver(index, module, request)
            snippets = self._snippets.setdefault(index.root, LruCache(KEPT_SNIPPET_SCOPES))
            builder = ContextBuilder(index.lookup, index.searcher, count_tokens, snippets)
            pack = builder.build(module, request.path, prefix, self.settings.context_budget)
            context_text = pack.text + (f"# {request.path}\n" if pack.text else "")
            sources = pack.sources
        hint = ""
        if receiver is not None and receiver.known:
            indent = prefix.rsplit("\n", 1)[-1]
            hint = member_hint(receiver, indent[: len(indent) - len(indent.lstrip())])
        fragment = self._fragment(prefix)
        healed_prefix = prefix[: len(prefix) - len(fragment)]
        # Static analysis is Python's: other languages are completed like `rag`.
        if mode in ("grounded", "blind") and index is not None and ctx.language == "python":
            monitor = self.build_monitor(index, module, request, healed_prefix, mode == "blind",
                                         open_ended=not suffix.strip(), healed=fragment,
                                         positions=positions)
            monitor.prefetch()
        hooks = [hook for hook in (self._healer(fragment), monitor) if hook is not None]
        prompt = runtime.build_prompt(window.cut(healed_prefix, hint), suffix, context_text)
        self.last_prompt = prompt
        generation = runtime.generate(
            prompt, max_tokens=self.settings.max_tokens + len(fragment),
            should_stop=lambda written: len(written) > len(fragment) and should_stop(
                ctx, written[len(fragment):], multiline),
            logits_hook=_chain(hooks), cancel=cancel,
            doc_key=f"{request.workspace}:{request.path}")
        raw = generation.text
        healed = raw.startswith(fragment)
        text = "" if generation.stop_reason == "cancelled" or not healed else postprocess(
            ctx, _before_file_header(raw[len(fragment):], request.path), multiline)
        return CompletionResult(
            text=text, mode=mode, model=self.model_name,
            latency_ms=(time.perf_counter() - started) * 1000,
            prompt_tokens=generation.prompt_tokens, reused_tokens=generation.reused_tokens,
            generated_tokens=len(generation.token_ids), tokens_per_s=generation.tokens_per_s,
            stop_reason=generation.stop_reason, multiline=multiline, raw=raw,
            context_sources=sources,
            receiver=receiver.qualname if receiver is not None and receiver.known else None,
            avoided_deprecations=list(monitor.avoided) if monitor is not None else [],
            constrained_steps=monitor.constrained_steps if monitor is not None else 0,
            rescored_positions=monitor.stats.rescored if monitor is not None else 0,
            mask_ms=monitor.stats.mask_seconds * 1000 if monitor is not None else 0.0,
            analysis_ms=monitor.stats.analysis_seconds * 1000 if monitor is not None else 0.0,
            scoring_ms=monitor.stats.scoring_seconds * 1000 if monitor is not None else 0.0,
            decode_ms=generation.decode_ms,
            legal_set_sources=dict(monitor.provider.sources) if monitor is not None else {})

    @staticmethod
    def _receiver(index: WorkspaceIndex, module: str,
                  request: CompletionRequest) -> Receiver | None:
        try:
            return ReceiverResolver(index.lookup).resolve(module, request.text, request.line,
                                                          request.character)
        except Exception:  # analysis must never fail a completion
            log.exception("receiver analysis failed for %s", request.path)
            return None

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
        """Pyright forgets its copy of the buffer (and of its member probe) and reads the
        disk again."""
        client = self._pyright.get(workspace.resolve())
        if client is not None:
            full = workspace.resolve() / path
            client.close_document(full)
            client.close_document(probe_path(full))

    def prepare(self, workspace: Path, path: str | None = None, text: str | None = None) -> None:
        """Pay start-up costs before the first request: load the model, build the token
        tables, start pyright and let it analyse the open document."""
        self._tables()
        client = self._pyright_for(workspace.resolve())
        if client is not None:
            client.warm_up()
            if path is not None and text is not None:
                client.update_document(workspace.resolve() / path, text)

    def _counts(self) -> TokenCounts:
        runtime = self.runtime
        if self._token_counts is None:
            self._token_counts = TokenCounts(runtime.tokenize)
        return self._token_counts

    def _tables(self) -> tuple[TokenTexts, VocabularyIndex]:
        runtime = self.runtime
        if self._token_texts is None or self._vocabulary is None:
            special = set(runtime.vocab.control_ids) | set(runtime.fim_template.stop_ids)
            self._token_texts = TokenTexts(runtime.token_pieces(), special)
            self._vocabulary = VocabularyIndex(
                runtime.token_pieces(), special,
                lambda name: runtime.tokenize(name, continuation=True))
        return self._token_texts, self._vocabulary

    def _fragment(self, prefix: str) -> str:
        """What healing takes off the prompt. The dot of `cart.ad` stays in the prompt when
        the tokenizer spells it alone before the typed characters anyway (it merges with
        `_`, not with `a`): healing it would only cost one more decoding step per keystroke."""
        fragment = healing_fragment(prefix)
        if len(fragment) > 1 and fragment.startswith("."):
            _, vocabulary = self._tables()
            if vocabulary.spelling(fragment)[:1] == vocabulary.spelling("."):
                return fragment[1:]
        return fragment

    def _healer(self, fragment: str) -> Healer | None:
        if not fragment:
            return None
        texts, _ = self._tables()
        return Healer(texts, fragment, self.runtime.vocab.piece)

    def build_monitor(self, index: WorkspaceIndex, module: str, request: CompletionRequest,
                      prefix: str, type_blind: bool, rescore: bool = True,
                      open_ended: bool = False, healed: str = "",
                      positions: PositionReader | None = None) -> Monitor:
        """`rescore`: choose names by whole-name scoring on the live generation (off for
        monitors driven outside ModelRuntime.generate). `open_ended`: the buffer ends at the
        cursor (see LegalSetProvider). `healed`: what healing took off the prefix's end.
        `positions`: a reader that has already scanned the lines above the cursor."""
        _, vocabulary = self._tables()
        oracle = None if type_blind else self._pyright_for(index.root)
        provider = LegalSetProvider(
            index.lookup, module, index.root / request.path, oracle=oracle,
            type_blind=type_blind, open_ended=open_ended,
            member_probe=self._probes.get(index.root) if oracle is not None else None,
            signature_probe=self._signatures.get(index.root) if oracle is not None else None,
            document=(request.text, request.line))
        if not rescore:
            return Monitor(vocabulary, provider, self.runtime.vocab.piece, prefix, None, healed,
                           positions=positions)
        return Monitor(vocabulary, provider, self.runtime.vocab.piece, prefix,
                       self.runtime.score_continuations, healed, self.runtime.log_probs_after,
                       positions=positions)

    def _pyright_for(self, root: Path) -> PyrightClient | None:
        if not self.settings.use_pyright:
            return None
        with self._runtime_lock:
            client = self._pyright.get(root)
            if client is None:
                client = PyrightClient(root, python_path=workspace_interpreter(
                    root, self.registry.config.interpreter))
                try:
                    client.start()
                except Exception:  # pyright missing or broken: the index alone answers
                    log.exception("pyright could not start for %s", root)
                    return None
                self._pyright[root] = client
                self._probes[root] = MemberProbe(client)
                self._signatures[root] = SignatureProbe(client)
            return client


def check_location(request: CompletionRequest) -> None:
    """Modes that read the repository need a workspace folder that exists and a document
    path inside it (never an absolute path or one that climbs out with `..`)."""
    if not request.workspace.is_dir():
        raise ValueError(f"workspace {request.workspace} is not a directory")
    root = request.workspace.resolve()
    if Path(request.path).is_absolute() or not (root / request.path).resolve().is_relative_to(
            root):
        raise ValueError(f"path {request.path!r} is not inside the workspace {root}")


def _before_file_header(text: str, path: str) -> str:
    """The completion up to where the model starts writing our own context layout again
    (the `# path` line that introduces the file in the prompt)."""
    header = f"# {path}"
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if index and line.strip() == header:
            return "\n".join(lines[:index])
    return text


def _chain(hooks: list[Healer | Monitor]) -> LogitsHook | None:
    if not hooks:
        return None
    if len(hooks) == 1:
        return hooks[0].logits_hook

    def run_all(generated: list[int], logits: np.ndarray) -> np.ndarray | None:
        replaced = None
        for hook in hooks:
            result = hook.logits_hook(generated, logits if replaced is None else replaced)
            if result is not None:
                replaced = result
        return replaced

    return run_all
