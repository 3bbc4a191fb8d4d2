"""The Tether language server: registers LSP features; each handler fetches the document,
calls one domain function (via Session, on a worker thread) and converts the result.

Threads: the protocol loop; ONE model thread (CompletionScheduler); one index thread
(IndexingController); one edit thread and two analysis threads (DocumentSync)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, lsp_method

from tether.lsp_server import convert
from tether.lsp_server.documents import DocumentSync
from tether.lsp_server.indexing import IndexingController
from tether.lsp_server.logs import ClientLogHandler, LogFile, install_client_handler
from tether.lsp_server.scheduler import CompletionScheduler
from tether.lsp_server.session import Session
from tether.lsp_server.settings import SettingsStore, TetherSettings, pyproject_defaults
from tether.lsp_server.snapshots import DocumentSnapshot, uri_path

log = logging.getLogger(__name__)
VERSION = "0.1.0"
MODEL_WAIT_IN_MENU_S = 2.0  # a completion menu does not wait longer for the model's item
_MESSAGE_TYPES = {logging.ERROR: types.MessageType.Error,
                  logging.WARNING: types.MessageType.Warning,
                  logging.INFO: types.MessageType.Info}


class TetherProtocol(LanguageServerProtocol):
    """Positions are always UTF-16 (every client supports it); a request whose params do not
    parse gets an InvalidParams error instead of silence."""

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Any:
        if params.capabilities.general is not None:
            params.capabilities.general.position_encodings = None
        return (yield from super().lsp_initialize(params))

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if isinstance(data, dict) and "id" in data and "method" in data:
                self._send_response(data["id"], error=error.to_response_error())
            raise


class TetherServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("tether", VERSION, protocol_cls=TetherProtocol,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.settings = SettingsStore()
        self.log_file = LogFile()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread: int | None = None
        self.scheduler = CompletionScheduler()
        self.analysis = ThreadPoolExecutor(max_workers=2, thread_name_prefix="tether-analysis")
        self.session: Session | None = None
        self.documents: DocumentSync | None = None
        self.indexer: IndexingController | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    # -- thread-safe messages to the client (the session's Notifier) ------------------------

    def on_loop(self, function: Any, *args: Any) -> None:
        if self.loop is None or self.loop.is_closed():
            return
        if threading.get_ident() == self.loop_thread:
            function(*args)
        else:
            self.loop.call_soon_threadsafe(function, *args)

    def show_error(self, message: str) -> None:
        self.on_loop(self.window_show_message,
                     types.ShowMessageParams(types.MessageType.Error, message))

    def show_warning(self, message: str) -> None:
        self.on_loop(self.window_show_message,
                     types.ShowMessageParams(types.MessageType.Warning, message))

    def log(self, message: str, level: int = logging.INFO) -> None:
        kind = _MESSAGE_TYPES.get(level, types.MessageType.Log)
        self.on_loop(self.window_log_message, types.LogMessageParams(kind, message))

    def report_server_error(self, error: Exception, source: Any) -> None:
        """Errors outside a request (a malformed message, a failing notification) are
        logged, not shown; a body that is not JSON gets a JSON-RPC parse error."""
        log.error("%s: %s", getattr(source, "__name__", source), error)
        if isinstance(error, json.JSONDecodeError):
            self.protocol._send_data({"jsonrpc": "2.0", "id": None, "error": {
                "code": -32700, "message": f"Parse error: {error}"}})

    # -- setup ------------------------------------------------------------------------------

    def start(self, params: types.InitializeParams) -> None:
        self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()
        install_client_handler(ClientLogHandler(lambda level, text: self.log(text, level)))
        roots = [Path(p) for f in params.workspace_folders or [] if (p := uri_path(f.uri))]
        if not roots and params.root_uri and (root := uri_path(params.root_uri)):
            roots = [root]
        if not roots and params.root_path:
            roots = [Path(params.root_path)]
        self.settings.project = pyproject_defaults(roots[0]) if roots else {}
        self.settings.init_options = params.initialization_options or {}
        update = self.settings.resolve()
        self.session = Session(update.settings, self)
        for root in roots:
            self.session.add_root(root)
        self.documents = DocumentSync(self, self.session, self.analysis)
        self.indexer = IndexingController(self, self.session, self.indexed)
        self.adopt(update.settings, update.problems)

    def adopt(self, settings: TetherSettings, problems: list[str]) -> None:
        for problem in problems:
            self.show_warning(problem)
        self.scheduler.debounce_s = settings.debounce_ms / 1000
        problem = self.log_file.use(settings.log_file)
        if problem:
            self.show_warning(problem)

    async def pull_configuration(self) -> None:
        workspace = self.client_capabilities.workspace
        if workspace is None or not workspace.configuration:
            return
        try:
            answer = await asyncio.wait_for(self.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section="tether")])),
                10)
        except Exception as error:  # a client may not answer: keep what we have
            log.info("workspace/configuration failed: %s", error)
            return
        await self.reconfigure(answer[0] if answer else None)

    async def reconfigure(self, client_settings: Any) -> None:
        assert self.session is not None and self.indexer is not None
        self.settings.client = client_settings if isinstance(client_settings, dict) else {}
        update = self.settings.resolve()
        self.adopt(update.settings, update.problems)
        if update.settings == self.session.settings:
            return
        reload, reindex = await self.scheduler.run(
            partial(self.session.apply_settings, update.settings))
        if reload:  # report a bad model now, not at the next completion
            self.background(self.scheduler.run(self.session.load_model))
        if reindex:
            self.indexer.schedule(self.session.roots)

    def indexed(self) -> None:
        """After an indexing phase: the open buffers into the new index, fresh
        diagnostics, and prepare to complete."""
        assert self.documents is not None and self.session is not None
        self.documents.refresh_all()
        for path in list(self.session.buffers):
            self.warm_up(path)

    def warm_up(self, path: Path) -> None:
        if self.session is not None and path.suffix in (".py", ".pyi"):
            self.background(self._warm_up(path))

    async def _warm_up(self, path: Path) -> None:
        assert self.session is not None and self.documents is not None
        await self.documents.flush()  # the buffer it warms up on is in the index
        await self.scheduler.run(partial(self.session.warm_up, path))

    def background(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def document(self, uri: str) -> DocumentSnapshot | None:
        return self.documents.get(uri) if self.documents is not None else None

    async def generate(self, doc: DocumentSnapshot, position: types.Position,
                       timeout_s: float | None = None) -> str | None:
        """The model's completion; None when superseded or (with `timeout_s`) too slow, in
        which case the generation is cancelled."""
        assert self.session is not None and self.documents is not None
        await self.documents.apply(doc)  # the completion reads the index with this version
        work = partial(self.session.complete, doc.path, doc.text, position.line,
                       position.character)
        try:
            text = await asyncio.wait_for(self.scheduler.submit(doc.uri, work), timeout_s)
        except TimeoutError:
            return None
        return convert.in_line_endings_of(doc.text, text)

    def close(self) -> None:
        """Stop background work and release the model (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self.session is not None:
            self.session.stop.set()
        for part in (self.indexer, self.documents):
            if part is not None:
                part.close()
        self.scheduler.close(self.session.close if self.session is not None else None)
        self.analysis.shutdown(wait=False, cancel_futures=True)
        self.log_file.close()


SERVER = TetherServer()
_INLINE = types.InlineCompletionOptions()
_COMPLETION = types.CompletionOptions(trigger_characters=["."], resolve_provider=True)
_ACTIONS = types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix])


