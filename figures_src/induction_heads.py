"""Two attention layers grow a previous-token head and induction heads; one layer cannot.

The induction host (section 5) is trained on sequences whose second half repeats a
random span of random length at a random place, so that only induction predicts it.
In the same run a 1-layer host with the same recipe is trained as the control: it
cannot compose heads. The null host is the same 2-layer host trained with the same
recipe on sequences whose second copy is shuffled: it trains and works, but induction
is of no use to it. The recipe's success rate comes from the same run of the 2-layer
hosts over twenty seeds outside the tuning set (`_lab.induction.recipe_rate`). The figure shows, on one held-out sequence, the attention
pattern of a chosen layer-0 and layer-1 head of the 2-layer host, and for every head
of both hosts two symbiotes read off the attention patterns: the previous-token score
(mean attention to the token one back) and the induction score (mean attention, from a
token of the repeat, to the token that followed its first occurrence).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import altair as alt

from figures_src._lab.induction_heads_charts import HOSTS, _accuracy_chart, _heatmap, _score_chart
from figures_src._lab.induction_seeds import INDUCTION_CRITERION, SEEDS, TUNING_SEEDS
from figures_src._lab.values import n_seeds, stored
from figures_src._lab.words import induction_host
from symbiote_core.figures.authoring.spec import Claim, Control, Figure, Null

HOST_FIELDS = ("trained", "control", "shuffled", "untrained_control")
"""The `_lab.induction.Hosts` field of each of `HOSTS`."""
HOST_NAMES = ("{}_two_layers", "{}_one_layer", "shuffled_{}_two_layers", "{}_one_layer_untrained")
"""Value names of each host's measurements (`{}` the measurement), in the order of
`HOSTS`: the null host's are the 2-layer host's, prefixed by its setting
(`rules.NULL_NAMING`)."""
NULL_HOST = (
    "the null host: the same 2-layer recipe trained on sequences whose second copy is "
    "shuffled (it works, guessing among the span's unused tokens, but induction is of no "
    "use to it), scored on the same held-out sequences, same run"
)
INDUCTION_HEAD = INDUCTION_CRITERION
"""A head counts as an induction head when it puts most (over half) of its attention,
from the tokens of the repeat, on the induction key: the definition of the figures since
their first version, and the recipe's training criterion."""
PREVIOUS_TOKEN_HEAD = 0.5
"""A head counts as a previous-token head when over half its attention goes one back."""
CONFIG_VALUES = ("seq_len", "vocab_size", "min_span", "max_span", "d_model", "n_heads", "steps")
"""Host settings (fields of `InductionConfig`) that the prose quotes."""
_CONFIG_WORDS = {
    "seq_len": "tokens per training sequence",
    "vocab_size": "the hosts' vocabulary size",
    "min_span": "the shortest repeated span",
    "max_span": "the longest repeated span",
    "d_model": "the hosts' residual width",
    "n_heads": "attention heads per layer",
    "steps": "training steps of each host",
}
"""`CONFIG_VALUES` in words."""


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = SEEDS
    """Every host is trained once per seed (batched); values are per seed in this order."""
    eval_sequences: int = 256
    """Held-out sequences per seed that every score and accuracy is averaged over."""
    example_span: int = 6
    """Length of the repeated span in the example sequence drawn as heatmaps."""
    example_margin: int = 2
    """Unrepeated tokens the example keeps before and after the two copies."""


