"""The completion engine on the shop fixture: real llama.cpp, real index, real pyright."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from support.completion import complete

from tether.decoding.completion.engine import Completer, CompleterSettings, CompletionRequest
from tether.decoding.completion.repo_context import ContextBuilder, retrieval_query
from tether.decoding.completion.stages import heal
from tether.decoding.model.files import ModelLoadError, ModelNotFoundError
from tether.index.lru import LruCache
from tether.index.search import HybridSearcher, SearchHit

RUN_PY = "scripts/run.py"


def cut_before(root: Path, rel: str, marker: str, insert: str) -> tuple[str, int, int]:
    """The file's text up to `marker` with `insert` typed there; returns (text, line, char)."""
    source = (root / rel).read_text()
    text = source[: source.index(marker)] + insert
    lines = text.split("\n")
    return text, len(lines) - 1, len(lines[-1])


def request(root: Path, text: str, line: int, character: int, mode: str,
            rel: str = RUN_PY) -> CompletionRequest:
    return CompletionRequest(root, rel, text, line, character, mode)


def test_plain_mode_uses_no_repository_context(completer: Completer, shop_root: Path) -> None:
    text, line, char = cut_before(shop_root, RUN_PY, "    return s.checkout", "    cart.")
    result = complete(completer, request(shop_root, text, line, char, "plain"))
    assert result.mode == "plain" and result.context_sources == []
    assert result.receiver is None
    assert "\n" not in result.text  # an inline position completes one line at most


def test_rag_mode_puts_the_receiver_and_its_definition_in_the_prompt(
        completer: Completer, shop_root: Path) -> None:
    text, line, char = cut_before(shop_root, RUN_PY, "    return s.checkout", "    cart.")
    result = complete(completer, request(shop_root, text, line, char, "rag"))
    assert result.receiver == "shop.models.Cart"
    assert any("shop.models.Cart" in source for source in result.context_sources)
    prompt = completer.runtime.detokenize(completer.last_prompt)
    assert "def add_item(self, item: Item, quantity: int = 1) -> None" in prompt
    assert "# cart: Cart has" in prompt  # the receiver hint right above the cursor line


def test_a_windows_buffer_is_completed_like_its_unix_twin(completer: Completer,
                                                         shop_root: Path) -> None:
    """`\\r\\n` line endings: the same prompt (none of them in it) and the same completion."""
    text, line, char = cut_before(shop_root, RUN_PY, "    return s.checkout", "    cart.")
    unix = complete(completer, request(shop_root, text, line, char, "grounded"))
    unix_prompt = list(completer.last_prompt)
    windows = complete(completer, request(shop_root, text.replace("\n", "\r\n"), line, char,
                                         "grounded"))
    assert completer.last_prompt == unix_prompt
    assert "\r" not in completer.runtime.detokenize(completer.last_prompt)
    assert windows.text == unix.text and unix.text


def test_warm_request_reuses_the_evaluated_prefix(completer: Completer, shop_root: Path) -> None:
    text, line, char = cut_before(shop_root, RUN_PY, "    return s.checkout", "    cart.")
    first = complete(completer, request(shop_root, text, line, char, "rag"))
    typed = complete(completer, request(shop_root, text + "a", line, char + 1, "rag"))
    assert typed.reused_tokens > 0
    assert typed.prompt_tokens - typed.reused_tokens < first.prompt_tokens // 4


def test_text_after_the_cursor_on_disk_never_reaches_the_prompt(
        completer: Completer, shop_root: Path) -> None:
    service = shop_root / "shop" / "service.py"
    original = service.read_text()
    service.write_text(original + "\n\ndef leaked_after_cursor_marker():\n    pass\n")
    try:
        text, line, char = cut_before(shop_root, "shop/service.py", "def shipping_cost",
                                      "def shipping_cost(total: float) -> float:\n    return ")
        complete(completer, request(shop_root, text, line, char, "rag", rel="shop/service.py"))
        prompt = completer.runtime.detokenize(completer.last_prompt)
        assert "leaked_after_cursor_marker" not in prompt
        index = completer.registry.get(shop_root)
        assert not index.lookup.by_name("leaked_after_cursor_marker")
        hits = index.searcher.search("leaked after cursor marker", use_vectors=False)
        assert all("leaked_after_cursor_marker" not in hit.text for hit in hits)
    finally:
        service.write_text(original)
        completer.registry.get(shop_root).close_buffer("shop/service.py")


