"""Induction host: an attention-only transformer that learns to continue a repeated span.

Each sequence is `[filler] S S [filler]`: a span S of random length L is written twice
at a random start; every token in a sequence is distinct (except S's repeat), so the
only way to predict the second copy is induction: at a token of the second copy,
find where that token occurred before and copy the token that followed it. With
two layers this becomes a circuit: a *previous-token head* in layer 0 writes "the
token before me was x" into each position, and an *induction head* in layer 1 uses
it as a key to attend from the current token to the position after its earlier
occurrence. A 1-layer model cannot compose heads; it only learns to guess among
earlier tokens that have not repeated yet.

Why L and the start vary: with a fixed offset between the copies the model reaches
100% by attending a fixed number of positions back (a positional shortcut) and
grows no induction circuit.

The default recipe (seq 16, d_model 32, batch 64, lr 1e-2, 500 steps) was chosen for
cost and reliability. Measured on seeds 0-19 (CPU seconds, 1 thread, other processes
running): training accuracy leaves its plateau between steps 200 and 400 on 19 of the 20
seeds (held-out accuracy 0.95-1.00, best layer-1 induction score 0.92-0.99); seed 15
never leaves it (accuracy 0.35, best induction score 0.21): about one seed in twenty
fails. 20 seeds batched cost 51 CPU s. Earlier recipes: seq 32 and d_model 64 at lr 3e-3
needed ~1,000 steps and failed on seed 4 of five; at seq 32, lr 1e-2 formed the circuit
on 4 of 8 seeds in 600 steps; at seq 16, lr 3e-3 on 8 of 10; batch 32 on 9 of 10.

Seeds train together. One host per entry of `InductionConfig.seeds` ("instances") lives
in one set of tensors with a leading instance axis, as in `symbiote_core.hosts.toy`:
the loss is a sum over instances, so each instance's gradient is its own, and AdamW is
elementwise. Each instance draws its initialisation and its data from its own generator
(seeded by its seed), so an instance does not depend on which other seeds train
beside it.

Shapes (K instances, B sequences, T positions, H heads): tokens `(I, B, T)`. Hook points
per layer l: `blocks.{l}.attn.hook_qkv` `(I, B, T, 3 * d_model)` the queries, keys and
values (column `part * d_model + head * d_head + i`, part 0/1/2 = q/k/v), `hook_pattern`
`(I, B, H, q, k)` after the softmax, `hook_z` `(I, B, T, H, d_head)` each head's output
before W_O (replace one head there to ablate it), `blocks.{l}.hook_resid_post`
`(I, B, T, d_model)`. Also `hook_embed` (token + position) and `hook_logits`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

import torch
from torch import nn
from tqdm import tqdm  # not tqdm.auto: in a notebook it warns without ipywidgets

from symbiote_core.hosts import TrainLog


@dataclass
class InductionConfig:
    """Configuration of a batch of induction hosts (one per seed), their data and training."""

    n_layers: int = 2
    """Attention layers; 1 gives the control that cannot form induction heads."""

    n_heads: int = 4
    """Heads per layer."""

    d_model: int = 32
    """Residual stream width; d_head = d_model // n_heads."""

    vocab_size: int = 64
    """Tokens; must be at least `seq_len` since tokens in a sequence are distinct."""

    seq_len: int = 16
    """Tokens per sequence."""

    min_span: int = 3
    """Shortest repeated span L."""

    max_span: int = 8
    """Longest repeated span L; 2 * max_span <= seq_len."""

    repeat: Literal["copy", "shuffled"] = "copy"
    """"copy": the second copy repeats S in order, so induction predicts it. "shuffled":
    it holds S's tokens in a random order, so which tokens come is known and their order
    is not: a host trained on it works (it learns to guess among S's unused tokens) but
    has no use for induction, the null host of section 5."""

    steps: int = 500
    """Optimiser steps, each on a fresh batch."""

    batch_size: int = 64
    """Sequences per step and instance."""

    lr: float = 1e-2
    """AdamW learning rate (constant after a linear warm-up)."""

    warmup: int = 100
    """Steps of linear learning-rate warm-up (capped at a tenth of `steps` + 1)."""

    weight_decay: float = 0.01
    """AdamW weight decay."""

    init_std: float = 0.02
    """Standard deviation of the normal initialisation of every weight."""

    log_every: int = 100
    """Record loss and accuracy every this many steps (and at the last step)."""

    seeds: tuple[int, ...] = (0,)
    """One host per seed, trained together; each seeds its own initialisation and data."""

    def __post_init__(self) -> None:
        for name in ("n_layers", "n_heads", "d_model", "steps", "batch_size", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"InductionConfig.{name} must be >= 1, got {getattr(self, name)}")
        self.seeds = tuple(int(s) for s in self.seeds)
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(
                f"InductionConfig.seeds must be distinct and non-empty, got {self.seeds}"
            )
        if self.d_model % self.n_heads:
            raise ValueError(
                f"InductionConfig.d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})"
            )
        if not 2 <= self.min_span <= self.max_span:
            raise ValueError(
                f"InductionConfig needs 2 <= min_span <= max_span, got {self.min_span}, {self.max_span}"
            )
        if 2 * self.max_span > self.seq_len:
            raise ValueError(
                f"InductionConfig: two copies of max_span={self.max_span} do not fit in "
                f"seq_len={self.seq_len}"
            )
        if self.repeat not in ("copy", "shuffled"):
            raise ValueError(
                f"InductionConfig.repeat must be 'copy' or 'shuffled', got {self.repeat!r}"
            )
        if self.vocab_size < self.seq_len:
            raise ValueError(
                f"InductionConfig.vocab_size ({self.vocab_size}) must be >= seq_len "
                f"({self.seq_len}): the tokens of a sequence are drawn without replacement"
            )
        if self.lr <= 0 or self.weight_decay < 0 or self.init_std <= 0 or self.warmup < 0:
            raise ValueError(
                "InductionConfig needs lr > 0, weight_decay >= 0, init_std > 0 and warmup >= 0, "
                f"got {self.lr}, {self.weight_decay}, {self.init_std}, {self.warmup}"
            )

    @property
    def n_instances(self) -> int:
        return len(self.seeds)


