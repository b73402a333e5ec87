"""The local pool: stale figures run in fresh `spawn` processes, one per figure.

Longest first and figures sharing an artifact apart (`schedule.py`); a worker that dies
outright breaks the pool, and the figures it took down are retried alone, so only the
culprit fails.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from symbiote_core.figures.engine.deps import SourceCache, dependency_sources
from symbiote_core.figures.engine.registry import Engine
from symbiote_core.figures.engine.schedule import Schedule, expected_seconds, uses_artifacts
from symbiote_core.figures.engine.tasks import EventCallback, Outcome, Task
from symbiote_core.figures.engine.worker import died_message, work, worker_environment


def schedule_for(engine: Engine, names: list[str], sources: SourceCache) -> Schedule:
    """Longest first, figures sharing an artifact apart (see `schedule.py`)."""
    groups = {}
    for name in names:
        try:
            module = sources.module(engine.module_name(name))
            found = [module, *dependency_sources(engine, engine.module_name(name), sources)]
        except Exception:  # only an order: a figure that cannot be read fails in its worker
            found = []
        groups[name] = frozenset(
            engine.relative(s.path) for s in found if s is not None and uses_artifacts(s)
        )
    return Schedule(seconds=expected_seconds(engine, names), groups=groups)


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
    context = multiprocessing.get_context("spawn")
    with (
        worker_environment(),
        ProcessPoolExecutor(workers, mp_context=context, max_tasks_per_child=1) as pool,
    ):
        while pending or running:
            # Submit only as many as can run, so "start" means started, not queued.
            while pending and len(running) < workers:
                name = pending.pop(schedule.pick(pending, running.values()))
                try:
                    future = pool.submit(work, Task(engine, name, force, git, os.getpid()))
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
