"""Training throughput of the byte-level language host, beside plain PyTorch.

    .venv/bin/python bench/bench_bytelm.py [--steps N] [--seeds S] [--repeats R]

Both sides train the language section's host (its shape, batch and context; the
library's default where `figures_src` is not importable) on random windows of the
same bytes, one torch thread, AdamW: `symbiote_core.hosts.bytelm` with S seeds as
instances of one set of tensors (the figure build's way), and a plain PyTorch
reference (`nn.Embedding`,
`nn.LayerNorm`, `nn.MultiheadAttention` with a causal mask, `nn.Linear` MLP) trained
one seed after the other. Prints bytes per second (bytes of training windows read per
second of this process's CPU time, summed over seeds) for each, and their ratio. The
two alternate R times in this one process, so load from other processes falls on both
alike; the best repeat of each is kept.

The bytes are the corpus the essay's language section trains on when the pinned
torch is installed (`figures_src._lab.language_host`), else random bytes (the throughput
does not depend on what the bytes say).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
from collections.abc import Callable

import torch
from torch import nn

from symbiote_core.hosts.bytelm import (
    VOCAB,
    ByteLMConfig,
    next_byte_losses,
    random_windows,
    train_bytelm,
)
from symbiote_core.runtime import make_deterministic


class Reference(nn.Module):
    """The same host as `ByteLM` with one instance, written with stock modules."""

    def __init__(self, cfg: ByteLMConfig) -> None:
        super().__init__()
        D = cfg.d_model
        self.embed = nn.Embedding(VOCAB, D)
        self.pos = nn.Parameter(torch.zeros(cfg.context, D).normal_(0, cfg.init_std))
        self.blocks = nn.ModuleList(_RefBlock(cfg) for _ in range(cfg.n_layers))
        self.ln = nn.LayerNorm(D)
        self.unembed = nn.Linear(D, VOCAB)
        mask = torch.full((cfg.context, cfg.context), float("-inf")).triu(diagonal=1)
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:  # (B, T) -> (B, T, 256)
        T = tokens.shape[-1]
        x = self.embed(tokens) + self.pos[:T]
        for block in self.blocks:
            x = block(x, self.mask[:T, :T])
        return self.unembed(self.ln(x))


class _RefBlock(nn.Module):
    def __init__(self, cfg: ByteLMConfig) -> None:
        super().__init__()
        D = cfg.d_model
        self.ln1, self.ln2 = nn.LayerNorm(D), nn.LayerNorm(D)
        self.attn = nn.MultiheadAttention(D, cfg.n_heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(D, cfg.d_mlp), nn.ReLU(), nn.Linear(cfg.d_mlp, D))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.ln2(x))


def train_reference(cfg: ByteLMConfig, stream: torch.Tensor) -> None:
    """Train one reference host per seed, one after the other."""
    for seed in cfg.seeds:
        torch.manual_seed(seed)
        model = Reference(cfg)
        optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        generator = [torch.Generator().manual_seed(seed)]
        for _ in range(cfg.steps):
            windows = random_windows(stream, cfg.batch_size, cfg.context + 1, generator)[0]
            logits = model(windows[:, :-1])[None]
            loss = next_byte_losses(logits, windows[None]).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()


def essay_config(steps: int, seeds: int) -> ByteLMConfig:
    """The language section's host (`figures_src._lab.language_host.HostParams`), or the
    library's default shape where the figures package is not importable."""
    try:
        from figures_src._lab.language_host import HostParams, host_config

        cfg = host_config(HostParams(), tuple(range(seeds)))
    except ImportError:
        cfg = ByteLMConfig(seeds=tuple(range(seeds)))
    return dataclasses.replace(cfg, steps=steps, log_every=steps)


def corpus_stream() -> tuple[torch.Tensor, str]:
    try:
        from figures_src._lab.language_host import load_corpus, split_files

        train, _ = split_files(load_corpus())
        return torch.frombuffer(bytearray(b"".join(train.values())), dtype=torch.uint8), "corpus"
    except Exception as exc:  # any reason the corpus is missing: time random bytes
        generator = torch.Generator().manual_seed(0)
        return torch.randint(0, VOCAB, (1 << 20,), generator=generator, dtype=torch.uint8), (
            f"random bytes ({exc})"
        )


def cpu_seconds(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    make_deterministic(0)
    cfg = essay_config(args.steps, args.seeds)
    stream, what = corpus_stream()
    train_bytelm(dataclasses.replace(cfg, steps=3), stream)  # warm-up: first-call costs
    train_reference(dataclasses.replace(cfg, steps=3, seeds=(0,)), stream)
    bytes_read = args.steps * args.seeds * cfg.batch_size * (cfg.context + 1)
    best = {"symbiote_core": math.inf, "plain PyTorch": math.inf}
    for _ in range(args.repeats):
        best["symbiote_core"] = min(
            best["symbiote_core"], cpu_seconds(lambda: train_bytelm(cfg, stream))
        )
        best["plain PyTorch"] = min(
            best["plain PyTorch"], cpu_seconds(lambda: train_reference(cfg, stream))
        )
    print(
        f"byte host: {cfg.n_layers} layer(s), d_model {cfg.d_model}, d_mlp {cfg.d_mlp}, "
        f"context {cfg.context}, {cfg.batch_size} windows x {args.seeds} seeds x {args.steps} "
        f"steps, on {what}; one thread, best of {args.repeats}"
    )
    for name, seconds in best.items():
        print(f"{name:>14}: {seconds:6.2f} CPU s, {bytes_read / seconds:9,.0f} bytes/s")
    ratio = best["plain PyTorch"] / best["symbiote_core"]
    print(f"symbiote_core / plain PyTorch throughput: {ratio:.2f}x")


if __name__ == "__main__":
    main()
