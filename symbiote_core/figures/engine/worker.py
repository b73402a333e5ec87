"""One figure built inside a fresh worker process: keys, compute, evaluate, render, store.

See `build.py` for the steps and the guarantees; this module is what runs in the worker
(a fresh local process, see `pool.py`, or a fresh interpreter on a Dask worker's machine).
"""

from __future__ import annotations

import dataclasses
import faulthandler
import gc
import hashlib
import importlib
import json
import os
import random
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from symbiote_core.figures.authoring.spec import DeadNullError
from symbiote_core.figures.engine import artifacts, imports, reads
from symbiote_core.figures.engine.cache import (
    CorruptEntryError,
    DataEntry,
    DataMeta,
    EntryMeta,
    clear_temp,
    discard,
    dumps,
    figure_lock,
    log_path,
    prune,
    read_data_entry,
    read_figure_entry,
    write_entry,
)
from symbiote_core.figures.engine.deps import Layer, is_library, is_tracked, module_file
from symbiote_core.figures.engine.inputs import Declared
from symbiote_core.figures.engine.keys import (
    ENGINE_FORMAT,
    RUNTIME_MODULE,
    FigureKeys,
    figure_keys,
)
from symbiote_core.figures.engine.registry import Engine, FigureError, load_figure
from symbiote_core.figures.engine.tasks import Outcome, Status, Task

PINNED_ENV = {
    "PYTHONHASHSEED": "0",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    # The instruction set the numerics use. Left free, torch's own kernels and MKL pick
    # AVX-512 where the CPU has it, so rounding, and with it every trained host, depended
    # on the machine: grokking is chaotic enough that two CPUs gave the same commit
    # different hosts, and claims near their thresholds different verdicts. torch's
    # kernels are pinned to AVX2 (every x86-64 server of the last decade), the same code
    # on any vendor's CPU. MKL's reproducibility mode (CNR) is COMPATIBLE: MKL honours an
    # AVX2 branch on Intel CPUs only and silently runs its own path on AMD ones (its
    # verbose log says "CNR:AUTO" there), which trained other hosts than an Intel CPU
    # did; COMPATIBLE (SSE2 code) is the branch MKL documents as giving the same results
    # on Intel and Intel-compatible CPUs. It is slow, so the worker sends the matrix
    # products (nearly all the compute) to OpenBLAS (`runtime.route_gemm_to_openblas`),
    # and what is left to MKL (LAPACK, matrix-vector products) runs COMPATIBLE.
    "ATEN_CPU_CAPABILITY": "avx2",
    "MKL_CBWR": "COMPATIBLE",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    # numpy and scipy pick their own kernels by CPU too: OpenBLAS its Haswell (AVX2)
    # ones, which it also runs on AMD's Zen, and numpy's ufuncs their AVX2 level, with the
    # AVX-512 levels numpy would dispatch to turned off.
    "OPENBLAS_CORETYPE": "Haswell",
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
}
"""What a figure's bytes may depend on: checked in every worker before it computes."""


def restart_with_pinned_env(env: Mapping[str, str] = PINNED_ENV) -> None:
    """Restart this script (`os.execve`) under `env` (`PINNED_ENV`, or `WORKER_ENV` to
    run as a worker does) unless it runs under it already: for scripts that run figure
    compute outside a worker (tuning runs, benches, profiles). Call it before torch is
    imported: torch reads the variables when it loads."""
    if any(os.environ.get(k) != v for k, v in env.items()):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **env})


WORKER_ENV = {
    **PINNED_ENV,
    # glibc serves every allocation over 32 MiB with a fresh mmap, so each large tensor
    # a training step makes costs page faults that zero it again: on a full build the
    # kernel's share was a quarter of the CPU time. Without mmap, freed blocks stay in the
    # heap for the next step (a worker runs one figure and exits, returning it all).
    "MALLOC_MMAP_MAX_": "0",
    "MALLOC_TRIM_THRESHOLD_": str(1 << 40),
}
"""Set for every worker before it starts (they inherit the environment)."""


_ENV_LOCK = threading.Lock()


@contextmanager
def worker_environment() -> Iterator[None]:
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
    wrong = [f"{k}={os.environ.get(k)!r}" for k, v in PINNED_ENV.items() if os.environ.get(k) != v]
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


