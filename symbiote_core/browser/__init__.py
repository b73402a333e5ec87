"""A static feature browser for any dictionary on any torch model.

    acts = dictionary.encode(collect(model, [site], batch)[site])   # (contexts, positions, latents)
    latents = summarise(acts, tokens, labels={"inside a string": mask})
    effects = steering_effects(model, site, decoder_rows(dictionary), batch, [0, 5, 7],
                               scale=4.0, readout=lambda out: out.logits)
    latents = [with_effect(l, effects.get(l.index)) for l in latents]
    write_browser(latents, "site/browser/my-sae", title="My SAE on layer 3")

`summary` computes what each latent shows (density, strongest examples, best label by
F1); `effects` what steering along it does to the output; `write` the static pages
(offline, no server needed, one lazily loaded file per latent). A figure of the essay
returns `to_payload(latents, title=...)` under `data["feature_browser"]`, and the site
publishes its browser at `browser/<figure>/`.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from typing import Any

from symbiote_core.browser.latents import Example, LabelMatch, Latent

# Exported lazily (PEP 562), like `symbiote_core`'s names: the site publishes a browser
# through `write` without importing torch, which `summary` and `effects` need.
_EXPORTS = {
    "decoder_rows": "symbiote_core.browser.effects",
    "steering_effects": "symbiote_core.browser.effects",
    "summarise": "symbiote_core.browser.summary",
    "browser_files": "symbiote_core.browser.write",
    "from_payload": "symbiote_core.browser.write",
    "to_payload": "symbiote_core.browser.write",
    "write_browser": "symbiote_core.browser.write",
}

__all__ = [
    "Example",
    "LabelMatch",
    "Latent",
    "browser_files",
    "decoder_rows",
    "from_payload",
    "steering_effects",
    "summarise",
    "to_payload",
    "with_effect",
    "write_browser",
]


def with_effect(latent: Latent, effect: Mapping[str, object] | None) -> Latent:
    """`latent` with its steering effect attached (unchanged when `effect` is None)."""
    return latent if effect is None else dataclasses.replace(latent, effect=effect)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value  # cache: later lookups skip __getattr__
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
