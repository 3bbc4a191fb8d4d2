"""Completion post-processing: stop rules, brackets, suffix overlap, the tree-sitter check."""

from __future__ import annotations

import pytest

from tether.decoding.completion.cursor_context import CompletionContext
from tether.decoding.completion.postprocess import (
    is_multiline_context,
    postprocess,
    should_stop,
)


def ctx(prefix: str, suffix: str = "\n", language: str = "python") -> CompletionContext:
    return CompletionContext(prefix=prefix, suffix=suffix, language=language)


METHOD = "class Cart:\n    def total(self):\n        value = self."


# --- context kind ------------------------------------------------------------------------------


@pytest.mark.parametrize(("prefix", "suffix", "expected"), [
    ("def f():\n    ", "\n", True),
    ("def f():", "\n", True),
    ("if ready:  ", "\n", True),
    ("    else:", "", True),
    ("", "", True),
    ("x = self.", "\n", False),
    ("def f():\n    ", "return x\n", False),
    ("x = {'a':", "\n", False),
    ("f = lambda:", "\n", False),
    ("items[1:", "]\n", False),
    ("x = 1  # note:", "\n", False),
])
def test_multiline_context(prefix: str, suffix: str, expected: bool) -> None:
    assert is_multiline_context(ctx(prefix, suffix)) is expected


# --- inline ------------------------------------------------------------------------------------


def test_member_completion_stops_at_newline() -> None:
    raw = "items_total()\n        return value\n"
    assert postprocess(ctx(METHOD, "\n        return value\n"), raw) == "items_total()"


def test_inline_keeps_leading_whitespace() -> None:
    assert postprocess(ctx("x ="), " 1") == " 1"


def test_inline_continues_while_its_brackets_are_open() -> None:
    raw = "\n    alpha,\n    beta,\n)\nprint(result)"
    assert postprocess(ctx("result = compute(", ""), raw) == "\n    alpha,\n    beta,\n)"
    assert postprocess(ctx("x = f("), "a,\n  b)\ny = 2") == "a,\n  b)"


def test_inline_inside_call_opened_on_earlier_line_stops_at_line_end() -> None:
    prefix = "result = compute(\n    alpha,\n    be"
    assert postprocess(ctx(prefix, ""), "ta,\n    gamma,\n)") == "ta,"


def test_inline_in_comment_and_docstring_stops_at_newline() -> None:
    assert postprocess(ctx("# compute the "), "total\nx = 1") == "total"
    docstring = ctx('def f():\n    """Return the ', '\n    """\n')
    assert postprocess(docstring, "sum of things.\n    more") == "sum of things."


def test_newline_first_on_inline_gives_nothing() -> None:
    assert postprocess(ctx("x = 1"), "\n    y = 2") == ""


# --- brackets and suffix -----------------------------------------------------------------------


@pytest.mark.parametrize(("prefix", "raw", "expected"), [
    ("total = compute(a, b", ")) + 1", ") + 1"),
    ("x = ", "y)", "y"),
    ("x = [1, 2", ")", ""),
    ("x = ", "value]]", "value"),
])
def test_unbalanced_closer_removed(prefix: str, raw: str, expected: str) -> None:
    assert postprocess(ctx(prefix), raw) == expected


@pytest.mark.parametrize(("prefix", "suffix", "raw", "expected"), [
    ("print(", ")\n", '"hello")', '"hello"'),
    ("print(", ")\n", '"hello"))\nfoo()', '"hello"'),
    ("d[", "]\n", '"key"]', '"key"'),
    ("items = [x for x in", "]\n", " range(10)]", " range(10)"),
    ("print(", ")\n", "x) + y", "x + y"),
])
def test_auto_closed_bracket_not_duplicated(prefix: str, suffix: str, raw: str,
                                            expected: str) -> None:
    assert postprocess(ctx(prefix, suffix), raw) == expected


@pytest.mark.parametrize(("prefix", "suffix", "raw", "expected"), [
    ("if check(", "):\n    pass\n", "value):", "value"),
    ("foo(", ", b)\n", "a, b)", "a"),
    ("x = call(arg", ")\n", ", other)", ", other"),
    ("class Foo(", "):\n    pass\n", "Base):\n    pass", "Base"),
    ("x = f'{a", "}'\n", "}'", ""),
    ("name = ", "items_count)\n", "items", "items"),
])
def test_suffix_overlap_removed(prefix: str, suffix: str, raw: str, expected: str) -> None:
    assert postprocess(ctx(prefix, suffix), raw) == expected


