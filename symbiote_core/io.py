"""Save and load symbiotes as `cfg.json` + `model.safetensors`; never a pickle.

`cfg.json` holds `{"kind": ..., "config": {...}}`; `load` finds the kind in the
registry, rebuilds the config (validated as usual) and the module, then loads the
weights strictly, so a missing or extra tensor is an error.
"""

from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import load_file, save_file
from torch import nn

from symbiote_core.symbiotes import registry

CONFIG_FILE = "cfg.json"
WEIGHTS_FILE = "model.safetensors"
FORMAT_VERSION = 1


def save(symbiote: nn.Module, folder: str | Path) -> Path:
    """Write `symbiote`'s config and weights into `folder` (created if needed)."""
    cfg = getattr(symbiote, "cfg", None)
    if not isinstance(cfg, registry.SymbioteConfig):
        raise ValueError(f"{type(symbiote).__name__} has no symbiote config (.cfg); cannot save it")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"kind": cfg.kind, "format": FORMAT_VERSION, "config": cfg.to_dict()}
    (folder / CONFIG_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    state = {k: v.detach().contiguous() for k, v in symbiote.state_dict().items()}
    save_file(state, str(folder / WEIGHTS_FILE), metadata={"kind": cfg.kind})
    return folder


def load(folder: str | Path) -> nn.Module:
    """Rebuild a saved symbiote through the registry; returned in eval mode."""
    folder = Path(folder)
    cfg_path = folder / CONFIG_FILE
    if not cfg_path.exists():
        raise ValueError(f"{folder} holds no {CONFIG_FILE}: not a saved symbiote")
    meta = json.loads(cfg_path.read_text())
    if "kind" not in meta:
        hint = " (a SAELens SAE? use load_saelens)" if "architecture" in meta else ""
        raise ValueError(f"{cfg_path} is not a saved symbiote: it names no 'kind'{hint}")
    cfg = registry.config_class(meta["kind"]).from_dict(meta["config"])
    symbiote = registry.make_symbiote(cfg)
    symbiote.load_state_dict(load_file(str(folder / WEIGHTS_FILE)), strict=True)
    return symbiote.eval()
