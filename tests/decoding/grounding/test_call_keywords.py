"""Keyword arguments at a call: the legal keywords the monitor finds (the index, pyright's
signatures) and what it lets a teacher-forced call write."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.grounding import Teacher, legal_set_when, monitor_at

from tether.decoding.completion.engine import Completer

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