def test_completion_repeating_next_lines_is_cut() -> None:
    prefix = "def f():\n    x = 1\n    "
    raw = "y = 2\n    return x\n"
    assert postprocess(ctx(prefix, "\n    return x\n"), raw) == "y = 2"


def test_short_repeated_line_needs_confirmation() -> None:
    prefix = "if x:\n    y = 1\n"
    raw = "else:\n    y = 2\nz = 3\n"
    assert postprocess(ctx(prefix, "\nz = 3\n"), raw) == "else:\n    y = 2"
    body = ctx("def f():\n    ", "\n    pass\n")
    assert postprocess(body, "pass") == ""
    assert postprocess(body, "pass\n    x = 1") == "pass\n    x = 1"


# --- multi-line --------------------------------------------------------------------------------


def test_function_body_stops_at_dedent() -> None:
    prefix = "def add(a, b):\n    "
    raw = "total = a + b\n    return total\n\ndef extra():\n    pass\n"
    result = postprocess(ctx(prefix, "\n\ndef other():\n    pass\n"), raw)
    assert result == "total = a + b\n    return total"


def test_body_after_block_opener() -> None:
    assert postprocess(ctx("def add(a, b):", "\n"), "\n    return a + b\n\nprint(1)") == (
        "\n    return a + b")
    prefix = "if x:\n    pass\nelse:"
    assert postprocess(ctx(prefix), "\n    y = 1\nz = 2") == "\n    y = 1"
    assert postprocess(ctx("for i in range(3):"), " # loop\n    print(i)\nprint(0)") == (
        " # loop\n    print(i)")


def test_nested_lines_and_continuations_are_kept() -> None:
    raw = "if a:\n        b = (1,\n  2)\n    return b\nx = 1"
    assert postprocess(ctx("def f(a):\n    "), raw) == "if a:\n        b = (1,\n  2)\n    return b"


def test_cursor_at_column_zero_inside_body() -> None:
    raw = "    y = 2\n    return y\n\ndef g():\n    pass"
    assert postprocess(ctx("def f():\n    x = 1\n"), raw) == "    y = 2\n    return y"


def test_one_definition_per_completion() -> None:
    raw = "def foo():\n    return 1\n\n\ndef bar():\n    return 2\n"
    assert postprocess(ctx("", ""), raw) == "def foo():\n    return 1"
    method = "def f(self):\n        return 1\n\n    def g(self):\n        return 2\n"
    assert postprocess(ctx("class A:\n    "), method) == "def f(self):\n        return 1"


def test_tabs_and_crlf() -> None:
    raw = "y = 1\n\t\treturn y\n\tz = 2\n"
    assert postprocess(ctx("def f():\n\tif x:\n\t\t"), raw) == "y = 1\n\t\treturn y"
    crlf = ctx("def f():\r\n    ", "\r\n")
    assert postprocess(crlf, "x = 1\r\n    return x\r\n") == "x = 1\r\n    return x"


def test_inside_open_literal_stops_at_its_closer() -> None:
    raw = "'b': 2,\n    'c': 3,\n}\nprint(x)"
    assert postprocess(ctx("x = {\n    'a': 1,\n    ", "\n}\n"), raw) == "'b': 2,\n    'c': 3,"


def test_explicit_single_line_on_multiline_context() -> None:
    assert postprocess(ctx("def f():\n    "), "x = 1\n    return x", multiline=False) == "x = 1"


# --- syntax check ------------------------------------------------------------------------------


@pytest.mark.parametrize(("prefix", "raw", "expected"), [
    ("def f(x):\n    ", "y = x + 1\n    return y +* 2", "y = x + 1"),
    ("def f(x):\n    ", "y = x +\n    return y", "y = x"),
    ("x = foo.", "bar baz", "bar"),
    ("x = foo.", "bar(1", "bar"),
    ("print(foo.", "bar baz", "bar"),
    ("def f():", "\n    return x +", "\n    return x"),
    ("x = ", '"unterminated', ""),
])
def test_syntax_error_truncated(prefix: str, raw: str, expected: str) -> None:
    assert postprocess(ctx(prefix), raw) == expected


