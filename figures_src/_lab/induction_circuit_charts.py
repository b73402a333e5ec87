"""Charts of the induction circuit figure: the circuit graph of heads and paths per seed,
and the knockout bars.
"""

from __future__ import annotations

import statistics
from typing import Any

import altair as alt

from figures_src._lab.induction_circuit_measures import (
    _per_seed,
)

TOKENS, OUTPUT = "tokens", "next token"


GROUPS = (
    "intact",
    "layer 0",
    "control",
    "path",
    "layer 1",
    "layer 1 alone",
    "1-layer host",
    "null host",
)


GROUP_ROLES = ("ink", "neuron", "control", "neuron", "neuron", "neuron", "control", "muted")
"""Palette roles of the knockout groups, in the order of `GROUPS`: knockouts of the
host's heads in the heads' colour, the two controls (other layer-0 heads, the 1-layer
host) in the control grey, the null host (trained on shuffled repeats) in the dark
neutral, the intact host in ink. Eight groups, five roles: every row is named on the
axis, so colour only sorts heads from controls."""


NODE_SELECTION = "picked"


WIDTH_KEY = (1.0, 2.0, 4.0)
"""Edge strengths (nats) shown in the graph's width key."""


def _nodes(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Nodes in four columns (tokens, layer-0 heads, layer-1 heads, next token), per seed."""
    rows = _per_seed(data["trained"])
    n_heads = len(rows[0]["layer0"])
    middle = (n_heads - 1) / 2
    nodes = []
    for seed, r in zip(data["seeds"], rows, strict=True):
        nodes.append({"seed": seed, "node": TOKENS, "x": 0, "y": middle, "name": TOKENS})
        for layer, losses in ((0, r["layer0"]), (1, r["layer1"])):
            for h, loss in enumerate(losses):
                role = (
                    ("previous-token head" if r["prev"][h] else "")
                    if layer == 0
                    else ("induction head" if r["induction"][h] else "")
                )
                nodes.append(
                    {
                        "seed": seed,
                        "node": f"L{layer} H{h}",
                        "x": 1 + layer,
                        "y": h,
                        "lost": loss - r["intact"],
                        "name": f"H{h}",
                        "role": role,
                    }
                )
        nodes.append({"seed": seed, "node": OUTPUT, "x": 3, "y": middle, "name": OUTPUT})
    return nodes


def _edges(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = _per_seed(data["trained"])
    edges = []
    for seed, r in zip(data["seeds"], rows, strict=True):
        for h, loss in enumerate(r["layer0"]):
            edges.append(
                _edge(seed, TOKENS, f"L0 H{h}", loss - r["intact"], "loss added when knocked out")
            )
        for j, into in enumerate(r["edges"]):
            for h, loss in enumerate(into):
                edges.append(
                    _edge(
                        seed,
                        f"L0 H{h}",
                        f"L1 H{j}",
                        loss - r["alone"][j],
                        f"loss added when cut from L1 H{j}'s keys (L1 H{j} alone in layer 1)",
                    )
                )
            edges.append(
                _edge(
                    seed,
                    f"L1 H{j}",
                    OUTPUT,
                    r["all_layer1"] - r["alone"][j],
                    "loss this head removes alone (against no layer 1)",
                )
            )
    return edges


def _edge(seed: int, source: str, target: str, effect: float, measure: str) -> dict[str, Any]:
    return {"seed": seed, "source": source, "target": target, "effect": effect, "measure": measure}


def _knockouts(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per seed and knockout, labelled by the role of what was removed (head
    indices mean nothing across seeds)."""
    m = data["trained"]
    rows = []
    for s, (seed, r) in enumerate(zip(data["seeds"], _per_seed(m), strict=True)):

        def add(label: str, group: str, loss: float, what: str = "", seed: int = seed) -> None:
            rows.append({"label": label, "group": group, "seed": seed, "loss": loss, "what": what})

        add("intact host", "intact", r["intact"])
        prev = ", ".join(f"L0 H{h}" for h, p in enumerate(r["prev"]) if p)
        add("previous-token head(s)", "layer 0", m["previous_token"][s], prev)
        for h, loss in enumerate(r["layer0"]):
            if not r["prev"][h]:
                add("one other L0 head", "layer 0", loss, f"L0 H{h}")
        add("other L0 heads together", "control", m["other_layer0"][s])
        add("all L0 heads", "layer 0", m["all_layer0"][s])
        add("prev.-token head(s) cut from keys", "path", m["key_cut"][s], prev)
        add("prev.-token head(s) cut from q, v", "path", m["query_value_cut"][s], prev)
        for j, loss in enumerate(r["layer1"]):
            add("one L1 head", "layer 1", loss, f"L1 H{j}")
        add("all L1 heads", "layer 1", r["all_layer1"])
        for j, loss in enumerate(r["alone"]):
            add("L1 reduced to one head", "layer 1 alone", loss, f"L1 H{j} kept")
        add("1-layer host (no knockout)", "1-layer host", data["control_loss"][s])
        null = data["shuffled"]
        add("null host: intact", "null host", null["intact"][s])
        add("null host: prev.-token head(s)", "null host", null["previous_token"][s])
        add("null host: cut from keys", "null host", null["key_cut"][s])
        add("null host: all L1 heads", "null host", null["all_layer1"][s])
    return rows


def _width_key(n_heads: int) -> list[dict[str, Any]]:
    """Sample edges for the width key, in a row under the heads (graph coordinates)."""
    row = n_heads + 0.45
    return [
        {"x": -0.2 + 0.9 * i, "x2": 0.15 + 0.9 * i, "y": row, "width": w}
        for i, w in enumerate(WIDTH_KEY)
    ]


def _width_key_text(n_heads: int) -> list[dict[str, Any]]:
    samples = _width_key(n_heads)
    title = {
        "x": -0.3,
        "y": samples[0]["y"] - 0.45,
        "text": "edge width: loss added when cut (nats)",
    }
    return [title] + [
        {"x": s["x2"] + 0.06, "y": s["y"], "text": f"{s['width']:g}"} for s in samples
    ]


def _graph(data: dict[str, Any], picked: alt.Parameter, seed: alt.Parameter) -> alt.LayerChart:
    # Imported here, not at the top: a top-level import is part of the data key, and
    # colours must only re-render.
    from symbiote_core.figures.authoring import palette

    edge, muted, ink = palette.color("axis"), palette.color("muted"), palette.color("ink")
    nodes = _nodes(data)
    where = {n["node"]: n for n in nodes}
    edges = [
        dict(
            e,
            x=where[e["source"]]["x"],
            y=where[e["source"]]["y"],
            x2=where[e["target"]]["x"],
            y2=where[e["target"]]["y"],
            width=max(e["effect"], 0.0),  # a cut that helps draws no edge; the tooltip says so
        )
        for e in _edges(data)
    ]
    this_seed = alt.datum.seed == seed
    xs = alt.Scale(domain=[-0.35, 3.35], nice=False, zero=False)
    n_heads = 1 + max(n["y"] for n in nodes if "lost" in n)
    ys = alt.Scale(domain=[-0.9, n_heads + 0.7], nice=False, zero=False, reverse=True)
    top = max(max(WIDTH_KEY), max(e["width"] for e in edges))
    widths = alt.Scale(domain=[0, top], range=[0, 12])
    x, y = alt.X("x:Q", scale=xs, axis=None), alt.Y("y:Q", scale=ys, axis=None)
    # A point selection's signal holds the picked values per field: {node: ["L1 H1"]}.
    picked_nodes = f"({NODE_SELECTION}.node || [])"
    touches = (
        f"indexof({picked_nodes}, datum.source) >= 0 || indexof({picked_nodes}, datum.target) >= 0"
    )
    lit = f"!isValid({NODE_SELECTION}.node) || {touches}"
    lines = (
        alt.Chart(alt.Data(values=edges))
        .transform_filter(this_seed)
        .mark_rule(color=edge, strokeCap="round")
        .encode(
            x=x,
            y=y,
            x2="x2:Q",
            y2="y2:Q",
            # The width key is drawn inside the panel (`_width_key`): a Vega-Lite legend
            # of a shared scale would drift to the foot of the figure on a phone.
            strokeWidth=alt.StrokeWidth("width:Q", scale=widths, legend=None),
            opacity=alt.condition(lit, alt.value(0.75), alt.value(0.12)),
            tooltip=[
                alt.Tooltip("source:N", title="from"),
                alt.Tooltip("target:N", title="to"),
                alt.Tooltip("effect:Q", format=".3f", title="effect (nats)"),
                alt.Tooltip("measure:N", title="measured as"),
            ],
        )
    )
    key = (
        alt.Chart(alt.Data(values=_width_key(n_heads)))
        .mark_rule(color=edge)
        .encode(
            x=x,
            y=y,
            x2="x2:Q",
            y2="y:Q",
            strokeWidth=alt.StrokeWidth("width:Q", scale=widths, legend=None),
        )
    )
    key_text = (
        alt.Chart(alt.Data(values=_width_key_text(n_heads)))
        .mark_text(fontSize=palette.MIN_FONT_PX, align="left", baseline="middle", color=muted)
        .encode(x=x, y=y, text="text:N")
    )
    ends = (
        alt.Chart(alt.Data(values=[n for n in nodes if "lost" not in n]))
        .transform_filter(this_seed)
        .mark_square(size=420, color=muted, opacity=1)
        .encode(x=x, y=y, tooltip=["node:N"])
    )
    heads = [n for n in nodes if "lost" in n]
    top_lost = max(max(n["lost"] for n in heads), 1.0)
    circles = (
        alt.Chart(alt.Data(values=heads))
        .transform_filter(this_seed)
        .mark_circle(size=520, stroke=edge, strokeWidth=1, opacity=1)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "lost:Q",
                # From the page background to the heads' colour: both ends are palette
                # colours, so site.js swaps them and the ramp starts at the page in
                # dark mode too (a named scheme would keep its light end there).
                scale=alt.Scale(
                    domain=[0, top_lost],
                    range=[palette.color("background"), palette.color("neuron")],
                    interpolate="lab",
                ),
                legend=alt.Legend(title="loss added (nats)", orient="bottom", gradientLength=110),
            ),
            tooltip=[
                "node:N",
                alt.Tooltip("role:N", title="role"),
                alt.Tooltip("lost:Q", format=".3f", title="loss added when knocked out"),
            ],
        )
        .add_params(picked)
    )
    labels = (
        alt.Chart(alt.Data(values=heads))
        .transform_filter(this_seed)
        # Under its circle, in ink on the page: no single text colour keeps 4.5:1 on
        # every fill of the ramp in both themes (the strong end is mid-light in each).
        .mark_text(fontSize=palette.MIN_FONT_PX, baseline="top", dy=16, color=ink)
        .encode(x=x, y=y, text="name:N")
    )
    headers = (
        alt.Chart(
            alt.Data(
                values=[
                    {"x": 0, "text": "tokens"},
                    {"x": 1, "text": "layer 0"},
                    {"x": 2, "text": "layer 1"},
                    {"x": 3, "text": "next token"},
                ]
            )
        )
        .mark_text(fontSize=11, fontWeight="bold", baseline="bottom", color=muted)
        .encode(x=x, y=alt.datum(-0.55, scale=ys), text="text:N")
    )
    return (
        (lines + key + key_text + ends + circles + labels + headers)
        .add_params(seed)
        .properties(
            width=260,
            height=290,
            title=alt.Title(
                "The circuit, edge by edge",
                subtitle="one seed at a time; click a head to pick out its edges",
            ),
        )
    )


