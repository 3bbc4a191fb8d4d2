"""Whole-name choice: the monitor's way of picking one legal member (or imported name).

Greedy decoding under a mask commits to a name's first token before it sees the rest, and at
a member position the first token also decides between kinds of names: Gemma spells
`.prepare_headers` as `.` `prepare` `_headers` but `._pool` as `._` `pool` (and a vocabulary
may spell `.get` as one token). So the most promising legal names are scored over their whole
spelling, side by side, with a prior for names the repository uses often, and the best is
planned and then written token by token. The chooser asks for the scores as queries of its
step (decoding.model.queries); the driver answers them on the live generation.
"""

from __future__ import annotations

import math
import time
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

from tether.decoding.grounding.legal_sets import LegalSet
from tether.decoding.grounding.positions import IdentifierPosition
from tether.decoding.mask.vocab_index import VocabularyIndex
from tether.decoding.model.queries import LookAhead, ModelQuery, QueryAnswer, ScoreContinuations
from tether.index.store import IndexStore

REPLACEMENT_BOOST = 4.0
# On 60 dev holes of the grounding benchmark (seed 11, not the benchmark's seed 0), grounded
# NIM went from 30 (greedy masking) to 32 (whole-name scores) and 34 (plus the usage prior).
# The same prior applied token by token, without whole-name scores, had lowered NIM.
RESCORED_CANDIDATES = 4
USAGE_WEIGHT = 0.6
# Before a member's dot, first tokens compete when their logits are within this margin of the
# best one (`.` against `._`, 5% of its probability). Measured on 96 dev holes: where `._`
# trailed `.` by more, the name chosen never started with it; where only one first token is
# in contention, it is written greedily and the name chosen after it at no extra cost.
CONTENTION_MARGIN = 3.0
MAX_CONTENDERS = 3

Spelling = tuple[tuple[int, str], ...]
# a choice: yields the model queries it needs, returns (the plan or None, logits to go on with)
Choice = Generator[ModelQuery, QueryAnswer, "tuple[NamePlan | None, np.ndarray]"]


@dataclass(slots=True)
class NamePlan:
    """A name chosen by whole-name scoring, written token by token from `start`."""

    line: int
    column: int
    name: str
    tokens: tuple[int, ...]
    pieces: tuple[str, ...]  # what each token adds to the name (a leading dot is not part)
    start: int  # number of generated tokens when the plan was made
    partial: str = ""  # the name's characters already written when the plan was made


@dataclass(slots=True)
class MonitorStats:
    constrained_steps: int = 0
    free_steps: int = 0
    dead_ends: int = 0
    mask_seconds: float = 0.0  # everything in the hook, analysis included
    analysis_seconds: float = 0.0  # of which: computing legal sets (index, pyright, parsing)
    rescored: int = 0  # positions whose name was chosen by whole-name scoring
    scoring_seconds: float = 0.0  # of mask_seconds: evaluating candidate names on the model


