"""Address any activation of any `nn.Module` by name, read it, and hook it.

A *site* is a module path as `named_modules()` spells it ("" is the root module)
plus `:input` or `:output` (default `:output`), plus an optional call index `#i`:
`"blocks.0.mlp:output"`, `"embed"`, `"blocks.1:input"`, `":output"` (the root's
output), `"shared_mlp:output#1"` (the second call of a module used twice).

- `:input` is the first parameter of the module's `forward`, whether it was passed
  positionally or by keyword (Hugging Face blocks often get `hidden_states=`).
- `:output` is what `forward` returns. A tuple or list: its element 0 (a hook edits
  element 0 and the rest passes through). A mapping, such as a Hugging Face
  `ModelOutput`: its first non-None value (what `output[0]` means there, e.g.
  `last_hidden_state` or `logits`). Anything else is an error naming the site.
- `#i` picks call i (from 0, in the order the calls start) of a module that runs
  several times in one forward pass: weight-tied, shared or recurrent modules.
  Calls are counted from the start of each call of the model given to `hooks`,
  `stream` or `intervene`. Without `#i` a hook acts on every call, and `stream`
  refuses to read a module that ran more than once (which call would it be?).

Hooks are global state on the module, so they are always scoped: `hooks(...)` is a
context manager that removes every hook it registered in `finally`, exceptions
included. A hook function has the signature `fn(tensor, *, site) -> Tensor | None`
where `site` is the canonical site name (`"path:kind"` or `"path:kind#i"`);
returning None keeps the tensor. Several hooks on one site run in the order given,
each seeing the previous one's result.

Batches for `stream`/`collect`: a tensor (one positional argument), a tuple or list
(positional arguments), a mapping (keyword arguments, e.g. a tokenizer's
`{"input_ids": ..., "attention_mask": ...}`), or anything when a `forward(model,
batch)` callable arranges the call itself. The model's return value may be any
object: it is discarded.

Pitfalls: a hook that edits its tensor in place edits the host's activation for
every later reader too; return a new tensor instead. A call index that a forward
pass never reaches is an error when that pass ends, but only when the pass ran
through the model given to `hooks` (a submodule run on its own ends no pass).
Hooks run in the order they were registered, so a reader registered inside an
intervention's block sees the edit, and hooks registered earlier do not: transformers
5 records `output_hidden_states` with hooks of its own, added on a model's first call,
so the hidden state it reports for an edited module is the value before the edit
(everything downstream is edited). Read edited sites with `collect` instead.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

SiteKind = Literal["input", "output"]
Forward = Callable[[nn.Module, Any], Any]
"""`forward(model, batch) -> anything`: how one batch is fed to the model."""


class HookFn(Protocol):
    """`fn(tensor, *, site) -> Tensor | None`; None keeps the tensor unchanged."""

    def __call__(self, tensor: torch.Tensor, *, site: str) -> torch.Tensor | None: ...


@dataclass(frozen=True)
class Site:
    """A parsed site: which module, its input or its output, and which call."""

    module: str
    """Module path as in `named_modules()`; "" is the root."""
    kind: SiteKind = "output"
    """`input` (first parameter of forward) or `output` (element 0 of a tuple)."""
    call: int | None = None
    """Which call of the module in one forward pass (from 0); None means every call."""

    @property
    def name(self) -> str:
        """Canonical spelling, `"path:kind"` or `"path:kind#call"`."""
        base = f"{self.module}:{self.kind}"
        return base if self.call is None else f"{base}#{self.call}"


def parse_site(site: str) -> Site:
    """Split `"path[:input|:output][#call]"`; checks the syntax only, not the module."""
    if not isinstance(site, str):
        raise ValueError(f"site must be a string like 'blocks.0.mlp:output', got {site!r}")
    rest, hash_, index = site.rpartition("#")
    call = None
    if hash_:
        if not index.isdigit():
            raise ValueError(
                f"bad site {site!r}: the part after '#' must be a call index 0, 1, 2, ..., "
                f"got {index!r}"
            )
        call, site_part = int(index), rest
    else:
        site_part = site
    path, sep, kind = site_part.rpartition(":")
    if not sep:
        return Site(site_part, "output", call)
    if kind not in ("input", "output"):
        raise ValueError(
            f"bad site {site!r}: the part after ':' must be 'input' or 'output', got {kind!r}"
        )
    return Site(path, kind, call)  # type: ignore[arg-type]


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


@dataclass
class _Calls:
    """Counts one module's calls in the current forward pass of the root."""

    count: int = 0
    """Calls started since the root's forward began."""
    active: list[int] = field(default_factory=list)
    """Indices of the calls now running (a stack: a recursive module nests them)."""

    def current(self) -> int:
        return self.active[-1]


