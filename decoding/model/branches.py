"""Scoring candidate continuations side by side in one llama.cpp batch.

Greedy decoding under a mask picks a name one token at a time, so a first token shared by
many names (or a strong but wrong first token) decides before the rest of the name is seen.
Scoring each candidate's whole spelling fixes that. The candidates form a token trie; every
trie node is evaluated once, in one batch, on sequences 1..n that share the document's cached
prefix (sequence 0) through ``llama_memory_seq_cp``: no prompt is evaluated twice and the
document's own cache is left exactly as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from tether.decoding.model.llama_handles import MAX_BRANCHES, LlamaHandles
from tether.decoding.model.types import GenerationError
from tether.index.lru import LruCache

_log = logging.getLogger(__name__)
_Result = TypeVar("_Result")
SCORED_KEPT = 64  # continuation scores remembered per (cached tokens, candidates)
LOOKED_AHEAD_KEPT = 4  # next-token rows remembered per (cached tokens, tokens)


class BranchEvaluator:
    """Evaluations on branch sequences of the document in the KV cache, for logits hooks
    (decoding.grounding.name_choice), remembered per (document tokens, request): the same request
    again (an editor re-asking, no edit) is free. `handles` and `document` read the
    runtime's live llama.cpp handles and the token ids its sequence 0 holds."""

    def __init__(self, handles: Callable[[], LlamaHandles], document: Callable[[], list[int]],
                 n_vocab: int) -> None:
        self._handles = handles
        self._document = document
        self.n_vocab = n_vocab
        self._scored: LruCache[tuple[object, ...], tuple[float, ...]] = LruCache(SCORED_KEPT)
        # one full vocabulary row each (1 MB for Gemma): only the last few requests' worth
        self._looked_ahead: LruCache[tuple[object, ...], list[np.ndarray]] = LruCache(
            LOOKED_AHEAD_KEPT)

    def score_continuations(self, logits: np.ndarray, branches: Sequence[Sequence[int]],
                            enders: np.ndarray | None = None
                            ) -> tuple[list[float] | None, np.ndarray]:
        """Log-probabilities of candidate token sequences (at most MAX_BRANCHES) continuing
        the text generated so far, or None when llama.cpp could not evaluate them (e.g. a
        full context). Only for use inside a logits hook, where ``logits`` is the hook's
        array: scoring overwrites llama.cpp's logits buffer, so this returns a copy of
        ``logits`` that the hook must edit and return instead."""
        saved = np.array(logits, copy=True)
        scores = self._on_branches(
            self._scored, (tuple(tuple(branch) for branch in branches), enders is not None),
            lambda position: tuple(branch_scores(self._handles(), self.n_vocab, position,
                                                 saved, branches, enders)),
            "score candidate continuations")
        return (list(scores) if scores is not None else None), saved

    def log_probs_after(self, logits: np.ndarray, tokens: Sequence[int]
                        ) -> tuple[list[np.ndarray] | None, np.ndarray]:
        """For each of ``tokens``, the log-probabilities of the next token if it were
        generated now (one batch), or None when llama.cpp could not evaluate them. Like
        score_continuations, only for use inside a logits hook, and it returns the copy of
        ``logits`` the hook must go on with."""
        saved = np.array(logits, copy=True)
        ahead = self._on_branches(
            self._looked_ahead, (tuple(tokens),),
            lambda position: next_log_probs(self._handles(), self.n_vocab, position, tokens),
            "look one token ahead")
        return ahead, saved

    def _on_branches(self, cache: LruCache[tuple[object, ...], _Result],
                     request: tuple[object, ...], evaluate: Callable[[int], _Result],
                     what: str) -> _Result | None:
        """`evaluate(next position)` on branch sequences of the cached document, remembered
        per (document, request): the same request again (an editor re-asking, no edit) is
        free. None when llama.cpp could not evaluate it."""
        cached = self._document()
        key = (len(cached), hash(tuple(cached)), *request)
        known = cache.get(key)
        if known is not None:
            return known
        try:
            result = evaluate(len(cached))
        except GenerationError as error:
            _log.warning("could not %s: %s", what, error)
            return None
        cache.put(key, result)
        return result


