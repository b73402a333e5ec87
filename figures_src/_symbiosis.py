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
) -> dict[str, Any]:
    """Value functions `{metric}_{where}`, where is `uncoupled`, `null`, `at_{c}` for each
    coupling, `l1_{s}` and `width_{w}`; `rows_of(data)` gives (rows, seeds)."""
    places: dict[str, tuple[str, float]] = {"uncoupled": (COUPLED, 0.0), "null": (NULL, 0.0)}
    places |= {f"at_{slug(c)}": (COUPLED, float(c)) for c in couplings}
    places |= {f"l1_{slug(s)}": (L1, float(s)) for s in l1s}
    places |= {f"width_{w}": (NARROW, float(w)) for w in widths}
    out: dict[str, Any] = {}
    for metric in metrics:
        for where, arm in places.items():
            out[f"{metric}_{where}"] = lambda d, metric=metric, arm=arm: per_seed(
                *rows_of(d), *arm, metric
            )
    return out


def sweep_chart(
    alt: Any,
    palette: Any,
    rows: list[dict[str, Any]],
    metrics: Sequence[tuple[str, str]],
    couplings: Sequence[float],
) -> Any:
    """Panels against coupling, one point per seed and a line through the coupled hosts'
    means; the null hosts at the left, in the control colour."""
    order = ["null"] + [f"{c:g}" for c in couplings]
    data = [
        {
            "seed": r["seed"],
            "coupling": "null" if r["family"] == NULL else f"{r['level']:g}",
            "host": "null host" if r["family"] == NULL else "coupled host",
            "metric": title,
            "value": r[metric],
        }
        for r in rows
        if r["family"] in (COUPLED, NULL)
        for metric, title in metrics
        if r[metric] is not None
    ]
    x = alt.X("coupling:O", sort=order, title="coupling λ", axis=alt.Axis(labelAngle=-45))
    color = alt.Color(
        "host:N",
        scale=alt.Scale(**palette.scale({"coupled host": "symbiote", "null host": "control"})),
        legend=None,
    )
    panels = []
    for _, title in metrics:
        base = alt.Chart(alt.Data(values=data)).transform_filter(alt.datum.metric == title)
        seeds = base.mark_point(opacity=0.6, size=26, filled=True).encode(
            x=x,
            y=alt.Y("value:Q", title=None, scale=alt.Scale(zero=False)),
            color=color,
            tooltip=["seed:O", "coupling:O", alt.Tooltip("value:Q", format=".4g")],
        )
        mean = (
            base.transform_filter(alt.datum.host == "coupled host")
            .mark_line(color=palette.color("symbiote"))
            .encode(x=x, y="mean(value):Q")
        )
        panels.append((seeds + mean).properties(width=170, height=120, title=title))
    return alt.hconcat(*panels[:3]), alt.hconcat(*panels[3:])


def pareto_chart(
    alt: Any,
    palette: Any,
    rows: list[dict[str, Any]],
    x: tuple[str, str],
    ys: Sequence[tuple[str, str]],
) -> Any:
    """Task loss against readability: per family a line through the means of each arm
    (the uncoupled host starts every family), and every seed as a faint point."""
    roles = {COUPLED: "symbiote", L1: "probe", NARROW: "neuron", NULL: "control"}
    points = []
    for r in rows:
        families = [r["family"]]
        if r["family"] == COUPLED and r["level"] == 0.0:
            families = list(FAMILIES)  # the uncoupled host is every family's first member
        for family in families:
            for metric, title in ys:
                if r[metric] is None:
                    continue
                points.append(
                    {
                        "family": family,
                        "level": r["level"],
                        "seed": r["seed"],
                        "x": r[x[0]],
                        "metric": title,
                        "value": r[metric],
                        "order": r["level"] if family != NARROW else -r["level"],
                    }
                )
    scale = alt.Scale(**palette.scale({f: roles[f] for f in (*FAMILIES, NULL)}))
    panels = []
    for _, title in ys:
        base = alt.Chart(alt.Data(values=points)).transform_filter(alt.datum.metric == title)
        enc = {
            "color": alt.Color(
                "family:N",
                scale=scale,
                title="host",
                legend=alt.Legend(orient="bottom", direction="vertical"),
            ),
        }
        seeds = base.mark_point(opacity=0.35, size=18, filled=True).encode(
            x=alt.X("x:Q", title=x[1], scale=alt.Scale(zero=False)),
            y=alt.Y("value:Q", title=title, scale=alt.Scale(zero=False)),
            tooltip=[
                "family:N",
                "level:Q",
                "seed:O",
                alt.Tooltip("x:Q", format=".4g"),
                alt.Tooltip("value:Q", format=".3g"),
            ],
            **enc,
        )
        means = (
            base.transform_aggregate(
                x="mean(x)", value="mean(value)", groupby=["family", "level", "order"]
            )
            .transform_filter(alt.datum.family != NULL)
            .mark_line(point=True)
            .encode(x="x:Q", y="value:Q", order="order:Q", **enc)
        )
        panels.append((seeds + means).properties(width=250, height=190, title=title))
    return alt.hconcat(*panels)
