"""Charts of the induction symbiote graph figure: the causal test, the latent grain of the
graph's paths, and the latents each host's dictionary labels.
"""

from __future__ import annotations

from typing import Any

import altair as alt

ERROR = "error"


LOGITS_NODE = "logits"


ERROR_AT = (1.5, 4.2)
"""Where the dictionary's error node sits in the graph: below, between the layers."""


CAUSAL_ROWS = (
    ("prev", "k", "previous-token latents, keys"),
    ("cur", "k", "as many current-token latents, keys"),
    ("random", "k", "as many random latents, keys"),
    ("error", "k", "the dictionary's error, keys"),
    ("prev", "q", "previous-token latents, queries"),
)


def _causal_chart(data: dict[str, Any]) -> alt.LayerChart:
    """Share of cutting layer 1's whole key (or query) input that each removal costs."""
    from symbiote_core.figures.authoring import palette  # render-only: keeps the data key

    causal = data["trained"]["causal"]
    rows = [
        {"seed": seed, "row": label, "share": share}
        for name, part, label in CAUSAL_ROWS
        for seed, share in zip(data["seeds"], causal[f"{name}_{part}"]["share"], strict=True)
    ]
    labels = [label for *_, label in CAUSAL_ROWS]
    roles = dict(zip(labels, ("symbiote", "control", "control", "muted", "muted"), strict=True))
    base = alt.Chart(alt.Data(values=rows))
    y = alt.Y("row:N", sort=labels, title=None, axis=alt.Axis(labelLimit=220))
    color = alt.Color("row:N", scale=alt.Scale(**palette.scale(roles)), legend=None)
    dots = base.mark_circle(size=40, opacity=0.75).encode(
        x=alt.X(
            "share:Q",
            scale=alt.Scale(domain=[-0.1, 1], clamp=True),
            title=["share of the loss that cutting", "the whole input costs"],
        ),
        y=y,
        color=color,
        tooltip=["seed:N", "row:N", alt.Tooltip("share:Q", format=".3f")],
    )
    means = base.mark_tick(thickness=2, size=18).encode(x="mean(share):Q", y=y, color=color)
    return alt.layer(dots, means).properties(
        width=180, height=130, title="Removed from layer 1's input alone"
    )


PATH_KINDS = ("direct", "q", "k", "v")


def _grain_chart(data: dict[str, Any], seed: alt.Parameter) -> alt.LayerChart:
    """Each latent's attribution to each path against path patching of that latent alone."""
    from symbiote_core.figures.authoring import palette  # render-only: keeps the data key

    rows = [
        {
            "seed": s,
            "attribution": a,
            "truth": t,
            "path": PATH_KINDS[0 if p == 0 else 1 + (p - 1) % 3],
        }
        for s, edges in zip(data["seeds"], data["trained"]["latent_edges"], strict=True)
        for a, t, p in edges
    ]
    base = alt.Chart(alt.Data(values=rows)).transform_filter(alt.datum.seed == seed)
    dots = base.mark_circle(size=14, opacity=0.6).encode(
        x=alt.X("truth:Q", title="path patching of the latent (logits)"),
        y=alt.Y("attribution:Q", title="its attribution (logits)"),
        color=alt.Color(
            "path:N",
            sort=list(PATH_KINDS),
            scale=alt.Scale(
                range=[palette.color(r) for r in ("muted", "probe", "symbiote", "neuron")]
            ),
            legend=alt.Legend(orient="bottom", title=None, columns=4),
        ),
        tooltip=[
            "path:N",
            alt.Tooltip("truth:Q", format=".2f"),
            alt.Tooltip("attribution:Q", format=".2f"),
        ],
    )
    reach = max([abs(r[k]) for r in rows for k in ("attribution", "truth")] or [1.0])
    diagonal = (
        alt.Chart(alt.Data(values=[{"v": -reach}, {"v": reach}]))
        .mark_line(strokeDash=[3, 3], color=palette.color("axis"), clip=True)
        .encode(x="v:Q", y="v:Q")
    )
    return alt.layer(diagonal, dots).properties(
        width=180, height=150, title="Latent by latent (the seed picked)"
    )
