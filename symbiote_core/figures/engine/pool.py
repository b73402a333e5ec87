"""The local pool: stale figures run in fresh processes, one per figure.

Longest first and figures sharing an artifact apart (`schedule.py`); a worker that dies
outright breaks the pool, and the figures it took down are retried alone, so only the
culprit fails.

Each worker is forked from a `forkserver` that has imported numpy, Altair, vl-convert
and, when a figure of the build imports it, torch once (`PRELOAD`): still one fresh
process per figure, started from an interpreter that has run no figure, with the same
pinned environment and checks, but without 2-3 CPU-s of third-party imports per figure
(about 50 CPU-s of the essay's build). Figures whose sources import no torch (the fake
projects' in the tests) pay for no torch at all. No project module is preloaded: a
worker imports the project from its sources. The forkserver is started under the pinned
environment (`worker_environment`), so its hash seed, thread counts, instruction sets
and allocator settings are the workers'. `SYMBIOTE_WORKER_PRELOAD=0` spawns each
worker from a fresh interpreter instead, as does a Python without the private
forkserver state this relies on.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from symbiote_core.figures.engine.deps import SourceCache, dependency_sources
from symbiote_core.figures.engine.registry import Engine
from symbiote_core.figures.engine.schedule import (
    Schedule,
    expected_seconds,
    imports_torch,
    uses_artifacts,
)
from symbiote_core.figures.engine.tasks import EventCallback, Outcome, Task
from symbiote_core.figures.engine.worker import (
    WORKER_ENV,
    died_message,
    work,
    worker_environment,
)

PRELOAD_ENV = "SYMBIOTE_WORKER_PRELOAD"
"""Unset or "1": fork workers from the preloading forkserver; "0": spawn each one."""
PRELOAD = ("numpy", "altair", "vl_convert")
"""Third-party modules the forkserver imports for the workers it forks (never project
code: a worker must import that from the sources its keys hashed); torch too, when a
figure of the build imports it (`Schedule.torch_free`)."""

_forkserver_state: tuple[dict[str, str], tuple[str, ...]] | None = None
"""`os.environ` when this process's forkserver started (its workers inherit that), and
what it preloaded."""


def schedule_for(engine: Engine, names: list[str], sources: SourceCache) -> Schedule:
    """Longest first, figures sharing an artifact apart (see `schedule.py`); which
    figures need no torch."""
    groups, torch_free = {}, set()
    for name in names:
        try:
            module = sources.module(engine.module_name(name))
            found = [module, *dependency_sources(engine, engine.module_name(name), sources)]
        except Exception:  # a figure that cannot be read fails in its worker; here it
            found = [None]  # joins no artifact group and pins torch (None: unknown)
        groups[name] = frozenset(
            engine.relative(s.path) for s in found if s is not None and uses_artifacts(s)
        )
        if not any(s is None or imports_torch(s) for s in found):
            torch_free.add(name)
    return Schedule(
        seconds=expected_seconds(engine, names), groups=groups, torch_free=frozenset(torch_free)
    )


def run_workers(
    engine: Engine,
    names: list[str],
    force: bool,
    jobs: int | None,
    git: str,
    emit: EventCallback,
    finish: Callable[[Outcome], None],
    schedule: Schedule | None = None,
) -> None:
    workers = max(1, min(jobs or os.cpu_count() or 1, len(names)))
    lost = _run_pool(engine, names, force, workers, git, emit, finish, schedule=schedule)
    # A worker that dies without a Python error (out of memory, a native crash) breaks
    # the whole pool and every figure running beside it. Retry those one by one in
    # their own pools, so only the culprit fails.
    for name in lost:
        _run_pool(engine, [name], force, 1, git, emit, finish, retry=True)


def _run_pool(
    engine: Engine,
    names: list[str],
    force: bool,
    workers: int,
    git: str,
    emit: EventCallback,
    finish: Callable[[Outcome], None],
    retry: bool = False,
    schedule: Schedule | None = None,
) -> list[str]:
    """Run `names` with at most `workers` at once, in the order `schedule` picks (as
    given without one); returns the names lost to a broken pool."""
    schedule = schedule or Schedule()
    unstarted: list[str] = []
    broken: list[str] = []  # running when a worker died: the culprit is among them
    pending = schedule.order(names) if schedule.seconds else list(names)
    running: dict[Future[Outcome], str] = {}
    torch = any(name not in schedule.torch_free for name in names)
    with worker_environment(), _pool(workers, torch) as (pool, parent):
        while pending or running:
            # Submit only as many as can run, so "start" means started, not queued.
            while pending and len(running) < workers:
                name = pending.pop(schedule.pick(pending, running.values()))
                try:
                    pin_torch = name not in schedule.torch_free
                    task = Task(engine, name, force, git, parent, pin_torch=pin_torch)
                    future = pool.submit(work, task)
                except BrokenProcessPool:
                    unstarted += [name, *pending]
                    pending.clear()
                    break
                running[future] = name
                emit(name, "start", {"retry": retry})
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                schedule.finished(name)
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    broken.append(name)
                    continue
                except Exception:
                    error = f"figure {name!r}: its worker could not run\n{traceback.format_exc()}"
                    outcome = Outcome(name, "failed", 0.0, error=error)
                finish(outcome)
    if len(broken) == 1:
        # Only one figure was running when the pool broke: that one is the culprit.
        (name,) = broken
        finish(Outcome(name, "failed", 0.0, error=died_message(engine, name)))
        broken = []
    return broken + unstarted


_FORKSERVER_INTERNALS = ("_stop", "_forkserver_pid")


def _process_forkserver(forkserver_module: object) -> object:
    """The process-wide forkserver the "forkserver" context forks from.

    Restarting it when the environment changed needs its private `_stop` and
    `_forkserver_pid` (CPython 3.8-3.13 have both; the public API can only start it). A
    Python without them fails here, loudly and naming the switch, rather than forking
    workers with a stale environment.
    """
    missing = _missing_internals(forkserver_module)
    if missing:
        raise RuntimeError(
            f"{PRELOAD_ENV}=1 needs multiprocessing.forkserver's private _forkserver"
            f"{''.join(f'.{a}' for a in missing)}, which this Python lacks: set "
            f"{PRELOAD_ENV}=0 to spawn each worker instead"
        )
    return forkserver_module._forkserver  # type: ignore[attr-defined]


def _missing_internals(forkserver_module: object) -> list[str]:
    """The private forkserver attributes (`_FORKSERVER_INTERNALS`) this Python lacks."""
    server = getattr(forkserver_module, "_forkserver", None)
    return [a for a in _FORKSERVER_INTERNALS if not hasattr(server, a)]


def _preloads() -> bool:
    """Whether workers fork from the preloading forkserver: by default where this Python
    has the private state it needs (else they spawn, slower but the same); asked for
    explicitly (`PRELOAD_ENV=1`), a Python without it fails loudly instead."""
    from multiprocessing import forkserver

    setting = os.environ.get(PRELOAD_ENV)
    if setting == "0":
        return False
    if setting == "1":
        return True
    return not _missing_internals(forkserver)


@contextmanager
def _pool(workers: int, torch: bool = True) -> Iterator[tuple[ProcessPoolExecutor, int]]:
    """A pool of one-figure workers, and the pid each watches (a worker exits when that
    process does). Enter inside `worker_environment()`.

    Forked from this process's forkserver (see `_preloads`), which exits with this
    process (and its workers with it) and is restarted whenever the environment changed
    since it started (workers inherit its environment, not the pool's) or when `torch` is
    wanted and it did not preload it; else spawned.
    """
    global _forkserver_state
    if not _preloads():
        context, parent = multiprocessing.get_context("spawn"), os.getpid()
    else:
        from multiprocessing import forkserver

        server = _process_forkserver(forkserver)
        preload = ("torch", *PRELOAD) if torch else PRELOAD
        env, preloaded = _forkserver_state or ({}, ())
        if env != dict(os.environ) or not set(preload) <= set(preloaded):
            server._stop()
            assert all(os.environ.get(k) == v for k, v in WORKER_ENV.items())
            forkserver.set_forkserver_preload(list(preload))
            _forkserver_state = dict(os.environ), preload
        forkserver.ensure_running()  # (again after it died)
        context, parent = multiprocessing.get_context("forkserver"), server._forkserver_pid
    with ProcessPoolExecutor(workers, mp_context=context, max_tasks_per_child=1) as pool:
        yield pool, parent
