"""Byte-level language host: a small transformer that predicts the next byte of text.

The vocabulary is the 256 byte values, so there is no tokenizer between the text and
the host, and every activation sits at one byte, where exact labels can be computed
(for Python source: `symbiote_core.source_labels`). A GPT-style decoder: byte and
position embeddings, `n_layers` pre-LayerNorm blocks (causal multi-head attention,
then a ReLU MLP), a final LayerNorm and an unembedding.

Seeds train together. One host per entry of `ByteLMConfig.seeds` ("instances") lives in
one set of tensors with a leading instance axis, as in `symbiote_core.hosts.induction`:
the loss is a sum over instances, so each instance's gradient is its own, and AdamW is
elementwise. Each instance draws its initialisation and its training windows from its
own generators (seeded by its seed), so an instance does not depend on which other
seeds train beside it. `initial_host(cfg, stream)` is each trained host's own starting
point: the random-init twin.

Shapes (I instances, B windows, T bytes): bytes `(I, B, T)` long. Hook points:
`hook_embed` (byte + position) and, per layer l, `blocks.{l}.hook_resid_mid` (after
attention), `blocks.{l}.mlp.hook_hidden` (the MLP's ReLU neurons, `(I, B, T, d_mlp)`),
`blocks.{l}.hook_resid_post`; then `hook_final` (after the final LayerNorm) and
`hook_logits`. Residual sites are `(I, B, T, d_model)`.

Why ReLU and not GELU: a neuron then either fires or does not, which is what the essay
compares dictionary latents with (a privileged basis whose units have an on/off state).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from tqdm import tqdm  # not tqdm.auto: in a notebook it warns without ipywidgets

from symbiote_core.hosts import TrainLog

VOCAB = 256
"""Byte values."""
BITS = 1 / math.log(2)
"""Nats to bits."""
DATA_STREAM = 1_000_003
"""Added to each seed for its training-window generator (initialisation uses the seed)."""


@dataclass
class ByteLMConfig:
    """A batch of byte-level hosts (one per seed), their shape and their training."""

    n_layers: int = 1
    """Transformer blocks (attention + MLP each)."""
    d_model: int = 64
    """Residual stream width."""
    n_heads: int = 4
    """Attention heads per block; d_head = d_model // n_heads."""
    d_mlp: int = 256
    """ReLU neurons per MLP."""
    context: int = 64
    """Bytes per window: the host predicts byte t + 1 from bytes up to t within it."""
    steps: int = 1000
    """Optimiser steps, each on fresh random windows of the training stream."""
    batch_size: int = 32
    """Windows per step and instance."""
    lr: float = 3e-3
    """AdamW peak learning rate: linear warm-up, then a cosine down to `lr_final`."""
    lr_final: float = 0.1
    """The learning rate at the last step, as a fraction of `lr`."""
    warmup: int = 50
    """Steps of linear warm-up."""
    weight_decay: float = 0.01
    """AdamW weight decay (on every parameter, LayerNorm gains included: kept simple)."""
    init_std: float = 0.02
    """Standard deviation of the normal initialisation of every matrix (GPT-2's)."""
    unigram_bias: bool = True
    """Start the unembedding bias at the log frequencies of the training bytes (add-one
    smoothed), so that training does not spend its first steps learning them and the
    untrained host already predicts as well as a unigram model (`initial_host` sets it;
    `ByteLM(cfg)` alone starts at zero)."""
    log_every: int = 100
    """Record the training loss every this many steps (and at the last step)."""
    seeds: tuple[int, ...] = (0,)
    """One host per seed, trained together; each seeds its own initialisation and data."""

    def __post_init__(self) -> None:
        for name in ("n_layers", "d_model", "n_heads", "d_mlp", "steps", "batch_size", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"ByteLMConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.context < 2:
            raise ValueError(f"ByteLMConfig.context must be >= 2, got {self.context}")
        self.seeds = tuple(int(s) for s in self.seeds)
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"ByteLMConfig.seeds must be distinct and non-empty, got {self.seeds}")
        if self.d_model % self.n_heads:
            raise ValueError(
                f"ByteLMConfig.d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})"
            )
        if self.lr <= 0 or not 0 < self.lr_final <= 1 or self.weight_decay < 0 or self.warmup < 0:
            raise ValueError(
                "ByteLMConfig needs lr > 0, 0 < lr_final <= 1, weight_decay >= 0 and warmup >= 0, "
                f"got {self.lr}, {self.lr_final}, {self.weight_decay}, {self.warmup}"
            )

    @property
    def n_instances(self) -> int:
        return len(self.seeds)


