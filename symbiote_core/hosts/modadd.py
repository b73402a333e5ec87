"""Modular addition host: an embedding + MLP that learns (a + b) mod p and groks.

    e_a, e_b = W_E[a], W_E[b]                         # one shared table, site `embed`
    hidden   = ReLU(W_in [e_a; e_b] + b_in)           # site `mlp.hidden`
    logits   = hidden @ W_U + b_U                     # site `unembed`, (batch, inst, p)

Several independent hosts ("instances", one per seed) train together in one set of
tensors, as the toy host does: every weight has a leading instance axis, activations
a second one, `(batch, n_instances, ...)`. The loss is a sum over instances and AdamW
acts on each number alone, so no instance's update depends on another's; each
instance has its own seeded train/test split and initialisation. Instance i of a
run over seeds `(s0, s1, ...)` is bit-identical to a run over `(si,)` alone (tested),
so a seed's host does not depend on which other seeds train beside it.

Trained full-batch with AdamW and strong weight decay on a seeded fraction of all
p^2 pairs. The training step does not call the hooked `forward`: the pre-activation
of pair (a, b) is `T_a[a] + T_b[b] + b_in` with per-token tables
`T_a = W_E @ W_in[:d]` (p, d_mlp), so the first layer costs p rows instead of one per
pair (about 3x fewer operations; the same function, rounded differently). `forward`
computes the textbook way and fires every hook.

Why an MLP rather than a one-layer transformer: it is several times cheaper on one
CPU thread and learns the same Fourier algorithm (Gromov 2023; Nanda et al. 2023).
The learned algorithm is read with `symbiote_core.fourier`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm  # not tqdm.auto: in a notebook it warns without ipywidgets

from symbiote_core.hosts import TrainLog


@dataclass
class ModAddConfig:
    """Configuration of a batch of modular-addition hosts (one per seed) and their training."""

    p: int = 59
    """Modulus; inputs and outputs are tokens 0..p-1. Odd, so the Fourier basis is
    the constant plus (p-1)/2 cos/sin pairs."""

    d_model: int = 64
    """Width of the token embedding."""

    d_mlp: int = 128
    """Number of hidden ReLU neurons (the `mlp.hidden` site)."""

    train_fraction: float = 0.5
    """Fraction of the p^2 pairs used for training; the rest is the test set."""

    steps: int = 1_500
    """Full-batch optimiser steps."""

    lr: float = 1e-2
    """AdamW peak learning rate."""

    lr_final: float = 1.0
    """The learning rate ends at `lr * lr_final` (1.0: constant throughout)."""

    lr_decay_start: float = 0.0
    """Fraction of the steps after which the learning rate falls, on a half cosine, from
    `lr` to `lr * lr_final`; constant before. A late decay keeps Adam out of the late
    loss spikes ("slingshots", Thilak et al. 2022) that undid one host's generalisation
    at a constant rate, while a decay from the start slowed grokking (AdamW's decay
    step is lr * weight_decay, so it weakens too)."""

    weight_decay: float = 1.0
    """AdamW weight decay; strong decay is what makes the host grok."""

    log_every: int = 10
    """Record train/test loss and accuracy every this many steps (and at step 0 and the end)."""

    log_steps: Sequence[int] = ()
    """If given, record at exactly these steps instead of every `log_every` (e.g.
    log-spaced steps for a log-scaled plot: fine early, sparse late)."""

    checkpoint_every: int = 0
    """Keep an in-memory copy of the state dict every this many steps (and at step 0
    and the end); 0 keeps none."""

    checkpoint_steps: Sequence[int] = ()
    """Also keep a checkpoint at each of these steps."""

    seeds: Sequence[int] = (0,)
    """One host per seed; each seed fixes that host's split, initialisation and training."""

    def __post_init__(self) -> None:
        if self.p < 3 or self.p % 2 == 0:
            raise ValueError(f"ModAddConfig.p must be odd and >= 3, got {self.p}")
        for name in ("d_model", "d_mlp", "steps", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"ModAddConfig.{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 < self.train_fraction < 1.0:
            raise ValueError(
                f"ModAddConfig.train_fraction must be in (0, 1), got {self.train_fraction}"
            )
        if self.lr <= 0 or self.weight_decay < 0:
            raise ValueError(
                f"ModAddConfig needs lr > 0 and weight_decay >= 0, got {self.lr}, {self.weight_decay}"
            )
        for name in ("lr_final", "lr_decay_start"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(
                    f"ModAddConfig.{name} must be in [0, 1], got {getattr(self, name)}"
                )
        if self.checkpoint_every < 0:
            raise ValueError(
                f"ModAddConfig.checkpoint_every must be >= 0, got {self.checkpoint_every}"
            )
        self.seeds = tuple(self.seeds)
        self.log_steps = tuple(self.log_steps)
        self.checkpoint_steps = tuple(self.checkpoint_steps)
        for name in ("log_steps", "checkpoint_steps"):
            if any(not 0 <= s <= self.steps for s in getattr(self, name)):
                raise ValueError(
                    f"ModAddConfig.{name} must lie in [0, steps={self.steps}], got {getattr(self, name)}"
                )
        if not self.seeds or any(not isinstance(s, int) or s < 0 for s in self.seeds):
            raise ValueError(f"ModAddConfig.seeds must be ints >= 0, got {self.seeds!r}")

    @property
    def n_instances(self) -> int:
        return len(self.seeds)


def all_pairs(p: int) -> torch.Tensor:
    """Every input `(p*p, 2)` as rows (a, b); row index a*p + b, so `.view(p, p, ...)`
    of any per-pair result is indexed [a, b]."""
    a = torch.arange(p).repeat_interleave(p)
    b = torch.arange(p).repeat(p)
    return torch.stack([a, b], dim=-1)


def labels(pairs: torch.Tensor, p: int) -> torch.Tensor:
    """Targets (a + b) mod p for pairs `(..., 2)` -> `(...)`."""
    return pairs.sum(dim=-1) % p


def train_test_split(p: int, train_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded split of the row indices of `all_pairs(p)` into (train, test), each sorted."""
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(p * p, generator=generator)
    n_train = round(train_fraction * p * p)
    return order[:n_train].sort().values, order[n_train:].sort().values


class Embed(nn.Module):
    """The token table of every instance, `W_E` `(n_instances, p, d_model)`."""

    def __init__(self, n_instances: int, p: int, d_model: int) -> None:
        super().__init__()
        self.W_E = nn.Parameter(torch.zeros(n_instances, p, d_model))

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        """`(batch, 2)` (the same pairs for every instance) or `(batch, inst, 2)` ->
        `(batch, inst, 2, d_model)`."""
        n = self.W_E.shape[0]
        if pairs.dim() == 2:
            pairs = pairs.unsqueeze(1).expand(-1, n, -1)
        inst = torch.arange(n)[None, :, None]  # (1, inst, 1)
        return self.W_E[inst, pairs]


class MLP(nn.Module):
    """ReLU layer whose post-activation neurons are the `mlp.hidden` hook point."""

    def __init__(self, n_instances: int, d_in: int, d_mlp: int) -> None:
        super().__init__()
        self.W_in = nn.Parameter(torch.zeros(n_instances, d_in, d_mlp))
        self.b_in = nn.Parameter(torch.zeros(n_instances, d_mlp))
        self.hook_pre = nn.Identity()
        self.hidden = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`(batch, inst, d_in)` -> `(batch, inst, d_mlp)`."""
        pre = torch.einsum("bnd,ndm->bnm", x, self.W_in) + self.b_in
        return self.hidden(F.relu(self.hook_pre(pre)))


class Unembed(nn.Module):
    """`(batch, inst, d_mlp)` -> logits `(batch, inst, p)`."""

    def __init__(self, n_instances: int, d_mlp: int, p: int) -> None:
        super().__init__()
        self.W_U = nn.Parameter(torch.zeros(n_instances, d_mlp, p))
        self.b_U = nn.Parameter(torch.zeros(n_instances, p))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.einsum("bnm,nmp->bnp", hidden, self.W_U) + self.b_U


class ModAddModel(nn.Module):
    """`n_instances` hosts (embedding + one ReLU layer + unembedding) in one set of tensors.

    Hook points (module paths): `embed` outputs `(batch, inst, 2, d_model)` (a's and
    b's embeddings); `mlp.hook_pre` and `mlp.hidden` output `(batch, inst, d_mlp)`
    before and after the ReLU; `unembed` outputs the logits `(batch, inst, p)`.
    Inputs are pairs `(batch, 2)`, shared by every instance, or `(batch, inst, 2)`.
    """

    def __init__(self, cfg: ModAddConfig) -> None:
        super().__init__()
        self.cfg = cfg
        n = cfg.n_instances
        self.embed = Embed(n, cfg.p, cfg.d_model)
        self.mlp = MLP(n, 2 * cfg.d_model, cfg.d_mlp)
        self.unembed = Unembed(n, cfg.d_mlp, cfg.p)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Initialise instance i from a generator seeded with `cfg.seeds[i]` alone.

        The embedding starts at N(0, 1/d_model), smaller than nn.Embedding's N(0, 1), so
        weight decay and the loss, not the init scale, decide its shape; the linear
        layers use nn.Linear's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        """
        cfg = self.cfg
        for i, seed in enumerate(cfg.seeds):
            # Offset from the split's stream (seeded with `seed` itself).
            gen = torch.Generator().manual_seed(seed + 10_007)
            self.embed.W_E[i].normal_(0.0, cfg.d_model**-0.5, generator=gen)
            for weight, fan_in in (
                (self.mlp.W_in[i], 2 * cfg.d_model),
                (self.mlp.b_in[i], 2 * cfg.d_model),
                (self.unembed.W_U[i], cfg.d_mlp),
                (self.unembed.b_U[i], cfg.d_mlp),
            ):
                bound = 1.0 / math.sqrt(fan_in)
                weight.uniform_(-bound, bound, generator=gen)

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        """Logits `(batch, inst, p)` for pairs `(batch, 2)` or `(batch, inst, 2)`."""
        e = self.embed(pairs)  # (batch, inst, 2, d_model)
        hidden = self.mlp(e.flatten(2))  # (batch, inst, d_mlp)
        return self.unembed(hidden)  # (batch, inst, p)

    @property
    def W_E(self) -> torch.Tensor:
        """The embedding tables `(inst, p, d_model)`: row x of table i is token x's embedding."""
        return self.embed.W_E

    def _tables(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Each token's contribution to the pre-activation as a or as b, `(inst, p, d_mlp)` each."""
        d = self.cfg.d_model
        W_in = self.mlp.W_in
        return self.W_E @ W_in[:, :d], self.W_E @ W_in[:, d:]

    def fast_logits(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Logits `(inst, n, p)` for per-instance tokens a, b `(inst, n)`; no hooks fire.

        The same function as `forward`, through per-token tables (see module docstring).
        Rows are picked with `index_select` on the tables flattened over instances: its
        backward adds whole rows, which ran 1.4x faster per step than `gather`'s.
        """
        T_a, T_b = self._tables()
        n, p, m = T_a.shape
        offset = (torch.arange(n) * p)[:, None]  # instance i's rows start at i * p
        pre = T_a.reshape(n * p, m).index_select(0, (a + offset).flatten()) + T_b.reshape(
            n * p, m
        ).index_select(0, (b + offset).flatten())
        hidden = F.relu(pre.view(n, -1, m) + self.mlp.b_in[:, None])  # (inst, n, d_mlp)
        return torch.baddbmm(self.unembed.b_U[:, None], hidden, self.unembed.W_U)

    @torch.no_grad()
    def hidden_grid(self) -> torch.Tensor:
        """Post-ReLU neurons over every pair, `(inst, p, p, d_mlp)` indexed [inst, a, b, neuron]:
        per instance, the input `fourier.frequency_purity` expects for neurons. Bypasses
        hooks: this is the host's own computation even while a symbiote is attached."""
        T_a, T_b = self._tables()
        return F.relu(T_a[:, :, None] + T_b[:, None, :] + self.mlp.b_in[:, None, None])

    @torch.no_grad()
    def grid_logits(self) -> torch.Tensor:
        """Logits over every pair, `(inst, p*p, p)`, rows in `all_pairs` order."""
        hidden = self.hidden_grid().flatten(1, 2)  # (inst, p*p, d_mlp)
        return torch.baddbmm(self.unembed.b_U[:, None], hidden, self.unembed.W_U)


def _loss_and_accuracy(
    logits: torch.Tensor, targets: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-instance mean cross-entropy and accuracy, `(inst,)` each, for logits `(inst, n, p)`."""
    ce = F.cross_entropy(logits.transpose(1, 2), targets, reduction="none")  # (inst, n)
    return ce.mean(1), (logits.argmax(-1) == targets).float().mean(1)


def splits(cfg: ModAddConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Row indices of `all_pairs(cfg.p)` for every instance: train `(inst, n_train)`, test `(inst, n_test)`."""
    parts = [train_test_split(cfg.p, cfg.train_fraction, seed) for seed in cfg.seeds]
    return torch.stack([t for t, _ in parts]), torch.stack([t for _, t in parts])


def lr_factor(cfg: ModAddConfig, step: int) -> float:
    """The learning rate at `step` as a fraction of `cfg.lr` (see `lr_decay_start`)."""
    start = cfg.lr_decay_start * cfg.steps
    if step <= start or cfg.lr_final == 1.0:
        return 1.0
    progress = (step - start) / (cfg.steps - start)
    return cfg.lr_final + (1 - cfg.lr_final) * 0.5 * (1 + math.cos(math.pi * progress))


def train_modadd(cfg: ModAddConfig, progress: bool = False) -> tuple[ModAddModel, TrainLog]:
    """Train one host per seed together, full-batch; bit-reproducible on one thread.

    Uses only generators seeded from `cfg`; the thread count and kernel flags are the
    caller's (`runtime.make_deterministic` sets what the figures run with).

    The log records `train_loss/i`, `train_acc/i`, `test_loss/i`, `test_acc/i` for
    instance i every `cfg.log_every` steps or at `cfg.log_steps` (step 0 is before
    any update) and, if asked, checkpoints of the whole batch.
    """
    p = cfg.p
    train_idx, test_idx = splits(cfg)
    y_all = labels(all_pairs(p), p)
    y_train, y_test = y_all[train_idx], y_all[test_idx]
    a_train, b_train = train_idx // p, train_idx % p

    model = ModAddModel(cfg)
    # betas (0.9, 0.98) as in Nanda et al.'s grokking runs: a shorter second-moment
    # memory keeps the late, slow phase of weight decay moving.
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98)
    )
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(cfg, step))
    log = TrainLog()

    log_at = set(cfg.log_steps)
    keep_at = set(cfg.checkpoint_steps)

    def observe(step: int) -> None:
        if (step in log_at) if log_at else (step % cfg.log_every == 0 or step == cfg.steps):
            logits = model.grid_logits()  # (inst, p*p, p)
            row: dict[str, float] = {}
            for split, idx, y in (("train", train_idx, y_train), ("test", test_idx, y_test)):
                chosen = logits.gather(1, idx[..., None].expand(-1, -1, p))
                loss, acc = _loss_and_accuracy(chosen, y)
                row |= {f"{split}_loss/{i}": v for i, v in enumerate(loss.tolist())}
                row |= {f"{split}_acc/{i}": v for i, v in enumerate(acc.tolist())}
            log.record(step, row)
        every = cfg.checkpoint_every and (step % cfg.checkpoint_every == 0 or step == cfg.steps)
        if every or step in keep_at:
            log.checkpoints[step] = {k: v.detach().clone() for k, v in model.state_dict().items()}

    start = time.perf_counter()
    observe(0)
    for step in tqdm(range(1, cfg.steps + 1), disable=not progress, desc="modadd hosts"):
        per_instance = _loss_and_accuracy(model.fast_logits(a_train, b_train), y_train)[0]
        loss = per_instance.sum()  # a sum keeps each instance's gradient its own
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        observe(step)
    log.seconds = time.perf_counter() - start
    return model.eval(), log


@torch.no_grad()
def evaluate(model: ModAddModel, pairs: torch.Tensor, targets: torch.Tensor) -> tuple[list, list]:
    """Per-instance (cross-entropy losses, accuracies) on pairs `(n, 2)` with targets `(n,)`,
    through the hooked `forward`."""
    logits = model(pairs).transpose(0, 1)  # (inst, n, p)
    loss, acc = _loss_and_accuracy(logits, targets.expand(logits.shape[0], -1))
    return loss.tolist(), acc.tolist()


def load_checkpoint(cfg: ModAddConfig, log: TrainLog, step: int) -> ModAddModel:
    """A fresh batch of hosts holding the checkpoint `log` kept at `step`."""
    if step not in log.checkpoints:
        raise ValueError(
            f"no checkpoint at step {step}; kept steps are {sorted(log.checkpoints)} "
            "(set ModAddConfig.checkpoint_every to keep more)"
        )
    model = ModAddModel(cfg)
    model.load_state_dict(log.checkpoints[step])
    return model.eval()
