"""Entry point of the `tether` command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from tether.index.store import IndexLockedError
from tether.lsp_server.cli import complete_commands, doctor, index_commands, settings_command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tether", description="Offline, repository-grounded code completion.")
    parser.add_argument("--verbose", "-v", action="store_true", help="debug logging to stderr")
    commands = parser.add_subparsers(dest="command", required=True)

    index = commands.add_parser("index", help="index a workspace and print a summary")
    index.add_argument("path", nargs="?", type=Path, default=Path.cwd())
    index.add_argument("--symbols-only", action="store_true", help="skip embeddings")
    index.add_argument("--exclude", action="append", help="extra gitignore-style exclude")
    index.add_argument("--doc-folder", action="append", help="documentation folder")
    index.add_argument("--json", action="store_true", help="machine-readable output")
    index.set_defaults(handler=index_commands.run_index)

    search = commands.add_parser("search", help="hybrid search over code and docs")
    search.add_argument("query")
    search.add_argument("--kind", choices=("code", "docs"))
    search.add_argument("--limit", type=int, default=8)
    search.add_argument("--lexical", action="store_true", help="BM25 only, no embeddings")
    index_commands.add_workspace_arguments(search)
    search.set_defaults(handler=index_commands.run_search)

    symbols = commands.add_parser("symbols", help="definitions, members and deprecations")
    symbols.add_argument("name", help="a name or a dotted qualified name")
    index_commands.add_workspace_arguments(symbols)
    symbols.set_defaults(handler=index_commands.run_symbols)

    complete = commands.add_parser("complete", help="complete at one position (JSON)")
    complete.add_argument("--workspace", "-w", type=Path, default=Path.cwd())
    complete.add_argument("--path", required=True, help="file path relative to the workspace")
    complete.add_argument("--line", type=int, required=True, help="0-based line")
    complete.add_argument("--character", type=int, required=True, help="0-based column")
    complete.add_argument("--stdin", action="store_true",
                          help="read the document from stdin (overrides the file on disk)")
    complete_commands.add_model_arguments(complete)
    complete.set_defaults(handler=complete_commands.run_complete)

    evaluate = commands.add_parser("eval", help="batch completions from a JSONL task file")
    evaluate.add_argument("--tasks", required=True, type=Path)
    evaluate.add_argument("--out", type=Path)
    evaluate.add_argument("--details", type=Path,
                          help="also write each completion's metadata (tokens, mask cost) here")
    complete_commands.add_model_arguments(evaluate)
    evaluate.set_defaults(handler=complete_commands.run_eval)

    from tether.lsp_server.cli import serve_command

    serve = commands.add_parser("serve", help="run the language server (stdio by default)")
    serve.add_argument("--tcp", metavar="HOST:PORT", type=serve_command.parse_address,
                       help="listen on a TCP address instead of stdio")
    serve.add_argument("--log-file", help="write the server's log to this file")
    serve.set_defaults(handler=serve_command.run_serve)

    check = commands.add_parser("doctor", help="check the installation")
    check.add_argument("--workspace", "-w", type=Path, default=Path.cwd())
    check.add_argument("--json", action="store_true")
    check.set_defaults(handler=doctor.run_doctor)

    settings_command.add_arguments(commands.add_parser(
        "settings", help="the settings' JSON Schema, or a workspace's effective settings (JSON)"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("tether: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except IndexLockedError as error:
        print(f"tether: {error}", file=sys.stderr)
        return 3