class LayerNorm(nn.Module):
    """LayerNorm over the last axis with a gain and bias per instance."""

    def __init__(self, n_instances: int, d: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n_instances, d))
        self.bias = nn.Parameter(torch.zeros(n_instances, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (I, B, T, d)
        x = torch.nn.functional.layer_norm(x, x.shape[-1:], eps=1e-5)
        return x * self.weight[:, None, None] + self.bias[:, None, None]


class Attention(nn.Module):
    """Causal multi-head attention of I instances."""

    def __init__(self, cfg: ByteLMConfig) -> None:
        super().__init__()
        K, D = cfg.n_instances, cfg.d_model
        self.n_heads, self.d_head = cfg.n_heads, D // cfg.n_heads
        self.W_QKV = nn.Parameter(torch.empty(K, D, 3 * D))  # x @ W_QKV: (q | k | v)
        self.W_O = nn.Parameter(torch.empty(K, D, D))
        self.hook_pattern = nn.Identity()
        mask = torch.full((cfg.context, cfg.context), float("-inf")).triu(diagonal=1)
        self.register_buffer("causal", mask, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        K, B, T, D = x.shape
        qkv = (x.reshape(K, B * T, D) @ self.W_QKV).view(K, B, T, 3, self.n_heads, self.d_head)
        q, k, v = qkv.permute(3, 0, 1, 4, 2, 5).unbind(0)  # (I, B, H, T, dh) each
        scores = (q / math.sqrt(self.d_head)) @ k.transpose(-1, -2) + self.causal[:T, :T]
        pattern = self.hook_pattern(scores.softmax(dim=-1))  # (I, B, H, q, k)
        z = (pattern @ v).permute(0, 1, 3, 2, 4).reshape(K, B * T, D)  # heads side by side
        return (z @ self.W_O).view(K, B, T, D)


class MLP(nn.Module):
    def __init__(self, cfg: ByteLMConfig) -> None:
        super().__init__()
        K, D, M = cfg.n_instances, cfg.d_model, cfg.d_mlp
        self.W_in = nn.Parameter(torch.empty(K, D, M))
        self.b_in = nn.Parameter(torch.zeros(K, M))
        self.W_out = nn.Parameter(torch.empty(K, M, D))
        self.b_out = nn.Parameter(torch.zeros(K, D))
        self.hook_hidden = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        K, B, T, D = x.shape
        pre = x.reshape(K, B * T, D) @ self.W_in + self.b_in[:, None]
        hidden = self.hook_hidden(torch.relu(pre).view(K, B, T, -1))  # (I, B, T, d_mlp)
        out = hidden.reshape(K, B * T, -1) @ self.W_out + self.b_out[:, None]
        return out.view(K, B, T, D)


class Block(nn.Module):
    """Pre-LayerNorm block: x + attn(ln(x)), then + mlp(ln(.))."""

    def __init__(self, cfg: ByteLMConfig) -> None:
        super().__init__()
        self.ln_attn = LayerNorm(cfg.n_instances, cfg.d_model)
        self.attn = Attention(cfg)
        self.hook_resid_mid = nn.Identity()
        self.ln_mlp = LayerNorm(cfg.n_instances, cfg.d_model)
        self.mlp = MLP(cfg)
        self.hook_resid_post = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.hook_resid_mid(x + self.attn(self.ln_attn(x)))
        return self.hook_resid_post(x + self.mlp(self.ln_mlp(x)))


class ByteLM(nn.Module):
    """Byte + position embedding, `n_layers` blocks, final LayerNorm, unembedding; one
    host per instance. Built and not trained, it is the random-init twin."""

    def __init__(self, cfg: ByteLMConfig) -> None:
        super().__init__()
        self.cfg = cfg
        K, D = cfg.n_instances, cfg.d_model
        self.W_E = nn.Parameter(torch.empty(K, VOCAB, D))
        self.W_pos = nn.Parameter(torch.empty(K, cfg.context, D))
        self.hook_embed = nn.Identity()
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_final = LayerNorm(K, D)
        self.hook_final = nn.Identity()
        self.W_U = nn.Parameter(torch.empty(K, D, VOCAB))
        self.b_U = nn.Parameter(torch.zeros(K, VOCAB))
        self.hook_logits = nn.Identity()
        with torch.no_grad():
            for i, generator in enumerate(_generators(cfg.seeds)):
                # Instance by instance from its own generator, in a fixed order; biases
                # and LayerNorms keep their zeros and ones.
                for name, param in self.named_parameters():
                    if param.dim() == 3:
                        std = cfg.init_std
                        if name.endswith(("W_O", "W_out")):  # GPT-2: residual writes scaled
                            std /= math.sqrt(2 * cfg.n_layers)
                        param[i].normal_(0.0, std, generator=generator)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits `(I, B, T, 256)` for bytes `(I, B, T)`."""
        K, B, T = tokens.shape
        instance = torch.arange(K)[:, None, None]
        x = self.hook_embed(self.W_E[instance, tokens] + self.W_pos[:, None, :T])
        for block in self.blocks:
            x = block(x)
        x = self.hook_final(self.ln_final(x))
        logits = x.reshape(K, B * T, -1) @ self.W_U + self.b_U[:, None]
        return self.hook_logits(logits.view(K, B, T, VOCAB))


def _generators(seeds: Sequence[int], offset: int = 0) -> list[torch.Generator]:
    return [torch.Generator().manual_seed(seed + offset) for seed in seeds]


def random_windows(
    stream: torch.Tensor, n: int, length: int, generators: Sequence[torch.Generator]
) -> torch.Tensor:
    """`(I, n, length)` windows of `stream` (a 1-D uint8 tensor) at random starts, one
    set per generator."""
    starts = torch.stack(
        [torch.randint(0, len(stream) - length + 1, (n,), generator=g) for g in generators]
    )
    return stream[starts[..., None] + torch.arange(length)].long()


def next_byte_losses(logits: torch.Tensor, windows: torch.Tensor) -> torch.Tensor:
    """Cross-entropy in nats `(I, B, T - 1)` of each byte given the ones before it.

    `windows` `(I, B, T)`; `logits` from `model(windows[..., :-1])` or of the whole window
    (the last position, which has no next byte, is dropped).
    """
    logits = logits[..., : windows.shape[-1] - 1, :]
    logp = logits.log_softmax(dim=-1)
    return -logp.gather(-1, windows[..., 1:, None])[..., 0]


@torch.no_grad()
def bits_per_byte(model: ByteLM, windows: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """Mean next-byte cross-entropy in bits `(I,)` over every position of `windows`
    `(N, context + 1)` (the same windows for every instance), in chunks of `batch`."""
    total = torch.zeros(model.cfg.n_instances, dtype=torch.float64)
    count = 0
    for chunk in windows.split(batch):
        x = chunk.expand(model.cfg.n_instances, *chunk.shape)
        losses = next_byte_losses(model(x[..., :-1]), x)  # (I, b, T)
        total += losses.double().sum(dim=(1, 2))
        count += losses[0].numel()
    return (total / count * BITS).float()


def unigram_log_frequencies(stream: torch.Tensor) -> torch.Tensor:
    """`(256,)` log of each byte's add-one smoothed frequency in `stream`."""
    counts = torch.bincount(stream.long(), minlength=VOCAB).double() + 1
    return (counts / counts.sum()).log().float()


def initial_host(cfg: ByteLMConfig, stream: torch.Tensor) -> ByteLM:
    """The hosts as training starts on `stream`: the random-init twins of the trained ones."""
    model = ByteLM(cfg)
    if cfg.unigram_bias:
        with torch.no_grad():
            model.b_U.copy_(unigram_log_frequencies(stream).expand_as(model.b_U))
    return model


def train_bytelm(
    cfg: ByteLMConfig, stream: torch.Tensor, progress: bool = False
) -> tuple[ByteLM, TrainLog]:
    """Train one host per seed together on random windows of `stream` (uint8 bytes).

    Seeded and bit-reproducible on one thread; thread count and kernel flags are the
    caller's. Logs, every `cfg.log_every` steps, `bits/{i}` per instance (the training
    batch's mean next-byte loss in bits) and their mean `bits`.
    """
    model = initial_host(cfg, stream)
    generators = _generators(cfg.seeds, DATA_STREAM)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    warmup = max(1, cfg.warmup)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        done = (step - warmup) / max(1, cfg.steps - warmup)
        return cfg.lr_final + (1 - cfg.lr_final) * 0.5 * (1 + math.cos(math.pi * done))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    log = TrainLog()
    start = time.perf_counter()
    for step in tqdm(range(1, cfg.steps + 1), disable=not progress, desc="byte host"):
        windows = random_windows(stream, cfg.batch_size, cfg.context + 1, generators)
        losses = next_byte_losses(model(windows[..., :-1]), windows).mean(dim=(1, 2))  # (I,)
        optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()  # a sum keeps each instance's gradient its own
        optimizer.step()
        scheduler.step()
        if step % cfg.log_every == 0 or step == cfg.steps:
            bits = (losses.detach() * BITS).tolist()
            row = {"bits": sum(bits) / len(bits)} | {f"bits/{i}": b for i, b in enumerate(bits)}
            log.record(step, row)
    log.seconds = time.perf_counter() - start
    return model.eval(), log


def logits_from_mid(model: ByteLM, layer: int, x: torch.Tensor) -> torch.Tensor:
    """The rest of the forward pass from block `layer`'s residual stream after attention
    (what `blocks.{layer}.hook_resid_mid` outputs), `(I, B, T, d_model)` -> logits.

    With `x` read at that site this is `model(tokens)`'s logits (tests check it), without
    recomputing the attention before it: an edit at that site (steering) then costs only
    the MLPs and the unembedding. Hooks inside the modules it runs fire as usual.
    """
    block = model.blocks[layer]
    x = block.hook_resid_post(x + block.mlp(block.ln_mlp(x)))
    for later in model.blocks[layer + 1 :]:
        x = later(x)
    K, B, T, D = x.shape
    x = model.hook_final(model.ln_final(x))
    logits = x.reshape(K, B * T, D) @ model.W_U + model.b_U[:, None]
    return model.hook_logits(logits.view(K, B, T, -1))