def _ready(ls: TetherServer) -> tuple[Session, DocumentSync]:
    assert ls.session is not None and ls.documents is not None, "not initialized"
    return ls.session, ls.documents


# -- lifecycle ------------------------------------------------------------------------------


@SERVER.feature(types.INITIALIZE)
def initialize(ls: TetherServer, params: types.InitializeParams) -> None:
    ls.start(params)


@SERVER.feature(types.INITIALIZED)
async def initialized(ls: TetherServer, params: types.InitializedParams) -> None:
    session, documents = _ready(ls)
    await ls.pull_configuration()
    await documents.register_watchers()
    assert ls.indexer is not None
    ls.indexer.schedule(session.roots)
    await ls.scheduler.run(session.load_model)


@SERVER.feature(types.SHUTDOWN)
def shutdown(ls: TetherServer, params: None) -> None:
    ls.close()


@SERVER.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(ls: TetherServer,
                                   params: types.DidChangeConfigurationParams) -> None:
    pushed = params.settings.get("tether") if isinstance(params.settings, dict) else None
    if pushed is not None:
        await ls.reconfigure(pushed)
    else:
        await ls.pull_configuration()


@SERVER.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
def did_change_workspace_folders(ls: TetherServer,
                                 params: types.DidChangeWorkspaceFoldersParams) -> None:
    session, _ = _ready(ls)
    for folder in params.event.removed:
        if (path := uri_path(folder.uri)) is not None:
            session.remove_root(path)
    added = [p.resolve() for f in params.event.added if (p := uri_path(f.uri))]
    assert ls.indexer is not None
    ls.indexer.schedule([root for root in added if session.add_root(root)])


