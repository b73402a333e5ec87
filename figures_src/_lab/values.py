"""Per-seed access and pass-through values for `Figure(values=...)`.

A value is a pair `(what it is, fn(data))`. Figures store one entry per evaluation seed
under `data["seeds"]` (a list of seeds, or of per-seed dicts): these helpers read them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Value = tuple[str, Callable[[dict[str, Any]], Any]]


def n_seeds() -> Value:
    """How many evaluation seeds the figure ran (`data["seeds"]` has one entry each).

    A function, as everything here: module-level state of a module a figure imports is
    part of its data key, a function only where compute calls it (`engine/deps.py`)."""
    return ("evaluation seeds", lambda d: len(d["seeds"]))


def each(fn: Callable[[Any], Any]) -> Callable[[dict[str, Any]], list]:
    """A per-seed value: `fn(entry)` for every entry of `data["seeds"]`, in params order."""
    return lambda d: [fn(e) for e in d["seeds"]]


def each_with_data(fn: Callable[[dict[str, Any], Any], Any]) -> Callable[[dict[str, Any]], list]:
    """A per-seed value that also reads the whole data: `fn(data, entry)` per seed entry."""
    return lambda d: [fn(d, e) for e in d["seeds"]]


def stored(*path: str) -> Callable[[dict[str, Any]], Any]:
    """A pass-through value: `data[path[0]][path[1]]...` as stored."""

    def get(d: dict[str, Any]) -> Any:
        for key in path:
            d = d[key]
        return d

    return get


def per_seed(rows: list[dict[str, Any]], name: str, seeds: Sequence[int], **where: Any) -> list:
    """`name` of the rows (each with a `seed`) matching `where`, one per seed in order."""
    picked = {r["seed"]: r[name] for r in rows if all(r[k] == v for k, v in where.items())}
    missing = [s for s in seeds if s not in picked]
    if missing:
        raise KeyError(f"no row with {where} for seeds {missing}")
    return [picked[s] for s in seeds]
