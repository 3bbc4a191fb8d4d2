"""The monitor on the shop fixture: real vocabulary, real index, real pyright.

Most tests "teacher-force" an intended text: at each step the logits favour the longest
vocabulary token that continues the intended text, the monitor edits them, and the argmax
is taken exactly as the runtime does. Legal code comes out unchanged; an invented or
deprecated identifier cannot be spelled.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from tether.decoding.completion.engine import Completer, CompletionRequest, CompletionResult
from tether.decoding.grounding.forcing import ForcedDecoder
from tether.decoding.grounding.legal_sets import LegalSet
from tether.decoding.grounding.monitor import Monitor
from tether.decoding.grounding.name_choice import CONTENTION_MARGIN
from tether.decoding.model.runtime import ModelRuntime
from tether.index.module_names import module_name

RUN_PY = "scripts/run.py"
BODY_MARKER = "    return s.checkout(cart)"


class Teacher:
    """Forced decoding (decoding.grounding.forcing) towards an intended text through a monitor."""

    def __init__(self, runtime: ModelRuntime) -> None:
        self.runtime = runtime
        self.decoder = ForcedDecoder(runtime.token_pieces(), set(runtime.vocab.control_ids))

    def run(self, monitor: Monitor, intended: str, max_steps: int = 60) -> str:
        """What comes out: `intended` itself, or its prefix the monitor let through plus the
        token it steered to."""
        return self.decoder.run(monitor.logits_hook, intended, max_steps).written


@pytest.fixture(scope="module")
def teacher(model_runtime: ModelRuntime) -> Teacher:
    return Teacher(model_runtime)


def monitor_at(completer: Completer, root: Path, text: str, rel: str = RUN_PY,
               suffix: str = "") -> Monitor:
    """A monitor for a buffer `text` + `suffix` with the cursor between them."""
    index = completer.registry.get(root)
    index.set_buffer(rel, text + suffix)
    module, _ = module_name(index.root, rel)
    lines = text.split("\n")
    request = CompletionRequest(root, rel, text + suffix, len(lines) - 1, len(lines[-1]),
                                "grounded")
    return completer.build_monitor(index, module, request, text, type_blind=False,
                                   rescore=False)


def written_in_file(completer: Completer, root: Path, teacher: Teacher, text: str, rel: str,
                    intended: str, suffix: str = "") -> str:
    """What the monitor lets a forced `intended` write at the end of `text` in file `rel`
    (opened as a buffer, closed again afterwards)."""
    monitor = monitor_at(completer, root, text, rel, suffix=suffix)
    try:
        return teacher.run(monitor, intended)
    finally:
        completer.registry.get(root).close_buffer(rel)


def complete_at_end(completer: Completer, root: Path, prefix: str) -> CompletionResult:
    """A grounded completion of RUN_PY cut at the end of `prefix`."""
    lines = prefix.split("\n")
    return completer.complete(CompletionRequest(root, RUN_PY, prefix, len(lines) - 1,
                                                len(lines[-1]), "grounded"))


def body_prefix(root: Path) -> str:
    source = (root / RUN_PY).read_text()
    return source[: source.index(BODY_MARKER)] + "    "


@pytest.mark.parametrize("intended", [
    "cart.add_item(cart.total)\n    cart.save()\n",  # several positions, one generation
    "cart.touch()",  # inherited from shop.base.Timestamped, another module
    "cart.save(force=True)",  # inherited two levels up, keyword argument
    "s.checkout(cart, pay=False)",  # module alias `import shop as s`
    "cart.apply_discount(total, percent=5)",
    "total = cart.owner.upper()",  # unknown-to-the-index receiver: pyright or free
    "label = f'{cart.owner!r:>10}' + rb'x'.decode()\n",  # string prefixes where names start
    "note = '{who}'.format(who=cart.owner)\n",  # str.format, not the builtin `format`
    "by_name = {i.name: i for i in cart.items}\n",
    "first = next((i for i in cart.items if i.price), None)\n",  # bound after its use
    "ranked = sorted(\n        cart.items,\n        key=lambda x: x.price,\n        reverse=True,"
    "\n    )\n",
    "if (total := cart.total()) > 0:\n        print(*cart.items, sep=', ')\n",
])
def test_legal_code_passes_unchanged(completer: Completer, shop_root: Path, teacher: Teacher,
                                     intended: str) -> None:
    monitor = monitor_at(completer, shop_root, body_prefix(shop_root))
    assert teacher.run(monitor, intended, max_steps=120) == intended
    assert monitor.stats.constrained_steps > 0


@pytest.mark.parametrize(("prefix", "intended", "passes"), [
    ("from os.path import *\n\n\ndef f():\n    ", "x = join('a', 'b')\n", True),
    ("from not_installed_anywhere import *\n\n\ndef f():\n    ", "x = anything()\n", True),
    ("from shop import *\n\n", "x = shipping_cost\n", True),  # indexed: its `__all__`
    ("from shop import *\n\n", "x = compute_shipping\n", False),  # not in `__all__`
    ("globals()['made'] = 1\n\n\ndef f():\n    ", "x = made\n", True),
    ("exec(source)\n\n\ndef f():\n    ", "x = made\n", True),  # into this module
    ("exec(source, globals())\n\n\ndef f():\n    ", "x = made\n", True),
    ("exec(source, env)\n\n\ndef f():\n    ", "x = made\n", False),  # into `env`
    ("# exec(source)\n\n\ndef f():\n    ", "x = made\n", False),
    ("class A:\n    def f(self):\n        ", "x = __class__\n", True),
    ("def f():\n    ", "x = __class__\n", False),  # only methods have it
    ("def f():\n    ", "return __import__('pydoc').pager\n", True),  # a dunder builtin
    ("import json\n", "from os.path import *\nx = join('a')\n", True),  # written now
    ("import json\n", "from shop import *\nx = shipping_cost\n", True),
    ("import json\n", "from shop import *\nx = compute_shipping\n", False),
])
def test_bare_names_star_imported_or_set_through_globals(
        completer: Completer, shop_root: Path, teacher: Teacher, prefix: str, intended: str,
        passes: bool) -> None:
    written = teacher.run(monitor_at(completer, shop_root, prefix), intended)
    assert (written == intended) is passes


@pytest.mark.parametrize(("source", "binds"), [
    ("exec('x = 1')", True),
    ('exec("a, b = (1, 2)")', True),  # commas inside a string or brackets do not count
    ("exec(compile(src, '<x>', 'exec'), ns)", False),
    ("exec(code, None, scope)", False),  # names go to `scope`
    ("exec(code, globals(), scope)", True),
    ("exec(code", True),  # unclosed: judged the safe way
    ("exec(code, module.__dict__)  # exec(x)", False),
    ("exec(f\'\'\'a, b\n\'\'\', ns)", False),
    ("how eval() and exec() work", False),
    ("globals()['x'] = 1", True),
    ("globals().update(table)", True),
    ("x = 1", False),
])
def test_modules_that_bind_names_at_run_time(source: str, binds: bool) -> None:
    from tether.decoding.grounding.dynamic_globals import binds_names_at_run_time

    assert binds_names_at_run_time(source) is binds


@pytest.mark.parametrize(("intended", "passes"), [
    ("return undefined_helper(cart)\n", False),  # ` undefined` after a keyword, one token
    ("if undefined_flag:\n        pass\n", False),
    ("flag = cart and undefined_flag\n", False),
    ("from shop.models import Basket\n", False),
    ("return not total and cart\n", True),
    ("from shop.models import Item\n", True),
    ("first = last = None\n", True),  # a chained assignment's new targets
    ("first = cart.items = last = 0\n", True),
    ("first = last + 1\n", False),  # a new name that is read, not assigned
    ("first = last == 1\n", False),
    ("first = carts\n", False),
])
def test_a_name_written_with_the_space_before_it_is_checked(
        completer: Completer, shop_root: Path, teacher: Teacher, intended: str,
        passes: bool) -> None:
    monitor = monitor_at(completer, shop_root, body_prefix(shop_root))
    assert (teacher.run(monitor, intended) == intended) is passes


@pytest.mark.parametrize(("intended", "legal_prefix"), [
    ("cart.bogus_method()", "cart."),
    ("cart.total_price", "cart.total"),  # a real name is a prefix; the invented tail is not
    ("s.checkout_all(cart)", "s.checkout"),
    ("cart.apply_discount(total, rate=5)", "cart.apply_discount(total, "),
])
def test_invented_identifiers_cannot_be_spelled(completer: Completer, shop_root: Path,
                                                teacher: Teacher, intended: str,
                                                legal_prefix: str) -> None:
    monitor = monitor_at(completer, shop_root, body_prefix(shop_root))
    written = teacher.run(monitor, intended)
    assert written != intended
    assert written.startswith(legal_prefix)


def test_from_import_names_are_the_modules_exports(completer: Completer, shop_root: Path,
                                                   teacher: Teacher) -> None:
    prefix = "from shop.service import "
    assert teacher.run(monitor_at(completer, shop_root, prefix), "compute_shipping\n") == (
        "compute_shipping\n")
    assert teacher.run(monitor_at(completer, shop_root, prefix), "compute_taxes\n") != (
        "compute_taxes\n")


@pytest.mark.parametrize(("prefix", "intended", "passes"), [
    ("from shop.service import (\n    ", "compute_shipping,\n)\n", True),
    ("from shop.service import (\n    ", "compute_taxes,\n)\n", False),  # not exported
    ("from shop.service import (", "\n    compute_shipping,\n)\n", True),  # a line break
    ("from shop.service import (compute_shipping, ", ")\n", True),
    ("from shop.service import ", "compute_shipping as ship\n", True),  # `as` after a space
])
def test_names_of_a_from_import_over_several_lines_are_the_modules_exports(
        completer: Completer, shop_root: Path, teacher: Teacher, prefix: str, intended: str,
        passes: bool) -> None:
    written = teacher.run(monitor_at(completer, shop_root, prefix), intended)
    assert (written == intended) is passes


def test_deprecated_method_gives_way_to_its_replacement(completer: Completer, shop_root: Path,
                                                        teacher: Teacher) -> None:
    monitor = monitor_at(completer, shop_root, body_prefix(shop_root))
    written = teacher.run(monitor, "cart.add(item)")
    assert not re.match(r"cart\.add\b(?!_)", written)
    assert "add -> add_item" in monitor.avoided


def test_unknown_receiver_is_left_unconstrained(completer: Completer, shop_root: Path,
                                                teacher: Teacher) -> None:
    prefix = body_prefix(shop_root).replace("def main():", "def main(anything):")
    monitor = monitor_at(completer, shop_root, prefix)
    intended = "anything.whatever_it_has()"
    assert teacher.run(monitor, intended) == intended


def test_cancellation_mid_constraint(completer: Completer, shop_root: Path,
                                     model_runtime: ModelRuntime) -> None:
    prefix = body_prefix(shop_root) + "cart."
    monitor = monitor_at(completer, shop_root, prefix)
    cancel = threading.Event()

    def hook(generated: list[int], logits: np.ndarray) -> None:
        monitor.logits_hook(generated, logits)
        if monitor.stats.constrained_steps:
            cancel.set()

    prompt = model_runtime.build_prompt(prefix)
    generation = model_runtime.generate(prompt, max_tokens=16, logits_hook=hook, cancel=cancel)
    assert generation.stop_reason == "cancelled"
    assert monitor.stats.constrained_steps == 1


def test_grounded_completion_writes_only_existing_members(completer: Completer,
                                                          shop_root: Path) -> None:
    prefix = body_prefix(shop_root) + "cart."
    result = complete_at_end(completer, shop_root, prefix)
    index = completer.registry.get(shop_root)
    members = {m.name for m in index.lookup.class_members("shop.models.Cart")}
    name = re.match(r"[A-Za-z_]\w*", result.text)
    assert name is not None and name.group(0) in members
    assert result.constrained_steps > 0


def test_new_attribute_in_an_initializer_is_not_blocked(completer: Completer, shop_root: Path,
                                                       teacher: Teacher) -> None:
    source = (shop_root / "shop" / "models.py").read_text()
    prefix = source[: source.index("        self.owner = owner")] + "        "
    try:
        monitor = monitor_at(completer, shop_root, prefix, rel="shop/models.py")
        assert teacher.run(monitor, "self.created_at = 0\n") == "self.created_at = 0\n"
        pair = "self.created_at, self.updated_at = 0, 0\n"
        assert teacher.run(monitor_at(completer, shop_root, prefix, rel="shop/models.py"),
                           pair) == pair
        assert teacher.run(monitor_at(completer, shop_root, prefix, rel="shop/models.py"),
                           "self.items.append(owner)") == "self.items.append(owner)"
    finally:
        completer.registry.get(shop_root).close_buffer("shop/models.py")
        completer.close_document(shop_root, "shop/models.py")


def test_self_referential_assignments_resolve_without_recursion(
        completer: Completer, shop_root: Path) -> None:
    from tether.index.receiver import ReceiverResolver

    index = completer.registry.get(shop_root)
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


@pytest.mark.parametrize(("prefix", "intended"), [
    ("import shop as s\n\n\ndef f(s):\n    ", "return s.upper()\n"),  # a parameter
    ("import shop as s\n\n\ndef f(items):\n    for s in items:\n        ", "s.title()\n"),
    ("import shop as s\n\n\ndef f(path):\n    with open(path) as s:\n        ",
     "return s.read()\n"),
    ("import shop as s\n\n\ndef f(rows):\n    s = rows[0]\n\n    def g():\n        ",
     "return s.lower()\n"),  # a closure's variable
])
def test_a_local_name_shadows_a_module_name(completer: Completer, shop_root: Path,
                                            teacher: Teacher, prefix: str,
                                            intended: str) -> None:
    """`s` is the package `shop` at module level; in these functions it is something else,
    whose members the index does not know."""
    monitor = monitor_at(completer, shop_root, prefix)
    assert teacher.run(monitor, intended) == intended


METACLASS = ("class Registry(type):\n    known = {}\n\n"
             "    def __new__(mcs, name, bases, namespace):\n"
             "        made = super().__new__(mcs, name, bases, namespace)\n")


@pytest.mark.parametrize(("prefix", "intended", "passes"), [
    (METACLASS + "        ", "made.declared = made.Meta\n", True),  # typed by pyright
    (METACLASS + "        ", "return mcs.known\n", True),  # `__new__` takes the metaclass
    (METACLASS + "        ", "return mcs.invented_thing\n", False),
    (METACLASS + "        return made\n\n    def __call__(cls, *args):\n        ",
     "return cls.build_from(args)\n", True),  # `cls` here is a class made by it
    (METACLASS + "        return made\n\n    def describe(self):\n        ",
     "return self.__doc__ or self.title\n", True),
])
def test_instances_of_a_metaclass_are_classes_with_any_attribute(
        completer: Completer, shop_root: Path, teacher: Teacher, prefix: str, intended: str,
        passes: bool) -> None:
    written = teacher.run(monitor_at(completer, shop_root, prefix), intended)
    assert (written == intended) is passes


def test_whole_name_scoring_writes_the_best_scored_name(completer: Completer, shop_root: Path,
                                                        teacher: Teacher) -> None:
    """The model prefers `add...`; the scorer rates the last candidate it is offered highest,
    and that name is written token by token and ends there."""
    monitor = monitor_at(completer, shop_root, body_prefix(shop_root) + "cart.")
    offered: list[list[str]] = []

    def scorer(logits: np.ndarray, branches: object,
               enders: np.ndarray) -> tuple[list[float], np.ndarray]:
        names = ["".join(monitor.vocabulary.trie.text(token) or "" for token in branch)
                 for branch in branches]  # type: ignore[attr-defined]
        offered.append(names)
        return [0.0 if name == names[-1] else -50.0 for name in names], logits

    monitor.chooser.scorer = scorer
    pieces = teacher.runtime.token_pieces()
    generated: list[int] = []
    written = ""
    while len(generated) < 12 and (not written or written[-1:].isidentifier()
                                    or written[-1:].isdigit()):
        logits = np.zeros(teacher.runtime.vocab_size, dtype=np.float32)
        logits[teacher.runtime.tokenize("add", continuation=True)[0]] = 5.0  # what it would say
        replaced = monitor.logits_hook(generated, logits)
        token = int((logits if replaced is None else replaced).argmax())
        generated.append(token)
        written += pieces[token].decode("utf-8", errors="replace")
    assert len(offered) == 1 and 2 <= len(offered[0]) <= 4
    assert "add_item" in offered[0] and offered[0][-1] != "add_item"
    chosen = offered[0][-1]
    assert written.startswith(chosen) and not written[len(chosen):][:1].isidentifier()
    assert monitor.stats.rescored == 1


LEDGER_HEAD = ("class Ledger:\n    def __init__(self) -> None:\n        self._total = 0\n"
               "        self._entries: list[int] = []\n\n"
               "    def add(self, amount: int) -> None:\n        self._entries.append(amount)\n\n"
               "    def balance(self) -> int:\n        return self")


def _write_after_healed_dot(completer: Completer, shop_root: Path, teacher: Teacher,
                            logit_of: dict[str, float], favourite_after: dict[str, str],
                            best_scored: str) -> tuple[str, Monitor, list[list[int]]]:
    """Drive a monitor whose prompt ends `return self` (healing took the dot): the first
    step's logits favour first tokens as `logit_of` says, a look-ahead after a first token
    favours the name `favourite_after` gives for it, and the scorer rates `best_scored`
    highest. Returns what was written, the monitor and the tokens looked ahead from."""
    rel = "shop/ledger.py"
    index = completer.registry.get(shop_root)
    index.set_buffer(rel, LEDGER_HEAD)
    module, _ = module_name(index.root, rel)
    lines = LEDGER_HEAD.split("\n")
    request = CompletionRequest(shop_root, rel, LEDGER_HEAD + ".", len(lines) - 1,
                                len(lines[-1]) + 1, "grounded")
    monitor = completer.build_monitor(index, module, request, LEDGER_HEAD, type_blind=False,
                                      rescore=False, healed=".")
    spell = monitor.vocabulary.spelling
    looked_from: list[list[int]] = []

    def look_ahead(logits: np.ndarray,
                   tokens: Sequence[int]) -> tuple[list[np.ndarray], np.ndarray]:
        looked_from.append(list(tokens))
        rows = []
        for token in tokens:
            row = np.full(teacher.runtime.vocab_size, -20.0, dtype=np.float32)
            piece = monitor.vocabulary.trie.text(token) or ""
            row[spell("." + favourite_after[piece])[1][0]] = 0.0
            rows.append(row)
        return rows, np.array(logits, copy=True)

    def scorer(logits: np.ndarray, branches: Sequence[Sequence[int]],
               enders: np.ndarray) -> tuple[list[float], np.ndarray]:
        names = ["".join(monitor.vocabulary.trie.text(token) or "" for token in branch)
                 for branch in branches]
        return [0.0 if name.lstrip(".") == best_scored else -50.0 for name in names], logits

    monitor.chooser.scorer, monitor.chooser.look_ahead = scorer, look_ahead
    pieces = teacher.runtime.token_pieces()
    generated: list[int] = []
    written = ""
    while len(generated) < 8 and (not written or written[-1:] in "._"
                                   or written[-1:].isidentifier()):
        logits = np.zeros(teacher.runtime.vocab_size, dtype=np.float32)
        if not generated:
            for text, value in logit_of.items():
                logits[spell(text)[0][0]] = value
        replaced = monitor.logits_hook(generated, logits)
        token = int((logits if replaced is None else replaced).argmax())
        generated.append(token)
        written += pieces[token].decode("utf-8", errors="replace")
    return written, monitor, looked_from


def test_member_chosen_before_its_dot_across_first_tokens(
        completer: Completer, shop_root: Path, teacher: Teacher) -> None:
    """`.` leads `._` by less than the contention margin: names of both kinds compete on
    their whole spelling, and the private one that scores best is written with its `._`."""
    assert len(teacher.runtime.tokenize("._", continuation=True)) == 1
    written, monitor, looked_from = _write_after_healed_dot(
        completer, shop_root, teacher, {".": 2.0, "._": 1.0},
        {".": "add", "._": "total"}, best_scored="_total")
    assert len(looked_from) == 1 and len(looked_from[0]) == 2  # `.` and `._`, one batch
    assert written.startswith("._total") and not written[len("._total"):][:1].isidentifier()
    assert monitor.stats.rescored == 1


def test_a_first_token_far_behind_is_not_looked_ahead_from(
        completer: Completer, shop_root: Path, teacher: Teacher) -> None:
    """`._` trails by more than the margin: `.` is written greedily, with no look-ahead,
    and the public name is chosen after it."""
    written, monitor, looked_from = _write_after_healed_dot(
        completer, shop_root, teacher, {".": 2.0, "._": 2.0 - CONTENTION_MARGIN - 1},
        {".": "add", "._": "total"}, best_scored="balance")
    assert looked_from == []
    assert written.startswith(".balance") and monitor.stats.rescored == 1


def test_whole_name_scoring_on_the_live_model_respects_healing(completer: Completer,
                                                               shop_root: Path) -> None:
    prefix = body_prefix(shop_root) + "cart.a"
    result = complete_at_end(completer, shop_root, prefix)
    name = "a" + (re.match(r"\w*", result.text).group(0))  # type: ignore[union-attr]
    assert name in {"add_item", "apply_discount"}  # `add` is deprecated for add_item
    assert result.rescored_positions >= 1


def test_open_ended_buffer_allows_what_the_edited_class_already_reads(
        completer: Completer, shop_root: Path) -> None:
    """A buffer cut at the cursor hides the methods below it: `self.` in the class being
    edited allows the members defined above, inherited ones, and any member the class body
    above already reads (defined further down in the full file); nothing else."""
    from tether.decoding.grounding.positions import detect_position

    source = (shop_root / "shop" / "models.py").read_text()
    head = source[: source.index("        self.items.extend(")] + (
        "        print(self.total)\n        self.")
    index = completer.registry.get(shop_root)
    module, _ = module_name(index.root, "shop/models.py")
    lines = head.split("\n")
    request = CompletionRequest(shop_root, "shop/models.py", head, len(lines) - 1,
                                len(lines[-1]), "grounded")
    position = detect_position(lines[-1])
    assert position is not None and position.kind == "member"
    try:
        index.set_buffer("shop/models.py", head)
        monitor = completer.build_monitor(index, module, request, head, type_blind=False,
                                          rescore=False, open_ended=True)
        legal = monitor.provider.legal_for(position, head, len(lines) - 1)
        assert legal is not None
        assert {"items", "owner", "add_item", "total"} <= legal.names  # above, read above
        assert "apply_discount" not in legal.names  # below and never read: unknown
        assert "touch" in legal.names  # inherited from Timestamped
    finally:
        index.close_buffer("shop/models.py")
        completer.close_document(shop_root, "shop/models.py")


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


def test_members_read_on_the_class_itself_favour_class_level_ones(completer: Completer,
                                                                  shop_root: Path) -> None:
    from tether.decoding.grounding.member_rules import CLASS_LEVEL_BONUS, PROPERTY_ON_CLASS_PENALTY
    from tether.decoding.grounding.positions import detect_position

    head = body_prefix(shop_root) + "other = C."
    lines = head.split("\n")
    position = detect_position(lines[-1])
    assert position is not None
    legal = monitor_at(completer, shop_root, head).provider.legal_for(position, head,
                                                                      len(lines) - 1)
    assert legal is not None and legal.source == "index"
    assert legal.prior["empty"] == CLASS_LEVEL_BONUS  # a classmethod
    assert legal.prior["total"] == PROPERTY_ON_CLASS_PENALTY  # a property
    assert "add_item" in legal.names and "add_item" not in legal.prior  # legal, no bonus
    instance = body_prefix(shop_root) + "other = cart."
    legal = monitor_at(completer, shop_root, instance).provider.legal_for(
        detect_position("    other = cart."), instance, len(lines) - 1)
    assert legal is not None and not legal.prior


def test_release_lets_pyright_read_the_file_from_disk_again(completer: Completer,
                                                            shop_root: Path) -> None:
    """A batch task cut inside Cart must not leave pyright believing Cart ends there."""
    from tether.decoding.grounding.positions import detect_position

    source = (shop_root / "shop" / "models.py").read_text()
    cut = source[: source.index("    @property")] + "    def more(self):\n        self."
    lines = cut.split("\n")
    request = CompletionRequest(shop_root, "shop/models.py", cut, len(lines) - 1,
                                len(lines[-1]), "grounded")
    completer.complete(request)
    completer.release(request)
    head = body_prefix(shop_root) + "carts = [cart]\n    carts[0]."
    legal = monitor_at(completer, shop_root, head).provider.legal_for(
        detect_position("    carts[0]."), head, head.count("\n"))
    assert legal is not None and legal.source == "pyright"
    assert {"total", "apply_discount", "add_item"} <= legal.names


@pytest.mark.parametrize(("method", "expected"), [("save", "save("), ("__init__", "__init__(")])
def test_super_in_an_override_calls_the_overridden_method(completer: Completer, shop_root: Path,
                                                          method: str, expected: str) -> None:
    from tether.decoding.grounding.member_rules import OVERRIDDEN_BONUS
    from tether.decoding.grounding.positions import detect_position

    signature, call = ("self, ident: int) -> None", "super().") if method == "__init__" \
        else ("self, *, force: bool = False) -> bool", "return super().")
    text = ("from shop.base import Entity\n\n\nclass Archive(Entity):\n"
            f"    def {method}({signature}:\n        self.archived = True\n        {call}")
    lines = text.split("\n")
    rel = "shop/archive.py"
    legal = monitor_at(completer, shop_root, text, rel).provider.legal_for(
        detect_position(lines[-1]), text, len(lines) - 1)
    assert legal is not None and legal.prior[method] == OVERRIDDEN_BONUS
    result = completer.complete(CompletionRequest(shop_root, rel, text, len(lines) - 1,
                                                  len(lines[-1]), "grounded"))
    assert result.text.startswith(expected)


def test_private_members_are_spelled_with_their_dot(completer: Completer,
                                                    shop_root: Path) -> None:
    """Vocabularies spell `._` as one token: healing the dot lets `self._total` be written
    the way the model reads it, and the monitor checks and chooses it at that step."""
    text = ("class Ledger:\n    def __init__(self) -> None:\n        self._total = 0\n\n"
            "    @property\n    def total(self) -> int:\n        return self.")
    lines = text.split("\n")
    result = completer.complete(CompletionRequest(shop_root, "shop/ledger.py", text,
                                                  len(lines) - 1, len(lines[-1]), "grounded"))
    assert result.text == "_total" and result.constrained_steps >= 2


def test_a_dot_token_must_begin_a_legal_member(completer: Completer, shop_root: Path,
                                               model_runtime: ModelRuntime) -> None:
    """Mid-generation, `._` may start `self._total` but no member of a class without
    private members."""
    dot_underscore = model_runtime.tokenize("._", continuation=True)
    assert len(dot_underscore) == 1  # the vocabulary spells it as one token
    head = "class Ledger:\n    def __init__(self) -> None:\n        self.{name} = 0\n\n" \
        "    def add(self, amount: int) -> None:\n        "
    for name, allowed in (("_total", True), ("total", False)):
        text = head.format(name=name)
        monitor = monitor_at(completer, shop_root, text, "shop/ledger.py")
        generated = model_runtime.tokenize("self", continuation=True)
        logits = np.zeros(model_runtime.vocab_size, dtype=np.float32)
        logits[dot_underscore[0]] = 50.0
        monitor.logits_hook(generated, logits)
        assert bool(np.isfinite(logits[dot_underscore[0]])) is allowed


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


@pytest.mark.parametrize(("intended", "passes"), [
    ("meta.__version__.split('.')\n", True),
    ("meta.__versions__.split('.')\n", False),
])
def test_a_module_s_dunder_variables_are_its_members(
        completer: Completer, shop_root: Path, teacher: Teacher, intended: str,
        passes: bool) -> None:
    """celery's tests read `celery.__version__`; the index had skipped dunder names."""
    index = completer.registry.get(shop_root)
    index.set_buffer("shop/meta.py", "__version__ = '1.0'\n__author__ = 'shop'\n")
    try:
        text = "from shop import meta\n\n\ndef version():\n    return "
        written = written_in_file(completer, shop_root, teacher, text, "shop/versions.py",
                                  intended)
        assert (written == intended) is passes
    finally:
        index.close_buffer("shop/meta.py")


