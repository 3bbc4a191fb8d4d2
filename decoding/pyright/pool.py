"""One pyright language server per workspace root, with the probes that ask it about
members and signatures. Started on first use; a pyright that cannot start is remembered as
absent for that root (the index alone answers there) until the pool is closed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tether.decoding.pyright.client import PyrightClient
from tether.decoding.pyright.member_probe import MemberProbe, probe_path
from tether.decoding.pyright.signature_probe import SignatureProbe

log = logging.getLogger(__name__)
InterpreterFor = Callable[[Path], "str | None"]  # the workspace root's Python, for pyright


@dataclass(frozen=True, slots=True)
class PyrightForRoot:
    client: PyrightClient
    members: MemberProbe
    signatures: SignatureProbe


class PyrightPool:
    def __init__(self, interpreter_for: InterpreterFor, enabled: bool = True) -> None:
        self.interpreter_for = interpreter_for
        self.enabled = enabled
        self._lock = threading.Lock()
        self._running: dict[Path, PyrightForRoot] = {}
        self._failed: set[Path] = set()

    def get(self, root: Path) -> PyrightForRoot | None:
        """The root's pyright, started now if it is not running; None when pyright is off
        or cannot start."""
        if not self.enabled:
            return None
        with self._lock:
            running = self._running.get(root)
            if running is not None or root in self._failed:
                return running
            client = PyrightClient(root, python_path=self.interpreter_for(root))
            try:
                client.start()
            except Exception:  # pyright missing or broken: the index alone answers
                log.exception("pyright could not start for %s", root)
                self._failed.add(root)
                return None
            running = self._running[root] = PyrightForRoot(
                client, MemberProbe(client), SignatureProbe(client))
            return running

    def running(self, root: Path) -> PyrightForRoot | None:
        """The root's pyright if it is already running (never starts one)."""
        with self._lock:
            return self._running.get(root)

    def close_document(self, root: Path, path: Path) -> None:
        """Pyright forgets its copy of the buffer (and of its member probe) and reads the
        disk again."""
        running = self.running(root)
        if running is not None:
            running.client.close_document(path)
            running.client.close_document(probe_path(path))

    def close(self) -> None:
        with self._lock:
            running, self._running = list(self._running.values()), {}
            self._failed.clear()
        for each in running:
            each.client.shutdown()
