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
from symbiote_core.symbiotes.sparse import (
    chosen,
    chosen_ragged,
    sparse_decode,
    sparse_decode_ragged,
)


def top_k(pre: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`pre.topk(k, dim=-1)` (sorted), faster on CPU when k is a large part of the row.

    torch's CPU top-k keeps a heap (partial sort) while k <= width/64 and otherwise
    runs nth_element and sorts; the latter costs ~2.5x more per element here (1024 rows
    of 256, k = 5: 2.4 ms, against 1.0 ms for the heap on rows padded to 320 with -inf).
    So rows are padded to 64 k when that at most doubles them. The -inf padding is
    never chosen while a row holds k values above -inf, which finite inputs always do;
    the indices are clamped so that a non-finite row cannot index past the latents.
    """
    width = pre.shape[-1]
    if pre.device.type != "cpu" or 64 * k <= width or 64 * k > 2 * width:
        return pre.topk(k, dim=-1)
    padded = torch.nn.functional.pad(pre, (0, 64 * k - width), value=float("-inf"))
    vals, idx = padded.topk(k, dim=-1)
    # Out of place: topk's backward keeps `idx`, so an in-place clamp breaks gradients
    # that flow through `activation` (a host co-trained with its dictionary needs them).
    return vals, idx.clamp_max(width - 1)


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

    def _dead_columns(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(dead (n, d_sae), cols (c,)): latents dead in some instance; None if none is, or AuxK is off."""
        if self.cfg.aux_coeff == 0 or not self.training:
            return None
        dead = self._lift(self.dead_mask())  # (n, d_sae)
        if not dead.any():
            return None
        # Work on the columns dead in some instance only: usually few, so the top-k is cheap.
        return dead, dead.any(0).nonzero().squeeze(-1)

    def aux_loss(self, pre: torch.Tensor, z: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        found = self._dead_columns()
        if found is None:
            return z.new_zeros(self.n_instances)
        dead, cols = found
        return self._aux_on(pre[..., cols], dead, cols, residual)

    def _aux_on(
        self, pre_cols: torch.Tensor, dead: torch.Tensor, cols: torch.Tensor, residual: torch.Tensor
    ) -> torch.Tensor:
        """AuxK from the pre-activations of columns `cols` (..., n, c): per-instance loss (n,)."""
        pre_dead = pre_cols.masked_fill(~dead[:, cols], float("-inf"))  # (..., n, c)
        aux_k = min(self.cfg.aux_k or max(self.d_in // 2, 1), cols.numel())
        vals, idx = pre_dead.topk(aux_k, dim=-1)
        # relu(-inf) = 0: columns live in this instance, picked when too few are dead, add nothing.
        z_aux = torch.zeros_like(pre_dead).scatter(-1, idx, torch.relu(vals))
        recon_aux = torch.einsum("...nc,nco->...no", z_aux, self._lift(self.W_dec)[:, cols])
        err = _mean_examples((recon_aux - residual).pow(2).sum(-1))  # (n,)
        return self.cfg.aux_coeff * err * dead.any(-1)


@register
class TopKSAE(_KSparse):
    """`z` keeps the k largest of `relu(pre)` per example, zeros elsewhere.

    `loss` works on the k chosen latents only (`symbiote_core.symbiotes.sparse`): the
    dense pre-activations are computed once, without gradient, to choose them; the
    chosen values get their gradient from a sparse op, and the reconstruction is a
    sum of k decoder rows. The same loss as the dense formulas and the same gradients
    to float rounding; see the module docstring of `sparse` for why.
    """

    config_class = TopKConfig

    def activation(self, pre: torch.Tensor) -> torch.Tensor:
        vals, idx = top_k(pre, self.k_max)  # (..., n, k_max), sorted
        vals = torch.relu(vals)
        if not self.uniform_k:
            keep = torch.arange(self.k_max, device=pre.device) < self.ks[:, None]  # (n, k_max)
            vals = vals * keep
        return torch.zeros_like(pre).scatter(-1, idx, vals)

    def loss(
        self,
        x: torch.Tensor,
        target: torch.Tensor | None = None,
        offset: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """`Dictionary.loss` on the k chosen latents: the same parts, no (batch, d_sae) gradient."""
        n, s = self.n_instances, self.d_sae
        xl = self._lift_input(x, self.d_in, "input")
        tl = xl if target is None else self._lift_input(target, self.d_out, "target")
        xc = xl - self._lift(self.b_dec) if self.autoencoder else xl  # (..., n, d_in)
        lead = xc.shape[:-2]
        with torch.no_grad():
            pre = self._pre(xl)  # (..., n, d_sae): only to choose
            top, idx = top_k(pre, self.k_max)  # (..., n, k_max)
        flat = (idx + self._row_offsets()).reshape(-1, self.k_max)  # rows of the flat tables
        xc_rows = xc.reshape(-1, self.d_in)  # (examples * n, d_in), instance = row % n
        decoder = self.W_dec.reshape(n * s, self.d_out)
        if self.uniform_k:
            vals = torch.relu(chosen(top.reshape(flat.shape), xc_rows, *self._encoder_table(), flat))
            recon = sparse_decode(vals, decoder, flat)
        else:
            # Each row keeps its instance's k of the k_max slots: listed flat (ragged), so
            # an instance with a small k costs no more than it would alone.
            keep = torch.arange(self.k_max, device=x.device) < self.ks[:, None]  # (n, k_max)
            keep = keep.expand(flat.shape[0] // n, n, self.k_max).reshape(flat.shape)
            counts = self.ks.repeat(flat.shape[0] // n)  # slots per row
            offsets = counts.cumsum(0) - counts
            owner = torch.repeat_interleave(torch.arange(flat.shape[0], device=x.device), counts)
            slots = flat[keep]
            kept = chosen_ragged(
                top.reshape(flat.shape)[keep], xc_rows, *self._encoder_table(), slots, offsets, owner
            )
            kept = torch.relu(kept)
            recon = sparse_decode_ragged(kept, decoder, slots, offsets, owner)
            # The (rows, k_max) form with zeros on the slots an instance does not keep,
            # for the firing counts below (no gradient flows through it).
            vals = kept.detach().new_zeros(flat.shape).masked_scatter_(keep, kept.detach())
        recon = recon.view(*lead, n, self.d_out) + self._lift(self.b_dec)
        if offset is not None:
            recon = recon + self._lift_input(offset, self.d_out, "offset")
        recon_loss = _mean_examples((recon - tl).pow(2).sum(-1))  # (n,)
        aux = self._sparse_aux(xc, (tl - recon).detach())
        fired = (vals.detach() > 0).view(*lead, n, self.k_max)
        if self.training:
            self._count_fired(flat, fired)
        l0 = _mean_examples(fired.sum(-1).float())
        sparsity = recon_loss.new_zeros(n)
        parts = {"recon": recon_loss, "sparsity": sparsity, "aux": aux, "l0": l0}
        total = (recon_loss + aux).sum()
        return total, {k: self._squeeze(v.detach()) for k, v in parts.items()}

    def _row_offsets(self) -> torch.Tensor:
        """(n, 1): instance i's latents are rows i*d_sae ... of the flat tables."""
        return (torch.arange(self.n_instances, device=self.ks.device) * self.d_sae)[:, None]

    def _encoder_table(self) -> tuple[torch.Tensor, torch.Tensor]:
        """W_enc as (n*d_sae, d_in) rows (one latent's input weights each) and b_enc flat."""
        # A contiguous copy (d_sae x d_in floats): gathering rows of the transposed view
        # instead reads d_in scattered floats per row and was 30x slower.
        W_enc = self._lift(self.W_enc).transpose(-1, -2).contiguous()  # (n, d_sae, d_in)
        return W_enc.view(-1, self.d_in), self.b_enc.reshape(-1)

    def _sparse_aux(self, xc: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """`aux_loss` with the pre-activations of the dead columns recomputed with gradient.

        Dense over those columns: AuxK picks d_in/2 latents per example, so the sparse ops
        would build (batch, d_in/2, d_in) temporaries, slower than c-wide matmuls.
        """
        found = self._dead_columns()
        if found is None:
            return residual.new_zeros(self.n_instances)
        dead, cols = found
        W_enc = self._lift(self.W_enc)[..., cols]  # (n, d_in, c)
        pre_cols = torch.einsum("...nd,ndc->...nc", xc, W_enc) + self._lift(self.b_enc)[:, cols]
        return self._aux_on(pre_cols, dead, cols, residual)

    @torch.no_grad()
    def _count_fired(self, flat: torch.Tensor, fired: torch.Tensor) -> None:
        """`_count_firing` from the chosen latents: (rows, k) flat indices, fired mask."""
        counter = self.examples_since_fired.view(-1)  # (n * d_sae,)
        counter += flat.shape[0] // self.n_instances
        counter.index_fill_(0, flat[fired.view(flat.shape)], 0)
