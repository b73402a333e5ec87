"""The induction circuit as a graph, each edge weighted by what cutting it costs.

The 2-layer induction host of section 5 and its 1-layer control are retrained on every
seed (same seeds and recipe as the heads figure, so the same weights: training is
bit-reproducible). Every measurement is a mean ablation on held-out sequences (see
`figures_src/_induction.py`), scored by the loss on the induction targets (nats), which
unlike accuracy does not saturate:

- knocking out single heads and groups of heads, including a control group (the
  layer-0 heads that are not the previous-token head, picked on separate sequences);
- a path ablation that removes the previous-token head only from what layer 1 reads
  as keys, and, as its control, only from what layer 1 reads as queries and values;
- the graph's edges: tokens -> layer-0 head (loss added when that head is knocked
  out), layer-0 head -> layer-1 head (loss added when the layer-0 head is cut from
  that layer-1 head's keys) and layer-1 head -> next token (loss that head removes
  alone). The layer-1 heads run in parallel and are redundant, so both layer-1 edges
  are measured with the other three layer-1 heads knocked out.

Every measurement is repeated on the null host: the same 2-layer recipe trained on
sequences whose second copy is shuffled (`_induction.Hosts.shuffled`), which trains and
works but has no use for induction, so its knockouts cost something and can differ.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

import altair as alt

from figures_src._induction_seeds import SEEDS, TUNING_SEEDS
from figures_src._lab.values import n_seeds
from figures_src._lab.words import induction_host
from symbiote_core.figures.authoring.spec import Claim, Control, Figure, Null

TOKENS, OUTPUT = "tokens", "next token"
GROUPS = (
    "intact", "layer 0", "control", "path", "layer 1", "layer 1 alone", "1-layer host",
    "null host",
)
GROUP_ROLES = ("ink", "neuron", "control", "neuron", "neuron", "neuron", "control", "muted")
"""Palette roles of the knockout groups, in the order of `GROUPS`: knockouts of the
host's heads in the heads' colour, the two controls (other layer-0 heads, the 1-layer
host) in the control grey, the null host (trained on shuffled repeats) in the dark
neutral, the intact host in ink. Eight groups, five roles: every row is named on the
axis, so colour only sorts heads from controls."""
NODE_SELECTION = "picked"
SEED_PARAM = "graph_seed"
WIDTH_KEY = (1.0, 2.0, 4.0)
"""Edge strengths (nats) shown in the graph's width key."""
NAT = 1.0
"""The margin of the knockout claims: one nat of loss on the induction targets, a quarter
of a uniform guess's loss over the vocabulary (ln 64 = 4.16)."""
NAT_WHY = (
    "one nat on the induction targets, a quarter of the loss of a uniform guess over the "
    "vocabulary (ln 64 = 4.16)"
)
NULL_HOST = (
    "the null host: the same 2-layer recipe trained on sequences whose second copy is "
    "shuffled (it works, but induction is of no use to it), its heads' roles picked by the "
    "same rule, same code and sequences"
)


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = SEEDS
    """Every host is trained once per seed (batched); values are per seed in this order."""
    eval_sequences: int = 256
    """Held-out sequences per seed every loss is averaged over (and the ablation means)."""
    selection_sequences: int = 128
    """Separate held-out sequences per seed on which the heads' roles are picked."""
    head_threshold: float = 0.5
    """A layer-0 head is a previous-token head when over half its attention goes one
    token back; a layer-1 head is an induction head when over half goes to the
    induction key. The definitions of the heads figure."""


