"""Pure parts of the grounding benchmark (bench/grounding_*.py): no model, no network."""

from __future__ import annotations

import struct
import sys
import textwrap
import zlib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.grounding_bench import interleave, markdown
from bench.grounding_fixture import write_fixture
from bench.grounding_metrics import (
    leading_identifier,
    percentile,
    strict_invented,
    summarize,
    variant_source,
)
from bench.grounding_png import PNG_SIGNATURE, bar_chart, png_bytes
from bench.grounding_tasks import (
    Task,
    call_sites,
    defined_functions,
    deprecation_tasks,
    deprecations_in,
    repo_tasks,
    spread_sample,
    stdlib_bindings,
)
from bench.sources import canonical_name, fetch_sdist
from tether.index.parsing import parse

MODULE = textwrap.dedent('''\
    """A module."""
    import json
    cache.early(1)
    import os.path as osp
    from datetime import datetime
    from . import helpers

    def helper(x):
        return x


    class Store:
        def __init__(self):
            self.items = []

        def save(self, item):
            self.items.append(item)
            osp.join("a", "b")
            json.dumps(item)
            datetime.now()
            "".join(["x"])
            return self.flush(item)

        def flush(self, item):
            return helpers.save(item)
    ''')


def _write_repo(root: Path) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "store.py").write_text(MODULE)
    (root / "pkg" / "helpers.py").write_text(
        "def save(item):\n    return item\n\n\ndef join(*parts):\n    return parts\n\n\n"
        "def dumps(x):\n    return x\n\n\ndef now():\n    return 0\n\n\ndef early(x):\n"
        "    return x\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_store.py").write_text(
        "from pkg.store import Store\n\n\n\n\n\n\n\ndef test():\n    Store().save(1)\n")


@pytest.mark.parametrize(("completion", "expected"), [
    ("save(x)", "save"), ("  _private1.attr", "_private1"), ("\n\tflush", "flush"),
    ("", ""), ("(x)", ""), ("9lives", ""), ("   ", ""), ("été", ""),
])
def test_leading_identifier(completion: str, expected: str) -> None:
    assert leading_identifier(completion) == expected


def test_stdlib_bindings_cover_aliases_and_from_imports() -> None:
    bound = stdlib_bindings(parse(MODULE.encode()).root_node)
    assert {"json", "osp", "datetime"} <= bound
    assert "helpers" not in bound  # relative import: the repository's own module


def test_defined_functions_skip_dunders() -> None:
    assert defined_functions([MODULE.encode()]) == {"helper", "save", "flush"}


def test_call_sites_filter_stdlib_literals_and_early_lines() -> None:
    names = {"save", "join", "dumps", "now", "early", "flush", "append"}
    sites = call_sites(MODULE.encode(), "pkg/store.py", names)
    found = {(site.receiver, site.name) for site in sites}
    # cache.early(1) has only 2 code lines before it; osp/json/datetime are stdlib bindings;
    # "".join has a literal receiver.
    assert found == {("self.items", "append"), ("self", "flush"), ("helpers", "save")}
    flush = next(site for site in sites if site.name == "flush")
    assert MODULE.split("\n")[flush.line][flush.character:].startswith("flush(item)")
    assert flush.enclosing == "save"


def test_repo_tasks_cut_after_the_dot_and_skip_tests(tmp_path: Path) -> None:
    _write_repo(tmp_path)
    tasks = repo_tasks(tmp_path, "demo", per_repo=10, seed=1)
    assert {task.expected for task in tasks} == {"flush", "save"}  # `append` is not defined
    for task in tasks:
        assert not task.path.startswith("tests/")
        assert task.text.endswith(task.receiver + ".")
        lines = task.text.split("\n")
        assert len(lines) == task.line + 1 and len(lines[-1]) == task.character
        assert task.workspace == str(tmp_path.resolve())
        assert task.contract(":warm")["id"] == task.id + ":warm"
    assert repo_tasks(tmp_path, "demo", 10, seed=1) == tasks  # deterministic


def test_spread_sample_is_seeded_and_spread_over_files(tmp_path: Path) -> None:
    sources = {f"m{n}.py": ("x = 1\n" * 6 + "\n".join(f"a.f{n}()" for _ in range(4))).encode()
               for n in range(5)}
    sites = [site for rel, source in sources.items()
             for site in call_sites(source, rel, {f"f{n}" for n in range(5)})]
    assert len(sites) == 20
    picked = spread_sample(sites, 5, seed=3, label="r")
    assert len({site.path for site in picked}) == 5
    assert picked == spread_sample(sites, 5, seed=3, label="r")
    assert len(spread_sample(sites, 50, seed=3, label="r")) == 20


