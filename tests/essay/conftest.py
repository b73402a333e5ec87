"""Essay tests: the real essay, built once per test run, and copies of the project.

Under pytest-xdist (`make test` runs this layer on two processes: its browser sweeps
wait on the page more than they compute) the first worker that needs the essay builds
it into the run's shared folder, under a lock, and every worker reads that one build.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock
from support.project import (
    EssayBuild,
    copy_project,
    developer_figure_cache,
    mkdocs_env,
    run_mkdocs,
    seeded_cache,
    session_dir,
    session_figure_cache,
    shared_dir,
)


def _build(folder: Path, cache: Path) -> EssayBuild | str:
    """A copy of the project built strictly in `folder`, its figures in `cache`; the
    failure's log if it fails. A fresh clone computes every figure here, with workers
    started as in the real build."""
    project = copy_project(folder / "essay")
    # A hang guard, not a time limit.
    env = mkdocs_env(cache=cache)
    env.pop("SYMBIOTE_WORKER_PRELOAD", None)  # the real build's default
    result = run_mkdocs(project, env=env, timeout=3600)
    if result.returncode != 0:
        return f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    return EssayBuild(project / "site", cache)


@pytest.fixture(scope="session")
def essay_build() -> EssayBuild:
    """The one full build of the suite. `SYMBIOTE_BUILT_SITE=site` checks a site built
    already instead (a quick loop while working on the site's front end)."""
    prebuilt = os.environ.get("SYMBIOTE_BUILT_SITE")
    if prebuilt:
        return EssayBuild(Path(prebuilt).resolve(), session_figure_cache())
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        built = _build(session_dir(), session_figure_cache())
    else:
        shared = shared_dir()
        done, failed = shared / "essay.done", shared / "essay.failed"
        with FileLock(shared / "essay.lock"):
            if done.exists():
                built = EssayBuild(shared / "essay" / "site", shared / "figures-cache")
            elif failed.exists():
                built = failed.read_text()
            else:
                cache = seeded_cache(shared / "figures-cache", developer_figure_cache())
                built = _build(shared, cache)
                (failed if isinstance(built, str) else done).write_text(str(built))
    if isinstance(built, str):
        pytest.fail(built)
    return built


@pytest.fixture(scope="session")
def built_site(essay_build: EssayBuild) -> Path:
    return essay_build.site


@pytest.fixture
def project_copy(tmp_path: Path) -> Callable[[], Path]:
    """A copy of the project (sources, essay, config) that a test may break."""

    def make() -> Path:
        return copy_project(tmp_path / "project")

    return make
