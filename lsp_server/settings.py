"""Typed server settings: defaults < `[tool.tether]` in pyproject.toml < initializationOptions
< `workspace/configuration` (section "tether"). Keys are camelCase in the editor and may be
snake_case or camelCase in pyproject.toml. An invalid value is reported (naming the key) and
the previous value is kept."""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from tether.decoding.completion.engine import MODES, CompleterSettings
from tether.index.config import DEFAULT_DOC_FOLDERS, IndexConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TetherSettings:
    model_path: str | None = None
    mode: str = "grounded"
    max_tokens: int = 64
    context_budget: int = 384
    threads: int | None = None
    gpu_layers: int | None = None
    doc_folders: tuple[str, ...] = DEFAULT_DOC_FOLDERS
    excludes: tuple[str, ...] = ()
    enable: bool = True
    log_file: str | None = None
    debounce_ms: int = 75
    embeddings: bool = True

    def completer_settings(self) -> CompleterSettings:
        return CompleterSettings(model=self.model_path, mode=self.mode,
                                 max_tokens=self.max_tokens, context_budget=self.context_budget,
                                 threads=self.threads, gpu_layers=self.gpu_layers)

    def index_config(self) -> IndexConfig:
        return IndexConfig(excludes=list(self.excludes), doc_folders=list(self.doc_folders),
                           embeddings=self.embeddings)

    def model_key(self) -> tuple[object, ...]:
        """What a loaded model depends on: a change reloads it."""
        return (self.model_path, self.threads, self.gpu_layers)

    def index_key(self) -> tuple[object, ...]:
        """What the index depends on: a change re-indexes."""
        return (self.doc_folders, self.excludes)


@dataclass(slots=True)
class SettingsUpdate:
    settings: TetherSettings
    problems: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError("expected a positive integer")
    return value


def _non_negative_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("expected an integer >= 0")
    return value


def _gpu_layers(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < -1:
        raise ValueError("expected an integer >= -1 (-1 offloads every layer)")
    return value


def _mode(value: Any) -> str:
    if value not in MODES:
        raise ValueError(f"expected one of {', '.join(MODES)}")
    return str(value)


def _optional_text(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value.strip()


def _string_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError("expected a list of strings")
    return tuple(value)


def _doc_folders(value: Any) -> tuple[str, ...]:
    """An empty list (what editors send when nothing is configured) means the defaults."""
    return _string_list(value) or DEFAULT_DOC_FOLDERS


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _debounce(value: Any) -> int:
    value = _non_negative_int(value)
    if value > 2000:
        raise ValueError("expected at most 2000 milliseconds")
    return value


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "model_path": _optional_text,
    "mode": _mode,
    "max_tokens": _positive_int,
    "context_budget": _non_negative_int,
    "threads": _positive_int,
    "gpu_layers": _gpu_layers,
    "doc_folders": _doc_folders,
    "excludes": _string_list,
    "enable": _boolean,
    "log_file": _optional_text,
    "debounce_ms": _debounce,
    "embeddings": _boolean,
}
assert set(_CHECKS) == {f.name for f in fields(TetherSettings)}


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def unwrap(options: Any) -> Mapping[str, Any]:
    """Settings as editors send them: `{"tether": {...}}` or the section itself."""
    if not isinstance(options, Mapping):
        return {}
    inner = options.get("tether")
    return inner if isinstance(inner, Mapping) else options


def apply(base: TetherSettings, raw: Any, origin: str) -> SettingsUpdate:
    """`base` with the valid values of `raw` applied; problems name the camelCase key."""
    changes: dict[str, Any] = {}
    update = SettingsUpdate(base)
    for key, value in unwrap(raw).items():
        if value is None:  # editors send null for "not set": the lower layer's value stays
            continue
        name = snake_case(str(key))
        check = _CHECKS.get(name)
        if check is None:
            update.unknown.append(str(key))
            continue
        try:
            changes[name] = check(value)
        except ValueError as error:
            default = getattr(TetherSettings(), name)
            kept = getattr(base, name)
            update.problems.append(
                f"Tether: invalid {origin} setting `{camel_case(name)}`: {error}, got "
                f"{value!r}; using {kept!r}" + ("" if kept == default else
                                               f" (default {default!r})"))
    update.settings = replace(base, **changes)
    return update


def pyproject_defaults(root: Path) -> Mapping[str, Any]:
    """The `[tool.tether]` table of a workspace's pyproject.toml (empty when absent)."""
    path = root / "pyproject.toml"
    try:
        with path.open("rb") as stream:
            data = tomllib.load(stream)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as error:
        log.warning("cannot read %s: %s", path, error)
        return {}
    table = data.get("tool", {}).get("tether", {})
    return table if isinstance(table, Mapping) else {}


class SettingsStore:
    """The layers and the settings they make; `resolve` rebuilds from every layer."""

    def __init__(self) -> None:
        self.project: Mapping[str, Any] = {}
        self.init_options: Mapping[str, Any] = {}
        self.client: Mapping[str, Any] = {}
        self.override: Mapping[str, Any] = {}  # command-line flags (log file)
        self.current = TetherSettings()

    def resolve(self) -> SettingsUpdate:
        settings = TetherSettings()
        problems: list[str] = []
        unknown: list[str] = []
        for layer, origin in ((self.project, "pyproject.toml [tool.tether]"),
                              (self.init_options, "initializationOptions"),
                              (self.client, "workspace configuration"),
                              (self.override, "command-line")):
            update = apply(settings, layer, origin)
            settings = update.settings
            problems.extend(update.problems)
            unknown.extend(update.unknown)
        self.current = settings
        return SettingsUpdate(settings, problems, unknown)
