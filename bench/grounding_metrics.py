"""Metrics of the grounding benchmark: next-identifier match, invented identifiers (lenient:
unknown to the repository's source; strict: pyright says the attribute does not exist on the
receiver's type), deprecated names written, and cold/warm latency percentiles."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from bench.grounding_tasks import Task, identifiers, python_files

_LEADING = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ATTRIBUTE_RULES = ("reportAttributeAccessIssue", "reportGeneralTypeIssues")


def leading_identifier(completion: str) -> str:
    """The identifier the completion starts with (after whitespace), or "" if none."""
    match = _LEADING.match(completion.strip())
    return match.group(0) if match else ""


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation; None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def repository_identifiers(root: Path) -> set[str]:
    """Every identifier in the repository's Python sources (tests and docs included)."""
    names: set[str] = set()
    for path in python_files(root):
        names |= identifiers(path.read_bytes())
    return names


# ---------------------------------------------------------------------------------------------
# Strict check with pyright


def variant_source(original: str, task: Task, prediction: str) -> str | None:
    """The original file with the expected name at the task's position replaced by the
    prediction; None if the file no longer has the expected name there."""
    lines = original.split("\n")
    if task.line >= len(lines):
        return None
    line = lines[task.line]
    end = task.character + len(task.expected)
    if line[task.character:end] != task.expected:
        return None
    lines[task.line] = line[:task.character] + prediction + line[end:]
    return "\n".join(lines)


def _is_missing_attribute(diagnostic: Mapping[str, object], line: int, character: int,
                          prediction: str) -> bool:
    """Whether pyright reports the predicted name itself missing: at its own position, not
    the same name accessed later on the line (`names.split(',').split()`)."""
    if diagnostic.get("severity") != "error":
        return False
    start = diagnostic.get("range", {}).get("start", {})  # type: ignore[union-attr]
    if (start.get("line"), start.get("character")) != (line, character):
        return False
    message = str(diagnostic.get("message", ""))
    if f'"{prediction}"' not in message:
        return False
    return diagnostic.get("rule") in _ATTRIBUTE_RULES or "is not a known attribute" in message


def strict_invented(pairs: Iterable[tuple[Task, str]], pyright: str = "pyright",
                    timeout: float = 900) -> tuple[set[tuple[str, str]], dict[str, object]]:
    """Which (task id, prediction) pairs pyright rejects as a missing attribute.

    Each pair becomes a variant file next to the original (so relative imports resolve) in a
    temporary copy of its workspace; pyright runs once over all variants. The original file
    of each task is checked too: where pyright rejects the real name as well, it does not
    know the receiver's type (`self.ops` assigned from a class attribute set to None), and
    that task's predictions are not judged. Returns the rejected pairs and run information
    (variants checked, unjudged tasks, seconds, problems)."""
    judged = sorted({(task.id, prediction): (task, prediction) for task, prediction in pairs
                     if prediction and prediction != task.expected}.values(),
                    key=lambda pair: (pair[0].id, pair[1]))
    controls = {task.id: (task, task.expected) for task, _ in judged}
    pairs = judged + sorted(controls.values(), key=lambda pair: pair[0].id)
    info: dict[str, object] = {"variants": 0, "skipped": 0, "unjudged": 0}
    if not pairs:
        return set(), info
    scratch = Path(tempfile.mkdtemp(prefix="tether-grounding-pyright-"))
    try:
        copies: dict[str, Path] = {}
        variants: dict[str, tuple[str, str, int, int]] = {}
        for number, (task, prediction) in enumerate(pairs):
            if task.workspace not in copies:
                target = scratch / f"ws{len(copies)}"
                shutil.copytree(task.workspace, target,
                                ignore=shutil.ignore_patterns(".git", "__pycache__"))
                copies[task.workspace] = target
            original = Path(task.workspace, task.path).read_text(errors="replace")
            source = variant_source(original, task, prediction)
            if source is None:
                info["skipped"] = int(info["skipped"]) + 1  # type: ignore[call-overload]
                continue
            stem = Path(task.path)
            rel = stem.with_name(f"{stem.stem}__tether_variant_{number}.py")
            path = copies[task.workspace] / rel
            path.write_text(source)
            variants[str(path.resolve())] = (task.id, prediction, task.line, task.character)
        extra = [str(p) for root in copies.values() for p in (root, root / "src") if p.is_dir()]
        config = {"include": sorted(variants), "extraPaths": extra,
                  "typeCheckingMode": "basic", "reportMissingImports": "none",
                  "reportMissingModuleSource": "none"}
        (scratch / "pyrightconfig.json").write_text(json.dumps(config, indent=1))
        info["variants"] = len(variants)
        done = subprocess.run([pyright, "--outputjson", "-p", str(scratch / "pyrightconfig.json")],
                              capture_output=True, text=True, timeout=timeout, cwd=scratch)
        try:
            report = json.loads(done.stdout)
        except json.JSONDecodeError:
            info["error"] = (done.stderr or done.stdout)[-2000:]
            return set(), info
        info["pyright_files"] = report.get("summary", {}).get("filesAnalyzed")
        info["seconds"] = report.get("summary", {}).get("timeInSec")
        rejected: set[tuple[str, str]] = set()
        for diagnostic in report.get("generalDiagnostics", []):
            variant = variants.get(str(Path(diagnostic.get("file", "")).resolve()))
            if variant and _is_missing_attribute(diagnostic, variant[2], variant[3], variant[1]):
                rejected.add((variant[0], variant[1]))
        unjudged = {task_id for task_id, name in rejected
                    if task_id in controls and name == controls[task_id][1]}
        info["unjudged"] = len(unjudged)
        return {pair for pair in rejected if pair[0] not in unjudged}, info
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Aggregation


