"""ReLU dictionary with an L1 penalty (Bricken et al. 2023, "Towards Monosemanticity").

Pitfall: the L1 coefficient trades reconstruction for sparsity, and only a large one
finds the true features: in trials here small coefficients reconstructed well and
matched almost none of them (0.3 was needed on toy data). Sweep it (`n_instances`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from symbiote_core.symbiotes.registry import register
from symbiote_core.symbiotes.sae import Dictionary, DictionaryConfig, _mean_examples


@dataclass(kw_only=True)
class ReLUConfig(DictionaryConfig):
    """ReLU latents, penalised by `l1_coeff * sum |z|` (decoder rows kept unit norm)."""

    kind: ClassVar[str] = "relu"
    per_instance: ClassVar[tuple[str, ...]] = ("l1_coeff",)

    l1_coeff: float | tuple[float, ...] = 0.3
    """Weight of the L1 penalty against the squared error (summed over features)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if any(c < 0 for c in self.values("l1_coeff")):
            raise ValueError(f"ReLUConfig.l1_coeff must be >= 0, got {self.l1_coeff!r}")


@register
class ReLUSAE(Dictionary):
    """`z = relu(pre)`; sparsity from the L1 penalty alone."""

    config_class = ReLUConfig
    cfg: ReLUConfig

    def __init__(self, cfg: ReLUConfig, *, d_out: int | None = None) -> None:
        super().__init__(cfg, d_out=d_out)
        self.register_buffer(
            "l1_coeffs", torch.tensor(cfg.values("l1_coeff"), dtype=torch.float32), persistent=False
        )

    def activation(self, pre: torch.Tensor) -> torch.Tensor:
        return torch.relu(pre)

    def sparsity_loss(self, z: torch.Tensor, pre: torch.Tensor) -> torch.Tensor:
        return self.l1_coeffs * _mean_examples(z.abs().sum(-1))  # (n,)