@pytest.mark.parametrize(("intended", "passes"), [
    ("cart.population['x'] = 1\n", True),  # assigned above on the same receiver
    ("cart.populations['x'] = 1\n", False),
])
def test_a_name_assigned_on_a_receiver_above_may_be_read(
        completer: Completer, shop_root: Path, teacher: Teacher, intended: str,
        passes: bool) -> None:
    """networkx's examples: `G.population = {}`, then `G.population[city] = ...`."""
    text = ("from shop.models import Cart\n\n\ndef load():\n    cart = Cart()\n"
            "    cart.population = {}\n    ")
    written = written_in_file(completer, shop_root, teacher, text, "shop/loading.py",
                              intended)
    assert (written == intended) is passes


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


@pytest.mark.parametrize(("before", "after", "passes"), [
    ("try:\n        ", "\n    except AttributeError:\n        fileno = None", True),
    ("try:\n        ", "\n    except (KeyError, AttributeError) as error:\n        raise", True),
    ("with suppress(AttributeError):\n        ", "", True),
    ("try:\n        ", "\n    except KeyError:\n        fileno = None", False),
    ("try:\n        pass\n    except AttributeError:\n        ", "", False),  # the handler
])
def test_members_are_free_where_attribute_error_is_caught(
        completer: Completer, shop_root: Path, teacher: Teacher, before: str, after: str,
        passes: bool) -> None:
    """`try: fileno = cart.fileno() except AttributeError:` reads a member Cart lacks on
    purpose. The `except` lies below the cursor: the monitor reads the whole buffer."""
    intended = "fileno = cart.fileno()"
    suffix = after + "\n    return s.checkout(cart)\n"
    monitor = monitor_at(completer, shop_root, body_prefix(shop_root) + before, suffix=suffix)
    assert (teacher.run(monitor, intended) == intended) is passes


