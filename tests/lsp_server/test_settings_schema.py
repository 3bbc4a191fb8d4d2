"""The one settings schema and what is made from it: `tether settings --schema`, the VS Code
manifest, the extension's defaults (settings.ts) and docs/settings.md."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from tether.decoding.completion.engine import MODES
from tether.lsp_server.settings import SETTINGS, TetherSettings, as_options, schema
from tether.lsp_server.settings_schema import Integer, setting, settings_of

ROOT = Path(__file__).parents[2]
GENERATOR = ROOT / "vscode-client" / "scripts" / "generate_settings.py"
GENERATED = ("vscode-client/package.json", "vscode-client/src/settings.ts", "docs/settings.md")
EXTENSION_ONLY = ("tether.server.command", "tether.server.pythonPath", "tether.trace.server")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_settings", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tether(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-P", "-m", "tether", *args], capture_output=True,
                          text=True, timeout=120, cwd=cwd, check=False)


@pytest.mark.parametrize("relative", GENERATED)
def test_generated_file_matches_the_schema(relative: str) -> None:
    generator = _generator()
    assert set(generator.TARGETS) == set(GENERATED)
    current = (ROOT / relative).read_text(encoding="utf-8")
    assert current == generator.TARGETS[relative](current), (
        f"{relative} differs from the settings schema; run {generator.COMMAND}")


def test_manifest_entries_are_the_schema_and_extension_settings_stay() -> None:
    manifest = json.loads((ROOT / "vscode-client" / "package.json").read_text(encoding="utf-8"))
    properties = manifest["contributes"]["configuration"]["properties"]
    for key, prop in schema()["properties"].items():
        entry = properties[f"tether.{key}"]
        for field in ("type", "default", "enum", "minimum", "maximum"):
            assert entry.get(field) == prop.get(field), (key, field)
    assert all(name in properties for name in EXTENSION_ONLY)


def test_generator_drops_stale_server_entries_and_keeps_the_extensions_own() -> None:
    manifest = {"contributes": {"configuration": {"properties": {
        "tether.retired": {"type": "string"},
        "tether.contextBudget": {"type": "integer", "default": 2048},
        "tether.server.command": {"type": "string", "order": 20}}}}}
    rendered = json.loads(_generator().render_package_json(json.dumps(manifest)))
    properties = rendered["contributes"]["configuration"]["properties"]
    assert list(properties) == [*(f"tether.{s.key}" for s in SETTINGS), "tether.server.command"]
    assert properties["tether.contextBudget"]["default"] == 384
    assert properties["tether.server.command"] == {"type": "string", "order": 20}


def test_schema_command_prints_every_setting(tmp_path: Path) -> None:
    done = _tether("settings", "--schema", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed["$schema"].startswith("https://json-schema.org/")
    assert printed["type"] == "object"
    properties = printed["properties"]
    assert list(properties) == [s.key for s in SETTINGS]
    for prop in properties.values():
        assert {"type", "default", "description"} <= set(prop)
    assert properties["gpuLayers"]["type"] == ["integer", "null"]
    assert properties["gpuLayers"]["default"] is None and properties["gpuLayers"]["minimum"] == -1
    assert properties["contextBudget"]["default"] == 384
    assert properties["mode"]["enum"] == list(MODES)
    assert properties["debounceMs"]["maximum"] == 2000
    assert properties["docFolders"]["items"] == {"type": "string"}


def test_schema_is_valid_json_schema_and_the_defaults_conform() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator
    validator.check_schema(schema())
    validator(schema()).validate(as_options(TetherSettings()))


def test_effective_settings_of_a_workspace(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.tether]\ncontextBudget = 1024\ngpu_layers = 0\n')
    done = _tether("settings", "--workspace", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert printed == {**as_options(TetherSettings()), "contextBudget": 1024, "gpuLayers": 0}

    (tmp_path / "pyproject.toml").write_text('[tool.tether]\nmaxTokens = 0\ncolour = "blue"\n')
    done = _tether("settings", "-w", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 1
    assert "`maxTokens`" in done.stderr and "`colour`" in done.stderr
    assert json.loads(done.stdout)["maxTokens"] == 64


def test_defaults_pass_their_own_validation() -> None:
    for s in SETTINGS:
        if s.default is None:
            assert s.rule.nullable, s.key
        else:
            assert s.check(s.default) == s.default, s.key
        assert s.description.strip(), s.key


def test_every_field_must_be_declared_as_a_setting() -> None:
    @dataclass(frozen=True)
    class Partly:
        declared: int = setting(1, Integer(minimum=0), "A setting.")
        plain: int = 2

    with pytest.raises(TypeError, match=r"Partly\.plain"):
        settings_of(Partly)
