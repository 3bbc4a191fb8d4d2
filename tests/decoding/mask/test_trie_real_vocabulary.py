"""Token sets (decoding.mask.trie) on the embedded model's real vocabulary, and a generation
masked from a logits hook on llama.cpp's own logits."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from support.vocab import ids, oracle

from tether.decoding.mask.trie import LegalNames, TokenMask, VocabularyTrie, allowed_tokens


@pytest.fixture(scope="module")
def real_runtime(request: pytest.FixtureRequest) -> Any:
    try:
        return request.getfixturevalue("model_runtime")
    except Exception as exc:  # runtime module or embedded model unavailable
        pytest.skip(f"embedded model unavailable: {exc}")


REAL_NAMES = ["list_python_files", "filenames", "dirpath", "os", "result", "root", "walk"]


REAL_STEPS = [("", True), ("", False), ("list_", False), ("list_python_files", False)]


@pytest.fixture(scope="module")
def real_expected(real_runtime: Any) -> list[set[int]]:
    """Oracle answers on the real vocabulary (computed once for both walks)."""
    pieces = real_runtime.token_pieces()
    special = set(real_runtime.vocab.control_ids)
    return [
        oracle(pieces, special, REAL_NAMES, partial, allow_leading_space=space)
        for partial, space in REAL_STEPS
    ]


def test_real_vocabulary(real_runtime: Any, real_expected: list[set[int]]) -> None:
    pieces: list[bytes] = real_runtime.token_pieces()
    special = set(real_runtime.vocab.control_ids)
    trie = VocabularyTrie.cached(pieces, special)
    legal = LegalNames(REAL_NAMES)
    for (partial, space), expected in zip(REAL_STEPS, real_expected, strict=True):
        got = ids(allowed_tokens(trie, legal, partial, allow_leading_space=space))
        assert got == expected
        assert got and not got & special
    # The tokenizer's own spelling of the name is reachable step by step.
    tokens = real_runtime.tokenize(" list_python_files(")
    partial: str | None = ""
    for step, token in enumerate(tokens):
        assert partial is not None
        assert token in ids(allowed_tokens(trie, legal, partial, allow_leading_space=step == 0))
        split = trie.split(token)
        assert split is not None
        partial = None if split[2] else partial + split[1]
    assert partial is None or partial == "list_python_files"


def test_constrained_generation_on_real_logits(real_runtime: Any) -> None:
    """Mask llama.cpp's own logits buffer in place from a logits hook: the model can only
    write a legal name, here names that do not occur in the prompt."""
    rt = real_runtime
    rt.reset()
    trie = VocabularyTrie.cached(rt.token_pieces(), rt.vocab.control_ids)
    legal = LegalNames(["collect_python_sources", "walk_tree", "root_directory"])
    mask = TokenMask(rt.vocab_size)
    partial = ""

    def hook(generated: list[int], logits: np.ndarray) -> None:
        nonlocal partial
        if generated:
            split = trie.split(generated[-1])
            assert split is not None and not split[2]  # generation stops after a tail
            partial += split[1]
        allowed = allowed_tokens(trie, legal, partial, allow_leading_space=not generated)
        assert allowed.size
        mask.apply(logits, allowed)
        assert np.isneginf(logits).sum() == logits.size - allowed.size

    generation = rt.generate(
        rt.build_prompt("import os\n\n\ndef main(path):\n    files ="),
        max_tokens=12,
        logits_hook=hook,
        should_stop=lambda text: re.search(r"\W", text.lstrip(" ")) is not None,
    )
    match = re.match(r" ?(\w+)", generation.text)
    assert match is not None and legal.has_prefix(match.group(1)), generation.text
    if generation.stop_reason == "stop":
        assert legal.is_complete(match.group(1))
