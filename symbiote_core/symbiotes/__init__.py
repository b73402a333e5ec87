"""Symbiotes: small networks grown on a host, one module per kind.

Names load lazily (PEP 562): `from symbiote_core.symbiotes import TopKConfig` imports
`symbiotes/topk.py` and what it needs, not every kind, so a figure's cache key depends
only on the kinds it uses. `registry.KINDS` maps each kind to its module, and
`registry.get(kind)` imports a kind's module when it is first asked for.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "BatchTopKConfig": "symbiote_core.symbiotes.batchtopk",
    "BatchTopKSAE": "symbiote_core.symbiotes.batchtopk",
    "Dictionary": "symbiote_core.symbiotes.sae",
    "DictionaryConfig": "symbiote_core.symbiotes.sae",
    "DictionaryOutput": "symbiote_core.symbiotes.sae",
    "JumpReLUConfig": "symbiote_core.symbiotes.jumprelu",
    "JumpReLUSAE": "symbiote_core.symbiotes.jumprelu",
    "LinearProbe": "symbiote_core.symbiotes.probe",
    "MatryoshkaConfig": "symbiote_core.symbiotes.matryoshka",
    "MatryoshkaSAE": "symbiote_core.symbiotes.matryoshka",
    "ProbeConfig": "symbiote_core.symbiotes.probe",
    "ReLUConfig": "symbiote_core.symbiotes.relu",
    "ReLUSAE": "symbiote_core.symbiotes.relu",
    "SYMBIOTES": "symbiote_core.symbiotes.registry",
    "TopKConfig": "symbiote_core.symbiotes.topk",
    "TopKSAE": "symbiote_core.symbiotes.topk",
    "Transcoder": "symbiote_core.symbiotes.transcoder",
    "TranscoderConfig": "symbiote_core.symbiotes.transcoder",
    "dictionary_kinds": "symbiote_core.symbiotes.registry",
    "make_dictionary": "symbiote_core.symbiotes.registry",
    "make_symbiote": "symbiote_core.symbiotes.registry",
    "register": "symbiote_core.symbiotes.registry",
    "splice_transcoder": "symbiote_core.symbiotes.transcoder",
    "train_probe_with_control": "symbiote_core.symbiotes.probe",
    "transcoder_loss_recovered": "symbiote_core.symbiotes.transcoder",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # cache: later lookups skip __getattr__
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
