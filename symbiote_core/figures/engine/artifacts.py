"""Shared intermediates of figures (hosts that several figures train alike), cached on disk.

Four figures of section 4 read the same five trained hosts, three of section 5 the same
induction hosts. Each figure still computes everything it shows from its own code, so
its cache key stays what it was; what this module adds is that the second figure to
ask for a host finds it on disk instead of training it again:

    from symbiote_core.figures.engine import artifacts
    state = artifacts.cached("modadd_hosts", _train_states, host, seeds)

`cached(name, produce, *args)` returns `produce(*args)`. Inside a build worker it is
looked up first under `<cache_dir>/artifacts/<name>/<key>/`, where the key hashes

- the bytes of `produce`'s module and of every project module that module imports,
  transitively (`deps.dependency_sources`, the analysis behind figure keys), taken
  from the digests the worker's figure keys hashed, so they are the bytes that run;
- `produce`'s qualified name and its arguments (`canonical`: dataclasses, tuples,
  numbers and strings, floats exactly);
- the compute library versions (torch, numpy, Python, `keys.ENGINE_FORMAT`), this
  module's `ARTIFACT_FORMAT`, and torch's thread count and deterministic-kernel flag.

The same guarantees as figure entries (`cache.py`, whose functions do the file work):
an entry is written whole under `tmp/` and renamed into place, meta.json holds the
sha256 of every file and of itself, a read checks them all, and a corrupt entry is
reported once, removed and recomputed, never served. A lock per artifact name
(`locks/artifacts/<name>.lock`) makes a second worker that wants the same artifact
wait for the first and then read what it wrote.

What `produce` may return: a *tensor tree*, that is nested dicts (str or int keys),
lists and tuples of CPU tensors, numbers, strings, booleans and None. Tensors are
stored with safetensors, the rest as JSON; no pickle. A model is returned as its
`state_dict()` and rebuilt by the caller. Both paths return the decoded stored form,
so a figure sees exactly the same objects whether the artifact was computed or read.

Determinism. `produce` runs with Python's, numpy's and torch's global RNGs seeded to
0, and the caller's RNG states, thread count and kernel flag are restored afterwards:
a figure's state after `cached` is the same on a hit as on a miss, and what `produce`
returns cannot depend on what the figure drew before. It should seed what it draws
itself, as all figure code does.

Artifacts are only an accelerator: outside a build worker (`activate` not called, as
in a notebook or a test that calls `compute`) `cached` just calls `produce`. Figure
keys never depend on artifacts; a figure key covers the producing module anyway,
since the figure imports it.

File I/O goes through `read_artifact`, `_write` and `artifact_lock` only (and
`ownership.clean`, which uses the first and the last), so the store can be moved to
another storage layer in one place.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from symbiote_core.figures.engine.cache import (
    CorruptEntryError,
    Level,
    prune,
    read_stored_entry,
    sha256,
    write_entry,
)
from symbiote_core.figures.engine.deps import SourceCache, dependency_sources, is_tracked
from symbiote_core.figures.engine.keys import RENDER_ONLY, library_versions
from symbiote_core.figures.engine.registry import Engine, FigureError
from symbiote_core.figures.engine.storage import Storage, storage_for

if TYPE_CHECKING:
    from symbiote_core.figures.engine.imports import RecordingFinder

log = logging.getLogger("symbiote_core.figures")

ARTIFACT_FORMAT = 1
"""Bump when the stored form or the key recipe changes."""
LEVEL: Level = "artifacts"
TENSORS, TREE = "tensors.safetensors", "tree.json"
FILES = (TENSORS, TREE)
T = TypeVar("T")


class ArtifactError(FigureError):
    """A producer or argument that cannot be cached (the message says why)."""


# ----------------------------------------------------------------------- session


@dataclass
class _Session:
    engine: Engine
    figure: str
    digests: dict[Path, str]
    finder: RecordingFinder | None
    problems: list[str] = field(default_factory=list)
    """Corrupt entries found (each once), for the build to report like its own."""


_SESSION: _Session | None = None


def activate(
    engine: Engine,
    figure: str = "",
    digests: dict[Path, str] | None = None,
    finder: RecordingFinder | None = None,
) -> None:
    """Turn the cache on in this process (the build worker calls it before compute).

    `digests` are the figure keys' sha256 per source file: keys are derived from them
    (what the worker checks it ran), and from the files on disk for any file they lack.
    With `finder`, nothing is stored unless every project file executed so far ran from
    the bytes in `digests` (`imports.check_imported`).
    """
    global _SESSION
    _SESSION = _Session(engine, figure, dict(digests or {}), finder)


def deactivate() -> list[str]:
    """Turn the cache off again; returns the problems found while it was on."""
    global _SESSION
    problems = _SESSION.problems if _SESSION else []
    _SESSION = None
    return problems


# ------------------------------------------------------------------------ cached


def cached(name: str, produce: Callable[..., T], *args: Any) -> T:
    """`produce(*args)`, read from the artifact cache when a build worker has it.

    `name` groups the entries (one folder and one lock per name); `produce` must be a
    top-level function of a project module and return a tensor tree (module docstring).
    """
    session = _SESSION
    if session is None:
        return _decode(*_encode(_isolated(produce, args)))
    key, meta = artifact_key(session.engine, name, produce, args, session.digests)
    engine = session.engine
    store = storage_for(engine)
    with artifact_lock(store, name):
        rel = f"{LEVEL}/{name}/{key}"
        try:
            found = read_artifact(store, rel)
        except CorruptEntryError as error:
            _report(session, str(error))
            store.remove(rel)
            found = None
        if found is not None:
            return _decode(*found)
        started = _now_seconds()
        tensors, tree = _encode(_isolated(produce, args))
        meta = {**meta, "seconds": round(_now_seconds() - started, 3), "created": _now()}
        if _ran_as_hashed(session):
            _write(engine, name, key, tensors, tree, meta)
        return _decode(tensors, tree)


def artifact_key(
    engine: Engine,
    name: str,
    produce: Callable[..., Any],
    args: tuple[Any, ...],
    digests: dict[Path, str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The entry key of `produce(*args)` and the provenance stored beside it."""
    if not name.isidentifier():
        raise ArtifactError(f"artifact name {name!r} must be a Python identifier")
    module, qualname = getattr(produce, "__module__", ""), getattr(produce, "__qualname__", "")
    if not is_tracked(engine, module) or "<" in qualname or "." in qualname:
        raise ArtifactError(
            f"artifact {name!r}: {module}.{qualname} is not a top-level function of a "
            f"project module ({', '.join(engine.project_packages)}); its source could not "
            "be hashed into the key"
        )
    sources = SourceCache(engine)
    own = sources.module(module)
    if own is None:
        raise ArtifactError(f"artifact {name!r}: no source file for module {module}")
    digests = digests or {}
    files = {
        engine.relative(source.path): digests.get(source.path.resolve()) or sha256(source.source)
        for source in (own, *dependency_sources(engine, module, sources))
    }
    import torch  # only workers get here, and they have imported torch already

    versions = {k: v for k, v in library_versions().items() if k not in RENDER_ONLY}
    meta = {
        "name": name,
        "producer": f"{module}.{qualname}",
        "args": canonical(args),
        "sources": dict(sorted(files.items())),
        "versions": versions,
        "environment": {
            "artifact_format": ARTIFACT_FORMAT,
            "threads": torch.get_num_threads(),
            "deterministic": torch.are_deterministic_algorithms_enabled(),
        },
    }
    key = sha256(json.dumps(meta, sort_keys=True, separators=(",", ":")).encode())
    return key, {**meta, "key": key}


