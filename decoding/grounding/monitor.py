"""The monitor: static-analysis-constrained decoding.

Installed as the runtime's logits hook for one generation. Before each token it looks at the
current line (the buffer's cursor line plus the text generated so far); at an identifier
position with a known legal set it masks every token that would spell anything else, drops
deprecated names that have a legal replacement and boosts that replacement. Positions whose
legal set is unknown stay unconstrained. Each step is a generator (decoding.model.queries):
whole-name choice asks the driver for scores, it never calls the model itself.
"""

from __future__ import annotations

import codecs
import re
import threading
import time

import numpy as np

from tether.decoding.grounding.legal_sets import LegalSet, LegalSetProvider
from tether.decoding.grounding.name_choice import (
    MonitorStats,
    NameChooser,
    NamePlan,
    favoured,
    only,
)
from tether.decoding.grounding.position_reader import PositionReader
from tether.decoding.grounding.positions import IdentifierPosition
from tether.decoding.grounding.ranking import (
    add_ranking_bonus,
    canonical_ranking,
    prefer_replacements,
)
from tether.decoding.mask.trie import LegalNames, TokenMask, allowed_tokens
from tether.decoding.mask.vocab_index import IDENT_CHARS, VocabularyIndex
from tether.decoding.model.queries import Step, run_step

RESCORED_KINDS = frozenset({"member", "from_name"})
_LAST_TARGET = re.compile(r"([A-Za-z_]\w*)[ \t]*=[ \t]*$")  # `self.cache =`: `cache`
MAX_RESCORES_PER_GENERATION = 3
ENDS_HERE = np.empty(0, dtype=np.int32)  # plan marker: the chosen name is complete
# positions a space opens after a word (`return `, `import `, `from x import `)
SPACED_KINDS = frozenset({"name", "import_module", "from_module", "from_name"})
MEMBER_KIND = frozenset({"member"})


