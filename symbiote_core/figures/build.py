"""Plan and build figures: cheap key checks here, compute and render in worker processes.

`plan` reads sources and the cache and imports nothing (the MkDocs process calls it on
every rebuild). `build` hands every figure whose entry is missing to a fresh `spawn`
worker process, one process per figure: a fresh interpreter sees edited source, and
no global state (RNGs, caches filled at import) leaks from one figure into the next.
Inside its worker a figure is built under its file lock (`cache.figure_lock`):

1. recompute the keys from the source about to be imported; if another builder wrote
   the entry while we waited for the lock, report "cached";
2. import project packages from `engine.root` (not from another checkout the worker
   happened to find first) through `imports.RecordingFinder`, which records the sha256
   of the bytes each module is compiled from; `make_deterministic(0)`, import the figure
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

Workers are spawned with `PYTHONHASHSEED=0` and one BLAS/OpenMP thread (set in the
environment before the spawn: a running interpreter cannot change its hash seed), and
refuse to run otherwise, so iterating over a set of strings is reproducible too. Each
worker watches its parent and exits when the parent dies (a killed CLI leaves no worker
behind to write an entry later). A worker's
stdout and stderr go to `logs/<name>.log`. A worker that dies outright (out of memory)
breaks the pool; the figures it took down are retried alone, so only the culprit fails.
Stale figures start longest first, figures sharing an artifact apart (`schedule.py`).

meta.json of an out entry is `cache.EntryMeta`, of a data entry `cache.DataMeta`: the
schema the worker writes and every reader checks and uses.

`build(..., scheduler=...)` (or `$SYMBIOTE_SCHEDULER`) sends the figures to a Dask
cluster instead (`cluster.py`); each still runs `_work` in a fresh interpreter with the
same pinned environment, on the worker's machine.
"""

from __future__ import annotations

import dataclasses
import faulthandler
import importlib
import json
import logging
import multiprocessing
import os
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from symbiote_core.figures import artifacts, imports, memo
from symbiote_core.figures.cache import (
    META,
    OUT_FILES,
    CorruptEntryError,
    DataEntry,
    DataMeta,
    EntryMeta,
    FigureEntry,
    clear_temp,
    discard,
    dumps,
    entry_dir,
    figure_lock,
    log_path,
    prune,
    read_data_entry,
    read_figure_entry,
    warn_corrupt,
    write_entry,
)
from symbiote_core.figures.deps import SourceCache, dependency_sources, is_tracked
from symbiote_core.figures.keys import (
    ENGINE_FORMAT,
    FigureKeys,
    figure_keys,
    library_versions,
    planned_keys,
)
from symbiote_core.figures.memo import Stats
from symbiote_core.figures.registry import Engine, FigureError, load_figure, resolve_names
from symbiote_core.figures.schedule import Schedule, expected_seconds, uses_artifacts
from symbiote_core.figures.storage import storage_for

log = logging.getLogger("symbiote_core.figures")

PlanStatus = Literal["cached", "stale", "data-cached"]
Status = Literal["computed", "rendered", "cached", "failed"]
EventCallback = Callable[[str, str, dict[str, Any]], None]
"""`on_event(name, kind, info)`, called in the calling process as things happen. Kinds:
"cached" (info: seconds), "corrupt" (info: problem, naming the rejected entry's path),
"start" (info: retry, True when rerun alone after another worker crashed), "done"
(info: status "computed" | "rendered" | "cached", seconds), "failed" (info: error,
seconds)."""


@dataclass(frozen=True)
class FigurePlan:
    """What `build` would do for one figure, found without importing it."""

    name: str
    key: str
    data_key: str
    status: PlanStatus
    """"cached": the out entry is valid; "data-cached": only render is needed;
    "stale": compute must run."""
    module_path: Path
    deps: tuple[Path, ...]
    problems: tuple[str, ...] = ()
    """Entries found on disk but rejected (corrupt); build removes and rebuilds them."""


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


def plan(engine: Engine, names: list[str] | None = None) -> list[FigurePlan]:
    """The status of each figure (all when `names` is None); imports no figure."""
    names = resolve_names(engine, names)
    sources, versions = SourceCache(engine), library_versions()
    return [_inspect(engine, name, sources, versions)[0] for name in names]


