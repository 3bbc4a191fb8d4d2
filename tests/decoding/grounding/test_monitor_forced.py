"""The monitor teacher-forced on the shop fixture: real vocabulary, real index, real pyright.

At each step the logits favour the longest vocabulary token that continues an intended text
(support.grounding.Teacher), the monitor edits them, and the argmax is taken exactly as the
runtime does. Legal code comes out unchanged; an invented or deprecated member cannot be
spelled. Names (tests/decoding/grounding/test_forced_names.py) and new attributes on `self`
(test_forced_self_attributes.py) have files of their own.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np
import pytest
from support.grounding import Teacher, body_prefix, monitor_at

from tether.decoding.completion.engine import Completer
from tether.decoding.model.runtime import ModelRuntime


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
