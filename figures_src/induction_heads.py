"""Two attention layers grow a previous-token head and induction heads; one layer cannot.

The induction host (section 5) is trained on sequences whose second half repeats a
random span of random length at a random place, so that only induction predicts it.
In the same run a 1-layer host with the same recipe is trained as the control: it
cannot compose heads. The figure shows, on one held-out sequence, the attention
pattern of a chosen layer-0 and layer-1 head of the 2-layer host, and for every head
of both hosts two symbiotes read off the attention patterns: the previous-token score
(mean attention to the token one back) and the induction score (mean attention, from a
token of the repeat, to the token that followed its first occurrence).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import altair as alt

from symbiote_core.figures.spec import Claim, Figure

HOSTS = ("2 layers", "1 layer")
METRICS = ("previous-token score", "induction score")
METRIC_COLORS = ("#ef6c00", "#00897b")
SPAN_COLOR = "#e91e63"  # bright enough for the dark theme too
CELL_COLOR = "#00897b"
CONFIG_VALUES = ("seq_len", "vocab_size", "min_span", "max_span", "d_model", "n_heads", "steps")
"""Host settings (fields of `InductionConfig`) that the prose quotes."""


@dataclass(frozen=True)
class Params:
    seed: int = 0
    eval_sequences: int = 512
    """Held-out sequences that every score and accuracy is averaged over."""
    example_span: int = 9
    """Length of the repeated span in the example sequence drawn as heatmaps."""
    example_margin: int = 2
    """Unrepeated tokens the example keeps before and after the two copies."""


def compute(p: Params) -> dict[str, Any]:
    from figures_src._induction import (
        evaluation_batch,
        head_scores,
        host_config,
        train_host,
        uniform_previous_token_score,
    )
    from symbiote_core.hosts.induction import attention_patterns, repeat_accuracy

    batch = evaluation_batch(p.seed, p.eval_sequences)
    hosts = {
        name: train_host(p.seed, n_layers) for name, n_layers in zip(HOSTS, (2, 1), strict=True)
    }
    host, control = hosts[HOSTS[0]], hosts[HOSTS[1]]

    scores = [
        dict(row, host=name, label=_label(name, row["layer"], row["head"]))
        for name, model in hosts.items()
        for row in head_scores(model, batch)
    ]
    row = _example_row(batch, p.example_span, p.example_margin)
    patterns = attention_patterns(host, batch.tokens[row : row + 1])
    tokens = batch.tokens[row].tolist()
    cells = [
        {
            "layer": layer,
            "head": head,
            "q": q,
            "k": k,
            "q_token": tokens[q],
            "k_token": tokens[k],
            "weight": round(pattern[0, head, q, k].item(), 4),
        }
        for layer, pattern in enumerate(patterns)
        for head in range(pattern.shape[1])
        for q in range(len(tokens))
        for k in range(q + 1)
    ]
    guess, in_candidates = _control_guessing(control, batch)
    return {
        "scores": scores,
        "cells": cells,
        "example": {
            "tokens": tokens,
            "start": int(batch.start[row]),
            "span": int(batch.span[row]),
        },
        "accuracy": {name: repeat_accuracy(model, batch) for name, model in hosts.items()},
        "uniform_previous_token": uniform_previous_token_score(len(tokens)),
        "guess_baseline": guess,
        "control_in_candidates": in_candidates,
        "eval_sequences": p.eval_sequences,
        "config": {f: getattr(host_config(p.seed, 2), f) for f in CONFIG_VALUES},
    }


def _label(host: str, layer: int, head: int) -> str:
    return f"L{layer} H{head}" if host == HOSTS[0] else f"1-layer H{head}"


def _example_row(batch: Any, span: int, margin: int) -> int:
    """The first held-out sequence with the wanted span and some filler on both sides."""
    seq_len = batch.tokens.shape[1]
    for row in range(batch.tokens.shape[0]):
        start, length = int(batch.start[row]), int(batch.span[row])
        if length == span and start >= margin and start + 2 * length <= seq_len - margin:
            return row
    raise ValueError(f"no held-out sequence has span {span} with {margin} tokens either side")


def _control_guessing(model: Any, batch: Any) -> tuple[float, float]:
    """How well a uniform guess among the earlier tokens that occurred once would do, and
    how often the model's own prediction is one of those tokens.

    Why: a host that cannot do induction can still rule out tokens that have not occurred
    and tokens that already repeated; this is the accuracy that trick alone buys.
    """
    import torch
    import torch.nn.functional as F

    vocab = model.cfg.vocab_size
    counts = F.one_hot(batch.tokens, vocab).cumsum(dim=1)  # (B, T, vocab): seen up to q
    candidates = counts == 1  # (B, T, vocab): occurred exactly once so far
    with torch.no_grad():
        prediction = model(batch.tokens).argmax(dim=-1)  # (B, T)
    chosen = candidates.gather(-1, prediction[..., None])[..., 0]  # (B, T)
    mask = batch.target_mask
    guess = (1.0 / candidates.sum(-1).float())[mask].mean().item()
    return guess, chosen[mask].float().mean().item()


def _scores(data: dict[str, Any], host: str, layer: int, metric: str) -> list[float]:
    return [r[metric] for r in data["scores"] if r["host"] == host and r["layer"] == layer]


def _argmax(values: list[float]) -> int:
    return max(range(len(values)), key=values.__getitem__)


def _previous_token_head(data: dict[str, Any]) -> int:
    return _argmax(_scores(data, HOSTS[0], 0, "previous_token"))


def _induction_head(data: dict[str, Any]) -> int:
    return _argmax(_scores(data, HOSTS[0], 1, "induction"))


def _other_previous_token(data: dict[str, Any]) -> float:
    scores = _scores(data, HOSTS[0], 0, "previous_token")
    return max(s for h, s in enumerate(scores) if h != _previous_token_head(data))


def render(data: dict[str, Any]) -> alt.HConcatChart:
    heatmaps = alt.vconcat(
        _heatmap(data, 0, _previous_token_head(data), "Layer 0"),
        _heatmap(data, 1, _induction_head(data), "Layer 1"),
    ).resolve_legend(opacity="independent")  # one legend, under the lower heatmap
    summary = alt.vconcat(_score_chart(data), _accuracy_chart(data))
    # Independent legends stay beside their own panel when the site stacks the panels.
    return (
        alt.hconcat(heatmaps, summary)
        .resolve_legend(color="independent", shape="independent", opacity="independent")
        .properties(
            description="Attention heatmaps of one layer-0 and one layer-1 head on an example "
            "sequence with a repeated span, and the previous-token and induction scores of "
            "every head of the 2-layer host and the 1-layer control."
        )
    )


def _heatmap(data: dict[str, Any], layer: int, default: int, title: str) -> alt.LayerChart:
    """One head's attention on the example; the head is picked with radio buttons."""
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
        .mark_rect(color=CELL_COLOR)
        .encode(
            x=x,
            x2="x1:Q",
            y=y,
            y2="y1:Q",
            # Opacity, not a colour ramp: zero attention shows the page behind it, so the
            # heatmap reads the same on the light and the dark theme.
            opacity=alt.Opacity(
                "weight:Q",
                scale=alt.Scale(domain=[0, 1], range=[0, 1]),
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
        .mark_rect(fill=None, stroke=SPAN_COLOR, strokeWidth=1.5, strokeDash=[4, 2])
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
        .mark_point(shape="square", size=70, color=SPAN_COLOR, strokeWidth=1.2)
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


def _score_chart(data: dict[str, Any]) -> alt.LayerChart:
    rows = [
        {"label": r["label"], "host": r["host"], "metric": metric, "score": r[field]}
        for r in data["scores"]
        for metric, field in zip(METRICS, ("previous_token", "induction"), strict=True)
    ]
    order = [r["label"] for r in data["scores"]]
    y = alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=120))
    dots = (
        alt.Chart(alt.Data(values=rows))
        .mark_point(filled=True, size=70, opacity=0.9)
        .encode(
            x=alt.X("score:Q", scale=alt.Scale(domain=[0, 1]), title="score"),
            y=y,
            color=alt.Color(
                "metric:N",
                scale=alt.Scale(domain=list(METRICS), range=list(METRIC_COLORS)),
                legend=alt.Legend(title=None, orient="top", direction="horizontal"),
            ),
            shape=alt.Shape(
                "metric:N",
                scale=alt.Scale(domain=list(METRICS), range=["circle", "diamond"]),
                legend=None,
            ),
            tooltip=["host:N", "label:N", "metric:N", alt.Tooltip("score:Q", format=".3f")],
        )
    )
    uniform = (
        alt.Chart(alt.Data(values=[{"score": data["uniform_previous_token"]}]))
        .mark_rule(color=METRIC_COLORS[0], strokeDash=[3, 3], opacity=0.7)
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
            subtitle="dashed: previous-token score of a uniform head",
        ),
    )


