"""A TopK dictionary whose training step is dense: for the modular-addition symbiosis.

Not a figure (leading underscore). `TopKSAE.loss` works on the k chosen latents only
(`symbiote_core.symbiotes.sparse`), which pays when k is a small part of the latents.
The modular-addition host is read at k = 32 of 128 latents, where the sparse ops
gather and scatter a quarter of a dense (rows, d_sae, d_in) product row by row: on one
CPU thread the sparse step of the figure's reader (50 dictionaries, batch 256) cost
about four times the dense one. Here the loss is `Dictionary.loss`, the same loss and
gradients written densely (the k largest pre-activations kept, the rest zero), and the
k largest are chosen without sorting them (the order is never used).
"""

from __future__ import annotations

from typing import Any

import torch

from symbiote_core.symbiotes.sae import Dictionary
from symbiote_core.symbiotes.topk import TopKSAE


class DenseTopKSAE(TopKSAE):
    """`TopKSAE` with `Dictionary.loss` (dense) in place of the sparse loss; uniform k only."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.uniform_k:
            raise ValueError("DenseTopKSAE keeps one k for every instance")

    def activation(self, pre: torch.Tensor) -> torch.Tensor:
        vals, idx = pre.topk(self.k_max, dim=-1, sorted=False)
        return torch.zeros_like(pre).scatter(-1, idx, torch.relu(vals))

    def loss(
        self,
        x: torch.Tensor,
        target: torch.Tensor | None = None,
        offset: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return Dictionary.loss(self, x, target, offset)


class FirstInstances(torch.nn.Module):
    """A dictionary that reads only the first `count` instances of the host's site.

    `symbiote_core.cotrain` hands the symbiote every host instance; the hosts that no
    coupling reaches (the null and the baselines) need no co-trained reader, so this
    one skips them. Its reconstruction of the other instances is their activations,
    detached: zero error and zero gradient, so with a coupling of 0 there (which
    `cotrain` requires of them) their hosts train as without a symbiote.
    """

    def __init__(self, inner: torch.nn.Module, count: int) -> None:
        super().__init__()
        self.inner = inner
        self.count = count

    def forward(self, x: torch.Tensor) -> Any:
        out = self.inner(x[:, : self.count])
        return out._replace(recon=torch.cat([out.recon, x[:, self.count :].detach()], 1))

    def loss(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return self.inner.loss(x[:, : self.count])  # type: ignore[no-any-return, operator]

    def init_from_data(self, x: torch.Tensor) -> None:
        self.inner.init_from_data(x[:, : self.count])  # type: ignore[operator]

    def post_step(self) -> None:
        self.inner.post_step()  # type: ignore[operator]
