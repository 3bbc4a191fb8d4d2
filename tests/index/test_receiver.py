"""Receiver resolution (index.receiver) on the shop fixture."""

from __future__ import annotations

from pathlib import Path

from tether.index.config import IndexConfig
from tether.index.receiver import ReceiverResolver
from tether.index.workspace import WorkspaceIndex


def test_self_referential_assignments_resolve_without_recursion(shop_root: Path,
                                                                tmp_path: Path) -> None:
    index = WorkspaceIndex(shop_root, IndexConfig(cache_dir=tmp_path / "cache",
                                                  embeddings=False))
    index.index_all(embeddings=False)
    text = ("from shop.models import Cart\n\n\ndef f(name: str, c: Cart):\n"
            "    name = name.strip()\n    c = c\n    x = Cart('a')\n    x = x.empty()\n    x.")
    try:
        index.set_buffer("scripts/loops.py", text)
        lines = text.split("\n")
        resolver = ReceiverResolver(index.lookup)
        found = resolver.resolve("scripts.loops", text, len(lines) - 1, len(lines[-1]))
        assert found is not None and found.qualname == "shop.models.Cart"
        renamed = text[: -len("    x.")] + "    name."
        assert resolver.resolve("scripts.loops", renamed, len(lines) - 1, 9).kind == "unknown"
    finally:
        index.remove_file("scripts/loops.py")
        index.close()
