"""Charts and value readers of the superposition recovery figure: recovery against sparsity
per reader, and the count-matched readers beside their controls.
"""

from __future__ import annotations

from typing import Any

import altair as alt

from figures_src._lab.values import per_seed

HOST_LABELS = {"linear": "linear host (no privileged basis)", "relu": "ReLU host (privileged)"}


MATCHED_READERS = (
    "dictionary",
    "shuffled-data dictionary",
    "untrained dictionary",
    "neurons",
    "rotated neuron frame",
    "random directions",
)


CONTROLS = ("shuffled-data dictionary", "neurons", "rotated neuron frame", "random directions")
"""The count-matched readers that learned nothing about the features: the claims'
control is the best of them, per seed."""


def _measure_tooltips() -> list[alt.Tooltip]:
    """The four scores of a reader, as both charts' tooltips show them."""
    return [
        alt.Tooltip("mmcs:Q", format=".3f"),
        alt.Tooltip("mcc:Q", format=".3f"),
        alt.Tooltip("coverage:Q", format=".0%"),
        alt.Tooltip("recovered:Q", format=".2f", title="loss recovered"),
    ]


def _v(data: dict[str, Any], reader: str, field: str = "mmcs", **where: Any) -> list[float]:
    where = {"host": "linear", "probability": data["headline_probability"]} | where
    return per_seed(data["rows"], field, data["seeds"], reader=reader, **where)


def _best_control(data: dict[str, Any], host: str) -> list[float]:
    """Per seed, the best MMCS among the count-matched readers that learned nothing."""
    columns = [_v(data, f"{c} (matched)", host=host) for c in CONTROLS]
    return [max(seed) for seed in zip(*columns, strict=True)]


def _gap(data: dict[str, Any], host: str) -> list[float]:
    """Per seed, the neurons' MMCS minus the rotated neuron frame's."""
    neurons = _v(data, "neurons (matched)", host=host)
    rotated = _v(data, "rotated neuron frame (matched)", host=host)
    return [a - b for a, b in zip(neurons, rotated, strict=True)]


def _halfway(data: dict[str, Any]) -> list[float]:
    """Per seed, halfway from the random control's MMCS to a perfect match (1)."""
    return [(r + 1) / 2 for r in _v(data, "random directions")]


def _densest(data: dict[str, Any]) -> float:
    return max(r["probability"] for r in data["rows"])


def render(data: dict[str, Any]) -> alt.HConcatChart:
    # Imported here, not at the top: a top-level import is part of the data key, and
    # colours must only re-render.
    import statistics

    from symbiote_core.figures.authoring import palette

    rows = data["rows"]
    probs = sorted({r["probability"] for r in rows})
    sweep = [
        r
        for r in rows
        if r["host"] == "linear" and r["reader"] in ("dictionary", "random directions")
    ]
    colors = alt.Scale(**palette.scale({"dictionary": "symbiote", "random directions": "control"}))
    x = alt.X(
        "probability:Q",
        scale=alt.Scale(type="log", domain=[min(probs) / 1.5, max(probs) * 1.5]),
        axis=alt.Axis(values=probs, format="~g"),
        title="feature probability (log scale)",
    )
    y_title, y_scale = "mean max cosine with true features", alt.Scale(domain=[0, 1])
    # Each line is named at its right end (a direct label, no legend to look up); in ink,
    # which reads at 4.5:1 in both themes where the control's grey would not.
    base = alt.Chart(alt.Data(values=sweep)).encode(
        x=x, color=alt.Color("reader:N", scale=colors, title=None, legend=None)
    )
    densest = max(probs)
    ends = [
        {
            "reader": reader,
            "probability": densest,
            "mmcs": statistics.fmean(
                r["mmcs"] for r in sweep if r["reader"] == reader and r["probability"] == densest
            ),
        }
        for reader in ("dictionary", "random directions")
    ]
    labels = (
        alt.Chart(alt.Data(values=ends))
        .mark_text(align="right", dx=-2, dy=-10, color=palette.color("ink"))
        .encode(x=x, y=alt.Y("mmcs:Q", scale=y_scale), text="reader:N")
    )
    sweep_chart = (
        base.mark_line().encode(y=alt.Y("mean(mmcs):Q", title=y_title, scale=y_scale))
        + labels
        + base.mark_circle(size=28, opacity=0.6).encode(
            y=alt.Y("mmcs:Q", title=y_title, scale=y_scale),
            tooltip=[
                "reader:N",
                "seed:O",
                "probability:Q",
                *_measure_tooltips(),
            ],
        )
    ).properties(
        width=260,
        height=240,
        title=f"Linear host: {data['n_features']} atoms vs {data['n_features']} random",
    )

    matched = [
        dict(r, reader=r["reader"].removesuffix(" (matched)"), host_label=HOST_LABELS[r["host"]])
        for r in rows
        if r["reader"].endswith("(matched)")
    ]
    # The ReLU host is the one whose neurons are a privileged basis: the neuron role;
    # the linear host has none, so it gets a neutral (muted, swapped in dark mode too).
    host_colors = alt.Scale(
        **palette.scale({HOST_LABELS["linear"]: "muted", HOST_LABELS["relu"]: "neuron"})
    )
    matched_base = alt.Chart(alt.Data(values=matched)).encode(
        y=alt.Y("reader:N", sort=list(MATCHED_READERS), title=None),
        yOffset=alt.YOffset("host_label:N", sort=list(HOST_LABELS.values())),
        color=alt.Color(
            "host_label:N",
            scale=host_colors,
            title=None,
            legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=300),
        ),
    )
    matched_chart = (
        matched_base.mark_tick(thickness=2, size=12).encode(
            x=alt.X("mean(mmcs):Q", scale=alt.Scale(zero=False), title="mean max cosine")
        )
        + matched_base.mark_circle(size=22, opacity=0.55).encode(
            x="mmcs:Q",
            tooltip=[
                "host_label:N",
                "reader:N",
                "seed:O",
                *_measure_tooltips(),
            ],
        )
    ).properties(
        width=260,
        height=260,
        title=f"{data['matched_atoms']} directions each, p = {data['headline_probability']:g}",
    )
    return (
        alt.hconcat(sweep_chart, matched_chart)
        .resolve_scale(color="independent")
        .properties(
            description="Left: mean max cosine between true feature directions and a full-size "
            "dictionary's atoms or as many random directions, against feature probability, "
            "one dot per seed and a line through the means. Right: readers with equal numbers "
            "of directions on the linear and the ReLU host, one dot per seed, a tick at the mean."
        )
    )
