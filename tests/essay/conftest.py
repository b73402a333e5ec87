"""Essay tests: the real essay, built once per session, and copies of the project."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from support.project import copy_project, mkdocs_env, run_mkdocs, session_dir


@pytest.fixture(scope="session")
def built_site() -> Path:
    """The real essay (a copy of it), built strictly once per test session: the one
    full build of the suite. `SYMBIOTE_BUILT_SITE=site` checks a site built already
    instead (a quick loop while working on the site's front end)."""
    prebuilt = os.environ.get("SYMBIOTE_BUILT_SITE")
    if prebuilt:
        return Path(prebuilt).resolve()
    project = copy_project(session_dir() / "essay")
    # A fresh clone computes every figure here: a hang guard, not a time limit.
    # Its workers spawned, as in the real build (the other layers fork them preloaded).
    result = run_mkdocs(project, env=mkdocs_env(spawned_workers=True), timeout=3600)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    return project / "site"


@pytest.fixture
def project_copy(tmp_path: Path) -> Callable[[], Path]:
    """A copy of the project (sources, essay, config) that a test may break."""

    def make() -> Path:
        return copy_project(tmp_path / "project")

    return make
