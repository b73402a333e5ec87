"""symbiote_core: read and steer a torch network (the host) through small networks
grown on it (symbiotes: probes, sparse dictionaries, transcoders, steerers).

Names are exported lazily (PEP 562): `import symbiote_core.hosts.toy` imports the
toy host and nothing else, which matters because a figure's cache key depends on
the files it imports. `from symbiote_core import TopKConfig` imports only the
modules that name needs.

The symbiote training loop is exported as `train_symbiote` (like `train_toy`,
`train_modadd`): the name `symbiote_core.train` belongs to its module, and a
function of the same name would be replaced by the module as soon as anything
imported `symbiote_core.train`.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, tuple[str, str]] = {}


def _export(module: str, *names: str, alias: dict[str, str] | None = None) -> None:
    for name in names:
        _EXPORTS[name] = (module, name)
    for public, attr in (alias or {}).items():
        _EXPORTS[public] = (module, attr)


_export("symbiote_core.runtime", "make_deterministic", "route_gemm_to_openblas")
_export("symbiote_core.sites", "Site", "parse_site", "resolve", "hooks", "collect", "stream")
_export(
    "symbiote_core.interventions",
    "Intervention",
    "intervene",
    "replace",
    "add",
    "clamp",
    "ablate",
    "ablate_all",
    "steer_feature",
    "clamp_feature",
    "ablate_feature",
    "splice",
)
# One call per kind module, so asking for one kind's names loads that kind only.
_export("symbiote_core.symbiotes.sae", "Dictionary", "DictionaryConfig", "DictionaryOutput")
_export("symbiote_core.symbiotes.relu", "ReLUConfig", "ReLUSAE")
_export("symbiote_core.symbiotes.topk", "TopKConfig", "TopKSAE")
_export("symbiote_core.symbiotes.batchtopk", "BatchTopKConfig", "BatchTopKSAE")
_export("symbiote_core.symbiotes.jumprelu", "JumpReLUConfig", "JumpReLUSAE")
_export("symbiote_core.symbiotes.matryoshka", "MatryoshkaConfig", "MatryoshkaSAE")
_export("symbiote_core.symbiotes.transcoder", "Transcoder", "TranscoderConfig")
_export("symbiote_core.symbiotes.transcoder", "splice_transcoder")
_export("symbiote_core.symbiotes.probe", "ProbeConfig", "LinearProbe")
_export("symbiote_core.symbiotes.probe", "train_probe_with_control")
_export("symbiote_core.symbiotes.registry", "make_dictionary", "make_symbiote")
_export("symbiote_core.train", "TrainConfig", "TrainResult", alias={"train_symbiote": "train"})
_export(
    "symbiote_core.metrics",
    "mse",
    "fvu",
    "l0",
    "dead_fraction",
    "loss_recovered",
    "splice_loss_recovered",
    "cosine_matrix",
    "mean_max_cosine",
    "mcc",
    "random_directions",
    "accuracy",
    "selectivity",
    "kl_divergence",
)
_export("symbiote_core.io", "save", "load")
_export(
    "symbiote_core.store",
    "ShardConfig",
    "ActivationShards",
    "write_activations",
    "open_activations",
)
_export("symbiote_core.saelens", "save_saelens", "load_saelens")
_export("symbiote_core.hosts.toy", "ToyModel", "ToyConfig", "train_toy")
_export("symbiote_core.hosts.modadd", "ModAddConfig", "train_modadd")
_export("symbiote_core.hosts.induction", "InductionConfig", "train_induction")

_SUBMODULES = (
    "figures",
    "fourier",
    "hosts",
    "interventions",
    "io",
    "metrics",
    "runtime",
    "saelens",
    "sites",
    "store",
    "symbiotes",
    "train",
)

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module, attr = _EXPORTS[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value  # cache: later lookups skip __getattr__
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
