"""Whole-continuation scoring (runtime_branches) against real llama.cpp: the batched scores
equal token-by-token scoring, and the document's own cache and generation are untouched."""

from __future__ import annotations

import numpy as np
import pytest

from decoding.runtime import MAX_BRANCHES, ModelRuntime
from decoding.runtime_branches import log_normalizer

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


def test_batched_scores_match_token_by_token_scoring(fresh_runtime: ModelRuntime) -> None:
    rt = fresh_runtime
    prompt = rt.build_prompt(CODE)
    branches = [rt.tokenize(name, continuation=True) for name in NAMES]
    assert any(len(branch) > 1 for branch in branches)
    results: list[list[float]] = []

    def hook(generated: list[int], logits: np.ndarray) -> np.ndarray | None:
        if generated:
            return None
        scores, detached = rt.score_continuations(logits, branches)
        results.append(scores)
        return detached

    with_scoring = rt.generate(prompt, max_tokens=6, logits_hook=hook)
    expected = _sequential_scores(rt, prompt, branches)
    # Batched and single-token evaluation are not bit-identical in llama.cpp (a few hundredths
    # per token); a branch seeing another branch's tokens would be off by whole units.
    assert results[0] == pytest.approx(expected, rel=0.05, abs=0.1)
    # Scoring left sequence 0 alone: the generation equals one without scoring.
    rt.reset()
    assert rt.generate(prompt, max_tokens=6).token_ids == with_scoring.token_ids


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