@pytest.mark.parametrize(("intended", "passes"), [
    ("expire(now)\n", True),  # defined by a subclass (and by its subclass's subclass)
    ("evict(now)\n", True),
    ("expires(now)\n", False),
    ("size + now\n", True),  # an attribute a subclass sets (a template attribute)
    ("sizes + now\n", False),
])
def test_a_base_class_uses_members_its_subclasses_define(
        completer: Completer, shop_root: Path, teacher: Teacher, intended: str,
        passes: bool) -> None:
    text = "class Timed:\n    def __len__(self, now=0):\n        self."
    suffix = ("\n        return 0\n\n\nclass TTL(Timed):\n    size = 0\n\n"
              "    def expire(self, now=None):\n        pass\n\n\n"
              "class Evicting(TTL):\n    def evict(self, now=None):\n        pass\n")
    monitor = monitor_at(completer, shop_root, text, "shop/timed.py", suffix=suffix)
    try:
        written = teacher.run(monitor, intended)
        assert (written == intended) is passes
        assert monitor.stats.constrained_steps > 0
    finally:
        completer.registry.get(shop_root).close_buffer("shop/timed.py")


_NESTED = ("def escape(text):\n    parts = []\n    start = 0\n\n    def flush():\n        ",
           "\n\n    for index, char in enumerate(text):\n        flush()\n    return parts\n")