def _first_tensor_key(output: Mapping[Any, Any]) -> Any:
    for key, value in output.items():
        if value is not None:
            return key if isinstance(value, torch.Tensor) else None
    return None


def _with_first(output: tuple[Any, ...] | list[Any], new: torch.Tensor) -> Any:
    rest = output[1:]
    if isinstance(output, list):
        return [new, *rest]
    if hasattr(output, "_fields"):  # a NamedTuple takes its fields as arguments
        return type(output)(new, *rest)
    return (new, *rest)


def _output_hook(fn: HookFn, site: Site, calls: _Calls) -> Callable[..., Any]:
    name = site.name

    def hook(module: nn.Module, args: tuple[Any, ...], output: Any) -> Any:
        if site.call is not None and calls.current() != site.call:
            return None
        if isinstance(output, tuple | list) and output and isinstance(output[0], torch.Tensor):
            new = fn(output[0], site=name)
            return None if new is None else _with_first(output, new)
        if isinstance(output, Mapping):
            key = _first_tensor_key(output)
            if key is not None:
                new = fn(output[key], site=name)
                if new is not None:
                    # In place: the object was just built by this forward; ModelOutput
                    # keeps its attribute and its item in step on __setitem__.
                    output[key] = new  # type: ignore[index]
                return None
        if isinstance(output, torch.Tensor):
            return fn(output, site=name)
        raise TypeError(
            f"site {name!r}: module returned {type(output).__name__}, expected a tensor, a "
            "tuple/list whose element 0 is a tensor, or a mapping whose first value is one; "
            "address a module inside it instead"
        )

    return hook


def _first_parameter(module: nn.Module) -> str | None:
    """Name of forward's first parameter when it may be passed by keyword, else None."""
    try:
        params = list(inspect.signature(module.forward).parameters.values())
    except (TypeError, ValueError):  # builtins without a signature
        return None
    if not params or params[0].kind not in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    ):
        return None
    return params[0].name