def compute(p: Params) -> dict[str, Any]:
    from figures_src._lab.induction import (
        EVALUATION_STREAM,
        accuracy,
        chance_in_candidates,
        guess_accuracy,
        head_scores,
        held_out,
        host_config,
        in_candidates,
        logits_under,
        recipe_rate,
        train_hosts,
        uniform_previous_token_score,
    )
    from symbiote_core.hosts.induction import attention_patterns, repeat_losses

    batch = held_out(p.seeds, p.eval_sequences, EVALUATION_STREAM)
    trained = train_hosts(p.seeds)
    hosts = {name: getattr(trained, field) for name, field in zip(HOSTS, HOST_FIELDS, strict=True)}
    cfg = host_config(p.seeds, 2)

    scores = []
    for name, model in hosts.items():
        prev, ind = head_scores(model, batch)  # (I, layers, heads) each
        for i, seed in enumerate(p.seeds):
            for layer in range(prev.shape[1]):
                for head in range(prev.shape[2]):
                    scores.append(
                        {
                            "seed": seed,
                            "host": name,
                            "layer": layer,
                            "head": head,
                            "label": _label(name, layer, head),
                            "previous_token": prev[i, layer, head].item(),
                            "induction": ind[i, layer, head].item(),
                        }
                    )
    logits = {name: logits_under(model, batch) for name, model in hosts.items()}
    # The heatmaps show the first seed's host on one held-out sequence of that seed.
    row = _example_row(batch, p.example_span, p.example_margin)
    patterns = attention_patterns(trained.trained, batch.tokens[:, row : row + 1])
    tokens = batch.tokens[0, row].tolist()
    cells = [
        {
            "layer": layer,
            "head": head,
            "q": q,
            "k": k,
            "q_token": tokens[q],
            "k_token": tokens[k],
            "weight": round(pattern[0, 0, head, q, k].item(), 4),
        }
        for layer, pattern in enumerate(patterns)
        for head in range(pattern.shape[2])
        for q in range(len(tokens))
        for k in range(q + 1)
    ]
    return {
        "seeds": list(p.seeds),
        "scores": scores,
        "cells": cells,
        "example": {
            "seed": p.seeds[0],
            "tokens": tokens,
            "start": int(batch.start[0, row]),
            "span": int(batch.span[0, row]),
        },
        "accuracy": {name: accuracy(out, batch).tolist() for name, out in logits.items()},
        "loss": {name: repeat_losses(out, batch).tolist() for name, out in logits.items()},
        "uniform_previous_token": uniform_previous_token_score(cfg.seq_len),
        "guess_baseline": guess_accuracy(batch, cfg.vocab_size).tolist(),
        "control_in_candidates": in_candidates(logits[HOSTS[1]], batch).tolist(),
        "untrained_control_in_candidates": in_candidates(logits[HOSTS[3]], batch).tolist(),
        "shuffled_in_candidates": in_candidates(logits[HOSTS[2]], batch).tolist(),
        "chance_in_candidates": chance_in_candidates(batch, cfg.vocab_size).tolist(),
        "targets_per_seed": int(batch.target_mask[0].sum()),
        "eval_sequences": p.eval_sequences,
        "rate": recipe_rate(p.eval_sequences),
        "config": {f: getattr(cfg, f) for f in CONFIG_VALUES},
    }


def _label(host: str, layer: int, head: int) -> str:
    return f"1-layer H{head}" if host in (HOSTS[1], HOSTS[3]) else f"L{layer} H{head}"


def _rate(data: dict[str, Any], field: str) -> Any:
    return data["rate"][field]


def _example_row(batch: Any, span: int, margin: int) -> int:
    """The first held-out sequence of the first seed with the wanted span and some
    filler on both sides."""
    seq_len = batch.tokens.shape[-1]
    for row in range(batch.tokens.shape[1]):
        start, length = int(batch.start[0, row]), int(batch.span[0, row])
        if length == span and start >= margin and start + 2 * length <= seq_len - margin:
            return row
    raise ValueError(f"no held-out sequence has span {span} with {margin} tokens either side")


def _scores(data: dict[str, Any], host: str, layer: int, metric: str) -> list[list[float]]:
    """Per seed (params order), the scores of one layer's heads."""
    return [
        [
            r[metric]
            for r in data["scores"]
            if r["seed"] == seed and r["host"] == host and r["layer"] == layer
        ]
        for seed in data["seeds"]
    ]


def _best(data: dict[str, Any], host: str, layer: int, metric: str) -> list[float]:
    return [max(heads) for heads in _scores(data, host, layer, metric)]


def _second(data: dict[str, Any], host: str, layer: int, metric: str) -> list[float]:
    """Per seed, the best score among the heads that are not the best head."""
    return [sorted(heads)[-2] for heads in _scores(data, host, layer, metric)]


def _argmax(values: list[float]) -> int:
    return max(range(len(values)), key=values.__getitem__)


def _previous_token_head(data: dict[str, Any]) -> list[int]:
    return [_argmax(heads) for heads in _scores(data, HOSTS[0], 0, "previous_token")]


def _induction_heads(data: dict[str, Any], host: str = HOSTS[0]) -> list[int]:
    """Per seed, how many layer-1 heads put most of their attention on the induction key."""
    return [sum(s > INDUCTION_HEAD for s in heads) for heads in _scores(data, host, 1, "induction")]


