"""PyrightClient against the real pyright language server (one process per module), plus
protocol helpers and robustness checks with a fake server."""

from __future__ import annotations

import io
import os
import signal
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tether.decoding.pyright.client import MemberSet, PyrightClient, PyrightCompletion
from tether.decoding.pyright.diagnostics import PublishedDiagnostics
from tether.decoding.pyright.member_probe import (
    MemberProbe,
    checked,
    probe_path,
    probe_text,
    statement_start,
)
from tether.decoding.pyright.protocol import (
    deprecated_name,
    looks_complete,
    member_set,
    parse_completions,
    python_column,
    range_text,
)
from tether.decoding.pyright.rpc import encode_message, langserver_command, read_message
from tether.decoding.pyright.signature_probe import SignatureProbe, signature_probe_path
from tether.index.text_positions import utf16_column

BASE = '''\
from typing_extensions import deprecated


class Base:
    def save(self) -> None:
        pass


@deprecated("use new_total")
def old_total() -> int:
    return 1


def new_total() -> int:
    return 2
'''
CART = '''\
from typing_extensions import deprecated

from shop.base import Base


class Cart(Base):
    def add_item(self, name: str) -> None:
        pass

    @deprecated("add() is deprecated since 2.0; use add_item() instead")
    def add(self, name: str) -> None:
        pass
'''
ORDERS = '''\
class Order:
    def disk_only(self) -> None:
        pass
'''
CART_USE = "from shop.cart import Cart\ncart = Cart()\ncart."

needs_pyright = pytest.mark.skipif(langserver_command() is None,
                                   reason="pyright language server not installed")


def end_of(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines) - 1, len(lines[-1])


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pyright_ws")
    shop = root / "shop"
    shop.mkdir()
    (shop / "__init__.py").write_text("")
    (shop / "base.py").write_text(BASE)
    (shop / "cart.py").write_text(CART)
    (shop / "orders.py").write_text(ORDERS)
    return root


@pytest.fixture(scope="module")
def client(workspace: Path) -> Iterator[PyrightClient]:
    with PyrightClient(workspace, timeout=20.0) as pyright:
        pyright.warm_up()
        yield pyright


def members(client: PyrightClient, path: Path, text: str) -> MemberSet | None:
    return client.member_names(path, text, *end_of(text))


# -- real pyright -------------------------------------------------------------------------
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


# -- robustness without pyright -----------------------------------------------------------
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


# -- protocol helpers ---------------------------------------------------------------------
def test_framing_round_trip() -> None:
    payloads = [{"jsonrpc": "2.0", "id": 1, "result": {"text": "é😀"}},
                {"jsonrpc": "2.0", "method": "x", "params": None}]
    stream = io.BytesIO(b"".join(encode_message(p) for p in payloads))
    assert [read_message(stream), read_message(stream)] == payloads
    assert read_message(stream) is None


def test_utf16_columns() -> None:
    line = 'a = "😀é"; a.'
    assert utf16_column(line, len(line)) == len(line) + 1
    assert python_column(line, utf16_column(line, len(line))) == len(line)
    assert python_column("abc", 2) == 2
    assert range_text("x\n😀 name = 1", {"start": {"line": 1, "character": 3},
                                         "end": {"line": 1, "character": 7}}) == "name"
    assert range_text("x", {"start": {"line": 5, "character": 0},
                            "end": {"line": 5, "character": 1}}) == ""


def test_deprecated_name_from_range_or_message() -> None:
    diagnostic = {"range": {"start": {"line": 0, "character": 4},
                            "end": {"line": 0, "character": 11}},
                  "message": 'The method "old_api" is deprecated', "tags": [2]}
    assert deprecated_name(diagnostic, "obj.old_api()") == "old_api"
    assert deprecated_name(diagnostic, None) == "old_api"
    assert deprecated_name({**diagnostic, "tags": [1]}, "obj.old_api()") is None


