"""The legal sets the monitor takes from pyright (no forcing): receivers beyond the index,
deprecations through the probe, narrowing, `hasattr` guards, and receivers left free."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.completion import complete
from support.grounding import body_prefix, legal_set_at_end, legal_set_when, monitor_at

from tether.decoding.completion.engine import Completer, CompletionRequest


def test_pyright_only_receivers_drop_deprecated_members_too(completer: Completer,
                                                            shop_root: Path) -> None:
    """`carts[0].` is beyond the index's receiver analysis; pyright names the members, and
    its deprecation diagnostics (through a probe document) drop `add` for `add_item`."""
    import time

    from tether.decoding.grounding.positions import detect_position

    head = body_prefix(shop_root) + "carts = [cart]\n    carts[0]."
    lines = head.split("\n")
    position = detect_position(lines[-1])
    assert position is not None
    legal = None
    deadline = time.monotonic() + 30.0
    while time.monotonic() < deadline:  # the first probe may outlast the probe timeout
        legal = monitor_at(completer, shop_root, head).provider.legal_for(
            position, head, len(lines) - 1)
        assert legal is not None and legal.source == "pyright"
        if legal.preferred():
            break
        time.sleep(0.2)
    assert legal is not None and legal.preferred() == {"add": "add_item"}
    assert "add" not in legal.without_deprecated() and "add_item" in legal.names


@pytest.mark.parametrize(("body", "free"), [
    ("uri, fragment = urldefrag(url)\n    uri.", True),  # Unknown: `url` has no type
    ("uri, fragment = urldefrag(str(url))\n    uri.", False),  # str
])
def test_an_unknown_receiver_is_free_while_the_probe_has_not_answered(
        completer: Completer, shop_root: Path, body: str, free: bool) -> None:
    """Pyright's completion provider lists DefragResult's members for `uri` unpacked from
    `urldefrag(url)` with an untyped `url`; its checker (and its hover) call `uri` Unknown."""
    from tether.decoding.grounding.positions import detect_position

    head = f"from urllib.parse import urldefrag\n\n\ndef split(url):\n    {body}"
    lines = head.split("\n")
    monitor = monitor_at(completer, shop_root, head, "shop/splitting.py")
    monitor.provider.member_probe = None  # as before the probe's first answer arrives
    legal = monitor.provider.legal_for(detect_position(lines[-1]), head, len(lines) - 1)
    if free:
        assert legal is None
    else:
        assert legal is not None and legal.source == "pyright" and "rstrip" in legal.names


def test_release_lets_pyright_read_the_file_from_disk_again(completer: Completer,
                                                            shop_root: Path) -> None:
    """A batch task cut inside Cart must not leave pyright believing Cart ends there."""
    from tether.decoding.grounding.positions import detect_position

    source = (shop_root / "shop" / "models.py").read_text()
    cut = source[: source.index("    @property")] + "    def more(self):\n        self."
    lines = cut.split("\n")
    request = CompletionRequest(shop_root, "shop/models.py", cut, len(lines) - 1,
                                len(lines[-1]), "grounded")
    complete(completer, request)
    completer.release(request)
    head = body_prefix(shop_root) + "carts = [cart]\n    carts[0]."
    legal = monitor_at(completer, shop_root, head).provider.legal_for(
        detect_position("    carts[0]."), head, head.count("\n"))
    assert legal is not None and legal.source == "pyright"
    assert {"total", "apply_discount", "add_item"} <= legal.names


def test_a_hasattr_guard_makes_the_checked_name_legal(completer: Completer,
                                                      shop_root: Path) -> None:
    """`o` is `bytes | Unknown` after the isinstance branch; pyright's completions list the
    bytes members only, but below `hasattr(o, "seek")` it accepts `o.seek`, and so does
    the monitor. Names nobody checked stay illegal."""
    head = ("def size(o):\n    if isinstance(o, str):\n        o = o.encode()\n"
            "    if hasattr(o, 'seek'):\n        o.")
    legal = legal_set_at_end(completer, shop_root, "shop/sizes.py", head)
    assert legal is not None and legal.source == "pyright"
    assert {"decode", "seek"} <= legal.names and "tell" not in legal.names


@pytest.mark.parametrize(("check", "narrowed"), [
    ("if type(event) is Request:", True),
    ("if isinstance(event, (Request, str)):", True),
    ("match event:\n        case Request():", True),
    ("if event:", False),
])
def test_a_receiver_narrowed_to_a_subclass_takes_its_members(
        completer: Completer, shop_root: Path, check: str, narrowed: bool) -> None:
    """The index reads `event: Event`; below `type(event) is Request` pyright, which follows
    the narrowing, answers (h11's `event.method`)."""
    head = ("class Event:\n    pass\n\n\nclass Request(Event):\n    def __init__(self):\n"
            "        self.method = 'GET'\n\n\ndef handle(event: Event):\n    "
            f"{check}\n        event.".replace("case Request():\n        event.",
                                                  "case Request():\n            event."))
    legal = legal_set_when(lambda found: found is not None and (
        found.source == "index" or "method" in found.names), completer, shop_root,
        "shop/events.py", head)
    assert legal is not None
    assert ("method" in legal.names) is narrowed
    assert legal.source == ("pyright" if narrowed else "index")


@pytest.mark.parametrize(("head", "free"), [
    ("class Lexer(metaclass=Meta):\n    def analyse_text(text):\n        return text.", True),
    ("class Lexer(metaclass=Meta):\n    @staticmethod\n    def analyse(text: str):\n"
     "        return text.", False),  # an undecorated first parameter only
    ("class Plain:\n    total = 0\n\n    def method(this):\n        return this.", False),
])
def test_a_method_parameter_a_metaclass_may_rewrap_is_free(
        completer: Completer, shop_root: Path, head: str, free: bool) -> None:
    """pygments' LexerMeta turns `def analyse_text(text)` into a staticmethod: `text` is
    the text, not an instance, though pyright types it as one."""
    source = "class Meta(type):\n    pass\n\n\n" + head
    legal = legal_set_when(lambda legal: (legal is None) == free, completer, shop_root,
                           "shop/lexers.py", source)
    assert (legal is None) == free


@pytest.mark.parametrize("receiver", ["Article", "Article()"])
def test_a_class_whose_base_pyright_cannot_import_is_left_free(completer: Completer,
                                                               shop_root: Path,
                                                               receiver: str) -> None:
    """Pyright lists only what `Article` defines itself, yet its checker takes any name (the
    base is Unknown): `Article.objects`, `Article().save()` must not be blocked."""
    head = ("from not_installed_orm import Model\n\n\nclass Article(Model):\n"
            f"    title = ''\n\n\ndef main():\n    {receiver}.")
    # at once: pyright lists nothing beyond what the index reads in the class itself
    assert legal_set_at_end(completer, shop_root, "shop/articles.py", head) is None