_LOOP = ("def joined(fh):\n    for line in fh:\n        ",
         "\n        if line.endswith('\\\\'):\n            oldline = line\n            continue\n")


@pytest.mark.parametrize(("layout", "intended", "passes"), [
    (_NESTED, "if start != index:\n", True),  # bound below the nested function, read when it runs
    (_NESTED, "if start != indexes:\n", False),
    (_LOOP, "line = oldline + line\n", True),  # set further down the loop, read on the next pass
    (_LOOP, "line = oldlines + line\n", False),
])
def test_names_bound_below_that_the_line_reads_later(
        completer: Completer, shop_root: Path, teacher: Teacher, layout: tuple[str, str],
        intended: str, passes: bool) -> None:
    text, suffix = layout
    written = written_in_file(completer, shop_root, teacher, text, "shop/escaping.py",
                              intended, suffix)
    assert (written == intended) is passes


@pytest.mark.parametrize(("intended", "passes"), [
    ("_resolver\n", True),
    ("_resolvers\n", False),
])
def test_self_in_a_class_local_to_a_function_is_typed_by_pyright(
        completer: Completer, shop_root: Path, teacher: Teacher, intended: str,
        passes: bool) -> None:
    """The index holds no local class; a module-level namesake must not stand in for it
    (jsonschema's `create()` defines `Validator`, and the module imports one)."""
    text = ("from shop.models import Cart as Validator\n\n\ndef create():\n"
            "    class Validator:\n        def __init__(self):\n"
            "            self._resolver = None\n\n        def lookup(self):\n"
            "            return self.")
    written = written_in_file(completer, shop_root, teacher, text, "shop/creating.py",
                              intended)
    assert (written == intended) is passes


