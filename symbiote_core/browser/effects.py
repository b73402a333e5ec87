"""What steering along a latent does to a model's output, for the feature browser.

For each latent, its decoder row is added (times `scale`) at the dictionary's site at
every position, and the next-token distribution is compared with the clean one: the
mean KL divergence (how much the output moves at all) and the tokens whose logits rise
and fall most on average (what it moves towards). Works on any torch model whose
output `readout` turns into logits (a Hugging Face causal LM: `lambda out: out.logits`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch

from symbiote_core.interventions import Intervention, add, intervene


def _forward(model: torch.nn.Module, inputs: Any) -> Any:
    """Call `model` on one batch the way `sites.collect` does: a mapping as keywords, a
    tuple or list as positional arguments, anything else as the one argument."""
    if isinstance(inputs, Mapping):
        return model(**inputs)
    if isinstance(inputs, tuple | list):
        return model(*inputs)
    return model(inputs)


def decoder_rows(dictionary: Any) -> torch.Tensor:
    """(latents, d_model) decoder directions of a single-instance dictionary."""
    rows = dictionary.W_dec.detach()
    if rows.dim() != 2:
        raise ValueError(
            f"expected one dictionary's W_dec (latents, d), got {tuple(rows.shape)}: "
            "select an instance first"
        )
    return rows


@torch.no_grad()
def steering_effects(
    model: torch.nn.Module,
    site: str,
    directions: torch.Tensor,
    inputs: Any,
    latents: Sequence[int],
    *,
    scale: float,
    readout: Callable[[Any], torch.Tensor],
    token_names: Callable[[int], str] = str,
    show: int = 5,
) -> dict[int, dict[str, object]]:
    """Per latent in `latents`: {"scale", "kl", "promoted", "suppressed"} where the token
    lists hold (token, mean logit change) pairs, strongest first."""
    clean = readout(_forward(model, inputs)).float()
    clean_logp = clean.log_softmax(-1)
    out: dict[int, dict[str, object]] = {}
    for j in latents:
        edit = Intervention(site, add(directions[j], scale))
        with intervene(model, [edit]):
            steered = readout(_forward(model, inputs)).float()
        logp = steered.log_softmax(-1)
        kl = (clean_logp.exp() * (clean_logp - logp)).sum(-1).mean()
        shift = (steered - clean).reshape(-1, clean.shape[-1]).mean(0)
        shift = shift - shift.mean()  # a uniform logit shift changes no probability
        up = torch.argsort(-shift, stable=True)[:show].tolist()
        down = torch.argsort(shift, stable=True)[:show].tolist()
        out[j] = {
            "scale": scale,
            "kl": float(kl),
            "promoted": [(token_names(t), round(float(shift[t]), 4)) for t in up],
            "suppressed": [(token_names(t), round(float(shift[t]), 4)) for t in down],
        }
    return out
