"""PyrightClient without pyright: a fake server that never answers completions, and a server
that cannot start."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from tether.decoding.pyright.client import PyrightClient

FAKE_SERVER = textwrap.dedent('''\
    import json, sys
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    def send(payload):
        body = json.dumps(payload).encode()
        stdout.write(b"Content-Length: %d\\r\\n\\r\\n" % len(body) + body)
        stdout.flush()
    while True:
        length = None
        while True:
            line = stdin.readline()
            if not line:
                sys.exit(0)
            if not line.strip():
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        message = json.loads(stdin.read(length))
        method = message.get("method")
        if method == "initialize":
            send({"jsonrpc": "2.0", "method": "workspace/configuration", "id": "c1",
                  "params": {"items": [{"section": "python.analysis"}]}})
            send({"jsonrpc": "2.0", "id": message["id"], "result": {"capabilities": {}}})
        elif method == "shutdown":
            send({"jsonrpc": "2.0", "id": message["id"], "result": None})
        elif method == "exit":
            sys.exit(0)
        elif method == "textDocument/hover":
            send({"jsonrpc": "2.0", "id": message["id"],
                  "error": {"code": -32603, "message": "boom"}})
        # completions are never answered
''')


def test_timeouts_and_errors_return_none(tmp_path: Path) -> None:
    server = tmp_path / "fake_server.py"
    server.write_text(FAKE_SERVER)
    pyright = PyrightClient(tmp_path, timeout=0.2, command=[sys.executable, str(server)])
    with pyright:
        path = tmp_path / "main.py"
        assert pyright.hover(path, "x", 0, 1) is None
        assert pyright.member_names(path, '"x".', 0, 4) is None
        assert pyright.completions(path, '"y".', 0, 4) is None
        stats = pyright.stats()
        assert stats["timeouts"] == 2 and stats["errors"] == 1
        assert stats["cache_hits"] == 0
        requests = pyright.stats()["requests"]
        for _ in range(3):  # impatient: no sign of a hang, and the one request is reused
            assert pyright.member_names(path, "w.", 0, 2, timeout=0.05) is None
        assert pyright.running and pyright.stats()["requests"] == requests + 1
        assert pyright.member_names(path, "z.", 0, 2) is None  # third timeout: killed
        assert not pyright.running
        assert pyright.hover(path, "x", 0, 1) is None  # restarted lazily
        assert pyright.stats()["restarts"] == 1


def test_missing_server_gives_up(tmp_path: Path) -> None:
    pyright = PyrightClient(tmp_path, command=[str(tmp_path / "no-such-server")])
    for _ in range(6):
        assert pyright.member_names(tmp_path / "a.py", "a.", 0, 2) is None
    stats = pyright.stats()
    assert stats["gave_up"] == 1 and stats["restarts"] == 3
    pyright.shutdown()
    pyright.shutdown()
