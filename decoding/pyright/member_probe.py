"""What pyright's checker says about a receiver's members: which are deprecated (typeshed's
and libraries' @deprecated), and whether it accepts any name at all.

Pyright's completion items carry no deprecation tag; its diagnostics do, for code that uses a
deprecated API (the client declares `publishDiagnostics.tagSupport`). So the candidate members
are written as uses, one per line, in a probe document -- a hidden sibling of the edited file,
so that its imports resolve the same -- and the Deprecated-tagged diagnostics name the
deprecated ones, with a message that may name the replacement. One more line uses a name no
type has: where pyright reports no attribute error for it, the receiver's type is partly
Unknown to its checker (a base class it cannot import, say) and its completion list, which
holds only the known part, is no proof that other names are wrong. Answers are cached per
(file, receiver, member set), so a receiver type is probed once. A probe that pyright has not
finished within the timeout is not waited for; a later request for the same receiver collects
it. Pyright may publish a version's diagnostics before its checker has run on it (parse and
bind only: an empty list, or one without attribute errors), so the probe ends with a line that
the checker always flags, and only diagnostics that flag it count as an answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from tether.decoding.bracket_scanner import BracketScanner
from tether.decoding.grounding.oracles import MemberFacts
from tether.decoding.pyright.protocol import SEVERITY_ERROR, TAG_DEPRECATED, TAG_UNNECESSARY
from tether.index.deprecation_text import parse_replacement
from tether.index.lru import LruCache

PROBE_TIMEOUT = 0.5  # seconds
MAX_PROBED_NAMES = 400
CACHE_SIZE = 256
ABSENT_MEMBER = "tether_absent_member_probe"
# at module level after the probes: an attribute no `int` has, which only the checker reports
CHECKED_MARKER = "(0).tether_probe_checked\n"
ATTRIBUTE_ERRORS = frozenset({"reportAttributeAccessIssue", "reportOptionalMemberAccess"})
UNDEFINED_NAME = "reportUndefinedVariable"


class DiagnosticsSource(Protocol):
    """What the probe needs from decoding.pyright.client.PyrightClient."""

    def update_document(self, path: Path, text: str, *, invalidates: bool = True) -> int: ...

    def wait_for_diagnostics(self, path: Path, timeout: float | None = None, *,
                             accept: Callable[[list[dict[str, Any]]], bool] | None = None
                             ) -> list[dict[str, Any]] | None: ...


def probe_path(path: Path) -> Path:
    return path.with_name(f".{path.stem}.tether-probe.py")


def probe_text(head: str, receiver: str, names: list[str]) -> tuple[str, int]:
    """The document up to the statement being written, then `receiver.name` for each name at
    that statement's indentation; returns the text and the line number of the first probe.
    The statement usually starts on the cursor line; one continued inside brackets opened on
    lines above starts on the line of its outermost open bracket, below the decorators it
    follows (lines inside an open bracket would not parse as statements)."""
    line_start = statement_start(head)
    while line_start:
        previous = head.rfind("\n", 0, line_start - 1) + 1
        if not head[previous:line_start].lstrip().startswith("@"):
            break
        line_start = previous
    current = head[line_start:]
    indent = current[: len(current) - len(current.lstrip())]
    probes = "".join(f"{indent}{receiver}.{name}\n" for name in names)
    return head[:line_start] + probes, head.count("\n", 0, line_start)


def statement_start(head: str) -> int:
    """Offset of the start of the line where the statement at the end of `head` begins: the
    last line, or the line of the outermost bracket still open at the end."""
    scanner = BracketScanner(comments=True)
    for _ in scanner.events(head):
        pass
    opened = scanner.stack[0][1] if scanner.stack else len(head)
    return head.rfind("\n", 0, opened) + 1


def accepts_any_name(diagnostics: Iterable[dict[str, Any]], line: int) -> bool:
    """Whether pyright's checker takes ABSENT_MEMBER, used on `line`: no attribute error
    there, in code it analyses. Its silence proves nothing in code it judges unreachable
    (e.g. a branch its narrowing rules out), where the probe does not parse (a syntax error,
    which pyright reports without a rule name, anywhere in the probe document voids the
    answer) nor where the receiver is not defined at the probe (a comprehension's variable,
    probed at the start of its statement)."""
    diagnostics = list(diagnostics)
    if any(diagnostic.get("severity") == SEVERITY_ERROR and not diagnostic.get("code")
           for diagnostic in diagnostics):
        return False
    if any(diagnostic.get("code") == UNDEFINED_NAME and _line_of(diagnostic) == line
           for diagnostic in diagnostics):
        return False
    if any(TAG_UNNECESSARY in (diagnostic.get("tags") or ())
           and _line_of(diagnostic) <= line <= _line_of(diagnostic, "end")
           for diagnostic in diagnostics):
        return False
    return not any(diagnostic.get("code") in ATTRIBUTE_ERRORS
                   and _line_of(diagnostic) == line for diagnostic in diagnostics)


def checked(diagnostics: Iterable[dict[str, Any]], marker_line: int) -> bool:
    """Whether pyright's checker ran on the probe: it flagged CHECKED_MARKER's line."""
    return any(diagnostic.get("code") in ATTRIBUTE_ERRORS and _line_of(diagnostic) == marker_line
               for diagnostic in diagnostics)


def _line_of(diagnostic: dict[str, Any], end: str = "start") -> int:
    return int(((diagnostic.get("range") or {}).get(end) or {}).get("line", -1))


def deprecated_in(diagnostics: Iterable[dict[str, Any]], first_line: int,
                  names: list[str]) -> dict[str, str | None]:
    """Probe names that a Deprecated-tagged diagnostic points at -> the replacement named in
    its message (None when none is named)."""
    found: dict[str, str | None] = {}
    for diagnostic in diagnostics:
        if TAG_DEPRECATED not in (diagnostic.get("tags") or ()):
            continue
        index = _line_of(diagnostic) - first_line
        if 0 <= index < len(names):
            replacement = parse_replacement(str(diagnostic.get("message", "")))
            found[names[index]] = replacement.rsplit(".", 1)[-1] if replacement else None
    return found


class MemberProbe:
    def __init__(self, source: DiagnosticsSource, timeout: float = PROBE_TIMEOUT) -> None:
        self.source = source
        self.timeout = timeout
        self._lock = threading.Lock()
        self._answers: LruCache[tuple[object, ...], MemberFacts] = LruCache(CACHE_SIZE)

    def member_facts(self, path: Path, head: str, receiver: str,
                     names: Iterable[str]) -> MemberFacts | None:
        """What pyright's checker says about `names` (members of `receiver` at the end of
        `head`) and about names beyond them; None when it has not answered (yet)."""
        probed = sorted(name for name in names if name.isidentifier()
                        and not (name.startswith("__") and name.endswith("__")))
        probed = probed[:MAX_PROBED_NAMES]
        key = (path, receiver, tuple(probed))
        with self._lock:
            known = self._answers.get(key)
            if known is not None:
                return known
            text, first_line = probe_text(head, receiver, [*probed, ABSENT_MEMBER])
            marker_line = text.count("\n")
            target = probe_path(path)
            if not self.source.update_document(target, text + CHECKED_MARKER,
                                               invalidates=False):
                return None
            diagnostics = self.source.wait_for_diagnostics(
                target, self.timeout, accept=lambda found: checked(found, marker_line))
            if diagnostics is None:
                return None
            answer = MemberFacts(deprecated_in(diagnostics, first_line, probed),
                                 accepts_any_name(diagnostics, first_line + len(probed)))
            self._answers.put(key, answer)
            return answer
