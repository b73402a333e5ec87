"""Interventions are data: a site name and a function, applied together in one block.

    from symbiote_core.interventions import Intervention, add, intervene
    with intervene(host, [Intervention("blocks.0:output", add(direction, 4.0))]):
        steered = host(x)

The builders below return hook functions `fn(tensor, *, site) -> Tensor` (see
`symbiote_core.sites`). All of them act on the last dimension of the site's
tensor (the feature dimension); directions are `(d,)` vectors.

Feature edits (`steer_feature`, `clamp_feature`, `ablate_feature`) keep the
dictionary's reconstruction error: the site becomes
`decode(edited latents) + (x - decode(encode(x)))`, which equals
`x + (new_i - z_i) * W_dec[i]`. So only feature i's contribution changes and the
part of `x` the dictionary fails to explain passes through untouched; without the
error term, every edit would also swap the host's activation for an imperfect
reconstruction. `splice` is the opposite choice: it replaces the site by the
reconstruction, to measure what the dictionary misses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import torch
from torch import nn

from symbiote_core.sites import HookFn, hooks


@dataclass(frozen=True)
class Intervention:
    """Apply `fn` at `site` (a name such as `"blocks.0.mlp:output"`)."""

    site: str
    """Where: module path plus `:input` or `:output` (default output)."""
    fn: HookFn
    """What: `fn(tensor, *, site) -> Tensor | None`, e.g. from `add` or `clamp`."""


@contextmanager
def intervene(model: nn.Module, interventions: Iterable[Intervention]) -> Iterator[nn.Module]:
    """Apply all `interventions` while the block runs; every hook is removed on exit.

    A site may address one call of a module used several times (`"layer:output#1"`);
    a call that a forward pass of `model` never reaches is a RuntimeError when that
    pass ends. Without an index, every call is edited (see `symbiote_core.sites`).
    """
    items = list(interventions)
    for item in items:
        if not isinstance(item, Intervention):
            raise ValueError(f"intervene takes Intervention objects, got {type(item).__name__}")
    with hooks(model, items):
        yield model


class SparseCoder(Protocol):
    """What feature interventions need from a dictionary (a single instance)."""

    W_dec: torch.Tensor
    n_instances: int

    def encode(self, x: torch.Tensor) -> torch.Tensor: ...

    def decode(self, z: torch.Tensor) -> torch.Tensor: ...


def _unit(direction: torch.Tensor) -> torch.Tensor:
    if direction.dim() != 1:
        raise ValueError(f"a direction must be a (d,) vector, got shape {tuple(direction.shape)}")
    norm = direction.norm()
    if norm == 0:
        raise ValueError("a direction must be non-zero")
    return direction / norm


def _single(sae: SparseCoder) -> None:
    if getattr(sae, "n_instances", 1) != 1:
        raise ValueError("feature interventions need a single dictionary: use sae.instance(i)")


def replace(value_or_fn: torch.Tensor | float | Callable[[torch.Tensor], torch.Tensor]) -> HookFn:
    """Replace the site by a value (broadcast to its shape) or by `fn(tensor)`."""

    def fn(tensor: torch.Tensor, *, site: str) -> torch.Tensor:
        if callable(value_or_fn):
            return value_or_fn(tensor)
        value = torch.as_tensor(value_or_fn, dtype=tensor.dtype, device=tensor.device)
        return value.expand_as(tensor).clone()

    return fn


def add(direction: torch.Tensor, scale: float = 1.0) -> HookFn:
    """Steering: add `scale * direction` (its norm kept, not normalised) at every position."""

    def fn(tensor: torch.Tensor, *, site: str) -> torch.Tensor:
        return tensor + scale * direction.to(tensor)

    return fn


def clamp(direction: torch.Tensor, value: float) -> HookFn:
    """Set the component along `direction` (normalised to unit norm) to `value`."""
    unit = _unit(direction)

    def fn(tensor: torch.Tensor, *, site: str) -> torch.Tensor:
        u = unit.to(tensor)
        current = tensor @ u  # (...,)
        return tensor + (value - current).unsqueeze(-1) * u

    return fn


def ablate(
    direction: torch.Tensor,
    mode: Literal["zero", "mean"] = "zero",
    mean: torch.Tensor | float | None = None,
) -> HookFn:
    """Remove the component along `direction` (unit-normalised), or set it to its mean.

    For `mode="mean"`, `mean` is the mean component (a float) or the mean activation
    (a `(d,)` tensor, whose component is used).
    """
    unit = _unit(direction)
    if mode == "zero":
        return clamp(unit, 0.0)
    if mode != "mean":
        raise ValueError(f"ablate mode must be 'zero' or 'mean', got {mode!r}")
    if mean is None:
        raise ValueError("ablate(mode='mean') needs `mean`: the mean activation or component")
    level = float(mean @ unit) if isinstance(mean, torch.Tensor) else float(mean)
    return clamp(unit, level)


def ablate_all(mode: Literal["zero", "mean"] = "zero", mean: torch.Tensor | None = None) -> HookFn:
    """Zero the whole site, or set it to `mean` (a tensor broadcast to the site's shape)."""
    if mode == "zero":
        return replace(lambda t: torch.zeros_like(t))
    if mode != "mean":
        raise ValueError(f"ablate_all mode must be 'zero' or 'mean', got {mode!r}")
    if mean is None:
        raise ValueError("ablate_all(mode='mean') needs `mean`, e.g. collect(...)[site].mean(0)")
    return replace(mean)


def _edit_feature(
    sae: SparseCoder, index: int, new: Callable[[torch.Tensor], torch.Tensor]
) -> HookFn:
    _single(sae)
    if not 0 <= index < sae.W_dec.shape[0]:
        raise ValueError(f"feature index {index} out of range for {sae.W_dec.shape[0]} latents")

    def fn(tensor: torch.Tensor, *, site: str) -> torch.Tensor:
        z_i = sae.encode(tensor)[..., index]  # (...,)
        # x + (new - z_i) W_dec[i] == decode(edited z) + (x - decode(z)): error kept.
        return tensor + (new(z_i) - z_i).unsqueeze(-1) * sae.W_dec[index].to(tensor)

    return fn


def steer_feature(sae: SparseCoder, index: int, scale: float) -> HookFn:
    """Raise latent `index` by `scale`: adds `scale * W_dec[index]` (error kept)."""
    return _edit_feature(sae, index, lambda z_i: z_i + scale)


def clamp_feature(sae: SparseCoder, index: int, value: float) -> HookFn:
    """Set latent `index` to `value`, keeping the dictionary's error (see module doc)."""
    return _edit_feature(sae, index, lambda z_i: torch.full_like(z_i, value))


def ablate_feature(sae: SparseCoder, index: int) -> HookFn:
    """Set latent `index` to zero, keeping the dictionary's error (see module doc)."""
    return clamp_feature(sae, index, 0.0)


def splice(symbiote: Any) -> HookFn:
    """Replace the site by the dictionary's reconstruction `decode(encode(x))`.

    For a transcoder use `splice_transcoder`: it reads the component's input.
    """
    from symbiote_core.symbiotes.transcoder import Transcoder  # lazy: it imports this module

    if isinstance(symbiote, Transcoder):
        raise ValueError(
            "splice() reconstructs a site from itself; use splice_transcoder for a transcoder"
        )
    _single(symbiote)

    def fn(tensor: torch.Tensor, *, site: str) -> torch.Tensor:
        return symbiote.decode(symbiote.encode(tensor))

    return fn