def render(data: dict[str, Any]) -> alt.HConcatChart:
    heatmaps = alt.vconcat(
        _heatmap(data, 0, _previous_token_head(data)[0], "Layer 0"),
        _heatmap(data, 1, _argmax(_scores(data, HOSTS[0], 1, "induction")[0]), "Layer 1"),
    ).resolve_legend(opacity="independent")  # one legend, under the lower heatmap
    summary = alt.vconcat(_score_chart(data), _accuracy_chart(data))
    # Independent legends stay beside their own panel when the site stacks the panels.
    return (
        alt.hconcat(heatmaps, summary)
        .resolve_legend(color="independent", shape="independent", opacity="independent")
        .properties(
            description="Attention heatmaps of one layer-0 and one layer-1 head on an example "
            "sequence with a repeated span, and, for every seed, the previous-token and "
            "induction scores of every head of the 2-layer host and the 1-layer control."
        )
    )


PARAMS = Params()

ALT = (
    "Two attention heatmaps of one held-out sequence (seed "
    "{{ value: induction_heads.example_seed }}, a repeated span of "
    "{{ value: induction_heads.example_span }} tokens): the layer-0 head attends one token back, "
    "the layer-1 head to the token after the current token's first occurrence. A dot plot per head "
    "and seed: the best layer-0 previous-token score is "
    "{{ value: induction_heads.best_previous_token | .2f mean }}, the best layer-1 induction score "
    "{{ value: induction_heads.best_layer1_induction | .2f mean }}, while the 1-layer control's "
    "best heads score {{ value: induction_heads.control_previous_token | .2f mean }} and "
    "{{ value: induction_heads.max_control_induction | .2f mean }}. A bar chart: the 2-layer host "
    "predicts {{ value: induction_heads.accuracy_two_layers | .0% mean }} of the repeated tokens, "
    "the 1-layer control {{ value: induction_heads.accuracy_one_layer | .0% mean }}, against a "
    "guessing line at {{ value: induction_heads.guess_baseline | .0% mean }}. Means over "
    "{{ value: induction_heads.n_seeds }} seeds."

)
"""Alt text: its numbers are the figure's values, filled in by the site."""

METHODS = (
    induction_host()
    + "**Control.** A 1-layer host trained with the same recipe in the same run: it cannot "
    "compose heads. **Symbiotes.** Two scores read off each head's attention on "
    "{{ param: induction_heads.eval_sequences }} held-out sequences: the previous-token score "
    "(mean attention to the token one back) and the induction score (mean attention from a token "
    "of the repeat to the token that followed its first occurrence). **Null.** The 2-layer host "
    "trained with the same recipe on sequences whose second copy is shuffled (it works, but "
    "induction is of no use to it), scored on the same held-out sequences; for the control's "
    "own claim, the 1-layer host untrained. **Recipe.** The 2-layer recipe's success rate: of "
    "{{ value: induction_heads.rate_n_seeds }} seeds outside the tuning seeds, "
    "{{ value: induction_heads.rate_formed }} grew an induction head (best layer-1 induction "
    "score above {{ value: induction_heads.rate_criterion }}, a criterion declared before that "
    "run). **Seeds.** {{ value: induction_heads.n_seeds }} ({{ param: induction_heads.seeds }}); "
    "claims are judged on all of them, whether or not their host met the criterion."

)
"""The methods appendix's paragraph (see `Figure.methods`)."""

