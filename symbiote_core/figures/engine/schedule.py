"""In which order the build starts stale figures: longest first, shared artifacts apart.

With a few workers and one figure several times longer than the rest, the wall time of
a build is set by when that figure starts: started last, it runs alone at the end.
So figures start in descending order of their expected compute time:

1. the `compute_seconds` of the figure's newest data entry in the cache (what the last
   build measured, whatever code it ran);
2. else the figure's line in `<figures package>/build_seconds.json` (committed, so a
   fresh clone, which has no cache, gets a good order too; refresh it with
   `python -m symbiote_core.figures timings --write`);
3. else 0 (unknown figures start last, in name order).

Figures that read the same shared artifact (`artifacts.py`) would wait on each other:
the second one blocks on the artifact's lock while the first produces it. A figure's
*artifact modules* are the project modules it imports that use `artifacts`; while a
figure of such a group runs and none has finished, another figure of the group starts
only when no figure outside it is left to start. This only reorders: a worker never
idles while a figure is pending. Expected times only order; they never decide a result.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from symbiote_core.figures.engine.deps import ModuleSource
from symbiote_core.figures.engine.registry import Engine

HINTS_FILE = "build_seconds.json"
ARTIFACTS_MODULE = "symbiote_core.figures.engine.artifacts"


def hints_path(engine: Engine) -> Path:
    return engine.figures_dir / HINTS_FILE


def expected_seconds(engine: Engine, names: Iterable[str]) -> dict[str, float]:
    """Expected compute seconds per figure (see the module docstring for the sources)."""
    hints = _read_hints(engine)
    out = {}
    for name in names:
        measured = last_compute_seconds(engine, name)
        out[name] = measured if measured is not None else hints.get(name, 0.0)
    return out


def last_compute_seconds(engine: Engine, name: str) -> float | None:
    """`compute_seconds` from the newest data entry of `name`, or None. Unverified (only
    for ordering): an unreadable meta.json is skipped."""
    from symbiote_core.figures.engine.storage import storage_for

    store = storage_for(engine)
    folder = f"data/{name}"
    metas = [f"{folder}/{k}/meta.json" for k in store.listdir(folder)]
    stamped = []
    for meta in metas:
        try:
            stamped.append((store.modified(meta), meta))
        except (OSError, FileNotFoundError):
            continue  # no meta.json (not yet committed): nothing to learn from it
    for _, meta in sorted(stamped, reverse=True):
        try:
            seconds = json.loads(store.read_bytes(meta)).get("compute_seconds")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(seconds, int | float):
            return float(seconds)
    return None


def _read_hints(engine: Engine) -> dict[str, float]:
    try:
        raw = json.loads(hints_path(engine).read_bytes())
    except (OSError, ValueError):
        return {}
    seconds = raw.get("seconds") if isinstance(raw, dict) else None
    if not isinstance(seconds, dict):
        return {}
    return {k: float(v) for k, v in seconds.items() if isinstance(v, int | float)}


def hints_json(engine: Engine, names: Sequence[str]) -> str:
    """The content of `build_seconds.json` from the cache's measured times."""
    seconds = {}
    for name in names:
        measured = last_compute_seconds(engine, name)
        if measured is not None:
            seconds[name] = round(measured, 1)
    body = {
        "about": "Compute seconds per figure measured by the last build, one CPU thread "
        "each; only orders a fresh clone's build (longest first, see "
        "symbiote_core/figures/engine/schedule.py). Written by `python -m symbiote_core.figures "
        "timings --write`.",
        "seconds": seconds,
    }
    return json.dumps(body, indent=2, sort_keys=True) + "\n"


def imports_torch(source: ModuleSource) -> bool:
    """Whether the module imports torch (anywhere in it); a file that does not parse
    might."""
    if source.tree is None:
        return True
    return any(effect[1].partition(".")[0] == "torch" for effect in (*source.eager, *source.lazy))


def uses_artifacts(source: ModuleSource) -> bool:
    """Whether the module imports the artifact cache (anywhere in it)."""
    for effect in (*source.eager, *source.lazy):
        if effect[0] == "require" and effect[1] == ARTIFACTS_MODULE:
            return True
        if effect[0] == "from" and f"{effect[1]}.{effect[2]}" == ARTIFACTS_MODULE:
            return True
    return False


@dataclass
class Schedule:
    """Picks the next figure to start; `finished` is told about each figure that ends."""

    seconds: Mapping[str, float] = field(default_factory=dict)
    groups: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Figure -> its artifact modules (see the module docstring)."""
    torch_free: frozenset[str] = frozenset()
    """Figures none of whose sources import torch: their workers skip torch's import and
    pinning (`Task.pin_torch`), 2 CPU-s each (unknown figures pin it)."""
    settled: set[str] = field(default_factory=set)
    """Artifact modules of which some figure has finished in this build."""

    def order(self, names: Iterable[str]) -> list[str]:
        """Longest expected first; ties (and unknowns) in name order."""
        return sorted(names, key=lambda n: (-self.seconds.get(n, 0.0), n))

    def pick(self, pending: Sequence[str], running: Iterable[str]) -> int:
        """Index in `pending` (already ordered) of the figure to start next."""
        busy = set().union(*(self.groups.get(n, frozenset()) for n in running)) - self.settled
        for index, name in enumerate(pending):
            if not self.groups.get(name, frozenset()) & busy:
                return index
        return 0

    def finished(self, name: str) -> None:
        self.settled |= self.groups.get(name, frozenset())