@pytest.mark.parametrize(("head", "intended", "passes"), [
    ('    __slots__ = ("x", "y")\n', "x = x\n", True),
    ('    __slots__ = ("x", "y")\n', "z = x\n", False),  # AttributeError at run time
    ('    __slots__ = ("x", "__dict__")\n', "z = x\n", True),
    ("", "z = x\n", True),  # no slots: a new attribute
])
def test_an_initializer_of_a_slotted_class_assigns_only_its_slots(
        completer: Completer, shop_root: Path, teacher: Teacher, head: str, intended: str,
        passes: bool) -> None:
    text = f"class Point:\n{head}\n    def __init__(self, x):\n        self."
    written = written_in_file(completer, shop_root, teacher, text, "shop/points.py", intended)
    assert (written == intended) is passes


@pytest.mark.parametrize(("intended", "passes"), [("x + 1\n", True), ("z + 1\n", False)])
def test_self_continuing_an_expression_in_an_initializer_only_reads(
        completer: Completer, shop_root: Path, teacher: Teacher, intended: str,
        passes: bool) -> None:
    """`total = (` / `self.`: not a statement that may create an attribute."""
    text = ("class Point:\n    def __init__(self, x):\n        self.x = x\n"
            "        total = (\n            self.")
    written = written_in_file(completer, shop_root, teacher, text, "shop/points.py", intended)
    assert (written == intended) is passes


