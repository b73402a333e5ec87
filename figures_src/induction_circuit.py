"""The induction circuit as a graph, each edge weighted by what cutting it costs.

The 2-layer induction host of section 5 is retrained (same seed and recipe as the
heads figure, so the same weights). Every measurement is a mean ablation on held-out
sequences (see `figures_src/_induction.py`):

- knocking out single heads and groups of heads, including a control group (the
  layer-0 heads that are not the previous-token head);
- a path ablation that removes the previous-token head only from what layer 1 reads
  as keys, and, as its control, only from what layer 1 reads as queries and values;
- the graph's edges: tokens -> layer-0 head (accuracy lost when that head is knocked
  out), layer-0 head -> layer-1 head (accuracy lost when the layer-0 head is cut from
  that layer-1 head's keys) and layer-1 head -> next token (accuracy that head brings
  alone). Single layer-1 heads compensate for one another, so both layer-1 edges are
  measured with the other three layer-1 heads knocked out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import altair as alt

from symbiote_core.figures.spec import Claim, Figure

TOKENS, OUTPUT = "tokens", "next token"
GROUPS = ("intact", "layer 0", "control", "path", "layer 1", "layer 1 alone")
GROUP_COLORS = ("#607d8b", "#ef6c00", "#b0bec5", "#8e24aa", "#00897b", "#80cbc4")
NODE_SELECTION = "picked"
WIDTH_KEY = (0.25, 0.5, 1.0)
"""Edge strengths shown in the graph's width key."""
TEXT_COLOR = "#78909c"
"""A mid grey for text on the page background: readable on the light and the dark theme."""


@dataclass(frozen=True)
class Params:
    seed: int = 0
    eval_sequences: int = 512
    """Held-out sequences every accuracy is averaged over (and the ablation means)."""


def compute(p: Params) -> dict[str, Any]:
    from figures_src._induction import (
        accuracy_under,
        evaluation_batch,
        head_outputs,
        head_scores,
        knock_out,
        remove_from_reads,
        scores_under,
        train_host,
    )

    host = train_host(p.seed, n_layers=2)
    batch = evaluation_batch(p.seed, p.eval_sequences)
    outputs = head_outputs(host, batch)
    scores = head_scores(host, batch)
    heads = list(range(host.cfg.n_heads))
    prev = max(heads, key=lambda h: scores[h]["previous_token"])  # layer 0 comes first
    others = [h for h in heads if h != prev]

    def acc(interventions: list[Any]) -> float:
        return accuracy_under(host, batch, interventions)

    def alone(j: int) -> list[Any]:  # layer 1 reduced to head j
        return knock_out(outputs, {1: [i for i in heads if i != j]})

    def cut(h: int, readers: list[int], parts: str) -> list[Any]:
        return [remove_from_reads(host, outputs, (0, h), 1, readers, parts)]

    intact = acc([])
    no_layer1 = acc(knock_out(outputs, {1: heads}))
    knockouts = [
        _bar("intact host", "intact", None, intact),
        *[
            _bar(f"L0 H{h}", "layer 0", f"L0 H{h}", acc(knock_out(outputs, {0: [h]})))
            for h in heads
        ],
        _bar("other L0 heads", "control", None, acc(knock_out(outputs, {0: others}))),
        _bar("all L0 heads", "layer 0", None, acc(knock_out(outputs, {0: heads}))),
        _bar(f"L0 H{prev} cut from keys", "path", f"L0 H{prev}", acc(cut(prev, heads, "k"))),
        _bar(
            f"L0 H{prev} cut from q, v",
            "path",
            f"L0 H{prev}",
            acc(cut(prev, heads, "qv")),
        ),
        *[
            _bar(f"L1 H{j}", "layer 1", f"L1 H{j}", acc(knock_out(outputs, {1: [j]})))
            for j in heads
        ],
        _bar("all L1 heads", "layer 1", None, no_layer1),
        *[_bar(f"L1 H{j} alone", "layer 1 alone", f"L1 H{j}", acc(alone(j))) for j in heads],
    ]
    by_label = {k["label"]: k["accuracy"] for k in knockouts}
    edges = [
        _edge(TOKENS, f"L0 H{h}", intact - by_label[f"L0 H{h}"], "accuracy lost when knocked out")
        for h in heads
    ]
    for j in heads:
        only = by_label[f"L1 H{j} alone"]
        edges += [
            _edge(
                f"L0 H{h}",
                f"L1 H{j}",
                only - acc(alone(j) + cut(h, [j], "k")),
                f"accuracy lost when cut from L1 H{j}'s keys (L1 H{j} alone)",
            )
            for h in heads
        ]
        edges.append(_edge(f"L1 H{j}", OUTPUT, only - no_layer1, "accuracy this head brings alone"))
    return {
        "intact": intact,
        "previous_token_head": prev,
        "scores": scores,
        "knockouts": knockouts,
        "edges": edges,
        "key_cut_induction": scores_under(host, batch, cut(prev, heads, "k"), 1).tolist(),
        "qv_cut_induction": scores_under(host, batch, cut(prev, heads, "qv"), 1).tolist(),
        "eval_sequences": p.eval_sequences,
    }


