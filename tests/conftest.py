"""What every layer shares: a marker per folder, one chromium for the browser tests, and
`one_thread` (torch's process state as the figures run it) for the library and essay tests.

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

Figure workers fork from a forkserver that imported torch and Altair once
(`SYMBIOTE_WORKER_PRELOAD`, engine/pool.py), as in the real build, in this process and in
every CLI and MkDocs process a test starts (set explicitly here, so a Python that lacks
what it needs fails instead of silently spawning). The tests that check what a fresh
interpreter guarantees spawn theirs (`spawned_workers`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

LAYERS = ("library", "engine", "site", "essay")
TESTS = Path(__file__).resolve().parent
PRELOAD_ENV = "SYMBIOTE_WORKER_PRELOAD"  # symbiote_core.figures.engine.pool.PRELOAD_ENV

os.environ.setdefault(PRELOAD_ENV, "1")  # before any session fixture builds; =0: spawn all
SHARED_ENV = "SYMBIOTE_TESTS_SHARED"  # support.project.SHARED_ENV


def pytest_configure(config: pytest.Config) -> None:
    """The run's shared folder (`support.project.shared_dir`), made by the process that
    starts the xdist workers (or the only one), before it starts them: they inherit its
    name, so what one builds for all (the probe site's seed) is built once per run."""
    if not hasattr(config, "workerinput"):
        folder = tempfile.mkdtemp(prefix="symbiote-tests-shared-")
        os.environ[SHARED_ENV] = folder
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


# pytest names the running test and phase in this variable. The pool restarts its
# forkserver (a torch and Altair import, about 2 CPU-s) whenever os.environ differs from
# the one it started under, so this alone cost a restart in every test that builds in
# process. Tests and fixtures run without it; it is put back after each.
CURRENT_TEST_ENV = "PYTEST_CURRENT_TEST"


@contextlib.contextmanager
def _without_current_test_variable() -> Iterator[None]:
    named = os.environ.pop(CURRENT_TEST_ENV, None)
    try:
        yield
    finally:
        if named is not None:
            os.environ[CURRENT_TEST_ENV] = named


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Iterator[object]:
    with _without_current_test_variable():
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef, request: pytest.FixtureRequest):
    with _without_current_test_variable():
        return (yield)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        layer = _layer(item)
        if layer in LAYERS:
            item.add_marker(layer)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # xdist hands out tests in this order: the site's builds (seconds each) first,
        # the library's many small tests last, so the processes finish together.
        items.sort(key=lambda item: SPREAD_ORDER.get(_layer(item), len(SPREAD_ORDER)))


SPREAD_ORDER = {"site": 0, "engine": 1, "library": 2}


def _layer(item: pytest.Item) -> str:
    return Path(item.path).resolve().relative_to(TESTS).parts[0]


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """`--dist loadgroup` (the Makefile's): each test on its own, except that a module
    defining a module-scoped fixture (a trained host, a built project) runs on one
    process, which builds it once. A whole module pinned to one process, as
    `loadscope` does, left the other idle at the end of the run.

    xdist's own loadgroup reads `xdist_group` marks through the test ids, which
    pytest 9.2 no longer lets it change (pytest-xdist#1386): it spreads every test."""
    if config.getoption("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleFixtureGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if _defines_a_module_fixture(config.rootpath / module) else nodeid

    return ModuleFixtureGroups(config, log)


_MODULE_FIXTURE = re.compile(r"@pytest\.fixture\([^)]*scope=[\"'](?:package|module|class)[\"']")


@functools.cache
def _defines_a_module_fixture(module: Path) -> bool:
    return module.is_file() and _MODULE_FIXTURE.search(module.read_text()) is not None


@pytest.fixture(scope="session")
def browser():
    """Debian chromium (the site and essay layers' browser tests share one)."""
    from support.browser import CHROMIUM, FLAGS

    if not CHROMIUM.exists():
        pytest.fail(
            "Debian chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def spawned_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Figure workers spawned, each a fresh interpreter (`SYMBIOTE_WORKER_PRELOAD=0`),
    for a test of what that guarantees: a pinned hash seed, seeding, dying with the CLI."""
    monkeypatch.setenv(PRELOAD_ENV, "0")


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
