"""Linear probes, which always come with their control.

A probe that reads a property from a host's activations shows little on its own:
a linear map on a wide enough random feature space can fit many labels. The
control (Hewitt & Liang 2019 use control tasks; here, a control host) trains the
same probe, with the same split and budget, on activations of a randomly
initialised copy of the host; the gap between the two scores is what the trained
host adds. `train_probe_with_control` returns both numbers and nothing less.

A regression probe with squared error has a closed-form optimum: `fit_regression_probes`
solves it by least squares for many probes at once (a leading batch axis: seeds,
hosts, controls), deterministic and far cheaper than gradient steps when the
activations fit in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from symbiote_core.symbiotes.registry import SymbioteConfig, register
from symbiote_core.train import TrainConfig, train


@dataclass(kw_only=True)
class ProbeConfig(SymbioteConfig):
    """A linear read-out of `d_in` activations."""

    kind: ClassVar[str] = "probe"

    d_in: int
    """Width of the activations read."""
    n_outputs: int
    """Number of classes (classification) or of regressed values (regression)."""
    task: Literal["classification", "regression"] = "classification"
    """Cross-entropy on class indices, or squared error on real targets."""
    l2: float = 0.0
    """Weight-decay coefficient on the probe's weight matrix."""
    standardise: bool = True
    """Standardise inputs with the mean and std of the first training batch, so the
    probe and its control see activations of the same scale."""

    def __post_init__(self) -> None:
        if self.d_in < 1 or self.n_outputs < 1:
            raise ValueError(
                f"ProbeConfig.d_in and n_outputs must be >= 1, got {self.d_in}, {self.n_outputs}"
            )
        if self.task not in ("classification", "regression"):
            raise ValueError(
                f"ProbeConfig.task must be 'classification' or 'regression', got {self.task!r}"
            )
        if self.task == "classification" and self.n_outputs < 2:
            raise ValueError("ProbeConfig.n_outputs must be >= 2 classes for classification")
        if self.l2 < 0:
            raise ValueError(f"ProbeConfig.l2 must be >= 0, got {self.l2}")


