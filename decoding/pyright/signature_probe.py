"""Keyword parameters of calls the index cannot read, from pyright's signature help.

Where the callee's first name is a builtin or imported, asked on a tiny probe document -- the
edited file's import that binds it, then the open call (`import textwrap` / `textwrap.wrap(`)
-- rather than on the edited file, which pyright would re-analyse for every new call the model
writes; the answer depends only on that import, so it is cached per (folder, import, callee)
for the life of the server. The probe document stays open in pyright, so asking again after a
timeout finds it analysed. Other callees (`resp.json`, `self.session.get`) are typed by the
file itself, so they are asked there, once per callee and text above the line.
"""

from __future__ import annotations

import builtins
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from tether.decoding.grounding.call_signatures import keywords_of_signatures
from tether.index.lru import LruCache

PROBE_TIMEOUT = 1.0  # seconds (pyright takes 0.1-0.5 s here): past it, left free and asked again
# On the edited file pyright answered in 10-200 ms, but re-checking the file after an edit
# delayed some answers past a second; such a call is left free for RETRY_AFTER.
IN_PLACE_TIMEOUT = 0.25
RETRY_AFTER = 1.0  # seconds before a call not answered in time is asked about again
CACHE_SIZE = 1024
_BUILTINS = frozenset(dir(builtins))
_IMPORT = re.compile(r"^import\s+(?P<names>[\w.]+(?:\s+as\s+\w+)?"
                     r"(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*)$")
_FROM = re.compile(r"^from\s+[\w.]+\s+import\s+(?P<names>\w+(?:\s+as\s+\w+)?"
                   r"(?:\s*,\s*\w+(?:\s+as\s+\w+)?)*)$")
_UNKNOWN = frozenset({"\0unknown"})  # cached answer: pyright gave no usable signature


class SignatureSource(Protocol):
    """What the probe needs from decoding.pyright.client.PyrightClient."""

    def update_document(self, path: Path, text: str, *, invalidates: bool = True) -> int: ...

    def signature_labels(self, path: Path, text: str, line: int, character: int, *,
                         timeout: float | None = None) -> list[list[str]] | None: ...


def signature_probe_path(path: Path) -> Path:
    return path.with_name(f".{path.stem}.tether-signature.py")


def import_binding(text: str, name: str) -> str | None:
    """The last import statement in `text` that binds `name` (`import numpy as np`,
    `from os import path`, `import xml.etree`), as one line without its indentation; a
    parenthesized or backslash-continued import is joined into one line."""
    found = None
    for statement in import_statements(text):
        if name in bound_names(statement):
            found = statement
    return found


def import_statements(text: str) -> Iterator[str]:
    """Each import statement in `text`, on one line: comments, brackets and line breaks
    inside it dropped, names separated by `, `."""
    lines = text.split("\n")
    number = 0
    while number < len(lines):
        statement = lines[number].split("#", 1)[0].strip()
        number += 1
        if not statement.startswith(("import ", "from ")):
            continue
        while number < len(lines) and (statement.endswith("\\") or
                                       statement.count("(") > statement.count(")")):
            statement = statement.rstrip("\\") + " " + lines[number].split("#", 1)[0].strip()
            number += 1
        head, separator, names = statement.partition(" import ")
        if separator:
            parts = [part.strip() for part in names.strip().strip("()").split(",")]
            statement = f"{head} import {', '.join(part for part in parts if part)}"
        yield " ".join(statement.split())


def bound_names(statement: str) -> set[str]:
    """The names a one-line import statement binds."""
    found = _IMPORT.match(statement) or _FROM.match(statement)
    if found is None:
        return set()
    names = set()
    for part in found.group("names").split(","):
        target, _, alias = part.strip().partition(" as ")
        names.add(alias.strip() or target.strip().split(".")[0])
    return names


class SignatureProbe:
    def __init__(self, source: SignatureSource, timeout: float = PROBE_TIMEOUT,
                 in_place_timeout: float = IN_PLACE_TIMEOUT) -> None:
        self.source = source
        self.timeout = timeout
        self.in_place_timeout = in_place_timeout
        self._lock = threading.Lock()
        self._answers: LruCache[tuple[object, ...], frozenset[str]] = LruCache(CACHE_SIZE)
        self._gave_up: LruCache[tuple[object, ...], float] = LruCache(CACHE_SIZE)

    def keywords(self, path: Path, text: str, callee: str) -> frozenset[str] | None:
        """Keyword names the call `callee(` open at the end of `text` (the document `path` up
        to the call) accepts; None: any name, or nobody knows (`**kwargs`, an Unknown type,
        no answer in time). A callee whose first name is a builtin or bound by an import is
        asked on the probe document; any other (a method of a local, of `self.attr`) on the
        document itself, once per callee while the lines above the call stay as they are."""
        head = callee.split(".", 1)[0]
        statement = import_binding(text, head)
        if statement is None and head not in _BUILTINS:
            return self._keywords_in_place(path, text, callee)
        key = (path.parent, statement, callee)
        with self._lock:
            known = self._answers.get(key)
            if known is None:
                document = f"{statement or ''}\n{callee}("
                probe = signature_probe_path(path)
                # nothing imports the probe: other documents' cached answers stay valid
                if not self.source.update_document(probe, document, invalidates=False):
                    return None
                labels = self.source.signature_labels(probe, document, 1, len(callee) + 1,
                                                      timeout=self.timeout)
                if not labels:
                    return None  # not answered (or not yet analysed): asked again next time
                known = self._remember(key, labels)
        return None if known is _UNKNOWN else known

    def _keywords_in_place(self, path: Path, text: str, callee: str) -> frozenset[str] | None:
        line_start = text.rfind("\n") + 1
        # the callee's type is fixed by the lines above the one being written
        key = (path, callee, line_start, hash(text[:line_start]))
        with self._lock:
            known = self._answers.get(key)
            if known is None:
                gave_up = self._gave_up.get(key)
                if gave_up is not None and time.monotonic() - gave_up < RETRY_AFTER:
                    return None  # not asked again for every argument of the line
                labels = self.source.signature_labels(
                    path, text, text.count("\n"), len(text) - line_start,
                    timeout=min(self.timeout, self.in_place_timeout))
                if labels is None:
                    self._gave_up.put(key, time.monotonic())
                    return None
                known = self._remember(key, labels)  # no signature: an Unknown callee
        return None if known is _UNKNOWN else known

    def _remember(self, key: tuple[object, ...], labels: list[list[str]]) -> frozenset[str]:
        answer = keywords_of_signatures(labels) if labels else None
        known = _UNKNOWN if answer is None else answer
        self._answers.put(key, known)
        return known
