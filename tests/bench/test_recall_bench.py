"""The recall benchmark's line picking, and the monitor on every statement of a small
repository: real code passes unchanged, invented members of known types are stopped."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bench.recall_bench import score_repo, statement_lines
from tether.decoding.completion.engine import Completer
from tether.decoding.grounding.forcing import ForcedDecoder
from tether.decoding.model.runtime import ModelRuntime

STORE = textwrap.dedent('''\
    """Stock keeping."""

    from __future__ import annotations

    import logging
    from dataclasses import dataclass

    log = logging.getLogger(__name__)


    @dataclass
    class Item:
        sku: str
        count: int = 0

        def restock(self, amount: int) -> int:
            """Add stock."""
            self.count += amount
            log.info("restocked %s", self.sku)
            return self.count


    class Store:
        def __init__(self, name: str) -> None:
            self.name = name
            self.items: dict[str, Item] = {}

        def add(self, item: Item) -> None:
            self.items[item.sku] = item
            item.restock(1)

        def total(self) -> int:
            counts = [item.count for item in self.items.values()]
            return sum(counts)


    def open_store(name: str, skus: list[str]) -> Store:
        store = Store(name)
        for sku in skus:
            store.add(Item(sku))
        label = name.upper().strip()
        log.debug("opened %s", label)
        return store
    ''')


def test_statement_lines_are_first_lines_of_statements_in_functions() -> None:
    source = textwrap.dedent('''\
        x = 1


        def f(a):
            """Doc."""
            # a comment
            if a: a.go()
            y = (a.b,
                 a.c)
            pass
            return y.z


        class C:
            size = 2

            def g(self):
                ...
                self.size.bit_length()
        ''').encode()
    picked = {(site.line, site.indent, site.member_column)
              for site in statement_lines(source, "m.py")}
    assert picked == {(6, 4, 12), (7, 4, 11), (10, 4, 13), (18, 8, 13)}


@pytest.fixture(scope="module")
def store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("recall") / "inventory"
    (root / "inventory").mkdir(parents=True)
    (root / "inventory" / "__init__.py").write_text("")
    (root / "inventory" / "stock.py").write_text(STORE)
    return root


def test_every_statement_passes_and_invented_members_are_stopped(
        completer: Completer, model_runtime: ModelRuntime, store_root: Path) -> None:
    decoder = ForcedDecoder(model_runtime.token_pieces(), set(model_runtime.vocab.control_ids))
    score = score_repo("inventory", store_root, completer, decoder, count=100, seed=1)
    assert score.lines == 15
    assert score.blocked == [] and score.passed == score.lines
    # an initializer may create attributes, and a comprehension's variable is typed only
    # after its use: only there is an invented member let through (`self.countZq +=
    # amount` in a method is not: a new attribute there must be assigned with `=`)
    assert sorted(str(u["text"]) for u in score.unguarded) == [
        "counts = [item.countZq for item in self.items.values()]",
        "self.itemsZq: dict[str, Item] = {}", "self.nameZq = name"]
    assert score.invented_stopped == score.members - 3 > 6
    assert score.positions["index"] > 0 and score.positions["pyright"] > 0
