"""The diagnostics pyright last published for each document, and waiting for a version's."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from tether.decoding.pyright.protocol import normal_uri

Diagnostics = list[dict[str, Any]]


class PublishedDiagnostics:
    """Latest ``textDocument/publishDiagnostics`` per document, keyed by normalised URI.
    Written by the connection's reader thread, read by request threads."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[int | None, Diagnostics]] = {}
        self._changed = threading.Condition()

    def publish(self, params: dict[str, Any]) -> None:
        uri = normal_uri(str(params.get("uri", "")))
        with self._changed:
            self._entries[uri] = (params.get("version"), list(params.get("diagnostics") or []))
            self._changed.notify_all()

    def latest(self, uri: str) -> tuple[int | None, Diagnostics] | None:
        """(document version, diagnostics) last published for `uri`, or None."""
        with self._changed:
            entry = self._entries.get(normal_uri(uri))
        return (entry[0], list(entry[1])) if entry else None

    def wait_for(self, uri: str, version: int, timeout: float,
                 accept: Callable[[Diagnostics], bool] | None = None) -> Diagnostics | None:
        """The diagnostics of `version` of the document, once published (and accepted by
        `accept`: a version may be published more than once); None after `timeout`
        seconds."""
        deadline = time.monotonic() + timeout
        key = normal_uri(uri)
        with self._changed:
            while True:
                entry = self._entries.get(key)
                if entry is not None and entry[0] == version and (
                        accept is None or accept(entry[1])):
                    return list(entry[1])
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._changed.wait(remaining)

    def forget(self, uri: str) -> None:
        with self._changed:
            self._entries.pop(normal_uri(uri), None)

    def clear(self) -> None:
        with self._changed:
            self._entries.clear()