# -- documents ------------------------------------------------------------------------------


@SERVER.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: TetherServer, params: types.DidOpenTextDocumentParams) -> None:
    _ready(ls)[1].changed(params.text_document.uri, immediately=True)
    if (path := uri_path(params.text_document.uri)) is not None:
        ls.warm_up(path)


@SERVER.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: TetherServer, params: types.DidChangeTextDocumentParams) -> None:
    _ready(ls)[1].changed(params.text_document.uri)


@SERVER.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: TetherServer, params: types.DidSaveTextDocumentParams) -> None:
    _ready(ls)[1].changed(params.text_document.uri, immediately=True)


@SERVER.feature(types.TEXT_DOCUMENT_DID_CLOSE)
async def did_close(ls: TetherServer, params: types.DidCloseTextDocumentParams) -> None:
    await _ready(ls)[1].closed(params.text_document.uri)


@SERVER.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
async def did_change_watched_files(ls: TetherServer,
                                   params: types.DidChangeWatchedFilesParams) -> None:
    await _ready(ls)[1].files_changed(params.changes)


# -- completions ----------------------------------------------------------------------------


@SERVER.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, _INLINE)
async def inline_completion(ls: TetherServer, params: types.InlineCompletionParams
                            ) -> types.InlineCompletionList:
    doc = ls.document(params.text_document.uri)
    if doc is None or not doc.python:
        return types.InlineCompletionList(items=[])
    position = convert.clamp_position(doc.text, params.position)
    return convert.inline_list(await ls.generate(doc, position), position)


@SERVER.feature(types.TEXT_DOCUMENT_COMPLETION, _COMPLETION)
async def completion(ls: TetherServer, params: types.CompletionParams) -> types.CompletionList:
    session, documents = _ready(ls)
    doc = ls.document(params.text_document.uri)
    if doc is None or not doc.python:
        return types.CompletionList(is_incomplete=False, items=[])
    position = convert.clamp_position(doc.text, params.position)
    await documents.flush()
    members, text = await asyncio.gather(
        documents.run(session.members, doc.path, doc.text, position.line, position.character),
        ls.generate(doc, position, MODEL_WAIT_IN_MENU_S))
    return convert.completion_list(text, members, doc, position, ls.client_capabilities)


@SERVER.feature(types.COMPLETION_ITEM_RESOLVE)
async def completion_item_resolve(ls: TetherServer,
                                  item: types.CompletionItem) -> types.CompletionItem:
    session, documents = _ready(ls)
    data = item.data if isinstance(item.data, dict) else {}
    path = uri_path(str(data.get("uri", "")))
    if path is None or not data.get("qualname"):
        return item
    symbol = await documents.run(session.describe, path, str(data["qualname"]))
    return convert.resolved_item(item, symbol, ls.client_capabilities)


# -- docs, deprecations, fixes --------------------------------------------------------------


@SERVER.feature(types.TEXT_DOCUMENT_HOVER)
async def hover(ls: TetherServer, params: types.HoverParams) -> types.Hover | None:
    session, documents = _ready(ls)
    doc = ls.document(params.text_document.uri)
    if doc is None or not doc.python:
        return None
    position = convert.clamp_position(doc.text, params.position)
    await documents.flush()
    symbol = await documents.run(session.hover, doc.path, doc.text, position.line,
                                 position.character)
    return convert.hover(symbol, ls.client_capabilities)


@SERVER.feature(types.TEXT_DOCUMENT_CODE_ACTION, _ACTIONS)
async def code_action(ls: TetherServer,
                      params: types.CodeActionParams) -> list[types.CodeAction]:
    session, documents = _ready(ls)
    doc = ls.document(params.text_document.uri)
    only = params.context.only
    if doc is None or not doc.python or (only and types.CodeActionKind.QuickFix not in only):
        return []
    fixes = await documents.run(session.fixes, doc.path, doc.text,
                                convert.to_span(params.range))
    return convert.quick_fixes(doc.uri, fixes, params.context.diagnostics)


# -- commands -------------------------------------------------------------------------------


@SERVER.command("tether.status")
async def status(ls: TetherServer, *args: Any) -> dict[str, object]:
    session, documents = _ready(ls)
    return await documents.run(session.status)


@SERVER.command("tether.reindex")
def reindex(ls: TetherServer, *args: Any) -> dict[str, object]:
    session, _ = _ready(ls)
    assert ls.indexer is not None
    ls.indexer.schedule(session.roots)
    return {"started": True, "folders": [str(root) for root in session.roots]}
