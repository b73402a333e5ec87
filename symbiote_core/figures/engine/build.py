"""Plan and build figures: cheap key checks here, compute and render in worker processes.

`plan` reads sources and the cache and imports nothing (the MkDocs process calls it on
every rebuild). `build` hands every figure whose entry is missing to a fresh worker
process, one process per figure, forked from a server that has imported only
third-party modules (`pool.py`): it imports the project from the edited source, and no
global state (RNGs, caches filled at import) leaks from one figure into the next.
Inside its worker a figure is built under its file lock (`cache.figure_lock`):

1. recompute the keys from the source about to be imported; if another builder wrote
   the entry while we waited for the lock, report "cached";
2. import project packages from `engine.root` (not from another checkout the worker
   happened to find first) through `imports.RecordingFinder`, which records the sha256
   of the bytes each module is compiled from; `make_deterministic(0)` and
   `route_gemm_to_openblas()`, import the figure
   module, then `make_deterministic(params.seed or 0, threads=1)`;
3. reuse the data entry if its `data_key` matches, else run `compute(params)` and store
   its JSON (so a render bug, once fixed, costs no recompute); while compute runs, the
   shared-artifact cache (`artifacts.py`) is on, keyed on the source digests of step 1;
4. evaluate values and claims, `render(data)`, `chart.to_dict()`, the SVG, and write
   the out entry atomically (see `cache.py`).
Before anything is stored, every project module loaded since the figure was imported
must be one its keys hash (a computed import the static analysis missed fails the
figure instead of caching a result that later edits would not invalidate), and every
hashed file must have been executed from exactly the bytes that were hashed (an edit
saved mid-build fails the figure instead of storing new output under the old key).

Workers start with `PYTHONHASHSEED=0` and one BLAS/OpenMP thread (set in the
environment before their server starts: a running interpreter cannot change its hash
seed), and
refuse to run otherwise, so iterating over a set of strings is reproducible too. Each
worker watches its parent and exits when the parent dies (a killed CLI leaves no worker
behind to write an entry later). A worker's
stdout and stderr go to `logs/<name>.log`. A worker that dies outright (out of memory)
breaks the pool; the figures it took down are retried alone, so only the culprit fails.
Stale figures start longest first, figures sharing an artifact apart (`schedule.py`).

meta.json of an out entry is `cache.EntryMeta`, of a data entry `cache.DataMeta`: the
schema the worker writes and every reader checks and uses.

`build(..., scheduler=...)` (or `$SYMBIOTE_SCHEDULER`) sends the figures to a Dask
cluster instead (`cluster.py`); each still runs `work` in a fresh interpreter with the
same pinned environment, on the worker's machine.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from symbiote_core.figures.engine.cache import (
    CorruptEntryError,
    FigureEntry,
    read_figure_entry,
)
from symbiote_core.figures.engine.deps import SourceCache
from symbiote_core.figures.engine.keys import library_versions
from symbiote_core.figures.engine.ownership import claim_cache
from symbiote_core.figures.engine.plan import FigurePlan, git_revision, inspect, load_entry, plan
from symbiote_core.figures.engine.pool import run_workers, schedule_for
from symbiote_core.figures.engine.registry import Engine, resolve_names
from symbiote_core.figures.engine.storage import storage_for
from symbiote_core.figures.engine.tasks import EventCallback, Outcome, Status

__all__ = ["BuildResult", "EventCallback", "FigurePlan", "build", "load_entry", "plan"]

log = logging.getLogger("symbiote_core.figures")


@dataclass(frozen=True)
class BuildResult:
    name: str
    status: Status
    """"computed": compute and render ran; "rendered": data came from the cache;
    "cached": nothing ran; "failed": see `error`."""
    seconds: float
    """Time the worker spent on this figure (imports included); 0 when cached."""
    entry: FigureEntry | None
    """The verified entry; None when failed."""
    error: str | None = None
    """The worker's full traceback, naming the figure module and the stage that failed."""
    log_path: Path | None = None
    """stdout and stderr of the figure's worker, when one ran."""

    @property
    def ok(self) -> bool:
        return self.status != "failed"


