"""Tether's modules live under one namespace, `tether.*`: a user's workspace holding files
named like Tether's layers (`index.py`, `decoding.py`, `lsp_server.py`, even `tether.py`)
must not be imported in their place when the server starts there, as VS Code starts it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from lsprotocol import types
from support.lsp import (
    CART_MEMBERS,
    completion_params,
    copy_workspace,
    open_document,
    position,
    server_env,
    start_client,
)

SHADOWS = ("index", "decoding", "lsp_server", "tether")
DEMO = "from shop.models import Cart\n\n\ndef more(cart: Cart) -> None:\n    cart.\n"


def shadowed_workspace(base: Path) -> Path:
    """The shop fixture plus a module per shadowing name that leaves a mark when imported."""
    root = copy_workspace(base)
    for name in SHADOWS:
        (root / f"{name}.py").write_text(
            f"import pathlib\npathlib.Path(__file__).with_suffix('.imported').touch()\n"
            f"raise SystemExit('the workspace file {name}.py was imported')\n")
    return root


def imported_marks(root: Path) -> list[str]:
    return sorted(path.name for path in root.glob("*.imported"))


@pytest.mark.asyncio
async def test_server_started_in_a_shadowing_workspace_uses_its_own_modules(
        tmp_path: Path) -> None:
    root = shadowed_workspace(tmp_path)
    client, result, _ = await start_client(
        root, tmp_path / "cache", configuration={"embeddings": False},
        command=[sys.executable, "-P", "-m", "tether", "serve"], cwd=root)
    try:
        assert result.server_info is not None and result.server_info.name == "tether"
        uri = open_document(client, root / "scripts" / "more.py", DEMO)

        async def members() -> set[str]:
            answer = await client.text_document_completion_async(
                completion_params(uri, position(DEMO, "    cart.\n", 9)))
            return {item.label for item in answer.items
                    if item.kind != types.CompletionItemKind.Text} if answer else set()

        found = await wait_for_members(members, 90)
        assert "add_item" in found and found <= CART_MEMBERS, found
    finally:
        await client.shutdown_session()
        await client.stop()
    assert imported_marks(root) == []


async def wait_for_members(members: Callable[[], Awaitable[set[str]]],
                           timeout: float) -> set[str]:
    """The classic completion's members, asked again until the index answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await members()
        if found:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError("the server never answered with the receiver's members")


def test_cli_started_in_a_shadowing_workspace_uses_its_own_modules(tmp_path: Path) -> None:
    root = shadowed_workspace(tmp_path)
    for command in ([sys.executable, "-P", "-m", "tether", "symbols", "Cart", "--json"],
                    [str(Path(sys.executable).with_name("tether")), "symbols", "Cart", "--json"]):
        run = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120,
                             env=server_env(tmp_path / "cache"))
        assert run.returncode == 0 and "was imported" not in run.stderr, run.stderr
        assert "shop.models.Cart" in run.stdout
    assert imported_marks(root) == []


def test_no_top_level_module_named_like_a_layer_is_installed(tmp_path: Path) -> None:
    probe = ("import importlib.util; print(' '.join(name for name in ('index', 'decoding', "
             "'lsp_server') if importlib.util.find_spec(name)))")
    run = subprocess.run([sys.executable, "-P", "-c", probe], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60, check=True)
    assert run.stdout.strip() == ""
    run = subprocess.run([sys.executable, "-P", "-c", "import tether.index, tether.decoding, "
                          "tether.lsp_server"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