def load_entry(engine: Engine, name: str) -> FigureEntry | None:
    """The verified entry for figure `name`'s current source, or None (not built, or corrupt)."""
    resolve_names(engine, [name])
    keys = figure_keys(engine, name)
    try:
        return read_figure_entry(engine, name, keys.key)
    except CorruptEntryError as error:
        warn_corrupt(error)
        return None


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
    count, or the Dask cluster's threads). `scheduler` (default `$SYMBIOTE_SCHEDULER`,
    else "local"): "local" for the process pool, "local:N" for a Dask cluster of N
    processes here, or a Dask scheduler's address (see `cluster.py`). A failing figure
    never stops the others; a claim that does not hold is recorded in the entry, not a
    failure.
    """
    from symbiote_core.figures.cluster import LOCAL, resolve_scheduler

    scheduler = resolve_scheduler(scheduler)  # a bad value fails before anything runs
    emit = on_event or _log_problems
    names = resolve_names(engine, names)
    sources, versions = SourceCache(engine), library_versions()
    results: dict[str, BuildResult] = {}
    reported: set[str] = set()
    stale: list[str] = []
    planned: dict[str, str] = {}
    for name in names:
        try:
            figure_plan, entry = _inspect(engine, name, sources, versions, report=reported)
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

    def finish(outcome: _Outcome) -> None:
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
        order = _schedule(engine, stale, sources)
        _run_workers(engine, stale, force, jobs, git_revision(engine.root), emit, finish, order)
    elif stale:
        from symbiote_core.figures.cluster import run_on_dask

        git = git_revision(engine.root)
        run_on_dask(engine, stale, force, jobs, git, scheduler, emit, finish, planned)
    return [results[name] for name in names]


def _schedule(engine: Engine, names: list[str], sources: SourceCache) -> Schedule:
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


def _log_problems(name: str, kind: str, info: dict[str, Any]) -> None:
    """The default `on_event`: corrupt entries are logged (once each), the rest is quiet.

    A caller that passes `on_event` reports them itself, so nothing is printed twice.
    """
    if kind == "corrupt":
        log.warning("%s; removed, rebuilding", info["problem"])


def _inspect(
    engine: Engine,
    name: str,
    sources: SourceCache,
    versions: dict[str, str],
    report: set[str] | None = None,
) -> tuple[FigurePlan, FigureEntry | None]:
    """Keys and cache status of one figure; corrupt entries are added to `report`."""
    keys = planned_keys(engine, name, sources, versions)
    problems: list[CorruptEntryError] = []
    entry = None
    try:
        entry = _verified_entry(engine, name, keys.key, sources.stats)
    except CorruptEntryError as error:
        problems.append(error)
    status: PlanStatus = "cached"
    if entry is None:
        status = "stale"
        try:
            if read_data_entry(engine, name, keys.data_key) is not None:
                status = "data-cached"
        except CorruptEntryError as error:
            problems.append(error)
    if report is not None:
        report.update(str(error) for error in problems)
    figure_plan = FigurePlan(
        name=name,
        key=keys.key,
        data_key=keys.data_key,
        status=status,
        module_path=keys.module_path,
        deps=keys.deps,
        problems=tuple(str(error) for error in problems),
    )
    return figure_plan, entry


def _verified_entry(engine: Engine, name: str, key: str, stats: Stats) -> FigureEntry | None:
    """`read_figure_entry`, memoised on the signatures of the entry's files.

    An entry is written once and never changed in place, so a file whose signature
    moved is a damaged entry (or a replaced one): it is read and checked again.
    """
    if not storage_for(engine).local:
        # No stat signatures at a URL: every plan reads and verifies the entry.
        return read_figure_entry(engine, name, key)
    memo_key = (engine, name, key)
    entry = memo.ENTRIES.get(memo_key, stats)
    if entry is not None:
        return entry
    folder = Path(entry_dir(engine, "out", name, key))
    files = [folder, *(folder / file for file in (*OUT_FILES, META))]
    for path in files:
        stats(path)  # before reading: see memo.Stats
    entry = read_figure_entry(engine, name, key)
    if entry is not None:
        memo.ENTRIES.put(memo_key, entry, files, stats)
    return entry


def git_revision(root: Path) -> str:
    """`git rev-parse --short HEAD`, plus "-dirty" if the worktree has changes; "unknown"."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}-dirty" if status else head


# --------------------------------------------------------------------------- workers


@dataclass(frozen=True)
class _Task:
    engine: Engine
    name: str
    force: bool
    git: str
    parent: int
    """pid of the process that started the worker: the worker dies with it."""
    expected_key: str | None = None
    """The key the client planned (Dask runs): a worker whose sources give another key
    fails the figure rather than write an entry nobody asked for."""


@dataclass(frozen=True)
class _Outcome:
    name: str
    status: Status
    seconds: float
    key: str | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    log_path: Path | None = None


