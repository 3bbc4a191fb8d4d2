"""End to end over stdio: a real `python -m tether serve` on a copy of the shop fixture,
one server for the whole module (tests run in file order and share its state)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcMethodNotFound,
    JsonRpcRequestCancelled,
)
from pytest_lsp import LanguageClient
from support.lsp import (
    CART_MEMBERS,
    completion_params,
    copy_workspace,
    ended,
    inline_params,
    open_document,
    position,
    progress_titles,
    start_client,
    wait_for,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

SHOPPING = '''\
from shop.models import Cart, Item
from shop.service import shipping_cost


def fill(cart: Cart, item: Item) -> float:
    cart.add(item)
    return shipping_cost(cart.total)


def more(cart: Cart) -> None:
    cart.
'''
NUMBERS = "# Write a long list of numbers\nNUMBERS = [\n    1,\n    2,\n    3,\n    "
NUMBERS_END = types.Position(5, 4)
LIB = "class Widget:\n    def spin(self, turns: int = 1) -> int:\n        return turns\n"


@dataclass
class Harness:
    client: LanguageClient
    result: types.InitializeResult
    registrations: list[Any]
    root: Path
    shopping: str = ""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def lsp(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    base = tmp_path_factory.mktemp("lsp")
    root = copy_workspace(base)
    (root / "pyproject.toml").write_text(
        '[tool.tether]\nmax_tokens = 48\ncontextBudget = "lots"\n')
    client, result, registrations = await start_client(
        root, base / "cache", configuration={"debounceMs": 30, "embeddings": False})
    harness = Harness(client, result, registrations, root)
    harness.shopping = open_document(client, root / "scripts" / "shopping.py", SHOPPING)
    yield harness
    if client._server is not None and client._server.returncode is None:
        await client.shutdown_session()
    await client.stop()


async def status(client: LanguageClient) -> dict[str, Any]:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="tether.status"))


async def test_initialize_advertises_features(lsp: Harness) -> None:
    caps = lsp.result.capabilities
    assert caps.inline_completion_provider is not None
    assert caps.completion_provider is not None and caps.completion_provider.resolve_provider
    assert caps.hover_provider and caps.code_action_provider
    assert caps.execute_command_provider is not None
    assert {"tether.status", "tether.reindex"} <= set(caps.execute_command_provider.commands)
    sync = caps.text_document_sync
    assert isinstance(sync, types.TextDocumentSyncOptions)
    assert sync.change == types.TextDocumentSyncKind.Incremental


async def test_indexing_reports_progress(lsp: Harness) -> None:
    titles = await wait_for(lambda: {t: r for t, r in progress_titles(lsp.client).items()
                                     if t.startswith("Tether: indexing") and ended(r)},
                            what="indexing progress")
    reports = next(iter(titles.values()))
    assert reports[0].percentage == 0
    assert any(isinstance(r, types.WorkDoneProgressReport) and r.percentage == 100
               for r in reports)
    await wait_for(lambda: any(t.startswith("Tether: embeddings") and ended(r)
                               for t, r in progress_titles(lsp.client).items()),
                   what="second indexing phase")


async def test_project_defaults_and_invalid_setting(lsp: Harness) -> None:
    settings = (await status(lsp.client))["settings"]
    assert settings["max_tokens"] == 48 and settings["debounce_ms"] == 30
    warnings = [m.message for m in lsp.client.messages
                if m.type == types.MessageType.Warning]
    assert any("`contextBudget`" in message for message in warnings), warnings


async def test_member_completions_at_cart(lsp: Harness) -> None:
    result = await lsp.client.text_document_completion_async(
        completion_params(lsp.shopping, position(SHOPPING, "    cart.\n", 9)))
    assert isinstance(result, types.CompletionList)
    members = {i.label: i for i in result.items if i.kind != types.CompletionItemKind.Text}
    assert "add_item" in members and set(members) <= CART_MEMBERS, set(members)
    assert list(members["add"].tags or []) == [types.CompletionItemTag.Deprecated]
    assert "add_item" in (members["add"].detail or "")
    assert not members["add_item"].tags
    model = [i for i in result.items if i.kind == types.CompletionItemKind.Text]
    assert len(model) <= 1 and all(i.sort_text == "0000" for i in model)

    resolved = await lsp.client.completion_item_resolve_async(members["add_item"])
    assert isinstance(resolved.documentation, types.MarkupContent)
    assert "Add an item to the cart." in resolved.documentation.value


async def test_inline_completion_at_cart(lsp: Harness) -> None:
    at = position(SHOPPING, "    cart.\n", 9)
    result = await lsp.client.text_document_inline_completion_async(
        inline_params(lsp.shopping, at))
    assert isinstance(result, types.InlineCompletionList)
    for item in result.items:
        assert item.range == types.Range(at, at)
        text = item.insert_text if isinstance(item.insert_text, str) else item.insert_text.value
        head = "".join(c for c in text[: next((i for i, c in enumerate(text)
                                               if not (c.isalnum() or c == "_")), len(text))])
        if (await status(lsp.client))["mode"] == "grounded" and head:
            assert head in CART_MEMBERS, text


async def test_hover_on_deprecated_function_shows_replacement(lsp: Harness) -> None:
    hover = await lsp.client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(lsp.shopping),
        position=position(SHOPPING, "shipping_cost(cart", 3)))
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "Deprecated" in hover.contents.value
    assert "shop.service.compute_shipping" in hover.contents.value
    method = await lsp.client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(lsp.shopping),
        position=position(SHOPPING, "cart.add(", 6)))
    assert method is not None and "add_item" in method.contents.value  # type: ignore[union-attr]


async def test_deprecation_diagnostics_and_quick_fix(lsp: Harness) -> None:
    diagnostics = await wait_for(lambda: lsp.client.diagnostics.get(lsp.shopping),
                                 what="diagnostics")
    add = next(d for d in diagnostics if "add_item" in d.message)
    assert list(add.tags or []) == [types.DiagnosticTag.Deprecated]
    assert add.severity in (types.DiagnosticSeverity.Warning, types.DiagnosticSeverity.Hint)
    assert add.range == types.Range(position(SHOPPING, "cart.add(", 5),
                                    position(SHOPPING, "cart.add(", 8))
    assert any("compute_shipping" in d.message for d in diagnostics)

    actions = await lsp.client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(lsp.shopping), range=add.range,
        context=types.CodeActionContext(diagnostics=[add])))
    assert actions, "no quick fix"
    fix = actions[0]
    assert isinstance(fix, types.CodeAction) and fix.kind == types.CodeActionKind.QuickFix
    assert fix.diagnostics and fix.diagnostics[0].range == add.range
    assert fix.edit is not None and fix.edit.changes is not None
    (edit,) = fix.edit.changes[lsp.shopping]
    assert edit.new_text == "add_item" and edit.range == add.range


async def test_did_change_is_seen_by_member_completions(lsp: Harness) -> None:
    models = lsp.root / "shop" / "models.py"
    text = models.read_text()
    uri = open_document(lsp.client, models, text)
    at = position(text, "    @property")
    at = types.Position(at.line, 0)
    lsp.client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[types.TextDocumentContentChangePartial(
            range=types.Range(at, at),
            text='    def add_gift(self) -> None:\n        """Wrap it."""\n\n')]))
    result = await lsp.client.text_document_completion_async(
        completion_params(lsp.shopping, position(SHOPPING, "    cart.\n", 9)))
    assert "add_gift" in {item.label for item in result.items}


async def test_cancel_request_stops_generation(lsp: Harness) -> None:
    uri = open_document(lsp.client, lsp.root / "scripts" / "numbers.py", NUMBERS)
    lsp.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"tether": {"debounceMs": 30, "embeddings": False, "maxTokens": 1000}}))
    await asyncio.sleep(0.3)
    future = lsp.client.protocol.send_request(types.TEXT_DOCUMENT_INLINE_COMPLETION,
                                              inline_params(uri, NUMBERS_END),
                                              msg_id="tether-cancel-1")
    await asyncio.sleep(0.6)
    assert not future.done(), "generation finished before it could be cancelled"
    cancelled_at = time.monotonic()
    lsp.client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="tether-cancel-1"))
    try:
        result = await asyncio.wait_for(asyncio.wrap_future(future), 5)
        assert not result.items
    except JsonRpcRequestCancelled:
        pass
    assert time.monotonic() - cancelled_at < 1.0
    # The model thread is free again: a new request is answered quickly.
    started = time.monotonic()
    newer = await lsp.client.text_document_completion_async(
        completion_params(lsp.shopping, position(SHOPPING, "    cart.\n", 9)))
    assert newer.items and time.monotonic() - started < 8


async def test_newer_request_supersedes_older(lsp: Harness) -> None:
    uri = (lsp.root / "scripts" / "numbers.py").as_uri()
    older = asyncio.ensure_future(lsp.client.text_document_inline_completion_async(
        inline_params(uri, NUMBERS_END)))
    await asyncio.sleep(0.4)  # the older one is generating by now
    lsp.client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"tether": {"debounceMs": 30, "embeddings": False}}))
    newer = asyncio.ensure_future(lsp.client.text_document_inline_completion_async(
        inline_params(uri, NUMBERS_END)))
    started = time.monotonic()
    first = await asyncio.wait_for(older, 5)
    assert not first.items and time.monotonic() - started < 1.0
    second = await asyncio.wait_for(newer, 30)
    assert isinstance(second, types.InlineCompletionList)


async def test_out_of_range_and_malformed_positions(lsp: Harness) -> None:
    far = types.Position(9_999, 9_999)
    doc = types.TextDocumentIdentifier(lsp.shopping)
    assert await lsp.client.text_document_hover_async(types.HoverParams(doc, far)) is None
    listed = await lsp.client.text_document_completion_async(completion_params(
        lsp.shopping, types.Position(10, 500)))
    assert isinstance(listed, types.CompletionList)
    inline = await lsp.client.text_document_inline_completion_async(
        inline_params(lsp.shopping, types.Position(4, 10_000)))
    assert isinstance(inline, types.InlineCompletionList)
    assert (await status(lsp.client))["model"]


async def test_unknown_method_is_an_error(lsp: Harness) -> None:
    with pytest.raises(JsonRpcMethodNotFound):
        await lsp.client.protocol.send_request_async("tether/noSuchMethod", {})
    with pytest.raises(JsonRpcException):
        await lsp.client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="tether.noSuchCommand"))


async def test_other_languages_get_empty_results(lsp: Harness) -> None:
    guide = lsp.root / "docs" / "guide.md"
    uri = open_document(lsp.client, guide, guide.read_text() + "\ncart.", "markdown")
    end = types.Position(len(guide.read_text().split("\n")), 5)
    listed = await lsp.client.text_document_completion_async(completion_params(uri, end))
    assert not listed.items
    inline = await lsp.client.text_document_inline_completion_async(inline_params(uri, end))
    assert not inline.items
    hover = await lsp.client.text_document_hover_async(
        types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(0, 1)))
    assert hover is None


async def test_watched_files_update_the_index(lsp: Harness) -> None:
    globs = [w["globPattern"] for r in lsp.registrations
             if r.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
             for w in r.register_options["watchers"]]
    assert "**/*.py" in globs and "**/*.md" in globs and "**/*.rst" in globs
    extra = lsp.root / "shop" / "extra.py"
    extra.write_text("class Extra:\n    def ping(self) -> str:\n        return 'pong'\n")
    lsp.client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
        changes=[types.FileEvent(extra.as_uri(), types.FileChangeType.Created)]))
    text = "from shop.extra import Extra\n\nExtra().\n"
    uri = open_document(lsp.client, lsp.root / "scripts" / "extra_use.py", text)

    async def labels() -> set[str]:
        listed = await lsp.client.text_document_completion_async(
            completion_params(uri, types.Position(2, 8)))
        return {item.label for item in listed.items}

    deadline = time.monotonic() + 10
    while "ping" not in await labels():
        assert time.monotonic() < deadline, "the new file never reached the index"
        await asyncio.sleep(0.2)


async def test_workspace_folders_added_later(lsp: Harness, tmp_path: Path) -> None:
    second = tmp_path / "lib_repo"
    (second / "lib").mkdir(parents=True)
    (second / "lib" / "__init__.py").write_text(LIB)
    lsp.client.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(
        event=types.WorkspaceFoldersChangeEvent(
            added=[types.WorkspaceFolder(second.as_uri(), "lib_repo")], removed=[])))
    text = "from lib import Widget\n\nw = Widget()\nw.\n"
    uri = open_document(lsp.client, second / "use.py", text)
    deadline = time.monotonic() + 15
    while True:
        current = await status(lsp.client)
        if len(current["index"]["folders"]) == 2 and not current["index"]["indexing"]:
            break
        assert time.monotonic() < deadline, current
        await asyncio.sleep(0.1)
    listed = await lsp.client.text_document_completion_async(
        completion_params(uri, types.Position(3, 2)))
    assert "spin" in {item.label for item in listed.items}


async def test_status_and_reindex(lsp: Harness) -> None:
    started = await lsp.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="tether.reindex"))
    assert started["started"] is True
    current = await status(lsp.client)
    assert set(current) >= {"model", "mode", "index", "lastLatenciesMs", "errors"}
    assert set(current["index"]) >= {"files", "symbols", "chunks", "indexing"}
    assert current["index"]["files"] > 0 and current["index"]["symbols"] > 0
    assert current["lastLatenciesMs"], "no completion latency recorded"
    assert current["mode"] in ("grounded", "rag")


async def test_shutdown_and_exit(lsp: Harness) -> None:
    await lsp.client.shutdown_session()
    server = lsp.client._server
    assert server is not None and server.returncode == 0