def test_cancelled_request_returns_nothing_promptly(completer: Completer,
                                                    shop_root: Path) -> None:
    text, line, char = cut_before(shop_root, RUN_PY, "    return s.checkout", "    cart.")
    cancel = threading.Event()
    cancel.set()
    result = complete(completer, request(shop_root, text, line, char, "rag"), cancel)
    assert result.stop_reason == "cancelled" and result.text == ""
    again = complete(completer, request(shop_root, text, line, char, "rag"))
    assert again.stop_reason != "cancelled"  # the runtime stays usable


def test_unknown_mode_is_rejected(completer: Completer, shop_root: Path) -> None:
    with pytest.raises(ValueError, match="unknown mode"):
        complete(completer, request(shop_root, "x = 1\n", 1, 0, "psychic"))


@pytest.mark.parametrize("rel", ["../outside.py", "/etc/passwd", "shop/../../outside.py"])
def test_a_path_outside_the_workspace_is_rejected(completer: Completer, shop_root: Path,
                                                  rel: str) -> None:
    with pytest.raises(ValueError, match="not inside the workspace"):
        complete(completer, request(shop_root, "x.", 0, 2, "rag", rel=rel))


def test_a_missing_workspace_is_rejected_before_indexing(completer: Completer,
                                                         tmp_path: Path) -> None:
    missing = tmp_path / "no-such-repo"
    rejected = request(missing, "x.", 0, 2, "grounded")
    with pytest.raises(ValueError, match="not a directory"):
        complete(completer, rejected)
    completer.release(rejected)  # what `tether eval` does before the next task
    assert not missing.exists()
    assert completer.registry.existing(missing) is None


def test_grounded_leaves_other_languages_to_the_model(completer: Completer,
                                                      shop_root: Path) -> None:
    text = "const cart = new Cart();\ncart."
    result = complete(completer, request(shop_root, text, 1, 5, "grounded", rel="web/app.js"))
    assert result.mode == "grounded" and result.receiver is None
    assert result.constrained_steps == 0 and result.legal_set_sources == {}


def test_missing_and_corrupt_models_name_the_path(tmp_path: Path, shop_root: Path) -> None:
    missing = tmp_path / "missing.gguf"
    with pytest.raises(ModelNotFoundError, match=str(missing)):
        complete(Completer(CompleterSettings(model=str(missing))),
                 request(shop_root, "x = 1\n", 1, 0, "plain"))
    corrupt = tmp_path / "corrupt.gguf"
    corrupt.write_bytes(b"GGUF" + b"\x00" * 64)
    with pytest.raises(ModelLoadError, match=str(corrupt)):
        complete(Completer(CompleterSettings(model=str(corrupt))),
                 request(shop_root, "x = 1\n", 1, 0, "plain"))


def test_eval_cli_keeps_the_batch_contract(shop_root: Path, tmp_path: Path) -> None:
    text, line, char = cut_before(shop_root, RUN_PY, "    return s.checkout", "    cart.")
    tasks = tmp_path / "tasks.jsonl"
    records = [
        {"id": "first", "workspace": str(shop_root), "path": RUN_PY, "line": line,
         "character": char, "text": text, "extra": "ignored"},
        {"id": 2, "workspace": str(shop_root), "path": RUN_PY, "line": 0, "character": 0,
         "text": ""},
    ]
    tasks.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "tether", "eval", "--tasks", str(tasks), "--mode", "plain",
         "--max-tokens", "8"],
        capture_output=True, text=True, timeout=300, check=True,
        env={**__import__("os").environ, "TETHER_CACHE_DIR": str(tmp_path / "cache")})
    lines = done.stdout.strip().splitlines()
    outputs = [json.loads(line) for line in lines]
    assert [o["id"] for o in outputs] == ["first", 2]
    assert all(set(o) == {"id", "completion", "latency_ms"} for o in outputs)
    assert all(isinstance(o["latency_ms"], float) for o in outputs)
    assert "task 1" in done.stderr  # progress goes to stderr only


