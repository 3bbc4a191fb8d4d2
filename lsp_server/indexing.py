"""Background indexing with $/progress: a symbols phase per folder (percentages from
WorkspaceIndex.index_all), then a second phase (dependency deprecations, embeddings). Runs on
one index thread; progress callbacks hop back to the protocol loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from tether.index.workspace import IndexProgress
from tether.lsp_server.session import Session

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer

log = logging.getLogger(__name__)
INDEX_NICENESS = 10


def _background_priority() -> None:
    """Indexing yields the CPU to the model thread (Linux sets niceness per thread; threads
    this one starts, such as torch's, inherit it)."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not permitted
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), INDEX_NICENESS)


class ProgressReporter:
    """One work-done progress (create, begin, report, end); silent if the client has no
    window.workDoneProgress. `__call__` may be called from any thread."""

    def __init__(self, server: LanguageServer, loop: asyncio.AbstractEventLoop,
                 title: str) -> None:
        self.server = server
        self.loop = loop
        self.title = title
        self.token: str | None = None
        self._last: tuple[str, int] | None = None

    async def begin(self) -> None:
        window = self.server.client_capabilities.window
        if window is None or not window.work_done_progress:
            return
        token = f"tether-{uuid.uuid4().hex[:12]}"
        try:
            await asyncio.wait_for(self.server.work_done_progress.create_async(token), 10)
        except Exception as error:  # the client refused or never answered
            log.info("no progress token: %s", error)
            return
        self.token = token
        self.server.work_done_progress.begin(token, types.WorkDoneProgressBegin(
            title=self.title, percentage=0, cancellable=False))

    def __call__(self, progress: IndexProgress) -> None:
        self.loop.call_soon_threadsafe(self._report, progress)

    def _report(self, progress: IndexProgress) -> None:
        key = (progress.phase, progress.percent)
        if self.token is None or key == self._last or progress.phase == "done":
            return
        self._last = key
        message = progress.phase
        if progress.total:
            message += f" {progress.done}/{progress.total}"
        self.server.work_done_progress.report(self.token, types.WorkDoneProgressReport(
            message=message, percentage=progress.percent))

    def end(self, message: str) -> None:
        if self.token is not None:
            self.server.work_done_progress.end(self.token,
                                               types.WorkDoneProgressEnd(message=message))
            self.token = None


class IndexingController:
    def __init__(self, server: LanguageServer, session: Session,
                 on_indexed: Callable[[], None]) -> None:
        self.server = server
        self.session = session
        self.on_indexed = on_indexed
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tether-index",
                                           initializer=_background_priority)
        self._tasks: set[asyncio.Task[None]] = set()

    def schedule(self, roots: list[Path]) -> None:
        """Index `roots` in the background (after whatever is already queued)."""
        if not roots:
            return
        self.session.indexing.update(roots)
        task = asyncio.get_running_loop().create_task(self._run(list(roots)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, roots: list[Path]) -> None:
        loop = asyncio.get_running_loop()
        for root in roots:
            report = ProgressReporter(self.server, loop, f"Tether: indexing {root.name}")
            await report.begin()
            try:
                counts = await loop.run_in_executor(self.executor, self.session.index_folder,
                                                    root, report)
                summary = (f"{counts.get('files', 0)} files, {counts.get('symbols', 0)} "
                           "symbols")
                report.end(summary)
                log.info("indexed %s: %s", root, summary)
            except Exception as error:
                report.end(f"failed: {error}")
                log.exception("indexing %s failed", root)
            self.on_indexed()
        for root in roots:
            if self.session.stop.is_set():
                return
            report = ProgressReporter(self.server, loop, f"Tether: embeddings {root.name}")
            await report.begin()
            try:
                done = await loop.run_in_executor(self.executor, self.session.embed_folder,
                                                  root, report)
                report.end(f"{done} chunks embedded")
            except Exception as error:
                report.end(f"failed: {error}")
                log.exception("second indexing phase for %s failed", root)
            self.on_indexed()

    def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self.executor.shutdown(wait=False, cancel_futures=True)
