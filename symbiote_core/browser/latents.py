"""The records a feature browser shows of each latent (`summary` computes them, `write`
publishes them). torch-free, so that the site can publish a figure's browser without
importing torch."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Example:
    """One strong activation: the window of tokens around it and their activations."""

    context: int
    """Which context (row of `acts`) it comes from."""
    position: int
    """The position of the activation within its context."""
    tokens: tuple[str, ...]
    acts: tuple[float, ...]
    """The latent's activation at every token of the window."""
    focus: int
    """Index within the window of the position the example is about."""


@dataclass(frozen=True)
class LabelMatch:
    label: str
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class Latent:
    index: int
    density: float
    """Share of positions where the latent is active (> `active_above`)."""
    max_act: float
    mean_active: float
    """Mean activation over the positions where it is active (0 when dead)."""
    examples: tuple[Example, ...]
    match: LabelMatch | None = None
    """The best-matching label by F1, when labels were given and any position fires."""
    effect: Mapping[str, object] | None = None
    """What steering along the latent does to the output (`effects.steering_effects`)."""
    notes: Mapping[str, object] = field(default_factory=dict)
    """Anything else the caller wants on the latent's page (a matched true feature...)."""
