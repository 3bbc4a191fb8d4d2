"""Deprecated members of a receiver as pyright sees them (typeshed's and libraries' @deprecated).

Pyright's completion items carry no deprecation tag; its diagnostics do, for code that uses a
deprecated API (the client declares `publishDiagnostics.tagSupport`). So the candidate members
are written as uses, one per line, in a probe document -- a hidden sibling of the edited file,
so that its imports resolve the same -- and the Deprecated-tagged diagnostics name the
deprecated ones, with a message that may name the replacement. Answers are cached per (file,
receiver, member set), so a receiver type is probed once. A probe that pyright has not finished
within the timeout is not waited for; a later request for the same receiver collects it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from decoding.pyright_protocol import TAG_DEPRECATED
from index.deprecation_text import parse_replacement
from index.lru import LruCache

PROBE_TIMEOUT = 0.5  # seconds
MAX_PROBED_NAMES = 400
CACHE_SIZE = 256


class DiagnosticsSource(Protocol):
    """What the probe needs from decoding.pyright_client.PyrightClient."""

    def update_document(self, path: Path, text: str, *, invalidates: bool = True) -> int: ...

    def wait_for_diagnostics(self, path: Path, timeout: float | None = None
                             ) -> list[dict[str, Any]] | None: ...


def probe_path(path: Path) -> Path:
    return path.with_name(f".{path.stem}.tether-probe.py")


def probe_text(head: str, receiver: str, names: list[str]) -> tuple[str, int]:
    """The document up to the line being written, then `receiver.name` for each name at that
    line's indentation; returns the text and the line number of the first probe."""
    line_start = head.rfind("\n") + 1
    current = head[line_start:]
    indent = current[: len(current) - len(current.lstrip())]
    probes = "".join(f"{indent}{receiver}.{name}\n" for name in names)
    return head[:line_start] + probes, head.count("\n", 0, line_start)


def deprecated_in(diagnostics: Iterable[dict[str, Any]], first_line: int,
                  names: list[str]) -> dict[str, str | None]:
    """Probe names that a Deprecated-tagged diagnostic points at -> the replacement named in
    its message (None when none is named)."""
    found: dict[str, str | None] = {}
    for diagnostic in diagnostics:
        if TAG_DEPRECATED not in (diagnostic.get("tags") or ()):
            continue
        line = int(((diagnostic.get("range") or {}).get("start") or {}).get("line", -1))
        index = line - first_line
        if 0 <= index < len(names):
            replacement = parse_replacement(str(diagnostic.get("message", "")))
            found[names[index]] = replacement.rsplit(".", 1)[-1] if replacement else None
    return found


class DeprecationProbe:
    def __init__(self, source: DiagnosticsSource, timeout: float = PROBE_TIMEOUT) -> None:
        self.source = source
        self.timeout = timeout
        self._lock = threading.Lock()
        self._answers: LruCache[tuple[object, ...], dict[str, str | None]] = LruCache(CACHE_SIZE)

    def deprecated_members(self, path: Path, head: str, receiver: str,
                           names: Iterable[str]) -> dict[str, str | None] | None:
        """Deprecated names among `names` (members of `receiver` at the end of `head`) ->
        their replacement; None when pyright has not answered (yet)."""
        probed = sorted(name for name in names if name.isidentifier()
                        and not (name.startswith("__") and name.endswith("__")))
        probed = probed[:MAX_PROBED_NAMES]
        key = (path, receiver, tuple(probed))
        with self._lock:
            known = self._answers.get(key)
            if known is not None:
                return known
            if not probed:
                return {}
            text, first_line = probe_text(head, receiver, probed)
            target = probe_path(path)
            if not self.source.update_document(target, text, invalidates=False):
                return None
            diagnostics = self.source.wait_for_diagnostics(target, self.timeout)
            if diagnostics is None:
                return None
            answer = deprecated_in(diagnostics, first_line, probed)
            self._answers.put(key, answer)
            return answer