def compute(p: Params) -> dict[str, Any]:
    from figures_src._induction import (
        EVALUATION_STREAM,
        SELECTION_STREAM,
        accuracy,
        head_outputs,
        head_scores,
        heads_above,
        held_out,
        in_candidates,
        knock_out,
        logits_under,
        loss_under,
        top_probability,
        train_hosts,
    )

    hosts = train_hosts(p.seeds)
    batch = held_out(p.seeds, p.eval_sequences, EVALUATION_STREAM)
    selection = held_out(p.seeds, p.selection_sequences, SELECTION_STREAM)
    out: dict[str, Any] = {"seeds": list(p.seeds), "eval_sequences": p.eval_sequences}
    roles = {}
    for name, model in (("trained", hosts.trained), ("shuffled", hosts.shuffled)):
        # Roles are picked on the selection sequences, scored on the evaluation sequences.
        scores = head_scores(model, selection)
        prev = heads_above(scores.previous_token[:, 0], p.head_threshold)  # (I, H)
        induction = heads_above(scores.induction[:, 1], p.head_threshold)  # (I, H)
        roles[name] = prev
        out[name] = _measure(model, batch, prev, induction)
    host = hosts.trained
    knocked = logits_under(host, batch, [knock_out(head_outputs(host, batch), 0, roles["trained"])])
    control = logits_under(hosts.control, batch)
    out["control_loss"] = loss_under(hosts.control, batch).tolist()
    out["chance_loss"] = math.log(host.cfg.vocab_size)
    # Why the knocked-out host can do worse than the control: how often it is right, how
    # often it still picks a token seen once (as the 1-layer control learned to), and
    # how sure it is of its pick.
    for name, logits in (("previous_token_knockout", knocked), ("control", control)):
        out[f"{name}_accuracy"] = accuracy(logits, batch).tolist()
        out[f"{name}_in_candidates"] = in_candidates(logits, batch).tolist()
        out[f"{name}_top_probability"] = top_probability(logits, batch).tolist()
    return out


def _measure(model: Any, batch: Any, prev: Any, induction: Any) -> dict[str, Any]:
    """Every knockout, cut and edge of one (batched) host, as per-seed losses.

    `prev` and `induction` `(I, H)` mark each instance's previous-token heads (layer 0)
    and induction heads (layer 1), picked on separate sequences.
    """
    import torch

    from figures_src._induction import (
        head_outputs,
        head_scores,
        knock_out,
        loss_under,
        one_head,
        remove_from_reads,
    )
    from symbiote_core.interventions import intervene

    n_inst, n_heads = prev.shape
    outputs = head_outputs(model, batch)
    everyone = torch.ones(n_inst, n_heads, dtype=torch.bool)

    def loss(interventions: list[Any]) -> list[float]:
        return loss_under(model, batch, interventions).tolist()

    def head(h: int) -> torch.Tensor:
        return one_head(n_heads, h, n_inst)

    def alone(j: int) -> list[Any]:  # layer 1 reduced to head j
        return [knock_out(outputs, 1, ~head(j))]

    def induction_under(interventions: list[Any]) -> list[float]:
        with intervene(model, interventions):
            scores = head_scores(model, batch).induction[:, 1]  # (I, H)
        return ((scores * induction).sum(-1) / induction.sum(-1)).tolist()

    def cut(sources: torch.Tensor, readers: torch.Tensor, parts: str = "k") -> list[Any]:
        return [remove_from_reads(model, outputs, sources, readers, parts)]

    # edges[j][h]: cut layer-0 head h from layer-1 head j's keys, j alone in layer 1.
    edges = [
        [loss(alone(j) + cut(head(h), head(j))) for h in range(n_heads)] for j in range(n_heads)
    ]
    return {
        "previous_token_heads": prev.tolist(),
        "induction_heads": induction.tolist(),
        "intact": loss([]),
        "layer0": [loss([knock_out(outputs, 0, head(h))]) for h in range(n_heads)],
        "previous_token": loss([knock_out(outputs, 0, prev)]),
        "other_layer0": loss([knock_out(outputs, 0, ~prev)]),
        "all_layer0": loss([knock_out(outputs, 0, everyone)]),
        "key_cut": loss(cut(prev, everyone)),
        "query_value_cut": loss(cut(prev, everyone, "qv")),
        "intact_induction": induction_under([]),
        "key_cut_induction": induction_under(cut(prev, everyone)),
        "query_value_cut_induction": induction_under(cut(prev, everyone, "qv")),
        "layer1": [loss([knock_out(outputs, 1, head(j))]) for j in range(n_heads)],
        "all_layer1": loss([knock_out(outputs, 1, everyone)]),
        "layer1_alone": [loss(alone(j)) for j in range(n_heads)],
        "edges": edges,
        # Per layer-1 head j alone: the previous-token heads, or the other layer-0
        # heads, cut from its keys together.
        "keys_from_previous_token": [loss(alone(j) + cut(prev, head(j))) for j in range(n_heads)],
        "keys_from_others": [loss(alone(j) + cut(~prev, head(j))) for j in range(n_heads)],
    }


