"""The pyright language server as a subprocess: lifecycle, documents, requests, diagnostics.

Requests return FAILED instead of raising when pyright is missing, slow, crashed or answers
with an error. A dead server is restarted lazily on the next call; after three restarts
within a minute the session gives up for good. Documents are synced whole (didOpen, then
didChange with the full text); the queries built on top are in decoding.pyright.client.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from lsprotocol import types

from tether.decoding.pyright.diagnostics import PublishedDiagnostics
from tether.decoding.pyright.protocol import (
    default_settings,
    deprecated_name,
    initialize_params,
    server_request_answer,
)
from tether.decoding.pyright.rpc import RpcConnection, RpcError, langserver_command

__all__ = ["FAILED", "PyrightSession"]

log = logging.getLogger(__name__)

RESTART_LIMIT, RESTART_WINDOW_S = 3, 60.0
MAX_PENDING = 32  # requests left running for impatient callers
HUNG_AFTER_TIMEOUTS = 3  # consecutive timeouts after which the server is killed (restarts)
_TEXTS_KEPT = 8


@dataclass(slots=True)
class _Doc:
    uri: str
    version: int
    text: str
    texts: OrderedDict[int, str] = field(default_factory=OrderedDict)  # recent versions


class Failed:
    """Sentinel: a request that got no usable answer (distinct from a null result)."""


FAILED: Any = Failed()


class PyrightSession:
    """One pyright-langserver process and the documents it holds; thread-safe. Queries
    live in decoding.pyright.client.PyrightClient."""

    def __init__(self, workspace: Path, *, python_path: str | None = None,
                 timeout: float = 5.0, command: list[str] | None = None,
                 settings: dict[str, Any] | None = None) -> None:
        self.workspace = Path(workspace).resolve()
        self.python_path = python_path
        self.timeout = timeout
        self.command = command
        self.settings = settings if settings is not None else default_settings(python_path)
        self._lock = threading.RLock()  # lifecycle, documents, one request at a time
        self._conn: RpcConnection | None = None
        self._docs: dict[str, _Doc] = {}
        self._diagnostics = PublishedDiagnostics()
        self._stats: Counter[str] = Counter()
        self._restart_times: deque[float] = deque()
        self._uris: dict[Path, str] = {}
        self._started_once = False
        self._timeouts_in_row = 0
        # requests given up on by an impatient caller, still running in pyright: asking the
        # same again waits for them instead of queueing another (pyright may not cancel)
        self._pending: dict[tuple[str, ...], tuple[RpcConnection, Any, Any]] = {}
        self._gave_up = False
        self._closed = False
        self.server_info: dict[str, Any] = {}

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Spawn and initialize pyright (no-op when running). Never raises: on failure the
        client stays stopped and methods return None."""
        with self._lock:
            self._closed = False
            self._ensure_running()

    def shutdown(self) -> None:
        """shutdown + exit, killing the process if it does not leave in time. Idempotent."""
        with self._lock:
            self._closed = True
            self._started_once = False  # a later start() is a fresh start, not a restart
            conn, self._conn = self._conn, None
            self._docs.clear()
            self._forget(lambda _key: True)
        if conn is None:
            return
        if conn.alive:
            _, future = conn.request(types.SHUTDOWN, None)
            with contextlib.suppress(Exception):
                future.result(timeout=min(self.timeout, 3.0))
            conn.notify(types.EXIT, None)
        conn.close(wait=2.0)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.shutdown()

    @property
    def running(self) -> bool:
        conn = self._conn
        return conn is not None and conn.alive

    @property
    def pid(self) -> int | None:
        conn = self._conn
        return conn.pid if conn is not None and conn.alive else None

    def stats(self) -> dict[str, int]:
        with self._lock:
            out = {key: 0 for key in ("requests", "cache_hits", "timeouts", "restarts",
                                      "errors")}
            out.update(self._stats)
            out["gave_up"] = int(self._gave_up)
            return out

    def _ensure_running(self) -> RpcConnection | None:
        """The live connection, (re)starting it if needed; None when unavailable."""
        conn = self._conn
        if conn is not None and conn.alive:
            return conn
        if self._closed or self._gave_up:
            return None
        if conn is not None:
            conn.kill()
            self._conn = None
        if self._started_once:
            now = time.monotonic()
            while self._restart_times and now - self._restart_times[0] > RESTART_WINDOW_S:
                self._restart_times.popleft()
            if len(self._restart_times) >= RESTART_LIMIT:
                log.error("pyright restarted %d times within %.0f s; giving up",
                          RESTART_LIMIT, RESTART_WINDOW_S)
                self._gave_up = True
                return None
            self._restart_times.append(now)
            self._stats["restarts"] += 1
        self._started_once = True
        self._conn = self._spawn()
        if self._conn is not None:
            self._reopen_documents(self._conn)
        return self._conn

    def _spawn(self) -> RpcConnection | None:
        argv = self.command or langserver_command()
        if argv is None:
            log.error("pyright language server not found: pip install 'pyright[nodejs]'")
            return None
        try:
            conn = RpcConnection(argv, cwd=self.workspace, on_notification=self._on_notification,
                                 on_request=self._on_request)
        except OSError as error:
            log.error("cannot start pyright (%s): %s", argv, error)
            return None
        _, future = conn.request(types.INITIALIZE, initialize_params(self.workspace, os.getpid()))
        try:
            result = future.result(timeout=max(self.timeout, 30.0))
        except Exception as error:
            log.error("pyright initialize failed: %r; stderr: %s", error,
                      " | ".join(conn.stderr_tail))
            conn.kill()
            return None
        self.server_info = (result or {}).get("serverInfo") or {}
        conn.notify(types.INITIALIZED, {})
        conn.notify(types.WORKSPACE_DID_CHANGE_CONFIGURATION, {"settings": self.settings})
        return conn

    def _reopen_documents(self, conn: RpcConnection) -> None:
        self._diagnostics.clear()
        for doc in self._docs.values():
            conn.notify(types.TEXT_DOCUMENT_DID_OPEN, {"textDocument": {
                "uri": doc.uri, "languageId": "python", "version": doc.version,
                "text": doc.text}})

    # -- server -> client ----------------------------------------------------------------
    def _on_request(self, method: str, params: Any) -> Any:
        answered, answer = server_request_answer(method, params, self.settings, self.workspace)
        if not answered:
            raise RpcError(f"unsupported method {method}")
        return answer

    def _on_notification(self, method: str, params: Any) -> None:
        if method == types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS and isinstance(params, dict):
            self._diagnostics.publish(params)
        elif (method == types.WINDOW_LOG_MESSAGE and isinstance(params, dict)
              and params.get("type") == 1):
            log.warning("pyright: %s", params.get("message"))

    # -- documents -----------------------------------------------------------------------
    def update_document(self, path: Path, text: str, *, invalidates: bool = True) -> int:
        """didOpen the first time, then a full-text didChange when the text changed.
        Returns the document version (0 when pyright is unavailable). `invalidates=False`:
        no other document can import this one (a probe), keep their cached answers."""
        with self._lock:
            conn = self._ensure_running()
            if conn is None:
                return 0
            return self._update(conn, path, text, invalidates)

    def _update(self, conn: RpcConnection, path: Path, text: str,
                invalidates: bool = True) -> int:
        uri = self._uri(path)
        doc = self._docs.get(uri)
        if doc is not None and doc.text == text:
            return doc.version
        if doc is None:
            doc = self._docs[uri] = _Doc(uri, 1, text)
            conn.notify(types.TEXT_DOCUMENT_DID_OPEN, {"textDocument": {
                "uri": uri, "languageId": "python", "version": 1, "text": text}})
        else:
            self._drop_pending(conn, uri)
            doc.version += 1
            doc.text = text
            conn.notify(types.TEXT_DOCUMENT_DID_CHANGE, {
                "textDocument": {"uri": uri, "version": doc.version},
                "contentChanges": [{"text": text}]})
            if invalidates:  # results for other documents may depend on this one
                self._forget(lambda key: key[0] != uri)
        doc.texts[doc.version] = text
        while len(doc.texts) > _TEXTS_KEPT:
            doc.texts.popitem(last=False)
        return doc.version

    def _drop_pending(self, conn: RpcConnection, uri: str) -> None:
        """Cancel the requests still running on an older text of `uri`."""
        for key in [key for key in self._pending if key[1] == uri]:
            owner, request_id, _ = self._pending.pop(key)
            if owner is conn:
                owner.cancel(request_id)

    def close_document(self, path: Path) -> None:
        with self._lock:
            uri = self._uri(path)
            doc = self._docs.pop(uri, None)
            self._forget(lambda key: key[0] == uri)
            conn = self._conn
            if conn is not None:
                self._drop_pending(conn, uri)
            if doc is not None and conn is not None and conn.alive:
                conn.notify(types.TEXT_DOCUMENT_DID_CLOSE, {"textDocument": {"uri": uri}})
        self._diagnostics.forget(uri)

    def notify_files_changed(self, paths: list[Path]) -> None:
        """Tell pyright that files on disk changed (it does not watch the disk itself here)."""
        with self._lock:
            conn = self._conn
            if conn is not None and conn.alive and paths:
                conn.notify(types.WORKSPACE_DID_CHANGE_WATCHED_FILES, {
                    "changes": [{"uri": self._uri(p), "type": 2} for p in paths]})
                self._forget(lambda _key: True)

    def _forget(self, doomed: Callable[[tuple[Any, ...]], bool]) -> None:
        """Drop cached answers whose key (uri first) `doomed` accepts; see PyrightClient."""

    def _uri(self, path: Path) -> str:
        uri = self._uris.get(path)
        if uri is None:
            full = Path(path)
            if not full.is_absolute():
                full = self.workspace / full
            uri = full.resolve().as_uri()
            if len(self._uris) > 4096:
                self._uris.clear()
            self._uris[path] = uri
        return uri

    # -- requests ------------------------------------------------------------------------
    def _request(self, path: Path, text: str, method: str, params: dict[str, Any],
                 timeout: float | None) -> Any:
        """Sync the document and send one request; FAILED on timeout/crash/error. A request
        with less than the usual timeout that runs out is left running in pyright, and the
        same request on the same document version collects it."""
        conn = self._ensure_running()
        if conn is None:
            return FAILED
        version = self._update(conn, path, text)
        key = (method, self._uri(path), str(version), json.dumps(params, sort_keys=True))
        pending = self._pending.pop(key, None)
        if pending is not None and pending[0] is conn:
            _, request_id, future = pending
        else:
            self._stats["requests"] += 1
            request_id, future = conn.request(method, params)
        patient = timeout is None or timeout >= self.timeout
        try:
            result = future.result(timeout=self.timeout if timeout is None else timeout)
            self._timeouts_in_row = 0
            return result
        except TimeoutError:
            self._stats["timeouts"] += 1
            log.debug("pyright %s timed out", method)
            if not patient:  # no sign that pyright hangs
                self._pending[key] = (conn, request_id, future)
                while len(self._pending) > MAX_PENDING:
                    owner, oldest, _ = self._pending.pop(next(iter(self._pending)))
                    owner.cancel(oldest)
                return FAILED
            conn.cancel(request_id)
            self._timeouts_in_row += 1
            if self._timeouts_in_row >= HUNG_AFTER_TIMEOUTS:
                log.warning("pyright timed out %d times in a row; restarting it",
                            self._timeouts_in_row)
                self._timeouts_in_row = 0
                conn.kill()
        except RpcError as error:
            self._stats["errors"] += 1
            log.debug("pyright %s failed: %s", method, error)
        return FAILED

    # -- diagnostics ---------------------------------------------------------------------
    def diagnostics(self, path: Path) -> list[dict[str, Any]]:
        """The latest publishDiagnostics list for the document (may lag behind edits)."""
        entry = self._diagnostics.latest(self._uri(path))
        return entry[1] if entry else []

    def wait_for_diagnostics(self, path: Path, timeout: float | None = None, *,
                             accept: Callable[[list[dict[str, Any]]], bool] | None = None
                             ) -> list[dict[str, Any]] | None:
        """Block until diagnostics for the document's current version arrive (None on
        timeout or when the document is not open); with `accept`, until a publication of
        that version that it accepts arrives."""
        uri = self._uri(path)
        with self._lock:
            doc = self._docs.get(uri)
            version = doc.version if doc else None
        if version is None:
            return None
        return self._diagnostics.wait_for(uri, version,
                                          self.timeout if timeout is None else timeout, accept)

    def deprecated_names(self, path: Path) -> set[str]:
        """Names that diagnostics tag as deprecated (tag 2), read from the document text the
        diagnostics were computed for."""
        uri = self._uri(path)
        entry = self._diagnostics.latest(uri)
        if not entry:
            return set()
        version, diagnostics = entry
        with self._lock:
            doc = self._docs.get(uri)
            text = None
            if doc is not None:
                text = doc.texts.get(version, doc.text) if version is not None else doc.text
        return {name for diagnostic in diagnostics
                if (name := deprecated_name(diagnostic, text)) is not None}