def _run_workers(
    engine: Engine,
    names: list[str],
    force: bool,
    jobs: int | None,
    git: str,
    emit: EventCallback,
    finish: Callable[[_Outcome], None],
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
    finish: Callable[[_Outcome], None],
    retry: bool = False,
    schedule: Schedule | None = None,
) -> list[str]:
    """Run `names` with at most `workers` at once, in the order `schedule` picks (as
    given without one); returns the names lost to a broken pool."""
    schedule = schedule or Schedule()
    unstarted: list[str] = []
    broken: list[str] = []  # running when a worker died: the culprit is among them
    pending = schedule.order(names) if schedule.seconds else list(names)
    running: dict[Future[_Outcome], str] = {}
    context = multiprocessing.get_context("spawn")
    with (
        _worker_environment(),
        ProcessPoolExecutor(workers, mp_context=context, max_tasks_per_child=1) as pool,
    ):
        while pending or running:
            # Submit only as many as can run, so "start" means started, not queued.
            while pending and len(running) < workers:
                name = pending.pop(schedule.pick(pending, running.values()))
                try:
                    future = pool.submit(_work, _Task(engine, name, force, git, os.getpid()))
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
                    outcome = _Outcome(name, "failed", 0.0, error=error)
                finish(outcome)
    if len(broken) == 1:
        # Only one figure was running when the pool broke: that one is the culprit.
        (name,) = broken
        finish(_Outcome(name, "failed", 0.0, error=_died_message(engine, name)))
        broken = []
    return broken + unstarted


WORKER_ENV = {
    "PYTHONHASHSEED": "0",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}
"""Set for every worker before it is spawned (they inherit the environment)."""
_ENV_LOCK = threading.Lock()


@contextmanager
def _worker_environment() -> Iterator[None]:
    """`WORKER_ENV` in `os.environ` while a pool may spawn workers; restored after.

    A pool spawns replacements while it runs (one task per child), so the variables stay
    set for the pool's whole life. The lock keeps two pools in one process (threads)
    from restoring each other's values halfway.
    """
    with _ENV_LOCK:
        saved = {key: os.environ.get(key) for key in WORKER_ENV}
        os.environ.update(WORKER_ENV)
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _check_worker_environment() -> None:
    """Refuse to compute in a process whose hash seed or thread settings are not pinned."""
    wrong = [f"{k}={os.environ.get(k)!r}" for k, v in WORKER_ENV.items() if os.environ.get(k) != v]
    if wrong or sys.flags.hash_randomization:
        raise FigureError(
            "figure worker started without the pinned environment "
            f"({', '.join(wrong) or 'hash randomisation on'}); str hashes and thread counts "
            "would vary between runs. Workers must be started by build.build()."
        )


