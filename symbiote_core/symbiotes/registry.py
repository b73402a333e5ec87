"""A plain dict of symbiote kinds, and the config base class they share.

Each kind is an `nn.Module` class with a `config_class` attribute; its config class
names the kind in `kind: ClassVar[str]`. Registering a kind twice is an error, so a
typo or a copy-pasted file cannot silently replace a kind.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any, ClassVar, TypeVar

from torch import nn

SYMBIOTES: dict[str, type[nn.Module]] = {}
"""kind -> module class. Filled when `symbiote_core.symbiotes` is imported."""


class SymbioteConfig:
    """Mixin for symbiote config dataclasses: a `kind` and a JSON round trip."""

    kind: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain JSON-able values (tuples become lists in JSON)."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SymbioteConfig:
        """Rebuild from `to_dict()` output; unknown keys are an error, not ignored."""
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"{cls.__name__} has no fields {unknown}; known: {sorted(names)}")
        return cls(**data)


T = TypeVar("T", bound=type[nn.Module])


def register(cls: T) -> T:
    """Class decorator: add `cls` under `cls.config_class.kind`; refuse duplicates."""
    kind = cls.config_class.kind  # type: ignore[attr-defined]
    if kind in SYMBIOTES:
        raise ValueError(
            f"symbiote kind {kind!r} is already registered by {SYMBIOTES[kind].__qualname__}; "
            f"refusing to replace it with {cls.__qualname__}"
        )
    SYMBIOTES[kind] = cls
    return cls


def _load_builtins() -> None:
    # Importing the package registers every built-in kind; done lazily to avoid a cycle.
    importlib.import_module("symbiote_core.symbiotes")


def get(kind: str) -> type[nn.Module]:
    """The module class registered under `kind`."""
    _load_builtins()
    if kind not in SYMBIOTES:
        raise ValueError(f"unknown symbiote kind {kind!r}; registered: {sorted(SYMBIOTES)}")
    return SYMBIOTES[kind]


def config_class(kind: str) -> type[SymbioteConfig]:
    """The config dataclass of `kind`."""
    return get(kind).config_class  # type: ignore[attr-defined,no-any-return]


def make_symbiote(cfg: SymbioteConfig) -> nn.Module:
    """Build the symbiote that `cfg` describes (any registered kind)."""
    return get(cfg.kind)(cfg)


def make_dictionary(cfg: SymbioteConfig) -> nn.Module:
    """Build a sparse dictionary (relu, topk, batchtopk, jumprelu, matryoshka) from `cfg`."""
    from symbiote_core.symbiotes.sae import Dictionary

    cls = get(cfg.kind)
    if not issubclass(cls, Dictionary):
        raise ValueError(f"kind {cfg.kind!r} is not a sparse dictionary; use make_symbiote for it")
    return cls(cfg)


def dictionary_kinds() -> list[str]:
    """Registered kinds that are sparse dictionaries (have encode/decode over one space)."""
    from symbiote_core.symbiotes.sae import Dictionary

    _load_builtins()
    return sorted(k for k, cls in SYMBIOTES.items() if issubclass(cls, Dictionary))