@pytest.mark.parametrize(("intended", "passes"), [
    ("self.cache = {}\n", True),  # any method may create an attribute
    ("self.cache == {}\n", False),
    ("self.cache.clear()\n", False),  # a new name that is read
    ("self.x = 0\n", True),
    ("self.x += 1\n", True),
    ("self.low, self.high = 0, 1\n", True),  # the targets of a tuple assignment
    ("self.size: int = 0\n", True),  # an annotated assignment
    ("self.low, self.high\n", False),  # reads of names nobody defined
    ("self.low + 1\n", False),
    ("self.x, self.high.clear()\n", False),
])
def test_a_method_may_assign_a_new_attribute(completer: Completer, shop_root: Path,
                                             teacher: Teacher, intended: str,
                                             passes: bool) -> None:
    text = ("class Point:\n    def __init__(self, x):\n        self.x = x\n\n"
            "    def move(self):\n        ")
    written = written_in_file(completer, shop_root, teacher, text, "shop/points.py", intended)
    assert (written == intended) is passes


@pytest.mark.parametrize(("intended", "passes"), [
    (".cache = {}\n", True),
    (".cache.clear()\n", False),
])
def test_a_new_attribute_after_a_healed_dot(completer: Completer, shop_root: Path,
                                            teacher: Teacher, intended: str,
                                            passes: bool) -> None:
    """The prompt ends `self` (healing took the dot): the dot alone may come first, then a
    new attribute's name, as long as `=` follows it."""
    rel = "shop/points.py"
    head = ("class Point:\n    def __init__(self, x):\n        self._x = x\n\n"
            "    def move(self):\n        self")
    index = completer.registry.get(shop_root)
    index.set_buffer(rel, head + ".")
    module, _ = module_name(index.root, rel)
    lines = head.split("\n")
    request = CompletionRequest(shop_root, rel, head + ".", len(lines) - 1,
                                len(lines[-1]) + 1, "grounded")
    monitor = completer.build_monitor(index, module, request, head, type_blind=False,
                                      rescore=False, healed=".")
    try:
        assert (teacher.run(monitor, intended) == intended) is passes
    finally:
        index.close_buffer(rel)


@pytest.mark.parametrize(("head", "defines"), [
    ("        x = (\n            self.", False),
    ("        x = 1 + \\\n            self.", False),
    ("        x = 1\n        self.", True),
    ("        self.a, self.", True),  # the next target of a tuple assignment
    ("        a, *self.", True),
    ("        return a, self.", False),
    ("        f(a), self.", False),
    ("        myself.", False),
    ("", True),
])
def test_self_may_define_an_attribute_only_where_a_statement_starts(head: str,
                                                                    defines: bool) -> None:
    from tether.decoding.grounding.member_rules import statement_function

    text = "class A:\n    def __init__(self, a=(1,\n                 2)):\n" + (
        head or "        self.")
    assert (statement_function("self", text) == "__init__") is defines


def test_a_slotted_class_on_an_unslotted_base_takes_new_attributes(
        completer: Completer, shop_root: Path, teacher: Teacher) -> None:
    text = ("class Base:\n    pass\n\n\nclass Point(Base):\n    __slots__ = ('x',)\n\n"
            "    def __init__(self, x):\n        self.")
    written = written_in_file(completer, shop_root, teacher, text, "shop/points.py", "z = x\n")
    assert written == "z = x\n"  # Base gives it a __dict__


