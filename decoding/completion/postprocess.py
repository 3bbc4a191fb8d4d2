"""From a code model's raw output to the ghost text an editor shows.

Text rules (every language): where the completion ends (end of the line, or of the statement
while brackets it opened are open, inline; the first dedent below the block, multi-line), no
closing bracket without an opener, no repeat of the text after the cursor. Python completions
are then parsed with tree-sitter on a window around the cursor and cut back to their longest
prefix that adds no syntax error. Offsets of the bracket scanner are relative to the cursor:
negative in the prefix, from 0 in the completion.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from tether.decoding.bracket_scanner import PAIRS
from tether.decoding.completion import parse_window as syntax
from tether.decoding.completion.cursor_context import (
    CompletionContext,
    CursorInfo,
    analyze_cursor,
    indent_width,
    line_at,
)

MAX_PARSES = 12
SHORT_LINE = 8  # a repeated suffix line shorter than this needs more evidence than itself
_DEFINITION = re.compile(r"(?:async\s+def|def|class)\b|@")
_WORD_OR_CHAR = re.compile(r"\w+|\S")
_LOOP = re.compile(r"(.{6,60}?)\1\1", re.DOTALL)


def is_multiline_context(ctx: CompletionContext) -> bool:
    """Whether the cursor is on a blank line or right after a block opener like `if x:`."""
    return analyze_cursor(ctx).multiline


def should_stop(ctx: CompletionContext, generated_so_far: str, multiline: bool) -> bool:
    """True once `generated_so_far` certainly runs past what postprocess would keep."""
    end = _cut(analyze_cursor(ctx), generated_so_far, multiline, final=False)
    return end < len(generated_so_far)


def postprocess(ctx: CompletionContext, raw: str, multiline: bool | None = None) -> str:
    """The ghost text for `raw`, possibly empty; never only whitespace."""
    info = analyze_cursor(ctx)
    if multiline is None:
        multiline = info.multiline
    text = raw[: _cut(info, raw, multiline, final=True)].rstrip()
    text = _balance(info, _trim_overlap(text, info.line_after)).rstrip()
    if info.python and text.strip():
        text = _longest_valid(ctx, info, text)
    return text if text.strip() else ""


# --- where the completion ends ---------------------------------------------------------------


def _cut(info: CursorInfo, text: str, multiline: bool, final: bool) -> int:
    end = _block_end(info, text) if multiline else _line_end(info, text)
    end = min(end, _loop_end(text))
    return _repeat_cut(info, text[:end], last_line_complete=final or end < len(text))


def _loop_end(text: str) -> int:
    """Where a degenerate loop (`f(self.g(self.g(self.g(`) starts repeating: after the
    first of three back-to-back copies of a code fragment."""
    for match in _LOOP.finditer(text):
        unit = match.group(1)
        if any(char.isalpha() for char in unit) and any(char in "([.,=" for char in unit):
            return match.start() + len(unit)
    return len(text)


def _line_end(info: CursorInfo, text: str) -> int:
    """End of the line, or of the statement while brackets opened on this line are open."""
    if info.scanner.string is not None or info.scanner.in_comment:
        end = text.find("\n")
        return len(text) if end < 0 else end
    scanner = info.scanner.copy()
    line_start = -len(info.line_before)
    for kind, at, _ in scanner.events(text):
        if kind == "newline" and not any(
                offset >= line_start and offset not in info.reserved
                for _, offset in scanner.stack):
            return at
    return len(text)


def _block_end(info: CursorInfo, text: str) -> int:
    """Where a line dedents below the block, or (when the completion is a definition) where
    the next statement after the definition's body starts."""
    lines = list(_logical_lines(info, text))
    head = line_at(text, 0)
    if not info.opener and not info.line_before.strip() and head.strip():
        lines.insert(0, (-1, info.line_before + head))
    code = [(at, line) for at, line in lines if line.strip()]
    if not code:
        return len(text)
    first_indent = indent_width(code[0][1])
    block = info.min_indent
    if block is None:
        block = min(info.fallback_indent, first_indent)
    definition = _DEFINITION.match(code[0][1].lstrip()) is not None
    if block == 0 and not definition:
        # Top-level statements never dedent: a blank line ends the group being written.
        blank = next((at for at, line in lines if at > code[0][0] and not line.strip()), None)
        if blank is not None:
            return blank
    body_seen = False
    for at, line in code[1:]:
        indent = indent_width(line)
        if indent < block or (definition and body_seen and indent <= first_indent):
            return at
        body_seen = body_seen or indent > first_indent
    return len(text)


