"""Ranking among legal names, token by token, where no whole name is chosen.

A small bonus goes to the token that continues a name the way the tokenizer spells it
(masking alone lets the model drift into odd splits such as ` r`,`oot`,`_`,`dir`), and the
replacements of deprecated names are boosted. The usage prior only enters whole-name choice
(decoding.grounding.name_choice).
"""

from __future__ import annotations

import numpy as np

from tether.decoding.grounding.legal_sets import LegalSet
from tether.decoding.grounding.name_choice import REPLACEMENT_BOOST
from tether.decoding.mask.trie import LegalNames, TokenMask, allowed_tokens
from tether.decoding.mask.vocab_index import VocabularyIndex

CANONICAL_BONUS = 1.0
MAX_RANKED_NAMES = 400


def canonical_ranking(legal: LegalSet) -> list[tuple[str, float]]:
    """(name, bonus) for each legal name; none for sets too large to rank per step."""
    names = legal.without_deprecated()
    if len(names) > MAX_RANKED_NAMES:
        return []
    return [(name, CANONICAL_BONUS) for name in names]


def add_ranking_bonus(vocabulary: VocabularyIndex, ranked: list[tuple[str, float]],
                      partial: str, logits: np.ndarray) -> None:
    """Raise, in place, the token that continues each ranked name after `partial` as the
    tokenizer spells it, and the name enders where `partial` is itself a ranked name."""
    bonus: dict[int, float] = {}
    ending = 0.0  # the bonus for ending the name here, when `partial` is a legal name
    for name, prior in ranked:
        if not name.startswith(partial):
            continue
        if name == partial:
            ending = prior
            continue
        written = ""
        for token, piece in vocabulary.spelling(name):
            if written == partial:
                if bonus.get(token, -1.0) < prior:
                    bonus[token] = prior
                break
            written += piece
            if len(written) > len(partial):
                break
    if ending:
        logits[vocabulary.name_enders] += ending
    for token, amount in bonus.items():
        logits[token] += amount  # -inf (masked) stays -inf


def prefer_replacements(vocabulary: VocabularyIndex, mask: TokenMask, legal: LegalSet,
                        partial: str, logits: np.ndarray) -> None:
    """Boost, in place, the tokens that continue a deprecated name's legal replacement."""
    replacements = set(legal.preferred().values())
    targets = [r for r in replacements if r.startswith(partial) and r != partial]
    if not targets:
        return
    boosted = allowed_tokens(vocabulary.trie, LegalNames(targets), partial,
                             allow_leading_space=False)
    if boosted.size:
        mask.boost(logits, boosted, REPLACEMENT_BOOST)