def canonical(value: Any) -> Any:
    """`value` as JSON that identifies it exactly: dataclasses by class and fields,
    tuples marked, floats as hex. Anything else is an `ArtifactError`."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return {"int": str(value)}
    if isinstance(value, float):
        return {"float": value.hex()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        kind = type(value)
        return {
            "dataclass": f"{kind.__module__}.{kind.__qualname__}",
            "fields": {f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value)},
        }
    if isinstance(value, tuple | list):
        return {type(value).__name__: [canonical(v) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: canonical(v) for k, v in sorted(value.items())}}
    raise ArtifactError(
        f"artifact argument of type {type(value).__name__} cannot be part of a key; pass "
        "dataclasses, tuples, lists, str-keyed dicts, numbers, strings or None"
    )


# ------------------------------------------------------------- running produce


def _isolated(produce: Callable[..., T], args: tuple[Any, ...]) -> T:
    with _global_state():
        return produce(*args)


@contextmanager
def _global_state() -> Iterator[None]:
    """Seed the global RNGs to 0 for `produce`; restore the caller's state after (see
    "Determinism" in the module docstring)."""
    import random

    import numpy as np
    import torch

    saved = random.getstate(), np.random.get_state(), torch.get_rng_state()
    threads, kernels = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    try:
        yield
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])
        torch.set_rng_state(saved[2])
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        if torch.are_deterministic_algorithms_enabled() != kernels:
            torch.use_deterministic_algorithms(kernels)


def _ran_as_hashed(session: _Session) -> bool:
    """Whether every project file executed so far ran from the bytes the keys hashed."""
    if session.finder is None:
        return True
    from symbiote_core.figures.engine.imports import SourceChangedError, check_imported

    try:
        check_imported(session.engine, session.figure, session.digests, session.finder)
    except SourceChangedError as error:
        log.warning("artifact not stored: %s", error)  # the figure fails on the same check
        return False
    return True


def _report(session: _Session, problem: str) -> None:
    if problem not in session.problems:
        session.problems.append(problem)
        log.warning("%s; removed, recomputing", problem)


# --------------------------------------------------------------- tensor trees


def _encode(value: Any) -> tuple[bytes, bytes]:
    """(safetensors bytes, tree.json bytes) of a tensor tree."""
    import torch
    from safetensors.torch import save

    tensors: dict[str, torch.Tensor] = {}

    def walk(node: Any) -> Any:
        if isinstance(node, torch.Tensor):
            if node.layout != torch.strided or node.device.type != "cpu":
                raise ArtifactError("artifact tensors must be dense CPU tensors")
            label = f"t{len(tensors)}"
            # A copy of its own: safetensors refuses tensors that share memory.
            tensors[label] = node.detach().contiguous().clone()
            return {"$tensor": label}
        if isinstance(node, dict):
            if not all(isinstance(k, str | int) and not isinstance(k, bool) for k in node):
                raise ArtifactError("artifact dicts must have str or int keys")
            return {"$dict": [[k, walk(v)] for k, v in node.items()]}
        if isinstance(node, tuple):
            return {"$tuple": [walk(v) for v in node]}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if node is None or isinstance(node, bool | int | float | str):
            return node
        raise ArtifactError(
            f"an artifact holds tensors, dicts, lists, tuples, numbers, strings and None, "
            f"not {type(node).__name__} (return a model as its state_dict())"
        )

    tree = json.dumps(walk(value), sort_keys=True, allow_nan=True).encode()
    return save(tensors), tree


def _decode(tensors: bytes, tree: bytes) -> Any:
    from safetensors.torch import load

    table = load(tensors)

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        if "$tensor" in node:
            return table[node["$tensor"]]
        if "$tuple" in node:
            return tuple(walk(v) for v in node["$tuple"])
        return {k: walk(v) for k, v in node["$dict"]}

    return walk(json.loads(tree))


# ------------------------------------------------------------------ file I/O
# All through the engine's storage (`storage.py`): a local folder or an fsspec URL, with
# the guarantees of figure entries (written whole, meta.json last, checksums on read).


def read_artifact(store: Storage, rel: str) -> tuple[bytes, bytes] | None:
    """The verified (tensors, tree) bytes of entry `rel`; None if absent; raises if corrupt."""
    found = read_stored_entry(store, rel, FILES)
    if found is None:
        return None
    meta, payloads = found
    where = store.location(rel)
    if meta.get("key") != rel.rsplit("/", 1)[-1]:
        raise CorruptEntryError(where, "meta.json names another key than its folder's", rel)
    try:
        json.loads(payloads[TREE])
    except ValueError as exc:
        raise CorruptEntryError(where, f"{TREE} does not parse ({exc})", rel) from None
    return payloads[TENSORS], payloads[TREE]


def _write(
    engine: Engine, name: str, key: str, tensors: bytes, tree: bytes, meta: dict[str, Any]
) -> None:
    write_entry(engine, LEVEL, name, key, {TENSORS: tensors, TREE: tree}, meta)
    prune(engine, LEVEL, name, key)


@contextmanager
def artifact_lock(store: Storage, name: str) -> Iterator[None]:
    """Held while artifact `name` is looked up and, if missing, produced and written.

    Leftovers of a writer that was killed mid-write are cleared under it.
    """
    with store.lock(f"{LEVEL}/{name}"):
        store.clear_temp(f"{name}.{LEVEL}")
        yield


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _now_seconds() -> float:
    import time

    return time.perf_counter()
