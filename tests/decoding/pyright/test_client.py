"""PyrightClient against the real pyright language server (one process per module): members,
completions, buffers, deprecations, caching, concurrency, restarts."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

from support.pyright_workspace import CART_USE, end_of, members, needs_pyright

from tether.decoding.pyright.client import MemberSet, PyrightClient, PyrightCompletion


@needs_pyright
def test_members_include_inherited_and_exclude_invented(client: PyrightClient,
                                                        workspace: Path) -> None:
    result = members(client, workspace / "main.py", CART_USE)
    assert result is not None
    assert {"add_item", "save"} <= result.names
    assert "remove_item" not in result.names
    assert result.complete
    assert result.kinds["add_item"] == 2  # CompletionItemKind.Method


@needs_pyright
def test_completions_are_typed_items(client: PyrightClient, workspace: Path) -> None:
    items = client.completions(workspace / "main.py", CART_USE, *end_of(CART_USE))
    assert items is not None
    assert all(isinstance(item, PyrightCompletion) for item in items)
    labels = {item.label: item for item in items}
    assert labels["save"].kind == 2
    assert labels["save"].sort_text


@needs_pyright
def test_unsaved_buffer_wins_over_disk(client: PyrightClient, workspace: Path) -> None:
    path = workspace / "shop" / "orders.py"
    buffer = ("class Order:\n    def buffer_only(self) -> None:\n        pass\n\n\n"
              "Order().")
    try:
        result = members(client, path, buffer)
        assert result is not None
        assert "buffer_only" in result.names
        assert "disk_only" not in result.names
    finally:
        client.close_document(path)


@needs_pyright
def test_str_receiver(client: PyrightClient, workspace: Path) -> None:
    result = members(client, workspace / "main.py", '"x".')
    assert result is not None
    assert {"upper", "join"} <= result.names
    assert result.complete


@needs_pyright
def test_a_member_after_del_is_no_proof(client: PyrightClient, workspace: Path) -> None:
    """Pyright answers `del sys.` with the names in scope, not sys's members."""
    result = members(client, workspace / "main.py", "import sys\n\ndel sys.")
    assert result is None or not result.complete or "modules" in result.names


@needs_pyright
def test_non_ascii_columns(client: PyrightClient, workspace: Path) -> None:
    text = 'label = "😀é"; label.'
    result = members(client, workspace / "main.py", text)
    assert result is not None
    assert "upper" in result.names


@needs_pyright
def test_unknown_receiver_is_not_complete(client: PyrightClient, workspace: Path) -> None:
    result = members(client, workspace / "main.py", "def handle(value):\n    value.")
    assert result is not None
    assert not result.names or not result.complete


@needs_pyright
def test_deprecated_function_is_reported(client: PyrightClient, workspace: Path) -> None:
    path = workspace / "uses_old.py"
    text = "from shop.base import old_total, new_total\n\nold_total()\nnew_total()\n"
    assert client.update_document(path, text) >= 1
    deadline = time.monotonic() + 15.0
    names: set[str] = set()
    while time.monotonic() < deadline and "old_total" not in names:
        names = client.deprecated_names(path)
        time.sleep(0.05)
    assert "old_total" in names
    assert "new_total" not in names
    assert any(2 in (d.get("tags") or []) for d in client.diagnostics(path))
    client.close_document(path)


@needs_pyright
def test_update_document_versions(client: PyrightClient, workspace: Path) -> None:
    path = workspace / "versions.py"
    first = client.update_document(path, "a = 1\n")
    assert client.update_document(path, "a = 1\n") == first  # unchanged: no didChange
    assert client.update_document(path, "a = 2\n") == first + 1
    diagnostics = client.wait_for_diagnostics(path, timeout=15.0)
    assert diagnostics is not None
    client.close_document(path)


@needs_pyright
def test_repeated_request_hits_cache(client: PyrightClient, workspace: Path) -> None:
    text = "from shop.base import Base\nBase()."
    path = workspace / "cached.py"
    first = members(client, path, text)
    before = client.stats()
    second = members(client, path, text)
    after = client.stats()
    assert first is not None and second == first
    assert after["cache_hits"] == before["cache_hits"] + 1
    assert after["requests"] == before["requests"]


@needs_pyright
def test_concurrent_callers(client: PyrightClient, workspace: Path) -> None:
    texts = [f"from shop.cart import Cart\nitem{i} = Cart()\nitem{i}." for i in range(4)]
    results: dict[int, MemberSet | None] = {}

    def ask(index: int) -> None:
        path = workspace / f"thread_{index % 2}.py"  # two threads share each document
        for _ in range(3):
            results[index] = members(client, path, texts[index])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(r is not None and {"add_item", "save"} <= r.names for r in results.values())
    assert len(results) == 4


@needs_pyright
def test_hover_shows_signature(client: PyrightClient, workspace: Path) -> None:
    text = "from shop.cart import Cart\nCart().add_item"
    hover = client.hover(workspace / "main.py", text, 1, 10)
    assert hover is not None and "add_item" in hover


@needs_pyright
def test_signature_labels_of_an_open_call(client: PyrightClient, workspace: Path) -> None:
    call = "textwrap.wrap('a b', "
    labels = client.signature_labels(workspace / "signature_user.py",
                                     "import textwrap\n\n" + call, 2, len(call), timeout=20.0)
    assert labels and any("width: int = 70" in params for params in labels)


@needs_pyright
def test_killed_server_restarts_lazily(workspace: Path) -> None:
    with PyrightClient(workspace, timeout=20.0) as pyright:
        assert members(pyright, workspace / "main.py", '"x".') is not None
        pid = pyright.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10.0
        while pyright.running and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not pyright.running
        result = members(pyright, workspace / "main.py", CART_USE)
        assert result is not None and "add_item" in result.names
        assert pyright.pid not in (None, pid)
        assert pyright.stats()["restarts"] == 1


@needs_pyright
def test_shutdown_is_idempotent(workspace: Path) -> None:
    pyright = PyrightClient(workspace, timeout=20.0)
    pyright.start()
    assert pyright.running
    pyright.shutdown()
    pyright.shutdown()
    assert not pyright.running
    assert members(pyright, workspace / "main.py", '"x".') is None