def _die_with_parent(parent: int) -> None:
    """Exit as soon as the process that started this worker is gone.

    Otherwise a killed CLI (or MkDocs) leaves its worker running, and it writes an entry
    seconds later that nobody asked for. The figure lock is released with the process;
    a half-written entry in tmp/ is cleared by the next builder of the figure.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(70)

    if os.getppid() != parent:
        os._exit(70)
    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


def _died_message(engine: Engine, name: str) -> str:
    module = engine.relative(engine.module_path(name))
    text = (
        f"figure {name!r} ({module}): its worker process died without a Python error "
        "(killed, out of memory, os._exit, or a crash in native code)"
    )
    return text + _log_tail(log_path(engine, name))


def _to_result(engine: Engine, outcome: _Outcome) -> BuildResult:
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


class _Stage:
    """What the worker is doing, for the failure message."""

    now = "waiting for its lock"
    logging = False
    """Whether output goes to this run's log yet (else the log is an older run's)."""


def _work(task: _Task) -> _Outcome:
    """Build one figure; runs in a fresh worker process. Never raises: failures are returned."""
    start = time.perf_counter()
    engine, name = task.engine, task.name
    stage = _Stage()
    warnings: list[str] = []
    logfile = log_path(engine, name)
    try:
        _die_with_parent(task.parent)
        _check_worker_environment()
        if str(engine.root) not in sys.path:
            sys.path.insert(0, str(engine.root))
        with figure_lock(engine, name):
            stage.now = "checking the cache"
            clear_temp(engine, name)  # leftovers of a worker that was killed mid-write
            keys = figure_keys(engine, name)
            if task.expected_key is not None and keys.key != task.expected_key:
                raise FigureError(
                    f"the sources this worker sees (on {os.uname().nodename}, under "
                    f"{engine.root}) give key {keys.key[:16]}, the client planned "
                    f"{task.expected_key[:16]}: a worker must run the client's checkout "
                    "(or a source file changed during the build)"
                )
            cached_data = None
            if not task.force:
                if _valid_or_remove(
                    engine, lambda: read_figure_entry(engine, name, keys.key), warnings
                ):
                    return _Outcome(
                        name,
                        "cached",
                        time.perf_counter() - start,
                        keys.key,
                        warnings=tuple(warnings),
                    )
                cached_data = _valid_or_remove(
                    engine, lambda: read_data_entry(engine, name, keys.data_key), warnings
                )
            logfile.parent.mkdir(parents=True, exist_ok=True)
            with _output_to(logfile):
                stage.logging = True
                status = _make(task, keys, cached_data, stage, warnings)
        return _Outcome(
            name,
            status,
            time.perf_counter() - start,
            keys.key,
            warnings=tuple(warnings),
            log_path=logfile,
        )
    except KeyboardInterrupt:
        raise
    except BaseException:
        module = engine.relative(engine.module_path(name))
        error = (
            f"figure {name!r} ({module}) failed while {stage.now}:\n"
            f"{traceback.format_exc()}{_log_tail(logfile) if stage.logging else ''}"
        )
        return _Outcome(
            name,
            "failed",
            time.perf_counter() - start,
            error=error,
            warnings=tuple(warnings),
            log_path=logfile,
        )


def _valid_or_remove(engine: Engine, read: Callable[[], Any], warnings: list[str]) -> Any:
    try:
        return read()
    except CorruptEntryError as error:
        warnings.append(str(error))
        discard(engine, error)
        return None


def _make(
    task: _Task, keys: FigureKeys, cached: DataEntry | None, stage: _Stage, warnings: list[str]
) -> Status:
    """Compute (unless cached), evaluate, render and store one figure. Call under its lock.

    Corrupt shared artifacts that compute ran into are added to `warnings`."""
    engine, name = task.engine, task.name
    stage.now = "preparing its worker (seeding, importing torch)"
    _use_project_sources(engine)
    finder = imports.install(engine)  # from here on, project code runs from recorded bytes
    # torch is imported here, in the worker, never by the engine in the calling process.
    from symbiote_core.runtime import make_deterministic

    module = engine.relative(keys.module_path)
    make_deterministic(0, threads=1)  # covers RNG use at import time too
    engine_loaded = {m for m in sys.modules if is_tracked(engine, m)}
    stage.now = "importing its module"
    figure = load_figure(name, engine)
    _check_names(figure, f"figure {name!r} ({module})")
    seeds = figure.seeds()
    # Figure code seeds each of its RNGs from `seeds`; the process-wide seed only
    # covers RNG use that code did not seed itself.
    make_deterministic(seeds[0] if seeds else 0, threads=1)
    params = _plain(dataclasses.asdict(figure.params))
    common: dict[str, Any] = {
        "name": name,
        "data_key": keys.data_key,
        "module": module,
        "deps": tuple(engine.relative(path) for path in keys.deps),
        "params": params,
        "seeds": tuple(seeds),
        "versions": keys.versions,
        "engine_format": ENGINE_FORMAT,
        "git": task.git,
    }

    if cached is None:
        stage.now = "running compute"
        started = time.perf_counter()
        # Shared intermediates (hosts several figures train alike) come from the
        # artifact cache, keyed on the bytes this figure's keys hashed.
        artifacts.activate(engine, name, keys.digests, finder)
        try:
            data = figure.compute(figure.params)
        finally:
            warnings.extend(artifacts.deactivate())
        compute_seconds = time.perf_counter() - started
        stage.now = "checking what compute imported"
        _check_loaded_sources(engine, keys, engine_loaded)
        imports.check_imported(engine, name, keys.digests, finder)
        stage.now = "storing compute's data"
        raw = _to_json(data, f"figure {name!r} ({module}): compute returned")
        data_meta = DataMeta(**common, compute_seconds=compute_seconds, created=_now())
        write_entry(engine, "data", name, keys.data_key, {"data.json": raw}, data_meta, task.force)
        prune(engine, "data", name, keys.data_key)
        status: Status = "computed"
    else:
        raw, status = cached.raw, "rendered"
        compute_seconds = cached.meta.compute_seconds

    # Both paths continue from the stored JSON, so a render from cached data sees exactly
    # what a render after a fresh compute sees (tuples as lists, keys as strings).
    stage.now = "evaluating values and claims"
    values = figure.evaluate_values(json.loads(raw))
    claims = [claim.evaluate(values).to_json() for claim in figure.claims]

    stage.now = "rendering"
    import vl_convert  # imported here: only workers render

    started = time.perf_counter()
    chart = figure.render(json.loads(raw))
    spec = chart.to_dict()
    spec_bytes = _to_json(spec, f"figure {name!r} ({module}): render's chart spec")
    svg = vl_convert.vegalite_to_svg(spec).encode()
    render_seconds = time.perf_counter() - started

    stage.now = "checking what render imported"
    _check_loaded_sources(engine, keys, engine_loaded)
    imports.check_imported(engine, name, keys.digests, finder)
    stage.now = "writing its cache entry"
    meta = EntryMeta(
        **common,
        key=keys.key,
        title=figure.title,
        caption=figure.caption,
        alt=figure.alt,
        values=values,
        claims=tuple(claims),
        compute_seconds=compute_seconds,
        render_seconds=render_seconds,
        data_reused=cached is not None,
        created=_now(),
    )
    files = {"spec.json": spec_bytes, "data.json": raw, "figure.svg": svg}
    write_entry(engine, "out", name, keys.key, files, meta, replace=task.force)
    prune(engine, "out", name, keys.key)
    return status


def _check_names(figure: Any, where: str) -> None:
    """Value and claim names must be identifiers: directives name them as FIGURE.NAME,
    and pages show them as code, where any other character could end the code."""
    names = [*figure.values, *(claim.name for claim in figure.claims)]
    bad = [n for n in names if not (isinstance(n, str) and n.isidentifier())]
    if bad:
        raise FigureError(
            f"{where}: value and claim names must be Python identifiers, got "
            f"{', '.join(repr(n) for n in bad)}"
        )


def _use_project_sources(engine: Engine) -> None:
    """Import the project packages from `engine.root`, whatever this process found first.

    To run at all the worker imported `symbiote_core` from the parent's path, which may
    be another checkout than the root (a test's copy of the project shares one
    virtualenv). The keys hash the files under the root, so those must be what runs:
    drop project modules loaded from elsewhere (the engine's own modules stay) and put
    the root first on the path.
    """
    root = str(engine.root)
    if root in sys.path:
        sys.path.remove(root)
    sys.path.insert(0, root)
    for top in engine.project_packages:
        loaded = getattr(sys.modules.get(top), "__file__", None)
        if loaded is None or Path(loaded).resolve().is_relative_to(engine.root):
            continue
        for name in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
            if is_tracked(engine, name):
                del sys.modules[name]
    importlib.invalidate_caches()


def _check_loaded_sources(engine: Engine, keys: FigureKeys, exempt: set[str]) -> None:
    """Refuse to cache results of project code that the figure's keys do not cover.

    Every project module loaded since the figure was imported must be the figure module
    or one of its static dependencies, loaded from under the root. Otherwise an edit
    to it would not invalidate the cache, and a stale result would be served later.
    """
    allowed = {path.resolve() for path in (keys.module_path, *keys.deps)}
    unseen = []
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if name in exempt or file is None or not is_tracked(engine, name):
            continue
        if Path(file).resolve() not in allowed:
            unseen.append(f"{name} ({file})")
    if unseen:
        raise FigureError(
            f"figure {keys.name!r} ({engine.relative(keys.module_path)}) ran project code "
            f"that its cache key does not cover: {', '.join(sorted(unseen))}. The static "
            "import analysis (symbiote_core/figures/deps.py) could not see these imports "
            "(a computed module name, or a module used as a value); import them with a "
            "plain `import` or `from ... import` in the figure or the module that uses them."
        )


def _to_json(obj: Any, what: str) -> bytes:
    try:
        return dumps(obj)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{what} something that is not plain JSON ({exc}); return lists, dicts, str, "
            "int, float and None only (tensor.tolist(), float(x)), and no NaN or infinity"
        ) from exc


def _plain(obj: Any) -> Any:
    """Params as JSON; anything exotic (a Path, an enum) becomes its str."""
    return json.loads(json.dumps(obj, default=str))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@contextmanager
def _output_to(path: Path) -> Iterator[None]:
    """Send this process's stdout and stderr (file descriptors, so native code and
    tqdm too) to `path`, and a traceback there if the process crashes natively."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "wb") as stream:
        os.dup2(stream.fileno(), 1)
        os.dup2(stream.fileno(), 2)
        faulthandler.enable(file=stream)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            faulthandler.disable()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").rstrip()
    except OSError:
        return ""
    if not text:
        return ""
    tail = "\n".join(text.splitlines()[-lines:])
    return f"\n--- last lines of {path} ---\n{tail}"