def test_member_set_filters_and_flags() -> None:
    items = [{"label": "save", "kind": 2}, {"label": "name=", "kind": 5},
             {"label": "__doc__", "kind": 6},
             {"label": "x", "kind": 6, "textEdit": {"newText": "y"}}]
    members = member_set(parse_completions({"isIncomplete": True, "items": items}))
    assert members.names == {"save", "__doc__", "y"}
    assert members.complete and members.incomplete
    # keywords come with names in scope, not with a receiver's members
    names = member_set(parse_completions({"items": [*items, {"label": "if", "kind": 14}]}))
    assert names.names == {"save", "__doc__", "y"} and not names.complete
    assert not looks_complete(frozenset())
    assert not looks_complete(frozenset({"__class__", "__doc__"}))
    assert not looks_complete(frozenset({"save", "__getattr__"}))
    assert parse_completions(None) == ((), False)


@needs_pyright
def test_probe_finds_deprecated_members_and_their_replacements(client: PyrightClient,
                                                               workspace: Path) -> None:
    probe = MemberProbe(client, timeout=20.0)
    user = workspace / "probe_user.py"
    head = "from shop.cart import Cart\n\n\ndef f():\n    cart = Cart()\n    x = cart."
    found = probe.member_facts(user, head, "cart", ["add", "add_item", "save", "__eq__"])
    assert found is not None and found.deprecated == {"add": "add_item"}
    assert not found.any_name  # pyright reports an attribute error for a name Cart lacks
    assert probe.member_facts(user, head + "a", "cart",
                              ["save", "add_item", "add"]) is found  # cached
    assert not probe_path(user).exists()  # the probe lives only in pyright's memory


@needs_pyright
def test_probe_tells_a_receiver_whose_base_pyright_cannot_import(client: PyrightClient,
                                                                 workspace: Path) -> None:
    """Its completion list holds only what the class itself defines, but pyright's checker
    takes any name on it (the base is Unknown): the list is no constraint."""
    probe = MemberProbe(client, timeout=20.0)
    head = ("from not_installed_orm import Model\n\n\nclass Article(Model):\n"
            "    title = ''\n\n\ndef f():\n    Article.")
    facts = probe.member_facts(workspace / "orm_user.py", head, "Article", ["title"])
    assert facts is not None and facts.any_name


@needs_pyright
def test_in_code_pyright_judges_unreachable_its_silence_proves_nothing(
        client: PyrightClient, workspace: Path) -> None:
    probe = MemberProbe(client, timeout=20.0)
    head = ("from shop.cart import Cart\n\n\ndef f():\n    cart = Cart()\n"
            "    return cart\n    cart.")  # below a return
    facts = probe.member_facts(workspace / "unreachable_user.py", head, "cart", ["save"])
    assert facts is not None and not facts.any_name


@needs_pyright
def test_signature_labels_of_an_open_call(client: PyrightClient, workspace: Path) -> None:
    call = "textwrap.wrap('a b', "
    labels = client.signature_labels(workspace / "signature_user.py",
                                     "import textwrap\n\n" + call, 2, len(call), timeout=20.0)
    assert labels and any("width: int = 70" in params for params in labels)


@needs_pyright
def test_inside_a_bracket_left_open_the_probe_goes_before_the_statement(
        client: PyrightClient, workspace: Path) -> None:
    """Probe lines inside `[` or `if (` would not parse (pyright reported no deprecation
    there): they are written where the statement starts, so deprecations are found and the
    absent name is judged there too."""
    probe = MemberProbe(client, timeout=20.0)
    cart = "from shop.cart import Cart\n\n\ndef f():\n    cart = Cart()\n"
    for number, head in enumerate([cart + "    items = [\n        cart.",
                                   cart + "    if (1 and\n            cart."]):
        facts = probe.member_facts(workspace / f"bracket_user{number}.py", head, "cart",
                                   ["add", "save"])
        assert facts is not None and facts.deprecated == {"add": "add_item"}
        assert not facts.any_name
    orm = ("from not_installed_orm import Model\n\n\nclass Article(Model):\n"
           "    title = ''\n\n\ndef f():\n    print(\n        1,\n        Article.")
    facts = probe.member_facts(workspace / "bracket_orm_user.py", orm, "Article", ["title"])
    assert facts is not None and facts.any_name