def _per_seed(m: dict[str, Any]) -> list[dict[str, Any]]:
    """One host's measurements regrouped by seed (lists over heads inside)."""
    n_heads = len(m["layer0"])
    rows = []
    for s, prev in enumerate(m["previous_token_heads"]):
        rows.append(
            {
                "prev": prev,
                "induction": m["induction_heads"][s],
                "intact": m["intact"][s],
                "layer0": [m["layer0"][h][s] for h in range(n_heads)],
                "layer1": [m["layer1"][j][s] for j in range(n_heads)],
                "alone": [m["layer1_alone"][j][s] for j in range(n_heads)],
                "edges": [[m["edges"][j][h][s] for h in range(n_heads)] for j in range(n_heads)],
                "all_layer1": m["all_layer1"][s],
                "from_prev": [m["keys_from_previous_token"][j][s] for j in range(n_heads)],
                "from_others": [m["keys_from_others"][j][s] for j in range(n_heads)],
            }
        )
    return rows


def _key_source_margin(row: dict[str, Any]) -> float:
    """Over the induction heads (each alone in layer 1): the loss when the previous-token
    heads are cut from its keys minus the loss when the other layer-0 heads are. Positive
    when every induction head takes its keys mainly from the previous-token heads."""
    return min(
        row["from_prev"][j] - row["from_others"][j]
        for j, is_induction in enumerate(row["induction"])
        if is_induction
    )


def _derived(m: dict[str, Any]) -> dict[str, list[float]]:
    """The per-seed numbers the prose and the claims use, for one host."""
    rows = _per_seed(m)
    return {
        "n_previous_token_heads": [sum(r["prev"]) for r in rows],
        "n_induction_heads": [sum(r["induction"]) for r in rows],
        "intact_loss": m["intact"],
        "previous_token_knockout_loss": m["previous_token"],
        "other_layer0_knockout_loss": m["other_layer0"],
        "other_layer0_single_max_loss": [
            max((v for v, p in zip(r["layer0"], r["prev"], strict=True) if not p), default=0.0)
            for r in rows
        ],
        "all_layer0_knockout_loss": m["all_layer0"],
        "key_cut_loss": m["key_cut"],
        "query_value_cut_loss": m["query_value_cut"],
        "intact_induction": m["intact_induction"],
        "key_cut_induction": m["key_cut_induction"],
        "query_value_cut_induction": m["query_value_cut_induction"],
        "single_layer1_knockout_max_loss": [max(r["layer1"]) for r in rows],
        "single_layer1_increase_sum": [sum(v - r["intact"] for v in r["layer1"]) for r in rows],
        "all_layer1_knockout_loss": m["all_layer1"],
        "all_layer1_increase": [r["all_layer1"] - r["intact"] for r in rows],
        "induction_head_alone_max_loss": [
            max(v for v, i in zip(r["alone"], r["induction"], strict=True) if i) for r in rows
        ],
        "key_source_margin": [_key_source_margin(r) for r in rows],
    }