_GUARDS = """def f(s):
    try:
        n = s.
    except* AttributeError:
        pass
    try:
        def g():
            s.
    except AttributeError:
        s.
    with open(p), suppress(TypeError, AttributeError):
        s.
    with suppress(KeyError):
        s.
"""


@pytest.mark.parametrize(("line", "caught"), [
    (2, True), (7, False), (9, False), (11, True), (13, False), (40, False)])
def test_where_attribute_errors_are_caught(line: int, caught: bool) -> None:
    """A function defined in the `try` body runs elsewhere; the handler is not guarded."""
    from tether.decoding.grounding.error_guards import ATTRIBUTE_ERROR, caught_errors

    assert (ATTRIBUTE_ERROR in caught_errors(_GUARDS, line)) is caught


_IMPORT_GUARDS = """try:
    import ujson as json
except ImportError:
    import json
try:
    from lxml import etree
except (ModuleNotFoundError, OSError):
    etree = None
with suppress(ImportError):
    import yaml
try:
    import toml
except AttributeError:
    pass
"""


@pytest.mark.parametrize(("line", "caught"), [
    (1, True), (3, False), (5, True), (7, False), (9, True), (11, False), (40, False)])
def test_where_import_errors_are_caught(line: int, caught: bool) -> None:
    from tether.decoding.grounding.error_guards import IMPORT_ERROR, caught_errors

    assert (IMPORT_ERROR in caught_errors(_IMPORT_GUARDS, line)) is caught


@pytest.mark.parametrize(("intended", "guarded", "passes"), [
    ("import ujson as json\n", True, True),  # an optional dependency, not installed
    ("import ujson as json\n", False, False),  # unguarded: no such module here
    ("from paste import httpserver\n", True, True),
])
def test_a_module_may_be_missing_where_import_error_is_caught(
        completer: Completer, shop_root: Path, teacher: Teacher, intended: str,
        guarded: bool, passes: bool) -> None:
    text = "def serve():\n    try:\n        " if guarded else "def serve():\n    "
    suffix = "\n    except ImportError:\n        import json\n" if guarded else "\n"
    written = written_in_file(completer, shop_root, teacher, text, "shop/serving.py",
                              intended, suffix)
    assert (written == intended) is passes


@contextmanager
def asking_at_end(completer: Completer, root: Path, rel: str,
                  head: str) -> Iterator[Callable[[], LegalSet | None]]:
    """While `head` is open as the buffer of `rel` (which need not exist), cut at the cursor:
    a function that computes the monitor's legal set at its end, afresh on each call."""
    from tether.decoding.grounding.positions import detect_position

    index = completer.registry.get(root)
    module, _ = module_name(index.root, rel)
    lines = head.split("\n")
    request = CompletionRequest(root, rel, head, len(lines) - 1, len(lines[-1]), "grounded")
    position = detect_position(lines[-1])
    assert position is not None

    def ask() -> LegalSet | None:
        monitor = completer.build_monitor(index, module, request, head, type_blind=False,
                                          rescore=False, open_ended=True)
        return monitor.provider.legal_for(position, head, len(lines) - 1)

    try:
        index.set_buffer(rel, head)
        yield ask
    finally:
        index.close_buffer(rel)
        completer.close_document(root, rel)


def legal_set_at_end(completer: Completer, root: Path, rel: str, head: str) -> LegalSet | None:
    with asking_at_end(completer, root, rel, head) as ask:
        return ask()


def legal_set_when(settled: Callable[[LegalSet | None], bool], completer: Completer,
                   root: Path, rel: str, head: str) -> LegalSet | None:
    """`legal_set_at_end`, asked again (the buffer kept open, as in an editor) for up to 30 s
    until `settled` holds: pyright, busy with a first analysis, may answer after its
    timeout."""
    import time

    with asking_at_end(completer, root, rel, head) as ask:
        legal = ask()
        deadline = time.monotonic() + 30.0
        while not settled(legal) and time.monotonic() < deadline:
            time.sleep(0.2)
            legal = ask()
        return legal


@pytest.mark.parametrize(("intended", "passes"), [
    (".apply_discount(\"x\")\n    )", True),
    (".discounted(\"x\")\n    )", False),
])
def test_a_chained_call_continued_on_a_new_line_is_constrained(
        completer: Completer, shop_root: Path, teacher: Teacher, intended: str,
        passes: bool) -> None:
    """`(cart` / `.member`: the receiver ends the line above; pyright knows its members."""
    prefix = body_prefix(shop_root) + "price = (\n        cart\n        "
    monitor = monitor_at(completer, shop_root, prefix)
    written = teacher.run(monitor, intended)
    assert (written == intended) is passes
    assert written.startswith(".")
    assert monitor.provider.sources["pyright"] > 0


DYNAMIC_HEAD = ("from collections import OrderedDict\n\n\n"
                "class Options:\n    def __init__(self, **settings):\n"
                "        for key, value in settings.items():\n"
                "            setattr(self, key, value)\n\n\n"
                "class Point:\n    def __init__(self):\n        setattr(self, 'x', 0)\n\n\n"
                "class Settings:\n    def load(self, **values):\n"
                "        self.__dict__.update(values)\n\n\n"
                "class Verbs:\n    pass\n\n\nfor verb in ('get', 'post'):\n"
                "    setattr(Verbs, verb, None)\n\n\n"
                "class Fixed:\n    pass\n\n\nsetattr(Fixed, 'answer', 42)\n\n\n"
                "class Tally(OrderedDict):\n    pass\n\n\nsetattr(Tally, 'answer', 42)\n\n\n"
                "class ModelBase(type):\n    def add_to_class(cls, name, value):\n"
                "        setattr(cls, name, value)\n\n\n"
                "class Model(metaclass=ModelBase):\n    pass\n\n\n"
                "class Article(Model):\n    title = ''\n\n\n"
                "codes = Point()\norigin = Point()\n\n\n"
                "def fill(names):\n    for name in names:\n        setattr(codes, name, 1)\n\n\n"
                "def main():\n")