def test_valid_completions_survive_check() -> None:
    assert postprocess(ctx("def f():\n    return "), "{'a': [1, 2], 'b': (3,)}\n") == (
        "{'a': [1, 2], 'b': (3,)}")
    assert postprocess(ctx("async def f():\n    await "), "asyncio.sleep(1)\n") == (
        "asyncio.sleep(1)")
    broken_elsewhere = "x = (1,\ny = 2\n\ndef g():\n    return "
    assert postprocess(ctx(broken_elsewhere), "3") == "3"


@pytest.mark.parametrize("raw", ["", "   ", "\n\n", ")", "   \n  \n", "+* /"])
def test_empty_result(raw: str) -> None:
    assert postprocess(ctx("x = 1\n"), raw) == ""


# --- other languages, unicode, size --------------------------------------------------------------


def test_non_python_language_uses_text_rules_only() -> None:
    js = ctx("const x = foo(", ");\n", language="javascript")
    assert postprocess(js, "a, b);") == "a, b"
    assert postprocess(js, "a b c") == "a b c"
    assert postprocess(js, "a)\nconst y = 2;") == "a"
    assert postprocess(ctx("let s = '#", "\n", language="text"), "{a}'") == "{a}'"
    assert postprocess(ctx("fn main() {\n    ", "\n}\n", language="rust"),
                       "run();\n    stop();\n}\n") == "run();\n    stop();"


def test_unicode() -> None:
    assert postprocess(ctx('name = "', '"\n'), 'héllo wörld 🎉"') == "héllo wörld 🎉"
    prefix = 's = "ünïcødé 🎉"\nx = s.'
    assert postprocess(ctx(prefix), 'upper() + "é"\nmore') == 'upper() + "é"'
    assert postprocess(ctx(prefix), 'upper() + "é" +* 2') == 'upper() + "é"'
    assert postprocess(ctx("größe = "), "länge * 2") == "länge * 2"


def test_huge_prefix() -> None:
    body = "".join(f"def func_{i}(a, b):\n    total = a + b\n    return total\n\n"
                   for i in range(5000))
    big = ctx(body + "def last(x):\n    return x.", "\n\ndef after():\n    pass\n")
    assert body.count("\n") == 20000
    assert postprocess(big, "upper()\n    more") == "upper()"
    assert postprocess(big, "upper() +* 1") == "upper()"
    assert should_stop(big, "upper()\n", False)


# --- should_stop -------------------------------------------------------------------------------


@pytest.mark.parametrize(("generated", "expected"), [
    ("foo", False), ("foo(", False), ("foo(\n", False), ("foo(\n  1)", False),
    ("foo()\n", True), ("foo(\n  1)\n", True), ("\n", True),
])
def test_should_stop_inline(generated: str, expected: bool) -> None:
    assert should_stop(ctx("x = self."), generated, False) is expected


@pytest.mark.parametrize(("generated", "expected"), [
    ("x = 1", False), ("x = 1\n", False), ("x = 1\n    y", False), ("x = 1\n\n", False),
    ("x = 1\n  ", False), ("x = 1\n\nd", True), ("x = (\n1,\n)", False),
])
def test_should_stop_multiline(generated: str, expected: bool) -> None:
    assert should_stop(ctx("def f():\n    "), generated, True) is expected


def test_should_stop_agrees_with_postprocess() -> None:
    context = ctx("def add(a, b):\n    ", "\n\ndef other():\n    pass\n")
    raw = "total = a + b\n    return total\n\ndef extra():\n    pass\n"
    stop = next(i for i in range(1, len(raw) + 1) if should_stop(context, raw[:i], True))
    assert postprocess(context, raw[:stop]) == postprocess(context, raw)
    assert should_stop(context, "total = a + b\n    return total\n\nclass", True)


def test_should_stop_waits_before_judging_a_short_repeated_line() -> None:
    body = ctx("def f():\n    ", "\n    pass\n")
    assert not should_stop(body, "pass\n", True)
    assert postprocess(body, "pass\n") == ""


def test_trailing_decorator_at_the_end_of_the_buffer_is_kept() -> None:
    ctx = CompletionContext(prefix="import click\n\n\n@click.command()\n@click.", suffix="")
    assert postprocess(ctx, 'option("--count", default=1)\n') == 'option("--count", default=1)'


