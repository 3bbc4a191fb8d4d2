"""Completion grounding benchmark: punch holes in real repositories and measure `tether eval`.

    python3 bench/grounding_bench.py [--models gemma3-270m smollm2-135m]
        [--modes plain rag grounded blind] [--per-repo 40] [--packages requests==2.32.3 ...]
        [--limit N] [--reuse-tasks] [--reuse-runs] [--skip-pyright]

Tasks are call sites `receiver.name(` in the unpacked sdists (each its own workspace) where
`name` is a function defined in that repository, with the document cut right after the dot;
plus deprecation tasks (call sites of an API whose deprecated twin says "use X instead"), from
the sdists and from a small synthetic fixture package. Every model × mode runs `tether eval`
once as a subprocess on all tasks, each followed by a warm twin (same text, id + ":warm").

Metrics: NIM (the completion's leading identifier equals the hidden name), invented
identifiers lenient (the prediction is no identifier of the repository's sources) and strict
(pyright reports the attribute missing when the prediction replaces the real name, on tasks
where it accepts the real name), deprecated
names written, p50/p95 latency of cold requests and of their warm twins. Modes that `tether
eval` rejects (exit code 2) are reported as unavailable. Results: bench/results/grounding.md,
grounding.json, grounding.png (and raw outputs under bench/results/grounding_raw/).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from itertools import zip_longest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.grounding_fixture import write_fixture  # noqa: E402
from bench.grounding_metrics import (  # noqa: E402
    leading_identifier,
    repository_identifiers,
    strict_invented,
    summarize,
)
from bench.grounding_png import write_chart  # noqa: E402
from bench.grounding_tasks import (  # noqa: E402
    SKIPPED_DIRS,
    Task,
    deprecation_tasks,
    python_files,
    repo_tasks,
)
from bench.sources import CACHE, DEFAULT_PACKAGES, fetch_sdist  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TASKS_FILE = CACHE / "grounding" / "tasks.json"
DEFAULT_MODELS = ("gemma3-270m",)
DEFAULT_MODES = ("plain", "rag", "grounded", "blind")
WARM_SUFFIX = ":warm"


# ---------------------------------------------------------------------------------------------
# Tasks


def interleave(groups: list[list[Task]]) -> list[Task]:
    """Round-robin over the groups so that a --limit still covers every repository."""
    return [task for row in zip_longest(*groups) for task in row if task is not None]


def build_tasks(packages: list[str], per_repo: int, deprecation_limit: int,
                seed: int) -> tuple[list[Task], dict[str, str]]:
    """All tasks, and repo label → workspace root."""
    groups: list[list[Task]] = []
    workspaces: dict[str, str] = {}
    sources = [(requirement.split("==")[0], fetch_sdist(requirement))
               for requirement in packages]
    fixture = write_fixture(CACHE / "grounding")
    for label, root in sources:
        workspaces[label] = str(root.resolve())
        groups.append(repo_tasks(root, label, per_repo, seed))
        groups.append(deprecation_tasks(root, label, deprecation_limit, seed))
    workspaces["ledgerkit"] = str(fixture.resolve())
    groups.append(deprecation_tasks(fixture, "ledgerkit", deprecation_limit, seed))
    return interleave(groups), workspaces


def warmup_requests(tasks: list[Task], workspaces: dict[str, str]) -> list[dict[str, object]]:
    """One throwaway request per workspace, before the measured ones: it loads the model and
    (rag, grounded) indexes the workspace, so no task's latency pays for either. It uses a file
    that no task uses, cut after a few lines."""
    used = {(task.workspace, task.path) for task in tasks}
    requests = []
    for label, workspace in workspaces.items():
        if not any(task.workspace == workspace for task in tasks):
            continue
        root = Path(workspace)
        files = [p for p in python_files(root, SKIPPED_DIRS)
                 if (workspace, p.relative_to(root).as_posix()) not in used] or \
            python_files(root)
        path = next((p for p in files if p.stat().st_size > 400), files[0])
        lines = path.read_text(errors="replace").split("\n")[:12]
        requests.append({"id": f"warmup:{label}", "workspace": workspace,
                         "path": path.relative_to(root).as_posix(), "line": len(lines) - 1,
                         "character": len(lines[-1]), "text": "\n".join(lines)})
    return requests


# ---------------------------------------------------------------------------------------------
# Runs


def run_eval(model: str, mode: str, requests: list[dict[str, object]], raw_dir: Path,
             reuse: bool) -> dict[str, object]:
    """Run `tether eval` once; returns status, outputs by id, seconds and the log path."""
    stem = f"{model.replace('/', '_')}__{mode}"
    tasks_path, out_path = raw_dir / f"{stem}.tasks.jsonl", raw_dir / f"{stem}.out.jsonl"
    log_path = raw_dir / f"{stem}.log"
    ids = [str(request["id"]) for request in requests]
    meta_path = raw_dir / f"{stem}.seconds"
    if reuse and out_path.exists():
        outputs = _read_outputs(out_path)
        if list(outputs) == ids:
            seconds = float(meta_path.read_text()) if meta_path.exists() else None
            return {"status": "ok", "outputs": outputs, "seconds": seconds, "reused": True}
    tasks_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in requests))
    out_path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "tether", "eval", "--tasks", str(tasks_path),
               "--mode", mode, "--model", model, "--out", str(out_path)]
    started = time.perf_counter()
    with log_path.open("w") as log, subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE,
                                                     stdout=log, text=True) as process:
        assert process.stderr is not None
        done = 0
        for line in process.stderr:
            log.write(line)
            if line.startswith("tether eval: task "):
                done += 1
                if done % 10 == 0 or done == len(requests):
                    print(f"  {model} {mode}: {done}/{len(requests)} requests "
                          f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    seconds = time.perf_counter() - started
    meta_path.write_text(f"{seconds:.1f}")
    tail = [line.strip() for line in log_path.read_text().splitlines() if line.strip()][-1:]
    outputs = _read_outputs(out_path) if out_path.exists() else {}
    if process.returncode == 2 and not outputs:
        return {"status": "unavailable", "reason": " ".join(tail)[-300:], "outputs": {},
                "seconds": seconds}
    status = "ok" if process.returncode == 0 and len(outputs) == len(requests) else "error"
    return {"status": status, "returncode": process.returncode, "outputs": outputs,
            "seconds": seconds, "reason": " ".join(tail)[-300:] if status != "ok" else ""}


def _read_outputs(path: Path) -> dict[str, dict[str, object]]:
    outputs: dict[str, dict[str, object]] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            outputs[str(record.get("id"))] = record
    return outputs


# ---------------------------------------------------------------------------------------------
# Report


def _pct(value: object) -> str:
    return "—" if value is None else f"{100 * float(value):.1f}%"  # type: ignore[arg-type]


def _ms(p50: object, p95: object) -> str:
    if p50 is None or p95 is None:
        return "—"
    return f"{float(p50):.0f} / {float(p95):.0f}"  # type: ignore[arg-type]


def markdown(rows: list[dict[str, object]], meta: dict[str, object]) -> str:
    lines = [
        "# Tether grounding benchmark", "",
        f"Tasks: {meta['tasks_repo']} call-site holes in {', '.join(meta['packages'])} "  # type: ignore[arg-type]
        f"(seed {meta['seed']}) + {meta['tasks_deprecation']} deprecation holes; "
        "each task is sent cold, then again as its warm twin.", "",
        "| model | mode | NIM | invented strict | invented lenient | deprecated written "
        "| p50/p95 cold (ms) | p50/p95 warm (ms) | n |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        metrics = row.get("metrics")
        if not isinstance(metrics, dict):
            lines.append(f"| {row['model']} | {row['mode']} | {row['status']} | — | — | — | — "
                         f"| — | — |")
            continue
        lines.append(
            f"| {row['model']} | {row['mode']} | {_pct(metrics['nim'])} "
            f"| {_pct(metrics['invented_strict'])} | {_pct(metrics['invented_lenient'])} "
            f"| {_pct(metrics['deprecated_written'])} "
            f"| {_ms(metrics['cold_p50_ms'], metrics['cold_p95_ms'])} "
            f"| {_ms(metrics['warm_p50_ms'], metrics['warm_p95_ms'])} "
            f"| {metrics['n']} + {metrics['deprecation_n']} dep |")
    lines += [
        "",
        "NIM: the completion's leading identifier equals the hidden name. Invented rates are over "
        "all call-site tasks (empty completions count as neither): lenient = the identifier "
        "occurs nowhere in the repository's sources; strict = pyright (basic) reports the "
        "attribute missing on the receiver's type (tasks where it rejects the real name too "
        "are not judged: it does not know that type). Deprecated written: share of deprecation "
        "tasks whose completion starts with the deprecated name. Latency is `latency_ms` of the "
        "`tether eval` output: cold = first request with that text, warm = its twin right after "
        "(prompt already in the KV cache, file still open as in an editor); all tasks, "
        "deprecation ones included. A cold request "
        "may still reuse a KV prefix of an earlier task in the same file (see "
        "`cold_first_in_document_p50_ms` in grounding.json); the first request per workspace "
        "is an unmeasured warm-up (model load, indexing). Decode tokens/s is not in the eval "
        "contract and is not reported.",
    ]
    for row in rows:
        if row["status"] != "ok":
            lines.append(f"\n- {row['model']} / {row['mode']}: {row['status']}: "
                         f"{row.get('reason', '')}")
    timings = ", ".join(f"{row['mode']} {float(row['seconds']):.0f} s"  # type: ignore[arg-type]
                        for row in rows if row.get("seconds") is not None)
    lines.append(f"\nStrict check: {json.dumps(meta.get('pyright'))}. `tether eval` wall time "
                 f"per run: {timings or '—'}; bench wall time {meta['seconds']:.0f} s.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS))
    parser.add_argument("--modes", nargs="+", default=list(DEFAULT_MODES))
    parser.add_argument("--per-repo", type=int, default=40)
    parser.add_argument("--deprecation-tasks", type=int, default=24,
                        help="at most this many deprecation tasks per workspace")
    parser.add_argument("--packages", nargs="+", default=list(DEFAULT_PACKAGES))
    parser.add_argument("--limit", type=int, help="at most this many tasks in all")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reuse-tasks", action="store_true",
                        help=f"reuse {TASKS_FILE.relative_to(ROOT)} if present")
    parser.add_argument("--reuse-runs", action="store_true",
                        help="reuse raw outputs of earlier runs over the same requests")
    parser.add_argument("--skip-pyright", action="store_true", help="no strict check")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    started = time.perf_counter()

    if args.reuse_tasks and TASKS_FILE.exists():
        saved = json.loads(TASKS_FILE.read_text())
        tasks = [Task(**task) for task in saved["tasks"]]
        workspaces: dict[str, str] = saved["workspaces"]
    else:
        tasks, workspaces = build_tasks(args.packages, args.per_repo, args.deprecation_tasks,
                                        args.seed)
        TASKS_FILE.parent.mkdir(parents=True, exist_ok=True)
        TASKS_FILE.write_text(json.dumps({"workspaces": workspaces,
                                          "tasks": [t.to_json() for t in tasks]}))
    if args.limit is not None:
        tasks = tasks[:args.limit]
    print(f"grounding bench: {sum(t.kind == 'repo' for t in tasks)} call-site tasks, "
          f"{sum(t.kind == 'deprecation' for t in tasks)} deprecation tasks", file=sys.stderr)
    requests = warmup_requests(tasks, workspaces)
    for task in tasks:
        requests += [task.contract(), task.contract(WARM_SUFFIX)]

    raw_dir = args.results / "grounding_raw"
    raw_dir.mkdir(parents=True, exist_ok=True)
    runs: list[dict[str, object]] = []
    for model in args.models:
        for mode in args.modes:
            print(f"grounding bench: {model} / {mode}", file=sys.stderr)
            run = run_eval(model, mode, requests, raw_dir, args.reuse_runs)
            run.update(model=model, mode=mode)
            runs.append(run)
            if run["status"] != "ok":
                print(f"  {run['status']}: {run.get('reason', '')}", file=sys.stderr)

    by_id = {task.id: task for task in tasks}
    pairs = []
    for run in runs:
        outputs: dict[str, dict[str, object]] = run["outputs"]  # type: ignore[assignment]
        for task_id, record in outputs.items():
            task = by_id.get(task_id)
            if task is not None and task.kind == "repo":
                pairs.append((task, leading_identifier(str(record.get("completion", "")))))
    rejected: set[tuple[str, str]] | None = None
    pyright_info: dict[str, object] = {"skipped": "--skip-pyright"}
    if not args.skip_pyright:
        rejected, pyright_info = strict_invented(pairs)
        if "error" in pyright_info:
            rejected = None
    known = {label: repository_identifiers(Path(root)) for label, root in workspaces.items()}

    rows: list[dict[str, object]] = []
    for run in runs:
        outputs = run.pop("outputs")  # type: ignore[assignment]
        row = dict(run)
        if outputs:
            cold = {i: r for i, r in outputs.items() if i in by_id}
            warm = {i.removesuffix(WARM_SUFFIX): r for i, r in outputs.items()
                    if i.endswith(WARM_SUFFIX)}
            row["metrics"] = summarize(tasks, cold, warm, known, rejected)
            row["warmup_ms"] = {i: r.get("latency_ms") for i, r in outputs.items()
                                if i.startswith("warmup:")}
            row["predictions"] = {i: r.get("completion") for i, r in cold.items()}
        rows.append(row)

    meta = {"packages": args.packages, "seed": args.seed, "per_repo": args.per_repo,
            "tasks_repo": sum(t.kind == "repo" for t in tasks),
            "tasks_deprecation": sum(t.kind == "deprecation" for t in tasks),
            "pyright": pyright_info, "seconds": time.perf_counter() - started}
    args.results.mkdir(parents=True, exist_ok=True)
    table = markdown(rows, meta)
    (args.results / "grounding.md").write_text(table)
    (args.results / "grounding.json").write_text(json.dumps(
        {"meta": meta, "runs": rows,
         "tasks": [{k: v for k, v in t.to_json().items() if k != "text"} for t in tasks]},
        indent=1))
    groups = []
    for row in rows:
        metrics = row.get("metrics") if isinstance(row.get("metrics"), dict) else {}
        groups.append((str(row["model"]), str(row["mode"]),
                       [metrics.get(key) for key in ("nim", "invented_lenient",  # type: ignore[union-attr]
                                                     "invented_strict", "deprecated_written")]))
    writer = write_chart(args.results / "grounding.png", groups, "Tether grounding bench")
    print(table)
    print(f"wrote {args.results / 'grounding.md'}, grounding.json, grounding.png ({writer})",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