@pytest.mark.parametrize(("body", "legal_names"), [
    ("    opts = Options(verbose=True)\n    opts.", None),  # any name may have been set
    ("    found = [Settings()][0]\n    found.", None),  # typed by pyright only (its hover)
    ("    point = Point()\n    point.", {"x"}),
    ("    Verbs.", None),  # set on the class by computed names
    ("    Verbs().", None),  # and so on its instances
    ("    Fixed.", {"answer"}),
    ("    Fixed().", {"answer"}),
    ("    Tally().", {"answer", "popitem"}),  # pyright's members (the base is not indexed)
    ("    Article.", None),  # its metaclass sets attributes (Django's `Article.objects`)
    ("    Article().", None),
    ("    codes.", None),  # a module-level object filled by setattr (requests' status codes)
    ("    origin.", {"x"}),
])
def test_attributes_set_by_setattr(completer: Completer, shop_root: Path, body: str,
                                   legal_names: set[str] | None) -> None:
    legal = legal_set_when(lambda legal: (legal is None) == (legal_names is None),
                           completer, shop_root, "shop/options.py", DYNAMIC_HEAD + body)
    if legal_names is None:
        assert legal is None
    else:
        assert legal is not None and legal_names <= legal.names
        assert "verbose" not in legal.names


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


@pytest.mark.parametrize(("intended", "passes"), [
    ('total()}")\n', True),
    ('grand_total}")\n', False),
])
def test_a_member_inside_an_f_string_field_is_constrained(
        completer: Completer, shop_root: Path, teacher: Teacher, intended: str,
        passes: bool) -> None:
    monitor = monitor_at(completer, shop_root, body_prefix(shop_root) + 'print(f"due: {cart.')
    written = teacher.run(monitor, intended)
    assert (written == intended) is passes
    assert monitor.stats.constrained_steps > 0


DOCSTRING_HEAD = '"""Check the cart out.\n\n    Afterwards call cart.'


def test_a_docstring_begun_above_is_left_free(completer: Completer, shop_root: Path,
                                              teacher: Teacher) -> None:
    """Prose naming a member that does not exist is still prose; once the model closes the
    docstring, members are constrained again."""
    monitor = monitor_at(completer, shop_root, body_prefix(shop_root) + DOCSTRING_HEAD)
    prose = 'grand_total() to see it.\n    """\n    cart.'
    written = teacher.run(monitor, prose + "grand_total()")
    assert written.startswith(prose) and written != prose + "grand_total()"
    assert monitor.stats.constrained_steps > 0  # only after the docstring closed


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


CALLS_HEAD = """import json
from dataclasses import dataclass
from typing import NamedTuple

from not_installed import BaseModel, route


@dataclass
class Item:
    name: str
    price: float = 0.0


@dataclass
class Boxed(Item):
    size: int = 1


class Point(NamedTuple):
    x: int


class User(BaseModel):
    email: str


class Plain:
    pass


class Made:
    def __new__(cls, size):
        return super().__new__(cls)


@route("/")
def page(slug):
    return slug


def scaled(value, /, factor, *, exact=False):
    return value


def main(words: list[str], blob):
    return """


@pytest.mark.parametrize(("call", "keywords"), [
    ("scaled(1, ", {"factor", "exact"}),
    ("Item(", {"name", "price"}),  # a dataclass's fields
    ("Boxed(", {"name", "price", "size"}),  # with the inherited ones
    ("Made(", {"size"}),
    ("Plain(", set()),  # `object()`
    ("json.dumps(data, ", None),  # pyright's signature: `**kwds`
    ("textwrap.wrap(text, ", {"width", "initial_indent", "break_long_words"}),  # pyright's
    ("sorted(items, ", {"key", "reverse"}),  # a builtin
    ("words.sort(", {"key", "reverse"}),  # a method only pyright types: asked in the file
    ("blob.run(", None),  # Unknown to pyright too
    ("User(", None),  # a base the index cannot read
    ("Point(", {"x"}),  # NamedTuple: not listed in the index, pyright reads it in the file
    ("page(", None),  # an unknown decorator may change the signature
])
def test_keyword_arguments_the_index_can_and_cannot_know(
        completer: Completer, shop_root: Path, call: str, keywords: set[str] | None) -> None:
    head = CALLS_HEAD.replace("import json\n", "import json\nimport textwrap\n") + call
    legal = legal_set_when(lambda legal: legal is not None or keywords is None,
                           completer, shop_root, "shop/calls.py", head)
    if keywords is None:
        assert legal is None
    else:
        assert legal is not None and legal.keyword_params is not None
        assert keywords <= legal.keyword_params
        assert "widht" not in legal.keyword_params


@pytest.mark.parametrize(("intended", "passes"), [
    ('Item(name="tea", price=2)\n', True),
    ('Item(title="tea")\n', False),  # not a field
    ('scaled(1, 2, exact=True)\n', True),
    ('scaled(1, 2, exactly=True)\n', False),
    ("sorted(k for k in {}, reverse=True)\n", True),  # `k` is bound after its use
    ('Item(\n        name="tea",\n        price=2,\n    )\n', True),  # over several lines
    ('Item(\n        name="tea",\n        title="x",\n    )\n', False),
])
def test_dataclass_fields_are_its_keyword_arguments(completer: Completer, shop_root: Path,
                                                    teacher: Teacher, intended: str,
                                                    passes: bool) -> None:
    rel = "shop/calls.py"
    monitor = monitor_at(completer, shop_root, CALLS_HEAD, rel)
    try:
        assert (teacher.run(monitor, intended) == intended) is passes
    finally:
        completer.registry.get(shop_root).close_buffer(rel)
        completer.close_document(shop_root, rel)


@pytest.mark.parametrize(("head", "visible"), [
    ("def main():\n    return ", True),  # runs after the module has defined `helper`
    ("value = ", False),  # module level: `helper` is not bound yet
])
def test_a_function_body_sees_module_names_defined_below_the_cursor(
        completer: Completer, shop_root: Path, head: str, visible: bool) -> None:
    from tether.decoding.grounding.position_reader import position_at_end

    rel = "shop/below.py"
    buffer = head + "\n\n\ndef helper():\n    return 1\n"
    index = completer.registry.get(shop_root)
    lines = head.split("\n")
    request = CompletionRequest(shop_root, rel, buffer, len(lines) - 1, len(lines[-1]),
                                "grounded")
    position = position_at_end(head)
    assert position is not None and position.kind == "name"
    try:
        index.set_buffer(rel, buffer)
        monitor = completer.build_monitor(index, "shop.below", request, head,
                                          type_blind=False, rescore=False)
        legal = monitor.provider.legal_for(position, head, len(lines) - 1)
    finally:
        index.close_buffer(rel)
        completer.close_document(shop_root, rel)
    assert legal is not None and ("helper" in legal.names) is visible