def _values(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(_derived(data["trained"]))
    out.update({f"shuffled_{k}": v for k, v in _derived(data["shuffled"]).items()})
    for name in EXTRA:
        out[name] = data[name]
    out["previous_token_knockout_minus_control"] = [
        a - b
        for a, b in zip(out["previous_token_knockout_loss"], data["control_loss"], strict=True)
    ]
    return out


def _value(name: str) -> Any:
    return lambda d: _values(d)[name]


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


def render(data: dict[str, Any]) -> alt.HConcatChart:
    picked = alt.selection_point(name=NODE_SELECTION, fields=["node"], on="click", clear="dblclick")
    seed = alt.param(
        name=SEED_PARAM,
        value=data["seeds"][0],
        bind=alt.binding_radio(options=list(data["seeds"]), name="seed "),
    )
    return (
        alt.hconcat(_graph(data, picked, seed), _knockout_chart(data), center=True)
        # Independent legends stay with their own panel when the site stacks the panels.
        .resolve_legend(color="independent")
        .resolve_scale(color="independent")
        .configure_view(stroke=None)
        .properties(
            description="A node-link graph of the 2-layer host's heads for one seed (a radio "
            "button picks the seed), with edges weighted by the loss added when each is cut, "
            "and a chart of the loss under knockouts of single heads, groups of heads and "
            "paths, one mark per seed."
        )
    )


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


DERIVED = (
    "n_previous_token_heads",
    "n_induction_heads",
    "intact_loss",
    "previous_token_knockout_loss",
    "other_layer0_knockout_loss",
    "other_layer0_single_max_loss",
    "all_layer0_knockout_loss",
    "key_cut_loss",
    "query_value_cut_loss",
    "intact_induction",
    "key_cut_induction",
    "query_value_cut_induction",
    "single_layer1_knockout_max_loss",
    "single_layer1_increase_sum",
    "all_layer1_knockout_loss",
    "all_layer1_increase",
    "induction_head_alone_max_loss",
    "key_source_margin",
)
"""Per-seed values measured on the trained host, and again (`shuffled_` + name) on the
null host."""
EXTRA = (
    "control_loss",
    *(
        f"{host}_{measure}"
        for host in ("previous_token_knockout", "control")
        for measure in ("accuracy", "in_candidates", "top_probability")
    ),
)
"""Per-seed values stored as they are in the data."""
_WORDS = {
    "n_previous_token_heads": "layer-0 heads that score as previous-token heads",
    "n_induction_heads": "layer-1 heads that score as induction heads",
    "intact_loss": "the loss on the induction targets, nothing knocked out (nats)",
    "previous_token_knockout_loss": "the loss with the previous-token heads knocked out",
    "other_layer0_knockout_loss": "the loss with the other layer-0 heads knocked out instead",
    "other_layer0_single_max_loss": "the largest loss from knocking out one other layer-0 head",
    "all_layer0_knockout_loss": "the loss with every layer-0 head knocked out",
    "key_cut_loss": "the loss with the previous-token heads cut from layer 1's keys only",
    "query_value_cut_loss": "the loss with the previous-token heads cut from layer 1's "
    "queries and values only",
    "intact_induction": "the layer-1 heads' best induction score, nothing cut",
    "key_cut_induction": "the best induction score with the previous-token heads cut from "
    "layer 1's keys",
    "query_value_cut_induction": "the best induction score with the previous-token heads cut "
    "from layer 1's queries and values",
    "single_layer1_knockout_max_loss": "the largest loss from knocking out one layer-1 head",
    "single_layer1_increase_sum": "the loss added by knocking out each layer-1 head alone, "
    "summed",
    "all_layer1_knockout_loss": "the loss with every layer-1 head knocked out",
    "all_layer1_increase": "the loss added by knocking out every layer-1 head",
    "induction_head_alone_max_loss": "the largest loss with one induction head left alone in "
    "layer 1",
    "key_source_margin": "how much more an induction head's keys lose without the "
    "previous-token heads than without the other layer-0 heads (the smallest over heads)",
    "control_loss": "the 1-layer host's loss on the induction targets",
    "previous_token_knockout_accuracy": "accuracy on the induction targets with the "
    "previous-token heads knocked out",
    "previous_token_knockout_in_candidates": "how often the knocked-out host's pick is a token "
    "seen once before",
    "previous_token_knockout_top_probability": "the knocked-out host's mean confidence in its "
    "pick",
    "control_accuracy": "the 1-layer host's accuracy on the induction targets",
    "control_in_candidates": "how often the 1-layer host's pick is a token seen once before",
    "control_top_probability": "the 1-layer host's mean confidence in its pick",
    "previous_token_knockout_minus_control": "the loss with the previous-token heads knocked "
    "out minus the 1-layer host's loss",
}


def _describe(name: str) -> str:
    """A value's name in words; `shuffled_` names are the same measure on the null host."""
    if name.startswith("shuffled_"):
        return f"{_WORDS[name.removeprefix('shuffled_')]}, on the null host (shuffled repeats)"
    return _WORDS[name]


VALUE_NAMES = (
    *DERIVED,
    *(f"shuffled_{name}" for name in DERIVED),
    *EXTRA,
    "previous_token_knockout_minus_control",
)


PARAMS = Params()

ALT = (
    "A graph from the tokens through the layer-0 and layer-1 heads to the next token, each edge "
    "weighted by the loss cutting it adds. A bar chart of induction-target losses (nats): the "
    "intact host {{ value: induction_circuit.intact_loss | .2f mean }}, knocking out the "
    "previous-token heads {{ value: induction_circuit.previous_token_knockout_loss | .2f mean }}, "
    "cutting them from the layer-1 keys {{ value: induction_circuit.key_cut_loss | .2f mean }} but "
    "from queries and values only {{ value: induction_circuit.query_value_cut_loss | .2f mean }}, "
    "every layer-1 head {{ value: induction_circuit.all_layer1_knockout_loss | .2f mean }}, "
    "against {{ value: induction_circuit.control_loss | .2f mean }} for the 1-layer host and "
    "{{ value: induction_circuit.chance_loss | .2f }} for chance. Means over "
    "{{ value: induction_circuit.n_seeds }} seeds."

)
"""Alt text: its numbers are the figure's values, filled in by the site."""

METHODS = (
    induction_host()
    + "The 2-layer host and its 1-layer control are retrained per seed with the recipe of the "
    "heads figure (the same weights: training is bit-reproducible). **Measurement.** Mean "
    "ablations on {{ param: induction_circuit.eval_sequences }} held-out sequences, scored by the "
    "loss on the induction targets: single heads and groups knocked out, and a path ablation that "
    "removes the previous-token heads only from what the layer-1 heads read as keys. Heads are "
    "named previous-token or induction at score {{ param: induction_circuit.head_threshold }}, on "
    "{{ param: induction_circuit.selection_sequences }} separate sequences. **Graph.** An edge "
    "from the tokens to a layer-0 head is that head's knockout; from a layer-0 to a layer-1 head, "
    "removing the first from what the second reads as keys; from a layer-1 head to the output, the "
    "loss that head removes on its own; the last two with the other layer-1 heads knocked out. "
    "**Controls.** The "
    "layer-0 heads that are not the previous-token head; the same heads cut from the layer-1 "
    "queries and values instead of the keys; the 1-layer host. **Null.** Every measurement "
    "repeated on the null host: the 2-layer recipe trained on sequences whose second copy is "
    "shuffled, its heads' roles picked by the same rule. **Seeds.** "
    "{{ value: induction_circuit.n_seeds }} ({{ param: induction_circuit.seeds }})."

)
"""The methods appendix's paragraph (see `Figure.methods`)."""

FIGURE = Figure(
    title="Knockouts trace the path from the previous-token head to the induction heads",
    caption=(
        "The graph shows one seed's heads (radio buttons pick the seed). A head's colour is "
        "the loss added when it alone is knocked out (replaced by its mean output); an edge's "
        "width, the loss added when that edge alone is cut (into a layer-1 head: from its "
        "keys only, with the other layer-1 heads knocked out, since they back each other "
        "up). Right: the loss after each knockout or cut, one dot per seed (and head), "
        "against the 1-layer host's loss; the last rows give the null host. Click a head to "
        "pick out its edges; double-click to clear."
    ),
    alt=ALT,
    methods=METHODS,
    params=PARAMS,
    tuning_seeds=TUNING_SEEDS,
    tuning_note="the recipe of the heads figure (InductionConfig's defaults), chosen comparing "
    "recipes on seeds 0-9 and measured on seeds 0-19",
    compute=compute,
    render=render,
    values={
        "n_seeds": n_seeds(),
        "eval_sequences": ("held-out sequences per seed", lambda d: d["eval_sequences"]),
        "chance_loss": ("the loss of a uniform guess over the vocabulary (nats)", lambda d: d["chance_loss"]),
        "margin_nats": ("the margin the knockout claims demand (nats)", lambda d: NAT),
        **{name: (_describe(name), _value(name)) for name in VALUE_NAMES},
    },
    claims=(
        Claim(
            name="previous_token_head_needed",
            statement="Knocking out the previous-token heads costs far more than knocking "
            "out all the other layer-0 heads together.",
            left="previous_token_knockout_loss",
            op=">",
            right="other_layer0_knockout_loss",
            margin=NAT,
            control="the other three layer-0 heads knocked out together",
            why=NAT_WHY,
            null=Null(
                description=NULL_HOST,
                values={
                    "previous_token_knockout_loss": "shuffled_previous_token_knockout_loss",
                    "other_layer0_knockout_loss": "shuffled_other_layer0_knockout_loss",
                },
            ),
        ),
        Claim(
            name="previous_token_knockout_below_control",
            statement="Without its previous-token heads the 2-layer host does worse than "
            "the 1-layer host.",
            left="previous_token_knockout_loss",
            op=">",
            right="control_loss",
            control="the 1-layer host trained with the same data, steps and seeds",
            why="no margin: the question is only whether the knocked-out host is worse "
            "than the control at all, and every seed must agree",
            null=Null(
                description=NULL_HOST,
                values={"previous_token_knockout_loss": "shuffled_previous_token_knockout_loss"},
            ),
            controls=Control(
                description="the other layer-0 heads knocked out together instead (same host, "
                "same run)",
                values={"previous_token_knockout_loss": "other_layer0_knockout_loss"},
            ),
            stated="fails",
        ),
        Claim(
            name="read_as_keys",
            statement="The previous-token heads matter as keys: cut from what layer 1 "
            "reads as keys they cost far more than cut from queries and values.",
            left="key_cut_loss",
            op=">",
            right="query_value_cut_loss",
            margin=NAT,
            control="the same heads cut from layer 1's queries and values instead",
            why=NAT_WHY,
            null=Null(
                description=NULL_HOST,
                values={
                    "key_cut_loss": "shuffled_key_cut_loss",
                    "query_value_cut_loss": "shuffled_query_value_cut_loss",
                },
            ),
        ),
        Claim(
            name="layer1_needed",
            statement="Without its layer-1 heads the host loses its induction.",
            left="all_layer1_knockout_loss",
            op=">",
            right="intact_loss",
            margin=NAT,
            control="the intact host",
            why=NAT_WHY,
            null=Null(
                description=NULL_HOST,
                values={
                    "all_layer1_knockout_loss": "shuffled_all_layer1_knockout_loss",
                    "intact_loss": "shuffled_intact_loss",
                },
            ),
        ),
        Claim(
            name="layer1_heads_redundant",
            statement="Knocking out all layer-1 heads costs far more than the four single "
            "knockouts added up: the heads run in parallel and each can stand in for the "
            "others (redundancy).",
            left="all_layer1_increase",
            op=">",
            right="single_layer1_increase_sum",
            margin=NAT,
            control="the sum of the loss added by knocking out each layer-1 head alone",
            why=NAT_WHY + "; heads whose effects simply added up would give a gap near zero",
            null=Null(
                description=NULL_HOST,
                values={
                    "all_layer1_increase": "shuffled_all_layer1_increase",
                    "single_layer1_increase_sum": "shuffled_single_layer1_increase_sum",
                },
            ),
        ),
        Claim(
            name="induction_heads_key_on_previous_token_heads",
            statement="Every induction head, left alone in layer 1, loses far more when the "
            "previous-token heads are cut from its keys than when the other layer-0 heads are.",
            left="key_source_margin",
            op=">",
            right=0.0,
            margin=NAT,
            control="the other layer-0 heads cut from the same head's keys",
            why=NAT_WHY,
            null=Null(
                description=NULL_HOST,
                values={"key_source_margin": "shuffled_key_source_margin"},
            ),
            stated="fails",
        ),
    ),
)