@register
class LinearProbe(nn.Module):
    """`forward(x) = standardise(x) @ W + b`: class logits or predicted values, (..., n_outputs)."""

    config_class = ProbeConfig

    def __init__(self, cfg: ProbeConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.W = nn.Parameter(torch.zeros(cfg.d_in, cfg.n_outputs))  # (d_in, n_outputs)
        self.b = nn.Parameter(torch.zeros(cfg.n_outputs))
        self.register_buffer("mean", torch.zeros(cfg.d_in))
        self.register_buffer("std", torch.ones(cfg.d_in))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((x - self.mean) / self.std) @ self.W + self.b

    def _targets(self, y: torch.Tensor) -> torch.Tensor:
        if self.cfg.task == "regression" and y.dim() == 1:
            return y.unsqueeze(-1).to(self.W.dtype)
        return y

    def loss(
        self, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Cross-entropy or squared error, plus `l2 * |W|^2`."""
        out = self(x)
        if self.cfg.task == "classification":
            fit = F.cross_entropy(out, y)
        else:
            fit = (out - self._targets(y)).pow(2).sum(-1).mean()
        penalty = self.cfg.l2 * self.W.pow(2).sum()
        return fit + penalty, {"fit": fit.detach(), "l2": penalty.detach()}

    @torch.no_grad()
    def score(self, x: torch.Tensor, y: torch.Tensor) -> float:
        """Accuracy (classification) or R^2 over all outputs (regression)."""
        out = self(x)
        if self.cfg.task == "classification":
            return (out.argmax(-1) == y).float().mean().item()
        y = self._targets(y)
        residual = (y - out).pow(2).sum()
        total = (y - y.mean(0)).pow(2).sum()
        return (1 - residual / total).item()

    @torch.no_grad()
    def init_from_data(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Set the standardisation from a first batch (no-op when `standardise=False`)."""
        if self.cfg.standardise:
            self.mean.copy_(x.mean(0))
            self.std.copy_(x.std(0).clamp_min(1e-6))


class ProbeResult(NamedTuple):
    """A probe and its control, each scored on the same held-out examples."""

    probe: LinearProbe
    control: LinearProbe
    score: float
    """Held-out accuracy or R^2 on the trained host's activations."""
    control_score: float
    """The same on the randomly initialised host's activations."""

    @property
    def selectivity(self) -> float:
        """`score - control_score`: what the trained host adds over a random one."""
        return self.score - self.control_score


def train_probe_with_control(
    host_acts: torch.Tensor,
    random_host_acts: torch.Tensor,
    targets: torch.Tensor,
    cfg: ProbeConfig,
    train_cfg: TrainConfig | None = None,
    test_fraction: float = 0.25,
) -> ProbeResult:
    """Train the probe on `host_acts` and its control on `random_host_acts`.

    Both have shape (N, d_in) and share `targets` (N,) or (N, n_outputs) and one
    seeded train/test split (seed `train_cfg.seed`). `train_cfg` is a
    `symbiote_core.train.TrainConfig` (default: 500 steps of 256, lr 1e-2).
    """
    if host_acts.shape != random_host_acts.shape or host_acts.shape[0] != targets.shape[0]:
        raise ValueError(
            "host_acts and random_host_acts must have the same shape and as many rows as "
            f"targets; got {tuple(host_acts.shape)}, {tuple(random_host_acts.shape)}, {tuple(targets.shape)}"
        )
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    tcfg = train_cfg or TrainConfig(steps=500, batch_size=256, lr=1e-2, progress=False)
    n = host_acts.shape[0]
    order = torch.randperm(n, generator=torch.Generator().manual_seed(tcfg.seed))
    n_test = max(1, round(n * test_fraction))
    test, fit = order[:n_test], order[n_test:]
    scored = []
    for acts in (host_acts, random_host_acts):
        probe = LinearProbe(cfg)
        train(probe, (acts[fit], targets[fit]), tcfg)
        probe.eval()
        scored.append((probe, probe.score(acts[test], targets[test])))
    (probe, score), (control, control_score) = scored
    return ProbeResult(probe, control, score, control_score)


class RegressionProbes(NamedTuple):
    """Least-squares probes for a batch of problems; `predict` applies them."""

    mean: torch.Tensor
    """`(..., d_in)`: standardisation mean (from the fitting rows)."""
    std: torch.Tensor
    """`(..., d_in)`: standardisation scale (from the fitting rows, floored at 1e-6)."""
    W: torch.Tensor
    """`(..., d_in, n_outputs)`: weights on the standardised activations."""
    b: torch.Tensor
    """`(..., n_outputs)`."""

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """`(..., N, d_in)` -> `(..., N, n_outputs)`, in `x`'s dtype."""
        z = (x.to(self.W.dtype) - self.mean[..., None, :]) / self.std[..., None, :]
        return (z @ self.W + self.b[..., None, :]).to(x.dtype)

    def readout(self, x: torch.Tensor) -> torch.Tensor:
        """The probes' outputs without the bias, `(..., N, n_outputs)`: each output's
        direction in activation space read as a function of the input."""
        z = (x.to(self.W.dtype) - self.mean[..., None, :]) / self.std[..., None, :]
        return (z @ self.W).to(x.dtype)


def fit_regression_probes(x: torch.Tensor, y: torch.Tensor) -> RegressionProbes:
    """Ordinary least-squares linear probes, one per leading batch index.

    `x` `(..., N, d_in)` activations, `y` `(..., N, n_outputs)` targets (the leading
    axes broadcast). Inputs are standardised with their own mean and std, as
    `LinearProbe` does, then `[z, 1] @ [W; b] ~ y` is solved in float64 by
    `torch.linalg.lstsq` (minimum-norm solution when `z` is rank-deficient, e.g. dead
    neurons). Each output is its own least-squares problem, so fitting 2K outputs
    together is exactly fitting 2K probes.
    """
    if x.shape[-2] != y.shape[-2]:
        raise ValueError(
            f"x and y need the same number of rows, got {tuple(x.shape)} and {tuple(y.shape)}"
        )
    x64, y64 = x.double(), y.double()
    mean = x64.mean(-2)
    std = x64.std(-2).clamp_min(1e-6)
    z = (x64 - mean[..., None, :]) / std[..., None, :]
    design = torch.cat([z, torch.ones_like(z[..., :1])], dim=-1)  # (..., N, d_in + 1)
    lead = torch.broadcast_shapes(design.shape[:-2], y64.shape[:-2])
    design = design.expand(*lead, *design.shape[-2:])
    y64 = y64.expand(*lead, *y64.shape[-2:])
    # gelsd: SVD-based, so rank deficiency (dead or duplicate neurons) is handled.
    solution = torch.linalg.lstsq(design, y64, driver="gelsd").solution  # (..., d_in + 1, out)
    mean, std = mean.expand(*lead, -1), std.expand(*lead, -1)
    return RegressionProbes(mean, std, solution[..., :-1, :], solution[..., -1, :])
