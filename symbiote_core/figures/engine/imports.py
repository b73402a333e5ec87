"""Worker-side imports that record the exact bytes they execute.

The cache keys hash source files read before the figure is imported; an editor save or
a `git checkout` in between (the worker spends about a second importing torch) would
otherwise store the new code's output under the old code's key. Inside a worker, every
project module is therefore loaded by `RecordingLoader`: it reads the file once,
records the sha256 of those bytes and compiles exactly them (never a `.pyc`, which may
describe another version of the file). Before anything is stored, the build compares
the recorded digests with the ones the keys were computed from (`check_imported`).
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from pathlib import Path
from types import CodeType, ModuleType

from symbiote_core.figures.engine.deps import is_tracked
from symbiote_core.figures.engine.registry import Engine, FigureError


class SourceChangedError(FigureError):
    """A file changed between hashing it for the cache key and importing it."""


class RecordingLoader(importlib.machinery.SourceFileLoader):
    """A source loader that compiles the bytes it read and records their sha256."""

    def __init__(self, fullname: str, path: str, record: dict[Path, str]) -> None:
        super().__init__(fullname, path)
        self._record = record

    def get_code(self, fullname: str) -> CodeType:
        path = self.get_filename(fullname)
        source = self.get_data(path)
        self._record[Path(path).resolve()] = hashlib.sha256(source).hexdigest()
        return self.source_to_code(source, path)


class RecordingFinder(importlib.abc.MetaPathFinder):
    """Finds project modules as the path finder does, and loads them with `RecordingLoader`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.record: dict[Path, str] = {}
        """Resolved file -> sha256 of the bytes executed for it in this process."""

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
            spec.loader = RecordingLoader(fullname, spec.origin, self.record)
        return spec


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

    Files loaded before the finder was installed (the package `__init__` the worker
    needed to start) cannot be checked that way; they are re-read and compared, which
    catches every edit that is still on disk.
    """
    changed = [
        path
        for path, digest in finder.record.items()
        if path in digests and digests[path] != digest
    ]
    recorded = set(finder.record)
    for module_name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file is None or not is_tracked(engine, module_name):
            continue
        path = Path(file).resolve()
        if path in recorded or path not in digests:
            continue
        try:
            current = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            current = None
        if current != digests[path]:
            changed.append(path)
    if changed:
        files = ", ".join(sorted(engine.relative(path) for path in changed))
        raise SourceChangedError(
            f"figure {name!r}: {files} changed while the figure was being built (the code "
            "that ran is not the code its cache key was computed from); nothing was "
            "stored. Build again to use the new code."
        )