class Monitor:
    def __init__(self, vocabulary: VocabularyIndex, provider: LegalSetProvider,
                 piece: object, prefix: str, rescore: bool = False, healed: str = "",
                 positions: PositionReader | None = None) -> None:
        """`healed`: text token healing took off the end of `prefix`, which the model writes
        first (see decoding.grounding.healing). `rescore`: choose names by whole-name scores,
        asked of the driver (decoding.grounding.name_choice); without it names are chosen
        greedily under the mask. `positions`: a reader that may already have scanned the
        lines of `prefix` above its last one."""
        self.vocabulary = vocabulary
        self.healed = healed
        self._dot_pending = healed.startswith(".")
        self.provider = provider
        self.piece = piece  # token id -> bytes
        self.prefix = prefix
        self.prefix_line = prefix.count("\n")
        self._positions = positions if positions is not None else PositionReader()
        self.mask = TokenMask(vocabulary.trie.vocab_size)
        self.stats = MonitorStats()
        self.chooser = NameChooser(vocabulary, provider.lookup.store, rescore, self.stats)
        self.avoided: list[str] = []
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._generated = ""
        self._last_piece = ""  # the text of the last generated token
        self._seen_tokens = 0
        self._names: dict[int, LegalNames] = {}
        self._ranked: dict[int, list[tuple[str, float]]] = {}
        self._firsts: dict[tuple[int, str], np.ndarray] = {}
        self._prefetching: threading.Thread | None = None
        self._plan: NamePlan | None = None
        self._new_targets: set[tuple[int, str]] = set()  # (line, a new name's written part)

    @property
    def constrained_steps(self) -> int:
        return self.stats.constrained_steps

    def prefetch(self) -> None:
        """Start computing the legal set of the cursor's own position in the background, so
        that pyright (slowest on a file's first request) works while the prompt is being
        evaluated instead of after it."""
        text = self.prefix + (self.healed if self._dot_pending else "")
        line_start = text.rfind("\n") + 1
        position = self._positions.position(text, line_start, text[line_start:])
        if position is None:
            return
        head = text[: line_start + position.column]
        self._prefetching = threading.Thread(
            target=self.provider.legal_for, args=(position, head, self.prefix_line),
            name="tether-legal-set-prefetch", daemon=True)
        self._prefetching.start()

    def step(self, generated_ids: list[int], logits: np.ndarray) -> Step:
        """One decoding step: edits `logits` (or returns a replacement), asking the driver
        for whole-name scores where it chooses a name."""
        if self._prefetching is not None:
            self._prefetching.join()
            self._prefetching = None
        started = time.perf_counter()
        try:
            return (yield from self._step(generated_ids, logits))
        finally:
            self.stats.mask_seconds += time.perf_counter() - started

    def logits_hook(self, generated_ids: list[int], logits: np.ndarray) -> np.ndarray | None:
        """The step for drivers without a model (forced decoding): no query is answered."""
        return run_step(self.step(generated_ids, logits))

    def _step(self, generated_ids: list[int], logits: np.ndarray) -> Step:
        while self._seen_tokens < len(generated_ids):
            self._last_piece = self._decoder.decode(
                self.piece(generated_ids[self._seen_tokens]))  # type: ignore[operator]
            self._generated += self._last_piece
            self._seen_tokens += 1
        text = self.prefix + self._generated
        line_start = text.rfind("\n") + 1
        line = text[line_start:]
        if self._dot_pending:
            self._dot_pending = False
            return (yield from self._before_dot(text, line_start, line, logits))
        position = self._positions.position(text, line_start, line)
        if position is None:
            self.stats.free_steps += 1
            self._guard_dotted_access(text, line_start, line, logits)
            self._guard_spaced_name(text, line_start, line, logits)
            return None
        line_number = self.prefix_line + self._generated.count("\n")
        head = text[: line_start + position.column]
        legal = self._legal_for(position, head, line_number)
        if legal is None:
            self.stats.free_steps += 1
            return None
        return (yield from self._constrain(position, line_number, line, legal, logits))

    def _guard_keywords(self, partial: str, legal: LegalSet, logits: np.ndarray) -> None:
        """At an argument any expression may come, names included that are bound only later
        (`sorted(k for k in keys)`), but `name=` only for a keyword the callee takes."""
        if legal.keyword_params is None:
            self.stats.free_steps += 1
            return
        logits[self.vocabulary.keyword_equals_outside(partial, legal.keyword_params)] = -np.inf
        self.stats.constrained_steps += 1

    def _before_dot(self, text: str, line_start: int, line: str, logits: np.ndarray) -> Step:
        """The first step after healing took `.` (and any typed member characters) off a
        prompt ending in `receiver.`: the model may now write the dot together with the
        member's first characters, as its vocabulary spells them (`._`, `.__`); only first
        tokens of legal members spelled that way are allowed."""
        position = self._positions.position(text, line_start, line + self.healed)
        if position is None or position.kind != "member":
            return None
        legal = self._legal_for(position, text + ".", self.prefix_line)
        if legal is None:
            self.stats.free_steps += 1
            return None
        allowed = self._dot_firsts(legal, position.partial)
        if legal.new_names_assigned and not position.partial:  # `.` then a new attribute
            allowed = np.union1d(allowed, self.vocabulary.dot).astype(np.int32)
        allowed = allowed[np.isfinite(logits[allowed])]
        if allowed.size == 0:
            self.stats.dead_ends += 1
            return None
        self.mask.apply(logits, allowed)
        self.stats.constrained_steps += 1
        bonus = self._first_token_bonus(legal, position.partial)
        if self.stats.rescored < MAX_RESCORES_PER_GENERATION:
            # whole-name choice adds the legal set's bonuses itself, once, as its prior
            plan, logits = yield from self.chooser.from_dot(
                position, self.prefix_line, legal, logits, self._seen_tokens, bonus)
            if plan is not None:
                return self._follow(plan, logits)
        for token, amount in bonus.items():
            logits[token] += amount  # -inf (masked) stays -inf
        return logits  # greedy: the member is chosen once its first token is written

    def _first_token_bonus(self, legal: LegalSet, partial: str) -> dict[int, float]:
        """The legal set's bonuses on the first tokens of favoured members spelled with their
        dot (`._` for a favoured private name), the largest where names share a token."""
        bonus: dict[int, float] = {}
        for name, amount in favoured(legal).items():
            spelling = self.vocabulary.spelling("." + name)
            if amount > 0 and spelling and name.startswith(partial):
                bonus[spelling[0][0]] = max(bonus.get(spelling[0][0], 0.0), amount)
        return bonus

    def _legal_for(self, position: IdentifierPosition, head: str,
                   line_number: int) -> LegalSet | None:
        started = time.perf_counter()
        try:
            return self.provider.legal_for(position, head, line_number)
        finally:
            self.stats.analysis_seconds += time.perf_counter() - started

    def _constrain(self, position: IdentifierPosition, line_number: int, line: str,
                   legal: LegalSet, logits: np.ndarray) -> Step:
        if position.kind == "argument":
            self._guard_keywords(position.partial, legal, logits)  # edits in place
            return None
        names = self._legal_names(legal)
        partial = position.partial
        outside = bool(partial) and not names.has_prefix(partial) \
            and not names.is_complete(partial)
        if outside and not legal.new_names_assigned:
            self.stats.free_steps += 1  # the user's own text already left the legal set
            return None
        planned = self._planned_tokens(position, line_number, partial)
        if planned is not None and planned is not ENDS_HERE \
                and not np.isfinite(logits[planned]).any():
            planned = self._plan = None  # an earlier hook ruled the plan out
        allowed = allowed_tokens(self.vocabulary.trie, names, partial,
                                 allow_leading_space=position.column > 0 and not partial,
                                 allow_empty=legal.allows_expression and not partial)
        if legal.allows_expression and not partial:
            allowed = np.union1d(allowed, self.vocabulary.digit_start).astype(np.int32)
        if legal.new_names_assigned:
            allowed = self._with_new_targets(position, line_number, line, outside, allowed)
        if planned is ENDS_HERE:
            ending = allowed[~self.vocabulary.continues_name[allowed]]
            allowed = ending if ending.size else allowed
        elif planned is not None:
            narrowed = np.intersect1d(allowed, planned).astype(np.int32)
            allowed = narrowed if narrowed.size else allowed
        if allowed.size == 0:
            self.stats.dead_ends += 1
            return None
        self.mask.apply(logits, allowed)
        self.stats.constrained_steps += 1
        if planned is not None:
            return None
        if (position.kind in RESCORED_KINDS
                and (not partial or self._last_piece == "." + partial)
                and self.stats.rescored < MAX_RESCORES_PER_GENERATION):
            # scored on the model's own logits: the chooser adds the bonuses as its prior
            plan, logits = yield from self.chooser.after_first_token(
                position, line_number, legal, logits, self._seen_tokens)
            if plan is not None:
                return self._follow(plan, logits)
        self._rank(legal, partial, logits)
        return logits

    def _with_new_targets(self, position: IdentifierPosition, line_number: int, line: str,
                          outside: bool, allowed: np.ndarray) -> np.ndarray:
        """Where an assignment may create a name (`x = y = 0`, `self.cache = {}` in a
        method), a name outside the legal set may be spelled too, and ended only by `=` (or,
        for an attribute, by the `,` or `:` of a target list or an annotation).
        Such names (`outside`: the partial name leaves the legal set) are remembered per
        line: right after `y =` an `=` token would turn the assignment into `y ==`, a read
        of the new name."""
        partial = position.partial
        if outside:
            self._new_targets.add((line_number, partial))
        allowed = np.union1d(allowed, self.vocabulary.new_name_then_equals(
            partial, position.column > 0 and not partial,
            attribute=position.kind == "member")).astype(np.int32)
        target = _LAST_TARGET.search(line)
        if not partial and target is not None and any(
                line == line_number and target.group(1).startswith(written)
                for line, written in self._new_targets):
            allowed = np.setdiff1d(allowed, self.vocabulary.equals_start).astype(np.int32)
        return allowed

    def _follow(self, plan: NamePlan | None, logits: np.ndarray) -> np.ndarray:
        """Allow only the first token of the chosen name (the plan does the rest)."""
        if plan is not None:
            self._plan = plan
            only(logits, plan.tokens[0])
        return logits

    def _planned_tokens(self, position: IdentifierPosition, line_number: int,
                        partial: str) -> np.ndarray | None:
        """The token(s) the current name plan allows at this step, or None without a plan."""
        plan = self._plan
        if plan is None:
            return None
        if (plan.line, plan.column) != (line_number, position.column):
            self._plan = None
            return None
        written = self._seen_tokens - plan.start
        if partial == plan.name:  # the chosen name is complete: it must end here
            self._plan = None
            return ENDS_HERE
        spelled = plan.partial + "".join(plan.pieces[:written])
        if written < len(plan.tokens) and partial == spelled:
            return np.array([plan.tokens[written]], dtype=np.int32)
        self._plan = None  # another hook steered elsewhere: fall back to plain masking
        return None

    def _legal_names(self, legal: LegalSet) -> LegalNames:
        key = id(legal)
        names = self._names.get(key)
        if names is None:
            names = LegalNames(legal.without_deprecated())
            self._names[key] = names
            for deprecated, replacement in legal.preferred().items():
                self.avoided.append(f"{deprecated} -> {replacement}")
        return names

    def _rank(self, legal: LegalSet, partial: str, logits: np.ndarray) -> None:
        ranked = self._ranked.get(id(legal))
        if ranked is None:
            ranked = self._ranked[id(legal)] = canonical_ranking(legal)
        add_ranking_bonus(self.vocabulary, ranked, partial, logits)
        prefer_replacements(self.vocabulary, self.mask, legal, partial, logits)

    def _dot_firsts(self, legal: LegalSet, partial: str) -> np.ndarray:
        """The first tokens of the legal names that continue `partial`, each spelled with
        its dot the way the tokenizer spells it (`.` alone, `._`, `.__`)."""
        key = (id(legal), partial)
        firsts = self._firsts.get(key)
        if firsts is None:
            found = {spelling[0][0] for name in self._legal_names(legal)
                     if name.startswith(partial)
                     and (spelling := self.vocabulary.spelling("." + name))}
            firsts = self._firsts[key] = np.fromiter(found, dtype=np.int32, count=len(found))
        return firsts

    def _guard_spaced_name(self, text: str, line_start: int, line: str,
                           logits: np.ndarray) -> None:
        """Tokens like ` name` write the space after a keyword (`return`, `and`, `import`)
        together with a name's first characters, skipping the position that the space
        opens; where that position's names are known, such a token must begin one of them."""
        if not line or line[-1] not in IDENT_CHARS:
            return
        legal = self._legal_skipped(text, line_start, line, " ", self.vocabulary.space_ident,
                                    logits, SPACED_KINDS)
        if legal is not None:
            fine = allowed_tokens(self.vocabulary.trie, self._legal_names(legal), "",
                                  allow_leading_space=True)
            logits[np.setdiff1d(self.vocabulary.space_ident, fine)] = -np.inf

    def _guard_dotted_access(self, text: str, line_start: int, line: str,
                             logits: np.ndarray) -> None:
        """Tokens like `._` write the dot and a member's first characters in one step,
        skipping the member position; where the receiver's members are known, such a token
        must begin a legal member the way the tokenizer spells it."""
        if not line or not (line[-1] in IDENT_CHARS or line[-1] in ")]"):
            return
        dot_ident = self.vocabulary.dot_ident
        legal = self._legal_skipped(text, line_start, line, ".", dot_ident, logits,
                                    MEMBER_KIND)
        if legal is not None:
            logits[np.setdiff1d(dot_ident, self._dot_firsts(legal, ""))] = -np.inf

    def _legal_skipped(self, text: str, line_start: int, line: str, opener: str,
                       tokens: np.ndarray, logits: np.ndarray,
                       kinds: frozenset[str]) -> LegalSet | None:
        """The legal set of the position `opener` would open at the end of `line`, where
        greedy decoding is about to pick one of `tokens` (which write `opener` and a name's
        first characters at once); None where it will not, or no such position is known."""
        if not tokens.size or logits[tokens].max() < logits.max():
            return None  # greedy decoding will not pick one of them: nothing to guard
        probe = self._positions.position(text, line_start, line + opener)
        if probe is None or probe.partial or probe.kind not in kinds:
            return None
        line_number = self.prefix_line + self._generated.count("\n")
        return self._legal_for(probe, text + opener, line_number)

