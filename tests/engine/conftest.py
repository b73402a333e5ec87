"""Engine tests work on private copies of the fake project (`support/engine.py`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.engine import copy_fake_project

from symbiote_core.figures.engine.registry import Engine


@pytest.fixture
def fake_project(tmp_path: Path) -> Callable[..., Engine]:
    """`make(name="project")`: a fresh copy of the fake project under this test's
    folder, and its engine (cache inside the copy)."""

    def make(name: str = "project") -> Engine:
        return copy_fake_project(tmp_path / name)

    return make