def _rate(count: int, total: int) -> float | None:
    return count / total if total else None


def summarize(tasks: list[Task], cold: Mapping[str, Mapping[str, object]],
              warm: Mapping[str, Mapping[str, object]], known: Mapping[str, set[str]],
              rejected: set[tuple[str, str]] | None) -> dict[str, object]:
    """Metrics of one model × mode run.

    cold/warm: task id → the `tether eval` output record of the cold request and its warm twin.
    known: repo → identifiers of its sources (lenient check). rejected: (task id, prediction)
    pairs pyright flags (strict check; None when it did not run). Quality metrics use the cold
    completions; invented rates are over all repo tasks (empty predictions are neither correct
    nor invented)."""
    repo = [t for t in tasks if t.kind == "repo" and t.id in cold]
    deprecation = [t for t in tasks if t.kind == "deprecation" and t.id in cold]
    predicted = {t.id: leading_identifier(str(cold[t.id].get("completion", ""))) for t in tasks
                 if t.id in cold}
    exact = sum(predicted[t.id] == t.expected for t in repo)
    empty = sum(not predicted[t.id] for t in repo)
    wrong = [t for t in repo if predicted[t.id] and predicted[t.id] != t.expected]
    lenient = sum(predicted[t.id] not in known.get(t.repo, set()) for t in wrong)
    strict = None if rejected is None else sum((t.id, predicted[t.id]) in rejected
                                               for t in wrong)
    written = sum(predicted[t.id] == t.deprecated for t in deprecation)
    first_seen: set[tuple[str, str]] = set()
    cold_first = []
    for task in tasks:  # tasks are in request order
        document = (task.workspace, task.path)
        if task.id in cold and document not in first_seen:
            cold_first.append(float(cold[task.id].get("latency_ms", 0.0)))  # type: ignore[arg-type]
        first_seen.add(document)
    cold_ms = [float(cold[t.id].get("latency_ms", 0.0)) for t in tasks if t.id in cold]  # type: ignore[arg-type]
    warm_ms = [float(warm[t.id].get("latency_ms", 0.0)) for t in tasks if t.id in warm]  # type: ignore[arg-type]
    agree = [t for t in tasks if t.id in cold and t.id in warm]
    same = sum(cold[t.id].get("completion") == warm[t.id].get("completion") for t in agree)
    return {
        "n": len(repo), "nim": _rate(exact, len(repo)),
        "invented_strict": None if strict is None else _rate(strict, len(repo)),
        "invented_lenient": _rate(lenient, len(repo)),
        "empty": _rate(empty, len(repo)),
        "deprecation_n": len(deprecation),
        "deprecated_written": _rate(written, len(deprecation)),
        "deprecation_nim": _rate(sum(predicted[t.id] == t.expected for t in deprecation),
                                 len(deprecation)),
        "cold_p50_ms": percentile(cold_ms, 50), "cold_p95_ms": percentile(cold_ms, 95),
        "warm_p50_ms": percentile(warm_ms, 50), "warm_p95_ms": percentile(warm_ms, 95),
        "cold_first_in_document_n": len(cold_first),
        "cold_first_in_document_p50_ms": percentile(cold_first, 50),
        "cold_warm_same_completion": _rate(same, len(agree)),
        "errors": sum("error" in record for record in cold.values()),
        "per_repo": {name: _rate(sum(predicted[t.id] == t.expected for t in repo
                                     if t.repo == name), sum(t.repo == name for t in repo))
                     for name in sorted({t.repo for t in repo})},
    }