class NameChooser:
    def __init__(self, vocabulary: VocabularyIndex, store: IndexStore, rescore: bool,
                 stats: MonitorStats) -> None:
        """`rescore`: ask the driver for whole-name scores (off: names are chosen greedily
        under the mask, as drivers without a model need)."""
        self.vocabulary = vocabulary
        self.store = store
        self.rescore = rescore
        self.stats = stats

    def after_first_token(self, position: IdentifierPosition, line_number: int,
                          legal: LegalSet, logits: np.ndarray, start: int) -> Choice:
        """Choose among the names that continue what is written at the position, from the
        tokens that finish them. Candidates are those whose next token survived every
        hook's mask (healing included), best first."""
        names = candidate_names(legal, position.partial)
        prior = self._priors(position, legal, names)
        candidates = []
        for name in names:
            spelling = self._rest_of(position, name)
            if spelling and np.isfinite(logits[spelling[0][0]]):
                candidates.append((-(float(logits[spelling[0][0]]) + prior.get(name, 0.0)),
                                   name, spelling))
        return (yield from self._best(position, line_number, candidates, prior, logits, start,
                                      position.partial))

    def from_dot(self, position: IdentifierPosition, line_number: int, legal: LegalSet,
                 logits: np.ndarray, start: int, bonus: dict[int, float]) -> Choice:
        """Choose a member before its dot is written (healing took it off the prompt): every
        legal name whose first token is in contention competes (`.` `prepare` `_headers`
        against `._` `pool`), a first token's contention judged with `bonus` (the largest
        prior among the names it starts). Names spelled with more than one token are
        pre-ranked by their first two tokens, the second read one token ahead, so that names
        sharing the first token are not told apart by the prior alone."""
        if not self.rescore:
            return None, logits
        spellings: dict[str, Spelling] = {}
        for name in candidate_names(legal, position.partial):
            spelling = self.vocabulary.spelling("." + name)
            if spelling and np.isfinite(logits[spelling[0][0]]):
                spellings[name] = spelling
        contenders = _contenders({spelling[0][0] for spelling in spellings.values()},
                                 logits, bonus)
        if len(contenders) == 1:  # written now, the name is chosen after it (no look-ahead)
            only(logits, contenders[0])  # not `.__` for an unwanted dunder
        if len(contenders) < 2:
            return None, logits
        spellings = {name: spelling for name, spelling in spellings.items()
                     if spelling[0][0] in contenders}
        prior = self._priors(position, legal, list(spellings))
        firsts = [token for token in contenders
                  if any(len(spelling) > 1 and spelling[0][0] == token
                         for spelling in spellings.values())]
        ahead: dict[int, np.ndarray] = {}
        if firsts:
            started = time.perf_counter()
            rows, logits = yield LookAhead(logits, firsts)
            self.stats.scoring_seconds += time.perf_counter() - started
            if rows is None:
                return None, logits
            ahead = dict(zip(firsts, rows, strict=True))  # type: ignore[call-overload]
        candidates = []
        for name, spelling in spellings.items():
            score = float(logits[spelling[0][0]]) + prior.get(name, 0.0)
            if len(spelling) > 1:
                score += float(ahead[spelling[0][0]][spelling[1][0]])
            candidates.append((-score, name, spelling))
        return (yield from self._best(position, line_number, candidates, prior, logits, start,
                                      ""))

    def _best(self, position: IdentifierPosition, line_number: int,
              candidates: list[tuple[float, str, Spelling]], prior: dict[str, float],
              logits: np.ndarray, start: int, written: str) -> Choice:
        if len(candidates) < 2 or not self.rescore:
            return None, logits
        candidates.sort(key=lambda candidate: (candidate[0], len(candidate[2]), candidate[1]))
        best = candidates[:RESCORED_CANDIDATES]
        started = time.perf_counter()
        scores, logits = yield ScoreContinuations(
            logits, [tuple(token for token, _ in spelling) for *_, spelling in best],
            self.vocabulary.name_enders)
        self.stats.scoring_seconds += time.perf_counter() - started
        if scores is None:
            return None, logits  # greedy masking decides this one
        self.stats.rescored += 1
        _, name, spelling = max(zip(scores, best, strict=True),  # type: ignore[call-overload]
                                key=lambda pair: pair[0] + prior.get(pair[1][1], 0.0))[1]
        pieces = [piece for _, piece in spelling]
        if not written and pieces[0].startswith("."):
            pieces[0] = pieces[0][1:]  # planned from before the dot
        return NamePlan(line_number, position.column, name,
                        tuple(token for token, _ in spelling), tuple(pieces), start,
                        written), logits

    def _rest_of(self, position: IdentifierPosition, name: str) -> Spelling:
        """The tokens that finish `name` from the position's partial name, as the tokenizer
        spells a member with its dot (`._` + `pool`); empty where what is written so far
        does not end on one of those tokens' boundaries."""
        if position.kind != "member":
            return () if position.partial else self.vocabulary.spelling(name)
        spelling = self.vocabulary.spelling("." + name)
        written = ""
        for index, (_, piece) in enumerate(spelling):
            if written == "." + position.partial:
                return spelling[index:]
            written += piece
        return ()

    def _priors(self, position: IdentifierPosition, legal: LegalSet,
                names: list[str]) -> dict[str, float]:
        """Log-space bonuses: replacements of deprecated names, the legal set's own ranking
        (e.g. class-level members on a class), members used often."""
        started = time.perf_counter()
        prior = favoured(legal)
        if position.kind == "member":
            for name, count in self.store.attribute_use_counts(names).items():
                prior[name] = prior.get(name, 0.0) + USAGE_WEIGHT * math.log1p(count)
        self.stats.analysis_seconds += time.perf_counter() - started
        return prior


def only(logits: np.ndarray, token: int) -> None:
    """Mask every token but `token`, in place."""
    keep = logits[token]
    logits[:] = -np.inf
    logits[token] = keep


def _contenders(firsts: set[int], logits: np.ndarray, bonus: dict[int, float]) -> list[int]:
    """The first tokens close enough to the best to compete, best first."""
    def score(token: int) -> float:
        return float(logits[token]) + bonus.get(token, 0.0)

    ranked = sorted(firsts, key=lambda token: -score(token))[:MAX_CONTENDERS]
    if not ranked:
        return []
    floor = score(ranked[0]) - CONTENTION_MARGIN
    return [token for token in ranked if score(token) >= floor]


def candidate_names(legal: LegalSet, partial: str) -> list[str]:
    """Legal names continuing `partial`, without deprecated ones and without dunders the
    legal set does not favour (`__class__` is legal almost everywhere, seldom meant)."""
    return [name for name in legal.without_deprecated()
            if name.startswith(partial)
            and (not (name.startswith("__") and name.endswith("__"))
                 or legal.prior.get(name, 0.0) > 0)]


def favoured(legal: LegalSet) -> dict[str, float]:
    """Log-space bonuses the legal set itself gives (the overridden method of `super().`,
    class-level members on a class), plus the replacements of deprecated names."""
    prior = dict(legal.prior)
    for replacement in legal.preferred().values():
        prior[replacement] = prior.get(replacement, 0.0) + REPLACEMENT_BOOST
    return prior