def test_trailing_block_header_at_the_end_of_the_buffer_is_kept() -> None:
    ctx = CompletionContext(prefix="def f(x):\n    if x.", suffix="")
    assert postprocess(ctx, "ready:\n") == "ready:"


@pytest.mark.parametrize(("prefix", "raw", "expected"), [
    # the model forgot the colon: the header's expression is kept, the user adds the colon
    ("def f(self):\n    if self.", "is_in(value)\n        return 1", "is_in(value)"),
    # generation ran out inside a condition continued over backslash lines
    ("def f(self):\n    if a or \\\n            self.",
     "is_in(value) or \\\n            self.is_in(", "is_in(value)"),
    ("def f(self):\n    while (a and\n           self.", "ready()", "ready()"),
    ("def f(self):\n    if ready: total = self.", "price\n", "price"),  # has its colon
])
def test_the_header_being_written_at_the_end_of_the_buffer_is_kept(
        prefix: str, raw: str, expected: str) -> None:
    assert postprocess(CompletionContext(prefix=prefix, suffix=""), raw) == expected


def test_a_header_the_completion_starts_itself_needs_its_colon() -> None:
    ctx = CompletionContext(prefix="def f(self):\n    ", suffix="")
    assert postprocess(ctx, "x = 1\n    if y", multiline=True) == "x = 1"


def test_top_level_statements_stop_at_a_blank_line() -> None:
    ctx = CompletionContext(prefix="x = 1\n", suffix="")
    assert postprocess(ctx, "y = 2\nz = 3\n\nprint(y)\n", multiline=True) == "y = 2\nz = 3"


def _long_module_with_docstrings(functions: int) -> str:
    """Functions with docstrings whose quotes a scan started mid-file would misread."""
    body = "".join(
        f'def helper_{n}(value):\n    """Helper {n}: it\'s slow.\n\n    Examples::\n\n'
        f'        helper_{n}(1)\n    """\n    return value + {n}\n\n\n' for n in range(functions))
    return body + 'def edit(text):\n    """Edit text.\n\n    More words.\n    """\n' \
        "    ed = make_editor()\n    if text is None:\n        return ed."


@pytest.mark.parametrize("functions", [5, 60, 61, 62, 63])
def test_scan_window_never_starts_inside_a_docstring(functions: int) -> None:
    from tether.decoding.completion import parse_window as syntax

    # 200 lines back lands inside a docstring for some of these sizes; the scan starts at a
    # statement instead (a scan started inside a docstring reads all later quotes inverted).
    prefix = _long_module_with_docstrings(functions)
    tail = prefix[syntax.scan_start(prefix, 200, max_lines=3000):]
    assert tail.startswith("def ") and tail.count('"""') % 2 == 0
    completion = postprocess(ctx(prefix, ""), "edit(text, filename=None)\n\n")
    assert completion == "edit(text, filename=None)"


def test_scan_window_for_a_giant_statement_skips_strings() -> None:
    from tether.decoding.completion import parse_window as syntax

    docstring = '    """Doc.\n' + "    line\n" * 300 + '    """\n'
    prefix = "class Big:\n" + ("    def f(self):\n" + docstring + "        return 1\n") * 20 + \
        "    def g(self):\n        return self."
    for lines in range(150, 260, 7):  # wherever `lines` back lands, no string is cut in two
        start = syntax.scan_start(prefix, lines, max_lines=1000)
        assert start > 0 and prefix[start:].count('"""') % 2 == 0


def test_a_degenerate_loop_stops_generation_and_is_cut() -> None:
    context = ctx("class A:\n    def f(self):\n        region_map = self.", "")
    raw = "split(self.split_row(self.split_row(self.split_row(self.split_row(self."
    assert should_stop(context, raw, False)  # no need to decode to max_tokens
    assert postprocess(context, raw) == "split"


@pytest.mark.parametrize("raw", ['"-" * 40', "[0, 0, 0, 0, 0, 0, 0, 0]",
                                 'f("=====================")', "f(a, b, a, b, a, b)",
                                 "g(x.y, x.y, x.z)"])
def test_repetitive_but_sound_code_is_not_a_loop(raw: str) -> None:
    context = ctx("value = ", "")
    assert not should_stop(context, raw, False)
    assert postprocess(context, raw) == raw
