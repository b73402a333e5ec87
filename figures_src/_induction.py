"""What the induction figures share: the host, its evaluation batch, head scores, knockouts.

Not a figure (the leading underscore keeps it out of the registry); the figure modules
import it inside `compute`, because it imports torch and `render` must not.

A knockout here is a *mean ablation*: a head's output (`blocks.{l}.attn.hook_z`, before
W_O) is replaced by its average over the evaluation batch at the same position. Why
the mean and not zero: zero is a value the head never outputs, so a zero ablation also
measures how the rest of the host copes with an input it never saw; the mean removes
what the head says about *this* sequence and keeps what it says about every sequence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch

from symbiote_core.hosts.induction import (
    Batch,
    InductionConfig,
    InductionModel,
    attention_patterns,
    induction_score,
    make_batch,
    previous_token_score,
    repeat_accuracy,
    train_induction,
)
from symbiote_core.interventions import Intervention, intervene, replace
from symbiote_core.sites import HookFn, collect

Heads = dict[int, list[int]]
"""Which heads to knock out: layer -> head indices."""


def host_config(seed: int, n_layers: int) -> InductionConfig:
    """The host of section 5: the library's default recipe (1,000 steps).

    Why the default step count: at 700 steps one seed in three (seed 2) had not yet
    formed the circuit, so fewer steps would make the figures depend on luck.
    """
    return InductionConfig(n_layers=n_layers, seed=seed)


def train_host(seed: int, n_layers: int) -> InductionModel:
    model, _ = train_induction(host_config(seed, n_layers))
    return model


def evaluation_batch(seed: int, size: int) -> Batch:
    """Held-out sequences from their own generator, apart from the training stream."""
    cfg = host_config(seed, n_layers=2)  # the data do not depend on the layer count
    return make_batch(cfg, size, torch.Generator().manual_seed(10_000 + seed))


def head_scores(model: InductionModel, batch: Batch) -> list[dict[str, float | int]]:
    """One row per head: layer, head, previous-token score, induction score."""
    rows: list[dict[str, float | int]] = []
    for layer, pattern in enumerate(attention_patterns(model, batch.tokens)):
        prev, ind = previous_token_score(pattern), induction_score(pattern, batch)
        for head in range(pattern.shape[1]):
            rows.append(
                {
                    "layer": layer,
                    "head": head,
                    "previous_token": prev[head].item(),
                    "induction": ind[head].item(),
                }
            )
    return rows


def uniform_previous_token_score(seq_len: int) -> float:
    """What a head that spreads its attention evenly over the past scores: mean 1/(q+1)."""
    return sum(1 / (q + 1) for q in range(1, seq_len)) / (seq_len - 1)


def head_outputs(model: InductionModel, batch: Batch) -> list[torch.Tensor]:
    """Each layer's per-head outputs `(batch, seq, heads, d_head)`, read at `hook_z`."""
    sites = [f"blocks.{layer}.attn.hook_z" for layer in range(len(model.blocks))]
    store = collect(model, sites, batch.tokens)
    return [store[site] for site in sites]


def knock_out(outputs: Sequence[torch.Tensor], heads: Heads) -> list[Intervention]:
    """Mean-ablate `heads`: their `hook_z` becomes the batch mean at each position.

    `outputs` are the clean run's per-head outputs (`head_outputs`) on the batch that
    the knockout will be evaluated on.
    """
    return [
        Intervention(f"blocks.{layer}.attn.hook_z", _set_heads(outputs[layer].mean(0), chosen))
        for layer, chosen in heads.items()
        if chosen
    ]


def _set_heads(mean: torch.Tensor, heads: Sequence[int]) -> HookFn:
    """Hook that replaces the given heads of a `(batch, seq, heads, d_head)` tensor."""
    index = list(heads)

    def edit(z: torch.Tensor) -> torch.Tensor:
        z = z.clone()  # a new tensor: editing in place would leak into other readers
        z[:, :, index] = mean[:, index]  # mean: (seq, heads, d_head)
        return z

    return replace(edit)


def remove_from_reads(
    model: InductionModel,
    outputs: Sequence[torch.Tensor],
    source: tuple[int, int],
    reader_layer: int,
    reader_heads: Iterable[int],
    parts: str = "k",
) -> Intervention:
    """Path ablation: mean-ablate head `source` = (layer, head) only where the given
    heads of `reader_layer` read it as query, key or value (`parts`, e.g. "k" or "qv").
    `outputs` are the clean run's per-head outputs (`head_outputs`) on the batch the
    intervention will run on.

    The host is linear up to each softmax (no MLP, no LayerNorm), so the source head's
    contribution to a reader's q, k or v is exactly `W_{q,k,v} W_O^h (z_h - mean z_h)`
    away from its mean; subtracting it at the reader's `W_QKV` output leaves every other
    path from the source head (to other readers, to the logits) as it was.
    """
    layer, head = source
    if reader_layer <= layer:
        raise ValueError(f"layer {reader_layer} cannot read head {source}: it comes before")
    attn = model.blocks[layer].attn
    d_model, d_head = attn.W_O.weight.shape[0], attn.d_head
    z = outputs[layer][:, :, head]  # (batch, seq, d_head), from the clean run
    w_o = attn.W_O.weight[:, head * d_head : (head + 1) * d_head]  # (d_model, d_head)
    delta = (z - z.mean(0)) @ w_o.T  # (batch, seq, d_model): what this sequence adds
    w_qkv = model.blocks[reader_layer].attn.W_QKV.weight.detach()  # (3 d_model, d_model)
    rows = [
        "qkv".index(part) * d_model + h * d_head + i
        for part in parts
        for h in reader_heads
        for i in range(d_head)
    ]
    correction = torch.zeros(*delta.shape[:2], 3 * d_model)
    correction[..., rows] = delta @ w_qkv[rows].T
    site = f"blocks.{reader_layer}.attn.W_QKV"
    return Intervention(site, replace(lambda qkv: qkv - correction))


def accuracy_under(
    model: InductionModel, batch: Batch, interventions: Iterable[Intervention]
) -> float:
    """Accuracy on the repeated span with the interventions applied."""
    with intervene(model, interventions):
        return repeat_accuracy(model, batch)


def scores_under(
    model: InductionModel, batch: Batch, interventions: Iterable[Intervention], layer: int
) -> torch.Tensor:
    """Induction score `(heads,)` of one layer with the interventions applied."""
    with intervene(model, interventions):
        pattern = attention_patterns(model, batch.tokens)[layer]
    return induction_score(pattern, batch)
