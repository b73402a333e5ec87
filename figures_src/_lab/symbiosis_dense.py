"""A TopK dictionary whose training step is dense: for the modular-addition symbiosis.

Not a figure (leading underscore). `TopKSAE.loss` works on the k chosen latents only
(`symbiote_core.symbiotes.sparse`), which pays when k is a small part of the latents.
The modular-addition host is read at k = 32 of 128 latents, where the sparse ops
gather and scatter a quarter of a dense (rows, d_sae, d_in) product row by row: on one
CPU thread the sparse step of the figure's reader (50 dictionaries, batch 256) cost
about four times the dense one. Here the loss is `Dictionary.loss` (with AuxK), the
same loss and gradients written densely, instance-major, with the gradients written
out by hand (`_dense_topk_loss`): autograd's graph of the same formulas spent half the
step on zero-filled buffers, scatters and layout copies. The k largest are chosen
without sorting them (the order is never used).
"""

from __future__ import annotations

from typing import Any

import torch

from symbiote_core.symbiotes.topk import TopKSAE


class DenseTopKSAE(TopKSAE):
    """`TopKSAE` with a dense loss (the loss of `Dictionary.loss`, AuxK included) in
    place of the sparse one; uniform k, several instances, an autoencoder only."""

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
        if target is not None or offset is not None or not self.autoencoder:
            raise ValueError("DenseTopKSAE.loss reads an autoencoder's input only")
        xl = self._lift_input(x, self.d_in, "input")
        xn = xl.reshape(-1, self.n_instances, self.d_in).transpose(0, 1).contiguous()
        found = self._dead_columns()  # None outside training or with no dead latent
        dead = None if found is None else found[0]
        aux_k = self.cfg.aux_k or max(self.d_in // 2, 1)
        params = [self._lift(t) for t in (self.W_enc, self.b_enc, self.W_dec, self.b_dec)]
        per_instance, z = _DenseTopKLoss.apply(
            xn, dead, self.k_max, aux_k, self.cfg.aux_coeff, *params
        )
        active = z > 0  # (n, batch, d_sae)
        if self.training:
            self._count_firing(active.transpose(0, 1))
        parts = {
            "recon": per_instance[0],
            "aux": per_instance[1],
            "l0": active.sum(-1).float().mean(1),
        }
        parts["sparsity"] = torch.zeros_like(parts["recon"])
        total = per_instance.sum()
        return total, {k: self._squeeze(v.detach()) for k, v in parts.items()}


class _DenseTopKLoss(torch.autograd.Function):
    """Per instance, `Dictionary.loss`'s reconstruction and AuxK terms of a TopK
    autoencoder, `(2, n)`, and the latents `(n, batch, d_sae)` (no gradient), with the
    weights' gradients computed in the forward pass (the loss is a leaf of nothing else:
    the input takes no gradient). Shapes: x (n, batch, d_in), W_enc (n, d_in, d_sae),
    b_enc (n, d_sae), W_dec (n, d_sae, d_in), b_dec (n, d_in); dead (n, d_sae) or None."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        x: torch.Tensor,
        dead: torch.Tensor | None,
        k: int,
        aux_k: int,
        aux_coeff: float,
        W_enc: torch.Tensor,
        b_enc: torch.Tensor,
        W_dec: torch.Tensor,
        b_dec: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        batch = x.shape[1]
        xc = x - b_dec[:, None]
        pre = torch.baddbmm(b_enc[:, None], xc, W_enc)  # (n, batch, d_sae)
        vals, idx = pre.topk(k, dim=-1, sorted=False)
        z = torch.zeros_like(pre).scatter_(-1, idx, torch.relu(vals))
        err = torch.baddbmm(b_dec[:, None], z, W_dec).sub_(x)  # recon - x
        recon = err.pow(2).sum(-1).mean(1)  # (n,)
        g = err * (2 / batch)
        gW_dec = torch.bmm(z.transpose(1, 2), g)
        gb_dec = g.sum(1)
        gpre = torch.bmm(g, W_dec.transpose(1, 2)).mul_(z > 0)
        aux = torch.zeros_like(recon)
        inst = None if dead is None else dead.any(-1).nonzero().squeeze(-1)
        if inst is not None and inst.numel() and aux_coeff > 0:
            # AuxK (as `_KSparse._aux_on`), on the instances with a dead latent only: the
            # top aux_k latents among the dead ones reconstruct the residual x - recon
            # (detached). A host at chance leaves most latents dead, and an AuxK over
            # every instance then cost as much as the main step.
            dead_i = dead[inst]  # (m, d_sae)
            cols = dead_i.any(0).nonzero().squeeze(-1)
            pre_dead = pre[inst][..., cols].masked_fill_(~dead_i[:, None, cols], float("-inf"))
            a_vals, a_idx = pre_dead.topk(min(aux_k, cols.numel()), dim=-1, sorted=False)
            z_aux = torch.zeros_like(pre_dead).scatter_(-1, a_idx, torch.relu(a_vals))
            W_cols = W_dec[inst][:, cols]  # (m, c, d_in)
            err_aux = torch.bmm(z_aux, W_cols).add_(err[inst])  # recon_aux - residual
            aux = aux.index_copy(0, inst, aux_coeff * err_aux.pow(2).sum(-1).mean(1))
            g_aux = err_aux.mul_(2 * aux_coeff / batch)
            gW_dec.index_put_(
                (inst[:, None], cols[None]),
                torch.bmm(z_aux.transpose(1, 2), g_aux),
                accumulate=True,
            )
            g_cols = torch.bmm(g_aux, W_cols.transpose(1, 2)).mul_(z_aux > 0)  # (m, batch, c)
            gpre.index_add_(
                0, inst, torch.zeros_like(pre[: inst.numel()]).index_copy_(2, cols, g_cols)
            )
        gW_enc = torch.bmm(xc.transpose(1, 2), gpre)
        gb_enc = gpre.sum(1)
        gb_dec -= torch.bmm(gb_enc[:, None], W_enc.transpose(1, 2)).squeeze(1)
        ctx.save_for_backward(gW_enc, gb_enc, gW_dec, gb_dec)
        ctx.mark_non_differentiable(z)
        return torch.stack([recon, aux]), z

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor, _: Any) -> tuple[Any, ...]:  # type: ignore[override]
        # d(total)/d(weights), total = (grad * per_instance).sum(): each instance's
        # gradient scaled by its weight in `grad` (recon and AuxK terms alike here).
        if not torch.equal(grad[0], grad[1]):
            raise RuntimeError("_DenseTopKLoss: recon and aux must be weighted alike")
        scale = grad[0]
        grads = [t * scale.view(-1, *([1] * (t.dim() - 1))) for t in ctx.saved_tensors]
        return (None, None, None, None, None, *grads)


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
