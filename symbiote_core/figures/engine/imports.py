"""Worker-side imports that record the exact bytes they execute and the parts that ran.

The cache keys hash source files read before the figure is imported; an editor save or
a `git checkout` in between (the worker spends about a second importing torch) would
otherwise store the new code's output under the old code's key. Inside a worker, every
project module is therefore loaded by `RecordingLoader`: it reads the file once,
records the sha256 of those bytes and compiles exactly them (never a `.pyc`, which may
describe another version of the file). Before anything is stored, the build compares
the recorded digests with the ones the keys were computed from (`check_imported`).

The loader also records which top-level functions and classes run. Each top-level
function body, and each method body of a top-level class, starts with one added
statement, `__symbiote_ran__.add("<name>")` (the class's name for a method), on the
line of the body's first statement; `__symbiote_ran__` is a set the loader puts in the
module's namespace. Nothing else about the code changes. The worker compares what ran
with the parts the data key covers (`keys.FigureKeys.data_parts`), so a function the
static analysis could not see (reached through a computed attribute name) fails the
figure instead of being cached under a key that ignores it.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from pathlib import Path
from types import CodeType, ModuleType

from symbiote_core.figures.engine.deps import is_tracked, module_file
from symbiote_core.figures.engine.registry import Engine, FigureError

RAN = "__symbiote_ran__"
"""The name of the set, in each recorded module's namespace, of its parts that ran."""


class SourceChangedError(FigureError):
    """A file changed between hashing it for the cache key and importing it."""


class RecordingLoader(importlib.machinery.SourceFileLoader):
    """A source loader that compiles the bytes it read, records their sha256 and marks
    every top-level function and method so that the parts that run are recorded."""

    def __init__(self, fullname: str, path: str, finder: RecordingFinder) -> None:
        super().__init__(fullname, path)
        self._finder = finder

    def get_code(self, fullname: str) -> CodeType:
        path = self.get_filename(fullname)
        source = self.get_data(path)
        self._finder.record[Path(path).resolve()] = hashlib.sha256(source).hexdigest()
        tree = ast.parse(source, filename=path)
        mark_parts(tree)
        return compile(tree, path, "exec", dont_inherit=True)

    def exec_module(self, module: ModuleType) -> None:
        module.__dict__[RAN] = self._finder.ran.setdefault(module.__name__, set())
        super().exec_module(module)


def mark_parts(tree: ast.Module) -> None:
    """Start every top-level function and method of a top-level class with
    `__symbiote_ran__.add(name)` (after its docstring)."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            _mark(node, node.name)
        elif isinstance(node, ast.ClassDef):
            for child in node.body:
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                    _mark(child, node.name)


def _mark(function: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> None:
    body = function.body
    first = body[0]
    docstring = (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    )
    at = 1 if docstring else 0  # after the docstring, which must stay first
    anchor = body[min(at, len(body) - 1)]
    record = ast.Expr(
        ast.Call(
            func=ast.Attribute(ast.Name(RAN, ast.Load()), "add", ast.Load()),
            args=[ast.Constant(name)],
            keywords=[],
        )
    )
    ast.copy_location(record, anchor)
    record.end_lineno, record.end_col_offset = anchor.lineno, anchor.col_offset
    body.insert(at, ast.fix_missing_locations(record))


class RecordingFinder(importlib.abc.MetaPathFinder):
    """Finds project modules as the path finder does, and loads them with `RecordingLoader`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.record: dict[Path, str] = {}
        """Resolved file -> sha256 of the bytes executed for it in this process."""
        self.ran: dict[str, set[str]] = {}
        """Module name -> names of its top-level functions and classes that ran (since
        the module was loaded, or since `ran` was last cleared)."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if not is_tracked(self.engine, fullname):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin is None:
            return spec
        if type(spec.loader) is importlib.machinery.SourceFileLoader:
            spec.loader = RecordingLoader(fullname, spec.origin, self)
        return spec

    def clear_ran(self) -> None:
        """Forget what ran so far (the sets stay those the modules hold)."""
        for names in self.ran.values():
            names.clear()


def install(engine: Engine) -> RecordingFinder:
    """Put a `RecordingFinder` first on `sys.meta_path` (once per process) and return it."""
    for finder in sys.meta_path:
        if isinstance(finder, RecordingFinder) and finder.engine == engine:
            return finder
    finder = RecordingFinder(engine)
    sys.meta_path.insert(0, finder)
    return finder


def check_imported(
    engine: Engine, name: str, digests: dict[Path, str], finder: RecordingFinder
) -> None:
    """Raise `SourceChangedError` unless every file the keys hashed that this process
    executed was executed from exactly the hashed bytes.

    A module is matched to the file the keys hashed for its name under the root. Files
    loaded before the finder was installed (the package `__init__` the worker needed to
    start, the `Figure` spec the engine itself imports) cannot be checked that way; they
    are re-read and compared, which catches every edit that is still on disk. The
    engine's own copy of the authoring layer is checked the same way when the worker
    runs another checkout than the root (a test's copy of the project): it must be
    byte for byte the root's, or the figure's keys would describe code that did not run.
    """
    changed = [
        path
        for path, digest in finder.record.items()
        if path in digests and digests[path] != digest
    ]
    for module_name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file is None or not is_tracked(engine, module_name):
            continue
        path = Path(file).resolve()
        hashed = module_file(engine, module_name)
        hashed = hashed.resolve() if hashed is not None else path
        if hashed not in digests or (path == hashed and path in finder.record):
            continue  # not hashed, or checked above
        ran = finder.record.get(path)
        if ran is None:
            try:
                ran = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                ran = None
        if ran != digests[hashed]:
            changed.append(path)
    if changed:
        files = ", ".join(sorted(engine.relative(path) for path in changed))
        raise SourceChangedError(
            f"figure {name!r}: {files} changed while the figure was being built, or is "
            "not the file under the project root it was hashed from (the code that ran is "
            "not the code its cache key was computed from); nothing was stored. Build "
            "again to use the new code, with the project's own environment."
        )
