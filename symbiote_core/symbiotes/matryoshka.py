"""Matryoshka BatchTopK dictionary (Bussmann et al. 2025; Nabeshima 2024).

The latents are ordered into nested prefixes (say the first 32, 128, 512), and each
prefix on its own must reconstruct the input: the loss is the mean of the prefixes'
reconstruction errors. Early latents are thereby pushed towards general features
and later ones towards refinements, which counters feature absorption.
`encode`/`decode` and the inference threshold are exactly those of BatchTopK.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from symbiote_core.symbiotes.batchtopk import BatchTopKConfig, BatchTopKSAE
from symbiote_core.symbiotes.registry import register
from symbiote_core.symbiotes.sae import _mean_examples


@dataclass(kw_only=True)
class MatryoshkaConfig(BatchTopKConfig):
    """BatchTopK whose nested latent prefixes each reconstruct the input."""

    kind: ClassVar[str] = "matryoshka"

    prefixes: tuple[int, ...] | None = None
    """Increasing prefix sizes ending at d_sae; None means d_sae/8, d_sae/4, d_sae/2, d_sae."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.prefixes is None:
            sizes = [self.d_sae // 8, self.d_sae // 4, self.d_sae // 2, self.d_sae]
            self.prefixes = tuple(sorted({m for m in sizes if m > 0}))
        self.prefixes = tuple(self.prefixes)
        increasing = all(a < b for a, b in zip(self.prefixes, self.prefixes[1:], strict=False))
        if (
            not self.prefixes
            or not increasing
            or self.prefixes[0] < 1
            or self.prefixes[-1] != self.d_sae
        ):
            raise ValueError(
                f"MatryoshkaConfig.prefixes must increase from >= 1 and end at d_sae={self.d_sae}, "
                f"got {self.prefixes}"
            )


@register
class MatryoshkaSAE(BatchTopKSAE):
    """BatchTopK with the nested-prefix reconstruction loss."""

    config_class = MatryoshkaConfig
    cfg: MatryoshkaConfig

    def recon_loss(
        self, z: torch.Tensor, target: torch.Tensor, offset: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        W_dec = self._lift(self.W_dec)  # (n, d_sae, d_out)
        recon = self._lift(self.b_dec) if offset is None else self._lift(self.b_dec) + offset
        total = z.new_zeros(self.n_instances)
        start = 0
        for stop in self.cfg.prefixes:  # type: ignore[union-attr]
            # Each prefix adds its block of latents to the previous prefix's reconstruction.
            recon = recon + torch.einsum(
                "...ns,nso->...no", z[..., start:stop], W_dec[:, start:stop]
            )
            total = total + _mean_examples((recon - target).pow(2).sum(-1))
            start = stop
        return total / len(self.cfg.prefixes), recon  # type: ignore[arg-type]
