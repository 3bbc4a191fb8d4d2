"""Whole-name choice (decoding.grounding.name_choice) on the real vocabulary, with stand-in
scores: the best-scored name is written, and names of both kinds compete across first
tokens only within the contention margin. The test is the monitor's driver: it answers the
queries the monitor's steps yield, as ModelRuntime.generate would."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from support.grounding import Teacher, body_prefix, monitor_at

from tether.decoding.completion.engine import Completer, CompletionRequest
from tether.decoding.grounding.monitor import Monitor
from tether.decoding.grounding.name_choice import CONTENTION_MARGIN
from tether.decoding.model.queries import (
    Answerer,
    LookAhead,
    ModelQuery,
    QueryAnswer,
    ScoreContinuations,
    run_step,
)
from tether.index.module_names import module_name


def test_whole_name_scoring_writes_the_best_scored_name(completer: Completer, shop_root: Path,
                                                        teacher: Teacher) -> None:
    """The model prefers `add...`; the scorer rates the last candidate it is offered highest,
    and that name is written token by token and ends there."""
    monitor = monitor_at(completer, shop_root, body_prefix(shop_root) + "cart.", rescore=True)
    offered: list[list[str]] = []

    def scorer(logits: np.ndarray, branches: Sequence[Sequence[int]],
               enders: np.ndarray) -> tuple[list[float], np.ndarray]:
        names = ["".join(monitor.vocabulary.trie.text(token) or "" for token in branch)
                 for branch in branches]
        offered.append(names)
        return [0.0 if name == names[-1] else -50.0 for name in names], logits

    answer = answering(scorer)
    pieces = teacher.runtime.token_pieces()
    generated: list[int] = []
    written = ""
    while len(generated) < 12 and (not written or written[-1:].isidentifier()
                                    or written[-1:].isdigit()):
        logits = np.zeros(teacher.runtime.vocab_size, dtype=np.float32)
        logits[teacher.runtime.tokenize("add", continuation=True)[0]] = 5.0  # what it would say
        replaced = run_step(monitor.step(generated, logits), answer)
        token = int((logits if replaced is None else replaced).argmax())
        generated.append(token)
        written += pieces[token].decode("utf-8", errors="replace")
    assert len(offered) == 1 and 2 <= len(offered[0]) <= 4
    assert "add_item" in offered[0] and offered[0][-1] != "add_item"
    chosen = offered[0][-1]
    assert written.startswith(chosen) and not written[len(chosen):][:1].isidentifier()
    assert monitor.stats.rescored == 1


Scorer = Callable[[np.ndarray, Sequence[Sequence[int]], np.ndarray], QueryAnswer]
LookAheadRows = Callable[[np.ndarray, Sequence[int]], QueryAnswer]


def answering(scorer: Scorer, look_ahead: LookAheadRows | None = None) -> Answerer:
    """A driver's answers to the monitor's queries, from stand-in functions."""
    def answer(query: ModelQuery) -> QueryAnswer:
        if isinstance(query, ScoreContinuations):
            assert query.enders is not None
            return scorer(query.logits, query.branches, query.enders)
        assert isinstance(query, LookAhead) and look_ahead is not None
        return look_ahead(query.logits, query.tokens)

    return answer


LEDGER_HEAD = ("class Ledger:\n    def __init__(self) -> None:\n        self._total = 0\n"
               "        self._entries: list[int] = []\n\n"
               "    def add(self, amount: int) -> None:\n        self._entries.append(amount)\n\n"
               "    def balance(self) -> int:\n        return self")


def _write_after_healed_dot(completer: Completer, shop_root: Path, teacher: Teacher,
                            logit_of: dict[str, float], favourite_after: dict[str, str],
                            best_scored: str) -> tuple[str, Monitor, list[list[int]]]:
    """Drive a monitor whose prompt ends `return self` (healing took the dot): the first
    step's logits favour first tokens as `logit_of` says, a look-ahead after a first token
    favours the name `favourite_after` gives for it, and the scorer rates `best_scored`
    highest. Returns what was written, the monitor and the tokens looked ahead from."""
    rel = "shop/ledger.py"
    index = completer.registry.get(shop_root)
    index.set_buffer(rel, LEDGER_HEAD)
    module, _ = module_name(index.root, rel)
    lines = LEDGER_HEAD.split("\n")
    request = CompletionRequest(shop_root, rel, LEDGER_HEAD + ".", len(lines) - 1,
                                len(lines[-1]) + 1, "grounded")
    monitor = completer.build_monitor(index, module, request, LEDGER_HEAD, type_blind=False,
                                      rescore=True, healed=".")
    spell = monitor.vocabulary.spelling
    looked_from: list[list[int]] = []

    def look_ahead(logits: np.ndarray,
                   tokens: Sequence[int]) -> tuple[list[np.ndarray], np.ndarray]:
        looked_from.append(list(tokens))
        rows = []
        for token in tokens:
            row = np.full(teacher.runtime.vocab_size, -20.0, dtype=np.float32)
            piece = monitor.vocabulary.trie.text(token) or ""
            row[spell("." + favourite_after[piece])[1][0]] = 0.0
            rows.append(row)
        return rows, np.array(logits, copy=True)

    def scorer(logits: np.ndarray, branches: Sequence[Sequence[int]],
               enders: np.ndarray) -> tuple[list[float], np.ndarray]:
        names = ["".join(monitor.vocabulary.trie.text(token) or "" for token in branch)
                 for branch in branches]
        return [0.0 if name.lstrip(".") == best_scored else -50.0 for name in names], logits

    answer = answering(scorer, look_ahead)
    pieces = teacher.runtime.token_pieces()
    generated: list[int] = []
    written = ""
    while len(generated) < 8 and (not written or written[-1:] in "._"
                                   or written[-1:].isidentifier()):
        logits = np.zeros(teacher.runtime.vocab_size, dtype=np.float32)
        if not generated:
            for text, value in logit_of.items():
                logits[spell(text)[0][0]] = value
        replaced = run_step(monitor.step(generated, logits), answer)
        token = int((logits if replaced is None else replaced).argmax())
        generated.append(token)
        written += pieces[token].decode("utf-8", errors="replace")
    return written, monitor, looked_from


def test_member_chosen_before_its_dot_across_first_tokens(
        completer: Completer, shop_root: Path, teacher: Teacher) -> None:
    """`.` leads `._` by less than the contention margin: names of both kinds compete on
    their whole spelling, and the private one that scores best is written with its `._`."""
    assert len(teacher.runtime.tokenize("._", continuation=True)) == 1
    written, monitor, looked_from = _write_after_healed_dot(
        completer, shop_root, teacher, {".": 2.0, "._": 1.0},
        {".": "add", "._": "total"}, best_scored="_total")
    assert len(looked_from) == 1 and len(looked_from[0]) == 2  # `.` and `._`, one batch
    assert written.startswith("._total") and not written[len("._total"):][:1].isidentifier()
    assert monitor.stats.rescored == 1


def test_a_first_token_far_behind_is_not_looked_ahead_from(
        completer: Completer, shop_root: Path, teacher: Teacher) -> None:
    """`._` trails by more than the margin: `.` is written greedily, with no look-ahead,
    and the public name is chosen after it."""
    written, monitor, looked_from = _write_after_healed_dot(
        completer, shop_root, teacher, {".": 2.0, "._": 2.0 - CONTENTION_MARGIN - 1},
        {".": "add", "._": "total"}, best_scored="balance")
    assert looked_from == []
    assert written.startswith(".balance") and monitor.stats.rescored == 1
