"""Keyword parameters of imported and builtin functions, from pyright's signature help.

Asked on a tiny probe document -- the edited file's import that binds the callee's first name,
then the open call (`import textwrap` / `textwrap.wrap(`) -- rather than on the edited file,
which pyright would re-analyse for every new call the model writes; the answer depends only on
that import, so it is cached per (folder, import, callee) for the life of the server. The
probe document stays open in pyright, so asking again after a timeout finds it analysed.
"""

from __future__ import annotations

import builtins
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from decoding.call_signatures import keywords_of_signatures
from index.lru import LruCache

PROBE_TIMEOUT = 1.0  # seconds (pyright takes 0.1-0.5 s here): past it, left free and asked again
CACHE_SIZE = 1024
_BUILTINS = frozenset(dir(builtins))
_IMPORT = re.compile(r"^import\s+(?P<names>[\w.]+(?:\s+as\s+\w+)?"
                     r"(?:\s*,\s*[\w.]+(?:\s+as\s+\w+)?)*)$")
_FROM = re.compile(r"^from\s+[\w.]+\s+import\s+(?P<names>\w+(?:\s+as\s+\w+)?"
                   r"(?:\s*,\s*\w+(?:\s+as\s+\w+)?)*)$")
_UNKNOWN = frozenset({"\0unknown"})  # cached answer: pyright gave no usable signature


class SignatureSource(Protocol):
    """What the probe needs from decoding.pyright_client.PyrightClient."""

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
    def __init__(self, source: SignatureSource, timeout: float = PROBE_TIMEOUT) -> None:
        self.source = source
        self.timeout = timeout
        self._lock = threading.Lock()
        self._answers: LruCache[tuple[object, ...], frozenset[str]] = LruCache(CACHE_SIZE)

    def keywords(self, path: Path, text: str, callee: str) -> frozenset[str] | None:
        """Keyword names the call `callee(` accepts, where its first name is a builtin or
        bound by an import in `text` (the document `path` up to the call); None: any name,
        or nobody knows (a local, an attribute of one, `**kwargs`, no answer in time)."""
        head = callee.split(".", 1)[0]
        statement = import_binding(text, head)
        if statement is None and head not in _BUILTINS:
            return None
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
                answer = keywords_of_signatures(labels)
                known = _UNKNOWN if answer is None else answer
                self._answers.put(key, known)
        return None if known is _UNKNOWN else known