def _knockout_chart(data: dict[str, Any]) -> alt.LayerChart:
    from symbiote_core.figures.authoring import palette  # here, not at the top: see _graph

    groups = alt.Scale(domain=list(GROUPS), range=[palette.color(r) for r in GROUP_ROLES])
    rows = _knockouts(data)
    order = list(dict.fromkeys(r["label"] for r in rows))
    means = [
        {
            "label": label,
            "group": next(r["group"] for r in rows if r["label"] == label),
            "loss": statistics.fmean(r["loss"] for r in rows if r["label"] == label),
        }
        for label in order
    ]
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=170))
    x = alt.X("loss:Q", title="loss on the repeat (nats)", scale=alt.Scale(zero=True))
    bars = (
        alt.Chart(alt.Data(values=means))
        .mark_bar(height=11, opacity=0.45)
        .encode(
            y=y,
            x=x,
            color=alt.Color(
                "group:N",
                scale=groups,
                legend=None,
            ),
            tooltip=["label:N", alt.Tooltip("loss:Q", format=".3f", title="mean over seeds")],
        )
    )
    marks = (
        alt.Chart(alt.Data(values=rows))
        .mark_point(filled=True, size=22, opacity=0.85)
        .encode(
            y=y,
            x=x,
            color=alt.Color(
                "group:N",
                scale=groups,
                legend=None,
            ),
            tooltip=["label:N", "seed:O", "what:N", alt.Tooltip("loss:Q", format=".3f")],
        )
    )
    control = (
        alt.Chart(alt.Data(values=[{"loss": statistics.fmean(data["control_loss"])}]))
        .mark_rule(color=palette.color("muted"), strokeDash=[3, 3])
        .encode(x="loss:Q")
    )
    return (control + bars + marks).properties(
        width=170,
        height=18 * len(order),
        title=alt.Title(
            "Loss after a knockout",
            subtitle="bars: mean; dots: seeds (and heads); dashed: the 1-layer host",
        ),
    )
