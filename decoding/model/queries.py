"""What a constraint may ask of the model while it decides one decoding step.

A constraint never calls the model. Its step is a generator: it edits the logits and, where a
choice needs the model's opinion on more than the next token (whole-name scoring, one token
of look-ahead), it yields a query; the driver (ModelRuntime.generate) answers it on the live
generation and sends the answer back. A step returns replacement logits, or None when it
edited the array it was given in place. Drivers that run no model (forced decoding, tests)
answer every query with "no answer" and the constraint decides greedily.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from types import GeneratorType

import numpy as np


@dataclass(frozen=True, slots=True)
class ScoreContinuations:
    """Log-probabilities of candidate token sequences continuing the text so far."""

    logits: np.ndarray  # the step's logits as the constraint has them
    branches: Sequence[Sequence[int]]
    enders: np.ndarray | None = None  # tokens that end a candidate (scored after it)


@dataclass(frozen=True, slots=True)
class LookAhead:
    """For each token, the next-token log-probabilities if it were generated now."""

    logits: np.ndarray
    tokens: Sequence[int]


ModelQuery = ScoreContinuations | LookAhead
# (scores or rows, None where the model could not answer; the logits to go on editing: the
# driver may have had to copy them away from llama.cpp's buffer)
QueryAnswer = tuple[object | None, np.ndarray]
Step = Generator[ModelQuery, QueryAnswer, "np.ndarray | None"]
# A logits hook edits the logits of one step in place and returns a replacement array or
# None; it may instead return a Step, which the driver runs, answering its queries.
LogitsHook = Callable[[list[int], np.ndarray], "np.ndarray | Step | None"]
Answerer = Callable[[ModelQuery], QueryAnswer]


def no_answer(query: ModelQuery) -> QueryAnswer:
    """How a driver without a model answers: nothing known, the logits unchanged."""
    return None, query.logits


def run_step(result: np.ndarray | Step | None, answer: Answerer = no_answer
             ) -> np.ndarray | None:
    """The logits a hook's result comes to: a Step is run to its end, each query answered."""
    if not isinstance(result, GeneratorType):
        return result
    try:
        query = next(result)
        while True:
            query = result.send(answer(query))
    except StopIteration as done:
        return done.value


def chain(hooks: Sequence[LogitsHook]) -> LogitsHook | None:
    """One hook that runs `hooks` in order on the same step, each on the logits the one
    before it left (queries of any of them go to the driver)."""
    if not hooks:
        return None
    if len(hooks) == 1:
        return hooks[0]

    def step(generated: list[int], logits: np.ndarray) -> Step:
        replaced = None
        for hook in hooks:
            result = hook(generated, logits if replaced is None else replaced)
            if isinstance(result, GeneratorType):
                result = yield from result
            if result is not None:
                replaced = result
        return replaced

    return step
