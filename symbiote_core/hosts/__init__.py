"""Hosts: small networks trained here so that symbiotes have something to read.

Each host lives in its own module, its config dataclass beside its `nn.Module`:

- `toy`: the toy model of superposition (n sparse features squeezed into m dims).
- `modadd`: an embedding + MLP that groks modular addition.
- `induction`: a 2-layer attention-only transformer that learns induction heads.

Every host has a `train_<host>(cfg, progress=False) -> (model, TrainLog)` that is
seeded and bit-for-bit reproducible on one thread. Trainers draw every random number
from `torch.Generator`s seeded from their config and never touch process state: the
global RNGs, the thread count and the deterministic-kernel flag are the caller's (a
figure worker sets them; elsewhere call `symbiote_core.runtime.make_deterministic`
first to get the figures' bits). Import from the host's module,
e.g. `from symbiote_core.hosts.toy import ToyConfig, train_toy`; this package only
holds what the hosts share (the `TrainLog`), so importing one host does not import
the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class TrainLog:
    """What a host's training run recorded along the way.

    `steps[i]` is the step at which `metrics[name][i]` was measured, for every name.
    `checkpoints` maps a step to a CPU copy of the model's `state_dict` at that step
    (only hosts that are asked to keep them fill it). `seconds` is wall-clock time.
    """

    steps: list[int] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    checkpoints: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)
    seconds: float = 0.0

    def record(self, step: int, values: dict[str, float]) -> None:
        """Append one row; every row must carry the same metric names."""
        if self.steps and set(values) != set(self.metrics):
            raise ValueError(
                f"TrainLog.record at step {step}: got metrics {sorted(values)}, "
                f"earlier rows had {sorted(self.metrics)}; log the same names every time"
            )
        self.steps.append(step)
        for name, value in values.items():
            self.metrics.setdefault(name, []).append(float(value))

    def last(self, name: str) -> float:
        """The most recent value of one metric."""
        return self.metrics[name][-1]

    def to_dict(self) -> dict:
        """JSON-ready view (checkpoints left out: save those with safetensors)."""
        return {
            "steps": list(self.steps),
            "metrics": {k: list(v) for k, v in self.metrics.items()},
            "checkpoint_steps": sorted(self.checkpoints),
            "seconds": self.seconds,
        }
