"""Shared by the two symbiosis figures: sweep layout, baselines at equal task loss.

Not a figure (leading underscore). Each symbiosis figure trains, for every seed, one
host per *arm*: the coupled hosts (one per coupling; coupling 0 is the uncoupled
host), a second uncoupled host (the null), and the non-symbiotic baselines, hosts made
sparser or smaller by ordinary means: an L1 penalty on the hidden activations and a
narrower hidden layer. Every arm is one instance of one batched run.

Readability is compared at equal task loss: each baseline family is a curve of
(task loss, readability) per seed, from the uncoupled host (its weakest member: no
penalty, full width) through its members, and a coupled host is compared with the
family's readability interpolated at the coupled host's own task loss.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

COUPLED, NULL, L1, NARROW = "coupled", "null", "L1 on hidden", "narrower host"
FAMILIES = (COUPLED, L1, NARROW)
"""The arms drawn as curves; the null is drawn as points."""


def arms(
    couplings: Sequence[float], l1s: Sequence[float], widths: Sequence[int]
) -> list[tuple[str, float]]:
    """(family, level) per arm, in instance order: couplings (0 first), the null, the L1
    strengths, the narrower widths."""
    return (
        [(COUPLED, float(c)) for c in couplings]
        + [(NULL, 0.0)]
        + [(L1, float(s)) for s in l1s]
        + [(NARROW, float(w)) for w in widths]
    )


def per_seed(
    rows: list[dict[str, Any]], seeds: Sequence[int], family: str, level: float, metric: str
) -> list[Any]:
    """`metric` of the arm (family, level), one entry per seed in `seeds` order."""
    picked = {r["seed"]: r[metric] for r in rows if r["family"] == family and r["level"] == level}
    return [picked[s] for s in seeds]


def curve(
    rows: list[dict[str, Any]], seed: int, family: str, x: str, y: str, uncoupled: bool = True
) -> list[tuple[float, float]]:
    """A family's (x, y) points for one seed, with the uncoupled host as its weakest
    member, sorted by x."""
    pts = [
        (r[x], r[y])
        for r in rows
        if r["seed"] == seed
        and (r["family"] == family or (uncoupled and r["family"] == COUPLED and r["level"] == 0.0))
        and r[y] is not None
    ]
    return sorted(pts)


def interpolate(points: list[tuple[float, float]], at: float) -> float:
    """Piecewise-linear y at x = `at` through `points` (sorted by x), held flat beyond
    the ends (a baseline is never extrapolated)."""
    if at <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if at <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (at - x0) / (x1 - x0)
    return points[-1][1]


def at_equal_loss(
    rows: list[dict[str, Any]],
    seeds: Sequence[int],
    family: str,
    x: str,
    y: str,
    where: tuple[str, float],
) -> list[float]:
    """Per seed: the baseline `family`'s `y` interpolated at the `x` of arm `where`."""
    xs = per_seed(rows, seeds, *where, x)
    return [interpolate(curve(rows, s, family, x, y), at) for s, at in zip(seeds, xs, strict=True)]


def slug(level: float) -> str:
    """A level as it appears in a value name: 0.03 -> "0_03"."""
    return f"{level:g}".replace(".", "_").replace("-", "m")


def arm_values(
    rows_of: Any,
    metrics: Sequence[str],
    couplings: Sequence[float],
    l1s: Sequence[float],
    widths: Sequence[int],
    words: dict[str, str],
) -> dict[str, Any]:
    """Values `{metric}_{where}`, where is `uncoupled`, `null`, `at_{c}` for each
    coupling, `l1_{s}` and `width_{w}`, each a (description, getter) pair: `words` says
    what each metric is, `arm_words` which host; `rows_of(data)` gives (rows, seeds)."""
    places: dict[str, tuple[str, float]] = {"uncoupled": (COUPLED, 0.0), "null": (NULL, 0.0)}
    places |= {f"at_{slug(c)}": (COUPLED, float(c)) for c in couplings}
    places |= {f"l1_{slug(s)}": (L1, float(s)) for s in l1s}
    places |= {f"width_{w}": (NARROW, float(w)) for w in widths}
    out: dict[str, Any] = {}
    for metric in metrics:
        for where, arm in places.items():
            out[f"{metric}_{where}"] = (
                f"{words[metric]}, {arm_words(*arm)}",
                lambda d, metric=metric, arm=arm: per_seed(*rows_of(d), *arm, metric),
            )
    return out


def arm_words(family: str, level: float) -> str:
    """Which host an arm is, in words (for value descriptions)."""
    if family == NULL:
        return "the second uncoupled host (the null)"
    if family == COUPLED:
        return "the uncoupled host" if level == 0 else f"the host coupled at {level:g}"
    if family == L1:
        return f"the host with an L1 penalty of {level:g} on its hidden layer"
    return f"the narrower host, {level:g} wide"
