"""Helpers for the grounding tests on the shop fixture (no tests here): a monitor built the
way the completer builds one, teacher-forced decoding through it, and the legal set it
computes at the end of a buffer."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from support.completion import complete
from tether.decoding.completion.engine import Completer, CompletionRequest, CompletionResult
from tether.decoding.grounding.forcing import ForcedDecoder
from tether.decoding.grounding.legal_sets import LegalSet
from tether.decoding.grounding.monitor import Monitor
from tether.decoding.grounding.positions import detect_position
from tether.decoding.model.runtime import ModelRuntime
from tether.index.module_names import module_name

RUN_PY = "scripts/run.py"
BODY_MARKER = "    return s.checkout(cart)"


class Teacher:
    """Forced decoding (decoding.grounding.forcing) towards an intended text through a monitor.

    At each step the logits favour the longest vocabulary token that continues the intended
    text, the monitor edits them, and the argmax is taken exactly as the runtime does."""

    def __init__(self, runtime: ModelRuntime) -> None:
        self.runtime = runtime
        self.decoder = ForcedDecoder(runtime.token_pieces(), set(runtime.vocab.control_ids))

    def run(self, monitor: Monitor, intended: str, max_steps: int = 60) -> str:
        """What comes out: `intended` itself, or its prefix the monitor let through plus the
        token it steered to."""
        return self.decoder.run(monitor.logits_hook, intended, max_steps).written


def monitor_at(completer: Completer, root: Path, text: str, rel: str = RUN_PY,
               suffix: str = "", rescore: bool = False) -> Monitor:
    """A monitor for a buffer `text` + `suffix` with the cursor between them. `rescore`:
    it asks its driver for whole-name scores."""
    index = completer.registry.get(root)
    index.set_buffer(rel, text + suffix)
    module, _ = module_name(index.root, rel)
    lines = text.split("\n")
    request = CompletionRequest(root, rel, text + suffix, len(lines) - 1, len(lines[-1]),
                                "grounded")
    return completer.build_monitor(index, module, request, text, type_blind=False,
                                   rescore=rescore)


def written_in_file(completer: Completer, root: Path, teacher: Teacher, text: str, rel: str,
                    intended: str, suffix: str = "") -> str:
    """What the monitor lets a forced `intended` write at the end of `text` in file `rel`
    (opened as a buffer, closed again afterwards)."""
    monitor = monitor_at(completer, root, text, rel, suffix=suffix)
    try:
        return teacher.run(monitor, intended)
    finally:
        completer.registry.get(root).close_buffer(rel)


def complete_at_end(completer: Completer, root: Path, prefix: str) -> CompletionResult:
    """A grounded completion of RUN_PY cut at the end of `prefix`."""
    lines = prefix.split("\n")
    return complete(completer, CompletionRequest(root, RUN_PY, prefix, len(lines) - 1,
                                                len(lines[-1]), "grounded"))


def body_prefix(root: Path) -> str:
    """RUN_PY up to the start of the line BODY_MARKER begins, indented for main's body."""
    source = (root / RUN_PY).read_text()
    return source[: source.index(BODY_MARKER)] + "    "


@contextmanager
def asking_at_end(completer: Completer, root: Path, rel: str,
                  head: str) -> Iterator[Callable[[], LegalSet | None]]:
    """While `head` is open as the buffer of `rel` (which need not exist), cut at the cursor:
    a function that computes the monitor's legal set at its end, afresh on each call."""
    index = completer.registry.get(root)
    module, _ = module_name(index.root, rel)
    lines = head.split("\n")
    request = CompletionRequest(root, rel, head, len(lines) - 1, len(lines[-1]), "grounded")
    position = detect_position(lines[-1])
    assert position is not None

    def ask() -> LegalSet | None:
        monitor = completer.build_monitor(index, module, request, head, type_blind=False,
                                          rescore=False, open_ended=True)
        return monitor.provider.legal_for(position, head, len(lines) - 1)

    try:
        index.set_buffer(rel, head)
        yield ask
    finally:
        index.close_buffer(rel)
        completer.close_document(root, rel)


def legal_set_at_end(completer: Completer, root: Path, rel: str, head: str) -> LegalSet | None:
    with asking_at_end(completer, root, rel, head) as ask:
        return ask()


def legal_set_when(settled: Callable[[LegalSet | None], bool], completer: Completer,
                   root: Path, rel: str, head: str) -> LegalSet | None:
    """`legal_set_at_end`, asked again (the buffer kept open, as in an editor) for up to 30 s
    until `settled` holds: pyright, busy with a first analysis, may answer after its
    timeout."""
    with asking_at_end(completer, root, rel, head) as ask:
        legal = ask()
        deadline = time.monotonic() + 30.0
        while not settled(legal) and time.monotonic() < deadline:
            time.sleep(0.2)
            legal = ask()
        return legal
