"""Charts of the two symbiosis figures: the sweep against coupling and the trade-off.

Not a figure (leading underscore). Imported inside the figures' `render` only, so that
a change here re-renders and never recomputes (`engine/keys.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from figures_src._lab.symbiosis import COUPLED, FAMILIES, L1, NARROW, NULL


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
                        # Each family's line runs from the uncoupled host outwards; the
                        # narrower hosts from the widest to the narrowest.
                        "order": -1e9
                        if r["family"] == COUPLED and r["level"] == 0.0
                        else (-r["level"] if family == NARROW else r["level"]),
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
        panels.append((seeds + means).properties(width=200, height=180, title=title))
    return alt.hconcat(*panels)
