"""Where figures live and how to find them: the `Engine` settings and the registry.

A figure is one module `<figures_package>/<name>.py` (a name not starting with `_`)
that defines `FIGURE = Figure(...)`. Listing names and locating files never imports
anything; only `load_figure` imports, and the build calls it inside worker processes.
"""

from __future__ import annotations

import ast
import difflib
import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from symbiote_core.figures.authoring.spec import Figure
from symbiote_core.figures.engine.settings import (
    CACHE_ENV,
    Settings,
    parse_timeout,
    resolve_cache,
)

__all__ = ["CACHE_ENV", "Engine", "FigureError"]


class FigureError(Exception):
    """Base class of the figure engine's errors."""


class UnknownFigureError(FigureError, LookupError):
    """A figure name that has no module; the message lists close matches and all names."""


class FigureDefinitionError(FigureError):
    """A figure module that does not define a proper `FIGURE`."""


@dataclass(frozen=True)
class Engine:
    """Where one project's figures, library code and cache live.

    Passed to every engine function (and pickled to worker processes), so tests can
    point the engine at a throwaway project root.
    """

    root: Path
    """The repository root: project packages are resolved to files under it."""
    figures_package: str = None  # type: ignore[assignment]
    """Dotted package whose modules are the figures. Default: the project's settings
    (`settings.py`), like every field left as None."""
    project_packages: tuple[str, ...] = None  # type: ignore[assignment]
    """Top-level packages whose source is part of the cache key when a figure imports them."""
    engine_package: str = "symbiote_core.figures"
    """The build: its engine and site are not followed as dependencies. What they store,
    and how a worker seeds and runs a figure, is versioned by `keys.ENGINE_FORMAT`
    instead, so refactoring the build code never retrains a figure."""
    authoring_package: str = "symbiote_core.figures.authoring"
    """The part of the engine package a figure module imports (palette, claim wording,
    the spec): followed like library code (`deps.py`)."""
    render_only: tuple[str, ...] = ("symbiote_core.figures.authoring.spec",)
    """Authoring modules the render key follows and the data key does not: the `Figure`
    spec, which the engine consumes around compute (its `params`, its `seeds()`) and
    which holds claim evaluation, so that editing claims never recomputes."""
    cache_dir: Path | str = None  # type: ignore[assignment]
    """A folder, or an fsspec URL (`file:///shared/cache`, `s3://bucket/figures`: a
    cache several machines share, see `storage.py`). Default: `$SYMBIOTE_FIGURE_CACHE`,
    else the settings' `cache` (`<root>/.cache/figures`)."""
    scheduler: str = None  # type: ignore[assignment]
    """Where stale figures run (`cluster.py`): `$SYMBIOTE_SCHEDULER`, else the settings'."""
    scheduler_timeout: float = None  # type: ignore[assignment]
    """Seconds a scheduler address has to answer as a Dask scheduler before the build
    stops: `$SYMBIOTE_SCHEDULER_TIMEOUT`, else the settings' `scheduler-timeout` (20)."""
    keep: int = 3
    """Entries kept per figure and level; older ones are pruned after each write (a
    few, so switching git branches back and forth reuses results)."""

    def __post_init__(self) -> None:
        root = Path(self.root).resolve()
        object.__setattr__(self, "root", root)
        settings = Settings.load(root)
        defaults = {
            "figures_package": settings.figures_package,
            "project_packages": settings.project_packages,
            "cache_dir": settings.cache_location(),
            "scheduler": settings.scheduler_address(),
            "scheduler_timeout": settings.scheduler_wait(),
        }
        for name, default in defaults.items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)
        object.__setattr__(self, "cache_dir", resolve_cache(self.cache_dir, root))
        object.__setattr__(self, "project_packages", tuple(self.project_packages))
        object.__setattr__(self, "render_only", tuple(self.render_only))
        timeout = parse_timeout(self.scheduler_timeout, "Engine.scheduler_timeout")
        object.__setattr__(self, "scheduler_timeout", timeout)
        if self.keep < 1:
            raise ValueError(f"Engine.keep must be at least 1, got {self.keep}")

    @classmethod
    def discover(cls, start: Path | None = None, **overrides: Any) -> Engine:
        """The engine for the repository containing `start` (default: the working folder).

        Walks up to the first folder holding `<figures_package>/__init__.py`; falls back
        to the folder that holds the installed `symbiote_core` package.
        """
        here = Path(start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            package = overrides.get("figures_package") or Settings.load(folder).figures_package
            if (folder.joinpath(*package.split(".")) / "__init__.py").is_file():
                return cls(root=folder, **overrides)
        return cls(root=Path(__file__).resolve().parents[2], **overrides)

    @property
    def figures_dir(self) -> Path:
        return self.root.joinpath(*self.figures_package.split("."))

    def module_name(self, name: str) -> str:
        return f"{self.figures_package}.{name}"

    def module_path(self, name: str) -> Path:
        return self.figures_dir / f"{name}.py"

    def relative(self, path: Path) -> str:
        """`path` relative to the root when inside it (for messages and cache keys)."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()


def figure_names(engine: Engine | None = None) -> list[str]:
    """Sorted names of the figure modules; imports nothing."""
    engine = engine or Engine.discover()
    folder = engine.figures_dir
    if not folder.is_dir():
        raise FigureError(f"figures package folder {folder} does not exist")
    return sorted(
        path.stem
        for path in folder.glob("*.py")
        if not path.stem.startswith("_") and path.stem.isidentifier()
    )


def resolve_names(engine: Engine, names: list[str] | tuple[str, ...] | None) -> list[str]:
    """`names` checked against the registry (all figures when None), order kept, no repeats."""
    known = figure_names(engine)
    if names is None:
        return known
    unknown = [name for name in names if name not in known]
    if unknown:
        raise UnknownFigureError(_unknown_message(engine, unknown, known))
    return list(dict.fromkeys(names))


def _unknown_message(engine: Engine, unknown: list[str], known: list[str]) -> str:
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        parts.append(f"{name!r}{hint}")
    where = engine.relative(engine.figures_dir)
    listing = ", ".join(known) or "none"
    return f"unknown figure {'; '.join(parts)} in {where}/; known figures: {listing}"


def load_figure(name: str, engine: Engine | None = None) -> Figure:
    """Import `<figures_package>.<name>` and return its `FIGURE`.

    Pitfall: in a long-lived process this reuses already imported library modules, so
    edits to them are not seen; the build imports figures in fresh worker processes.
    """
    engine = engine or Engine.discover()
    resolve_names(engine, [name])
    root = str(engine.root)
    if root not in sys.path:
        sys.path.insert(0, root)
    importlib.invalidate_caches()
    module_name = engine.module_name(name)
    module = sys.modules.get(module_name)
    module = importlib.reload(module) if module else importlib.import_module(module_name)
    path = engine.relative(engine.module_path(name))
    if not hasattr(module, "FIGURE"):
        raise FigureDefinitionError(
            f"figure module {path} defines no FIGURE; add `FIGURE = Figure(...)` at top level"
        )
    figure = module.FIGURE
    if not isinstance(figure, Figure):
        raise FigureDefinitionError(
            f"figure module {path}: FIGURE is a {type(figure).__module__}."
            f"{type(figure).__qualname__}, not a symbiote_core.figures.authoring.spec.Figure"
        )
    return figure


def static_title(source: str) -> str | None:
    """The `title=` string of `FIGURE = Figure(...)`, read without importing the module."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    call = find_figure_call(tree)
    if call is None:
        return None
    for keyword in call.keywords:
        if keyword.arg == "title" and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value)
    if call.args and isinstance(call.args[0], ast.Constant):
        return str(call.args[0].value)
    return None


def find_figure_call(tree: ast.Module) -> ast.Call | None:
    """The call assigned to the top-level name `FIGURE`, if it is a plain call."""
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "FIGURE" for t in targets):
            return value if isinstance(value, ast.Call) else None
    return None
