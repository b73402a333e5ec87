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

Measured on 1 thread with the defaults (seeds 0-2): training accuracy sits near 0.03
for ~200 steps, then passes 0.8 by step 400-500; held-out accuracy 0.998-0.999 after
1,000 steps (20-25 s alone, 35-50 s sharing the CPU). Layer 0 grows one or two
previous-token heads (score 0.79-0.82), layer 1 four induction heads (0.86-0.98).
The 1-layer control ends at 0.26-0.27.

Why L and the start vary: with a fixed offset between the copies the model reaches
100% by attending a fixed number of positions back (a positional shortcut) and
grows no induction circuit.

Hook points per layer l: `blocks.{l}.attn.hook_pattern` (batch, heads, q, k) after the
softmax, `blocks.{l}.attn.hook_z` (batch, seq, heads, d_head) each head's output
before W_O (zero one head there to ablate it), `blocks.{l}.hook_resid_post`
(batch, seq, d_model). Also `embed`, `pos_embed`, `hook_embed` (token + position) and
`unembed` (logits).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm  # not tqdm.auto: in a notebook it warns without ipywidgets

from symbiote_core.hosts import TrainLog
from symbiote_core.runtime import make_deterministic


@dataclass
class InductionConfig:
    """Configuration of the induction host, its data and its training."""

    n_layers: int = 2
    """Attention layers; 1 gives the control that cannot form induction heads."""

    n_heads: int = 4
    """Heads per layer."""

    d_model: int = 64
    """Residual stream width; d_head = d_model // n_heads."""

    vocab_size: int = 64
    """Tokens; must be at least `seq_len` since tokens in a sequence are distinct."""

    seq_len: int = 32
    """Tokens per sequence."""

    min_span: int = 4
    """Shortest repeated span L."""

    max_span: int = 12
    """Longest repeated span L; 2 * max_span <= seq_len."""

    steps: int = 1_000
    """Optimiser steps, each on a fresh batch. Measured (seeds 0-2, defaults): training
    accuracy passes 0.8 at 400-500 steps, after a plateau near chance."""

    batch_size: int = 128
    """Sequences per step. 64 at lr 1e-3 formed the circuit anywhere from 1,000 to
    more than 2,500 steps depending on the seed."""

    lr: float = 3e-3
    """AdamW learning rate (constant after a short warm-up)."""

    weight_decay: float = 0.01
    """AdamW weight decay."""

    log_every: int = 100
    """Record loss and accuracy every this many steps (and at the last step)."""

    seed: int = 0
    """Seeds initialisation and the training data stream."""

    def __post_init__(self) -> None:
        for name in ("n_layers", "n_heads", "d_model", "steps", "batch_size", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"InductionConfig.{name} must be >= 1, got {getattr(self, name)}")
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
        if self.vocab_size < self.seq_len:
            raise ValueError(
                f"InductionConfig.vocab_size ({self.vocab_size}) must be >= seq_len "
                f"({self.seq_len}): the tokens of a sequence are drawn without replacement"
            )
        if self.lr <= 0 or self.weight_decay < 0:
            raise ValueError(
                f"InductionConfig needs lr > 0 and weight_decay >= 0, got {self.lr}, {self.weight_decay}"
            )


class Batch(NamedTuple):
    """A batch of `[filler] S S [filler]` sequences and where the span sits."""

    tokens: torch.Tensor
    """`(batch, seq)` long."""

    start: torch.Tensor
    """`(batch,)` position of the first copy of S."""

    span: torch.Tensor
    """`(batch,)` length L of S; the second copy starts at `start + span`."""

    target_mask: torch.Tensor
    """`(batch, seq)` bool: positions q in the second copy whose next token (q + 1) is
    also in it, so induction predicts it (L - 1 per sequence). Loss and accuracy use
    only these."""


def make_batch(cfg: InductionConfig, batch: int, generator: torch.Generator | None = None) -> Batch:
    """Draw `batch` sequences; seeded by `generator`."""
    T = cfg.seq_len
    # Distinct tokens per row: the first T of a random permutation of the vocabulary.
    tokens = torch.rand(batch, cfg.vocab_size, generator=generator).argsort(dim=-1)[:, :T]
    span = torch.randint(cfg.min_span, cfg.max_span + 1, (batch,), generator=generator)
    # start uniform in [0, T - 2L]: a float draw keeps one call for rows of different L.
    start = (torch.rand(batch, generator=generator) * (T - 2 * span + 1)).floor().long()
    pos = torch.arange(T)  # (seq,)
    offset = pos[None, :] - start[:, None]  # (batch, seq) position relative to the span
    second = (offset >= span[:, None]) & (offset < 2 * span[:, None])
    # Copy: position start + L + j takes the token at start + j.
    source = torch.where(second, pos[None, :] - span[:, None], pos[None, :])
    tokens = tokens.gather(1, source)
    target_mask = (offset >= span[:, None]) & (offset < 2 * span[:, None] - 1)
    return Batch(tokens, start, span, target_mask)


