"""Charts of the induction heads figure (and the hosts they show): each host's head scores
as heatmaps, the heads ranked, and each host's accuracy on the induction targets.
"""

from __future__ import annotations

from typing import Any

import altair as alt

HOSTS = ("2 layers", "1 layer", "2 layers, shuffled repeat", "1 layer, untrained")
"""The hosts measured: the 2-layer host, its 1-layer control, the null host (2 layers
trained on shuffled repeats) and the 1-layer host untrained (the null of the control's
own claim)."""


SHOWN = HOSTS[:3]
"""The hosts the accuracy panel shows."""


METRICS = ("previous-token score", "induction score")


METRIC_ROLES = ("muted", "neuron")
"""Palette roles of the two head scores: the induction score (the finding) in the heads'
own colour, the previous-token score a neutral; each also has its own mark shape."""


def _heatmap(data: dict[str, Any], layer: int, default: int, title: str) -> alt.LayerChart:
    """One head's attention on the example; the head is picked with radio buttons."""
    # Imported here, not at the top: a top-level import is part of the data key, and
    # colours must only re-render.
    from symbiote_core.figures.authoring import palette

    # Heads draw in the neuron role; where an induction head should look is known in
    # advance, so it takes the oracle's colour.
    cell_color, span_color = palette.color("neuron"), palette.color("oracle")
    n_heads = 1 + max(c["head"] for c in data["cells"])
    seq_len = len(data["example"]["tokens"])
    start, span = data["example"]["start"], data["example"]["span"]
    pick = alt.param(
        name=f"layer{layer}_head",
        value=default,
        bind=alt.binding_radio(options=list(range(n_heads)), name=f"layer-{layer} head "),
    )
    extent = [-0.5, seq_len - 0.5]
    x = alt.X(
        "x0:Q",
        scale=alt.Scale(domain=extent, nice=False, zero=False),
        axis=alt.Axis(values=list(range(0, seq_len, 4)), grid=False, title="key position"),
    )
    y = alt.Y(
        "y0:Q",
        scale=alt.Scale(domain=extent, nice=False, zero=False, reverse=True),
        axis=alt.Axis(values=list(range(0, seq_len, 4)), grid=False, title="query position"),
    )
    cells = (
        alt.Chart(alt.Data(values=[c for c in data["cells"] if c["layer"] == layer]))
        .transform_filter(alt.datum.head == pick)
        .transform_calculate(
            x0="datum.k - 0.5", x1="datum.k + 0.5", y0="datum.q - 0.5", y1="datum.q + 0.5"
        )
        .mark_rect(color=cell_color)
        .encode(
            x=x,
            x2="x1:Q",
            y=y,
            y2="y1:Q",
            # Opacity, not a colour ramp: zero attention shows the page behind it, so the
            # heatmap reads the same on the light and the dark theme. A square-root scale,
            # so that weak attention (a few per cent) stays visible instead of vanishing.
            opacity=alt.Opacity(
                "weight:Q",
                scale=alt.Scale(type="sqrt", domain=[0, 1], range=[0, 1]),
                legend=alt.Legend(
                    title="attention", orient="bottom", direction="horizontal", gradientLength=120
                )
                if layer == 1
                else None,
            ),
            tooltip=[
                alt.Tooltip("q:Q", title="query position"),
                alt.Tooltip("q_token:Q", title="query token"),
                alt.Tooltip("k:Q", title="key position"),
                alt.Tooltip("k_token:Q", title="key token"),
                alt.Tooltip("weight:Q", format=".3f", title="attention"),
            ],
        )
    )
    # The block where queries of the second copy look at keys of the first copy.
    block = (
        alt.Chart(
            alt.Data(
                values=[
                    {
                        "x0": start - 0.5,
                        "x1": start + span - 0.5,
                        "y0": start + span - 0.5,
                        "y1": start + 2 * span - 0.5,
                    }
                ]
            )
        )
        .mark_rect(fill=None, stroke=span_color, strokeWidth=1.5, strokeDash=[4, 2])
        .encode(x=x, x2="x1:Q", y=y, y2="y1:Q")
    )
    # Where an induction head should look: from the copy of token j to token j + 1.
    targets = (
        alt.Chart(
            alt.Data(
                values=[
                    {"x0": q - span + 1, "y0": q} for q in range(start + span, start + 2 * span - 1)
                ]
            )
        )
        .mark_point(shape="square", size=70, color=span_color, strokeWidth=1.2)
        .encode(x=x, y=y)
    )
    return (
        (cells + block + targets)
        .add_params(pick)
        .properties(
            width=240,
            height=240,
            title=alt.Title(
                alt.expr(f"'{title} head ' + {pick.name}"),
                subtitle="dashed: second copy (rows) × first copy (columns)"
                if layer == 0
                else "squares: where an induction head should look",
            ),
        )
    )