def _input_hook(fn: HookFn, site: Site, calls: _Calls, module: nn.Module) -> Callable[..., Any]:
    name = site.name
    keyword = _first_parameter(module)

    def hook(mod: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if site.call is not None and calls.current() != site.call:
            return None
        if args and isinstance(args[0], torch.Tensor):
            new = fn(args[0], site=name)
            return None if new is None else ((new, *args[1:]), kwargs)
        if not args and keyword is not None and isinstance(kwargs.get(keyword), torch.Tensor):
            new = fn(kwargs[keyword], site=name)
            return None if new is None else (args, {**kwargs, keyword: new})
        raise TypeError(
            f"site {name!r}: forward's first parameter"
            f"{f' ({keyword!r})' if keyword else ''} did not receive a tensor, so this "
            "input site has nothing to read"
        )

    return hook


class _Registration:
    """The hooks of one `hooks` block: user hooks, call counters and the pass check."""

    def __init__(
        self,
        model: nn.Module,
        interventions: Mapping[str, HookFn] | Iterable[Any],
        *,
        check_calls: bool,
    ) -> None:
        self.model = model
        self.resolved = [
            (*resolve(model, site), fn) for site, fn in _as_pairs(interventions)
        ]  # every site resolved before anything is registered
        self.check_calls = check_calls
        self.calls: dict[str, _Calls] = {}
        self.handles: list[RemovableHandle] = []
        self.depth = 0
        """Calls of the root now running (more than 1 when it calls itself)."""

    def register(self) -> None:
        modules = {parsed.module: module for parsed, module, _ in self.resolved}
        self.calls = {path: _Calls() for path in modules}
        add = self.handles.append
        # Order matters: the root's entry runs first, each module's counter before its
        # input hooks, and the counter's pop after every output hook of that module.
        add(self.model.register_forward_pre_hook(self._enter, prepend=True))
        for path, module in modules.items():
            add(module.register_forward_pre_hook(self._push(self.calls[path])))
        for parsed, module, fn in self.resolved:
            calls = self.calls[parsed.module]
            if parsed.kind == "output":
                add(module.register_forward_hook(_output_hook(fn, parsed, calls)))
            else:
                hook = _input_hook(fn, parsed, calls, module)
                add(module.register_forward_pre_hook(hook, with_kwargs=True))
        for path, module in modules.items():
            add(module.register_forward_hook(self._pop(self.calls[path]), always_call=True))
        if self.check_calls:
            add(self.model.register_forward_hook(self._check))
        # always_call: the depth stays right when a forward raises.
        add(self.model.register_forward_hook(self._exit, always_call=True))

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles.clear()

    def _enter(self, module: nn.Module, args: tuple[Any, ...]) -> None:
        # A pass starts at the outermost call of the root (the root may call itself).
        if self.depth == 0:
            for calls in self.calls.values():
                calls.count, calls.active = 0, []
        self.depth += 1

    def _exit(self, module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        self.depth -= 1

    @staticmethod
    def _push(calls: _Calls) -> Callable[..., None]:
        def hook(module: nn.Module, args: tuple[Any, ...]) -> None:
            calls.active.append(calls.count)
            calls.count += 1

        return hook

    @staticmethod
    def _pop(calls: _Calls) -> Callable[..., None]:
        def hook(module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
            if calls.active:
                calls.active.pop()

        return hook

    def missing_calls(self) -> list[str]:
        """One message per indexed site whose call did not happen in the last pass."""
        return [
            _no_such_call(parsed, self.calls[parsed.module].count)
            for parsed, _, _ in self.resolved
            if parsed.call is not None and self.calls[parsed.module].count <= parsed.call
        ]

    def _check(self, module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        if self.depth != 1:  # an inner call of a root that calls itself
            return
        missing = self.missing_calls()
        if missing:
            raise RuntimeError("; ".join(missing))


def _no_such_call(site: Site, count: int) -> str:
    have = "no calls" if count == 0 else f"calls #0 to #{count - 1}"
    return (
        f"site {site.name!r} does not exist: module {site.module!r} was called {count} "
        f"time{'s' if count != 1 else ''} in this forward pass ({have})"
    )


@contextmanager
def _registered(
    model: nn.Module, interventions: Mapping[str, HookFn] | Iterable[Any], *, check_calls: bool
) -> Iterator[_Registration]:
    registration = _Registration(model, interventions, check_calls=check_calls)
    try:
        registration.register()
        yield registration
    finally:
        registration.remove()


@contextmanager
def hooks(
    model: nn.Module, interventions: Mapping[str, HookFn] | Iterable[Any]
) -> Iterator[nn.Module]:
    """Register forward (pre-)hooks for the block's duration; always remove them.

    `interventions` is a mapping site -> fn, an iterable of `(site, fn)` pairs, or an
    iterable of `Intervention`s. Every site is resolved before any hook is
    registered, so a bad site name registers nothing. A site with a call index
    (`"m:output#2"`) that a forward pass of `model` does not reach raises a
    RuntimeError when that pass ends, naming the site and the calls that happened.
    """
    with _registered(model, interventions, check_calls=True):
        yield model


Inputs = torch.Tensor | Mapping[str, Any] | Iterable[Any]


def _split_mapping(batch: Mapping[str, Any], batch_size: int) -> Iterator[dict[str, Any]]:
    sizes = {k: v.shape[0] for k, v in batch.items() if isinstance(v, torch.Tensor) and v.dim()}
    if not sizes:
        raise ValueError("batch_size needs tensor values to split along dim 0; none found")
    if len(set(sizes.values())) != 1:
        raise ValueError(f"keyword tensors must share their first dimension to split, got {sizes}")
    n = next(iter(sizes.values()))
    for start in range(0, n, batch_size):
        yield {k: v[start : start + batch_size] if k in sizes else v for k, v in batch.items()}


def _batches(inputs: Inputs, batch_size: int | None) -> Iterator[Any]:
    if isinstance(inputs, torch.Tensor):
        yield from ([inputs] if batch_size is None else torch.split(inputs, batch_size))
    elif isinstance(inputs, Mapping):
        # One batch of keyword arguments (iterating it would yield its keys).
        yield from ([inputs] if batch_size is None else _split_mapping(inputs, batch_size))
    else:
        if batch_size is not None:
            raise ValueError(
                "batch_size is only for a tensor or a mapping of tensors; an iterable is "
                "already batched"
            )
        yield from inputs


def _call(model: nn.Module, batch: Any, forward: Forward | None = None) -> Any:
    """Run one batch: `forward(model, batch)` if given, else by the batch's type.

    A mapping is passed as keyword arguments, a tuple or list as positional
    arguments, anything else as the one argument.
    """
    if forward is not None:
        return forward(model, batch)
    if isinstance(batch, Mapping):
        return model(**batch)
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
    forward: Forward | None = None,
) -> Iterator[dict[str, torch.Tensor]]:
    """Run `model` batch by batch under no_grad, yielding `{site: activation}` each time.

    `inputs` is a tensor or a mapping of keyword tensors (split along dim 0 into
    `batch_size` chunks; None = one batch) or an iterable of batches (see the module
    docstring for how a batch is passed; `forward(model, batch)` overrides that).
    Keys are the site strings as given. Hooks live only while a batch runs, so
    nothing stays attached between yields. The model's train/eval mode is left as it
    is: call `model.eval()` first if it has dropout or batch norm.

    Errors: a site not reached by the pass, a call index beyond the calls that
    happened, or a site without `#i` on a module that ran more than once.
    """
    names = [sites] if isinstance(sites, str) else list(dict.fromkeys(sites))
    for name in names:
        resolve(model, name)  # fail before running anything
    for i, batch in enumerate(_batches(inputs, batch_size)):
        store: dict[str, torch.Tensor] = {}
        grabs = [(name, _grab(store, name)) for name in names]
        with torch.no_grad(), _registered(model, grabs, check_calls=False) as reg:
            _call(model, batch, forward)
        problems = reg.missing_calls()
        for parsed, _, _ in reg.resolved:
            count = reg.calls[parsed.module].count
            if parsed.call is None and count > 1:
                problems.append(
                    f"site {parsed.name!r} is ambiguous: module {parsed.module!r} was called "
                    f"{count} times in this forward pass; read one call with "
                    f"'{parsed.name}#0' ... '{parsed.name}#{count - 1}'"
                )
            elif parsed.call is None and count == 0:
                problems.append(f"site {parsed.name!r} was not reached by the forward pass")
        if problems:
            raise RuntimeError(f"batch {i}: " + "; ".join(problems))
        yield store


def collect(
    model: nn.Module,
    sites: str | Sequence[str],
    inputs: Inputs,
    *,
    batch_size: int | None = None,
    forward: Forward | None = None,
) -> dict[str, torch.Tensor]:
    """All activations at `sites` for `inputs`, concatenated along dim 0 (see `stream`).

    Pitfall: everything is held in memory; for more activations than RAM write them
    to disk in shards with `symbiote_core.store.write_activations`.
    """
    parts: dict[str, list[torch.Tensor]] = {}
    for store in stream(model, sites, inputs, batch_size=batch_size, forward=forward):
        for name, tensor in store.items():
            parts.setdefault(name, []).append(tensor)
    shapes = {name: {tuple(c.shape[1:]) for c in chunks} for name, chunks in parts.items()}
    for name, seen in shapes.items():
        if len(seen) > 1:
            raise ValueError(
                f"site {name!r}: batches gave activations of shapes {sorted(seen)} past dim 0 "
                "(sequences of different lengths?), so they cannot be concatenated; pad the "
                "batches to one length, or use stream(), or write_activations() which keeps "
                "one row per position"
            )
    return {name: torch.cat(chunks) for name, chunks in parts.items()}
