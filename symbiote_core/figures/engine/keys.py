"""Cache keys of a figure, computed from source text without importing anything.

Two keys, so that editing prose never retrains a model, and editing a colour only
redraws:

`data_key` names the output of `compute(params)`. It hashes
- the figure module's *compute side*: a normalised AST dump (comments, formatting and
  docstrings do not count) without the `title`, `caption`, `alt`, `values`, `claims`,
  `methods` and `render` arguments of `FIGURE = Figure(...)`, and without top-level
  functions and simple assignments that only those removed parts use (the render
  function, `_render*` / `_chart*` helpers, value getters), so a compute helper is never
  dropped; params are written there, so they are covered;
- the project code that compute side can reach, at the level of top-level functions and
  classes (`deps.py`): in every project module it may import, its module-level
  statements, and the functions and classes that code it can run mentions. Adding or
  editing a function that nothing reachable mentions changes no data key; editing one
  that can run, or module-level state, does. Library code, figure helpers and the
  authoring layer (`Engine.authoring_package`) are followed alike, so a palette imported
  at the top of a figure module is part of its data key and one imported inside
  `render` is not; the `Figure` spec (`Engine.render_only`) and the engine are not;
- the files it declares in `Figure(inputs=...)`, by content (`inputs.py`);
- `symbiote_core/runtime.py`, which the worker calls to seed and pin threads;
- the versions of python, torch and numpy, and `ENGINE_FORMAT`.

`key` names the rendered entry (spec, svg, values, claims, text). It hashes the data key,
the raw bytes of the figure module and of every project file the whole module can reach
(render side included, the spec too: a comment edit re-renders, which takes seconds),
plus the altair and vl-convert-python versions.

So: caption, claims, colour or render edits re-render from cached data; edits to compute,
params, declared inputs or library code that compute can run recompute. The worker
checks that every project module it loaded and every top-level function compute ran is
one the keys cover (`worker.py`, `imports.py`), and that the figure read no undeclared
file (`reads.py`). Versions are read with `importlib.metadata`, never by importing torch. Bump
`ENGINE_FORMAT` whenever the engine changes what it stores or how it seeds, renders or
evaluates (that invalidates every entry); engine refactors that do not change results
need no bump.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import importlib.metadata
import importlib.util
import json
import platform
from dataclasses import dataclass, field
from pathlib import Path

from symbiote_core.figures.engine import memo
from symbiote_core.figures.engine.deps import SourceCache, closure
from symbiote_core.figures.engine.inputs import Inputs
from symbiote_core.figures.engine.inputs import resolve as resolve_inputs
from symbiote_core.figures.engine.memo import is_file
from symbiote_core.figures.engine.registry import Engine
from symbiote_core.figures.engine.sides import strip_docstrings

ENGINE_FORMAT = 6
"""2: per-seed values, claims over seeds with a null; 3: meta.json checksum; 4: workers'
numerics pinned to one instruction set (`worker.PINNED_ENV`); 5: MKL's COMPATIBLE branch,
the one it honours on every vendor's CPU; 6: matrix products by OpenBLAS's Haswell
kernels (`runtime.route_gemm_to_openblas`)."""
"""Bump when the engine changes what it writes or how a worker computes or renders."""
CLAIMS_FORMAT = 2  # 2: live nulls, controls, separation, tuning seeds in the entry
"""Bump when the engine changes how claims are evaluated or what a rendered entry stores
about them: it enters the entry key only, so entries re-render from cached data."""

COMPUTE_DISTRIBUTIONS = ("torch", "numpy")
RENDER_DISTRIBUTIONS = ("altair", "vl-convert-python")
RENDER_ONLY = (*RENDER_DISTRIBUTIONS, "claims_format")
"""Entries of `library_versions` that enter the entry key but not the data key."""
RUNTIME_MODULE = "symbiote_core.runtime"



@dataclass(frozen=True)
class FigureKeys:
    name: str
    key: str
    """sha256 of everything the rendered entry depends on."""
    data_key: str
    """sha256 of everything `compute(params)` depends on."""
    module_path: Path
    deps: tuple[Path, ...]
    """Project files the whole figure module can reach (not the module itself)."""
    versions: dict[str, str]
    data_deps: tuple[Path, ...] = ()
    """Project files its compute side can reach (a subset of `deps`)."""
    data_parts: dict[str, frozenset[str]] = field(default_factory=dict)
    """Module name -> the top-level functions and classes of it the data key covers (the
    figure module: those its compute side keeps); the worker refuses to store data from
    a compute that ran any other (`imports.RecordingFinder.ran`)."""
    inputs: Inputs = field(default_factory=Inputs)
    """The declared input files, resolved and hashed (`inputs.py`)."""
    digests: dict[Path, str] = field(default_factory=dict)
    """sha256 of the exact bytes hashed into the keys, per file (module, deps, runtime):
    the worker checks that what it imported is byte for byte what was hashed."""
    watched: tuple[Path, ...] = ()
    """Every path the keys were derived from: the files read, and the paths whose
    absence decided an import (see `deps.module_file`); `memo` watches their stats."""


def library_versions() -> dict[str, str]:
    """Versions that enter the keys; read from package metadata, importing nothing."""
    versions = {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "engine_format": str(ENGINE_FORMAT),
        "claims_format": str(CLAIMS_FORMAT),
    }
    for dist in (*COMPUTE_DISTRIBUTIONS, *RENDER_DISTRIBUTIONS):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = "absent"
    return versions


def figure_keys(
    engine: Engine,
    name: str,
    sources: SourceCache | None = None,
    versions: dict[str, str] | None = None,
) -> FigureKeys:
    """Both keys of figure `name`. Pass one `SourceCache` for several figures of a plan."""
    sources = sources or SourceCache(engine)
    versions = versions or library_versions()
    module_name = engine.module_name(name)
    probes: set[Path] = set()
    sources.file(module_name, probes)
    module = sources.module(module_name)
    if module is None:
        raise FileNotFoundError(f"figure module {engine.module_path(name)} does not exist")
    compute_side, data_root = module.compute_side(engine, imported=False)
    data = closure(engine, module_name, sources, probes, root=data_root, layer="data")
    full = closure(engine, module_name, sources, probes, layer="render")
    inputs = resolve_inputs(engine, module.tree, sources.stats, probes)
    runtime_path, runtime = _runtime_source(engine, sources, probes)

    data_digest = hashlib.sha256()
    compute_versions = {k: v for k, v in versions.items() if k not in RENDER_ONLY}
    _feed(data_digest, "versions", json.dumps(compute_versions, sort_keys=True).encode())
    _feed(data_digest, "runtime", _normalised(runtime, None))
    fingerprint = module.source if compute_side is None else ast.dump(compute_side).encode()
    _feed(data_digest, engine.relative(module.path), fingerprint)
    for dep in data.modules:
        _feed(data_digest, engine.relative(dep.path), data.digest(dep))
    _feed(data_digest, "inputs", inputs.key_lines())
    data_key = data_digest.hexdigest()

    full_digest = hashlib.sha256()
    _feed(full_digest, "versions", json.dumps(versions, sort_keys=True).encode())
    _feed(full_digest, "data", data_key.encode())
    _feed(full_digest, "runtime", runtime)
    _feed(full_digest, engine.relative(module.path), module.source)
    for dep in full.modules:
        _feed(full_digest, engine.relative(dep.path), dep.source)

    data_parts = {dep.name: data.part_names(dep.name, dep) for dep in data.modules}
    data_parts[module_name] = frozenset(p.name for p in data_root.parts if p.name is not None)
    sources_read = (module, *full.modules, *data.modules)
    digests = {source.path.resolve(): _sha(source.source) for source in sources_read}
    digests[runtime_path.resolve()] = _sha(runtime)
    return FigureKeys(
        name=name,
        key=full_digest.hexdigest(),
        data_key=data_key,
        module_path=module.path,
        deps=tuple(dep.path for dep in full.modules),
        versions=versions,
        data_deps=tuple(dep.path for dep in data.modules),
        data_parts=data_parts,
        inputs=inputs,
        digests=digests,
        watched=tuple(sorted(probes | {module.path, runtime_path, *digests})),
    )


def planned_keys(
    engine: Engine, name: str, sources: SourceCache, versions: dict[str, str]
) -> FigureKeys:
    """`figure_keys`, memoised on the signatures of its inputs (see `memo.py`).

    For planning only: a worker computes its keys from the bytes it is about to import.
    """
    memo_key = (engine, name, tuple(sorted(versions.items())))
    keys = memo.KEYS.get(memo_key, sources.stats)
    if keys is None:
        keys = figure_keys(engine, name, sources, versions)
        memo.KEYS.put(memo_key, keys, keys.watched, sources.stats)
    return keys


def _sha(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def feed(digest: hashlib._Hash, *parts: bytes) -> None:
    """Add `parts` to `digest`, each prefixed by its length, so two different sequences
    of parts never collide by concatenation. Every key of the engine is made this way
    (figure keys, notebook cache keys, page memo keys)."""
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)


def _feed(digest: hashlib._Hash, label: str, payload: bytes) -> None:
    feed(digest, label.encode(), payload)


def _runtime_source(engine: Engine, sources: SourceCache, probes: set[Path]) -> tuple[Path, bytes]:
    """The seeding module's bytes, located without importing it (it imports torch).

    The copy under the root when there is one (that is what the worker runs, see
    `worker._use_project_sources`), else the installed one.
    """
    local = engine.root.joinpath(*RUNTIME_MODULE.split(".")).with_suffix(".py")
    probes.add(local)
    if is_file(sources.stats(local)):
        return local, local.read_bytes()
    spec = importlib.util.find_spec(RUNTIME_MODULE)
    if spec is None or spec.origin is None:
        raise FileNotFoundError(f"cannot locate {RUNTIME_MODULE}, which the build needs")
    installed = Path(spec.origin)
    sources.stats(installed)  # before reading: see memo.Stats
    return installed, installed.read_bytes()


def _normalised(source: bytes, tree: ast.Module | None) -> bytes:
    """AST dump without docstrings; the raw bytes when the file does not parse.

    Memoised on the file's bytes: a plan hashes each shared library file once per
    figure, and the deep copy and dump dominate planning time otherwise.
    """
    digest = hashlib.sha256(source).digest()
    if digest not in _NORMALISED:
        _NORMALISED[digest] = _normalise(source, tree)
    return _NORMALISED[digest]


_NORMALISED: dict[bytes, bytes] = {}  # sha256 of a file's bytes -> its normalised dump


def _normalise(source: bytes, tree: ast.Module | None) -> bytes:
    if tree is None:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            return source
    tree = copy.deepcopy(tree)
    strip_docstrings(tree)
    return ast.dump(tree).encode()
