"""What every layer shares: a marker per folder, and the process state figures run with.

The tests are in folders by layer, and each folder's tests carry its marker (set here,
from the path), so `-m` picks a layer without a list of files:

- `library/` (`library`): symbiote_core itself: hosts, symbiotes, training, metrics, I/O;
- `engine/` (`engine`): the figure build without MkDocs, on fake projects: authoring
  (spec, claims, rules), keys, deps, cache, storage, artifacts, workers, cluster, CLI;
- `site/` (`site`): the MkDocs adapter: directives, pages, citations, notebooks, serve,
  and whole-site builds of the small probe project (`support/mini.py`);
- `essay/` (`essay`): what only the real essay can check: its one full build, the
  browser sweep over it, and the real figures' rules and dependencies.

`make test-fast` runs library, engine and site without the browser; `make test` all.
Helpers are in `support/`; fixtures in the conftest of the layer that uses them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from support.mini import make_mini_project
from support.project import copy_project, run_mkdocs, session_dir

LAYERS = ("library", "engine", "site", "essay")
TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        layer = Path(item.path).resolve().relative_to(TESTS).parts[0]
        if layer in LAYERS:
            item.add_marker(layer)


@pytest.fixture(scope="session")
def built_site() -> Path:
    """The real essay (a copy of it), built strictly once per test session."""
    project = copy_project(session_dir() / "essay")
    result = run_mkdocs(project)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    return project / "site"


@pytest.fixture
def project_copy(tmp_path: Path) -> Callable[[], Path]:
    """A copy of the project (sources, essay, config) that a test may break."""

    def make() -> Path:
        return copy_project(tmp_path / "project")

    return make


@pytest.fixture
def mini_project(tmp_path: Path) -> Callable[..., Path]:
    """`make(text=..., caption=...)`: a small site (one probe figure, one notebook)."""
    import functools

    return functools.partial(make_mini_project, tmp_path / "mini")


@pytest.fixture
def one_thread():
    """The process state the figures run with (one torch thread, deterministic kernels),
    restored afterwards. Trainers leave it to their caller, and bit-for-bit comparisons
    between batch shapes hold on one thread only."""
    import torch

    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
