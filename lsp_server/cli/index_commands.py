"""`tether index`, `tether search`, `tether symbols`."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from tether.index.config import IndexConfig
from tether.index.models import Symbol
from tether.index.workspace import WorkspaceIndex
from tether.lsp_server.cli.progress import ProgressBar


def add_workspace_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workspace", "-w", type=Path, default=Path.cwd(),
                        help="workspace folder (default: current directory)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def open_index(workspace: Path, args: argparse.Namespace) -> WorkspaceIndex:
    config = IndexConfig()
    for pattern in getattr(args, "exclude", None) or []:
        config.excludes.append(pattern)
    if getattr(args, "doc_folder", None):
        config.doc_folders = list(args.doc_folder)
    index = WorkspaceIndex(workspace, config)
    if index.store.rebuilt_reason:
        print(f"tether: {index.store.rebuilt_reason}", file=sys.stderr)
    return index


def run_index(args: argparse.Namespace) -> int:
    root: Path = args.path
    if not root.is_dir():
        print(f"tether: {root} is not a directory", file=sys.stderr)
        return 2
    index = open_index(root, args)
    try:
        summary = index.index_all(ProgressBar(), embeddings=not args.symbols_only)
        if not args.symbols_only:
            index.scan_dependencies()
            summary.counts = index.store.counts()
    finally:
        index.close()
    data = asdict(summary)
    data["workspace"] = str(root.resolve())
    data["database"] = str(index.store.db_path)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    counts = summary.counts
    print(f"Indexed {root.resolve()}")
    print(f"  files        {counts.get('files', 0)} ({counts.get('python_files', 0)} Python, "
          f"{counts.get('doc_files', 0)} docs); {summary.files_indexed} updated, "
          f"{summary.files_unchanged} unchanged, {summary.files_removed} removed")
    print(f"  symbols      {counts.get('symbols', 0)}")
    print(f"  deprecations {counts.get('deprecations', 0)} in the repository, "
          f"{counts.get('external_deprecations', 0)} in dependencies")
    print(f"  chunks       {counts.get('chunks', 0)} ({counts.get('embedded_chunks', 0)} embedded)")
    skipped = ", ".join(f"{reason} {n}" for reason, n in sorted(summary.skipped.items()) if n)
    if skipped:
        print(f"  skipped      {skipped}")
    print(f"  seconds      {summary.symbols_seconds:.2f} symbols, "
          f"{summary.embedding_seconds:.2f} embeddings")
    print(f"  database     {index.store.db_path}")
    return 0


def run_search(args: argparse.Namespace) -> int:
    index = open_index(args.workspace, args)
    try:
        if index.store.counts()["files"] == 0:
            index.index_all(ProgressBar())
        hits = index.searcher.search(args.query, kind=args.kind, limit=args.limit,
                                     use_vectors=not args.lexical)
    finally:
        index.close()
    if args.json:
        print(json.dumps([asdict(hit) for hit in hits], indent=2))
        return 0
    for hit in hits:
        first = hit.text.strip().splitlines()[0] if hit.text.strip() else ""
        print(f"{hit.path}:{hit.start_line + 1}-{hit.end_line + 1}  [{hit.kind}] {hit.title}")
        print(f"    {first[:100]}")
    if not hits:
        print("no results")
    return 0


def symbol_json(symbol: Symbol) -> dict[str, object]:
    data = asdict(symbol)
    data["kind"] = symbol.kind.value
    data["params"] = [{"name": p.name, "kind": p.kind.value, "annotation": p.annotation,
                       "default": p.default} for p in symbol.params]
    return data


def run_symbols(args: argparse.Namespace) -> int:
    index = open_index(args.workspace, args)
    try:
        if index.store.counts()["files"] == 0:
            index.index_all(ProgressBar(), embeddings=False)
        lookup = index.lookup
        definitions = lookup.by_qualname(args.name) or lookup.by_name(args.name)
        resolved = [lookup.resolve(d.qualname) or d for d in definitions]
        results = []
        for symbol in resolved:
            members = lookup.class_members(symbol.qualname) if symbol.kind.value == "class" else []
            results.append((symbol, members))
    finally:
        index.close()
    if args.json:
        print(json.dumps([{**symbol_json(s), "members": [symbol_json(m) for m in members]}
                          for s, members in results], indent=2))
        return 0 if results else 1
    if not results:
        print(f"no symbol named {args.name}")
        return 1
    for symbol, members in results:
        print(f"{symbol.kind.value} {symbol.qualname}{symbol.signature or ''}")
        print(f"    {symbol.path}:{symbol.line + 1}")
        if symbol.bases:
            print(f"    bases: {', '.join(symbol.bases)}")
        if symbol.summary:
            print(f"    {symbol.summary}")
        if symbol.deprecation:
            dep = symbol.deprecation
            replacement = f" (use {dep.replacement})" if dep.replacement else ""
            print(f"    DEPRECATED: {dep.message}{replacement}")
        for member in members:
            marker = " [deprecated]" if member.deprecation else ""
            owner = "" if member.parent == symbol.qualname else f"  (from {member.parent})"
            print(f"      .{member.name}{member.signature or ''}{marker}{owner}")
    return 0