def _accuracy_chart(data: dict[str, Any]) -> alt.LayerChart:
    bars = [{"host": host, "accuracy": data["accuracy"][host]} for host in HOSTS]
    y = alt.Y("host:N", sort=list(HOSTS), title=None, axis=alt.Axis(labelLimit=120))
    chart = (
        alt.Chart(alt.Data(values=bars))
        .mark_bar(color="#607d8b", height=16)
        .encode(
            x=alt.X("accuracy:Q", scale=alt.Scale(domain=[0, 1]), title="accuracy on the repeat"),
            y=y,
            tooltip=["host:N", alt.Tooltip("accuracy:Q", format=".3f")],
        )
    )
    guess = (
        alt.Chart(alt.Data(values=[{"accuracy": data["guess_baseline"]}]))
        .mark_rule(color="#888", strokeDash=[3, 3])
        .encode(
            x="accuracy:Q",
            tooltip=[
                alt.Tooltip("accuracy:Q", format=".3f", title="guessing among tokens seen once")
            ],
        )
    )
    return (chart + guess).properties(
        width=230,
        height=60,
        title=alt.Title(
            "Next-token accuracy",
            subtitle="dashed: guessing among tokens seen once",
        ),
    )


PARAMS = Params()

FIGURE = Figure(
    title="A previous-token head in layer 0, induction heads in layer 1",
    caption=(
        "The heatmaps show the attention of one head of the 2-layer host on a held-out sequence whose "
        f"span of {PARAMS.example_span} tokens is written twice; each row is a query "
        "position, each column a position it can attend to (the radio buttons pick the "
        "head). The layer-0 head looks one token back; the layer-1 head looks, from each "
        "token of the second copy, at the token that followed the same token in the "
        "first copy (squares). The dot plot gives two attention scores for every head of the 2-layer "
        "host and of a 1-layer host trained the same way, averaged over "
        f"{PARAMS.eval_sequences} held-out sequences, and both hosts' accuracy on the "
        "predictable tokens of the second copy."
    ),
    alt=(
        "Two heatmaps. The layer-0 head's attention lies on the line just below the "
        "diagonal; the layer-1 head's attention, inside the dashed block, lies on a line "
        "offset by the span length, through the marked squares. A dot plot shows one "
        "layer-0 head with a high previous-token score, all layer-1 heads with induction "
        "scores near one, and every head of the 1-layer control low on both. A bar chart "
        "shows the 2-layer host near perfect accuracy and the control far below."
    ),
    params=PARAMS,
    compute=compute,
    render=render,
    values={
        **{f: (lambda d, f=f: d["config"][f]) for f in CONFIG_VALUES},
        "eval_sequences": lambda d: d["eval_sequences"],
        "example_span": lambda d: d["example"]["span"],
        "accuracy_two_layers": lambda d: d["accuracy"][HOSTS[0]],
        "accuracy_one_layer": lambda d: d["accuracy"][HOSTS[1]],
        "guess_baseline": lambda d: d["guess_baseline"],
        "control_in_candidates": lambda d: d["control_in_candidates"],
        "uniform_previous_token": lambda d: d["uniform_previous_token"],
        "previous_token_head": _previous_token_head,
        "best_previous_token": lambda d: max(_scores(d, HOSTS[0], 0, "previous_token")),
        "other_previous_token": _other_previous_token,
        "induction_head": _induction_head,
        "min_layer1_induction": lambda d: min(_scores(d, HOSTS[0], 1, "induction")),
        "max_layer1_induction": lambda d: max(_scores(d, HOSTS[0], 1, "induction")),
        "max_layer0_induction": lambda d: max(_scores(d, HOSTS[0], 0, "induction")),
        "max_control_induction": lambda d: max(_scores(d, HOSTS[1], 0, "induction")),
        "max_control_previous_token": lambda d: max(_scores(d, HOSTS[1], 0, "previous_token")),
    },
    claims=(
        Claim(
            name="previous_token_head",
            statement="One layer-0 head attends to the previous token far more than a "
            "head spreading its attention evenly would.",
            left="best_previous_token",
            op=">",
            right="uniform_previous_token",
            margin=0.5,
        ),
        Claim(
            name="induction_in_layer1",
            statement="Every layer-1 head is an induction head; no layer-0 head is.",
            left="min_layer1_induction",
            op=">",
            right="max_layer0_induction",
            margin=0.6,
        ),
        Claim(
            name="control_has_no_induction_head",
            statement="Every layer-1 head of the 2-layer host scores far higher as an "
            "induction head than any head of the 1-layer control.",
            left="min_layer1_induction",
            op=">",
            right="max_control_induction",
            margin=0.5,
        ),
        Claim(
            name="two_layers_beat_one",
            statement="The 2-layer host predicts the repeat; the 1-layer control cannot.",
            left="accuracy_two_layers",
            op=">",
            right="accuracy_one_layer",
            margin=0.5,
        ),
        Claim(
            name="control_beats_guessing",
            statement="The control is not at chance either: it beats a uniform guess "
            "among the tokens seen once so far.",
            left="accuracy_one_layer",
            op=">",
            right="guess_baseline",
            margin=0.05,
        ),
    ),
)