def _ranked(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Score rows with a rank label. Head indices mean nothing across seeds (the
    previous-token head is a different head in each), so each seed's heads are ranked
    within their layer: layer 0 by previous-token score, layer 1 and the control by
    induction score."""
    rows = []
    for seed in data["seeds"]:
        for host, layer, metric in (
            (HOSTS[0], 0, "previous_token"),
            (HOSTS[0], 1, "induction"),
            (HOSTS[1], 0, "induction"),
        ):
            heads = [
                r
                for r in data["scores"]
                if r["seed"] == seed and r["host"] == host and r["layer"] == layer
            ]
            heads.sort(key=lambda r: (-r[metric], r["head"]))
            prefix = "1-layer" if host == HOSTS[1] else f"L{layer}"
            for rank, r in enumerate(heads, start=1):
                rows.append(dict(r, rank=f"{prefix} #{rank}"))
    return rows


def _score_chart(data: dict[str, Any]) -> alt.LayerChart:
    from symbiote_core.figures.authoring import palette  # here, not at the top: see _heatmap

    metric_colors = [palette.color(role) for role in METRIC_ROLES]
    ranked = _ranked(data)
    rows = [
        {
            "rank": r["rank"],
            "head": r["label"],
            "seed": r["seed"],
            "metric": metric,
            "score": r[field],
        }
        for r in ranked
        for metric, field in zip(METRICS, ("previous_token", "induction"), strict=True)
    ]
    order = list(dict.fromkeys(r["rank"] for r in ranked))
    y = alt.Y(
        "rank:N",
        sort=order,
        title="heads, ranked within their layer",
        axis=alt.Axis(labelLimit=120),
    )
    dots = (
        alt.Chart(alt.Data(values=rows))
        .mark_point(filled=True, size=40, opacity=0.65)
        .encode(
            x=alt.X("score:Q", scale=alt.Scale(domain=[0, 1]), title="score (one mark per seed)"),
            y=y,
            yOffset=alt.YOffset("metric:N", sort=list(METRICS)),
            color=alt.Color(
                "metric:N",
                scale=alt.Scale(domain=list(METRICS), range=metric_colors),
                legend=alt.Legend(title=None, orient="top", direction="horizontal", labelLimit=200),
            ),
            shape=alt.Shape(
                "metric:N",
                scale=alt.Scale(domain=list(METRICS), range=["circle", "diamond"]),
                legend=None,
            ),
            tooltip=[
                "rank:N",
                "seed:O",
                "head:N",
                "metric:N",
                alt.Tooltip("score:Q", format=".3f"),
            ],
        )
    )
    uniform = (
        alt.Chart(alt.Data(values=[{"score": data["uniform_previous_token"]}]))
        .mark_rule(color=metric_colors[0], strokeDash=[3, 3], opacity=0.7)
        .encode(
            x="score:Q",
            tooltip=[alt.Tooltip("score:Q", format=".3f", title="uniform head's score")],
        )
    )
    return (uniform + dots).properties(
        width=230,
        height=300,
        title=alt.Title(
            "What each head attends to",
            subtitle=f"{len(data['seeds'])} seeds; dashed: previous-token score of a uniform head",
        ),
    )


def _accuracy_chart(data: dict[str, Any]) -> alt.LayerChart:
    from symbiote_core.figures.authoring import palette  # here, not at the top: see _heatmap

    seeds = data["seeds"]
    marks = [
        {"host": host, "seed": seed, "accuracy": acc}
        for host in SHOWN
        for seed, acc in zip(seeds, data["accuracy"][host], strict=True)
    ]
    means = [{"host": host, "accuracy": sum(data["accuracy"][host]) / len(seeds)} for host in SHOWN]
    y = alt.Y("host:N", sort=list(SHOWN), title=None, axis=alt.Axis(labelLimit=120))
    x = alt.X("accuracy:Q", scale=alt.Scale(domain=[0, 1]), title="accuracy on the repeat")
    bars = (
        alt.Chart(alt.Data(values=means))
        .mark_bar(color=palette.color("axis"), opacity=0.45, height=16)
        .encode(x=x, y=y, tooltip=["host:N", alt.Tooltip("accuracy:Q", format=".3f", title="mean")])
    )
    ticks = (
        alt.Chart(alt.Data(values=marks))
        .mark_tick(color=palette.color("ink"), thickness=2, size=16)
        .encode(x=x, y=y, tooltip=["host:N", "seed:O", alt.Tooltip("accuracy:Q", format=".3f")])
    )
    guess = (
        alt.Chart(alt.Data(values=[{"accuracy": sum(data["guess_baseline"]) / len(seeds)}]))
        .mark_rule(color=palette.color("axis"), strokeDash=[3, 3])
        .encode(
            x="accuracy:Q",
            tooltip=[
                alt.Tooltip("accuracy:Q", format=".3f", title="guessing among tokens seen once")
            ],
        )
    )
    return (bars + ticks + guess).properties(
        width=230,
        height=24 * len(SHOWN),
        title=alt.Title(
            "Next-token accuracy",
            subtitle="bar: mean; ticks: seeds; dashed: guessing among tokens seen once",
        ),
    )
