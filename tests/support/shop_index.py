"""Helpers for the workspace-index tests (no tests here): a copy of the shop fixture with
files the walk must leave out."""

from __future__ import annotations

import shutil
from pathlib import Path

FIXTURE = Path(__file__).parents[1] / "fixtures" / "shop_repo"


def copy_shop_repo(target: Path) -> Path:
    shutil.copytree(FIXTURE, target)
    (target / ".env").write_text("API_TOKEN=abc123supersecretvalue\n")
    (target / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n")
    (target / "debug.log").write_text("ignored by .gitignore\n")
    (target / "ignored").mkdir()
    (target / "ignored" / "hidden.py").write_text("def should_not_be_indexed():\n    pass\n")
    token = "ghp_" + "x7Qm2Lk9Pz4Rt8Vb3Nc6Hd1Jf5Gs0Aw2Ey7U"  # a GitHub token's format
    (target / "settings.py").write_text(f'GITHUB_TOKEN = "{token}"\n')
    (target / "blob.py").write_bytes(b"\x00\x01\x02binary\x00")
    latin1 = "def caf\xe9():\n    return 'd\xe9j\xe0'\n".encode("latin-1")
    (target / "latin1.py").write_bytes(latin1)
    return target
