"""Cache keys of a figure, computed from source text without importing anything.

Two keys, so that editing prose never retrains a model:

`data_key` names the output of `compute(params)`. It hashes
- the figure module with everything that cannot change the data removed: a
  normalised AST dump (so comments, formatting and docstrings do not count) without
  the `title`, `caption`, `alt`, `values`, `claims`, `methods` and `render` arguments of the
  `FIGURE = Figure(...)` call, and without top-level functions and simple assignments
  that only those removed parts use (the render function, `_render*` / `_chart*`
  helpers, value getters), so a compute helper is never dropped;
- the same normalised dump of every project module the figure imports, transitively
  (see `deps.py`), keyed by its path under the root;
- `symbiote_core/runtime.py`, which the worker calls to seed and pin threads;
- the versions of python, torch and numpy, and `ENGINE_FORMAT`.
Params are written in the module source, so they are covered by it.

`key` names the rendered entry (spec, svg, values, claims, text). It hashes the raw
bytes of the figure module and of every dependency (a comment edit re-renders, which
takes seconds), plus the altair and vl-convert-python versions on top of the above.

So: caption, claims or render edits re-render from cached data; edits to compute,
params or any imported library code recompute. Versions are read with
`importlib.metadata`, never by importing torch. Bump `ENGINE_FORMAT` whenever the engine
changes what it stores or how it seeds, renders or evaluates (that invalidates every
entry); engine refactors that do not change results need no bump.
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
from symbiote_core.figures.engine.deps import SourceCache, dependency_sources
from symbiote_core.figures.engine.memo import is_file
from symbiote_core.figures.engine.registry import Engine, find_figure_call

ENGINE_FORMAT = 3  # 2: per-seed values, claims over seeds with a null; 3: meta.json checksum
"""Bump when the engine changes what it writes or how a worker computes or renders."""
CLAIMS_FORMAT = 2  # 2: live nulls, controls, separation, tuning seeds in the entry
"""Bump when the engine changes how claims are evaluated or what a rendered entry stores
about them: it enters the entry key only, so entries re-render from cached data."""

COMPUTE_DISTRIBUTIONS = ("torch", "numpy")
RENDER_DISTRIBUTIONS = ("altair", "vl-convert-python")
RENDER_ONLY = (*RENDER_DISTRIBUTIONS, "claims_format")
"""Entries of `library_versions` that enter the entry key but not the data key."""
RUNTIME_MODULE = "symbiote_core.runtime"

# Keyword arguments of Figure(...) that cannot change the data, in Figure's field order
# (so positional arguments are recognised too).
_FIGURE_FIELDS = (
    "title", "caption", "alt", "params", "compute", "render", "values", "claims", "methods",
    "tuning_seeds", "tuning_note",
)
_NOT_DATA = frozenset(
    {"title", "caption", "alt", "render", "values", "claims", "methods", "tuning_seeds",
     "tuning_note"}
)
_RENDER_PREFIXES = ("_render", "_chart")


@dataclass(frozen=True)
class FigureKeys:
    name: str
    key: str
    """sha256 of everything the rendered entry depends on."""
    data_key: str
    """sha256 of everything `compute(params)` depends on."""
    module_path: Path
    deps: tuple[Path, ...]
    """Project files the figure module imports, transitively (not the module itself)."""
    versions: dict[str, str]
    digests: dict[Path, str] = field(default_factory=dict)
    """sha256 of the exact bytes hashed into the keys, per file (module, deps, runtime):
    the worker checks that what it imported is byte for byte what was hashed."""
    inputs: tuple[Path, ...] = ()
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
    deps = dependency_sources(engine, module_name, sources, probes)
    runtime_path, runtime = _runtime_source(engine, sources, probes)

    full = hashlib.sha256()
    data = hashlib.sha256()
    compute_versions = {k: v for k, v in versions.items() if k not in RENDER_ONLY}
    _feed(full, "versions", json.dumps(versions, sort_keys=True).encode())
    _feed(data, "versions", json.dumps(compute_versions, sort_keys=True).encode())
    _feed(full, "runtime", runtime)
    _feed(data, "runtime", _normalised(runtime, None))
    _feed(full, engine.relative(module.path), module.source)
    _feed(data, engine.relative(module.path), data_fingerprint(module.source, module.tree))
    for dep in deps:
        _feed(full, engine.relative(dep.path), dep.source)
        _feed(data, engine.relative(dep.path), _normalised(dep.source, dep.tree))
    digests = {source.path.resolve(): _sha(source.source) for source in (module, *deps)}
    digests[runtime_path.resolve()] = _sha(runtime)
    return FigureKeys(
        name=name,
        key=full.hexdigest(),
        data_key=data.hexdigest(),
        module_path=module.path,
        deps=tuple(dep.path for dep in deps),
        versions=versions,
        digests=digests,
        inputs=tuple(sorted(probes | {module.path, runtime_path, *(d.path for d in deps)})),
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
        memo.KEYS.put(memo_key, keys, keys.inputs, sources.stats)
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
    _strip_docstrings(tree)
    return ast.dump(tree).encode()


def data_fingerprint(source: bytes, tree: ast.Module | None = None) -> bytes:
    """The part of a figure module that `compute(params)` can depend on, as a string.

    Raw bytes when the module does not parse, so a broken figure still gets a key.
    """
    if tree is None:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError):
            return source
    tree = copy.deepcopy(tree)  # the SourceCache tree is shared: never mutate it
    _strip_docstrings(tree)
    call = find_figure_call(tree)
    if call is None:
        # No recognisable FIGURE call: keep the whole module (safe, only slower).
        return ast.dump(tree).encode()
    removed: list[ast.AST] = []
    kept_keywords = []
    for keyword in call.keywords:
        (removed if keyword.arg in _NOT_DATA else kept_keywords).append(keyword)
    call.keywords = kept_keywords
    for index, arg in enumerate(call.args):
        if index < len(_FIGURE_FIELDS) and _FIGURE_FIELDS[index] in _NOT_DATA:
            removed.append(arg)
            call.args[index] = ast.Constant(value=None)
    _drop_unused_definitions(tree, removed)
    return ast.dump(tree).encode()


def _drop_unused_definitions(tree: ast.Module, removed: list[ast.AST]) -> None:
    """Remove top-level functions and simple assignments that only the removed parts use.

    Candidates are names the removed arguments refer to, plus `_render*` / `_chart*`
    functions; a candidate goes only if nothing left in the module refers to it, so a
    helper shared with compute stays.
    """
    candidates = set().union(*(_names(node) for node in removed)) if removed else set()
    for node in tree.body:
        name = _defined_name(node)
        if name and name.startswith(_RENDER_PREFIXES):
            candidates.add(name)
    changed = True
    while changed:
        changed = False
        for node in list(tree.body):
            name = _defined_name(node)
            if name is None or name == "FIGURE" or name not in candidates:
                continue
            others = [other for other in tree.body if other is not node]
            if any(name in _names(other) for other in others):
                continue
            tree.body.remove(node)
            candidates |= _names(node)
            changed = True


def _defined_name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        return target.id if isinstance(target, ast.Name) else None
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    return None


def _names(node: ast.AST) -> set[str]:
    return {child.id for child in ast.walk(node) if isinstance(child, ast.Name)}


def _strip_docstrings(tree: ast.AST) -> None:
    """Drop every bare string statement: docstrings, and attribute docstrings under fields.

    They never change what code computes. The tree is only dumped, never compiled,
    so a body left empty does no harm.
    """
    _DropBareStrings().visit(tree)


class _DropBareStrings(ast.NodeTransformer):
    def visit_Expr(self, node: ast.Expr) -> ast.Expr | None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return None
        return node
