"""Fixtures of the grounding tests."""

from __future__ import annotations

import pytest
from support.grounding import Teacher

from tether.decoding.model.runtime import ModelRuntime


@pytest.fixture(scope="module")
def teacher(model_runtime: ModelRuntime) -> Teacher:
    """Forced decoding through a monitor on the real vocabulary (one per test module)."""
    return Teacher(model_runtime)
