"""Symbiote kinds: which module defines each, the classes registered, the config base.

Each kind is an `nn.Module` class with a `config_class` attribute; its config class
names the kind in `kind: ClassVar[str]`. `KINDS` says which module defines each
built-in kind, and `get(kind)` imports only that module, so using one kind never loads
the others (and a figure's cache key depends only on the kinds it uses). Importing a
kind's module registers it (`@register`); registering a kind twice is an error, so a
typo or a copy-pasted file cannot silently replace a kind.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any, ClassVar, TypeVar

from torch import nn

KINDS: dict[str, str] = {
    "relu": "symbiote_core.symbiotes.relu",
    "topk": "symbiote_core.symbiotes.topk",
    "batchtopk": "symbiote_core.symbiotes.batchtopk",
    "jumprelu": "symbiote_core.symbiotes.jumprelu",
    "matryoshka": "symbiote_core.symbiotes.matryoshka",
    "probe": "symbiote_core.symbiotes.probe",
    "transcoder": "symbiote_core.symbiotes.transcoder",
}
"""Built-in kind -> the module that defines (and registers) it."""

SYMBIOTES: dict[str, type[nn.Module]] = {}
"""kind -> module class, for every kind whose module has been imported (`get` imports
a built-in kind's module on demand; `kinds()` imports them all)."""


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


def get(kind: str) -> type[nn.Module]:
    """The module class registered under `kind`, importing its module if it is built in."""
    if kind not in SYMBIOTES and kind in KINDS:
        importlib.import_module(KINDS[kind])  # registers it
    if kind not in SYMBIOTES:
        known = sorted(set(SYMBIOTES) | set(KINDS))
        raise ValueError(f"unknown symbiote kind {kind!r}; known: {known}")
    return SYMBIOTES[kind]


def kinds() -> list[str]:
    """Every kind: the built-in ones (their modules imported) and any registered since."""
    for module in KINDS.values():
        importlib.import_module(module)
    return sorted(SYMBIOTES)


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

    return [k for k in kinds() if issubclass(SYMBIOTES[k], Dictionary)]
