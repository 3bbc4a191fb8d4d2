"""Shared pytest fixtures.

Model fixtures load the default embedded model (real llama.cpp, no network) once per session.
Embedded models that need assembly are written to Tether's normal model cache directory
(``$TETHER_MODEL_CACHE`` or the platform user cache), so the first run assembles and later runs
reuse the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from decoding.model_files import resolve_model
from decoding.runtime import ModelRuntime

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
