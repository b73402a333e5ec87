"""Measurements of the induction circuit figure: path patching and head knockouts on each
host, their per-seed summaries, and what each value is in words.
"""

from __future__ import annotations

from typing import Any


def _measure(model: Any, batch: Any, prev: Any, induction: Any) -> dict[str, Any]:
    """Every knockout, cut and edge of one (batched) host, as per-seed losses.

    `prev` and `induction` `(I, H)` mark each instance's previous-token heads (layer 0)
    and induction heads (layer 1), picked on separate sequences.
    """
    import torch

    from figures_src._lab.induction import (
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
    "single_layer1_increase_sum": "the loss added by knocking out each layer-1 head alone, summed",
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
    "previous_token_knockout_top_probability": "the knocked-out host's mean confidence in its pick",
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
