"""Monitor cost and legal-set sources, measured through `tether eval --details`.

    python3 bench/monitor_bench.py [--tasks FILE.jsonl] [--model gemma3-270m] [--limit 60]

Runs grounded completions on the grounding benchmark's tasks (run bench/grounding_bench.py
first, or pass any eval task file) and prints, side by side: time in the monitor's logits
hook vs decode time (the mask-cost fraction, target ≤ 5%), constrained steps per completion,
and how often each legal-set source answered (index, pyright, scope, blind, unknown).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TASKS = (ROOT / "bench" / "results" / "grounding_raw"
                 / "gemma3-270m__grounded.tasks.jsonl")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=Path, default=DEFAULT_TASKS)
    parser.add_argument("--model", default="gemma3-270m")
    parser.add_argument("--limit", type=int, default=60)
    args = parser.parse_args()
    if not args.tasks.exists():
        print(f"no task file at {args.tasks}: run bench/grounding_bench.py first",
              file=sys.stderr)
        return 2
    lines = [line for line in args.tasks.read_text().splitlines()
             if line.strip() and ":warm" not in line][: args.limit]
    with tempfile.TemporaryDirectory() as scratch:
        tasks = Path(scratch) / "tasks.jsonl"
        details = Path(scratch) / "details.jsonl"
        tasks.write_text("\n".join(lines) + "\n")
        subprocess.run([sys.executable, "-m", "tether", "eval", "--tasks", str(tasks),
                        "--mode", "grounded", "--model", args.model, "--details", str(details),
                        "--out", str(Path(scratch) / "out.jsonl")],
                       check=True, cwd=ROOT, stderr=subprocess.DEVNULL)
        records = [json.loads(line) for line in details.read_text().splitlines() if line]
    measured = [r for r in records if r.get("decode_ms")]
    mask_ms = sum(r["mask_ms"] for r in measured)
    analysis_ms = sum(r.get("analysis_ms", 0.0) for r in measured)
    scoring_ms = sum(r.get("scoring_ms", 0.0) for r in measured)
    decode_ms = sum(r["decode_ms"] for r in measured)
    per_request = [(r["mask_ms"] - r.get("analysis_ms", 0.0) - r.get("scoring_ms", 0.0))
                   / r["decode_ms"] for r in measured if r["decode_ms"] > 0]
    sources: Counter[str] = Counter()
    for record in measured:
        sources.update(record.get("legal_set_sources", {}))
    constrained = [r["constrained_steps"] for r in measured]
    generated = sum(r["generated_tokens"] for r in measured)
    print(f"model {args.model}, {len(measured)} grounded completions from {args.tasks.name}\n")
    print("| metric | value |\n|---|---|")
    fraction = 100 * (mask_ms - analysis_ms - scoring_ms) / max(decode_ms, 1e-9)
    print(f"| mask time (trie + logits) / decode time | {fraction:.2f}% (target ≤ 5%) |")
    print(f"| legal-set analysis (index, pyright, parsing) / decode time | "
          f"{100 * analysis_ms / max(decode_ms, 1e-9):.2f}% |")
    rescored = sum(r.get("rescored_positions", 0) for r in measured)
    print(f"| whole-name scoring on the model / decode time | "
          f"{100 * scoring_ms / max(decode_ms, 1e-9):.2f}% "
          f"({rescored} positions, {scoring_ms / max(rescored, 1):.0f} ms each) |")
    print(f"| whole monitor hook / decode time | {100 * mask_ms / max(decode_ms, 1e-9):.2f}% |")
    if per_request:
        p50 = 100 * statistics.median(per_request)
        print(f"| mask / decode, p50 per request | {p50:.2f}% |")
    print(f"| monitor ms per generated token | {mask_ms / max(generated, 1):.3f} |")
    print(f"| decode ms per generated token | {decode_ms / max(generated, 1):.3f} |")
    if constrained:
        print(f"| constrained steps per completion (mean) | {statistics.mean(constrained):.1f} |")
    total = sum(sources.values()) or 1
    for source, count in sources.most_common():
        print(f"| legal sets answered by {source} | {count} ({100 * count / total:.0f}%) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
