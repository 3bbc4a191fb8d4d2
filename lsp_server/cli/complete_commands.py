"""`tether complete` and `tether eval` (the batch contract benchmarks rely on)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from tether.decoding.completion.engine import (
    MODES,
    Completer,
    CompleterSettings,
    CompletionRequest,
    CompletionResult,
)
from tether.decoding.model.files import ModelError
from tether.index.textfile import SourceText, read_source


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mode", choices=MODES, default="grounded")
    parser.add_argument("--model", help="a GGUF path or an embedded model name")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--prefix-budget", type=int, default=1024)
    parser.add_argument("--context-budget", type=int, default=384)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--gpu-layers", type=int)


def settings_from(args: argparse.Namespace) -> CompleterSettings:
    return CompleterSettings(model=args.model, mode=args.mode, max_tokens=args.max_tokens,
                             prefix_budget=args.prefix_budget,
                             context_budget=args.context_budget, threads=args.threads,
                             gpu_layers=args.gpu_layers)


def run_complete(args: argparse.Namespace) -> int:
    workspace: Path = args.workspace
    if args.stdin:
        text = sys.stdin.read()
    else:
        loaded = read_source(workspace / args.path, None)
        if not isinstance(loaded, SourceText):
            print(f"tether: cannot read {workspace / args.path}: {loaded.value}",
                  file=sys.stderr)
            return 2
        text = loaded.text
    completer = Completer(settings_from(args))
    try:
        request = CompletionRequest(workspace, args.path, text, args.line, args.character,
                                    args.mode)
        completer.sync_buffer(request)  # this command owns the buffer
        result = completer.complete(request)
    except (ModelError, ValueError) as error:
        print(f"tether: {error}", file=sys.stderr)
        return 2
    finally:
        completer.close()
    print(json.dumps(result.to_json(), indent=2))
    return 0


def _tasks(stream: TextIO) -> Iterator[tuple[int, dict[str, object] | None, str | None]]:
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            task = json.loads(line)
        except json.JSONDecodeError as error:
            yield number, None, f"line {number}: invalid JSON ({error})"
            continue
        if not isinstance(task, dict):
            yield number, None, f"line {number}: expected a JSON object"
            continue
        yield number, task, None


class OpenBuffer:
    """The batch's one buffer, owned as an editor owns it: consecutive tasks in one file (a
    task and its warm twin, later holes in the same file) replace it, as typing would, and
    it is released before a task in another file, which must see the file as it is on disk,
    not cut at an earlier task's cursor (index override and pyright's copy)."""

    def __init__(self, completer: Completer) -> None:
        self._completer = completer
        self._held: CompletionRequest | None = None

    def switch_to(self, request: CompletionRequest) -> None:
        held = self._held
        if held is not None and (held.workspace, held.path) != (request.workspace,
                                                                request.path):
            self._completer.release(held)
        self._completer.sync_buffer(request)
        self._held = request

    def close(self) -> None:
        if self._held is not None:
            self._completer.release(self._held)
            self._held = None


def run_eval(args: argparse.Namespace) -> int:
    completer = Completer(settings_from(args))
    buffer = OpenBuffer(completer)
    out: TextIO = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115
    details: TextIO | None = (open(args.details, "w", encoding="utf-8")  # noqa: SIM115
                              if args.details else None)
    failures = 0
    try:
        with open(args.tasks, encoding="utf-8") as stream:
            for number, task, problem in _tasks(stream):
                if task is None:
                    print(f"tether eval: {problem}", file=sys.stderr)
                    failures += 1
                    continue
                record, result = _evaluate(completer, buffer, task, args.mode, number)
                failures += result is None
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                out.flush()
                if details is not None:
                    extra = result.to_json() if result is not None else {}
                    details.write(json.dumps({"id": record["id"], **extra},
                                             ensure_ascii=False) + "\n")
    except ModelError as error:
        print(f"tether eval: {error}", file=sys.stderr)
        return 2
    finally:
        buffer.close()
        completer.close()
        if out is not sys.stdout:
            out.close()
        if details is not None:
            details.close()
    if failures:
        print(f"tether eval: {failures} task(s) failed", file=sys.stderr)
    return 0


def _evaluate(completer: Completer, buffer: OpenBuffer, task: dict[str, object], mode: str,
              number: int) -> tuple[dict[str, object], CompletionResult | None]:
    task_id = task.get("id")
    try:
        request = CompletionRequest(
            workspace=Path(str(task["workspace"])), path=str(task["path"]),
            text=str(task["text"]), line=int(task["line"]),  # type: ignore[call-overload]
            character=int(task["character"]), mode=mode)  # type: ignore[call-overload]
        print(f"tether eval: task {number} ({task_id}) {request.path}:{request.line + 1}",
              file=sys.stderr)
        buffer.switch_to(request)
        result = completer.complete(request)
    except ModelError:
        raise
    except (KeyError, TypeError, ValueError, OSError) as error:
        print(f"tether eval: task {number} ({task_id}): {error}", file=sys.stderr)
        return {"id": task_id, "completion": "", "latency_ms": 0.0}, None
    record = {"id": task_id, "completion": result.text,
              "latency_ms": round(result.latency_ms, 2)}
    return record, result