def _logical_lines(info: CursorInfo, text: str) -> Iterator[tuple[int, str]]:
    """(offset of the newline before it, line) for each line of `text` after the first that
    starts a logical line: not inside a string, nor a bracket the completion opened."""
    scanner = info.scanner.copy()
    for kind, at, _ in scanner.events(text):
        if kind == "newline" and all(offset < 0 for _, offset in scanner.stack):
            yield at, line_at(text, at + 1)


def _repeat_cut(info: CursorInfo, text: str, last_line_complete: bool) -> int:
    """Where the completion starts repeating the lines after the cursor's line."""
    if not info.next_lines:
        return len(text)
    lines = text.split("\n")
    complete = len(lines) if last_line_complete else len(lines) - 1
    while complete and not lines[complete - 1].strip():
        complete -= 1
    start, offset = (0 if not info.line_before.strip() and not info.opener else 1), 0
    for index, line in enumerate(lines[:complete]):
        if index >= start and line.strip() == info.next_lines[0] and (
                len(info.next_lines[0]) >= SHORT_LINE
                or (last_line_complete and index == complete - 1)
                or (len(info.next_lines) > 1 and index + 1 < complete
                    and lines[index + 1].strip() == info.next_lines[1])):
            return max(offset - 1, 0)
        offset += len(line) + 1
    return len(text)


# --- brackets and overlap with the suffix -----------------------------------------------------


def _trim_overlap(text: str, line_after: str) -> str:
    """Drop the end of `text` that the rest of the cursor's line already starts with."""
    for size in range(min(len(text), len(line_after)), 0, -1):
        overlap = line_after[:size]
        if (overlap.strip() and text.endswith(overlap)
                and not (size < len(line_after) and _is_word(line_after[size - 1])
                         and _is_word(line_after[size]))):
            return text[:-size]
    return text


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _balance(info: CursorInfo, text: str) -> str:
    """Drop closing brackets with no opener, and those the suffix's line already has."""
    scanner, dropped = info.scanner.copy(), set()
    for kind, at, opener in scanner.events(text):
        if kind == "stray":
            dropped.add(at)
        elif kind == "close" and opener is not None and opener[1] in info.reserved:
            dropped.add(at)
            scanner.stack.append(opener)
    return "".join(char for index, char in enumerate(text) if index not in dropped)


# --- syntax check ------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _baseline(ctx: CompletionContext) -> tuple[str, list[syntax.Span], bool]:
    """The suffix's parse window, the errors of the window without completion, and whether
    the cursor sits inside an error already (then only errors starting in the completion and
    the error count are judged)."""
    info = analyze_cursor(ctx)
    after = syntax.suffix_window(ctx.suffix)
    closers = _closers(info, "", after)
    tail = _block_placeholder(info.window_before + closers, after)
    spans = syntax.error_spans((info.window_before + closers + tail + after).encode())
    cursor = len(info.window_before.encode())
    return after, spans, any(start < cursor < end for start, end in spans)


def _closers(info: CursorInfo, text: str, after: str) -> str:
    """Closing brackets for what the prefix opened and neither `text` nor the suffix's window
    closes: writing at the end of a file inside a call must not count as a syntax error."""
    scanner = info.scanner.copy()
    for _ in scanner.events(text + after):
        pass
    return "".join(PAIRS[char] for char, offset in reversed(scanner.stack) if offset < 0)


