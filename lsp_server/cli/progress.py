"""A small stderr progress bar (redrawn in place on a terminal, throttled lines otherwise)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tether.index.workspace import IndexProgress


class ProgressBar:
    def __init__(self, stream: TextIO = sys.stderr, interval: float = 0.5) -> None:
        self.stream = stream
        self.interactive = stream.isatty()
        self.interval = interval
        self._last_line = 0.0
        self._last_phase = ""

    def __call__(self, progress: IndexProgress) -> None:
        now = time.monotonic()
        phase_changed = progress.phase != self._last_phase
        if not self.interactive and not phase_changed and now - self._last_line < self.interval:
            return
        self._last_phase = progress.phase
        self._last_line = now
        width = 30
        filled = int(width * progress.percent / 100)
        bar = "#" * filled + "-" * (width - filled)
        counter = f"{progress.done}/{progress.total}" if progress.total else ""
        line = f"{progress.phase:<10} [{bar}] {progress.percent:3d}% {counter} {progress.message}"
        line = line[:120]
        if self.interactive:
            self.stream.write("\r\x1b[2K" + line)
            if progress.phase == "done":
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
