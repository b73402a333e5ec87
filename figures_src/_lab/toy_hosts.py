"""Trained toy hosts shared between figures: one training run per host recipe.

Not a figure (leading underscore). `steering_dose_response` trains the same linear
hosts as `random_host_control` and the same ReLU hosts as `superposition_recovery`
(same `ToyConfig`: the default `ToyHost` on seeds 5-9). `trained` keeps each recipe's
weights as a build artifact (`symbiote_core.figures.engine.artifacts`), so the second
figure to ask loads them instead of training again. The artifact holds exactly what
`train_toy` returns, so every figure's values are what they were; outside a build
(a notebook, a test) it just trains. In a module of its own, so that its edits reach
only the figures that use it.
"""

from __future__ import annotations

from typing import Any


def trained(cfg: Any) -> Any:
    """`train_toy(cfg)`'s hosts in eval mode (the training log is not kept)."""
    import torch

    from symbiote_core.figures.engine import artifacts
    from symbiote_core.hosts.toy import ToyModel

    state = artifacts.cached("toy_hosts", _train_state, cfg)
    # Seeded generators: building the model draws nothing from the global stream.
    model = ToyModel(cfg, generator=cfg.generators() or torch.Generator())
    model.load_state_dict(state)
    return model.eval()


def _train_state(cfg: Any) -> dict[str, Any]:
    from symbiote_core.hosts.toy import train_toy

    return train_toy(cfg)[0].state_dict()
