"""Shared pytest fixtures.

Model fixtures load the default embedded model (real llama.cpp, no network) once per session.
Embedded models that need assembly are written to Tether's normal model cache directory
(``$TETHER_MODEL_CACHE`` or the platform user cache), so the first run assembles and later runs
reuse the file.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tether.decoding.completion.engine import Completer, CompleterSettings
from tether.decoding.model.files import resolve_model
from tether.decoding.model.runtime import ModelRuntime
from tether.index.config import IndexConfig
from tether.index.registry import WorkspaceRegistry

TEST_N_CTX = 2048


@pytest.fixture(scope="session")
def default_model_path() -> Path:
    """Validated GGUF path of the default embedded model."""
    return resolve_model(None)


@pytest.fixture(scope="session")
def model_runtime(default_model_path: Path) -> Iterator[ModelRuntime]:
    """The default embedded model, loaded once with a small context. Tests share it: call
    ``reset()`` (or use ``fresh_runtime``) when a test depends on the cache being empty."""
    runtime = ModelRuntime(default_model_path, n_ctx=TEST_N_CTX)
    yield runtime
    runtime.close()


@pytest.fixture
def fresh_runtime(model_runtime: ModelRuntime) -> ModelRuntime:
    """``model_runtime`` with an empty KV cache and no saved document states."""
    model_runtime.reset()
    return model_runtime


SHOP_FIXTURE = Path(__file__).parent / "fixtures" / "shop_repo"


@pytest.fixture(scope="session")
def shop_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the shop fixture repository, shared by the completion tests."""
    root = tmp_path_factory.mktemp("shop") / "shop_repo"
    shutil.copytree(SHOP_FIXTURE, root)
    return root


@pytest.fixture(scope="session")
def completer(model_runtime: ModelRuntime,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Completer]:
    """A completer on the shared model runtime, with its own index cache."""
    config = IndexConfig(cache_dir=tmp_path_factory.mktemp("completer-cache"))
    registry = WorkspaceRegistry(config)
    engine = Completer(CompleterSettings(max_tokens=24), registry, runtime=model_runtime)
    yield engine
    engine.pyright.close()
    registry.close()
