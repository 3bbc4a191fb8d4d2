"""Completion requests against one model: debounced, superseded per document, cancellable.

Every generation runs on ONE worker thread (the runtime is single-threaded), so the protocol
loop never waits on the model. A request first waits a short debounce; a newer request for
the same document sets the older one's cancel event (it returns None, which handlers answer
with an empty result); `$/cancelRequest` cancels the handler's task, which sets the event, so
the generation stops within one decoding step.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


@dataclass(slots=True)
class _Ticket:
    number: int
    cancel: threading.Event = field(default_factory=threading.Event)


class CompletionScheduler:
    def __init__(self, debounce_s: float = 0.075) -> None:
        self.debounce_s = debounce_s
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tether-model")
        self._latest: dict[str, _Ticket] = {}
        self._numbers = itertools.count(1)
        self.superseded = 0

    async def submit(self, key: str, work: Callable[[threading.Event], T]) -> T | None:
        """Run `work(cancel)` on the model thread after the debounce, unless a newer request
        for `key` arrives first. None when superseded; CancelledError when cancelled."""
        ticket = _Ticket(next(self._numbers))
        older = self._latest.get(key)
        if older is not None:
            older.cancel.set()
        self._latest[key] = ticket
        try:
            if self.debounce_s > 0:
                await asyncio.sleep(self.debounce_s)
            if ticket.cancel.is_set():
                self.superseded += 1
                return None
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(self.executor, _guarded, work, ticket.cancel)
            if ticket.cancel.is_set():
                self.superseded += 1
                return None
            return result
        except asyncio.CancelledError:
            ticket.cancel.set()
            raise
        finally:
            if self._latest.get(key) is ticket:
                del self._latest[key]

    async def run(self, work: Callable[[], T]) -> T:
        """Other model work (loading, reloading) in order with the generations."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, work)

    def cancel_all(self) -> None:
        for ticket in list(self._latest.values()):
            ticket.cancel.set()

    def close(self, final: Callable[[], object] | None = None, timeout_s: float = 3.0) -> None:
        """Cancel everything; run `final` (releasing the model) on the model thread, after
        the generation in progress stops, waiting at most `timeout_s`."""
        self.cancel_all()
        if final is not None:
            # closing must not fail: the process is about to exit
            with contextlib.suppress(Exception):
                self.executor.submit(final).result(timeout=timeout_s)
        self.executor.shutdown(wait=False, cancel_futures=True)


def _guarded(work: Callable[[threading.Event], T], cancel: threading.Event) -> T | None:
    """Skip work whose request was cancelled while it waited for the thread."""
    if cancel.is_set():
        return None
    return work(cancel)
