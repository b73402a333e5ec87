"""Host settings, one frozen dataclass per host family, composed into figures' `Params`.

A figure writes `host: ToyHost = ToyHost(...)` and its methods quote
`{{ param: NAME.host.n_features }}`; the methods table lists the nested fields
(`host.n_features`) with the docstrings below. The modular-addition family's settings
are `figures_src._lab.modadd.HostParams` (beside its training code; not re-exported here, so
that a toy figure's key does not follow the modular-addition module); the induction
hosts are quoted from the library's `InductionConfig` defaults (`words.INDUCTION_HOST`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ToyHost:
    """The toy model of superposition a figure trains, one per seed."""

    n_features: int = 256
    """Sparse ground-truth features of the toy host."""
    d_hidden: int = 32
    """Width of the host's hidden layer, into which the features are compressed."""
    feature_probability: float = 0.01
    """Probability that each feature is active on an input (active values uniform on [0, 1])."""
    steps: int = 300
    """Adam steps training the host, each on a fresh batch."""
    lr: float = 1e-2
    """The host's Adam learning rate."""
    batch_size: int = 256
    """Fresh inputs in each of the host's training batches."""
