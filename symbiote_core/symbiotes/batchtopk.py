"""BatchTopK dictionary (Bussmann et al. 2024, "BatchTopK Sparse Autoencoders").

In training, a batch of B examples keeps its k*B largest latents in total, so
examples may use more or fewer than k. That rule depends on the rest of the batch,
so at inference it is replaced by a threshold: `encode` keeps latents above
`threshold`, an exponential moving average (over training steps) of the smallest
latent the batch rule kept. Hence `forward(x) == decode(encode(x))` uses the
threshold, while `loss` uses the batch rule.

Pitfall: before any training step the threshold is unset (-1) and `encode` is a
plain ReLU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from symbiote_core.symbiotes.registry import register
from symbiote_core.symbiotes.topk import TopKConfig, _KSparse


@dataclass(kw_only=True)
class BatchTopKConfig(TopKConfig):
    """Keep the k*B largest latents of a batch of B; a threshold at inference."""

    kind: ClassVar[str] = "batchtopk"

    threshold_decay: float = 0.99
    """Decay of the moving average that sets the inference threshold."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.threshold_decay < 1:
            raise ValueError(
                f"{type(self).__name__}.threshold_decay must be in [0, 1), got {self.threshold_decay}"
            )


@register
class BatchTopKSAE(_KSparse):
    """Batch-level top-k in `loss`; `relu(pre) * (pre > threshold)` in `encode`."""

    config_class = BatchTopKConfig
    cfg: BatchTopKConfig

    def __init__(self, cfg: BatchTopKConfig, *, d_out: int | None = None) -> None:
        super().__init__(cfg, d_out=d_out)
        self.register_buffer("threshold", torch.full(self._lead(), -1.0))  # (n?,)

    def activation(self, pre: torch.Tensor) -> torch.Tensor:
        threshold = self._lift(self.threshold)[:, None]  # (n, 1)
        return torch.relu(pre) * (pre > threshold)

    def training_activation(self, pre: torch.Tensor) -> torch.Tensor:
        n, s = self.n_instances, self.d_sae
        flat = torch.relu(pre).reshape(-1, n, s).transpose(0, 1).reshape(n, -1)  # (n, B*d_sae)
        batch = flat.shape[1] // s
        vals, idx = flat.topk(self.k_max * batch, dim=-1)  # (n, k_max*B), sorted
        rank = torch.arange(vals.shape[1], device=pre.device)
        kept = rank < self.ks[:, None] * batch  # (n, k_max*B)
        if not self.uniform_k:
            vals = vals * kept
        if self.training:
            self._update_threshold(vals.detach(), kept)
        z = torch.zeros_like(flat).scatter(-1, idx, vals)
        return z.reshape(n, batch, s).transpose(0, 1).reshape(pre.shape)

    @torch.no_grad()
    def _update_threshold(self, vals: torch.Tensor, kept: torch.Tensor) -> None:
        smallest = torch.where(kept & (vals > 0), vals, torch.inf).min(-1).values  # (n,)
        threshold = self._lift(self.threshold)
        seen = torch.isfinite(smallest)
        first = seen & (threshold < 0)
        decay = self.cfg.threshold_decay
        updated = torch.where(first, smallest, decay * threshold + (1 - decay) * smallest)
        threshold.copy_(torch.where(seen, updated, threshold))
