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
from collections.abc import Mapping

from symbiote_core.browser.effects import decoder_rows, steering_effects
from symbiote_core.browser.summary import Example, LabelMatch, Latent, summarise
from symbiote_core.browser.write import browser_files, from_payload, to_payload, write_browser

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
