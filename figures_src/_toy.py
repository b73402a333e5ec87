"""The small toy host and its TopK dictionary, shared by the steering and control figures.

Both figures grow the same kind of dictionary on the same kind of host; keeping the
recipe here means a change to it reaches both. Not a figure (leading underscore).
"""

from __future__ import annotations

from typing import Any, Protocol


class ToyParams(Protocol):
    seed: int
    n_features: int
    d_hidden: int
    feature_probability: float
    host_steps: int
    dictionary_steps: int


def host_config(p: ToyParams) -> Any:
    """The host's `ToyConfig`: one instance, trained on fresh batches of 256."""
    from symbiote_core.hosts.toy import ToyConfig

    return ToyConfig(
        n_features=p.n_features,
        d_hidden=p.d_hidden,
        feature_probability=p.feature_probability,
        steps=p.host_steps,
        batch_size=256,
        lr=3e-3,
        seed=p.seed,
    )


def train_dictionary(p: ToyParams, acts: Any, n_instances: int = 1) -> Any:
    """A TopK dictionary with one atom per feature and k = the expected active count.

    `acts` is `(samples, d_hidden)`, or `(samples, n_instances, d_hidden)` for several.
    """
    from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE
    from symbiote_core.train import TrainConfig, train

    k = max(1, round(p.n_features * p.feature_probability))
    sae = TopKSAE(
        TopKConfig(d_in=p.d_hidden, d_sae=p.n_features, n_instances=n_instances, k=k, seed=p.seed)
    )
    train(
        sae,
        acts,
        TrainConfig(steps=p.dictionary_steps, batch_size=256, lr=3e-3, seed=p.seed, progress=False),
    )
    return sae
