"""Token healing: the identifier fragment before the cursor is re-spelled by the model."""

from __future__ import annotations

import numpy as np
import pytest

from tether.decoding.grounding.healing import Healer, TokenTexts, healing_fragment
from tether.decoding.model.runtime import ModelRuntime


@pytest.mark.parametrize(("prefix", "fragment"), [
    ("    cart.ad", ".ad"),  # `._`, `.__` are single tokens: the dot is healed too
    ("    cart.", "."),
    ("    return super().", "."),
    ("    self._po", "._po"),
    ("    x = a[0].", "."),
    ("    x = 1.", ""),  # a number, not a member access
    ("    x = 0x1f.", ""),
    ("    x = ...", ""),
    ("from .", ""),
    ("    rows = (\n        Table()\n        .", "."),  # a chained call on a new line
    ("    rows = (\n        Table()\n        .add_r", ".add_r"),
    ("    rows = (\n        ...", ""),
    ("    return ch", " ch"),
    ("    ch", "ch"),
    ("x", "x"),
    (" x", "x"),
    ("def f():\n    ", "\n    "),
    ("x = 1\n", "\n"),
    ("total = 1", ""),
    ("", ""),
])
def test_healing_fragment(prefix: str, fragment: str) -> None:
    assert healing_fragment(prefix) == fragment


def test_healer_forces_the_fragment_then_lets_go(model_runtime: ModelRuntime) -> None:
    special = set(model_runtime.vocab.control_ids)
    texts = TokenTexts(model_runtime.token_pieces(), special)
    healer = Healer(texts, "add_it", model_runtime.vocab.piece)
    dot = model_runtime.tokenize(".", continuation=True)[0]
    generated: list[int] = []
    written = ""
    for _ in range(8):
        logits = np.zeros(model_runtime.vocab_size, dtype=np.float32)
        logits[dot] = 100.0  # the model "wants" a dot, as an unhealed prompt makes it do
        healer.logits_hook(generated, logits)
        token = int(logits.argmax())
        written += model_runtime.token_pieces()[token].decode()
        generated.append(token)
        if len(written) >= len("add_it"):
            break
    assert written.startswith("add_it")
    logits = np.zeros(model_runtime.vocab_size, dtype=np.float32)
    logits[dot] = 100.0
    healer.logits_hook(generated, logits)
    assert int(logits.argmax()) == dot  # once healed, the model is free again


@pytest.fixture(scope="module")
def token_texts(model_runtime: ModelRuntime) -> tuple[TokenTexts, dict[int, str]]:
    special = set(model_runtime.vocab.control_ids)
    pieces = model_runtime.token_pieces()
    decoded: dict[int, str] = {}
    for token_id, piece in enumerate(pieces):
        if token_id in special or not piece:
            continue
        try:
            decoded[token_id] = piece.decode("utf-8")
        except UnicodeDecodeError:
            continue
    return TokenTexts(pieces, special), decoded


@pytest.mark.parametrize("remaining", [
    "s", "self", " na", "    ", "\n    ", "get_adapter", "é", " ", "\t", "zz", "\U0010ffff"])
def test_compatible_tokens_are_exactly_those_a_vocabulary_scan_finds(
        token_texts: tuple[TokenTexts, dict[int, str]], remaining: str) -> None:
    texts, decoded = token_texts
    scanned = {token for token, text in decoded.items()
               if remaining.startswith(text) or text.startswith(remaining)}
    found = texts.compatible(remaining)
    assert found.dtype == np.int32 and len(found) == len(set(found.tolist()))
    assert set(found.tolist()) == scanned
    assert set(texts.prefixes_of(remaining).tolist()) == {
        token for token, text in decoded.items() if remaining.startswith(text)}
