"""Transcoder: a sparse dictionary from a component's input to its output.

Where an SAE reconstructs an activation from itself, a transcoder (Dunefsky et al.
2024) imitates a component, say an MLP: `y_hat = decode(encode(x)) + x @ W_skip`,
with `x` the component's input, `y` its output and the optional linear skip
(Paulo et al. 2025, "skip transcoders"). The sparse code is any dictionary kind,
configured as usual; its decoder writes the output space (`d_out` wide).

`splice_transcoder(tc, "blocks.0.mlp")` returns the interventions that run the
transcoder in place of the component: a pre-hook stores the component's input and
the output hook replaces the component's output by the transcoder's prediction.
`transcoder_loss_recovered` scores that splice: the share of the loss that zeroing
the component's output costs which the transcoder wins back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

import torch
from torch import nn

from symbiote_core.interventions import Intervention, ablate_all, intervene
from symbiote_core.symbiotes.registry import SymbioteConfig, config_class, get, register
from symbiote_core.symbiotes.sae import DictionaryConfig, DictionaryOutput

if TYPE_CHECKING:
    from symbiote_core.metrics import SpliceLosses


@dataclass(kw_only=True)
class TranscoderConfig(SymbioteConfig):
    """A dictionary config (its `d_in` is the input width) plus the output side."""

    kind: ClassVar[str] = "transcoder"

    dictionary: DictionaryConfig
    """The sparse code: any dictionary kind's config, e.g. `TopKConfig(d_in=64, d_sae=512, k=8)`."""
    d_out: int | None = None
    """Width of the component's output; None means the same as its input."""
    skip: bool = False
    """Add a linear skip connection `x @ W_skip` (starts at zero)."""

    def __post_init__(self) -> None:
        if not isinstance(self.dictionary, DictionaryConfig):
            raise ValueError(
                f"TranscoderConfig.dictionary must be a dictionary config, got {type(self.dictionary).__name__}"
            )
        if self.d_out is not None and self.d_out < 1:
            raise ValueError(f"TranscoderConfig.d_out must be >= 1 or None, got {self.d_out}")

    def to_dict(self) -> dict[str, Any]:
        inner = {"kind": self.dictionary.kind, **self.dictionary.to_dict()}
        return {"dictionary": inner, "d_out": self.d_out, "skip": self.skip}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TranscoderConfig:
        data = dict(data)
        inner = dict(data.pop("dictionary"))
        dictionary = config_class(inner.pop("kind")).from_dict(inner)
        return cls(dictionary=dictionary, **data)  # type: ignore[arg-type]


@register
class Transcoder(nn.Module):
    """`forward(x).recon = decode(encode(x)) + skip(x)`; `loss(x, y)` for training."""

    config_class = TranscoderConfig

    def __init__(self, cfg: TranscoderConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d_in = cfg.dictionary.d_in
        self.d_out = d_in if cfg.d_out is None else cfg.d_out
        self.n_instances = cfg.dictionary.n_instances
        self.dictionary = get(cfg.dictionary.kind)(cfg.dictionary, d_out=self.d_out)
        lead = () if self.n_instances == 1 else (self.n_instances,)
        self.W_skip = nn.Parameter(torch.zeros(*lead, d_in, self.d_out)) if cfg.skip else None

    @property
    def W_enc(self) -> torch.Tensor:
        return self.dictionary.W_enc

    @property
    def W_dec(self) -> torch.Tensor:
        return self.dictionary.W_dec

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Component input (..., [n,] d_in) -> latents (..., [n,] d_sae)."""
        return self.dictionary.encode(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents -> the sparse part of the output; the skip path is not included."""
        return self.dictionary.decode(z)

    def skip_out(self, x: torch.Tensor) -> torch.Tensor | None:
        """`x @ W_skip`, or None without a skip connection."""
        if self.W_skip is None:
            return None
        W = self.W_skip.unsqueeze(0) if self.n_instances == 1 else self.W_skip
        xl = x.unsqueeze(-2) if self.n_instances == 1 else x
        out = torch.einsum("...nd,ndo->...no", xl, W)
        return out.squeeze(-2) if self.n_instances == 1 else out

    def forward(self, x: torch.Tensor) -> DictionaryOutput:
        z = self.encode(x)
        recon = self.decode(z)
        skip = self.skip_out(x)
        return DictionaryOutput(recon if skip is None else recon + skip, z)

    def loss(
        self, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Loss of predicting the component's output `y` from its input `x`."""
        return self.dictionary.loss(x, target=y, offset=self.skip_out(x))

    def init_from_data(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Centre the code on a first batch (output mean into b_dec, input mean via b_enc)."""
        self.dictionary.init_from_data(x, y)

    def post_step(self) -> None:
        self.dictionary.post_step()

    def instance(self, i: int) -> Self:
        """Instance i as a single transcoder (a copy)."""
        single = type(self)(
            TranscoderConfig(
                dictionary=self.cfg.dictionary.for_instance(i),
                d_out=self.cfg.d_out,
                skip=self.cfg.skip,
            )
        )
        state = self.state_dict()
        if self.n_instances > 1:
            state = {k: v[i] for k, v in state.items()}
        single.load_state_dict(state)
        return single


def splice_transcoder(transcoder: Transcoder, module: str) -> list[Intervention]:
    """Interventions replacing `module`'s output by the transcoder's prediction from its input.

    Use both, together: `with intervene(host, splice_transcoder(tc, "blocks.0.mlp")):`.
    `module` may name one call of a module used several times, `"shared_mlp#1"`.
    Pitfall: the module's first parameter must receive the activation.
    """
    if transcoder.n_instances != 1:
        raise ValueError("splice a single transcoder: use transcoder.instance(i)")
    captured: list[torch.Tensor] = []

    def grab_input(tensor: torch.Tensor, *, site: str) -> None:
        captured.append(tensor)

    def predict(tensor: torch.Tensor, *, site: str) -> torch.Tensor:
        # pop: the pre-hook of this very call pushed it (also right for re-entrant calls).
        return transcoder(captured.pop()).recon

    path, hash_, call = module.partition("#")
    suffix = f"#{call}" if hash_ else ""
    return [
        Intervention(f"{path}:input{suffix}", grab_input),
        Intervention(f"{path}:output{suffix}", predict),
    ]


@torch.no_grad()
def transcoder_loss_recovered(
    model: nn.Module,
    module: str,
    transcoder: Transcoder,
    inputs: Any,
    loss_fn: Callable[[Any, Any], torch.Tensor],
) -> SpliceLosses:
    """Run `model(inputs)` clean, with `transcoder` in place of `module`, and with
    `module`'s output zeroed; `recovered` is `(zeroed - spliced) / (zeroed - clean)`.

    `loss_fn(output, inputs)` returns the host's scalar loss (a task loss, or a
    divergence from the clean output). Zero ablation because a transcoder replaces the
    whole component: with the component gone, its output is nothing. Raises
    `ValueError` (from `loss_recovered`) when zeroing the component changes nothing.
    """
    # Here, not at the top: importing the symbiotes must not load the metrics (scipy).
    from symbiote_core.metrics import SpliceLosses, loss_recovered

    def run(interventions: Iterable[Intervention]) -> float:
        with intervene(model, interventions):
            return float(loss_fn(model(inputs), inputs))

    path, hash_, call = module.partition("#")
    output = f"{path}:output" + (f"#{call}" if hash_ else "")
    clean = run([])
    spliced = run(splice_transcoder(transcoder, module))
    zeroed = run([Intervention(output, ablate_all("zero"))])
    return SpliceLosses(clean, spliced, zeroed, loss_recovered(clean, spliced, zeroed))
