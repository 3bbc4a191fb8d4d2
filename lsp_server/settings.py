"""Typed server settings: defaults < `[tool.tether]` in pyproject.toml < initializationOptions
< `workspace/configuration` (section "tether"). Keys are camelCase in the editor and may be
snake_case or camelCase in pyproject.toml. An invalid value is reported (naming the key) and
the previous value is kept. Each setting is declared once, as a field of `TetherSettings`
with its default, validation and description; the JSON Schema (`tether settings --schema`),
the VS Code manifest and docs/settings.md are made from those declarations."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tether.decoding.completion.engine import MODES, CompleterSettings
from tether.index.config import DEFAULT_DOC_FOLDERS, DEFAULT_EXCLUDES, IndexConfig
from tether.lsp_server.settings_schema import (
    Boolean,
    Choice,
    Integer,
    OptionalText,
    Setting,
    StringList,
    json_schema,
    setting,
    settings_of,
    snake_case,
)

log = logging.getLogger(__name__)

_MODE_DESCRIPTIONS = {
    "plain": "The model alone, from the code around the cursor.",
    "rag": "The model with code and documentation retrieved from the repository.",
    "grounded": "Retrieval, plus decoding constrained to names the repository defines "
                "(members of the receiver's type).",
    "blind": "Like `grounded`, but any name defined in the repository is allowed, whatever "
             "the receiver's type (a baseline for benchmarks).",
}
_BUILTIN_EXCLUDES = ", ".join(f"`{pattern}`" for pattern in DEFAULT_EXCLUDES[:6])


@dataclass(frozen=True, slots=True)
class TetherSettings:
    """Every server setting: its default, validation and description (see settings_schema)."""

    model_path: str | None = setting(
        None, OptionalText(),
        "A GGUF model file or the name of an embedded model; `null` uses the default embedded "
        "model.", paths=True)
    mode: str = setting("grounded", Choice({mode: _MODE_DESCRIPTIONS[mode] for mode in MODES}),
                         "How completions are made.")
    max_tokens: int = setting(
        64, Integer(minimum=1), "Maximum number of tokens generated per completion.")
    context_budget: int = setting(
        384, Integer(minimum=0),
        "Tokens of repository context (retrieved code and docs) put in the prompt in `rag` and "
        "`grounded` modes.")
    threads: int | None = setting(
        None, Integer(minimum=1, nullable=True),
        "CPU threads used for inference; `null` uses half the CPUs, at most 8.")
    gpu_layers: int | None = setting(
        None, Integer(minimum=-1, nullable=True, note="-1 offloads every layer"),
        "Model layers offloaded to the GPU: `0` keeps the model on the CPU, `-1` offloads every "
        "layer, `null` offloads every layer when llama.cpp was built with GPU support.")
    doc_folders: tuple[str, ...] = setting(
        DEFAULT_DOC_FOLDERS, StringList(empty=DEFAULT_DOC_FOLDERS),
        "Documentation folders indexed for retrieval, relative to the workspace root; an empty "
        "list means the default.", paths=True)
    excludes: tuple[str, ...] = setting(
        (), StringList(),
        "Gitignore-style patterns excluded from indexing, besides the built-in ones "
        f"({_BUILTIN_EXCLUDES}, …).")
    enable: bool = setting(
        True, Boolean(),
        "Offer completions. When false the server keeps running (hover, diagnostics, quick "
        "fixes) but completes nothing.")
    log_file: str | None = setting(
        None, OptionalText(), "A file the server also writes its log to.", paths=True)
    debounce_ms: int = setting(
        75, Integer(minimum=0, maximum=2000, unit="milliseconds"),
        "Milliseconds a completion request waits before it runs; a newer request for the same "
        "document replaces it.")
    embeddings: bool = setting(
        True, Boolean(),
        "Embed code and docs for semantic search; false keeps search lexical (BM25) only.")

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


SETTINGS: tuple[Setting, ...] = settings_of(TetherSettings)
_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def schema() -> dict[str, Any]:
    """The settings as a JSON Schema object (`tether settings --schema`)."""
    return json_schema(SETTINGS, "Tether server settings")


def as_options(settings: TetherSettings) -> dict[str, Any]:
    """`settings` as editors spell them: camelCase keys, JSON values."""
    return {s.key: (list(v) if isinstance(v := getattr(settings, s.name), tuple) else v)
            for s in SETTINGS}


@dataclass(slots=True)
class SettingsUpdate:
    settings: TetherSettings
    problems: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


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
        spec = _BY_NAME.get(name)
        if spec is None:
            update.unknown.append(str(key))
            continue
        try:
            changes[name] = spec.check(value)
        except ValueError as error:
            default = spec.default
            kept = getattr(base, name)
            update.problems.append(
                f"Tether: invalid {origin} setting `{spec.key}`: {error}, got "
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


def _unset_by(layer: Mapping[str, Any], later: Mapping[str, Any]) -> Mapping[str, Any]:
    """`layer` without the keys `later` sets to null: the editor has unset them since."""
    cleared = {snake_case(str(key)) for key, value in unwrap(later).items() if value is None}
    return {key: value for key, value in unwrap(layer).items()
            if snake_case(str(key)) not in cleared}


class SettingsStore:
    """The layers and the settings they make; `resolve` rebuilds from every layer. A null in
    the workspace configuration also unsets the key's initializationOptions value."""

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
                              (_unset_by(self.init_options, self.client),
                               "initializationOptions"),
                              (self.client, "workspace configuration"),
                              (self.override, "command-line")):
            update = apply(settings, layer, origin)
            settings = update.settings
            problems.extend(update.problems)
            unknown.extend(update.unknown)
        self.current = settings
        return SettingsUpdate(settings, problems, unknown)