class Batch(NamedTuple):
    """Batches of `[filler] S S [filler]` sequences, one per instance, and where S sits."""

    tokens: torch.Tensor
    """`(I, B, T)` long."""

    start: torch.Tensor
    """`(I, B)` position of the first copy of S."""

    span: torch.Tensor
    """`(I, B)` length L of S; the second copy starts at `start + span`."""

    target_mask: torch.Tensor
    """`(I, B, T)` bool: positions q in the second copy whose next token (q + 1) is
    also in it, so induction predicts it (L - 1 per sequence). Loss and accuracy use
    only these."""


def make_sequences(
    cfg: InductionConfig, batch: int, generator: torch.Generator | None = None
) -> Batch:
    """Draw `batch` sequences for ONE instance (fields without the instance axis)."""
    return _assemble(cfg, _draw(cfg, batch, generator))


def _draw(
    cfg: InductionConfig, batch: int, generator: torch.Generator | None
) -> tuple[torch.Tensor, ...]:
    """The random numbers of `batch` sequences, in the order one generator draws them:
    a permutation key per vocabulary token, the span L, the start, and for "shuffled"
    the order of the second copy."""
    keys = torch.rand(batch, cfg.vocab_size, generator=generator)
    span = torch.randint(cfg.min_span, cfg.max_span + 1, (batch,), generator=generator)
    start = torch.rand(batch, generator=generator)
    if cfg.repeat != "shuffled":
        return keys, span, start
    # Drawn after everything "copy" draws, so the "copy" data of a seed stay put.
    return keys, span, start, torch.rand(batch, cfg.max_span, generator=generator)


def _assemble(cfg: InductionConfig, draws: tuple[torch.Tensor, ...]) -> Batch:
    """Sequences from `_draw`'s numbers, row by row (any leading axes: one instance, or
    the instances of `make_batch` stacked, which then cost one call, not one each)."""
    T = cfg.seq_len
    keys, span, unit = draws[:3]
    # Distinct tokens per row: the first T of a random permutation of the vocabulary.
    tokens = keys.argsort(dim=-1)[..., :T]
    # start uniform in [0, T - 2L]: a float draw keeps one call for rows of different L.
    start = (unit * (T - 2 * span + 1)).floor().long()
    pos = torch.arange(T)  # (seq,)
    offset = pos - start[..., None]  # (..., batch, seq) position relative to the span
    second = (offset >= span[..., None]) & (offset < 2 * span[..., None])
    # Copy: position start + L + j takes the token at start + j.
    source = torch.where(second, pos - span[..., None], pos)
    if cfg.repeat == "shuffled":
        # Position start + L + j takes the token at start + perm[j], perm a random order
        # of 0..L-1 per row.
        order = draws[3].masked_fill(torch.arange(cfg.max_span) >= span[..., None], 2.0)
        perm = order.argsort(dim=-1)  # (..., batch, max_span): first L entries order 0..L-1
        j = (offset - span[..., None]).clamp(0, cfg.max_span - 1)  # (..., batch, seq)
        shuffled = start[..., None] + perm.gather(-1, j)
        source = torch.where(second, shuffled, source)
    tokens = tokens.gather(-1, source)
    target_mask = (offset >= span[..., None]) & (offset < 2 * span[..., None] - 1)
    return Batch(tokens, start, span, target_mask)


