"""The prefix window and the token counts behind it, on the embedded model's tokenizer."""

from __future__ import annotations

import pytest

from tether.decoding.completion.prompt_window import LINE_GRID, PrefixWindow
from tether.decoding.model.runtime import ModelRuntime
from tether.decoding.model.token_counts import TokenCounts


@pytest.fixture
def counts(model_runtime: ModelRuntime) -> TokenCounts:
    return TokenCounts(model_runtime.tokenize)


def source(lines: int) -> str:
    return "".join(f"    total_{n} = compute_value(items[{n}], factor={n})\n"
                   for n in range(lines))


def test_a_file_that_fits_is_kept_whole(counts: TokenCounts) -> None:
    prefix = source(10) + "    result."
    assert PrefixWindow(counts, 1024).cut(prefix) == prefix


def test_a_long_file_keeps_whole_grid_blocks_within_the_budget(
        counts: TokenCounts, model_runtime: ModelRuntime) -> None:
    prefix = source(400) + "    result."
    kept = PrefixWindow(counts, 512).cut(prefix)
    assert prefix.endswith(kept)
    assert len(model_runtime.tokenize(kept)) <= 512
    dropped = prefix[: len(prefix) - len(kept)].count("\n")
    assert dropped % LINE_GRID == 0
    # One block more would not have fitted: the window uses the budget.
    wider = "".join(prefix.splitlines(keepends=True)[dropped - LINE_GRID:])
    assert len(model_runtime.tokenize(wider)) > 512


def test_the_window_start_stays_put_while_typing(counts: TokenCounts) -> None:
    window = PrefixWindow(counts, 512)
    before = window.cut(source(400) + "    res")
    after = window.cut(source(400) + "    result = total_1 + total_2\n    other")
    assert after.startswith(before.split("\n", 1)[0])  # same first line: cached tokens reused


def test_a_cursor_block_too_big_for_the_budget_keeps_its_last_lines(
        counts: TokenCounts, model_runtime: ModelRuntime) -> None:
    prefix = source(LINE_GRID - 1) + "    result."
    kept = PrefixWindow(counts, 128).cut(prefix)
    assert kept.count("\n") >= 3  # not just the cursor's line
    assert kept.endswith("\n    result.")
    assert len(model_runtime.tokenize(kept)) <= 128


def test_the_hint_goes_right_before_the_cursor_line(counts: TokenCounts) -> None:
    hint = "    # result: Cart has add_item, total\n"
    kept = PrefixWindow(counts, 1024).cut("x = 1\n    result.", hint)
    assert kept == "x = 1\n" + hint + "    result."


def test_a_budget_spent_by_the_cursor_line_keeps_only_that_line(counts: TokenCounts) -> None:
    # The newline stays: the model still sees the cursor's line start a line.
    assert PrefixWindow(counts, 2).cut(source(3) + "    result = compute(") == (
        "\n    result = compute(")


def test_token_counts_are_the_tokenizer_s_and_are_remembered(
        model_runtime: ModelRuntime) -> None:
    calls: list[str] = []

    def tokenize(text: str) -> list[int]:
        calls.append(text)
        return model_runtime.tokenize(text)

    counts = TokenCounts(tokenize, kept=2)
    text = "def total(self) -> float:\n"
    assert counts(text) == len(model_runtime.tokenize(text))
    assert counts(text) == len(model_runtime.tokenize(text))
    assert calls == [text]
    counts("a")
    counts("b")  # the oldest count is dropped beyond `kept`
    counts(text)
    assert calls == [text, "a", "b", text]
