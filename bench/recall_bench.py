"""Does the grounded monitor let real code through, and would it stop invented members?

    python3 bench/recall_bench.py [--packages attrs==24.2.0 ...] [--lines 100] [--seed 1]
                                  [--model gemma3-270m] [--show 20] [--json FILE]

Samples statement lines inside functions of real repositories (sdists; tests/ and docs/
skipped), opens each file as an editor has it while that line is being written (the line
cleared to its indentation, everything above and below kept) and force-decodes the line's
real text through the grounded monitor: the embedded model's real vocabulary, the real
index, real pyright, but no model inference (decoding.grounding.forcing). Prints per repository:

- lines let through unchanged (target: every one; each blocked line is listed with the
  position and legal-set source that stopped it), and lines steered from a deprecated API;
- identifier positions met on those lines, by the source that answered their legal set
  (index, pyright, scope) or `free` where the monitor left them unconstrained;
- member accesses where an invented member (the real one with `Zq` added, the rest of the
  line kept) is stopped: how much of real code the monitor actually guards.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tree_sitter import Node

from bench.grounding_tasks import SKIPPED_DIRS, python_files, spread_sample
from bench.sources import fetch_sdist
from tether.decoding.completion.engine import Completer, CompleterSettings, CompletionRequest
from tether.decoding.grounding.forcing import ForcedDecoder
from tether.decoding.grounding.legal_sets import LegalSet
from tether.decoding.grounding.monitor import Monitor
from tether.decoding.grounding.positions import IdentifierPosition
from tether.decoding.model.files import resolve_model
from tether.decoding.model.runtime import ModelRuntime
from tether.index.module_names import module_name
from tether.index.parsing import parse, walk
from tether.index.registry import WorkspaceRegistry
from tether.index.textfile import normalize_newlines
from tether.index.workspace import WorkspaceIndex

DEFAULT_PACKAGES = ("attrs==24.2.0", "werkzeug==3.0.4", "pluggy==1.5.0")
INVENTED_SUFFIX = "Zq"
IDENTIFIER = re.compile(r"[^\W\d]\w*")
# statements whose first line is worth writing (docstrings, `pass` and the like are not)
SKIPPED_STATEMENTS = frozenset({"comment", "pass_statement", "ellipsis", "string"})


@dataclass(slots=True)
class LineSite:
    path: str
    line: int
    offset: int
    indent: int
    member_column: int | None  # where the line's first member name starts, if it has one


@dataclass(slots=True)
class RepoScore:
    repo: str
    lines: int = 0
    passed: int = 0
    deprecated_steered: int = 0
    positions: Counter[str] = field(default_factory=Counter)
    members: int = 0
    invented_stopped: int = 0
    blocked: list[dict[str, object]] = field(default_factory=list)
    unguarded: list[dict[str, object]] = field(default_factory=list)  # invented, let through

    def to_json(self) -> dict[str, object]:
        fields = asdict(self)
        fields["positions"] = dict(self.positions)  # asdict would rebuild the Counter wrongly
        return fields


class RecordingMonitor:
    """A monitor whose last legal-set answer is kept, to say what stopped a line."""

    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor
        self.last: tuple[IdentifierPosition, LegalSet | None] | None = None
        provider = monitor.provider
        answer = provider.legal_for

        def recording(position: IdentifierPosition, head: str, line: int) -> LegalSet | None:
            legal = answer(position, head, line)
            self.last = (position, legal)
            return legal

        provider.legal_for = recording  # type: ignore[method-assign]


def _in_function(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in ("function_definition", "lambda"):
            return True
        if parent.type == "class_definition":
            return False
        parent = parent.parent
    return False


def _first_member(statement: Node, row: int) -> int | None:
    columns = [child.start_point[1] for node in walk(statement)
               if node.type == "attribute" and (child := node.child_by_field_name("attribute"))
               and child.start_point[0] == row]
    return min(columns) if columns else None


def statement_lines(source: bytes, rel: str) -> list[LineSite]:
    """First lines of statements inside functions that start their line."""
    sites: list[LineSite] = []
    seen: set[int] = set()
    for node in walk(parse(source).root_node):
        if node.parent is None or node.parent.type != "block" or not _in_function(node):
            continue
        if node.type in SKIPPED_STATEMENTS or (
                node.type == "expression_statement" and node.named_child_count == 1
                and node.named_children[0].type in SKIPPED_STATEMENTS):
            continue
        row, column = node.start_point
        line_start = node.start_byte - column
        if row in seen or source[line_start:node.start_byte].strip():
            continue
        seen.add(row)
        sites.append(LineSite(rel, row, node.start_byte, column, _first_member(node, row)))
    return sites


def _monitor(completer: Completer, index: WorkspaceIndex, rel: str, prefix: str,
             suffix: str) -> RecordingMonitor:
    index.set_buffer(rel, prefix + suffix)
    module, _ = module_name(index.root, rel)
    lines = prefix.split("\n")
    request = CompletionRequest(index.root, rel, prefix + suffix, len(lines) - 1,
                                len(lines[-1]), "grounded")
    return RecordingMonitor(completer.build_monitor(index, module, request, prefix,
                                                    type_blind=False, rescore=False))


def _describe(stop: tuple[IdentifierPosition, LegalSet | None] | None) -> str:
    if stop is None:
        return "no identifier position"
    position, legal = stop
    where = f"{position.kind} {position.receiver or position.callee or ''}".rstrip()
    return f"{where} ({legal.source if legal else 'free'})"


def score_repo(repo: str, root: Path, completer: Completer, decoder: ForcedDecoder,
               count: int, seed: int) -> RepoScore:
    index = completer.registry.get(root)
    sources = {p.relative_to(root).as_posix(): normalize_newlines(
        p.read_bytes().decode("utf-8", errors="replace"))
        for p in python_files(root, SKIPPED_DIRS)}
    sites = [site for rel, source in sources.items()
             for site in statement_lines(source.encode(), rel)]
    picked = sorted(spread_sample(sites, count, seed, repo), key=lambda s: (s.path, s.line))
    score = RepoScore(repo)
    for site in picked:
        lines = sources[site.path].split("\n")
        line = lines[site.line]
        indent, written = line[:site.indent], line[site.indent:]
        prefix = "\n".join([*lines[:site.line], indent])
        suffix = "\n" + "\n".join(lines[site.line + 1:])
        recorded = _monitor(completer, index, site.path, prefix, suffix)
        run = decoder.run(recorded.monitor.logits_hook, written)
        score.lines += 1
        met = recorded.monitor.provider.sources
        score.positions.update({("free" if source == "unknown" else source): n
                                for source, n in met.items()})
        if run.passed:
            score.passed += 1
        elif recorded.monitor.avoided:
            score.deprecated_steered += 1
        else:
            score.blocked.append({
                "path": site.path, "line": site.line + 1, "text": written,
                "stopped_after": written[:run.steered_at], "wrote": run.written[run.steered_at:],
                "stopped_by": _describe(recorded.last)})
        if run.passed and site.member_column is not None:
            at = site.member_column - site.indent
            name = IDENTIFIER.match(written, at)
            # the rest of the line stays: a new name is legal where it is assigned
            # (`self.cache = {}` in a method), not where it is read or called
            end = name.end() if name else at
            invented = written[:at] + written[at:end] + INVENTED_SUFFIX + written[end:]
            probe = _monitor(completer, index, site.path, prefix, suffix)
            score.members += 1
            if decoder.run(probe.monitor.logits_hook, invented).passed:
                score.unguarded.append({"path": site.path, "line": site.line + 1,
                                        "text": invented, "position": _describe(probe.last)})
            else:
                score.invented_stopped += 1
        index.close_buffer(site.path)
    return score


def report(scores: list[RepoScore], show: int) -> str:
    out = ["| repository | lines | let through | steered from deprecated | blocked "
           "| positions index / pyright / scope / free | invented member stopped |",
           "|---|---:|---:|---:|---:|---|---:|"]
    for s in scores:
        p = s.positions
        out.append(
            f"| {s.repo} | {s.lines} | {s.passed} ({100 * s.passed / max(s.lines, 1):.1f}%) "
            f"| {s.deprecated_steered} | {len(s.blocked)} "
            f"| {p['index']} / {p['pyright']} / {p['scope']} / {p['free']} "
            f"| {s.invented_stopped} of {s.members} "
            f"({100 * s.invented_stopped / max(s.members, 1):.1f}%) |")
    blocked = [b for s in scores for b in s.blocked]
    if blocked:
        out.append(f"\nBlocked lines ({len(blocked)}; first {min(show, len(blocked))}):")
        for b in blocked[:show]:
            out.append(f"- {b['path']}:{b['line']} `{b['text']}`: stopped after "
                       f"`{b['stopped_after']}` (wrote `{b['wrote']}`) at {b['stopped_by']}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--packages", nargs="+", default=list(DEFAULT_PACKAGES))
    parser.add_argument("--lines", type=int, default=100, help="sampled lines per repository")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--model", default="gemma3-270m")
    parser.add_argument("--show", type=int, default=40, help="blocked lines listed")
    parser.add_argument("--json", type=Path, help="write every score and blocked line here")
    args = parser.parse_args(argv)
    runtime = ModelRuntime(resolve_model(args.model), n_ctx=512)
    decoder = ForcedDecoder(runtime.token_pieces(), set(runtime.vocab.control_ids))
    completer = Completer(CompleterSettings(model=args.model),
                          WorkspaceRegistry(embeddings_on_first_use=False), runtime=runtime)
    scores = []
    try:
        for requirement in args.packages:
            scores.append(score_repo(requirement.split("==")[0], fetch_sdist(requirement),
                                     completer, decoder, args.lines, args.seed))
            print(report(scores[-1:], 0), file=sys.stderr)
    finally:
        completer.close()
    print(report(scores, args.show))
    if args.json:
        args.json.write_text(json.dumps([s.to_json() for s in scores], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