def make_batch(
    cfg: InductionConfig, batch: int, generators: Sequence[torch.Generator | None]
) -> Batch:
    """`batch` sequences per instance, instance i drawn from `generators[i]` (exactly
    what `make_sequences` draws from it; the rows are then built for all at once)."""
    if len(generators) != cfg.n_instances:
        raise ValueError(
            f"make_batch: {len(generators)} generators for {cfg.n_instances} instances"
        )
    parts = [_draw(cfg, batch, g) for g in generators]
    return _assemble(cfg, tuple(torch.stack(field) for field in zip(*parts, strict=True)))


DATA_STREAM = 1_000_003
"""Added to each seed for its training-data generator (initialisation uses the seed itself)."""


def seed_generators(seeds: Sequence[int], offset: int = 0) -> list[torch.Generator]:
    """One generator per seed, seeded with `seed + offset` (an offset gives a separate stream)."""
    return [torch.Generator().manual_seed(seed + offset) for seed in seeds]


class Attention(nn.Module):
    """Causal multi-head attention of I instances, with q/k/v, pattern and per-head
    outputs as hook points."""

    def __init__(self, cfg: InductionConfig) -> None:
        super().__init__()
        K, D = cfg.n_instances, cfg.d_model
        self.n_heads, self.d_head = cfg.n_heads, D // cfg.n_heads
        self.W_QKV = nn.Parameter(torch.empty(K, D, 3 * D))  # x @ W_QKV: (q | k | v)
        self.W_O = nn.Parameter(torch.empty(K, D, D))  # z.flatten @ W_O
        self.hook_qkv = nn.Identity()
        self.hook_pattern = nn.Identity()
        self.hook_z = nn.Identity()
        # Additive causal mask: 0 on and below the diagonal, -inf above.
        mask = torch.full((cfg.seq_len, cfg.seq_len), float("-inf")).triu(diagonal=1)
        self.register_buffer("causal", mask, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        K, B, T, D = x.shape
        qkv = self.hook_qkv((x.reshape(K, B * T, D) @ self.W_QKV).view(K, B, T, 3 * D))
        q, k, v = qkv.view(K, B, T, 3, self.n_heads, self.d_head).unbind(dim=3)
        # (I, B, T, H, dh) each
        # Scale q, not the scores, and add the mask: both cheaper on the bigger tensor.
        scores = torch.einsum("ibqhd,ibkhd->ibhqk", q / math.sqrt(self.d_head), k)
        scores = scores + self.causal[:T, :T]
        pattern = self.hook_pattern(scores.softmax(dim=-1))  # (I, B, H, q, k)
        z = self.hook_z(torch.einsum("ibhqk,ibkhd->ibqhd", pattern, v))  # (I, B, T, H, dh)
        return (z.reshape(K, B * T, D) @ self.W_O).view(K, B, T, D)


class Block(nn.Module):
    """One attention-only residual block (no MLP, no LayerNorm: the circuit stays linear
    apart from the softmax, as in Elhage et al. 2021)."""

    def __init__(self, cfg: InductionConfig) -> None:
        super().__init__()
        self.attn = Attention(cfg)
        self.hook_resid_post = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.hook_resid_post(x + self.attn(x))  # (I, B, T, d_model)


class InductionModel(nn.Module):
    """Token + position embedding, `n_layers` attention-only blocks, unembedding; one
    host per instance."""

    def __init__(self, cfg: InductionConfig) -> None:
        super().__init__()
        self.cfg = cfg
        K, D = cfg.n_instances, cfg.d_model
        self.W_E = nn.Parameter(torch.empty(K, cfg.vocab_size, D))
        self.W_pos = nn.Parameter(torch.empty(K, cfg.seq_len, D))
        self.hook_embed = nn.Identity()
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.W_U = nn.Parameter(torch.empty(K, D, cfg.vocab_size))
        self.hook_logits = nn.Identity()
        with torch.no_grad():
            for i, generator in enumerate(seed_generators(cfg.seeds)):
                # Instance by instance from its own generator, in a fixed order.
                for param in self.parameters():
                    param[i].normal_(0.0, cfg.init_std, generator=generator)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits `(I, B, T, vocab)` for tokens `(I, B, T)`."""
        K, B, T = tokens.shape
        instance = torch.arange(K)[:, None, None]
        x = self.hook_embed(self.W_E[instance, tokens] + self.W_pos[:, None, :T])
        for block in self.blocks:
            x = block(x)
        D = self.cfg.d_model
        return self.hook_logits((x.reshape(K, B * T, D) @ self.W_U).view(K, B, T, -1))


def repeat_losses(logits: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Cross-entropy per instance `(I,)` on the induction targets (`batch.target_mask`)."""
    targets = batch.tokens.roll(-1, dims=-1)  # (I, B, T): token at q + 1
    logp = logits.log_softmax(dim=-1).gather(-1, targets[..., None])[..., 0]  # (I, B, T)
    mask = batch.target_mask
    return -(logp * mask).sum(dim=(1, 2)) / mask.sum(dim=(1, 2))


@torch.no_grad()
def repeat_accuracy(model: InductionModel, batch: Batch) -> torch.Tensor:
    """Top-1 accuracy per instance `(I,)` on the predictable half of the second copy."""
    return _accuracy(model(batch.tokens), batch)


def _accuracy(logits: torch.Tensor, batch: Batch) -> torch.Tensor:
    hit = (logits.argmax(dim=-1) == batch.tokens.roll(-1, dims=-1)) & batch.target_mask
    return hit.sum(dim=(1, 2)) / batch.target_mask.sum(dim=(1, 2))


def previous_token_score(pattern: torch.Tensor) -> torch.Tensor:
    """Per instance and head `(I, H)`: mean attention from each query q >= 1 to key q - 1.

    `pattern` is `(I, B, H, q, k)`. 1.0 means the head always looks exactly one token
    back; a uniform causal head scores mean(1/(q+1)) over q >= 1, 0.099 at seq 32.
    """
    prev = pattern.diagonal(offset=-1, dim1=-2, dim2=-1)  # (I, B, H, seq - 1)
    return prev.mean(dim=(1, 3))


def induction_score(pattern: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Per instance and head `(I, H)`: mean attention from a token of the second copy of
    S to the token right after that token's first occurrence.

    For the query at `start + L + j` (the j-th token of the copy) the induction key
    is `start + j + 1`. Averaged over the `batch.target_mask` queries. An induction
    head scores near 1; a previous-token or uniform head near 0.
    """
    T = pattern.shape[-1]
    # key(q) = q - L + 1 on target queries; a one-hot over keys picks that weight.
    keys = torch.arange(T)[None, None, :] - batch.span[..., None] + 1  # (I, B, q)
    onehot = keys.clamp(0, T - 1)[..., None] == torch.arange(T)  # (I, B, q, k)
    picked = (pattern * onehot[:, :, None]).sum(-1)  # (I, B, H, q)
    mask = batch.target_mask[:, :, None]  # (I, B, 1, q)
    return (picked * mask).sum(dim=(1, 3)) / mask.sum(dim=(1, 3))


@torch.no_grad()
def attention_patterns(model: InductionModel, tokens: torch.Tensor) -> list[torch.Tensor]:
    """Each layer's pattern `(I, B, H, q, k)`, read at `blocks.{l}.attn.hook_pattern`."""
    patterns: list[torch.Tensor] = []
    handles = [
        block.attn.hook_pattern.register_forward_hook(lambda m, i, out: patterns.append(out))
        for block in model.blocks
    ]
    try:
        model(tokens)
    finally:
        for handle in handles:
            handle.remove()
    return patterns


def train_induction(
    cfg: InductionConfig, progress: bool = False
) -> tuple[InductionModel, TrainLog]:
    """Train one host per seed together; seeded and bit-reproducible on one thread.

    Uses only generators seeded from `cfg`; the thread count and kernel flags are the
    caller's (`runtime.make_deterministic` sets what the figures run with).

    Logs, every `cfg.log_every` steps, `loss/{i}` and `acc/{i}` per instance (on its
    training batch's induction targets) and their means `loss` and `acc`.
    """
    model = InductionModel(cfg)
    # The data streams are separate from the initialisation streams (same seeds).
    generators = seed_generators(cfg.seeds, offset=DATA_STREAM)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    warmup = max(1, min(cfg.warmup, cfg.steps // 10 + 1))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup))
    log = TrainLog()
    start = time.perf_counter()
    for step in tqdm(range(1, cfg.steps + 1), disable=not progress, desc="induction host"):
        batch = make_batch(cfg, cfg.batch_size, generators)
        logits = model(batch.tokens)
        losses = repeat_losses(logits, batch)  # (I,)
        optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()  # a sum keeps each instance's gradient its own
        optimizer.step()
        scheduler.step()
        if step % cfg.log_every == 0 or step == cfg.steps:
            acc = _accuracy(logits.detach(), batch)
            row = {"loss": losses.mean().item(), "acc": acc.mean().item()}
            row.update({f"loss/{i}": v for i, v in enumerate(losses.tolist())})
            row.update({f"acc/{i}": v for i, v in enumerate(acc.tolist())})
            log.record(step, row)
    log.seconds = time.perf_counter() - start
    return model.eval(), log
