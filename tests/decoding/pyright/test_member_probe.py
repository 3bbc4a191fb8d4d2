"""The member probe (decoding.pyright.member_probe): deprecations and unknown names pyright's
checker reports on probe lines, against the real pyright server, and where the probe lines
go."""

from __future__ import annotations

import threading
from pathlib import Path

from support.pyright_workspace import needs_pyright

from tether.decoding.pyright.client import PyrightClient
from tether.decoding.pyright.diagnostics import PublishedDiagnostics
from tether.decoding.pyright.member_probe import (
    MemberProbe,
    checked,
    probe_path,
    probe_text,
    statement_start,
)


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