def _block_placeholder(before: str, after: str) -> str:
    """When nothing follows the cursor (a buffer cut at the cursor), a stand-in body for a
    trailing decorator or block header, so that `@app.route("/")` or `if ready:` at the end
    of the text is not judged a syntax error for lacking what the user has yet to write."""
    if after.strip():
        return ""
    last = before.rstrip().rsplit("\n", 1)[-1]
    indent = last[: len(last) - len(last.lstrip())]
    if last.lstrip().startswith("@"):
        return f"\n{indent}def _placeholder(): pass\n"
    if last.rstrip().endswith(":") and not last.lstrip().startswith("#"):
        return f"\n{indent}    pass\n"
    return ""


def _header_placeholder(info: CursorInfo, text: str, after: str) -> str | None:
    """When nothing follows the cursor and the block header it is in (`if self.`, maybe
    continued over lines) is still open after `text`, a stand-in colon and body: a
    completion that stops inside the condition (max tokens, a forgotten colon) is judged
    like one the user will finish. None otherwise."""
    if after.strip() or info.header_indent is None or text.rstrip().endswith("\\"):
        return None
    scanner = info.scanner.copy()
    for kind, _, _ in scanner.events(text):
        if kind == "newline" and not scanner.stack:
            return None  # the completion ended the header's logical line
    return f":\n{info.header_indent}    pass\n"


def _longest_valid(ctx: CompletionContext, info: CursorInfo, text: str) -> str:
    """`text` cut back to its longest prefix that adds no syntax error: whole lines first,
    token boundaries inside the first line that has code."""
    budget = MAX_PARSES
    while text.strip() and budget > 0:
        budget -= 1
        problem = _problem(ctx, info, text)
        if problem is None:
            return text
        line_start = text.rfind("\n", 0, problem)
        if line_start > 0 and text[:line_start].strip():
            text = text[:line_start].rstrip()
            continue
        return _token_cut(ctx, info, text, line_start + 1, problem, budget)
    return ""


def _token_cut(ctx: CompletionContext, info: CursorInfo, text: str, line_start: int, problem: int,
               budget: int) -> str:
    line_end = line_start + len(line_at(text, line_start))
    ends = [match.end() for match in _WORD_OR_CHAR.finditer(text, line_start, line_end)][:-1]
    # An error node often starts with its statement, before the token that broke it.
    before = [end for end in ends if end <= problem]
    for end in reversed(before or ends):
        candidate = text[:end].rstrip()
        if not candidate.strip() or _unfinished(info, candidate) is not None:
            continue
        if budget <= 0:
            break
        budget -= 1
        if _problem(ctx, info, candidate) is None:
            return candidate
    return ""


def _problem(ctx: CompletionContext, info: CursorInfo, text: str) -> int | None:
    """None when `text` adds no syntax error, else the offset in `text` where trouble starts."""
    unfinished = _unfinished(info, text)
    if unfinished is not None:
        return unfinished
    after, baseline, relaxed = _baseline(ctx)
    start = len(info.window_before.encode())
    encoded = text.encode()
    end = start + len(encoded)
    closers = _closers(info, text, after)
    tails = [_block_placeholder(info.window_before + text + closers, after)]
    header = _header_placeholder(info, text + closers, after)
    if header is not None:
        tails.append(header)
    problems: list[int] = []  # one per stand-in tried; the first one's is reported
    for tail in tails:
        spans = syntax.error_spans((info.window_before + text + closers + tail + after).encode())
        if relaxed:
            bad = [first for first, _ in spans if start <= first < end]
        else:
            bad = [first for first, last in spans
                   if (first < end and last > start) or (first == last and start <= first <= end)]
        if bad:
            problems.append(len(encoded[: max(min(bad) - start, 0)].decode("utf-8", "ignore")))
        elif len(spans) > len(baseline):
            problems.append(len(text))
        else:
            return None
    return problems[0]


def _unfinished(info: CursorInfo, text: str) -> int | None:
    """Offset of the first bracket or string that `text` opens and leaves open."""
    scanner = info.scanner.copy()
    for _ in scanner.events(text):
        pass
    opened = [offset for _, offset in scanner.stack if offset >= 0]
    if scanner.string is not None and scanner.string_at >= 0:
        opened.append(scanner.string_at)
    return min(opened) if opened else None
