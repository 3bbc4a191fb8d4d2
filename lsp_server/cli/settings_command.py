"""`tether settings`: the settings' JSON Schema, or the settings a workspace gets."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tether.lsp_server.settings import SettingsStore, as_options, pyproject_defaults, schema


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--schema", action="store_true",
                        help="print the settings as a JSON Schema object")
    parser.add_argument("--workspace", "-w", type=Path, default=Path.cwd(),
                        help="workspace whose pyproject.toml [tool.tether] is read")
    parser.set_defaults(handler=run_settings)


def run_settings(args: argparse.Namespace) -> int:
    """Prints JSON; the effective settings exit 1 when [tool.tether] has problems."""
    if args.schema:
        print(json.dumps(schema(), indent=2, ensure_ascii=False))
        return 0
    store = SettingsStore()
    store.project = pyproject_defaults(args.workspace)
    update = store.resolve()
    for problem in update.problems:
        print(problem, file=sys.stderr)
    for key in update.unknown:
        print(f"Tether: unknown setting `{key}` in pyproject.toml [tool.tether]",
              file=sys.stderr)
    print(json.dumps(as_options(update.settings), indent=2, ensure_ascii=False))
    return 1 if update.problems or update.unknown else 0
