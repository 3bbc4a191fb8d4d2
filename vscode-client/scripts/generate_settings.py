"""Regenerates what the VS Code extension and the docs say about the server's settings, from the
one schema in lsp_server/settings.py:

- vscode-client/package.json: the flat `tether.<key>` entries of contributes.configuration
  (namespaced ones such as `tether.server.command` belong to the extension and are kept);
- vscode-client/src/settings.ts: the block between the GENERATED markers;
- docs/settings.md: all of it.

    python3 vscode-client/scripts/generate_settings.py          # rewrite what differs
    python3 vscode-client/scripts/generate_settings.py --check  # exit 1 when anything differs

Needs the server importable (`pip install -e .` at the repository root).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tether.lsp_server.settings import SETTINGS, schema
from tether.lsp_server.settings_schema import (
    Boolean,
    Choice,
    Integer,
    OptionalText,
    Setting,
    StringList,
)

ROOT = Path(__file__).resolve().parents[2]
COMMAND = "python3 vscode-client/scripts/generate_settings.py"
TS_BEGIN = "// BEGIN GENERATED"
TS_END = "// END GENERATED"
VSCODE_PATHS_NOTE = " `~`, `${workspaceFolder}`, `${userHome}` and `${env:NAME}` are expanded."

Json = dict[str, Any]


def _properties() -> dict[str, Json]:
    properties: dict[str, Json] = schema()["properties"]
    return properties


def package_entry(setting: Setting, order: int) -> Json:
    """A `contributes.configuration` property: the JSON Schema plus what VS Code reads."""
    entry = setting.json_schema()
    description = entry.pop("description") + (VSCODE_PATHS_NOTE if setting.paths else "")
    if "enumDescriptions" in entry:
        entry["markdownEnumDescriptions"] = entry.pop("enumDescriptions")
    return {**entry, "order": order, "markdownDescription": description}


def is_server_entry(name: str) -> bool:
    """`tether.<camelKey>`: a server setting; `tether.<group>.<key>` is the extension's own."""
    return name.startswith("tether.") and name.count(".") == 1


def render_package_json(text: str) -> str:
    manifest = json.loads(text)
    configuration = manifest["contributes"]["configuration"]
    own = {name: value for name, value in configuration["properties"].items()
           if not is_server_entry(name)}
    generated = {f"tether.{s.key}": package_entry(s, order) for order, s in enumerate(SETTINGS)}
    configuration["properties"] = {**generated, **own}
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"


def ts_literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(ts_literal(item) for item in value) + "]"
    raise TypeError(f"no TypeScript literal for {value!r}")


def _ts_name(setting: Setting) -> str:
    return setting.key[0].upper() + setting.key[1:]


def _choice_constant(setting: Setting) -> str:
    return f"{setting.name.upper()}S"


def ts_type(setting: Setting) -> str:
    rule = setting.rule
    if isinstance(rule, Integer):
        base = "number"
    elif isinstance(rule, Boolean):
        base = "boolean"
    elif isinstance(rule, Choice):
        base = _ts_name(setting)
    elif isinstance(rule, OptionalText):
        base = "string"
    elif isinstance(rule, StringList):
        base = "string[]"
    else:
        raise TypeError(f"{setting.key}: no TypeScript type for {rule!r}")
    return f"{base} | null" if rule.nullable else base


def ts_rule(setting: Setting) -> str:
    """The client's view of a setting's rule: a `SettingRule` literal."""
    rule = setting.rule
    parts: list[str]
    if isinstance(rule, Integer):
        parts = ["kind: 'integer'", f"limits: LIMITS.{setting.key}"]
    elif isinstance(rule, Boolean):
        parts = ["kind: 'boolean'"]
    elif isinstance(rule, Choice):
        parts = ["kind: 'choice'", f"options: {_choice_constant(setting)}"]
    elif isinstance(rule, OptionalText):
        parts = ["kind: 'text'"]
    elif isinstance(rule, StringList):
        parts = ["kind: 'list'"]
    else:
        raise TypeError(f"{setting.key}: no client rule for {rule!r}")
    if rule.nullable:
        parts.append("nullable: true")
    if setting.paths:
        parts.append("paths: true")
    return "{ " + ", ".join(parts) + " }"


def _ts_limits(rule: Integer) -> str:
    bounds = [f"min: {rule.minimum}"] + ([] if rule.maximum is None else [f"max: {rule.maximum}"])
    return "{ " + ", ".join(bounds) + " }"


def _ts_choices() -> list[str]:
    lines: list[str] = []
    for s in SETTINGS:
        if isinstance(s.rule, Choice):
            options = list(s.rule.options)
            lines += [f"export type {_ts_name(s)} = {' | '.join(map(ts_literal, options))};",
                      f"export const {_choice_constant(s)}: readonly {_ts_name(s)}[] = "
                      f"{ts_literal(options)};", ""]
    return lines


def _ts_integers() -> list[str]:
    integers = [(s.key, s.rule) for s in SETTINGS if isinstance(s.rule, Integer)]
    return [f"export type IntegerKey = {' | '.join(ts_literal(key) for key, _ in integers)};",
            "",
            "/** The server's bounds for integer settings. */",
            "export const LIMITS: Readonly<Record<IntegerKey, IntegerLimits>> = Object.freeze({",
            *(f"  {key}: {_ts_limits(rule)}," for key, rule in integers), "});"]