FIGURE = Figure(
    title="A previous-token head in layer 0, induction heads in layer 1",
    caption=(
        "Heatmaps: the attention of one head of the first seed's 2-layer host on a held-out "
        f"sequence whose span of {PARAMS.example_span} tokens is written twice (rows: query "
        "positions; the radio buttons pick the head). The layer-0 head looks one token back; "
        "the layer-1 head, from each token of the second copy, looks at the token that "
        "followed it in the first (squares). Dots: both attention scores for every head of "
        "the 2-layer and the 1-layer host, one mark per seed, heads ranked within their layer. "
        "Bars: accuracy on the predictable tokens for both hosts and the null host (mean over "
        "seeds, one tick per seed)."
    ),
    alt=ALT,
    methods=METHODS,
    params=PARAMS,
    tuning_seeds=TUNING_SEEDS,
    tuning_note="the recipe (InductionConfig's defaults) was chosen comparing recipes on "
    "seeds 0-9 and measured on seeds 0-19",
    compute=compute,
    render=render,
    values={
        **{f: (_CONFIG_WORDS[f], lambda d, f=f: d["config"][f]) for f in CONFIG_VALUES},
        "n_seeds": n_seeds(),
        "eval_sequences": ("held-out sequences per seed", stored("eval_sequences")),
        "targets_per_seed": ("induction targets scored per seed", stored("targets_per_seed")),
        "example_span": ("the repeated span's length in the example shown", lambda d: d["example"]["span"]),
        "example_seed": ("the seed of the example shown", lambda d: d["example"]["seed"]),
        "induction_head_threshold": ("the induction score a head needs to count as an induction head", lambda d: INDUCTION_HEAD),
        "previous_token_head_threshold": ("the previous-token score a head needs to count as a previous-token head", lambda d: PREVIOUS_TOKEN_HEAD),
        "uniform_previous_token": ("the previous-token score of uniform attention", stored("uniform_previous_token")),
        # Per seed, in params order:
        **{
            name.format("accuracy"): (f"accuracy on the induction targets, host with {host}", lambda d, host=host: d["accuracy"][host])
            for name, host in zip(HOST_NAMES, HOSTS, strict=True)
        },
        **{
            name.format("loss"): (f"loss on the induction targets (nats), host with {host}", lambda d, host=host: d["loss"][host])
            for name, host in zip(HOST_NAMES, HOSTS, strict=True)
        },
        "guess_baseline": ("the accuracy of guessing a token seen once before", stored("guess_baseline")),
        "control_in_candidates": ("how often the 1-layer host picks a token seen once before", stored("control_in_candidates")),
        "untrained_control_in_candidates": ("how often the untrained 1-layer host picks a token seen once before", stored("untrained_control_in_candidates")),
        "shuffled_in_candidates": ("how often the null host (shuffled repeats) picks a token seen once before", stored("shuffled_in_candidates")),
        "chance_in_candidates": ("how often a uniformly random pick is a token seen once before", stored("chance_in_candidates")),
        "control_minus_guess": ("the 1-layer host's accuracy minus the guessing baseline", lambda d: [
            a - g for a, g in zip(d["accuracy"][HOSTS[1]], d["guess_baseline"], strict=True)
        ]),
        "layer0_previous_token_heads": ("layer-0 heads above the previous-token threshold", lambda d: [
            sum(s > PREVIOUS_TOKEN_HEAD for s in heads)
            for heads in _scores(d, HOSTS[0], 0, "previous_token")
        ]),
        "best_previous_token": ("the best previous-token score of a layer-0 head", lambda d: _best(d, HOSTS[0], 0, "previous_token")),
        "other_previous_token": ("the second-best previous-token score of a layer-0 head", lambda d: _second(d, HOSTS[0], 0, "previous_token")),
        "control_previous_token": ("the 1-layer host's best previous-token score", lambda d: _best(d, HOSTS[1], 0, "previous_token")),
        "shuffled_best_previous_token": ("the null host's best previous-token score in layer 0", lambda d: _best(d, HOSTS[2], 0, "previous_token")),
        "best_layer1_induction": ("the best induction score of a layer-1 head", lambda d: _best(d, HOSTS[0], 1, "induction")),
        "min_layer1_induction": ("the lowest induction score of a layer-1 head", lambda d: [min(h) for h in _scores(d, HOSTS[0], 1, "induction")]),
        "layer1_induction_heads": ("layer-1 heads above the induction threshold", _induction_heads),
        "max_layer0_induction": ("the best induction score of a layer-0 head", lambda d: _best(d, HOSTS[0], 0, "induction")),
        "max_control_induction": ("the 1-layer host's best induction score", lambda d: _best(d, HOSTS[1], 0, "induction")),
        "shuffled_best_layer1_induction": ("the null host's best induction score in layer 1", lambda d: _best(d, HOSTS[2], 1, "induction")),
        "shuffled_max_layer0_induction": ("the null host's best induction score in layer 0", lambda d: _best(d, HOSTS[2], 0, "induction")),
        "shuffled_induction_heads": ("the null host's layer-1 heads above the induction threshold", lambda d: _induction_heads(d, HOSTS[2])),
        # The recipe's success rate over twenty seeds outside the tuning set.
        "rate_n_seeds": ("seeds outside the tuning set the recipe's success rate is measured on", lambda d: len(_rate(d, "seeds"))),
        "rate_criterion": ("the induction score that counts as induction heads formed", lambda d: _rate(d, "criterion")),
        "rate_formed": ("of those seeds, how many formed induction heads", lambda d: sum(_rate(d, "formed"))),
        "rate_failed": ("of those seeds, how many formed none", lambda d: len(_rate(d, "formed")) - sum(_rate(d, "formed"))),
        "rate_formed_share": ("the share of those seeds that formed induction heads", lambda d: sum(_rate(d, "formed")) / len(_rate(d, "formed"))),
        "rate_lowest_best_induction": ("the lowest best induction score over those seeds", lambda d: min(_rate(d, "best_induction"))),
        "rate_lowest_accuracy": ("the lowest accuracy over those seeds", lambda d: min(_rate(d, "accuracy"))),
        "eval_seeds_formed": ("evaluation seeds that formed induction heads", lambda d: sum(
            f for s, f in zip(_rate(d, "seeds"), _rate(d, "formed"), strict=True)
            if s in d["seeds"]
        )),
    },
    claims=(
        Claim(
            name="previous_token_head",
            statement="In every seed layer 0 grows a previous-token head, which the 1-layer "
            "control does not.",
            left="best_previous_token",
            op=">",
            right="control_previous_token",
            margin=0.25,
            control="the best head of the 1-layer control (same data, steps and seeds)",
            why="a quarter of all its attention more on the previous token than the "
            "control's best head",
            null=Null(
                description=NULL_HOST,
                values={"best_previous_token": "shuffled_best_previous_token"},
            ),
        ),
        Claim(
            name="induction_in_layer1",
            statement="In every seed layer 1 holds an induction head, and no layer-0 head "
            "comes close.",
            left="best_layer1_induction",
            op=">",
            right="max_layer0_induction",
            margin=INDUCTION_HEAD,
            control="the best layer-0 head's induction score",
            why="an induction head puts over half its attention on the induction key (the "
            "definition used throughout); the margin asks layer 1 to beat layer 0 by that much",
            null=Null(
                description=NULL_HOST,
                values={
                    "best_layer1_induction": "shuffled_best_layer1_induction",
                    "max_layer0_induction": "shuffled_max_layer0_induction",
                },
            ),
        ),
        Claim(
            name="control_has_no_induction_head",
            statement="The best layer-1 head of the 2-layer host scores far higher as an "
            "induction head than any head of the 1-layer control.",
            left="best_layer1_induction",
            op=">",
            right="max_control_induction",
            margin=INDUCTION_HEAD,
            control="the 1-layer host trained with the same data, steps and seeds",
            why="the induction-head definition: over half the attention on the induction key",
            null=Null(
                description=NULL_HOST,
                values={"best_layer1_induction": "shuffled_best_layer1_induction"},
            ),
        ),
        Claim(
            name="two_layers_beat_one",
            statement="The 2-layer host predicts the repeat; the 1-layer control cannot.",
            left="accuracy_two_layers",
            op=">",
            right="accuracy_one_layer",
            margin=0.5,
            control="the 1-layer host trained with the same data, steps and seeds",
            why="right on at least half more of the targets",
            null=Null(
                description=NULL_HOST,
                values={"accuracy_two_layers": "shuffled_accuracy_two_layers"},
            ),
        ),
        Claim(
            name="control_picks_candidates",
            statement="The control has learned something: its predictions are mostly "
            "tokens that occurred once so far, far more often than a guess over the "
            "vocabulary would pick one.",
            left="control_in_candidates",
            op=">",
            right="chance_in_candidates",
            margin=0.25,
            control="a uniform guess over the whole vocabulary",
            why="a quarter of all its predictions more",
            null=Null(
                description="the 1-layer host untrained (its own initialisation, which still "
                "ranks tokens), same run and sequences",
                values={"control_in_candidates": "untrained_control_in_candidates"},
            ),
            controls=Control(
                description="the null host (2 layers, shuffled repeats) in place of the "
                "control: a working host without induction also picks tokens seen once",
                values={"control_in_candidates": "shuffled_in_candidates"},
            ),
        ),
    ),
)
