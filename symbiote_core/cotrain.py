"""Symbiosis proper: a host trained together with the symbiote that reads it.

Every other symbiote in this package trains on a frozen host. Here both train at once:
each step the host takes a gradient of its task loss plus a coupling term that the
symbiote supplies, and the symbiote takes `symbiote_steps` steps on its own loss at the
same site (one by default; a reader that must keep up with a moving host needs more to
read it as well as a reader fitted to the frozen host does).

    host:     L_task + coupling * (L_task / D).detach() * D
    symbiote: its own loss on the site's activations (detached: the symbiote never
              pushes on the host through its own training signal)

where D is the symbiote's normalised reconstruction error of the site (its fraction of
variance unexplained). The factor `(L_task / D).detach()` makes `coupling` relative:
at every step the coupling term weighs `coupling` times the task loss, and its gradient
is `coupling * L_task * grad(log D)`. A raw `coupling * D` mixes the two losses' units
and, on the toy host, gave a cliff (no effect up to one value, collapse at three times
it) rather than a trade-off that a sweep can map.

Batched: host and symbiote may hold several instances (one per seed and coupling);
`coupling` is then one value per instance and each instance's losses are its own.

The host's optimiser is Adam, or AdamW when `host_weight_decay` is set, with an
optional learning-rate schedule: a host that groks (the modular-addition host) needs
the decoupled weight decay and the schedule it trains with alone, so that a coupling
of 0 trains it exactly as it trains without a symbiote.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

Observer = Callable[[int, nn.Module], None]
"""`observe(step, host)`: called before the first update (step 0) and after every
update (steps 1..steps), to measure the host during training; it must not change it."""

TaskStep = Callable[[nn.Module, torch.Generator], tuple[torch.Tensor, torch.Tensor]]
"""`task(host, generator) -> (task_loss (n_instances,), activations (batch, n_instances, d))`:
one fresh batch through the host, its per-instance task loss and the site the symbiote
reads (still attached to the host's graph)."""


@dataclass
class CoTrainConfig:
    """Optimisers and coupling for `cotrain`."""

    coupling: float | Sequence[float] = 0.0
    """Weight of the symbiote's term relative to the task loss; one value, or one per
    instance. 0 trains the host exactly as if no symbiote were there."""
    steps: int = 2000
    """Host optimiser steps."""
    symbiote_steps: int = 1
    """Symbiote optimiser steps per host step, all on that step's activations: a reader
    that must track a moving host needs more than one step per host step to read it as
    well as a reader fitted to the frozen host does."""
    host_lr: float = 3e-3
    symbiote_lr: float = 3e-3
    host_weight_decay: float = 0.0
    """Decoupled weight decay of the host (AdamW); 0 keeps plain Adam."""
    host_betas: tuple[float, float] = (0.9, 0.999)
    host_lr_factor: Callable[[int], float] | None = None
    """The host's learning rate at each step as a fraction of `host_lr` (a
    `LambdaLR` schedule); None keeps it constant."""
    seed: int = 0
    """Seeds the data generator handed to `task`."""
    log_every: int = 100

    def __post_init__(self) -> None:
        for name in ("steps", "symbiote_steps", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"CoTrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        values = [self.coupling] if isinstance(self.coupling, int | float) else self.coupling
        if any(not v >= 0 for v in values):
            raise ValueError(f"CoTrainConfig.coupling must be >= 0, got {self.coupling}")
        if not self.host_weight_decay >= 0:
            raise ValueError(
                f"CoTrainConfig.host_weight_decay must be >= 0, got {self.host_weight_decay}"
            )

    def couplings(self, n_instances: int) -> list[float]:
        c = self.coupling
        values = [float(c)] * n_instances if isinstance(c, int | float) else [float(v) for v in c]
        if len(values) != n_instances:
            raise ValueError(
                f"CoTrainConfig.coupling has {len(values)} values for {n_instances} instances"
            )
        return values


@dataclass
class CoTrainLog:
    """Per logging window: step, mean task loss and mean symbiote FVU, per instance."""

    history: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0


def normalised_error(acts: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
    """Fraction of variance unexplained per instance: `(batch, n, d) -> (n,)`."""
    err = (acts - recon).pow(2).sum(-1).mean(0)
    var = (acts - acts.mean(0)).pow(2).sum(-1).mean(0)
    return err / var.clamp_min(1e-12)


def cotrain(
    host: nn.Module,
    symbiote: nn.Module,
    task: TaskStep,
    cfg: CoTrainConfig,
    observe: Observer | None = None,
) -> CoTrainLog:
    """Train `host` on `task` with a coupling to `symbiote`, and `symbiote` on the host.

    `symbiote` is a dictionary (it has `forward(x).recon`, `loss(x)`, and optionally
    `init_from_data` and `post_step`). Both modules are trained in place and left in
    eval mode. Bit-reproducible on one thread for fixed initial weights and `cfg.seed`.
    """
    generator = torch.Generator().manual_seed(cfg.seed)
    host_params = [p for p in host.parameters() if p.requires_grad]
    host_opt: torch.optim.Optimizer
    if cfg.host_weight_decay > 0:
        host_opt = torch.optim.AdamW(
            host_params, lr=cfg.host_lr, betas=cfg.host_betas, weight_decay=cfg.host_weight_decay
        )
    else:
        host_opt = torch.optim.Adam(host_params, lr=cfg.host_lr, betas=cfg.host_betas)
    schedule = (
        torch.optim.lr_scheduler.LambdaLR(host_opt, cfg.host_lr_factor)
        if cfg.host_lr_factor is not None
        else None
    )
    # Fused Adam: one kernel per parameter instead of ~10 tensor ops (as `train.train`).
    sym_opt = torch.optim.Adam(symbiote.parameters(), lr=cfg.symbiote_lr, fused=True)
    coupling: torch.Tensor | None = None
    log = CoTrainLog()
    window: list[tuple[torch.Tensor, torch.Tensor]] = []
    host.train()
    symbiote.train()
    start = time.perf_counter()
    if observe is not None:
        observe(0, host)
    for step in range(cfg.steps):
        task_loss, acts = task(host, generator)  # (n,), (batch, n, d)
        if coupling is None:
            coupling = torch.tensor(cfg.couplings(task_loss.numel()))
            if hasattr(symbiote, "init_from_data"):
                symbiote.init_from_data(acts.detach())
        error = normalised_error(acts, symbiote(acts).recon)  # (n,), through the host
        scale = (task_loss / error.clamp_min(1e-12)).detach()
        host_total = (task_loss + coupling * scale * error).sum()
        # Only the host's parameters take this gradient; the symbiote's come from its own loss.
        grads = torch.autograd.grad(host_total, host_params)
        for p, g in zip(host_params, grads, strict=True):
            p.grad = g
        host_opt.step()
        host_opt.zero_grad(set_to_none=True)
        if schedule is not None:
            schedule.step()

        read = acts.detach()
        for _ in range(cfg.symbiote_steps):
            _symbiote_step(symbiote, sym_opt, read)
        if observe is not None:
            observe(step + 1, host)

        window.append((task_loss.detach(), error.detach()))
        if len(window) == cfg.log_every or step + 1 == cfg.steps:
            losses = torch.stack([w[0] for w in window]).mean(0)
            errors = torch.stack([w[1] for w in window]).mean(0)
            log.history.append(
                {"step": step + 1, "task_loss": losses.tolist(), "symbiote_fvu": errors.tolist()}
            )
            window = []
    log.seconds = time.perf_counter() - start
    host.eval()
    symbiote.eval()
    return log


def catch_up(
    symbiote: nn.Module,
    acts: torch.Tensor,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int = 0,
    decay_from: float = 1.0,
) -> None:
    """Train a co-trained `symbiote` further on its frozen host's activations.

    `acts` is `(rows, n_instances, d)`, the site over the data the host is read on. A reader
    that tracked a moving host lags a reader fitted to the frozen one; these reader-only
    steps (fresh Adam, batches drawn with replacement or, when `batch_size` reaches the
    rows, every row each step; no re-initialisation: the co-trained
    dictionary is the starting point) let it catch up, so that its error can be compared
    with a fresh reader's trained the same way (a fresh dictionary passed here, after its
    `init_from_data`, is that reader). After `decay_from` of the steps the learning rate
    falls linearly to 0 at the last step (1 keeps it constant): the minibatch noise that
    holds a constant-rate reader above its optimum then dies away. The host is untouched.
    Left in eval mode.
    """
    if steps < 0 or batch_size < 1 or not 0 <= decay_from <= 1:
        raise ValueError(
            "catch_up needs steps >= 0, batch_size >= 1 and 0 <= decay_from <= 1, got "
            f"{steps}, {batch_size}, {decay_from}"
        )
    generator = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(symbiote.parameters(), lr=lr, fused=True)
    data = acts.detach()
    start = decay_from * steps
    symbiote.train()
    for step in range(steps):
        if step > start:  # linear to 0 at step `steps`
            for group in opt.param_groups:
                group["lr"] = lr * (steps - step) / (steps - start)
        if batch_size >= data.shape[0]:  # every row, every step: no minibatch noise
            batch = data
        else:
            batch = data[torch.randint(data.shape[0], (batch_size,), generator=generator)]
        _symbiote_step(symbiote, opt, batch)
    symbiote.eval()


def _symbiote_step(symbiote: nn.Module, opt: torch.optim.Optimizer, batch: torch.Tensor) -> None:
    """One step of the symbiote on its own loss (co-training and catch-up alike)."""
    loss, _ = symbiote.loss(batch)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    if hasattr(symbiote, "post_step"):
        symbiote.post_step()
