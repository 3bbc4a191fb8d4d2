"""Modules that bind names no analysis sees: `globals()["name"] = ...`,
`globals().update(...)`, and `exec(code)` into the module's own namespace. `exec(code,
namespace)` writes into the namespace it is given (`exec(source, env)`, mako's
`exec(code, module.__dict__)`), so it binds nothing here unless that is `globals()`."""

from __future__ import annotations

import re

from tether.decoding.bracket_scanner import STRING_END

_GLOBALS_WRITTEN = re.compile(r"\bglobals\(\)\s*(?:\[|\.(?:update|setdefault)\b)")
_EXEC = re.compile(r"\bexec\(")
_OWN_NAMESPACE = re.compile(r"\b(?:globals|locals|vars)\(\s*\)")
_QUOTES = ('"""', "'''", '"', "'")
_SCANNED = 4000  # characters of an exec call's arguments read before judging it unclosed


def binds_names_at_run_time(source: str) -> bool:
    if _GLOBALS_WRITTEN.search(source):
        return True
    for call in _EXEC.finditer(source):
        if _in_comment(source, call.start()):
            continue
        arguments = call_arguments(source, call.end())
        if arguments is None or len(arguments) == 1:
            return True  # unclosed (judged the safe way), or the module's own namespace
        if any(_OWN_NAMESPACE.search(argument) for argument in arguments[1:]):
            return True
    return False


def call_arguments(source: str, start: int) -> list[str] | None:
    """The top-level arguments of the call whose `(` ends just before `start`, as written
    (an empty list for `f()`); None where the call does not close within _SCANNED
    characters."""
    arguments: list[str] = []
    depth, begun, at = 0, start, start
    end = min(len(source), start + _SCANNED)
    while at < end:
        char = source[at]
        quote = next((q for q in _QUOTES if source.startswith(q, at)), None)
        if quote is not None:
            closed = STRING_END[quote].match(source, at + len(quote))
            at = closed.end() if closed is not None else len(source)
            continue
        if char == "#":
            newline = source.find("\n", at)
            at = newline if newline >= 0 else end
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                last = source[begun:at].strip()
                return [*arguments, last] if last or arguments else arguments
            depth -= 1
        elif char == "," and depth == 0:
            arguments.append(source[begun:at].strip())
            begun = at + 1
        at += 1
    return None


def _in_comment(source: str, at: int) -> bool:
    """Whether `at` follows a `#` on its line that no quote before it opens a string for."""
    before = source[source.rfind("\n", 0, at) + 1:at]
    hash_at = before.find("#")
    return hash_at >= 0 and before.count('"', 0, hash_at) % 2 == 0 \
        and before.count("'", 0, hash_at) % 2 == 0
