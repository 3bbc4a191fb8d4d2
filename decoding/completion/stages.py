"""The completion stages, in the order a request goes through them:

    read_cursor -> gather_context -> heal -> constrain -> generate -> post_process -> result

Each is a function of what the stages before it produced, testable alone; none owns a
resource (the engine hands them the model, the index, pyright).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from tether.decoding.completion.cursor_context import CompletionContext
from tether.decoding.completion.postprocess import is_multiline_context, postprocess, should_stop
from tether.decoding.completion.prompt_window import PrefixWindow
from tether.decoding.completion.repo_context import ContextBuilder, SnippetMemo, member_hint
from tether.decoding.completion.requests import CompletionRequest, CompletionResult
from tether.decoding.grounding.healing import Healer, TokenTexts, healing_fragment
from tether.decoding.grounding.monitor import Monitor
from tether.decoding.grounding.position_reader import PositionReader
from tether.decoding.mask.vocab_index import VocabularyIndex
from tether.decoding.model.queries import LogitsHook, chain
from tether.decoding.model.runtime import ModelRuntime
from tether.decoding.model.types import Generation
from tether.index.module_names import module_name
from tether.index.receiver import Receiver, ReceiverResolver
from tether.index.text_positions import split_at
from tether.index.textfile import normalize_newlines
from tether.index.workspace import WorkspaceIndex

log = logging.getLogger(__name__)
GROUNDED_MODES = frozenset({"grounded", "blind"})


@dataclass(frozen=True, slots=True)
class Cursor:
    """The request read once: the text around the cursor and what it says."""

    request: CompletionRequest  # its text with Unix line endings
    mode: str
    prefix: str
    suffix: str
    context: CompletionContext
    multiline: bool  # the completion may span several lines

    @property
    def python(self) -> bool:
        return self.context.language == "python"


@dataclass(frozen=True, slots=True)
class Gathered:
    """What the repository adds: the context block before the file, and at a member
    position the receiver with its member hint."""

    index: WorkspaceIndex | None = None
    module: str = ""
    text: str = ""
    sources: list[str] = field(default_factory=list)
    receiver: Receiver | None = None
    hint: str = ""
    positions: PositionReader = field(default_factory=PositionReader)


@dataclass(frozen=True, slots=True)
class Healing:
    fragment: str  # what healing takes off the prefix; the model writes it again first
    prefix: str  # the prefix without it


def read_cursor(request: CompletionRequest, mode: str) -> Cursor:
    if "\r" in request.text:  # a Windows buffer: lines and columns stay where they were
        request = replace(request, text=normalize_newlines(request.text))
    prefix, suffix = split_at(request.text, request.line, request.character)
    context = CompletionContext(prefix=prefix, suffix=suffix, language="python" if (
        request.path.endswith((".py", ".pyi"))) else "text")
    return Cursor(request, mode, prefix, suffix, context, is_multiline_context(context))


def gather_context(cursor: Cursor, index: WorkspaceIndex | None, snippets: SnippetMemo,
                   count_tokens: Callable[[str], int], budget: int) -> Gathered:
    """Nothing in plain mode (`index` None); else the signatures and snippets the prompt
    gets, and the receiver where the cursor stands after `x.` (outside strings)."""
    if index is None:
        return Gathered()
    request, prefix = cursor.request, cursor.prefix
    module, _ = module_name(index.root, request.path)
    positions = PositionReader()  # scans the prefix once, for here and for the monitor
    receiver = None
    if cursor.python:
        line_start = prefix.rfind("\n") + 1
        position = positions.position(prefix, line_start, prefix[line_start:])
        if position is not None and position.kind == "member":
            receiver = _receiver(index, module, request)
    pack = ContextBuilder(index.lookup, index.searcher, count_tokens, snippets).build(
        module, request.path, prefix, budget)
    hint = ""
    if receiver is not None and receiver.known:
        indent = prefix.rsplit("\n", 1)[-1]
        hint = member_hint(receiver, indent[: len(indent) - len(indent.lstrip())])
    return Gathered(index, module, pack.text + (f"# {request.path}\n" if pack.text else ""),
                    pack.sources, receiver, hint, positions)


def _receiver(index: WorkspaceIndex, module: str, request: CompletionRequest
              ) -> Receiver | None:
    try:
        return ReceiverResolver(index.lookup).resolve(module, request.text, request.line,
                                                      request.character)
    except Exception:  # analysis must never fail a completion
        log.exception("receiver analysis failed for %s", request.path)
        return None


def heal(prefix: str, vocabulary: VocabularyIndex) -> Healing:
    """What healing takes off the prompt. The dot of `cart.ad` stays in the prompt when
    the tokenizer spells it alone before the typed characters anyway (it merges with
    `_`, not with `a`): healing it would only cost one more decoding step per keystroke."""
    fragment = healing_fragment(prefix)
    if len(fragment) > 1 and fragment.startswith(".") and (
            vocabulary.spelling(fragment)[:1] == vocabulary.spelling(".")):
        fragment = fragment[1:]
    return Healing(fragment, prefix[: len(prefix) - len(fragment)])


def healer_for(healing: Healing, texts: TokenTexts, piece: object) -> Healer | None:
    return Healer(texts, healing.fragment, piece) if healing.fragment else None


def constrain(cursor: Cursor, gathered: Gathered, healing: Healing,
              build: Callable[..., Monitor]) -> Monitor | None:
    """The monitor for grounded modes on Python text (other languages are completed like
    `rag`), already computing the cursor's legal set while the prompt is evaluated."""
    if cursor.mode not in GROUNDED_MODES or gathered.index is None or not cursor.python:
        return None
    monitor = build(gathered.index, gathered.module, cursor.request, healing.prefix,
                    cursor.mode == "blind", open_ended=not cursor.suffix.strip(),
                    healed=healing.fragment, positions=gathered.positions)
    monitor.prefetch()
    return monitor


