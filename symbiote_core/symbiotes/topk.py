"""TopK dictionary (Gao et al. 2024, "Scaling and evaluating sparse autoencoders").

Each example keeps its k largest pre-activations (after ReLU); no sparsity penalty.
Dead latents get a second chance through the AuxK loss: the top `aux_k` dead
latents (no firing for `dead_after` training examples) are asked to reconstruct
the main reconstruction's residual, weighted by `aux_coeff`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from symbiote_core.symbiotes.registry import register
from symbiote_core.symbiotes.sae import Dictionary, DictionaryConfig, _mean_examples


@dataclass(kw_only=True)
class TopKConfig(DictionaryConfig):
    """Keep the k largest latents per example; AuxK loss for dead latents."""

    kind: ClassVar[str] = "topk"
    per_instance: ClassVar[tuple[str, ...]] = ("k",)

    k: int | tuple[int, ...] = 8
    """Latents kept per example (per instance when a tuple)."""
    aux_k: int | None = None
    """Dead latents used by the AuxK loss; None means d_in // 2 (Gao et al.)."""
    aux_coeff: float = 1 / 32
    """Weight of the AuxK loss; 0 turns it off."""

    def __post_init__(self) -> None:
        super().__post_init__()
        for k in self.values("k"):
            if not isinstance(k, int) or not 1 <= k <= self.d_sae:
                raise ValueError(
                    f"{type(self).__name__}.k must be ints in [1, d_sae], got {self.k!r}"
                )
        if self.aux_k is not None and self.aux_k < 1:
            raise ValueError(f"{type(self).__name__}.aux_k must be >= 1 or None, got {self.aux_k}")
        if self.aux_coeff < 0:
            raise ValueError(f"{type(self).__name__}.aux_coeff must be >= 0, got {self.aux_coeff}")


class _KSparse(Dictionary):
    """Shared by the k-sparse kinds: per-instance k and the AuxK loss."""

    cfg: TopKConfig

    def __init__(self, cfg: TopKConfig, *, d_out: int | None = None) -> None:
        super().__init__(cfg, d_out=d_out)
        ks = cfg.values("k")
        self.k_max = max(ks)
        self.uniform_k = len(set(ks)) == 1
        self.register_buffer("ks", torch.tensor(ks), persistent=False)  # (n,)

    def aux_loss(self, pre: torch.Tensor, z: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        if self.cfg.aux_coeff == 0 or not self.training:
            return z.new_zeros(self.n_instances)
        dead = self._lift(self.dead_mask())  # (n, d_sae)
        if not dead.any():
            return z.new_zeros(self.n_instances)
        # Work on the columns dead in some instance only: usually few, so the top-k is cheap.
        cols = dead.any(0).nonzero().squeeze(-1)  # (c,)
        pre_dead = pre[..., cols].masked_fill(~dead[:, cols], float("-inf"))  # (..., n, c)
        aux_k = min(self.cfg.aux_k or max(self.d_in // 2, 1), cols.numel())
        vals, idx = pre_dead.topk(aux_k, dim=-1)
        # relu(-inf) = 0: columns live in this instance, picked when too few are dead, add nothing.
        z_aux = torch.zeros_like(pre_dead).scatter(-1, idx, torch.relu(vals))
        recon_aux = torch.einsum("...nc,nco->...no", z_aux, self._lift(self.W_dec)[:, cols])
        err = _mean_examples((recon_aux - residual).pow(2).sum(-1))  # (n,)
        return self.cfg.aux_coeff * err * dead.any(-1)


@register
class TopKSAE(_KSparse):
    """`z` keeps the k largest of `relu(pre)` per example, zeros elsewhere."""

    config_class = TopKConfig

    def activation(self, pre: torch.Tensor) -> torch.Tensor:
        vals, idx = pre.topk(self.k_max, dim=-1)  # (..., n, k_max), sorted
        vals = torch.relu(vals)
        if not self.uniform_k:
            keep = torch.arange(self.k_max, device=pre.device) < self.ks[:, None]  # (n, k_max)
            vals = vals * keep
        return torch.zeros_like(pre).scatter(-1, idx, vals)
