"""Address any activation of any `nn.Module` by name, read it, and hook it.

A *site* is a module path as `named_modules()` spells it ("" is the root module)
plus `:input` or `:output` (default `:output`): `"blocks.0.mlp:output"`, `"embed"`,
`"blocks.1:input"`, `":output"` (the root's output).

- `:input` is the first positional argument of the module's `forward`.
- `:output` is what `forward` returns; when that is a tuple, the site is its
  element 0 (a hook edits element 0 and the rest of the tuple passes through).

Hooks are global state on the module, so they are always scoped: `hooks(...)` is a
context manager that removes every hook it registered in `finally`, exceptions
included. A hook function has the signature `fn(tensor, *, site) -> Tensor | None`
where `site` is the canonical site name (`"path:kind"`); returning None keeps the
tensor. Several hooks on one site run in the order given, each seeing the previous
one's result.

Pitfall: a hook that edits its tensor in place edits the host's activation for
every later reader too; return a new tensor instead.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

SiteKind = Literal["input", "output"]


class HookFn(Protocol):
    """`fn(tensor, *, site) -> Tensor | None`; None keeps the tensor unchanged."""

    def __call__(self, tensor: torch.Tensor, *, site: str) -> torch.Tensor | None: ...


@dataclass(frozen=True)
class Site:
    """A parsed site: which module, and whether its input or its output."""

    module: str
    """Module path as in `named_modules()`; "" is the root."""
    kind: SiteKind = "output"
    """`input` (first positional argument of forward) or `output` (element 0 of a tuple)."""

    @property
    def name(self) -> str:
        """Canonical spelling, `"path:kind"`."""
        return f"{self.module}:{self.kind}"


def parse_site(site: str) -> Site:
    """Split `"path[:input|:output]"`; checks the syntax only, not the module."""
    if not isinstance(site, str):
        raise ValueError(f"site must be a string like 'blocks.0.mlp:output', got {site!r}")
    path, sep, kind = site.rpartition(":")
    if not sep:
        return Site(site, "output")
    if kind not in ("input", "output"):
        raise ValueError(
            f"bad site {site!r}: the part after ':' must be 'input' or 'output', got {kind!r}"
        )
    return Site(path, kind)  # type: ignore[arg-type]


def resolve(model: nn.Module, site: str) -> tuple[Site, nn.Module]:
    """Parse `site` and find its module in `model`, or raise a ValueError naming it."""
    parsed = parse_site(site)
    modules = dict(model.named_modules())
    if parsed.module not in modules:
        close = difflib.get_close_matches(parsed.module, list(modules), n=5, cutoff=0.5)
        hint = f" Close module names: {close}." if close else ""
        some = [name or '""' for name in list(modules)[:12]]
        raise ValueError(
            f"bad site {site!r}: {type(model).__name__} has no module {parsed.module!r}.{hint}"
            f" Modules include: {some}{' ...' if len(modules) > 12 else ''}"
        )
    return parsed, modules[parsed.module]


def _as_pairs(
    interventions: Mapping[str, HookFn] | Iterable[Any],
) -> list[tuple[str, HookFn]]:
    # Accept a mapping, (site, fn) pairs, or objects with .site and .fn (Intervention).
    if isinstance(interventions, Mapping):
        return list(interventions.items())
    pairs = []
    for item in interventions:
        if hasattr(item, "site") and hasattr(item, "fn"):
            pairs.append((item.site, item.fn))
        else:
            site, fn = item
            pairs.append((site, fn))
    return pairs


def _output_hook(fn: HookFn, site: str) -> Callable[..., Any]:
    def hook(module: nn.Module, args: tuple[Any, ...], output: Any) -> Any:
        if isinstance(output, tuple):
            new = fn(output[0], site=site)
            return None if new is None else (new, *output[1:])
        if not isinstance(output, torch.Tensor):
            raise TypeError(
                f"site {site!r}: module returned {type(output).__name__}, "
                "expected a tensor or a tuple whose element 0 is a tensor"
            )
        return fn(output, site=site)

    return hook


def _input_hook(fn: HookFn, site: str) -> Callable[..., Any]:
    def hook(module: nn.Module, args: tuple[Any, ...]) -> Any:
        if not args or not isinstance(args[0], torch.Tensor):
            raise TypeError(
                f"site {site!r}: forward was not called with a tensor as its first "
                "positional argument, so this input site has nothing to read"
            )
        new = fn(args[0], site=site)
        return None if new is None else (new, *args[1:])

    return hook


@contextmanager
def hooks(
    model: nn.Module, interventions: Mapping[str, HookFn] | Iterable[Any]
) -> Iterator[nn.Module]:
    """Register forward (pre-)hooks for the block's duration; always remove them.

    `interventions` is a mapping site -> fn, an iterable of `(site, fn)` pairs, or an
    iterable of `Intervention`s. Every site is resolved before any hook is
    registered, so a bad site name registers nothing.
    """
    resolved = []
    for site, fn in _as_pairs(interventions):
        parsed, module = resolve(model, site)
        resolved.append((parsed, module, fn))
    handles: list[RemovableHandle] = []
    try:
        for parsed, module, fn in resolved:
            if parsed.kind == "output":
                handles.append(module.register_forward_hook(_output_hook(fn, parsed.name)))
            else:
                handles.append(module.register_forward_pre_hook(_input_hook(fn, parsed.name)))
        yield model
    finally:
        for handle in handles:
            handle.remove()


Inputs = torch.Tensor | Iterable[Any]


def _batches(inputs: Inputs, batch_size: int | None) -> Iterator[Any]:
    if isinstance(inputs, torch.Tensor):
        if batch_size is None:
            yield inputs
        else:
            yield from torch.split(inputs, batch_size)
    else:
        if batch_size is not None:
            raise ValueError(
                "batch_size is only for a tensor of inputs; an iterable is already batched"
            )
        yield from inputs


def _call(model: nn.Module, batch: Any) -> Any:
    # A tuple/list batch holds several positional arguments; anything else is one.
    if isinstance(batch, tuple | list):
        return model(*batch)
    return model(batch)


def _grab(store: dict[str, torch.Tensor], name: str) -> HookFn:
    def fn(tensor: torch.Tensor, *, site: str) -> None:
        # clone: a later in-place op in the host would otherwise change the stored copy.
        store[name] = tensor.detach().clone()

    return fn


def stream(
    model: nn.Module,
    sites: str | Sequence[str],
    inputs: Inputs,
    *,
    batch_size: int | None = None,
) -> Iterator[dict[str, torch.Tensor]]:
    """Run `model` batch by batch under no_grad, yielding `{site: activation}` each time.

    `inputs` is a tensor (split along dim 0 into `batch_size` chunks; None = one
    batch) or an iterable of batches (a tuple/list batch is unpacked into positional
    arguments). Keys are the site strings as given. Hooks live only while a batch
    runs, so nothing stays attached between yields. The model's train/eval mode is
    left as it is: call `model.eval()` first if it has dropout or batch norm.
    Pitfall: a module called several times in one forward pass yields its last call.
    """
    names = [sites] if isinstance(sites, str) else list(dict.fromkeys(sites))
    for name in names:
        resolve(model, name)  # fail before running anything
    for batch in _batches(inputs, batch_size):
        store: dict[str, torch.Tensor] = {}
        grabs = [(name, _grab(store, name)) for name in names]
        with torch.no_grad(), hooks(model, grabs):
            _call(model, batch)
        missing = [name for name in names if name not in store]
        if missing:
            raise RuntimeError(f"sites {missing} were not reached by the forward pass")
        yield store


def collect(
    model: nn.Module,
    sites: str | Sequence[str],
    inputs: Inputs,
    *,
    batch_size: int | None = None,
) -> dict[str, torch.Tensor]:
    """All activations at `sites` for `inputs`, concatenated along dim 0 (see `stream`)."""
    parts: dict[str, list[torch.Tensor]] = {}
    for store in stream(model, sites, inputs, batch_size=batch_size):
        for name, tensor in store.items():
            parts.setdefault(name, []).append(tensor)
    return {name: torch.cat(chunks) for name, chunks in parts.items()}