def test_deprecations_need_a_named_replacement() -> None:
    source = textwrap.dedent('''\
        import warnings
        from compat import deprecated

        class C:
            @deprecated("use add_item instead")
            def add(self): ...

            def drop(self):
                warnings.warn("drop() is deprecated; use `C.remove_item` instead",
                              DeprecationWarning)

            def old(self):
                warnings.warn("old() is going away", DeprecationWarning)

            def noisy(self):
                warnings.warn("use loud instead", UserWarning)
        ''').encode()
    found = {(d.name, d.replacement) for d in deprecations_in(source, "c.py")}
    assert found == {("add", "add_item"), ("drop", "remove_item")}


def test_fixture_deprecation_tasks(tmp_path: Path) -> None:
    root = write_fixture(tmp_path)
    tasks = deprecation_tasks(root, "ledgerkit", limit=100, seed=0)
    assert len(tasks) >= 15
    pairs = {(task.expected, task.deprecated) for task in tasks}
    assert {("add_item", "add"), ("remove_item", "remove"), ("quantity_of", "count"),
            ("open_session", "connect"), ("send_request", "call")} <= pairs
    assert all(task.kind == "deprecation" and task.id.startswith("dep:") for task in tasks)
    # the deprecated wrappers' own calls of their replacement are not tasks
    assert not any(task.path in ("ledgerkit/cart.py", "ledgerkit/inventory.py",
                                 "ledgerkit/client.py") for task in tasks)
    assert write_fixture(tmp_path) == root  # idempotent


def _task(task_id: str, expected: str, kind: str = "repo", deprecated: str | None = None,
          path: str | None = None) -> Task:
    return Task(id=task_id, kind=kind, repo="demo", workspace="/ws", path=path or task_id,
                line=0, character=5, text="self.", expected=expected, receiver="self",
                deprecated=deprecated)


def test_summarize_metrics() -> None:
    tasks = [_task("a", "save"), _task("b", "flush"), _task("c", "load"), _task("d", "load"),
             _task("e", "add_item", "deprecation", "add", path="a"),
             _task("f", "restock", "deprecation", "refill")]
    cold = {"a": {"completion": "save(x)", "latency_ms": 100.0},
            "b": {"completion": "flsh()", "latency_ms": 200.0},
            "c": {"completion": "  ", "latency_ms": 300.0},
            "d": {"completion": "items", "latency_ms": 400.0},
            "e": {"completion": "add(1)", "latency_ms": 500.0},
            "f": {"completion": "restock(", "latency_ms": 600.0}}
    warm = {key: {"completion": value["completion"], "latency_ms": 10.0}
            for key, value in cold.items()}
    warm["f"]["completion"] = "other"
    known = {"demo": {"save", "flush", "load", "items", "self"}}
    rejected = {("b", "flsh"), ("d", "items"), ("a", "save")}
    metrics = summarize(tasks, cold, warm, known, rejected)
    assert metrics["n"] == 4 and metrics["deprecation_n"] == 2
    assert metrics["nim"] == 0.25
    assert metrics["empty"] == 0.25
    assert metrics["invented_lenient"] == 0.25  # only "flsh"; an exact match never counts
    assert metrics["invented_strict"] == 0.5  # "flsh" and "items"
    assert metrics["deprecated_written"] == 0.5
    assert metrics["deprecation_nim"] == 0.5
    assert metrics["cold_p50_ms"] == 350.0 and metrics["warm_p95_ms"] == 10.0
    assert metrics["cold_first_in_document_n"] == 5  # "e" reuses the document of "a"
    assert metrics["cold_warm_same_completion"] == pytest.approx(5 / 6)


def test_percentile() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0], 95) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile(range(1, 101), 95) == pytest.approx(95.05)


def test_variant_source_replaces_only_the_hole() -> None:
    task = Task(id="t", kind="repo", repo="r", workspace="/w", path="m.py", line=1,
                character=12, text="", expected="flush", receiver="self")
    original = "x = 1\nreturn self.flush(item)  # flush\n"
    assert variant_source(original, task, "flsh") == "x = 1\nreturn self.flsh(item)  # flush\n"
    assert variant_source("x = 1\nreturn other\n", task, "flsh") is None


