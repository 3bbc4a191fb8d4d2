"""Server settings: layers, key spellings, validation."""

from __future__ import annotations

from pathlib import Path

from tether.lsp_server.settings import (
    SETTINGS,
    SettingsStore,
    TetherSettings,
    apply,
    as_options,
    pyproject_defaults,
)


def test_camel_and_snake_case_keys() -> None:
    update = apply(TetherSettings(), {"modelPath": "~/m.gguf", "max_tokens": 12,
                                      "gpuLayers": -1, "docFolders": ["manual"]}, "test")
    assert update.problems == [] and update.unknown == []
    settings = update.settings
    assert settings.model_path == "~/m.gguf" and settings.max_tokens == 12
    assert settings.gpu_layers == -1 and settings.doc_folders == ("manual",)
    assert settings.completer_settings().max_tokens == 12
    assert settings.index_config().doc_folders == ["manual"]


def test_invalid_values_are_named_and_defaults_kept() -> None:
    update = apply(TetherSettings(), {"tether": {"maxTokens": "many", "mode": "turbo",
                                                 "threads": 0, "enable": "yes",
                                                 "excludes": [1], "contextBudget": 100,
                                                 "colour": "blue"}}, "test")
    named = " ".join(update.problems)
    for key in ("`maxTokens`", "`mode`", "`threads`", "`enable`", "`excludes`"):
        assert key in named
    assert update.settings.max_tokens == 64 and update.settings.mode == "grounded"
    assert update.settings.context_budget == 100
    assert update.unknown == ["colour"]


def test_layers_in_order(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.tether]\nmax_tokens = 10\nmode = "rag"\ncontextBudget = 200\n')
    store = SettingsStore()
    store.project = pyproject_defaults(tmp_path)
    store.init_options = {"maxTokens": 20}
    store.client = {"tether": {"contextBudget": 300}}
    settings = store.resolve().settings
    assert (settings.max_tokens, settings.mode, settings.context_budget) == (20, "rag", 300)
    store.client = {"maxTokens": -5}
    update = store.resolve()
    assert update.settings.max_tokens == 20 and "`maxTokens`" in update.problems[0]


def test_missing_or_broken_pyproject(tmp_path: Path) -> None:
    assert pyproject_defaults(tmp_path) == {}
    (tmp_path / "pyproject.toml").write_text("[tool.tether\n")
    assert pyproject_defaults(tmp_path) == {}


def test_what_reloads_and_reindexes() -> None:
    base = TetherSettings()
    assert apply(base, {"modelPath": "x.gguf"}, "t").settings.model_key() != base.model_key()
    assert apply(base, {"maxTokens": 5}, "t").settings.model_key() == base.model_key()
    assert apply(base, {"excludes": ["gen/"]}, "t").settings.index_key() != base.index_key()


def test_what_editors_send_when_nothing_is_set() -> None:
    vscode_defaults = {"modelPath": None, "mode": "grounded", "maxTokens": 64,
                       "contextBudget": 2048, "threads": None, "gpuLayers": 0, "docFolders": [],
                       "excludes": [], "enable": True, "logFile": None}
    update = apply(TetherSettings(), vscode_defaults, "test")
    assert update.problems == [] and update.unknown == []
    assert update.settings.doc_folders == TetherSettings().doc_folders
    assert update.settings.threads is None and update.settings.model_path is None


def test_messages_name_what_the_server_expects() -> None:
    update = apply(TetherSettings(), {"gpuLayers": -2, "debounceMs": 2001, "threads": 0,
                                      "contextBudget": -1, "maxTokens": True}, "test")
    problems = "\n".join(update.problems)
    assert "`gpuLayers`: expected an integer >= -1 (-1 offloads every layer)" in problems
    assert "`debounceMs`: expected at most 2000 milliseconds" in problems
    assert "`threads`: expected a positive integer" in problems
    assert "`contextBudget`: expected an integer >= 0" in problems
    assert "`maxTokens`: expected a positive integer" in problems
    assert update.settings == TetherSettings()


def test_every_setting_round_trips_in_both_spellings() -> None:
    assert [s.name for s in SETTINGS] == list(TetherSettings.__dataclass_fields__)
    camel = apply(TetherSettings(), as_options(TetherSettings()), "test")
    snake = apply(TetherSettings(), {s.name: s.json_default() for s in SETTINGS}, "test")
    for update in (camel, snake):
        assert update.problems == [] and update.unknown == []
        assert update.settings == TetherSettings()


def test_project_values_survive_an_editor_that_sends_only_what_the_user_set(
        tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.tether]\ncontextBudget = 1024\ngpuLayers = 0\n")
    store = SettingsStore()
    store.project = pyproject_defaults(tmp_path)
    store.init_options = {"maxTokens": 32}
    store.client = {"tether": {"maxTokens": 32}}
    settings = store.resolve().settings
    assert (settings.context_budget, settings.gpu_layers, settings.max_tokens) == (1024, 0, 32)


def test_a_null_in_the_workspace_configuration_unsets_the_initialization_option() -> None:
    store = SettingsStore()
    store.project = {"max_tokens": 10}
    store.init_options = {"maxTokens": 20, "mode": "rag"}
    store.client = {"tether": {"maxTokens": None, "mode": None}}
    settings = store.resolve().settings
    assert (settings.max_tokens, settings.mode) == (10, "grounded")
    store.client = {"tether": {"contextBudget": 300}}
    assert store.resolve().settings.max_tokens == 20
