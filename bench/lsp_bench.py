"""Language-server benchmark: a real LSP client drives `tether serve` over stdio on a real
repository and measures inline-completion round trips and the server's memory.

    python3 bench/lsp_bench.py [--package requests==2.32.3 | --repo PATH] [--files 8]
                               [--keystrokes 6] [--enters 3] [--mode grounded]
                               [--debounce-ms 75] [--json]

Per file (sorted, spread over the repository): open it, cut one statement line after its
first characters (didChange) and ask for an inline completion there (cold: the model has no
cache for this document yet), then retype the rest of the line one character at a time,
asking after each keystroke (warm: typing simulation); then press Enter at the end of the line,
ask (enter: a new line in the same function, as when writing code line by line), type the
next line of the file there, and so on `--enters` times. Round trips are measured at the
client; the server's RSS comes from /proc/<pid>/status (VmRSS) after each indexing phase
and at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from bench.sources import fetch_sdist, python_loc

STATEMENT = re.compile(r"^(\s+)([A-Za-z_][\w.]*\s*(=|\())")
MIN_PREFIX = 6


class BenchClient(LanguageClient):
    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__("tether-lsp-bench", "0.1")
        self.settings = settings
        self.progress: dict[str, list[dict[str, Any]]] = {}
        self.messages: list[str] = []
        self.versions: dict[str, int] = {}
        self.register()

    def register(self) -> None:
        @self.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def create(params: types.WorkDoneProgressCreateParams) -> None:
            self.progress.setdefault(str(params.token), [])

        @self.feature(types.PROGRESS)
        def progress(params: types.ProgressParams) -> None:
            self.progress.setdefault(str(params.token), []).append(dict(params.value))

        @self.feature(types.WORKSPACE_CONFIGURATION)
        def configuration(params: types.ConfigurationParams) -> list[Any]:
            return [self.settings for _ in params.items]

        @self.feature(types.WINDOW_SHOW_MESSAGE)
        def show(params: types.ShowMessageParams) -> None:
            self.messages.append(params.message)

        @self.feature(types.WINDOW_LOG_MESSAGE)
        def log(params: types.LogMessageParams) -> None:
            pass

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def diagnostics(params: types.PublishDiagnosticsParams) -> None:
            pass

    def open(self, uri: str, text: str) -> None:
        self.versions[uri] = 1
        self.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri, "python", 1, text)))

    def edit(self, uri: str, start: types.Position, end: types.Position, text: str) -> None:
        """Replace the range with `text` (the next version of the open document)."""
        self.versions[uri] += 1
        self.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=self.versions[uri], uri=uri),
            [types.TextDocumentContentChangePartial(range=types.Range(start, end), text=text)]))

    async def ask(self, uri: str, position: types.Position) -> tuple[float, bool]:
        """An automatic inline-completion request: (round trip in ms, whether it offered
        anything)."""
        started = time.perf_counter()
        result = await self.text_document_inline_completion_async(types.InlineCompletionParams(
            context=types.InlineCompletionContext(types.InlineCompletionTriggerKind.Automatic),
            text_document=types.TextDocumentIdentifier(uri), position=position))
        return (time.perf_counter() - started) * 1000, bool(result and result.items)

    def phase_done(self, title_prefix: str) -> bool:
        for reports in self.progress.values():
            if reports and reports[0].get("title", "").startswith(title_prefix) and (
                    reports[-1].get("kind") == "end"):
                return True
        return False


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def targets(root: Path, count: int) -> list[tuple[Path, int]]:
    """(file, line) pairs: one statement line in each of `count` files spread over the repo."""
    files = sorted(p for p in root.rglob("*.py") if p.name != "setup.py" and not any(
        part.startswith(("test", "doc", "example")) for part in p.relative_to(root).parts))
    found: list[tuple[Path, int]] = []
    for path in files:
        lines = path.read_text(errors="replace").split("\n")
        if len(lines) < 40:
            continue
        candidates = [n for n, line in enumerate(lines) if n > 20 and STATEMENT.match(line)
                      and len(line.strip()) >= MIN_PREFIX + 8]
        if candidates:
            found.append((path, candidates[len(candidates) // 2]))
    step = max(1, len(found) // max(1, count))
    return found[::step][:count]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(root: Path, args: argparse.Namespace) -> dict[str, Any]:
    settings = {"mode": args.mode, "debounceMs": args.debounce_ms}
    client = BenchClient(settings)
    cache = Path(tempfile.mkdtemp(prefix="tether-lsp-bench-"))
    env = {**os.environ, "TETHER_CACHE_DIR": str(cache)}
    results: dict[str, Any] = {"settings": settings}
    started = time.perf_counter()
    await client.start_io(sys.executable, "-m", "tether", "serve", env=env)
    pid = client._server.pid  # type: ignore[union-attr]
    capabilities = types.ClientCapabilities(
        window=types.WindowClientCapabilities(work_done_progress=True),
        workspace=types.WorkspaceClientCapabilities(configuration=True),
        text_document=types.TextDocumentClientCapabilities(
            inline_completion=types.InlineCompletionClientCapabilities()))
    await client.initialize_async(types.InitializeParams(
        capabilities=capabilities, process_id=os.getpid(), root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(root.as_uri(), root.name)]))
    client.initialized(types.InitializedParams())
    results["initialize_s"] = time.perf_counter() - started
    while not client.phase_done("Tether: indexing"):
        await asyncio.sleep(0.05)
    results["symbols_s"] = time.perf_counter() - started
    results["rss_after_symbols_mb"] = rss_mb(pid)
    while not client.phase_done("Tether: embeddings"):
        await asyncio.sleep(0.1)
    results["embeddings_s"] = time.perf_counter() - started
    results["rss_after_indexing_mb"] = rss_mb(pid)

    cold: list[float] = []
    warm: list[float] = []
    enter: list[float] = []
    empty = 0
    for path, line_number in targets(root, args.files):
        text = path.read_text(errors="replace")
        line = text.split("\n")[line_number]
        indent = len(line) - len(line.lstrip())
        cut = indent + MIN_PREFIX
        uri = path.as_uri()
        client.open(uri, text)
        client.edit(uri, types.Position(line_number, cut),
                    types.Position(line_number, len(line)), "")
        for step in range(args.keystrokes + 1):
            if step:
                at = types.Position(line_number, cut + step - 1)
                client.edit(uri, at, at, line[cut + step - 1])
            elapsed, answered = await client.ask(uri, types.Position(line_number, cut + step))
            (warm if step else cold).append(elapsed)
            empty += not answered
            if cut + step >= len(line):
                break
        following = [n for n in text.split("\n")[line_number + 1:] if n.strip()][:args.enters]
        at_line, line_end = line_number, len(line)
        for written in following:  # Enter at the end of the line, then the next line "typed"
            end = types.Position(at_line, line_end)
            client.edit(uri, end, end, "\n" + " " * indent)
            at_line += 1
            position = types.Position(at_line, indent)
            elapsed, answered = await client.ask(uri, position)
            enter.append(elapsed)
            empty += not answered
            client.edit(uri, position, position, written.strip())
            line_end = indent + len(written.strip())
        client.text_document_did_close(types.DidCloseTextDocumentParams(
            types.TextDocumentIdentifier(uri)))
    status = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="tether.status"))
    results.update(cold_ms=cold, warm_ms=warm, enter_ms=enter, empty=empty, rss_end_mb=rss_mb(pid),
                   status={k: status[k] for k in ("model", "mode", "index")},
                   messages=client.messages)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    shutil.rmtree(cache, ignore_errors=True)
    return results


def print_table(root: Path, results: dict[str, Any]) -> None:
    files, loc = python_loc(root)
    index = results["status"]["index"]
    rows = [
        ("repository", f"{root.name} ({files} .py files, {loc} lines)"),
        ("model / mode", f"{results['status']['model']} / {results['status']['mode']}"),
        ("debounce", f"{results['settings']['debounceMs']} ms"),
        ("index", f"{index['files']} files, {index['symbols']} symbols, "
                  f"{index['chunks']} chunks"),
        ("initialize", f"{results['initialize_s']:.2f} s"),
        ("symbols indexed", f"{results['symbols_s']:.2f} s after start"),
        ("embeddings done", f"{results['embeddings_s']:.2f} s after start"),
    ]
    for name in ("cold", "warm", "enter"):
        values = results[f"{name}_ms"]
        rows.append((f"inline {name} p50 / p95",
                     f"{percentile(values, 0.5):.0f} / {percentile(values, 0.95):.0f} ms "
                     f"(n={len(values)}, mean {statistics.fmean(values) if values else 0:.0f})"))
    rows += [
        ("empty completions", str(results["empty"])),
        ("RSS after symbols", f"{results['rss_after_symbols_mb']:.0f} MB"),
        ("RSS after indexing", f"{results['rss_after_indexing_mb']:.0f} MB"),
        ("RSS at the end", f"{results['rss_end_mb']:.0f} MB"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'metric':<{width}}  value")
    print(f"{'-' * width}  {'-' * 40}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    for message in results["messages"]:
        print(f"server said: {message}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--package", default="requests==2.32.3",
                        help="an sdist to fetch with pip (bench/sources.py)")
    source.add_argument("--repo", type=Path, help="a local repository instead")
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--keystrokes", type=int, default=6)
    parser.add_argument("--enters", type=int, default=3,
                        help="new lines written after the typed one, asking after each Enter")
    parser.add_argument("--mode", default="grounded", choices=("plain", "rag", "grounded"))
    parser.add_argument("--debounce-ms", type=int, default=75)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    source_root = args.repo.resolve() if args.repo else fetch_sdist(args.package)
    with tempfile.TemporaryDirectory(prefix="tether-lsp-bench-src-") as scratch:
        root = Path(scratch) / source_root.name
        shutil.copytree(source_root, root, ignore=shutil.ignore_patterns(".git", ".venv"))
        results = asyncio.run(run(root, args))
        if args.json:
            print(json.dumps(results, indent=2))
        else:
            print_table(root, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