def _chunks(data: bytes) -> dict[bytes, bytes]:
    chunks, offset = {}, len(PNG_SIGNATURE)
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind, body = data[offset + 4:offset + 8], data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks[kind] = chunks.get(kind, b"") + body
        offset += 12 + length
    return chunks


def test_png_writer_produces_a_valid_png() -> None:
    data = png_bytes(2, 1, bytes([255, 0, 0, 0, 0, 255]))
    assert data.startswith(PNG_SIGNATURE)
    chunks = _chunks(data)
    assert struct.unpack(">II", chunks[b"IHDR"][:8]) == (2, 1)
    assert zlib.decompress(chunks[b"IDAT"]) == b"\x00" + bytes([255, 0, 0, 0, 0, 255])
    with pytest.raises(ValueError):
        png_bytes(2, 2, b"\x00")


def test_bar_chart_png() -> None:
    data = bar_chart([("gemma3-270m", "plain", [0.5, 0.2, 0.1, 0.0]),
                      ("gemma3-270m", "blind", [None, None, None, None])], "Grounding")
    chunks = _chunks(data)
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    assert len(zlib.decompress(chunks[b"IDAT"])) == height * (1 + 3 * width)
    assert list(chunks)[-1] == b"IEND"


def test_interleave_round_robin() -> None:
    a, b, c = _task("a1", "x"), _task("a2", "x"), _task("b1", "x")
    assert interleave([[a, b], [], [c]]) == [a, c, b]


def test_markdown_reports_unavailable_modes() -> None:
    metrics = summarize([_task("a", "save")], {"a": {"completion": "save", "latency_ms": 5.0}},
                        {"a": {"completion": "save", "latency_ms": 1.0}}, {}, set())
    rows = [{"model": "m", "mode": "plain", "status": "ok", "metrics": metrics},
            {"model": "m", "mode": "blind", "status": "unavailable", "reason": "no monitor"}]
    meta = {"packages": ["p==1"], "seed": 0, "tasks_repo": 1, "tasks_deprecation": 0,
            "pyright": {}, "seconds": 1.0}
    table = markdown(rows, meta)
    assert "| m | plain | 100.0% | 0.0% | 0.0% | — | 5 / 5 | 1 / 1 | 1 + 0 dep |" in table
    assert "| m | blind | unavailable |" in table


def test_sdist_cache_matches_normalised_names_and_pinned_versions(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for folder in ("Django-5.1.3", "typing_extensions-4.12.2", "click-8.1.7", "click-8.1.8"):
        (src / folder).mkdir(parents=True)
    assert fetch_sdist("django==5.1.3", tmp_path) == src / "Django-5.1.3"
    assert fetch_sdist("typing-extensions==4.12.2", tmp_path).name == "typing_extensions-4.12.2"
    assert fetch_sdist("click==8.1.7", tmp_path).name == "click-8.1.7"
    assert canonical_name("Zope.Interface") == "zope-interface"


def test_strict_check_skips_tasks_whose_real_name_pyright_rejects_too(tmp_path: Path) -> None:
    source = ("class Store:\n    def save(self) -> None: ...\n\n\nclass Holder:\n"
              "    ops = None\n\n    def run(self) -> None:\n        Store().save()\n"
              "        self.ops.flush()\n")
    (tmp_path / "pkg.py").write_text(source)

    def task(line: int, character: int, expected: str) -> Task:
        return Task(f"t:{expected}", "repo", "t", str(tmp_path), "pkg.py", line, character,
                    "", expected, "x")

    known, unknown = task(8, 16, "save"), task(9, 17, "flush")
    rejected, info = strict_invented([(known, "bogus"), (unknown, "get")])
    assert rejected == {("t:save", "bogus")}  # `self.ops` is None to pyright: not judged
    assert info["unjudged"] == 1


def test_strict_check_judges_the_predicted_name_not_a_later_one_on_its_line(
        tmp_path: Path) -> None:
    source = ("def parse(names: str) -> list[str]:\n"
              "    return names.replace(',', ' ').split()\n")
    (tmp_path / "pkg.py").write_text(source)
    hole = Task("t:replace", "repo", "t", str(tmp_path), "pkg.py", 1, 17, "", "replace", "x")
    # `names.split(',', ' ').split()`: the second `split` is on a list, the first is real
    rejected, _ = strict_invented([(hole, "split"), (hole, "splice")])
    assert rejected == {("t:replace", "splice")}
