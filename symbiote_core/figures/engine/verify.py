"""Re-execution spot-check: do cached figures still reproduce from their sources?

Keys are computed from sources, so a cached entry is trusted as long as its key
matches; nothing else checks that running the code again gives the same bytes (a
nondeterministic kernel, a dependency that changed under the same version string, a
hardware difference). `verify` recomputes a sample of cached figures from scratch, in
fresh workers writing into an empty, throwaway cache (so shared artifacts such as
trained hosts are recomputed too), and compares the new `data.json` byte for byte, and
every value and claim verdict, with the cached entry. Any difference is a bug to report.

The sample is drawn with a seeded RNG (the same seed picks the same figures), optionally
only among figures whose recompute fits a budget, so CI can check a few every run at a
bounded cost: a figure's recorded compute time plus that of the shared artifacts it
would produce again (`recompute_seconds`).
"""

from __future__ import annotations

import dataclasses
import random
import tempfile
from dataclasses import dataclass
from typing import Literal

from symbiote_core.figures.engine.artifacts import LEVEL
from symbiote_core.figures.engine.build import build, load_entry
from symbiote_core.figures.engine.cache import CorruptEntryError, FigureEntry, read_stored_entry
from symbiote_core.figures.engine.registry import Engine, resolve_names
from symbiote_core.figures.engine.storage import storage_for
from symbiote_core.figures.engine.tasks import EventCallback

Outcome = Literal["identical", "differs", "not cached", "failed"]


@dataclass(frozen=True)
class Verification:
    name: str
    outcome: Outcome
    detail: str = ""
    """What differs (data bytes, which values, which verdicts), or why it failed."""
    seconds: float = 0.0
    """Compute time of the fresh run."""

    @property
    def ok(self) -> bool:
        return self.outcome == "identical"


def choose(
    engine: Engine,
    names: list[str] | None = None,
    sample: int | None = None,
    seed: int = 0,
    budget: float | None = None,
) -> list[str]:
    """Cached figures to verify: all of `names` (default every figure) that are cached,
    those whose recompute would take at most `budget` seconds (`recompute_seconds`), then
    `sample` of them drawn with `random.Random(seed)`, in name order."""
    produced = artifact_seconds(engine) if budget is not None else {}
    candidates = []
    for name in resolve_names(engine, names):
        entry = load_entry(engine, name)
        if entry is None:
            continue
        if budget is not None and recompute_seconds(entry, produced) > budget:
            continue
        candidates.append(name)
    if sample is not None and sample < len(candidates):
        candidates = sorted(random.Random(seed).sample(candidates, sample))
    return candidates


def artifact_seconds(engine: Engine) -> dict[str, float]:
    """Producer module file (relative, as in an entry's `deps`) -> seconds its newest
    cached artifact took to produce, summed over the artifacts that module produces."""
    store = storage_for(engine)
    newest: dict[str, tuple[str, str, float]] = {}  # artifact name -> (created, file, s)
    for name in store.listdir(LEVEL):
        for key in store.listdir(f"{LEVEL}/{name}"):
            try:
                found = read_stored_entry(store, f"{LEVEL}/{name}/{key}", ())
            except CorruptEntryError:
                continue  # its figure's next build reports it
            if found is None:
                continue
            meta = found[0]
            module = str(meta.get("producer", "")).rpartition(".")[0]
            stamp = (str(meta.get("created", "")), module, float(meta.get("seconds", 0.0)))
            newest[name] = max(newest.get(name, stamp), stamp)
    seconds: dict[str, float] = {}
    for _, module, spent in newest.values():
        for file in _module_files(module):
            seconds[file] = seconds.get(file, 0.0) + spent
    return seconds


def _module_files(module: str) -> tuple[str, str]:
    """The two files a dotted module name can be: `a/b.py` or `a/b/__init__.py`."""
    path = module.replace(".", "/")
    return f"{path}.py", f"{path}/__init__.py"


def recompute_seconds(entry: FigureEntry, produced: dict[str, float]) -> float:
    """What verifying `entry` costs: its recorded compute (which counted only the load of
    an artifact another figure had produced) plus every artifact produced by a module it
    imports (from scratch, verifying produces them again). An over-estimate where a
    figure imports such a module without loading all it produces."""
    own = float(entry.meta.compute_seconds or 0.0)
    files = {entry.meta.module, *entry.meta.deps}
    return own + sum(spent for file, spent in produced.items() if file in files)


def verify(
    engine: Engine,
    names: list[str],
    jobs: int | None = None,
    on_event: EventCallback | None = None,
) -> list[Verification]:
    """Recompute `names` from scratch and compare each with its cached entry."""
    cached = {name: load_entry(engine, name) for name in resolve_names(engine, names)}
    out: dict[str, Verification] = {
        name: Verification(name, "not cached", "no verified entry for the current sources")
        for name, entry in cached.items()
        if entry is None
    }
    todo = [name for name, entry in cached.items() if entry is not None]
    if todo:
        with tempfile.TemporaryDirectory(prefix="symbiote-verify-") as scratch:
            fresh = dataclasses.replace(engine, cache_dir=scratch)
            for result in build(fresh, todo, force=True, jobs=jobs, on_event=on_event):
                before = cached[result.name]
                assert before is not None
                if not result.ok or result.entry is None:
                    out[result.name] = Verification(
                        result.name, "failed", result.error or "no entry", result.seconds
                    )
                    continue
                problems = _differences(before, result.entry)
                outcome: Outcome = "differs" if problems else "identical"
                out[result.name] = Verification(
                    result.name, outcome, "; ".join(problems), result.seconds
                )
    return [out[name] for name in cached]


def _differences(before: FigureEntry, after: FigureEntry) -> list[str]:
    problems = []
    old_data, new_data = before.payloads["data.json"], after.payloads["data.json"]
    if old_data != new_data:
        problems.append(f"data.json differs ({len(old_data)} vs {len(new_data)} bytes)")
    old_meta, new_meta = before.meta, after.meta
    changed = sorted(
        name
        for name in set(old_meta.values) | set(new_meta.values)
        if old_meta.values.get(name) != new_meta.values.get(name)
    )
    if changed:
        problems.append("values differ: " + ", ".join(changed))
    old_claims = {c["name"]: c["verdict"] for c in old_meta.claims}
    new_claims = {c["name"]: c["verdict"] for c in new_meta.claims}
    flipped = sorted(
        n for n in old_claims.keys() | new_claims.keys() if old_claims.get(n) != new_claims.get(n)
    )
    if flipped:
        problems.append("verdicts differ: " + ", ".join(flipped))
    return problems
