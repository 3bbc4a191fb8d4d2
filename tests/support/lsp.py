"""Helpers for the end-to-end language-server tests (no tests here)."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import LanguageClient
from pytest_lsp.client import make_test_lsp_client

FIXTURE = Path(__file__).parents[1] / "fixtures" / "shop_repo"
SERVER_COMMAND = [sys.executable, "-m", "tether", "serve"]
CART_MEMBERS = {"add_item", "add", "total", "old_total", "apply_discount", "empty", "items",
                "owner", "touch", "updated_at", "save", "delete", "ident", "registry"}


def copy_workspace(target: Path) -> Path:
    root = target / "shop_repo"
    shutil.copytree(FIXTURE, root)
    return root


def server_env(cache: Path) -> dict[str, str]:
    return {**os.environ, "TETHER_CACHE_DIR": str(cache)}


def capabilities() -> types.ClientCapabilities:
    return types.ClientCapabilities(
        window=types.WindowClientCapabilities(work_done_progress=True),
        workspace=types.WorkspaceClientCapabilities(
            configuration=True, workspace_folders=True,
            did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(
                dynamic_registration=True)),
        text_document=types.TextDocumentClientCapabilities(
            completion=types.CompletionClientCapabilities(
                completion_item=types.ClientCompletionItemOptions(
                    documentation_format=[types.MarkupKind.Markdown],
                    tag_support=types.CompletionItemTagOptions(
                        value_set=[types.CompletionItemTag.Deprecated]))),
            hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.Markdown]),
            inline_completion=types.InlineCompletionClientCapabilities(),
            publish_diagnostics=types.PublishDiagnosticsClientCapabilities(
                tag_support=types.ClientDiagnosticsTagOptions(
                    value_set=[types.DiagnosticTag.Deprecated]))))


async def start_client(root: Path, cache: Path, configuration: dict[str, Any] | None = None,
                       init_options: dict[str, Any] | None = None,
                       command: list[str] | None = None, cwd: Path | None = None,
                       ) -> tuple[LanguageClient, types.InitializeResult, list[Any]]:
    """A real server over stdio (`command`, default SERVER_COMMAND, started in `cwd`),
    initialized on `root`. Also returns the list that collects the server's
    client/registerCapability registrations."""
    client = make_test_lsp_client()
    registrations: list[Any] = []

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        registrations.extend(params.registrations)

    client.set_configuration({"tether": configuration or {}})
    await client.start_io(*(command or SERVER_COMMAND), env=server_env(cache), cwd=cwd)
    result = await client.initialize_session(types.InitializeParams(
        capabilities=capabilities(), root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(root.as_uri(), root.name)],
        initialization_options=init_options))
    return client, result, registrations


async def wait_for(predicate: Callable[[], Any], timeout: float = 30.0,
                   what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def open_document(client: LanguageClient, path: Path, text: str,
                  language: str = "python") -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text)))
    return uri


def position(text: str, needle: str, offset: int | None = None) -> types.Position:
    """The position `offset` characters into the first `needle` (default: just after it)."""
    before = text[: text.index(needle) + (len(needle) if offset is None else offset)]
    return types.Position(before.count("\n"), len(before.rsplit("\n", 1)[-1]))


def progress_titles(client: LanguageClient) -> dict[str, list[Any]]:
    """Progress reports by the title of their begin notification."""
    found: dict[str, list[Any]] = {}
    for reports in client.progress_reports.values():
        if reports and isinstance(reports[0], types.WorkDoneProgressBegin):
            found[reports[0].title] = list(reports)
    return found


def ended(reports: list[Any]) -> bool:
    return bool(reports) and isinstance(reports[-1], types.WorkDoneProgressEnd)


def inline_params(uri: str, at: types.Position) -> types.InlineCompletionParams:
    return types.InlineCompletionParams(
        context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Invoked),
        text_document=types.TextDocumentIdentifier(uri), position=at)


def completion_params(uri: str, at: types.Position) -> types.CompletionParams:
    return types.CompletionParams(text_document=types.TextDocumentIdentifier(uri), position=at)