def build(
    engine: Engine,
    names: list[str] | None = None,
    force: bool = False,
    jobs: int | None = None,
    on_event: EventCallback | None = None,
    scheduler: str | None = None,
) -> list[BuildResult]:
    """Bring figures (all when `names` is None) up to date; one result per name, in order.

    `force` recomputes even when cached. `jobs` caps worker processes (default: CPU
    count, or the Dask cluster's threads). `scheduler` (default `engine.scheduler`:
    `$SYMBIOTE_SCHEDULER`, else the project's settings): "local" for the process pool,
    "local:N" for a Dask cluster of N processes here, or a Dask scheduler's address
    (see `cluster.py`). A failing figure
    never stops the others; a claim that does not hold is recorded in the entry, not a
    failure.
    """
    from symbiote_core.figures.engine.cluster import LOCAL, resolve_scheduler

    scheduler = resolve_scheduler(scheduler, engine.scheduler)  # a bad value fails first
    # A cache location no worker can reach (memory://), or a folder of other files, is
    # refused before anything runs or is written; a new cache is marked as one.
    claim_cache(engine)
    emit = on_event or _log_problems
    names = resolve_names(engine, names)
    sources, versions = SourceCache(engine), library_versions()
    results: dict[str, BuildResult] = {}
    reported: set[str] = set()
    stale: list[str] = []
    planned: dict[str, str] = {}
    for name in names:
        try:
            figure_plan, entry = inspect(engine, name, sources, versions, report=reported)
        except Exception:
            error = f"figure {name!r}: could not compute its cache key\n{traceback.format_exc()}"
            results[name] = BuildResult(name, "failed", 0.0, None, error)
            emit(name, "failed", {"error": error, "seconds": 0.0})
            continue
        for problem in figure_plan.problems:
            emit(name, "corrupt", {"problem": problem})  # once: `reported` holds it now
        if entry is not None and not force:
            results[name] = BuildResult(name, "cached", 0.0, entry)
            emit(name, "cached", {"seconds": 0.0})
        else:
            stale.append(name)
            planned[name] = figure_plan.key

    def finish(outcome: Outcome) -> None:
        for warning in outcome.warnings:
            if warning not in reported:  # a worker found what planning did not
                reported.add(warning)
                emit(outcome.name, "corrupt", {"problem": warning})
        result = _to_result(engine, outcome)
        results[outcome.name] = result
        if result.ok:
            emit(result.name, "done", {"status": result.status, "seconds": result.seconds})
        else:
            emit(result.name, "failed", {"error": result.error, "seconds": result.seconds})

    if stale and scheduler == LOCAL:
        order = schedule_for(engine, stale, sources)
        run_workers(engine, stale, force, jobs, git_revision(engine.root), emit, finish, order)
    elif stale:
        from symbiote_core.figures.engine.cluster import run_on_dask

        git = git_revision(engine.root)
        run_on_dask(engine, stale, force, jobs, git, scheduler, emit, finish, planned)
    return [results[name] for name in names]


def _log_problems(name: str, kind: str, info: dict[str, Any]) -> None:
    """The default `on_event`: corrupt entries are logged (once each), the rest is quiet.

    A caller that passes `on_event` reports them itself, so nothing is printed twice.
    """
    if kind == "corrupt":
        log.warning("%s; removed, rebuilding", info["problem"])


def _to_result(engine: Engine, outcome: Outcome) -> BuildResult:
    if outcome.status == "failed" or outcome.key is None:
        return BuildResult(
            outcome.name, "failed", outcome.seconds, None, outcome.error, outcome.log_path
        )
    try:
        entry = read_figure_entry(engine, outcome.name, outcome.key)
    except CorruptEntryError as error:
        entry, problem = None, str(error)
    else:
        problem = f"figure {outcome.name!r}: its worker wrote no entry at {outcome.key}"
        if storage_for(engine).local:
            problem += (
                f" in {engine.cache_dir} (a worker on another machine needs a cache both "
                "see: a shared folder or an fsspec URL, --cache-dir)"
            )
    if entry is None:
        return BuildResult(outcome.name, "failed", outcome.seconds, None, problem, outcome.log_path)
    return BuildResult(outcome.name, outcome.status, outcome.seconds, entry, None, outcome.log_path)
