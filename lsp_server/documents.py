"""Open documents: their snapshots into the index and deprecation diagnostics published
after each refresh (debounced, off the protocol loop); file watchers for changes outside the
editor. The edit thread is the one writer of the session's buffers and of the index's copy
of them; the protocol loop hands it snapshots."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from lsprotocol import types

from tether.lsp_server import convert
from tether.lsp_server.session import Session
from tether.lsp_server.snapshots import DocumentSnapshot, is_python, uri_path

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

log = logging.getLogger(__name__)
T = TypeVar("T")
WATCHED = ("**/*.py", "**/*.pyi", "**/*.md", "**/*.rst")


class DocumentSync:
    def __init__(self, server: LanguageServer, session: Session,
                 analysis: ThreadPoolExecutor, delay_s: float = 0.3) -> None:
        self.server = server
        self.session = session
        self.analysis = analysis
        self.edits = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tether-edits")
        self.delay_s = delay_s
        self._pending: dict[str, asyncio.Task[None]] = {}

    def get(self, uri: str) -> DocumentSnapshot | None:
        """A snapshot of an open document (or of a file on disk), None for unknown URIs.
        Protocol loop only: it reads pygls's live document."""
        path = uri_path(uri)
        if path is None:
            return None
        try:
            doc = self.server.workspace.get_text_document(uri)
            text = doc.source
        except (OSError, UnicodeDecodeError):
            return None
        return DocumentSnapshot(uri, path, text, doc.version, is_python(doc.language_id, path))

    async def run(self, work: Callable[..., T], *args: object) -> T:
        """A blocking domain call on an analysis thread."""
        return await asyncio.get_running_loop().run_in_executor(self.analysis, work, *args)

    async def apply(self, doc: DocumentSnapshot) -> None:
        """The snapshot into the session and the index now, on the edit thread."""
        await asyncio.get_running_loop().run_in_executor(
            self.edits, self.session.sync_buffer, doc)

    async def flush(self) -> None:
        """Every open document into the index now, ahead of its debounced refresh
        (analysis must see an edit made a moment ago in another file)."""
        snapshots = [doc for uri in list(self.server.workspace.text_documents)
                     if (doc := self.get(uri)) is not None]
        await asyncio.get_running_loop().run_in_executor(
            self.edits, self.session.sync_buffers, snapshots)

    # -- lifecycle of a buffer -------------------------------------------------------------

    def changed(self, uri: str, immediately: bool = False) -> None:
        self.refresh(uri, 0.0 if immediately else self.delay_s)

    def refresh(self, uri: str, delay_s: float) -> None:
        previous = self._pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        task = asyncio.get_running_loop().create_task(self._refresh(uri, delay_s))
        self._pending[uri] = task
        task.add_done_callback(lambda done: self._forget(uri, done))

    def refresh_all(self) -> None:
        for uri in list(self.server.workspace.text_documents):
            self.refresh(uri, 0.0)

    def _forget(self, uri: str, task: asyncio.Task[None]) -> None:
        if self._pending.get(uri) is task:
            del self._pending[uri]

    async def _refresh(self, uri: str, delay_s: float) -> None:
        if delay_s:
            await asyncio.sleep(delay_s)
        doc = self.get(uri)
        if doc is None or uri not in self.server.workspace.text_documents:
            return
        try:
            await self.apply(doc)
            uses = await self.run(self.session.deprecated_uses, doc.path, doc.text) if (
                doc.python) else []
        except Exception:
            log.exception("refreshing %s failed", uri)
            return
        self.server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=doc.version, diagnostics=[convert.diagnostic(u) for u in uses]))

    async def closed(self, uri: str) -> None:
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        path = uri_path(uri)
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        if path is not None:
            await asyncio.get_running_loop().run_in_executor(
                self.edits, self.session.close_buffer, path)

    # -- files changed outside the editor ----------------------------------------------------

    async def register_watchers(self) -> None:
        workspace = self.server.client_capabilities.workspace
        watched = workspace.did_change_watched_files if workspace is not None else None
        if watched is None or not watched.dynamic_registration:
            return
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=glob) for glob in WATCHED])
        try:
            await asyncio.wait_for(self.server.client_register_capability_async(
                types.RegistrationParams(registrations=[types.Registration(
                    id="tether-watched-files",
                    method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                    register_options=options)])), 10)
        except Exception as error:  # the client may refuse; edits still reach us
            log.info("file watchers not registered: %s", error)

    async def files_changed(self, changes: list[types.FileEvent]) -> None:
        loop = asyncio.get_running_loop()
        changed = False
        for event in changes:
            path = uri_path(event.uri)
            if path is None:
                continue
            deleted = event.type == types.FileChangeType.Deleted
            changed |= await loop.run_in_executor(self.edits, self.session.file_changed, path,
                                                  deleted)
        if changed:
            self.refresh_all()

    def close(self) -> None:
        for task in list(self._pending.values()):
            task.cancel()
        self.edits.shutdown(wait=False, cancel_futures=True)