def test_batch_tasks_do_not_see_an_earlier_task_cut_at_its_cursor(
        completer: Completer, shop_root: Path) -> None:
    text, line, char = cut_before(shop_root, "shop/models.py", "    def add_item", "    def ")
    earlier = request(shop_root, text, line, char, "rag", rel="shop/models.py")
    complete(completer, earlier)
    index = completer.registry.get(shop_root)
    assert not index.lookup.member("shop.models.Cart", "apply_discount")  # cut off
    completer.release(earlier)
    assert index.lookup.member("shop.models.Cart", "apply_discount")  # disk again


def test_eval_keeps_a_file_open_across_its_tasks_and_releases_it_for_another(
        completer: Completer, shop_root: Path) -> None:
    from tether.lsp_server.cli.complete_commands import OpenBuffer

    index = completer.registry.get(shop_root)
    text, line, char = cut_before(shop_root, "shop/models.py", "    def add_item", "    def ")
    first = request(shop_root, text, line, char, "rag", rel="shop/models.py")
    buffer = OpenBuffer(completer)
    buffer.switch_to(first)
    complete(completer, first)
    buffer.switch_to(first)  # its warm twin: the buffer stays as the editor would keep it
    assert not index.lookup.member("shop.models.Cart", "apply_discount")
    text, line, char = cut_before(shop_root, RUN_PY, "    return s.checkout", "    cart.")
    other = request(shop_root, text, line, char, "rag")
    buffer.switch_to(other)  # a task in another file
    assert index.lookup.member("shop.models.Cart", "apply_discount")  # disk again
    complete(completer, other)
    assert index.buffer(RUN_PY) == text
    buffer.close()
    assert index.buffer(RUN_PY) is None


def test_the_prompt_file_header_never_leaks_into_a_completion() -> None:
    from tether.decoding.completion.stages import before_file_header

    assert before_file_header("x = 2\n# x.py\nx = 3", "x.py") == "x = 2"
    assert before_file_header("# x.py is fine as a first line", "x.py") == (
        "# x.py is fine as a first line")


class CountingSearcher:
    """The index's real searcher, counting how often it is asked."""

    def __init__(self, searcher: HybridSearcher) -> None:
        self.searcher = searcher
        self.embedder = searcher.embedder
        self.queries: list[str] = []

    def search(self, query: str, **options: Any) -> list[SearchHit]:
        self.queries.append(query)
        return self.searcher.search(query, **options)


def test_snippets_stay_put_while_a_definition_grows_line_by_line(
        completer: Completer, shop_root: Path) -> None:
    index = completer.registry.get(shop_root)
    searcher = CountingSearcher(index.searcher)
    builder = ContextBuilder(index.lookup, searcher,  # type: ignore[arg-type]
                             completer.model.token_counts(), LruCache(8))
    head = "from shop.models import Cart\n\n\ndef main():\n    cart = Cart('me')\n"
    first = builder.build("scripts.run", RUN_PY, head + "    ", 400)
    second = builder.build("scripts.run", RUN_PY, head + "    order = cart.items\n    ", 400)
    assert len(searcher.queries) == 1 and second.text == first.text
    builder.build("scripts.run", RUN_PY, head + "\n\ndef report(order):\n    ", 400)
    assert len(searcher.queries) == 2  # another definition: searched again
    assert retrieval_query(head + "    x = 1\n    ")[0] == ("def main():",)


def test_a_new_line_in_the_same_function_reuses_the_prompt(completer: Completer,
                                                           shop_root: Path) -> None:
    text, line, char = cut_before(shop_root, RUN_PY, "    return s.checkout", "    ")
    first = complete(completer, request(shop_root, text, line, char, "rag"))
    text += "discount = total // 10\n    "
    second = complete(completer, request(shop_root, text, line + 1, 4, "rag"))
    assert second.context_sources == first.context_sources
    assert second.prompt_tokens - second.reused_tokens < 30


def test_the_dot_is_healed_only_where_the_vocabulary_merges_it(completer: Completer) -> None:
    vocabulary = completer.model.vocabulary()
    assert heal("    cart.", vocabulary).fragment == "."
    assert heal("    cart.ad", vocabulary).fragment == "ad"  # `.` + `ad…`: nothing to heal
    assert heal("    self._po", vocabulary).fragment == "._po"  # `._` is one token