def ts_block() -> str:
    return "\n".join([
        TS_BEGIN + " by scripts/generate_settings.py from the server's settings: do not edit.",
        *_ts_choices(),
        "/** Every server setting and its type. */",
        "export interface ServerSettings {",
        *(f"  {s.key}: {ts_type(s)};" for s in SETTINGS), "}", "",
        "/** The server's defaults. */",
        "export const DEFAULT_OPTIONS: Readonly<ServerSettings> = Object.freeze({",
        *(f"  {s.key}: {ts_literal(s.default)}," for s in SETTINGS), "});", "",
        *_ts_integers(), "",
        "/** How the server validates each setting. */",
        "export const SETTING_RULES: Readonly<Record<keyof ServerSettings, SettingRule>> ="
        " Object.freeze({",
        *(f"  {s.key}: {ts_rule(s)}," for s in SETTINGS), "});",
        TS_END])


def render_settings_ts(text: str) -> str:
    begin, end = text.find(TS_BEGIN), text.find(TS_END)
    if begin < 0 or end < begin:
        raise ValueError(f"src/settings.ts needs the lines {TS_BEGIN!r} and {TS_END!r}")
    return text[:begin] + ts_block() + text[end + len(TS_END):]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def doc_type(prop: Json) -> str:
    types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
    names = ["list of strings" if t == "array" else "`null`" if t == "null" else t
             for t in types]
    text = " or ".join(names)
    if "enum" in prop:
        text += ": " + ", ".join(f"`{option}`" for option in prop["enum"])
    bounds = ([f"≥ {prop['minimum']}"] if "minimum" in prop else []) + (
        [f"≤ {prop['maximum']}"] if "maximum" in prop else [])
    return text + (", " + ", ".join(bounds) if bounds else "")


def doc_description(prop: Json) -> str:
    text: str = prop["description"]
    if "enum" in prop:
        text += "".join(f" `{option}`: {description}" for option, description
                        in zip(prop["enum"], prop["enumDescriptions"], strict=True))
    return text


def render_docs(_text: str = "") -> str:
    rows = [f"| `{key}` | {_cell(doc_type(prop))} | `{_cell(json.dumps(prop['default']))}` | "
            f"{_cell(doc_description(prop))} |" for key, prop in _properties().items()]
    paths = ", ".join(f"`{s.key}`" for s in SETTINGS if s.paths)
    return DOCS_TEMPLATE.format(command=COMMAND, rows="\n".join(rows), paths=paths)


DOCS_TEMPLATE = """\
# Settings

<!-- Generated from the server's settings schema (lsp_server/settings.py) by
`{command}`: edit the schema, then run it. -->

The Tether server's settings, with camelCase keys as editors send them (`initializationOptions`
and the `tether` section of `workspace/configuration`). In `pyproject.toml` they may also be
spelled in snake_case (`context_budget`).

## Where a value comes from

Each layer overrides the one before it:

1. the server's defaults (the table below);
2. `[tool.tether]` in the workspace's `pyproject.toml`;
3. `initializationOptions`, sent by the editor when it starts the server;
4. the workspace configuration: section `tether` of `workspace/configuration`, which the server
   asks for once it starts, or of a `workspace/didChangeConfiguration` the editor sends.

(`tether serve --log-file FILE` overrides `logFile` over all of them.) `null` means "not set":
the layer below applies; a `null` in the workspace configuration also unsets what
`initializationOptions` said, so a setting the editor no longer sets reverts without a restart.
An invalid value is reported, naming the key, and the layer below applies too. The VS Code
extension sends only the settings you set (user, workspace or folder settings), so a project's
`[tool.tether]` keeps its values for the others.

```toml
[tool.tether]
mode = "rag"
contextBudget = 512
excludes = ["migrations/"]
```

`tether settings --schema` prints these settings as a JSON Schema; `tether settings
--workspace DIR` prints the values a workspace gets from the defaults and its `[tool.tether]`.
In VS Code, `~`, `${{workspaceFolder}}`, `${{userHome}}` and `${{env:NAME}}` are expanded in
{paths}.
The extension's own settings (`tether.server.*`, `tether.trace.server`) are described in
[vscode-client/README.md](../vscode-client/README.md).

| key | type | default | description |
| --- | --- | --- | --- |
{rows}
"""

TARGETS: dict[str, Callable[[str], str]] = {
    "vscode-client/package.json": render_package_json,
    "vscode-client/src/settings.ts": render_settings_ts,
    "docs/settings.md": render_docs,
}


def expected(root: Path = ROOT) -> dict[Path, tuple[str, str]]:
    """Each target: (its current text, the text it should have)."""
    out: dict[Path, tuple[str, str]] = {}
    for relative, render in TARGETS.items():
        path = root / relative
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        out[path] = (current, render(current))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when a file is out of date")
    args = parser.parse_args(argv)
    stale = 0
    for path, (current, wanted) in expected().items():
        if current == wanted:
            continue
        stale += 1
        if args.check:
            print(f"{path.relative_to(ROOT)} is out of date; run {COMMAND}", file=sys.stderr)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(wanted, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
