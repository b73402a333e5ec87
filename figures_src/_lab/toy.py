"""Shared by the toy-host figures: seeded streams, the host, its TopK dictionary, scores.

The superposition, steering and random-host figures grow the same kind of dictionary
on the same kind of host; keeping the recipe here means a change to it reaches all of
them. Not a figure (leading underscore). Torch is imported inside the functions, so
that importing a figure module for rendering never loads it.

Seeds: every figure runs `seeds` as batched instances. Instance i's host weights and
data come from generators seeded by `seeds[i]` alone (see `ToyConfig.instance_seeds`),
and its dictionary's initial weights from `seeds[i]` too (`DictionaryConfig.instance_seeds`), so a
seed's numbers do not depend on which other seeds run beside it (up to float rounding
of the batched matmuls).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from figures_src._lab.hosts import ToyHost

# Purposes of the random streams a figure draws, one offset each: a seed's host init
# uses `Generator().manual_seed(seed)`, so every other stream is moved well away from it
# (seeds below 1000 never collide).
ACTIVATIONS, EVALUATION, RANDOM_READERS, SHUFFLE, TARGETS, SELECTION, ROTATION = range(1, 8)


def stream(seed: int, purpose: int) -> Any:
    """A fresh torch generator for one seed and one purpose (the constants above)."""
    import torch

    return torch.Generator().manual_seed(1000 * purpose + seed)


def streams(seeds: Sequence[int], purpose: int) -> list[Any]:
    """One generator per seed, for data drawn per instance."""
    return [stream(s, purpose) for s in seeds]


class ToyParams(Protocol):
    seeds: tuple[int, ...]
    host: ToyHost
    dictionary_steps: int
    dictionary_lr: float


def host_config(p: ToyParams, seeds: Sequence[int] | None = None, **overrides: Any) -> Any:
    """The hosts' `ToyConfig` from `p.host`: one instance per seed, trained on fresh batches."""
    from symbiote_core.hosts.toy import ToyConfig

    seeds = list(p.seeds if seeds is None else seeds)
    host = p.host
    fields: dict[str, Any] = dict(
        n_features=host.n_features,
        d_hidden=host.d_hidden,
        n_instances=len(seeds),
        feature_probability=host.feature_probability,
        steps=host.steps,
        batch_size=host.batch_size,
        lr=host.lr,
        seed=seeds[0],
        instance_seeds=seeds,
    )
    return ToyConfig(**(fields | overrides))


def train_dictionary(
    p: ToyParams,
    acts: Any,
    seeds: Sequence[int],
    *,
    d_sae: int | None = None,
    k: int | Sequence[int] | None = None,
) -> Any:
    """A TopK dictionary per instance of `acts` `(samples, n_instances, d_hidden)`.

    `d_sae` defaults to one atom per feature and `k` to the expected number of active
    features; `seeds` (one per instance) seed each instance's initial weights.
    """
    from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE
    from symbiote_core.train import TrainConfig, train

    host = p.host
    k = max(1, round(host.n_features * host.feature_probability)) if k is None else k
    cfg = TopKConfig(
        d_in=host.d_hidden,
        d_sae=host.n_features if d_sae is None else d_sae,
        n_instances=acts.shape[1],
        k=tuple(k) if isinstance(k, Sequence) else k,
        instance_seeds=tuple(seeds),
    )
    sae = TopKSAE(cfg)
    train(
        sae,
        acts,
        TrainConfig(
            steps=p.dictionary_steps,
            batch_size=256,
            lr=p.dictionary_lr,
            seed=seeds[0],
            progress=False,
        ),
    )
    return sae


def shuffle_coordinates(acts: Any, generators: Sequence[Any]) -> Any:
    """Permute each hidden coordinate independently across samples, per instance.

    `acts` is `(samples, n_instances, d)`. Each coordinate keeps its distribution, but
    which coordinates are large together (the feature directions) is destroyed: the
    null on which a dictionary should find nothing.
    """
    import torch

    out = []
    for i, g in enumerate(generators):
        a = acts[:, i]  # (samples, d)
        order = torch.rand(a.shape, generator=g).argsort(0)
        out.append(a.gather(0, order))
    return torch.stack(out, dim=1)


def match_scores(readers: Any, true: Any, threshold: float) -> dict[str, float]:
    """How well unit `readers` `(n_r, d)` match `true` directions `(n_t, d)`.

    - `mmcs`: mean over true features of the best cosine any reader offers.
    - `mcc`: mean cosine over the pairs of the best one-to-one matching (Hungarian), as
      SAELens defines it: it averages min(n_r, n_t) pairs, so a reader with fewer
      directions than features is not judged on the features it cannot cover.
    - `coverage`: matched pairs with cosine >= `threshold`, over true features; at most
      `cap` = min(n_r, n_t) / n_t by arithmetic.
    """
    from scipy.optimize import linear_sum_assignment

    from symbiote_core.metrics import cosine_matrix

    cos = cosine_matrix(readers, true)  # (n_r, n_t)
    rows, cols = linear_sum_assignment(cos.numpy(), maximize=True)
    matched = cos.numpy()[rows, cols]
    n_true = true.shape[0]
    return {
        "mmcs": cos.max(0).values.mean().item(),
        "mcc": float(matched.mean()),
        "coverage": float((matched >= threshold).sum() / n_true),
        "cap": min(readers.shape[0], n_true) / n_true,
    }


def splice_recovered(
    host: Any, x: Any, recon: Any, instances: Sequence[int]
) -> dict[str, list[float]]:
    """How much of the host's loss dictionaries win back, spliced in place of its hidden layer.

    `x` are held-out features `(samples, host instances, n_features)`; `recon` is the
    dictionaries' reconstruction of `host.hidden(x)[:, instances]`, `(samples,
    len(instances), d_hidden)`: dictionary j reads host instance `instances[j]`.
    Per dictionary:
    - `recovered`: `metrics.loss_recovered` of the host's own loss (importance-weighted
      MSE to `x`), against replacing h by its mean over `x`;
    - `output_recovered`: the same share of the (importance-weighted) squared distance
      to the host's clean output, which needs no loss gap: the measure for an untrained
      host, whose mean-ablated loss may be no worse than its clean one (as `_lab.reading`'s
      KL recovered is on an untrained transformer).
    """
    import torch

    from symbiote_core.metrics import splice_loss_recovered_instances

    with torch.no_grad():
        clean_out = host(x)

    def judged(loss_fn: Any) -> list[float]:
        losses = splice_loss_recovered_instances(
            host, "hook_hidden", recon, x, loss_fn, instances, instance_dim=1
        )
        return losses.recovered

    return {
        "recovered": judged(lambda out, x: host.loss(x, out)),
        "output_recovered": judged(lambda out, x: host.loss(clean_out, out)),
    }
