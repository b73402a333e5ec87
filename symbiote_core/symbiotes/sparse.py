"""Autograd ops on k-sparse codes: a TopK dictionary's step without (batch, d_sae) work.

A TopK step needs the dense pre-activations once, to choose each example's k latents.
Everything after that choice touches only the chosen k: the chosen pre-activations,
the reconstruction from k decoder rows, and every gradient. Written densely (scatter
the k values into a (batch, d_sae) zero tensor, multiply by W_dec) the step runs four
more dense (batch x d_in x d_sae) matmuls and a handful of (batch, d_sae) passes; on
one CPU thread at 1024 x 64 x 512, k = 7, that was half the step (`bench/profile_topk.py`).

Both ops take a flat index `idx` (rows, k) into a table of `R` rows; several
dictionary instances share one table by offsetting each instance's indices by its
instance number times d_sae. Gradients are accumulated with `index_add_`, which on
CPU adds in index order: bit-identical between runs on one thread. Both are checked
against the dense formulas in tests/test_symbiotes.py.

The ragged variants (`chosen_ragged`, `sparse_decode_ragged`) take the chosen slots as
one flat list with a bag (row) per example, for dictionaries whose instances keep
different k: each row lists only its instance's k slots, where the (m, k_max) form
carries k_max slots per row and zero weights on the rest. Zero terms add exactly
nothing, and the kept terms are added in the same order, so both forms give the same
bits (tested); the ragged one skips the work on the zeros.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F


class _Chosen(torch.autograd.Function):
    """values[m, j] = x[m] . table[idx[m, j]] + bias[idx[m, j]], already computed.

    The values come from the dense pre-activations that chose `idx`; this op only
    attaches the gradient of that formula, so nothing is computed twice.
    """

    @staticmethod
    def forward(
        ctx: Any,
        values: torch.Tensor,
        x: torch.Tensor,
        table: torch.Tensor,
        bias: torch.Tensor,
        idx: torch.Tensor,
    ) -> torch.Tensor:
        ctx.save_for_backward(x, table, idx)
        ctx.bias_size = bias.shape[0]
        return values.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        x, table, idx = ctx.saved_tensors
        flat = idx.reshape(-1)
        grad_x = grad_table = grad_bias = None
        if ctx.needs_input_grad[1]:  # sum_j grad[m, j] * table[idx[m, j]]
            grad_x = F.embedding_bag(idx, table, per_sample_weights=grad, mode="sum")
        if ctx.needs_input_grad[2]:
            outer = (grad.unsqueeze(-1) * x.unsqueeze(1)).reshape(-1, x.shape[1])
            grad_table = x.new_zeros(table.shape).index_add_(0, flat, outer)
        if ctx.needs_input_grad[3]:
            grad_bias = x.new_zeros(ctx.bias_size).index_add_(0, flat, grad.reshape(-1))
        return None, grad_x, grad_table, grad_bias, None


class _SparseDecode(torch.autograd.Function):
    """out[m] = sum_j vals[m, j] * table[idx[m, j]]."""

    @staticmethod
    def forward(
        ctx: Any, vals: torch.Tensor, table: torch.Tensor, idx: torch.Tensor
    ) -> torch.Tensor:
        ctx.save_for_backward(vals, table, idx)
        # embedding_bag is this exact sum (a fused gather-multiply-add); only its backward,
        # which sorts the indices, is slow, so the backward below is written out.
        return F.embedding_bag(idx, table, per_sample_weights=vals, mode="sum")

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        vals, table, idx = ctx.saved_tensors
        grad_vals = grad_table = None
        if ctx.needs_input_grad[0]:
            rows = table.index_select(0, idx.reshape(-1)).view(*idx.shape, table.shape[1])
            grad_vals = (rows * grad.unsqueeze(1)).sum(-1)
        if ctx.needs_input_grad[1]:
            outer = (vals.unsqueeze(-1) * grad.unsqueeze(1)).reshape(-1, grad.shape[1])
            grad_table = grad.new_zeros(table.shape).index_add_(0, idx.reshape(-1), outer)
        return grad_vals, grad_table, None


def chosen(
    values: torch.Tensor,
    x: torch.Tensor,
    table: torch.Tensor,
    bias: torch.Tensor,
    idx: torch.Tensor,
) -> torch.Tensor:
    """`values` (m, k), equal to x . table[idx] + bias[idx], with that formula's gradient.

    x (m, d) inputs, table (R, d) rows, bias (R,), idx (m, k) indices into the rows.
    """
    return _Chosen.apply(values, x, table, bias, idx)  # type: ignore[no-any-return]


def sparse_decode(vals: torch.Tensor, table: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """(m, k) values at (m, k) indices into an (R, d_out) table -> (m, d_out) sums of rows."""
    return _SparseDecode.apply(vals, table, idx)  # type: ignore[no-any-return]


class _ChosenRagged(torch.autograd.Function):
    """`_Chosen` on a flat list of slots: values[s] = x[owner[s]] . table[idx[s]] + bias[idx[s]].

    `offsets` (m,) is where each row's slots start in `idx` (rows in order, none empty),
    `owner` (S,) the row of each slot.
    """

    @staticmethod
    def forward(
        ctx: Any,
        values: torch.Tensor,
        x: torch.Tensor,
        table: torch.Tensor,
        bias: torch.Tensor,
        idx: torch.Tensor,
        offsets: torch.Tensor,
        owner: torch.Tensor,
    ) -> torch.Tensor:
        ctx.save_for_backward(x, table, idx, offsets, owner)
        ctx.bias_size = bias.shape[0]
        return values.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        x, table, idx, offsets, owner = ctx.saved_tensors
        grad_x = grad_table = grad_bias = None
        if ctx.needs_input_grad[1]:
            grad_x = F.embedding_bag(idx, table, offsets, per_sample_weights=grad, mode="sum")
        if ctx.needs_input_grad[2]:
            outer = grad.unsqueeze(-1) * x.index_select(0, owner)
            grad_table = x.new_zeros(table.shape).index_add_(0, idx, outer)
        if ctx.needs_input_grad[3]:
            grad_bias = x.new_zeros(ctx.bias_size).index_add_(0, idx, grad)
        return None, grad_x, grad_table, grad_bias, None, None, None


class _SparseDecodeRagged(torch.autograd.Function):
    """out[m] = sum over row m's slots s of vals[s] * table[idx[s]]."""

    @staticmethod
    def forward(
        ctx: Any,
        vals: torch.Tensor,
        table: torch.Tensor,
        idx: torch.Tensor,
        offsets: torch.Tensor,
        owner: torch.Tensor,
    ) -> torch.Tensor:
        ctx.save_for_backward(vals, table, idx, owner)
        return F.embedding_bag(idx, table, offsets, per_sample_weights=vals, mode="sum")

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        vals, table, idx, owner = ctx.saved_tensors
        grad_vals = grad_table = None
        rows_grad = grad.index_select(0, owner)  # (S, d_out)
        if ctx.needs_input_grad[0]:
            grad_vals = (table.index_select(0, idx) * rows_grad).sum(-1)
        if ctx.needs_input_grad[1]:
            outer = vals.unsqueeze(-1) * rows_grad
            grad_table = grad.new_zeros(table.shape).index_add_(0, idx, outer)
        return grad_vals, grad_table, None, None, None


def chosen_ragged(
    values: torch.Tensor,
    x: torch.Tensor,
    table: torch.Tensor,
    bias: torch.Tensor,
    idx: torch.Tensor,
    offsets: torch.Tensor,
    owner: torch.Tensor,
) -> torch.Tensor:
    """`chosen` for slots listed flat: values, idx, owner (S,); offsets (m,) (see module)."""
    return _ChosenRagged.apply(values, x, table, bias, idx, offsets, owner)  # type: ignore[no-any-return]


def sparse_decode_ragged(
    vals: torch.Tensor,
    table: torch.Tensor,
    idx: torch.Tensor,
    offsets: torch.Tensor,
    owner: torch.Tensor,
) -> torch.Tensor:
    """`sparse_decode` for slots listed flat: (S,) values at (S,) indices -> (m, d_out)."""
    return _SparseDecodeRagged.apply(vals, table, idx, offsets, owner)  # type: ignore[no-any-return]
