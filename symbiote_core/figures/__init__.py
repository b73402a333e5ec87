"""The figure engine: every figure of the essay regenerated from code, and cached.

Public API (stable; the site adapter builds on it):

    from symbiote_core.figures import build as figures   # the module
    engine = figures.Engine.discover()                   # or Engine(root=Path(...))
    figures.plan(engine, names=None) -> list[FigurePlan] # cheap: reads source, imports nothing
    figures.build(engine, names=None, force=False, jobs=None, on_event=None)
        -> list[BuildResult]
    figures.load_entry(engine, name) -> FigureEntry | None

Pitfall: the function `build` is not re-exported here, on purpose: the package
attribute `build` is the module `symbiote_core.figures.build` (a package attribute
and a submodule of the same name shadow each other). Everything else is re-exported.

This package imports neither torch nor MkDocs: compute and render run in worker
processes. Figure modules import `symbiote_core.figures.spec`; the engine's own
modules are not part of a figure's cache key (see `keys.py`).
"""

from symbiote_core.figures.build import (
    BuildResult,
    FigurePlan,
    git_revision,
    load_entry,
    plan,
)
from symbiote_core.figures.cache import CorruptEntryError, FigureEntry, clean
from symbiote_core.figures.keys import ENGINE_FORMAT, FigureKeys, figure_keys
from symbiote_core.figures.registry import (
    Engine,
    FigureDefinitionError,
    FigureError,
    UnknownFigureError,
    figure_names,
    load_figure,
)
from symbiote_core.figures.spec import Claim, ClaimResult, Figure, Null

__all__ = [
    "ENGINE_FORMAT",
    "BuildResult",
    "Claim",
    "ClaimResult",
    "CorruptEntryError",
    "Engine",
    "Figure",
    "FigureDefinitionError",
    "FigureEntry",
    "FigureError",
    "FigureKeys",
    "FigurePlan",
    "Null",
    "UnknownFigureError",
    "clean",
    "figure_keys",
    "figure_names",
    "git_revision",
    "load_entry",
    "load_figure",
    "plan",
]