def generate(runtime: ModelRuntime, window: PrefixWindow, cursor: Cursor, gathered: Gathered,
             healing: Healing, hooks: list[LogitsHook], max_tokens: int,
             cancel: threading.Event | None) -> tuple[list[int], Generation]:
    """The prompt (repository context, the file's window before the cursor with the member
    hint, what follows it) and its generation under the hooks."""
    prompt = runtime.build_prompt(window.cut(healing.prefix, gathered.hint), cursor.suffix,
                                  gathered.text)
    fragment = healing.fragment
    generation = runtime.generate(
        prompt, max_tokens=max_tokens + len(fragment),
        should_stop=lambda written: len(written) > len(fragment) and should_stop(
            cursor.context, written[len(fragment):], cursor.multiline),
        logits_hook=chain(hooks),
        cancel=cancel, doc_key=f"{cursor.request.workspace}:{cursor.request.path}")
    return prompt, generation


def post_process(cursor: Cursor, healing: Healing, generation: Generation) -> str:
    """The ghost text: nothing for a cancelled run or one that did not write the healed
    fragment back; else the raw text cut where the completion ends."""
    raw = generation.text
    if generation.stop_reason == "cancelled" or not raw.startswith(healing.fragment):
        return ""
    written = before_file_header(raw[len(healing.fragment):], cursor.request.path)
    return postprocess(cursor.context, written, cursor.multiline)


def before_file_header(text: str, path: str) -> str:
    """The completion up to where the model starts writing our own context layout again
    (the `# path` line that introduces the file in the prompt)."""
    header = f"# {path}"
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if index and line.strip() == header:
            return "\n".join(lines[:index])
    return text


def result(cursor: Cursor, gathered: Gathered, generation: Generation, text: str,
           monitor: Monitor | None, model: str, started: float) -> CompletionResult:
    receiver = gathered.receiver
    completion = CompletionResult(
        text=text, mode=cursor.mode, model=model,
        latency_ms=(time.perf_counter() - started) * 1000,
        prompt_tokens=generation.prompt_tokens, reused_tokens=generation.reused_tokens,
        generated_tokens=len(generation.token_ids), tokens_per_s=generation.tokens_per_s,
        stop_reason=generation.stop_reason, multiline=cursor.multiline, raw=generation.text,
        context_sources=gathered.sources,
        receiver=receiver.qualname if receiver is not None and receiver.known else None,
        decode_ms=generation.decode_ms)
    if monitor is not None:
        stats = monitor.stats
        completion.avoided_deprecations = list(monitor.avoided)
        completion.constrained_steps = stats.constrained_steps
        completion.rescored_positions = stats.rescored
        completion.mask_ms = stats.mask_seconds * 1000
        completion.analysis_ms = stats.analysis_seconds * 1000
        completion.scoring_ms = stats.scoring_seconds * 1000
        completion.legal_set_sources = dict(monitor.provider.sources)
    return completion