def log_normalizer(logits: np.ndarray) -> float:
    """log(sum(exp(logits))), stable, ignoring -inf entries."""
    finite = logits[np.isfinite(logits)]
    if finite.size == 0:
        return 0.0
    top = float(finite.max())
    return top + float(np.log(np.exp(finite - top, dtype=np.float64).sum()))


def branch_scores(handles: LlamaHandles, n_vocab: int, position: int,
                  first_logits: np.ndarray, branches: Sequence[Sequence[int]],
                  enders: np.ndarray | None = None) -> list[float]:
    """Log-probability of each token sequence in ``branches`` continuing the cached document
    (sequence 0, whose next position is ``position`` and whose next-token logits are
    ``first_logits``). At most MAX_BRANCHES branches, none empty.

    ``enders``: the tokens that end a branch (e.g. every token that cannot continue a
    name). A branch that another branch extends (`get` beside `get_items`) is scored with
    the probability of ending there, which its extension's evaluation gives for free;
    without it the shorter branch would always score at least as high as its extension."""
    if len(branches) > MAX_BRANCHES:
        raise ValueError(f"{len(branches)} branches; at most {MAX_BRANCHES}")
    if any(not branch for branch in branches):
        raise ValueError("empty branch")
    normalizer = log_normalizer(first_logits)
    scores = [float(first_logits[branch[0]]) - normalizer for branch in branches]
    nodes: dict[tuple[int, ...], list[int]] = {}  # prefix -> sequences that continue it
    for number, branch in enumerate(branches, start=1):
        for length in range(1, len(branch)):
            nodes.setdefault(tuple(branch[:length]), []).append(number)
    if not nodes:
        return scores
    if len(nodes) > handles.n_batch:
        raise ValueError(f"{len(nodes)} trie nodes exceed the batch size {handles.n_batch}")
    prefixes = list(nodes)
    for number in range(1, len(branches) + 1):
        handles.seq_copy(0, number)
    try:
        rc = handles.decode_tree(
            [(prefix[-1], position + len(prefix) - 1, nodes[prefix]) for prefix in prefixes])
        if rc != 0:
            raise GenerationError(f"llama_decode failed with code {rc} scoring "
                                  f"{len(branches)} continuations")
        ended = {tuple(branch): number for number, branch in enumerate(branches)}
        for row, prefix in enumerate(prefixes):
            logits = handles.logits_at(row, n_vocab)
            row_normalizer = log_normalizer(logits)
            for number in nodes[prefix]:
                scores[number - 1] += float(logits[branches[number - 1][len(prefix)]]) \
                    - row_normalizer
            if enders is not None and enders.size and prefix in ended:
                scores[ended[prefix]] += log_normalizer(logits[enders]) - row_normalizer
    finally:
        for number in range(1, len(branches) + 1):
            handles.seq_drop(number)
    return scores


def next_log_probs(handles: LlamaHandles, n_vocab: int, position: int,
                   tokens: Sequence[int]) -> list[np.ndarray]:
    """For each of ``tokens`` (at most MAX_BRANCHES), the log-probabilities of the token
    after it continuing the cached document (sequence 0, whose next position is
    ``position``): one batch, each token on its own sequence, so that the document's own
    cache is left as it was."""
    if not 0 < len(tokens) <= MAX_BRANCHES:
        raise ValueError(f"{len(tokens)} tokens to look ahead from; 1 to {MAX_BRANCHES}")
    for number in range(1, len(tokens) + 1):
        handles.seq_copy(0, number)
    try:
        rc = handles.decode_tree([(token, position, [number])
                                  for number, token in enumerate(tokens, start=1)])
        if rc != 0:
            raise GenerationError(f"llama_decode failed with code {rc} looking one token ahead")
        rows = [np.array(handles.logits_at(row, n_vocab), dtype=np.float32, copy=True)
                for row in range(len(tokens))]
    finally:
        for number in range(1, len(tokens) + 1):
            handles.seq_drop(number)
    for row in rows:
        row -= log_normalizer(row)
    return rows
