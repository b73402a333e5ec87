"""Site tests build the small probe site (`support/mini.py`), never the real essay."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pytest
from support.mini import make_mini_project


@pytest.fixture
def mini_project(tmp_path: Path) -> Callable[..., Path]:
    """`make(text=..., caption=..., publication=...)`: a small site (one probe figure,
    one notebook) in this test's folder; build it with `run_mkdocs(project, env=mini_env())`."""
    return functools.partial(make_mini_project, tmp_path / "mini")
