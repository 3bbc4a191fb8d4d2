"""The server under bad conditions: a corrupt model, malformed messages, raw protocol errors,
TCP transport. Everything but the model keeps working, and nothing but the protocol is
written to stdout."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import LanguageClient
from support.lsp import (
    CART_MEMBERS,
    SERVER_COMMAND,
    completion_params,
    copy_workspace,
    ended,
    inline_params,
    open_document,
    progress_titles,
    server_env,
    start_client,
    wait_for,
)

TEXT = "from shop.models import Cart\n\n\ndef f(cart: Cart) -> None:\n    cart.\n"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def broken(tmp_path_factory: pytest.TempPathFactory
                 ) -> AsyncIterator[tuple[LanguageClient, Path]]:
    base = tmp_path_factory.mktemp("broken")
    root = copy_workspace(base)
    corrupt = base / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + b"\x00" * 64)
    log_file = base / "server.log"
    client, _, _ = await start_client(
        root, base / "cache", configuration={"debounceMs": 0},
        init_options={"tether": {"modelPath": str(corrupt), "logFile": str(log_file)}})
    yield client, root
    await client.shutdown_session()
    await client.stop()


def model_errors(client: LanguageClient) -> list[str]:
    return [m.message for m in client.messages
            if m.type == types.MessageType.Error and "model" in m.message]


@pytest.mark.asyncio(loop_scope="module")
async def test_corrupt_model_reports_one_error_and_keeps_serving(
        broken: tuple[LanguageClient, Path]) -> None:
    client, root = broken
    await wait_for(lambda: any(t.startswith("Tether: indexing") and ended(r)
                               for t, r in progress_titles(client).items()),
                   what="indexing", timeout=120)
    uri = open_document(client, root / "scripts" / "f.py", TEXT)
    await wait_for(lambda: model_errors(client), what="the model error")
    at = types.Position(4, 9)
    for _ in range(2):
        inline = await client.text_document_inline_completion_async(inline_params(uri, at))
        assert not inline.items
    listed = await client.text_document_completion_async(completion_params(uri, at))
    labels = {item.label for item in listed.items}
    assert "add_item" in labels and labels <= CART_MEMBERS
    hover = await client.text_document_hover_async(types.HoverParams(
        types.TextDocumentIdentifier(uri), types.Position(0, 25)))
    assert hover is not None and "class shop.models.Cart" in hover.contents.value  # type: ignore[union-attr]
    assert len(model_errors(client)) == 1, client.messages
    status = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="tether.status"))
    assert any("model" in error for error in status["errors"])


@pytest.mark.asyncio(loop_scope="module")
async def test_embeddings_are_a_background_phase(broken: tuple[LanguageClient, Path]) -> None:
    client, _ = broken
    reports = await wait_for(
        lambda: next((r for t, r in progress_titles(client).items()
                      if t.startswith("Tether: embeddings") and ended(r)), None),
        timeout=90, what="the embeddings phase")
    assert "chunks embedded" in (reports[-1].message or "")
    status = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="tether.status"))
    assert status["index"]["chunks"] > 0 and not status["index"]["indexing"]


@pytest.mark.asyncio(loop_scope="module")
async def test_log_file_option(broken: tuple[LanguageClient, Path]) -> None:
    _, root = broken
    log_file = root.parent / "server.log"
    await wait_for(lambda: log_file.exists() and "indexed" in log_file.read_text(),
                   what="the log file")


# -- the raw protocol -----------------------------------------------------------------------


def frame(message: dict[str, Any] | bytes) -> bytes:
    body = message if isinstance(message, bytes) else json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_message(stream: IO[bytes]) -> dict[str, Any]:
    """One framed message; fails on anything else on stdout."""
    length = None
    while True:
        line = stream.readline()
        assert line, "server closed stdout"
        if line == b"\r\n":
            break
        name, _, value = line.decode("ascii").partition(":")
        assert name in ("Content-Length", "Content-Type"), f"not a header: {line!r}"
        if name == "Content-Length":
            length = int(value)
    assert length is not None
    return json.loads(stream.read(length))


def response(stream: IO[bytes], ident: object) -> dict[str, Any]:
    while True:
        message = read_message(stream)
        if message.get("id") == ident and "method" not in message:
            return message


@pytest.fixture
def raw_server(tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(SERVER_COMMAND, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, env=server_env(tmp_path / "cache"))
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def test_malformed_messages_get_json_rpc_errors(raw_server: subprocess.Popen[bytes],
                                                tmp_path: Path) -> None:
    stdin, stdout = raw_server.stdin, raw_server.stdout
    assert stdin is not None and stdout is not None

    def send(message: dict[str, Any] | bytes) -> None:
        stdin.write(frame(message))
        stdin.flush()

    send(b'{"jsonrpc": "2.0", "id": 1, "method": "initialize", "par')
    assert read_message(stdout)["error"]["code"] == -32700
    root = copy_workspace(tmp_path)
    send({"jsonrpc": "2.0", "id": 2, "method": "initialize", "params": {
        "processId": None, "rootUri": root.as_uri(), "capabilities": {}}})
    assert "capabilities" in response(stdout, 2)["result"]
    send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
    send({"jsonrpc": "2.0", "id": 3, "method": "textDocument/hover", "params": {
        "textDocument": {"uri": (root / "x.py").as_uri()},
        "position": {"line": -1, "character": "x"}}})
    assert response(stdout, 3)["error"]["code"] == -32602
    send({"jsonrpc": "2.0", "id": 4, "method": "tether/noSuchMethod", "params": {}})
    assert response(stdout, 4)["error"]["code"] == -32601
    send({"jsonrpc": "2.0", "id": 5, "method": "shutdown"})
    assert response(stdout, 5)["result"] is None
    send({"jsonrpc": "2.0", "method": "exit"})
    assert raw_server.wait(timeout=10) == 0


def test_tcp_transport(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([*SERVER_COMMAND, "--tcp", f"127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=server_env(tmp_path / "cache"))
    try:
        connection = None
        for _ in range(200):
            try:
                connection = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                asyncio.run(asyncio.sleep(0.05))
        assert connection is not None, "the server never listened"
        with connection, connection.makefile("rwb") as stream:
            stream.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "processId": None, "rootUri": None, "capabilities": {}}}))
            stream.flush()
            assert "capabilities" in response(stream, 1)["result"]  # type: ignore[arg-type]
    finally:
        process.kill()
        process.wait()
