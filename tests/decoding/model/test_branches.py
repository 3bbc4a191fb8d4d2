"""Whole-continuation scoring (runtime_branches) against real llama.cpp: the batched scores
equal token-by-token scoring, and the document's own cache and generation are untouched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tether.decoding.model.branches import log_normalizer
from tether.decoding.model.runtime import MAX_BRANCHES, Generation, ModelRuntime

CODE = (
    "class Cart:\n    def __init__(self):\n        self.items = []\n\n"
    "    def add_item(self, item):\n        self.items.append(item)\n\n\n"
    "def fill(cart: Cart, item):\n    cart."
)
NAMES = ["add_item", "items", "append", "update_item_by_name", "clear"]


def _sequential_scores(rt: ModelRuntime, prompt: list[int],
                       branches: list[list[int]]) -> list[float]:
    """Reference: each branch evaluated alone, one token at a time, on a fresh prompt."""
    scores = []
    for branch in branches:
        total = 0.0
        context = list(prompt)
        for token in branch:
            seen: list[np.ndarray] = []

            def grab(_generated: list[int], logits: np.ndarray, seen: list = seen) -> None:
                seen.append(np.array(logits, copy=True))

            rt.generate(context, max_tokens=1, logits_hook=grab)
            total += float(seen[0][token]) - log_normalizer(seen[0])
            context.append(token)
        scores.append(total)
    return scores


def _generate_scoring_first_step(rt: ModelRuntime, prompt: list[int],
                                 branches: list[list[int]], max_tokens: int,
                                 enders: np.ndarray | None = None
                                 ) -> tuple[list[float] | None, Generation]:
    """Generate, scoring `branches` from inside the hook at the first step."""
    results: list[list[float] | None] = []

    def hook(generated: list[int], logits: np.ndarray) -> np.ndarray | None:
        if generated:
            return None
        scores, detached = rt.score_continuations(logits, branches, enders)
        results.append(scores)
        return detached

    generation = rt.generate(prompt, max_tokens=max_tokens, logits_hook=hook)
    assert len(results) == 1
    return results[0], generation


def test_batched_scores_match_token_by_token_scoring(fresh_runtime: ModelRuntime) -> None:
    rt = fresh_runtime
    prompt = rt.build_prompt(CODE)
    branches = [rt.tokenize(name, continuation=True) for name in NAMES]
    assert any(len(branch) > 1 for branch in branches)
    scores, with_scoring = _generate_scoring_first_step(rt, prompt, branches, 6)
    expected = _sequential_scores(rt, prompt, branches)
    # Batched and single-token evaluation are not bit-identical in llama.cpp (a few hundredths
    # per token); a branch seeing another branch's tokens would be off by whole units.
    assert scores == pytest.approx(expected, rel=0.05, abs=0.1)
    # Scoring left sequence 0 alone: the generation equals one without scoring.
    rt.reset()
    assert rt.generate(prompt, max_tokens=6).token_ids == with_scoring.token_ids


def test_a_branch_that_another_extends_pays_for_ending_there(
        fresh_runtime: ModelRuntime) -> None:
    """`add` beside `add_item`: without the probability of ending after `add`, the shorter
    branch could never lose to its own extension."""
    rt = fresh_runtime
    prompt = rt.build_prompt(CODE)
    longer = rt.tokenize("add_item", continuation=True)
    assert len(longer) > 1
    shorter, other = longer[:1], rt.tokenize("clear", continuation=True)
    enders = np.array([t for t in range(rt.vocab_size)
                       if not (rt.vocab.piece(t)[:1] or b"_").decode("latin-1").isidentifier()
                       and not (rt.vocab.piece(t)[:1] or b"0").isdigit()], dtype=np.int32)
    scores, _ = _generate_scoring_first_step(rt, prompt, [shorter, longer, other], 1, enders)
    plain = _sequential_scores(rt, prompt, [shorter, longer, other])
    after: list[np.ndarray] = []
    rt.generate(prompt + shorter, max_tokens=1,
                logits_hook=lambda _g, logits: after.append(np.array(logits, copy=True)))
    ending = log_normalizer(after[0][enders]) - log_normalizer(after[0])
    assert scores is not None
    assert scores[0] == pytest.approx(plain[0] + ending, rel=0.05, abs=0.1)
    assert scores[1:] == pytest.approx(plain[1:], rel=0.05, abs=0.1)  # nothing extends them


def test_scoring_validates_its_input(fresh_runtime: ModelRuntime) -> None:
    rt = fresh_runtime
    prompt = rt.build_prompt(CODE)
    errors: list[Exception] = []

    def hook(generated: list[int], logits: np.ndarray) -> None:
        for branches in ([[1]] * (MAX_BRANCHES + 1), [[]]):
            try:
                rt.score_continuations(logits, branches)
            except ValueError as error:
                errors.append(error)

    rt.generate(prompt, max_tokens=1, logits_hook=hook)
    assert len(errors) == 2


def test_scoring_without_room_in_the_context_reports_none(default_model_path: Path) -> None:
    with ModelRuntime(default_model_path, n_ctx=64, fim_mode="prefix") as rt:
        prompt = rt.tokenize("x = 1\n" * (rt.n_ctx // 2))[: rt.n_ctx - 3]
        long_names = [rt.tokenize(name, continuation=True)
                      for name in ("update_item_by_name", "apply_discount_code_now")]
        scores, generation = _generate_scoring_first_step(rt, prompt, long_names, 2)
        assert scores is None
        assert len(generation.token_ids) == 2  # the document's generation went on


def test_the_same_request_again_reuses_its_scores(fresh_runtime: ModelRuntime) -> None:
    rt = fresh_runtime
    prompt = rt.build_prompt(CODE)
    branches = [rt.tokenize(name, continuation=True) for name in NAMES]
    first, _ = _generate_scoring_first_step(rt, prompt, branches, 1)
    calls: list[int] = []
    original = rt._h.decode_tree

    def counting(nodes: object) -> int:
        calls.append(1)
        return original(nodes)  # type: ignore[arg-type]

    rt._h.decode_tree = counting  # type: ignore[method-assign]
    try:
        again, _ = _generate_scoring_first_step(rt, prompt, branches, 1)
        assert again == first and not calls
        other, _ = _generate_scoring_first_step(rt, prompt + rt.tokenize(" x"), branches, 1)
        assert calls and other != first
    finally:
        del rt._h.decode_tree


def test_looking_one_token_ahead_matches_generating_it(fresh_runtime: ModelRuntime) -> None:
    """The next-token log-probabilities after a token, seen from inside a hook, equal those
    of a prompt that ends with that token, whatever other token is looked ahead from in the
    same batch; the document's own generation is unchanged."""
    rt = fresh_runtime
    prompt = rt.build_prompt(CODE[: -len(".")])
    dot = rt.tokenize(".", continuation=True)[0]
    other = rt.tokenize("(", continuation=True)[0]
    seen: list[np.ndarray] = []

    def hook(generated: list[int], logits: np.ndarray) -> np.ndarray | None:
        if generated:
            return None
        rows, detached = rt.log_probs_after(logits, [dot, other])
        assert rows is not None and len(rows) == 2
        seen.extend(rows)
        return detached

    with_look_ahead = rt.generate(prompt, max_tokens=4, logits_hook=hook)
    after: list[np.ndarray] = []
    rt.reset()
    rt.generate([*prompt, dot], max_tokens=1,
                logits_hook=lambda _g, logits: after.append(np.array(logits, copy=True)))
    ahead = seen[0]
    reference = after[0] - log_normalizer(after[0])
    best = np.argsort(reference)[-5:]
    assert int(ahead.argmax()) == int(reference.argmax())
    assert ahead[best] == pytest.approx(reference[best], abs=0.1)
    rt.reset()
    assert rt.generate(prompt, max_tokens=4).token_ids == with_look_ahead.token_ids