def died_message(engine: Engine, name: str) -> str:
    module = engine.relative(engine.module_path(name))
    text = (
        f"figure {name!r} ({module}): its worker process died without a Python error "
        "(killed, out of memory, os._exit, or a crash in native code)"
    )
    return text + log_tail(log_path(engine, name))


class Stage:
    """What the worker is doing, for the failure message."""

    now = "waiting for its lock"
    logging = False
    """Whether output goes to this run's log yet (else the log is an older run's)."""


def work(task: Task) -> Outcome:
    """Build one figure; runs in a fresh worker process. Never raises: failures are returned."""
    start = time.perf_counter()
    engine, name = task.engine, task.name
    stage = Stage()
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
                    return Outcome(
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
                status = make(task, keys, cached_data, stage, warnings)
        return Outcome(
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
            f"{traceback.format_exc()}{log_tail(logfile) if stage.logging else ''}"
        )
        return Outcome(
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


def make(
    task: Task, keys: FigureKeys, cached: DataEntry | None, stage: Stage, warnings: list[str]
) -> Status:
    """Compute (unless cached), evaluate, render and store one figure. Call under its lock.

    Corrupt shared artifacts that compute ran into are added to `warnings`."""
    engine, name = task.engine, task.name
    module = engine.relative(keys.module_path)
    if keys.inputs.problem is not None:
        raise FigureError(f"figure {name!r} ({module}): {keys.inputs.problem}")
    stage.now = "preparing its worker (seeding, importing torch)"
    _use_project_sources(engine)
    finder = imports.install(engine)  # from here on, project code runs from recorded bytes
    # torch is imported here, in the worker, never by the engine in the calling process;
    # pinned whenever it is loaded (a forkserver preloaded it for another figure).
    pin_torch = task.pin_torch or "torch" in sys.modules
    pin_numerics(pin_torch)
    engine_loaded = {m for m in sys.modules if is_tracked(engine, m)}
    guard = reads.guard_for(engine, name, (f.path for f in keys.inputs.files))
    stage.now = "importing its module"
    with reads.watch(guard):
        figure = load_figure(name, engine)
    # Calls made while importing build the figure's text and values (`Figure(values=
    # {"x": _each(...)})`): render side, covered by the entry key. What compute runs from
    # here on must be what the data key covers (`_check_ran`).
    finder.clear_ran()
    _check_declared_inputs(figure, keys, f"figure {name!r} ({module})")
    _check_names(figure, f"figure {name!r} ({module})")
    _check_storable(figure, f"figure {name!r} ({module})")
    try:
        figure.require_tuning_seeds()
        figure.require_value_descriptions()
    except ValueError as error:
        raise FigureError(f"figure {name!r} ({module}): {error}") from None
    seeds = figure.seeds()
    # Figure code seeds each of its RNGs from `seeds`; the process-wide seed only
    # covers RNG use that code did not seed itself.
    seed_rngs(seeds[0] if seeds else 0, pin_torch)
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
        # What the imports made (torch's, Altair's objects) lives as long as this one-
        # figure process: frozen, the collector stops walking it on every full pass
        # (measured: a third to a half of the collector's time, 1-3 % of a figure's).
        gc.freeze()
        # What compute runs must be what the data key covers. (At import, the FIGURE
        # call's text, values and claims arguments may run presentation helpers; the
        # data key covers every module-level statement they could leave state in.)
        finder.clear_ran()
        try:
            with reads.watch(guard):
                data = figure.compute(figure.params)
        finally:
            warnings.extend(artifacts.deactivate())
        compute_seconds = time.perf_counter() - started
        stage.now = "checking what compute imported, ran and read"
        _check_reads(guard, keys)
        _check_torch_pinned(pin_torch, f"figure {name!r} ({module})")
        _check_loaded_sources(engine, keys, engine_loaded, "data")
        _check_ran(engine, keys, finder)
        imports.check_imported(engine, name, keys.digests, finder)
        stage.now = "storing compute's data"
        raw = to_json(data, f"figure {name!r} ({module}): compute returned")
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
    claims = [_evaluate(claim, values, f"figure {name!r} ({module})") for claim in figure.claims]

    stage.now = "rendering"
    import vl_convert  # imported here: only workers render

    started = time.perf_counter()
    with reads.watch(guard):
        chart = figure.render(json.loads(raw))
        spec = chart.to_dict()
    spec_bytes = to_json(spec, f"figure {name!r} ({module}): render's chart spec")
    svg = vl_convert.vegalite_to_svg(spec).encode()
    render_seconds = time.perf_counter() - started

    stage.now = "checking what render imported and read"
    _check_reads(guard, keys)
    _check_torch_pinned(pin_torch, f"figure {name!r} ({module})")
    _check_loaded_sources(engine, keys, engine_loaded, "render")
    imports.check_imported(engine, name, keys.digests, finder)
    stage.now = "writing its cache entry"
    meta = EntryMeta(
        **common,
        key=keys.key,
        title=figure.title,
        caption=figure.caption,
        alt=figure.alt,
        values=values,
        value_descriptions=figure.value_descriptions(),
        claims=tuple(claims),
        compute_seconds=compute_seconds,
        render_seconds=render_seconds,
        data_reused=cached is not None,
        created=_now(),
        tuning_seeds=figure.tuning_seeds,
        tuning_note=figure.tuning_note,
    )
    files = {"spec.json": spec_bytes, "data.json": raw, "figure.svg": svg}
    write_entry(engine, "out", name, keys.key, files, meta, replace=task.force)
    prune(engine, "out", name, keys.key)
    return status


def _evaluate(claim: Any, values: dict[str, Any], where: str) -> dict[str, Any]:
    """One claim's result as JSON; a dead null is a build error naming figure and claim."""
    try:
        return claim.evaluate(values).to_json()
    except DeadNullError as error:
        raise FigureError(f"{where}: {error}") from None


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


def _check_storable(figure: Any, where: str) -> None:
    """Everything the entry will store from the figure module (its text, each claim's
    fields, its params) must be strict JSON: checked now, naming the field, not when
    meta.json is written after compute ("Out of range float values", naming nothing)."""
    for text in ("title", "caption", "alt"):
        if not isinstance(getattr(figure, text), str):
            raise FigureError(f"{where}: {text} must be a string, got {getattr(figure, text)!r}")
    fields = [
        (f"claim {claim.name!r}: field {field!r}", value)
        for claim in figure.claims
        for field, value in dataclasses.asdict(claim).items()  # as ClaimResult stores it
    ]
    params = json.loads(json.dumps(dataclasses.asdict(figure.params), default=str))  # _plain
    fields += [(f"params field {field!r}", value) for field, value in params.items()]
    for what, value in fields:
        try:
            dumps(value)
        except (TypeError, ValueError) as exc:
            raise FigureError(
                f"{where}: {what} is {value!r}, which cannot be stored as strict JSON ({exc}); "
                "use finite numbers, strings, lists and dicts"
            ) from None


def _use_project_sources(engine: Engine) -> None:
    """Import the project's library from `engine.root`, whatever this process found first.

    To run at all the worker imported `symbiote_core` from the parent's path, which may
    be another checkout than the root (a test's copy of the project shares one
    virtualenv). The keys hash the files under the root, so those must be what runs:
    drop library modules loaded from elsewhere and put the root first on the path. The
    engine package stays as it was loaded (the engine holds its classes, and a package's
    submodules load from its own folder); `imports.check_imported` then checks that the
    authoring modules that ran are byte for byte the root's.
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
            if is_library(engine, name):
                del sys.modules[name]
    importlib.invalidate_caches()


def pin_numerics(torch: bool) -> None:
    """What a worker does before it imports a figure (and `bench/profile_figure.py` as
    it does): every RNG seeded with 0, which covers RNG use at import time; with `torch`,
    torch pinned and its matrix products routed to OpenBLAS, the same products on every
    vendor's CPU (`PINNED_ENV`)."""
    seed_rngs(0, torch)
    if torch:
        from symbiote_core.runtime import route_gemm_to_openblas

        route_gemm_to_openblas()


def seed_rngs(seed: int, torch: bool) -> None:
    """Seed every RNG (`symbiote_core.runtime.make_deterministic`, which also pins torch's
    threads and kernels); without `torch`, the same seeds without importing torch."""
    if torch:
        from symbiote_core.runtime import make_deterministic

        make_deterministic(seed, threads=1)
        return
    import numpy as np  # preloaded

    random.seed(seed)
    np.random.seed(seed % 2**32)


def _check_torch_pinned(pinned: bool, figure: str) -> None:
    """Refuse to store what torch computed unpinned: a figure none of whose sources import
    torch (`Task.pin_torch`) that loaded it after all (through another library)."""
    if not pinned and "torch" in sys.modules:
        raise FigureError(
            f"{figure} loaded torch, but none of its project sources imports it, so its "
            "worker did not pin torch's threads, kernels and seeds: add `import torch` to "
            "the figure module"
        )


def _check_loaded_sources(engine: Engine, keys: FigureKeys, exempt: set[str], layer: Layer) -> None:
    """Refuse to cache results of project code that the figure's keys do not cover.

    Every project module loaded since the figure was imported must be the figure module
    or one of the dependencies its `layer` key follows (by name: the file under the root
    it was hashed from). Otherwise an edit to it would not invalidate the cache, and a
    stale result would be served later.
    """
    followed = keys.data_deps if layer == "data" else keys.deps
    allowed = {path.resolve() for path in (keys.module_path, *followed)}
    unseen = []
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if name in exempt or file is None or not is_tracked(engine, name, layer):
            continue
        hashed = module_file(engine, name)
        if hashed is None or hashed.resolve() not in allowed:
            unseen.append(f"{name} ({file})")
    if unseen:
        side = "compute" if layer == "data" else "the figure"
        raise FigureError(
            f"figure {keys.name!r} ({engine.relative(keys.module_path)}): {side} ran project "
            f"code that its cache key does not cover: {', '.join(sorted(unseen))}. The static "
            "import analysis (symbiote_core/figures/engine/deps.py) could not see these imports "
            "(a computed module name, or a module used as a value); import them with a "
            "plain `import` or `from ... import` in the figure or the module that uses them."
        )


def _check_ran(engine: Engine, keys: FigureKeys, finder: imports.RecordingFinder) -> None:
    """Refuse to cache data from a compute that ran a top-level function or class the
    data key does not cover (`deps.py` finds them by name; one reached through a
    computed attribute name, `getattr(module, prefix + kind)`, is invisible to it).
    Counted from the call of `compute`: module-level code ran at import is covered
    statement by statement."""
    unseen = []
    for module, names in finder.ran.items():
        allowed = keys.data_parts.get(module)
        if module == RUNTIME_MODULE or allowed is None or not names:
            continue  # the seeding module is hashed whole; an unlisted module fails above
        unseen += [f"{module}.{part}" for part in sorted(names - allowed)]
    if unseen:
        raise FigureError(
            f"figure {keys.name!r} ({engine.relative(keys.module_path)}): compute ran "
            f"{', '.join(unseen)}, which its data key does not cover: nothing the key "
            "follows mentions it by name (it was reached through an attribute name computed "
            "at run time, or eval). Refer to it by name where it is used (`module.function`, "
            "or `getattr(module, \"function\")` with a literal name), so that editing it "
            "recomputes the figure."
        )


def _check_reads(guard: reads.Guard, keys: FigureKeys) -> None:
    """Raise for any undeclared read (even one figure code caught), or a declared file
    that changed since the keys hashed it."""
    if guard.violations:
        raise reads.UndeclaredReadError(guard.message())
    changed = [
        file.name
        for file in keys.inputs.files
        if file.path in guard.read and _sha256(file.path) != file.sha256
    ]
    if changed:
        raise imports.SourceChangedError(
            f"figure {keys.name!r}: declared input {', '.join(changed)} changed while the "
            "figure was being built; nothing was stored. Build again."
        )


def _check_declared_inputs(figure: Any, keys: FigureKeys, where: str) -> None:
    """The `inputs` the module built must be the ones the keys read from its source."""
    built = tuple(
        Declared(path=entry)
        if isinstance(entry, str)
        else Declared(distribution=entry.distribution, pattern=entry.pattern)
        for entry in figure.inputs
    )
    if built != keys.inputs.declared:
        raise FigureError(
            f"{where}: Figure(inputs=...) is {[d.label() for d in built]} when imported, but "
            f"the build read {[d.label() for d in keys.inputs.declared]} from its source; "
            "write the declaration literally (see symbiote_core/figures/authoring/inputs.py)"
        )


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def to_json(obj: Any, what: str) -> bytes:
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


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").rstrip()
    except OSError:
        return ""
    if not text:
        return ""
    tail = "\n".join(text.splitlines()[-lines:])
    return f"\n--- last lines of {path} ---\n{tail}"