@needs_pyright
def test_a_receiver_bound_later_in_its_statement_proves_nothing(client: PyrightClient,
                                                                workspace: Path) -> None:
    """A comprehension's variable is not defined where its statement starts: pyright's
    silence about the absent name there is no acceptance."""
    probe = MemberProbe(client, timeout=20.0)
    head = "def f(carts):\n    totals = [\n        cart."
    facts = probe.member_facts(workspace / "comprehension_user.py", head, "cart", ["save"])
    assert facts is not None and not facts.any_name


@needs_pyright
def test_signature_probe_reads_imported_functions_on_a_small_document(
        client: PyrightClient, workspace: Path) -> None:
    probe = SignatureProbe(client, timeout=20.0)
    user = workspace / "keywords_user.py"
    text = "import json\nimport textwrap as tw\n\ndef f(helper):\n    x = "
    wrap = probe.keywords(user, text, "tw.wrap")
    assert wrap is not None and {"width", "break_long_words"} <= wrap
    assert probe.keywords(user, text, "tw.wrap") is wrap  # cached
    assert probe.keywords(user, text, "json.dumps") is None  # `**kwds`
    assert probe.keywords(user, text, "helper") is None  # an untyped parameter: Unknown
    assert not signature_probe_path(user).exists()


@needs_pyright
def test_signature_probe_asks_the_file_itself_for_methods_of_its_objects(
        client: PyrightClient, workspace: Path) -> None:
    """Receivers no import binds (a local str, a parameter of an annotated type) are typed by
    the file: its keyword parameters come from there; an Unknown receiver stays free."""
    probe = SignatureProbe(client, timeout=20.0, in_place_timeout=20.0)
    user = workspace / "method_keywords_user.py"
    head = ("from shop.cart import Cart\n\n\ndef f(cart: Cart, thing):\n"
            "    words = 'a b'\n    x = ")
    split = probe.keywords(user, head + "words.split(", "words.split")
    assert split is not None and {"sep", "maxsplit"} <= split
    assert probe.keywords(user, head + "words.split(sep=' ', ", "words.split") is split
    add_item = probe.keywords(user, head + "cart.add_item(", "cart.add_item")
    assert add_item == frozenset({"name"})
    assert probe.keywords(user, head + "thing.run(", "thing.run") is None


def test_probe_text_puts_one_use_per_line_at_the_indentation() -> None:
    text, first = probe_text("import a\n\ndef f():\n    y = a.b(x.", "x", ["one", "two"])
    assert text == "import a\n\ndef f():\n    x.one\n    x.two\n" and first == 3


def test_probe_text_goes_before_a_statement_continued_in_brackets() -> None:
    head = ("def f():\n    y = 1  # (\n    @pytest.mark.x\n    @click.option(\n        'a(',\n"
            "        [1, 2],\n        x.")
    text, first = probe_text(head, "x", ["one"])
    assert text == "def f():\n    y = 1  # (\n    x.one\n" and first == 2
    assert statement_start("a = 1\nb = (") == 6
    assert statement_start("a = (1,\n     2") == 0


def test_a_probe_answer_counts_only_once_the_checker_has_run() -> None:
    """Pyright may publish a version's diagnostics before checking it (an empty list) and
    again after: the wait takes the publication that flags the probe's marker line."""
    published = PublishedDiagnostics()
    uri = "file:///w/.m.tether-probe.py"
    marker = {"code": "reportAttributeAccessIssue",
              "range": {"start": {"line": 7}, "end": {"line": 7}}}
    published.publish({"uri": uri, "version": 3, "diagnostics": []})
    timer = threading.Timer(0.2, published.publish,
                            [{"uri": uri, "version": 3, "diagnostics": [marker]}])
    timer.start()
    found = published.wait_for(uri, 3, 10.0, accept=lambda d: checked(d, 7))
    timer.join()
    assert found == [marker]
    assert published.wait_for(uri, 3, 0.0) == [marker]
    assert published.wait_for(uri, 3, 0.05, accept=lambda d: checked(d, 8)) is None
    assert not checked([], 7)