class Attention(nn.Module):
    """Causal multi-head attention with its pattern and per-head outputs as hook points."""

    def __init__(self, cfg: InductionConfig) -> None:
        super().__init__()
        self.n_heads, self.d_head = cfg.n_heads, cfg.d_model // cfg.n_heads
        self.W_QKV = nn.Linear(cfg.d_model, 3 * cfg.d_model, bias=False)
        self.W_O = nn.Linear(cfg.d_model, cfg.d_model, bias=False)
        self.hook_pattern = nn.Identity()
        self.hook_z = nn.Identity()
        mask = torch.ones(cfg.seq_len, cfg.seq_len, dtype=torch.bool).tril()
        self.register_buffer("causal", mask, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        q, k, v = self.W_QKV(x).view(B, T, 3, self.n_heads, self.d_head).unbind(dim=2)
        # (B, T, nh, hs) each
        scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(self.d_head)
        scores = scores.masked_fill(~self.causal[:T, :T], float("-inf"))
        pattern = self.hook_pattern(scores.softmax(dim=-1))  # (B, nh, q, k)
        z = self.hook_z(torch.einsum("bhqk,bkhd->bqhd", pattern, v))  # (B, T, nh, hs)
        return self.W_O(z.flatten(2))  # (B, T, d_model)


class Block(nn.Module):
    """One attention-only residual block (no MLP, no LayerNorm: the circuit stays linear
    apart from the softmax, as in Elhage et al. 2021)."""

    def __init__(self, cfg: InductionConfig) -> None:
        super().__init__()
        self.attn = Attention(cfg)
        self.hook_resid_post = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.hook_resid_post(x + self.attn(x))  # (B, T, d_model)


class InductionModel(nn.Module):
    """Token + position embedding, `n_layers` attention-only blocks, unembedding."""

    def __init__(self, cfg: InductionConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos_embed = nn.Embedding(cfg.seq_len, cfg.d_model)
        self.hook_embed = nn.Identity()
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.unembed = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        for module in self.modules():
            if isinstance(module, nn.Linear | nn.Embedding):
                nn.init.normal_(module.weight, std=0.02)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits `(batch, seq, vocab)` for tokens `(batch, seq)`."""
        pos = torch.arange(tokens.shape[1])
        x = self.hook_embed(self.embed(tokens) + self.pos_embed(pos))  # (B, T, d_model)
        for block in self.blocks:
            x = block(x)
        return self.unembed(x)  # (B, T, vocab)


def repeat_loss(logits: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Cross-entropy on the induction targets only (`batch.target_mask`)."""
    targets = batch.tokens.roll(-1, dims=1)  # (B, T): token at q + 1
    return F.cross_entropy(logits[batch.target_mask], targets[batch.target_mask])


@torch.no_grad()
def repeat_accuracy(model: InductionModel, batch: Batch) -> float:
    """Top-1 accuracy on the predictable half of the second copy (`batch.target_mask`)."""
    logits = model(batch.tokens)
    targets = batch.tokens.roll(-1, dims=1)
    hit = logits.argmax(dim=-1) == targets
    return hit[batch.target_mask].float().mean().item()


def previous_token_score(pattern: torch.Tensor) -> torch.Tensor:
    """Per head `(heads,)`: mean attention from each query q >= 1 to key q - 1.

    `pattern` is `(batch, heads, q, k)`. 1.0 means the head always looks exactly one
    token back; a uniform causal head scores mean(1/(q+1)) over q >= 1, 0.099 at seq 32.
    """
    prev = pattern.diagonal(offset=-1, dim1=-2, dim2=-1)  # (batch, heads, seq - 1)
    return prev.mean(dim=(0, 2))


def induction_score(pattern: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Per head `(heads,)`: mean attention from a token of the second copy of S to the
    token right after that token's first occurrence.

    For the query at `start + L + j` (the j-th token of the copy) the induction key
    is `start + j + 1`. Averaged over the `batch.target_mask` queries. An induction
    head scores near 1; a previous-token or uniform head near 0.
    """
    q_idx = batch.target_mask.nonzero()  # (n, 2): (row, query position)
    rows, queries = q_idx[:, 0], q_idx[:, 1]
    keys = queries - batch.span[rows] + 1
    return pattern[rows, :, queries, keys].mean(dim=0)  # (heads,)


@torch.no_grad()
def attention_patterns(model: InductionModel, tokens: torch.Tensor) -> list[torch.Tensor]:
    """Each layer's pattern `(batch, heads, q, k)`, read at `blocks.{l}.attn.hook_pattern`."""
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
    """Train on fresh batches; seeded and bit-reproducible on one thread.

    Logs `loss` and `acc` (the training batch's induction targets) every `cfg.log_every` steps.
    """
    generator = make_deterministic(cfg.seed)
    model = InductionModel(cfg)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    warmup = min(100, cfg.steps // 10 + 1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup))
    log = TrainLog()
    start = time.perf_counter()
    for step in tqdm(range(1, cfg.steps + 1), disable=not progress, desc="induction host"):
        batch = make_batch(cfg, cfg.batch_size, generator)
        logits = model(batch.tokens)
        loss = repeat_loss(logits, batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        if step % cfg.log_every == 0 or step == cfg.steps:
            targets = batch.tokens.roll(-1, dims=1)
            hit = (logits.argmax(dim=-1) == targets)[batch.target_mask]
            log.record(step, {"loss": loss.item(), "acc": hit.float().mean().item()})
    log.seconds = time.perf_counter() - start
    return model.eval(), log
