"""Grounded completions end to end on the shop fixture (the live model chooses): only existing
members are written, whole-name scoring respects healing, private members keep their dot."""

from __future__ import annotations

import re
from pathlib import Path

from support.completion import complete
from support.grounding import body_prefix, complete_at_end

from tether.decoding.completion.engine import Completer, CompletionRequest


def test_grounded_completion_writes_only_existing_members(completer: Completer,
                                                          shop_root: Path) -> None:
    prefix = body_prefix(shop_root) + "cart."
    result = complete_at_end(completer, shop_root, prefix)
    index = completer.registry.get(shop_root)
    members = {m.name for m in index.lookup.class_members("shop.models.Cart")}
    name = re.match(r"[A-Za-z_]\w*", result.text)
    assert name is not None and name.group(0) in members
    assert result.constrained_steps > 0


def test_whole_name_scoring_on_the_live_model_respects_healing(completer: Completer,
                                                               shop_root: Path) -> None:
    prefix = body_prefix(shop_root) + "cart.a"
    result = complete_at_end(completer, shop_root, prefix)
    name = "a" + (re.match(r"\w*", result.text).group(0))  # type: ignore[union-attr]
    assert name in {"add_item", "apply_discount"}  # `add` is deprecated for add_item
    assert result.rescored_positions >= 1


def test_private_members_are_spelled_with_their_dot(completer: Completer,
                                                    shop_root: Path) -> None:
    """Vocabularies spell `._` as one token: healing the dot lets `self._total` be written
    the way the model reads it, and the monitor checks and chooses it at that step."""
    text = ("class Ledger:\n    def __init__(self) -> None:\n        self._total = 0\n\n"
            "    @property\n    def total(self) -> int:\n        return self.")
    lines = text.split("\n")
    result = complete(completer, CompletionRequest(shop_root, "shop/ledger.py", text,
                                                  len(lines) - 1, len(lines[-1]), "grounded"))
    assert result.text == "_total" and result.constrained_steps >= 2
