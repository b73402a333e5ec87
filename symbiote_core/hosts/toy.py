"""Toy model of superposition (Elhage et al. 2022, "Toy Models of Superposition").

n sparse, non-negative features x are squeezed into d_hidden < n dims and read back:

    h     = W x                 # the hidden activation, site `hook_hidden`
    x_hat = ReLU(W^T h + b)     # site `hook_out`

`hidden_activation="relu"` gives the hidden layer a privileged basis, as in the
paper's section on superposition in a privileged basis: `h = ReLU(W x)`. The linear
host is rotation-symmetric (rotating W's hidden space changes nothing it computes),
so its neuron axes are an arbitrary frame; the ReLU breaks that symmetry, so there
the neurons are a basis the host itself singles out.

trained with an importance-weighted MSE on fresh samples every step. When features
are sparse enough, W represents more features than it has dims ("superposition"):
5 features in 2 dims at feature probability 0.05-0.1 form a pentagon.

Several independent hosts ("instances", e.g. one per sparsity level) train together
in one set of tensors: every tensor carries a leading or second `instance` axis.
Batching them is how this runs fast on one CPU thread; the instances never interact
(the loss is a sum over instances, so each instance's gradient is its own).

Shapes: x and x_hat are `(batch, n_instances, n_features)`, h is
`(batch, n_instances, d_hidden)`, W is `(n_instances, n_features, d_hidden)`:
row `W[i, f]` is feature f's direction in instance i's hidden space (the column of
W in the paper's `h = W x` notation).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm  # not tqdm.auto: in a notebook it warns without ipywidgets

from symbiote_core.hosts import TrainLog

Correlation = Literal["none", "correlated", "anticorrelated"]
HiddenActivation = Literal["linear", "relu"]


@dataclass
class ToyConfig:
    """Configuration of a (batch of) toy superposition host(s) and its training."""

    n_features: int = 5
    """Number of sparse input features n."""

    d_hidden: int = 2
    """Width m of the hidden bottleneck; superposition needs m < n."""

    n_instances: int = 1
    """Independent hosts trained together in one set of tensors."""

    feature_probability: float | Sequence[float] = 0.05
    """Probability that each feature is non-zero: one value for all instances, or one
    per instance (a sparsity sweep). Active features are uniform on [0, 1]."""

    importance: float | Sequence[float] = 1.0
    """Per-feature weight in the loss: a float r means importance_f = r**f (geometric
    decay, 1.0 for equal importance); a sequence gives one weight per feature."""

    correlation: Correlation = "none"
    """"none": features fire independently. "correlated": features (2k, 2k+1) always
    fire together. "anticorrelated": at most one of (2k, 2k+1) fires. Either way each
    feature's own firing probability stays `feature_probability`. Pairs need an even
    `n_features`; anticorrelated pairs need `feature_probability <= 0.5`."""

    steps: int = 5_000
    """Optimiser steps, each on a fresh batch."""

    batch_size: int = 1024
    """Samples per step."""

    lr: float = 1e-3
    """Adam learning rate (constant)."""

    log_every: int = 100
    """Record the loss every this many steps (and at the last step)."""

    hidden_activation: HiddenActivation = "linear"
    """"linear": h = W x (no privileged basis). "relu": h = ReLU(W x), a privileged basis."""

    seed: int = 0
    """Seeds initialisation and data; same seed, same bits (on one thread)."""

    instance_seeds: Sequence[int] | None = None
    """One seed per instance, overriding `seed`: instance i's initial weights and its
    training data come from its own generator, so a seed's host is the same whichever
    other seeds train beside it (up to float rounding of the batched matmuls)."""

    def __post_init__(self) -> None:
        for name in ("n_features", "d_hidden", "n_instances", "steps", "batch_size", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"ToyConfig.{name} must be >= 1, got {getattr(self, name)}")
        probs = self.probabilities()
        if len(probs) != self.n_instances:
            raise ValueError(
                f"ToyConfig.feature_probability has {len(probs)} values for "
                f"{self.n_instances} instances; give one float or one per instance"
            )
        if any(not 0.0 < p <= 1.0 for p in probs):
            raise ValueError(f"ToyConfig.feature_probability must be in (0, 1], got {probs}")
        weights = self.importances()
        if len(weights) != self.n_features:
            raise ValueError(
                f"ToyConfig.importance has {len(weights)} values for {self.n_features} "
                "features; give one decay factor or one weight per feature"
            )
        if any(w <= 0 for w in weights):
            raise ValueError(f"ToyConfig.importance must be positive, got {weights}")
        if self.correlation not in ("none", "correlated", "anticorrelated"):
            raise ValueError(
                f"ToyConfig.correlation must be 'none', 'correlated' or 'anticorrelated', "
                f"got {self.correlation!r}"
            )
        if self.correlation != "none" and self.n_features % 2:
            raise ValueError(
                f"ToyConfig.correlation={self.correlation!r} pairs features (2k, 2k+1), "
                f"so n_features must be even, got {self.n_features}"
            )
        if self.correlation == "anticorrelated" and max(probs) > 0.5:
            raise ValueError(
                "ToyConfig.correlation='anticorrelated' fires one feature of a pair with "
                f"probability 2p, so feature_probability must be <= 0.5, got {probs}"
            )
        if self.lr <= 0:
            raise ValueError(f"ToyConfig.lr must be positive, got {self.lr}")
        if self.hidden_activation not in ("linear", "relu"):
            raise ValueError(
                f"ToyConfig.hidden_activation must be 'linear' or 'relu', "
                f"got {self.hidden_activation!r}"
            )
        if self.instance_seeds is not None:
            self.instance_seeds = tuple(int(s) for s in self.instance_seeds)
            if len(self.instance_seeds) != self.n_instances:
                raise ValueError(
                    f"ToyConfig.instance_seeds has {len(self.instance_seeds)} seeds for "
                    f"{self.n_instances} instances; give one per instance or None"
                )

    def generators(self) -> list[torch.Generator] | None:
        """One fresh generator per instance from `instance_seeds`, or None without them."""
        if self.instance_seeds is None:
            return None
        return [torch.Generator().manual_seed(s) for s in self.instance_seeds]

    def probabilities(self) -> list[float]:
        """Feature probability of each instance."""
        p = self.feature_probability
        return [float(p)] * self.n_instances if isinstance(p, int | float) else list(p)

    def importances(self) -> list[float]:
        """Loss weight of each feature."""
        r = self.importance
        if isinstance(r, int | float):
            return [float(r) ** f for f in range(self.n_features)]
        return [float(w) for w in r]


class ToyModel(nn.Module):
    """`n_instances` toy hosts `x_hat = ReLU(W^T W x + b)` held in one set of tensors.

    Hook points (module paths): `hook_hidden` sees h `(batch, n_instances, d_hidden)`;
    `hook_out` sees x_hat `(batch, n_instances, n_features)`. Replacing h at
    `hook_hidden` changes the output, so steering there works.
    """

    def __init__(
        self, cfg: ToyConfig, generator: torch.Generator | Sequence[torch.Generator] | None = None
    ) -> None:
        super().__init__()
        self.cfg = cfg
        n, m, k = cfg.n_features, cfg.d_hidden, cfg.n_instances
        self.W = nn.Parameter(torch.empty(k, n, m))  # (inst, features, hidden)
        for i in range(k):
            # Xavier on each instance's own (n, m) matrix: the fan-in/out of one host,
            # not of the stacked tensor.
            gen = generator[i] if isinstance(generator, Sequence) else generator
            nn.init.xavier_normal_(self.W.data[i], generator=gen)
        self.b = nn.Parameter(torch.zeros(k, n))  # (inst, features)
        self.hook_hidden = nn.Identity()
        self.hook_out = nn.Identity()
        self.register_buffer("feature_probability", torch.tensor(cfg.probabilities()))  # (inst,)
        self.register_buffer("importance", torch.tensor(cfg.importances()))  # (features,)

    def sample_features(
        self, batch: int, generator: torch.Generator | Sequence[torch.Generator] | None = None
    ) -> torch.Tensor:
        """Draw fresh sparse features `(batch, n_instances, n_features)`, values in [0, 1].

        With a sequence of generators (one per instance), instance i draws from
        `generator[i]` alone: its data does not depend on the other instances.
        """
        if isinstance(generator, Sequence):
            if len(generator) != self.cfg.n_instances:
                raise ValueError(
                    f"sample_features got {len(generator)} generators for "
                    f"{self.cfg.n_instances} instances"
                )
            return torch.cat(
                [self._sample(batch, g, i, i + 1) for i, g in enumerate(generator)], dim=1
            )
        return self._sample(batch, generator, 0, self.cfg.n_instances)

    def _sample(
        self, batch: int, generator: torch.Generator | None, lo: int, hi: int
    ) -> torch.Tensor:
        """Features of instances `lo:hi`, `(batch, hi - lo, n_features)`."""
        cfg = self.cfg
        k, n = hi - lo, cfg.n_features
        p = self.feature_probability[lo:hi, None]  # (inst, 1)
        if cfg.correlation == "none":
            active = torch.rand(batch, k, n, generator=generator) < p
        elif cfg.correlation == "correlated":
            pair = torch.rand(batch, k, n // 2, generator=generator) < p
            active = pair.repeat_interleave(2, dim=-1)
        else:  # anticorrelated: a pair fires with prob 2p, then one of its two features
            pair = torch.rand(batch, k, n // 2, generator=generator) < 2 * p
            first = torch.rand(batch, k, n // 2, generator=generator) < 0.5
            active = torch.stack([pair & first, pair & ~first], dim=-1).flatten(-2)
        values = torch.rand(batch, k, n, generator=generator)
        return torch.where(active, values, torch.zeros(()))  # (batch, inst, features)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """h = W x (or ReLU(W x)), the activation at `hook_hidden`:
        `(batch, inst, features) -> (batch, inst, hidden)`."""
        h = torch.einsum("bif,ifh->bih", x, self.W)
        return F.relu(h) if self.cfg.hidden_activation == "relu" else h

    def decode(self, h: torch.Tensor) -> torch.Tensor:
        """x_hat = ReLU(W^T h + b): `(batch, inst, hidden) -> (batch, inst, features)`."""
        return F.relu(torch.einsum("bih,ifh->bif", h, self.W) + self.b)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.hook_hidden(self.hidden(x))  # (batch, inst, hidden)
        return self.hook_out(self.decode(h))  # (batch, inst, features)

    def loss(self, x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
        """Importance-weighted MSE per instance `(n_instances,)`: mean over batch and features."""
        return (self.importance * (x_hat - x) ** 2).mean(dim=(0, 2))

    @torch.no_grad()
    def true_directions(self, eps: float = 1e-8) -> tuple[torch.Tensor, torch.Tensor]:
        """Each feature's unit direction in hidden space, and how strongly it is written.

        Returns `(directions, norms)`: `(n_instances, n_features, d_hidden)` unit rows of
        W and their norms `(n_instances, n_features)`. A feature is represented when its
        norm is near 1 (trained hosts give ~1 or ~0); the direction of a feature with
        norm ~0 is noise, so filter with `norms > threshold` before comparing.

        For a ReLU hidden layer the direction is that of `ReLU(W_f)`, the activation
        feature f alone produces (its negative parts never reach the hidden layer).
        """
        written = F.relu(self.W) if self.cfg.hidden_activation == "relu" else self.W
        norms = written.norm(dim=-1)
        return written / norms.clamp_min(eps)[..., None], norms

    @torch.no_grad()
    def represented(self, threshold: float = 0.5) -> torch.Tensor:
        """Bool `(n_instances, n_features)`: which features the host writes (norm > threshold)."""
        return self.true_directions()[1] > threshold

    @torch.no_grad()
    def features_per_dimension(self) -> torch.Tensor:
        """`||W||_F^2 / d_hidden` per instance `(n_instances,)`: about how many features each
        hidden dim holds (Elhage et al.'s dims-per-feature is its inverse). 1 or less
        means no superposition; 2.5 is a 5->2 pentagon."""
        return self.W.pow(2).sum(dim=(1, 2)) / self.cfg.d_hidden

    @torch.no_grad()
    def feature_dimensionality(self, eps: float = 1e-8) -> torch.Tensor:
        """Elhage et al.'s D_f = ||W_f||^2 / sum_g (W_f_hat . W_g)^2, `(n_instances, n_features)`.

        The fraction of a hidden dim that feature f owns: 1 for a dedicated dim, 1/2 for
        an antipodal pair, 2/5 in a pentagon, 0 for an unrepresented feature.
        """
        directions, norms = self.true_directions(eps)
        overlaps = torch.einsum("ifh,igh->ifg", directions, self.W)  # (inst, f, g)
        return norms**2 / overlaps.pow(2).sum(dim=-1).clamp_min(eps)


def train_toy(cfg: ToyConfig, progress: bool = False) -> tuple[ToyModel, TrainLog]:
    """Train `cfg.n_instances` toy hosts together; seeded and bit-reproducible on 1 thread.

    Uses only generators seeded from `cfg`; the thread count and kernel flags are the
    caller's (`runtime.make_deterministic` sets what the figures run with).

    Logs `loss` (summed over instances) and `loss/{i}` per instance every
    `cfg.log_every` steps.
    """
    shared = torch.Generator().manual_seed(cfg.seed)
    own = cfg.generators()
    generator: torch.Generator | list[torch.Generator] = shared if own is None else own
    model = ToyModel(cfg, generator=generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    log = TrainLog()
    start = time.perf_counter()
    for step in tqdm(range(1, cfg.steps + 1), disable=not progress, desc="toy host"):
        x = model.sample_features(cfg.batch_size, generator)  # (batch, inst, features)
        per_instance = model.loss(x, model(x))  # (inst,)
        loss = per_instance.sum()  # a sum keeps each instance's gradient independent
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step % cfg.log_every == 0 or step == cfg.steps:
            row = {"loss": loss.item()}
            row.update({f"loss/{i}": v for i, v in enumerate(per_instance.tolist())})
            log.record(step, row)
    log.seconds = time.perf_counter() - start
    return model.eval(), log


@torch.no_grad()
def toy_activations(
    model: ToyModel,
    n_samples: int,
    generator: torch.Generator | Sequence[torch.Generator] | None = None,
    instance: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hidden activations and the features that produced them, for dictionary training.

    Returns `(acts, features)`: `(n_samples, n_instances, d_hidden)` and
    `(n_samples, n_instances, n_features)`, or `(n_samples, d_hidden)` and
    `(n_samples, n_features)` when `instance` picks one host. Activations are the raw h
    (not centred): centre them before training a ReLU+L1 dictionary, or most latents die.
    """
    features = model.sample_features(n_samples, generator)
    acts = model.hidden(features)
    if instance is not None:
        return acts[:, instance], features[:, instance]
    return acts, features
