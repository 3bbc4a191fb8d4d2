"""Helpers for the walker, secrets and text-file tests (no tests here)."""

from __future__ import annotations

from pathlib import Path

# Built at runtime so this file itself never contains a complete token.
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    + "MIIEowIBAAKCAQEA7bq98s" * 4
    + "\n"
    + "-----END RSA PRIVATE KEY-----\n"
)


def write(root: Path, rel: str, content: str | bytes = "x = 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path
