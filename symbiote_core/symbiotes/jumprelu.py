"""JumpReLU dictionary (Rajamanoharan et al. 2024, "Jumping Ahead").

`z = pre * H(pre - theta)` with a learnable per-latent threshold `theta > 0`
(stored as `log_threshold`). The loss is the squared error plus
`l0_coeff * sum H(pre - theta)`, an L0 penalty. The step H has zero gradient almost
everywhere, so both use the paper's straight-through estimator: in the backward
pass H's derivative w.r.t. theta is replaced by a rectangle kernel of width
`bandwidth` around the threshold,

    d/dtheta JumpReLU(pre) := -(theta / eps) * K((pre - theta) / eps)
    d/dtheta H(pre - theta) := -(1 / eps) * K((pre - theta) / eps),  K = 1{|u| < 1/2}

while the gradient w.r.t. `pre` flows through JumpReLU as through the identity where
the latent is on (and not at all through the L0 term).

Pitfall: `threshold_init` and `bandwidth` are in the units of the activations; the
paper's 0.001 assumes inputs scaled to unit mean squared norm per dimension.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from symbiote_core.symbiotes.registry import register
from symbiote_core.symbiotes.sae import Dictionary, DictionaryConfig, _mean_examples


@dataclass(kw_only=True)
class JumpReLUConfig(DictionaryConfig):
    """Learnable per-latent thresholds trained through a straight-through estimator."""

    kind: ClassVar[str] = "jumprelu"
    per_instance: ClassVar[tuple[str, ...]] = ("l0_coeff",)

    l0_coeff: float | tuple[float, ...] = 1e-3
    """Weight of the L0 penalty (expected number of active latents)."""
    threshold_init: float = 1e-3
    """Initial threshold of every latent."""
    bandwidth: float = 1e-3
    """Width of the rectangle kernel in the straight-through estimator."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if any(c < 0 for c in self.values("l0_coeff")):
            raise ValueError(f"JumpReLUConfig.l0_coeff must be >= 0, got {self.l0_coeff!r}")
        if self.threshold_init <= 0 or self.bandwidth <= 0:
            raise ValueError("JumpReLUConfig.threshold_init and bandwidth must be > 0")


def _kernel(pre: torch.Tensor, threshold: torch.Tensor, bandwidth: float) -> torch.Tensor:
    return (((pre - threshold) / bandwidth).abs() < 0.5).to(pre.dtype)


class _JumpReLU(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any, pre: torch.Tensor, threshold: torch.Tensor, bandwidth: float
    ) -> torch.Tensor:
        ctx.save_for_backward(pre, threshold)
        ctx.bandwidth = bandwidth
        return pre * (pre > threshold)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, None]:
        pre, threshold = ctx.saved_tensors
        grad_pre = grad * (pre > threshold)
        grad_threshold = (
            -(threshold / ctx.bandwidth) * _kernel(pre, threshold, ctx.bandwidth) * grad
        )
        return grad_pre, grad_threshold.sum_to_size(threshold.shape), None


class _Step(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any, pre: torch.Tensor, threshold: torch.Tensor, bandwidth: float
    ) -> torch.Tensor:
        ctx.save_for_backward(pre, threshold)
        ctx.bandwidth = bandwidth
        return (pre > threshold).to(pre.dtype)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[None, torch.Tensor, None]:
        pre, threshold = ctx.saved_tensors
        grad_threshold = -(1.0 / ctx.bandwidth) * _kernel(pre, threshold, ctx.bandwidth) * grad
        return None, grad_threshold.sum_to_size(threshold.shape), None


@register
class JumpReLUSAE(Dictionary):
    """`z = pre * (pre > exp(log_threshold))`, L0 penalty through the STE."""

    config_class = JumpReLUConfig
    cfg: JumpReLUConfig

    def __init__(self, cfg: JumpReLUConfig, *, d_out: int | None = None) -> None:
        super().__init__(cfg, d_out=d_out)
        self.log_threshold = nn.Parameter(
            torch.full((*self._lead(), self.d_sae), math.log(cfg.threshold_init))
        )  # (n?, d_sae)
        self.register_buffer(
            "l0_coeffs", torch.tensor(cfg.values("l0_coeff"), dtype=torch.float32), persistent=False
        )

    @property
    def threshold(self) -> torch.Tensor:
        """Per-latent threshold, (n?, d_sae)."""
        return self.log_threshold.exp()

    def activation(self, pre: torch.Tensor) -> torch.Tensor:
        return _JumpReLU.apply(pre, self._lift(self.threshold), self.cfg.bandwidth)

    def sparsity_loss(self, z: torch.Tensor, pre: torch.Tensor) -> torch.Tensor:
        on = _Step.apply(pre, self._lift(self.threshold), self.cfg.bandwidth)
        return self.l0_coeffs * _mean_examples(on.sum(-1))  # (n,)
