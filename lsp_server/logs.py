"""Logging for the server: Tether's loggers go to window/logMessage, everything (pygls
included) optionally to a log file. Nothing is ever written to stdout."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

TETHER_LOGGERS = ("tether",)
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class ClientLogHandler(logging.Handler):
    """Forwards records to the client; `send(level, message)` must be thread-safe."""

    def __init__(self, send: Callable[[int, str], None], level: int = logging.INFO) -> None:
        super().__init__(level)
        self.send = send
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.send(record.levelno, self.format(record))
        except Exception:  # a log line must never break the server
            self.handleError(record)


def install_client_handler(handler: logging.Handler) -> None:
    for name in TETHER_LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        if logger.level == logging.NOTSET or logger.level > handler.level:
            logger.setLevel(handler.level)


class LogFile:
    """The one log file handler, replaced when the logFile setting changes."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.handler: logging.Handler | None = None

    def use(self, path: str | None, level: int = logging.INFO) -> str | None:
        """Switch to `path` (None: no file). Returns a problem, if any."""
        target = Path(path).expanduser() if path else None
        if target == self.path:
            return None
        self.close()
        if target is None:
            return None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(target, encoding="utf-8")
        except OSError as error:
            return f"Tether: cannot open log file {target}: {error}"
        handler.setLevel(level)
        handler.setFormatter(logging.Formatter(FORMAT))
        root = logging.getLogger()
        root.addHandler(handler)
        if root.level > level:
            root.setLevel(level)
        logging.getLogger("pygls").setLevel(max(level, logging.WARNING))
        self.path, self.handler = target, handler
        return None

    def close(self) -> None:
        if self.handler is not None:
            logging.getLogger().removeHandler(self.handler)
            self.handler.close()
        self.path, self.handler = None, None
