"""Dictionaries in SAELens's on-disk format, both ways, without importing SAELens.

SAELens (6.x) saves an SAE as a folder with `cfg.json` and `sae_weights.safetensors`
holding `W_enc (d_in, d_sae)`, `W_dec (d_sae, d_in)`, `b_enc (d_sae,)`, `b_dec (d_in,)`
and, for JumpReLU, `threshold (d_sae,)`. `cfg.json` names the `architecture` and
holds `d_in`, `d_sae`, `dtype`, `device`, `apply_b_dec_to_input`,
`normalize_activations`, `reshape_activations`, a `metadata` dict (`hook_name`,
`model_name`, `sae_lens_version`, ...) and the architecture's own keys (`k`,
`rescale_acts_by_decoder_norm` for TopK). Its encoders compute, like ours,
`pre = (x - b_dec) @ W_enc + b_enc`.

| symbiote kind            | SAELens architecture | inference                              |
|--------------------------|----------------------|----------------------------------------|
| relu                     | standard             | `relu(pre)`                            |
| topk                     | topk                 | top k of `pre`, then ReLU              |
| jumprelu                 | jumprelu             | `relu(pre) * (pre > threshold)`        |
| batchtopk, matryoshka    | jumprelu             | one threshold for every latent         |

`bench/saelens_format.py` (run by `bench/run.sh`) loads what `save_saelens` writes
with SAELens itself, and reads SAEs that SAELens saved, comparing encode and decode
on the same inputs.

Pitfalls:
- Only inference is carried over: SAELens's `cfg.json` has no training
  hyper-parameters. `save_saelens` keeps this library's config under
  `metadata["symbiote_core"]`, and `load_saelens` uses it when the kind matches.
- SAELens does not keep decoder rows at unit norm; an imported dictionary keeps
  its weights exactly (so its outputs match), but training it further renormalises
  the rows after the first step, which changes a TopK dictionary's choices.
- `apply_b_dec_to_input: false` and TopK's `rescale_acts_by_decoder_norm: true`
  are folded into the weights on import (the same function, float rounding apart);
  activation normalisation and `hook_z` reshaping are refused: fold them in SAELens
  first.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from symbiote_core.symbiotes import (
    BatchTopKSAE,
    Dictionary,
    JumpReLUConfig,
    JumpReLUSAE,
    ReLUConfig,
    ReLUSAE,
    TopKConfig,
    TopKSAE,
)
from symbiote_core.symbiotes.registry import config_class, make_dictionary

CONFIG_FILE = "cfg.json"
WEIGHTS_FILE = "sae_weights.safetensors"
SAELENS_FORMAT = "6.0.0"
"""Written as `metadata.sae_lens_version`: SAELens reads a config without a version
>= 6 as its older layout and drops the nested metadata."""
_ARCHITECTURES = {"standard": ReLUConfig, "topk": TopKConfig, "jumprelu": JumpReLUConfig}


def _architecture(sae: Dictionary) -> str:
    if isinstance(sae, BatchTopKSAE):  # before TopKSAE: it is a sibling, checked first
        return "jumprelu"
    if isinstance(sae, TopKSAE):
        return "topk"
    if isinstance(sae, JumpReLUSAE):
        return "jumprelu"
    if isinstance(sae, ReLUSAE):
        return "standard"
    raise ValueError(
        f"{type(sae).__name__} has no SAELens counterpart here; supported kinds: "
        "relu, topk, jumprelu, batchtopk, matryoshka"
    )


def save_saelens(
    sae: Dictionary,
    folder: str | Path,
    *,
    hook_name: str | None = None,
    model_name: str | None = None,
) -> Path:
    """Write `sae` as SAELens's `cfg.json` + `sae_weights.safetensors` in `folder`.

    `hook_name` is the activation the dictionary reads (a site name here, or the
    name a SAELens user's model gives it); `model_name` names the host. Both are
    only recorded. Pitfall: `symbiote_core.save` also writes a `cfg.json`; give the
    two formats different folders.
    """
    if not isinstance(sae, Dictionary) or not sae.autoencoder:
        raise ValueError(f"save_saelens takes a sparse autoencoder, got {type(sae).__name__}")
    if sae.n_instances != 1:
        raise ValueError(f"save one dictionary at a time: sae.instance(i) of {sae.n_instances}")
    architecture = _architecture(sae)
    state = {
        name: getattr(sae, name).detach().to(torch.float32).contiguous()
        for name in ("W_enc", "W_dec", "b_enc", "b_dec")
    }
    cfg: dict[str, Any] = {
        "architecture": architecture,
        "d_in": sae.d_in,
        "d_sae": sae.d_sae,
        "dtype": "float32",
        "device": "cpu",
        "apply_b_dec_to_input": True,
        "normalize_activations": "none",
        "reshape_activations": "none",
        "metadata": {
            "sae_lens_version": SAELENS_FORMAT,
            "hook_name": hook_name,
            "model_name": model_name,
            "symbiote_core": {"kind": sae.cfg.kind, "config": sae.cfg.to_dict()},
        },
    }
    if architecture == "topk":
        cfg |= {"k": int(sae.cfg.k), "rescale_acts_by_decoder_norm": False}  # type: ignore[attr-defined]
    elif architecture == "jumprelu":
        if isinstance(sae, JumpReLUSAE):
            threshold = sae.threshold.detach()
        else:  # BatchTopK: one inference threshold for every latent
            # unset (-1) before training; relu(pre) * (pre > t) is the same for every t <= 0
            threshold = sae.threshold.detach().clamp_min(0).expand(sae.d_sae)  # type: ignore[union-attr]
        state["threshold"] = threshold.to(torch.float32).contiguous()
    folder = Path(folder)
    if (folder / CONFIG_FILE).exists() and "kind" in json.loads((folder / CONFIG_FILE).read_text()):
        raise ValueError(
            f"{folder} holds a symbiote saved by symbiote_core.save; its cfg.json would be "
            "overwritten: give the SAELens copy its own folder"
        )
    folder.mkdir(parents=True, exist_ok=True)
    save_file(state, str(folder / WEIGHTS_FILE))
    (folder / CONFIG_FILE).write_text(json.dumps(cfg, indent=2) + "\n")
    return folder


def _expect(
    state: dict[str, torch.Tensor], shapes: dict[str, tuple[int, ...]], where: Path
) -> None:
    missing = sorted(set(shapes) - set(state))
    extra = sorted(set(state) - set(shapes))
    if missing or extra:
        raise ValueError(
            f"{where}: expected tensors {sorted(shapes)}, missing {missing}, unexpected {extra}"
        )
    for name, shape in shapes.items():
        if tuple(state[name].shape) != shape:
            raise ValueError(
                f"{where}: {name} has shape {tuple(state[name].shape)}, cfg.json implies {shape}"
            )


def _our_config(cfg: dict[str, Any], architecture: str, where: Path) -> Any:
    """The config to rebuild: ours from the metadata when it is the same kind, else defaults."""
    d_in, d_sae = int(cfg["d_in"]), int(cfg["d_sae"])
    config_cls = _ARCHITECTURES[architecture]
    ours = (cfg.get("metadata") or {}).get("symbiote_core")
    if ours and ours.get("kind") == config_cls.kind:
        kept = config_class(ours["kind"]).from_dict(ours["config"])
        if (kept.d_in, kept.d_sae) != (d_in, d_sae):  # type: ignore[attr-defined]
            raise ValueError(f"{where}: metadata.symbiote_core disagrees with d_in/d_sae")
        k = getattr(kept, "k", None)
        if architecture == "topk" and k != cfg.get("k"):
            raise ValueError(
                f"{where}: metadata.symbiote_core has k={k}, cfg.json k={cfg.get('k')}"
            )
        return kept
    if architecture == "topk":
        if "k" not in cfg:
            raise ValueError(f"{where}: a topk cfg.json needs 'k'")
        return TopKConfig(d_in=d_in, d_sae=d_sae, k=int(cfg["k"]))
    return config_cls(d_in=d_in, d_sae=d_sae)


def load_saelens(folder: str | Path) -> Dictionary:
    """Read an SAE that SAELens saved (or `save_saelens` wrote); returned in eval mode.

    standard -> `ReLUSAE`, topk -> `TopKSAE`, jumprelu -> `JumpReLUSAE`, with
    weights as float32. See the module docstring for what is folded or refused.
    """
    folder = Path(folder)
    cfg_path, weights_path = folder / CONFIG_FILE, folder / WEIGHTS_FILE
    if not cfg_path.exists() or not weights_path.exists():
        raise ValueError(
            f"{folder} is not a SAELens SAE: it needs {CONFIG_FILE} and {WEIGHTS_FILE}"
        )
    cfg = json.loads(cfg_path.read_text())
    architecture = cfg.get("architecture", "standard")
    if architecture not in _ARCHITECTURES:
        raise ValueError(
            f"{cfg_path}: architecture {architecture!r} is not supported; "
            f"supported: {sorted(_ARCHITECTURES)}"
        )
    for key in ("normalize_activations", "reshape_activations"):
        if cfg.get(key, "none") not in ("none", None, False):
            raise ValueError(
                f"{cfg_path}: {key}={cfg[key]!r} is not supported; fold it into the weights "
                "with SAELens first (e.g. fold_activation_norm_scaling_factor)"
            )
    d_in, d_sae = int(cfg["d_in"]), int(cfg["d_sae"])
    state = {k: v.to(torch.float32) for k, v in load_file(str(weights_path)).items()}
    shapes = {"W_enc": (d_in, d_sae), "W_dec": (d_sae, d_in), "b_enc": (d_sae,), "b_dec": (d_in,)}
    if architecture == "jumprelu":
        shapes["threshold"] = (d_sae,)
    _expect(state, shapes, weights_path)

    if not cfg.get("apply_b_dec_to_input", True):
        # x @ W_enc + b_enc == (x - b_dec) @ W_enc + (b_enc + b_dec @ W_enc)
        state["b_enc"] = state["b_enc"] + state["b_dec"] @ state["W_enc"]
    if architecture == "topk" and cfg.get("rescale_acts_by_decoder_norm", False):
        # SAELens ranks pre * |W_dec_i| and decodes z / |W_dec_i|: fold the norms in.
        norms = state["W_dec"].norm(dim=-1)
        state["W_enc"] = state["W_enc"] * norms
        state["b_enc"] = state["b_enc"] * norms
        state["W_dec"] = state["W_dec"] / norms[:, None]
    if architecture == "jumprelu":
        # relu(pre) * (pre > t) is relu(pre) for any t <= 0, so a negative threshold is 0.
        threshold = state.pop("threshold").clamp_min(0)
        state["log_threshold"] = threshold.log()  # log(0) = -inf: exp gives 0 back, a ReLU

    sae: Dictionary = make_dictionary(_our_config(cfg, architecture, cfg_path))  # type: ignore[assignment]
    sae.load_state_dict(state, strict=True)
    return sae.eval()