def _bar(label: str, group: str, node: str | None, accuracy: float) -> dict[str, Any]:
    return {"label": label, "group": group, "node": node, "accuracy": accuracy}


def _edge(source: str, target: str, effect: float, measure: str) -> dict[str, Any]:
    return {"source": source, "target": target, "effect": effect, "measure": measure}


def _accuracy(data: dict[str, Any], label: str) -> float:
    (row,) = [k for k in data["knockouts"] if k["label"] == label]
    return row["accuracy"]


def _prev_label(data: dict[str, Any]) -> str:
    return f"L0 H{data['previous_token_head']}"


def _group(data: dict[str, Any], group: str) -> list[float]:
    return [k["accuracy"] for k in data["knockouts"] if k["group"] == group and k["node"]]


def _other_layer0(data: dict[str, Any]) -> list[float]:
    prev = _prev_label(data)
    return [
        k["accuracy"]
        for k in data["knockouts"]
        if k["group"] == "layer 0" and k["node"] not in (None, prev)
    ]


def _edge_margin(data: dict[str, Any]) -> float:
    """Over layer-1 heads: edge from the previous-token head minus the strongest other
    edge into the same head. Positive when every induction head reads mainly from it."""
    prev = _prev_label(data)
    margins = []
    for target in {e["target"] for e in data["edges"] if e["target"].startswith("L1")}:
        into = {e["source"]: e["effect"] for e in data["edges"] if e["target"] == target}
        margins.append(into[prev] - max(v for s, v in into.items() if s != prev))
    return min(margins)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _layout(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Nodes in four columns: tokens, layer-0 heads, layer-1 heads, next token."""
    n_heads = 1 + max(s["head"] for s in data["scores"])
    middle = (n_heads - 1) / 2
    lost = {
        k["node"]: data["intact"] - k["accuracy"]
        for k in data["knockouts"]
        if k["group"] in ("layer 0", "layer 1") and k["node"]
    }
    nodes = [{"node": TOKENS, "x": 0, "y": middle, "lost": None, "name": TOKENS}]
    for s in data["scores"]:
        node = f"L{s['layer']} H{s['head']}"
        nodes.append(
            {
                "node": node,
                "x": 1 + s["layer"],
                "y": s["head"],
                "lost": lost[node],
                "name": f"H{s['head']}",
                "previous_token": s["previous_token"],
                "induction": s["induction"],
            }
        )
    nodes.append({"node": OUTPUT, "x": 3, "y": middle, "lost": None, "name": OUTPUT})
    return nodes


def _width_key(n_heads: int) -> list[dict[str, Any]]:
    """Sample edges for the width key, in a row under the heads (graph coordinates)."""
    row = n_heads + 0.45
    return [
        {"x": -0.2 + 0.9 * i, "x2": 0.15 + 0.9 * i, "y": row, "width": w}
        for i, w in enumerate(WIDTH_KEY)
    ]


def _width_key_text(n_heads: int) -> list[dict[str, Any]]:
    samples = _width_key(n_heads)
    title = {"x": -0.3, "y": samples[0]["y"] - 0.45, "text": "edge width: accuracy lost when cut"}
    return [title] + [
        {"x": s["x2"] + 0.06, "y": s["y"], "text": f"{s['width']:g}"} for s in samples
    ]


def render(data: dict[str, Any]) -> alt.HConcatChart:
    picked = alt.selection_point(name=NODE_SELECTION, fields=["node"], on="click", clear="dblclick")
    return (
        alt.hconcat(_graph(data, picked), _knockout_chart(data, picked), center=True)
        # Independent legends stay with their own panel when the site stacks the panels.
        .resolve_legend(color="independent")
        .resolve_scale(color="independent")
        .configure_view(stroke=None)
        .properties(
            description="A node-link graph of the 2-layer host's heads with edges weighted "
            "by the accuracy lost when each is cut, and a bar chart of accuracy under "
            "knockouts of single heads, groups of heads and paths."
        )
    )


def _graph(data: dict[str, Any], picked: alt.Parameter) -> alt.LayerChart:
    nodes = _layout(data)
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
        for e in data["edges"]
    ]
    xs = alt.Scale(domain=[-0.35, 3.35], nice=False, zero=False)
    n_heads = 1 + max(s["head"] for s in data["scores"])
    ys = alt.Scale(domain=[-0.9, n_heads + 0.7], nice=False, zero=False, reverse=True)
    widths = alt.Scale(domain=[0, 1], range=[0, 12])
    x, y = alt.X("x:Q", scale=xs, axis=None), alt.Y("y:Q", scale=ys, axis=None)
    # A point selection's signal holds the picked values per field: {node: ["L1 H1"]}.
    picked_nodes = f"({NODE_SELECTION}.node || [])"
    touches = (
        f"indexof({picked_nodes}, datum.source) >= 0 || indexof({picked_nodes}, datum.target) >= 0"
    )
    lit = f"!isValid({NODE_SELECTION}.node) || {touches}"
    lines = (
        alt.Chart(alt.Data(values=edges))
        .mark_rule(color="#78909c", strokeCap="round")
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
                alt.Tooltip("effect:Q", format=".3f", title="effect"),
                alt.Tooltip("measure:N", title="measured as"),
            ],
        )
    )
    key = (
        alt.Chart(alt.Data(values=_width_key(n_heads)))
        .mark_rule(color="#78909c")
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
        .mark_text(fontSize=10, align="left", baseline="middle", color=TEXT_COLOR)
        .encode(x=x, y=y, text="text:N")
    )
    ends = (
        alt.Chart(alt.Data(values=[n for n in nodes if n["lost"] is None]))
        .mark_square(size=420, color="#546e7a", opacity=1)
        .encode(x=x, y=y, tooltip=["node:N"])
    )
    circles = (
        alt.Chart(alt.Data(values=[n for n in nodes if n["lost"] is not None]))
        .mark_circle(size=520, stroke="#455a64", strokeWidth=1, opacity=1)
        .encode(
            x=x,
            y=y,
            color=alt.Color(
                "lost:Q",
                scale=alt.Scale(domain=[0, 1], range=["#eceff1", "#e65100"], interpolate="rgb"),
                legend=alt.Legend(
                    title="accuracy lost when knocked out", orient="bottom", gradientLength=110
                ),
            ),
            tooltip=[
                "node:N",
                alt.Tooltip("lost:Q", format=".3f", title="accuracy lost when knocked out"),
                alt.Tooltip("previous_token:Q", format=".2f", title="previous-token score"),
                alt.Tooltip("induction:Q", format=".2f", title="induction score"),
            ],
        )
        .add_params(picked)
    )
    labels = (
        alt.Chart(alt.Data(values=[n for n in nodes if n["lost"] is not None]))
        .mark_text(fontSize=10, color="#263238")
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
        .mark_text(fontSize=11, fontWeight="bold", baseline="bottom", color=TEXT_COLOR)
        .encode(x=x, y=alt.datum(-0.55, scale=ys), text="text:N")
    )
    return (lines + key + key_text + ends + circles + labels + headers).properties(
        width=260,
        height=290,
        title=alt.Title(
            "The circuit, edge by edge",
            subtitle="click a head to pick out its edges and knockouts",
        ),
    )


def _knockout_chart(data: dict[str, Any], picked: alt.Parameter) -> alt.LayerChart:
    order = [k["label"] for k in data["knockouts"]]
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=110))
    base = alt.Chart(alt.Data(values=data["knockouts"])).encode(
        y=y,
        x=alt.X("accuracy:Q", scale=alt.Scale(domain=[0, 1]), title="accuracy on the repeat"),
    )
    bars = base.mark_bar(height=11).encode(
        color=alt.Color(
            "group:N",
            scale=alt.Scale(domain=list(GROUPS), range=list(GROUP_COLORS)),
            legend=None,
        ),
        opacity=alt.condition(picked, alt.value(1.0), alt.value(0.25)),
        tooltip=["label:N", "group:N", alt.Tooltip("accuracy:Q", format=".3f")],
    )
    values = base.mark_text(align="left", dx=3, fontSize=9, color=TEXT_COLOR).encode(
        text=alt.Text("accuracy:Q", format=".2f"),
        opacity=alt.condition(picked, alt.value(1.0), alt.value(0.3)),
    )
    intact = (
        alt.Chart(alt.Data(values=[{"accuracy": data["intact"]}]))
        .mark_rule(color="#607d8b", strokeDash=[3, 3])
        .encode(x="accuracy:Q")
    )
    return (intact + bars + values).properties(
        width=150,
        height=18 * len(order),
        title=alt.Title("Accuracy after a knockout", subtitle="dashed: the intact host"),
    )


PARAMS = Params()

FIGURE = Figure(
    title="Knockouts trace the path from the previous-token head to the induction heads",
    caption=(
        "The graph shows the 2-layer host's heads. A head's colour is the accuracy lost "
        "when it alone is knocked out (replaced by its mean output). An edge's width is "
        "the accuracy lost when that edge alone is cut: from the tokens to a layer-0 head, "
        "knocking the head out; from a layer-0 to a layer-1 head, removing the layer-0 "
        "head from what that layer-1 head reads as keys; from a layer-1 head to the "
        "output, what the head achieves on its own. The last two are measured with the "
        "other layer-1 heads knocked out, because the others cover for any one of "
        "them. The bar chart gives the accuracy after each knockout or cut, on "
        f"{PARAMS.eval_sequences} held-out sequences. Click a head to pick out its edges "
        "and bars; double-click to clear."
    ),
    alt=(
        "A graph from the tokens through the layer-0 heads and the layer-1 heads to the "
        "next token. One thick path runs from the tokens into one layer-0 head and from "
        "it to every layer-1 head, which all connect to the output; the other layer-0 "
        "heads have almost no edges. A bar chart shows accuracy near one when any single "
        "other head is knocked out, and far lower when the previous-token head, or its "
        "contribution to layer-1 keys, or all of layer 1 is removed."
    ),
    params=PARAMS,
    compute=compute,
    render=render,
    values={
        "eval_sequences": lambda d: d["eval_sequences"],
        "intact": lambda d: d["intact"],
        "previous_token_head": lambda d: d["previous_token_head"],
        "previous_token_knockout": lambda d: _accuracy(d, _prev_label(d)),
        "other_layer0_knockout_min": lambda d: min(_other_layer0(d)),
        "other_layer0_knockout": lambda d: _accuracy(d, "other L0 heads"),
        "all_layer0_knockout": lambda d: _accuracy(d, "all L0 heads"),
        "key_cut": lambda d: _accuracy(d, f"{_prev_label(d)} cut from keys"),
        "query_value_cut": lambda d: _accuracy(d, f"{_prev_label(d)} cut from q, v"),
        "intact_induction": lambda d: _mean(
            [r["induction"] for r in d["scores"] if r["layer"] == 1]
        ),
        "key_cut_induction": lambda d: _mean(d["key_cut_induction"]),
        "query_value_cut_induction": lambda d: _mean(d["qv_cut_induction"]),
        "single_layer1_knockout_min": lambda d: min(_group(d, "layer 1")),
        "all_layer1_knockout": lambda d: _accuracy(d, "all L1 heads"),
        "layer1_alone_min": lambda d: min(_group(d, "layer 1 alone")),
        "layer1_alone_max": lambda d: max(_group(d, "layer 1 alone")),
        "edge_margin": _edge_margin,
    },
    claims=(
        Claim(
            name="previous_token_head_needed",
            statement="Knocking out the previous-token head costs far more accuracy than "
            "knocking out all the other layer-0 heads together.",
            left="other_layer0_knockout",
            op=">",
            right="previous_token_knockout",
            margin=0.25,
        ),
        Claim(
            name="read_as_keys",
            statement="The previous-token head matters as a key: cut from what layer 1 "
            "reads as keys it costs far more than cut from queries and values.",
            left="query_value_cut",
            op=">",
            right="key_cut",
            margin=0.25,
        ),
        Claim(
            name="layer1_needed",
            statement="Without its layer-1 heads the host loses almost all its accuracy.",
            left="intact",
            op=">",
            right="all_layer1_knockout",
            margin=0.9,
        ),
        Claim(
            name="single_layer1_compensated",
            statement="Knocking out any one layer-1 head costs almost nothing: the others "
            "compensate.",
            left="intact",
            op="<",
            right="single_layer1_knockout_min",
            margin=0.02,
        ),
        Claim(
            name="induction_heads_read_previous_token_head",
            statement="Every layer-1 head's strongest incoming edge comes from the "
            "previous-token head.",
            left="edge_margin",
            op=">",
            right=0.0,
            margin=0.05,
        ),
    ),
)
