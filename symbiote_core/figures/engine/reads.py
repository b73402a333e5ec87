"""No figure reads a file its keys do not cover: an audit hook in the worker.

While a worker imports a figure, computes and renders it, every file opened for reading
and every folder listed through Python (`open`, `os.open`, `io.open_code`, `os.listdir`,
`os.scandir`, so also `pathlib`, `glob`, `numpy.load`) is checked, and a read its keys
do not cover fails the figure, naming the file:

- under the project root (outside the virtual environment), any file or folder that
  is not declared in `Figure(inputs=...)`, whoever reads it;
- in an installed package (site-packages, a virtual environment), any file the
  project's own code reads (a package's source used as a corpus must be declared as
  `Package(...)`; listing its folders to find the files is free); a package reading its
  own files (altair its schema, torch its modules) is that package's business, covered
  by its version.

Always allowed: the import system (source files are covered by the keys, and the
worker checks what it imported; `importlib.metadata` listing `sys.path` folders to find
installed distributions counts as part of it), the figure cache (artifacts have their own keys),
files this figure wrote during the build, packages' metadata (`*.dist-info`), source
read to print a warning or a traceback, and `/dev`, `/proc`, `/sys`. Reads by native
code (a Rust or C++ extension opening a file itself) do not pass through Python and are
not seen; elsewhere on disk (a download cache in the home folder) nothing is checked.

The hook raises `UndeclaredReadError` from the read itself (an `OSError` handler
cannot mistake it for a missing file) and also keeps the violation, which the worker
reports after compute even if figure code swallowed the exception. Audit hooks cannot
be removed; `install` adds one per process and `watch` turns it on for one window.
"""

from __future__ import annotations

import functools
import os
import site
import sys
import sysconfig
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from symbiote_core.figures.engine.registry import Engine, FigureError

_SYSTEM = (Path("/dev"), Path("/proc"), Path("/sys"))
_DIAGNOSTICS = frozenset({"linecache.py", "traceback.py", "warnings.py"})


class UndeclaredReadError(FigureError):
    """A figure read a file that its keys do not cover."""


@dataclass
class Guard:
    """What one figure may read, and what it read."""

    engine: Engine
    name: str
    declared: frozenset[Path]
    """Resolved declared input files."""
    exempt: tuple[Path, ...] = ()
    """Folders always readable (the figure cache when it is local)."""
    violations: list[str] = field(default_factory=list)
    read: set[Path] = field(default_factory=set)
    """Declared files that were read."""
    written: set[Path] = field(default_factory=set)
    busy: bool = False

    def message(self) -> str:
        files = ", ".join(self.violations)
        return (
            f"figure {self.name!r} read {files}, which its cache key does not cover: "
            "declare it in Figure(inputs=...) (a path under the repository root, or "
            "Package(distribution, pattern) for an installed package's files) so that its "
            "content enters the data key"
        )


_GUARD: Guard | None = None
_INSTALLED = False


def install() -> None:
    """Add the audit hook to this process (once); it does nothing until `watch`."""
    global _INSTALLED
    if not _INSTALLED:
        sys.addaudithook(_hook)
        _INSTALLED = True


@contextmanager
def watch(guard: Guard) -> Iterator[Guard]:
    """Check every read against `guard` inside the block."""
    global _GUARD
    install()
    previous, _GUARD = _GUARD, guard
    try:
        yield guard
    finally:
        _GUARD = previous


def guard_for(engine: Engine, name: str, declared: Iterable[Path]) -> Guard:
    exempt = (engine.cache_dir.resolve(),) if isinstance(engine.cache_dir, Path) else ()
    return Guard(engine, name, frozenset(declared), exempt)


def _hook(event: str, args: tuple[object, ...]) -> None:
    guard = _GUARD
    if guard is None or guard.busy or event not in ("open", "os.listdir", "os.scandir"):
        return
    target = args[0] if args else None
    if event != "open":
        target = "." if target is None else target
    if not isinstance(target, str | bytes | os.PathLike):
        return  # a file descriptor: opened (and checked) before
    guard.busy = True
    try:
        path = Path(os.path.realpath(os.fsdecode(target)))
        if event == "open" and not _reads(args):
            guard.written.add(path)
            return
        problem = _check(guard, path, sys._getframe(1), listing=event != "open")
    finally:
        guard.busy = False
    if problem is not None:
        if problem not in guard.violations:
            guard.violations.append(problem)
        raise UndeclaredReadError(guard.message())


def _reads(args: tuple[object, ...]) -> bool:
    mode, flags = (args[1], args[2]) if len(args) >= 3 else (None, 0)
    if isinstance(mode, str):
        return "r" in mode or "+" in mode
    return isinstance(flags, int) and (flags & os.O_ACCMODE) != os.O_WRONLY


def _check(guard: Guard, path: Path, frame: FrameType | None, listing: bool) -> str | None:
    """None if the read is covered or exempt, else the file's name for the message."""
    if path in guard.declared:
        guard.read.add(path)
        return None
    if path in guard.written or any(path.is_relative_to(p) for p in (*_SYSTEM, *guard.exempt)):
        return None
    if any(part.endswith((".dist-info", ".egg-info")) for part in path.parts):
        return None
    if path.is_dir() and any(f.is_relative_to(path) for f in guard.declared):
        return None  # listing a folder on the way to declared files
    caller = _caller(frame)
    if caller in ("import", "diagnostics", "engine"):
        return None
    root = guard.engine.root
    in_installed = any(path.is_relative_to(p) for p in _places().installed)
    if path.is_relative_to(root) and not in_installed:
        return guard.engine.relative(path)
    if in_installed and caller == "project" and not listing:
        return str(path)  # (walking a package's folders to find its files is no read)
    return None


def _caller(frame: FrameType | None) -> str:
    """Who reads: the import system, diagnostics (linecache under warnings or a
    traceback), the engine, the project's code, or a third-party package. The nearest
    frame outside the standard library decides; standard-library frames on the way
    tell imports and diagnostics apart."""
    places = _places()
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith("<frozen importlib"):
            return "import"
        path = Path(filename)
        if path.is_relative_to(places.engine):
            return "engine"
        if any(path.is_relative_to(p) for p in places.installed):
            return "package"
        if filename.startswith("<") or any(path.is_relative_to(p) for p in places.stdlib):
            if path.name in _DIAGNOSTICS:
                return "diagnostics"
            if path.parent.name == "metadata" and path.parent.parent.name == "importlib":
                return "import"  # finding installed distributions: lists sys.path folders
            frame = frame.f_back  # generated code (dataclasses) or the standard library
            continue
        return "project"
    return "package"


@dataclass(frozen=True)
class _Places:
    engine: Path
    """The build's own code, `symbiote_core/figures/engine`."""
    installed: tuple[Path, ...]
    """Where installed packages live: site-packages, and a virtual environment."""
    stdlib: tuple[Path, ...]


@functools.cache
def _places() -> _Places:
    paths = sysconfig.get_paths()
    site_dirs = {paths["purelib"], paths["platlib"], *site.getsitepackages()}
    if sys.prefix != sys.base_prefix:
        site_dirs.add(sys.prefix)  # the virtual environment, which may be inside the root
    return _Places(
        engine=Path(__file__).resolve().parent,
        installed=tuple(sorted({Path(p).resolve() for p in site_dirs})),
        stdlib=tuple(sorted({Path(paths[k]).resolve() for k in ("stdlib", "platstdlib")})),
    )
