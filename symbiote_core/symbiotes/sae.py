"""What every sparse dictionary shares: weights, encode/decode, losses, instances.

A dictionary maps an activation `x` (d_in) to sparse latents `z` (d_sae) and back:

    pre    = (x - b_dec) @ W_enc + b_enc        # (..., d_sae)
    z      = activation(pre)                    # kind-specific: ReLU, TopK, JumpReLU ...
    recon  = z @ W_dec + b_dec                  # (..., d_in)

`forward(x)` returns `DictionaryOutput(recon, latents)` with
`recon == decode(encode(x))` exactly; the training losses come from `loss(x)`.

Choices, each a known footgun elsewhere:

- Pre-centring: `b_dec` is subtracted before encoding and `train` sets it to the data
  mean before the first step (`init_from_data`). Uncentred activations left 504 of
  512 latents dead in trials here.
- Decoder rows are kept at unit norm by renormalising after every optimiser step
  (`post_step`), so a latent's value is its contribution's norm and an L1 penalty
  cannot be dodged by shrinking latents and growing decoder rows.
- `W_enc` starts as `W_dec.T` (tied initialisation, Gao et al. 2024), and the
  initial weights depend on `cfg.seed` alone, never on the global RNG (see
  `init_generator` for the trap this avoids).

Many dictionaries at once: with `n_instances = n > 1` every weight gets a leading
instance dimension (`W_enc: (n, d_in, d_sae)`), inputs are `(..., n, d_in)` and
latents `(..., n, d_sae)`, and hyper-parameters listed in the config's
`per_instance` may be a tuple of n values. The total loss is the sum of the
instances' losses, so each instance gets exactly the gradients it would get alone
(and Adam is per-parameter), while one set of batched matmuls trains them all.
`instance(i)` pulls instance i out as a plain single dictionary. With
`n_instances = 1` (the default) weights have no instance dimension and inputs are
`(..., d_in)`. Shape comments write the instance dimension as `n?` (present only
when n_instances > 1) and `[n,]` in signatures.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple, Self

import torch
from torch import nn

from symbiote_core.symbiotes.registry import SymbioteConfig


@dataclass(kw_only=True)
class DictionaryConfig(SymbioteConfig):
    """Fields every dictionary kind has; each kind's config adds its own."""

    per_instance: ClassVar[tuple[str, ...]] = ()

    d_in: int
    """Width of the activation being decomposed."""
    d_sae: int
    """Number of latents (dictionary atoms)."""
    n_instances: int = 1
    """Dictionaries trained together as one set of tensors (see module docstring)."""
    dead_after: int = 10_000
    """A latent that has not fired for this many training examples counts as dead."""
    seed: int = 0
    """Seeds the initial weights through a private generator (see `init_generator`)."""
    instance_seeds: tuple[int, ...] | None = None
    """One seed per instance, overriding `seed`: instance i starts with the weights a
    single dictionary built with `seed=instance_seeds[i]` has, so a seed's dictionary is
    the same whichever other seeds train beside it (as `ToyConfig.instance_seeds`)."""

    def __post_init__(self) -> None:
        for name in ("d_in", "d_sae", "n_instances", "dead_after"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{type(self).__name__}.{name} must be an int >= 1, got {value!r}")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"{type(self).__name__}.seed must be an int >= 0, got {self.seed!r}")
        if self.instance_seeds is not None:
            self.instance_seeds = tuple(int(s) for s in self.instance_seeds)
            if len(self.instance_seeds) != self.n_instances or min(self.instance_seeds) < 0:
                raise ValueError(
                    f"{type(self).__name__}.instance_seeds must be {self.n_instances} ints >= 0 "
                    f"(one per instance) or None, got {self.instance_seeds!r}"
                )
        for name in self.per_instance:
            value = getattr(self, name)
            if isinstance(value, list | tuple):
                if len(value) != self.n_instances:
                    raise ValueError(
                        f"{type(self).__name__}.{name} has {len(value)} values but "
                        f"n_instances is {self.n_instances}; give one value or one per instance"
                    )
                # JSON gives lists back; tuples keep the config hashable and comparable.
                setattr(self, name, tuple(value))

    def values(self, name: str) -> list[Any]:
        """The per-instance hyper-parameter `name` as a list of n_instances values."""
        value = getattr(self, name)
        return list(value) if isinstance(value, tuple) else [value] * self.n_instances

    def for_instance(self, i: int) -> Self:
        """This config for instance i alone (n_instances = 1, scalar hyper-parameters)."""
        if not 0 <= i < self.n_instances:
            raise ValueError(f"instance {i} out of range for n_instances={self.n_instances}")
        scalars = {name: self.values(name)[i] for name in self.per_instance}
        if self.instance_seeds is not None:
            scalars |= {"seed": self.instance_seeds[i], "instance_seeds": None}
        return dataclasses.replace(self, n_instances=1, **scalars)


class DictionaryOutput(NamedTuple):
    """What `Dictionary.forward` returns."""

    recon: torch.Tensor
    """`decode(encode(x))`, shape of `x` (d_out wide for a transcoder's dictionary)."""
    latents: torch.Tensor
    """`encode(x)`: (..., d_sae), or (..., n_instances, d_sae) for several instances."""


class Dictionary(nn.Module):
    """Base of the sparse dictionary kinds; subclasses define `activation`.

    `d_out` is for transcoders only: a dictionary whose decoder writes a different
    space (width `d_out`) than its encoder reads. It is then not pre-centred by
    `b_dec` (the spaces differ); `init_from_data` centres through `b_enc` instead.
    """

    config_class: ClassVar[type[DictionaryConfig]] = DictionaryConfig

    def __init__(self, cfg: DictionaryConfig, *, d_out: int | None = None) -> None:
        super().__init__()
        if type(cfg) is not self.config_class:  # a subclass config names another kind
            raise ValueError(
                f"{type(self).__name__} needs a {self.config_class.__name__}, got {type(cfg).__name__}"
            )
        self.cfg = cfg
        self.d_in, self.d_sae, self.n_instances = cfg.d_in, cfg.d_sae, cfg.n_instances
        self.autoencoder = d_out is None
        self.d_out = cfg.d_in if d_out is None else d_out
        lead = self._lead()
        if cfg.instance_seeds is None:
            W_enc, W_dec = self._initial_weights(cfg.seed, lead)
        else:  # each instance from its own seed, as a single dictionary would start
            pairs = [self._initial_weights(seed, ()) for seed in cfg.instance_seeds]
            W_enc = torch.stack([w for w, _ in pairs]).view(*lead, self.d_in, self.d_sae)
            W_dec = torch.stack([w for _, w in pairs]).view(*lead, self.d_sae, self.d_out)
        self.W_enc = nn.Parameter(W_enc.contiguous())  # (n?, d_in, d_sae)
        self.W_dec = nn.Parameter(W_dec)  # (n?, d_sae, d_out)
        self.b_enc = nn.Parameter(torch.zeros(*lead, self.d_sae))  # (n?, d_sae)
        self.b_dec = nn.Parameter(torch.zeros(*lead, self.d_out))  # (n?, d_out)
        # Training-only state: not saved, so a loaded dictionary starts counting afresh.
        self.register_buffer(
            "examples_since_fired",
            torch.zeros(*lead, self.d_sae, dtype=torch.long),
            persistent=False,
        )

    def _initial_weights(
        self, seed: int, lead: tuple[int, ...]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """`(W_enc, W_dec)` drawn from `init_generator(seed)`, with leading dims `lead`."""
        gen = init_generator(seed)
        W_dec = _unit_rows(torch.randn(*lead, self.d_sae, self.d_out, generator=gen))
        if self.autoencoder:
            W_enc = W_dec.transpose(-1, -2).clone()
        else:
            W_enc = torch.randn(*lead, self.d_sae, self.d_in, generator=gen)
            W_enc = _unit_rows(W_enc).transpose(-1, -2)
        return W_enc.contiguous(), W_dec

    # ----- shapes: internally every tensor carries the instance dimension -----

    def _lead(self) -> tuple[int, ...]:
        return () if self.n_instances == 1 else (self.n_instances,)

    def _lift(self, t: torch.Tensor) -> torch.Tensor:
        """Parameter/buffer -> with instance dim first."""
        return t.unsqueeze(0) if self.n_instances == 1 else t

    def _lift_input(self, x: torch.Tensor, width: int, what: str) -> torch.Tensor:
        """(..., width) or (..., n, width) -> (..., n, width)."""
        if x.shape[-1] != width:
            raise ValueError(
                f"{type(self).__name__}: {what} has last dimension {x.shape[-1]}, expected {width}"
            )
        if self.n_instances == 1:
            return x.unsqueeze(-2)
        if x.dim() < 2 or x.shape[-2] != self.n_instances:
            raise ValueError(
                f"{type(self).__name__} has n_instances={self.n_instances}: {what} must be "
                f"(..., {self.n_instances}, {width}), got {tuple(x.shape)}; to feed one input "
                "to every instance use x.unsqueeze(-2).expand(..., n_instances, width)"
            )
        return x

    def _drop(self, t: torch.Tensor) -> torch.Tensor:
        return t.squeeze(-2) if self.n_instances == 1 else t

    # ----- the map -----

    def pre_activation(self, x: torch.Tensor) -> torch.Tensor:
        """`(x - b_dec) @ W_enc + b_enc` before the sparsifying activation; (..., [n,] d_sae)."""
        return self._drop(self._pre(self._lift_input(x, self.d_in, "input")))

    def _pre(self, xl: torch.Tensor) -> torch.Tensor:
        if self.autoencoder:
            xl = xl - self._lift(self.b_dec)
        if self.n_instances == 1:  # one fused matmul: einsum goes through bmm and copies
            pre = torch.addmm(self.b_enc, xl.reshape(-1, self.d_in), self.W_enc)
            return pre.view(*xl.shape[:-1], self.d_sae)
        pre = torch.einsum("...nd,nds->...ns", xl, self.W_enc)  # (..., n, d_sae)
        return pre + self.b_enc

    def activation(self, pre: torch.Tensor) -> torch.Tensor:
        """Sparse latents from pre-activations (..., n, d_sae); defined by each kind."""
        raise NotImplementedError

    def training_activation(self, pre: torch.Tensor) -> torch.Tensor:
        """Latents used by `loss`; the same as `activation` except for batch-level kinds."""
        return self.activation(pre)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(..., [n,] d_in) -> sparse latents (..., [n,] d_sae)."""
        return self._drop(self.activation(self._pre(self._lift_input(x, self.d_in, "input"))))

    def _decode(self, zl: torch.Tensor) -> torch.Tensor:
        if self.n_instances == 1:
            recon = torch.addmm(self.b_dec, zl.reshape(-1, self.d_sae), self.W_dec)
            return recon.view(*zl.shape[:-1], self.d_out)
        recon = torch.einsum("...ns,nso->...no", zl, self.W_dec)
        return recon + self.b_dec  # (..., n, d_out)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(..., [n,] d_sae) -> reconstruction (..., [n,] d_out)."""
        return self._drop(self._decode(self._lift_input(z, self.d_sae, "latents")))

    def forward(self, x: torch.Tensor) -> DictionaryOutput:
        z = self.encode(x)
        return DictionaryOutput(self.decode(z), z)

    # ----- training -----

    def sparsity_loss(self, z: torch.Tensor, pre: torch.Tensor) -> torch.Tensor:
        """Per-instance sparsity penalty (n,), coefficient included; none by default."""
        return z.new_zeros(self.n_instances)

    def aux_loss(self, pre: torch.Tensor, z: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """Per-instance auxiliary loss (n,) (e.g. AuxK for dead latents); none by default."""
        return z.new_zeros(self.n_instances)

    def recon_loss(
        self, z: torch.Tensor, target: torch.Tensor, offset: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(per-instance squared error summed over features, mean over examples; recon)."""
        recon = self._decode(z)
        if offset is not None:
            recon = recon + offset
        return _mean_examples((recon - target).pow(2).sum(-1)), recon

    def loss(
        self,
        x: torch.Tensor,
        target: torch.Tensor | None = None,
        offset: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Total loss (sum over instances) and per-instance parts, each (n,) or ().

        `target` defaults to `x` (an autoencoder); a transcoder passes the component's
        output as `target` and its skip path as `offset` (added to the reconstruction).
        In training mode this also updates the dead-latent counters.
        """
        xl = self._lift_input(x, self.d_in, "input")
        tl = xl if target is None else self._lift_input(target, self.d_out, "target")
        ol = None if offset is None else self._lift_input(offset, self.d_out, "offset")
        pre = self._pre(xl)  # (..., n, d_sae)
        z = self.training_activation(pre)
        recon_loss, recon = self.recon_loss(z, tl, ol)
        sparsity = self.sparsity_loss(z, pre)
        aux = self.aux_loss(pre, z, (tl - recon).detach())
        active = z > 0  # (..., n, d_sae)
        if self.training:
            self._count_firing(active)
        per_instance = recon_loss + sparsity + aux  # (n,)
        l0 = _mean_examples(active.sum(-1).float())
        parts = {"recon": recon_loss, "sparsity": sparsity, "aux": aux, "l0": l0}
        return per_instance.sum(), {k: self._squeeze(v.detach()) for k, v in parts.items()}

    def _squeeze(self, t: torch.Tensor) -> torch.Tensor:
        return t.squeeze(0) if self.n_instances == 1 else t

    @torch.no_grad()
    def _count_firing(self, active: torch.Tensor) -> None:
        active = active.reshape(-1, self.n_instances, self.d_sae)  # (examples, n, d_sae)
        counter = self._lift(self.examples_since_fired)
        counter += active.shape[0]
        counter[active.any(0)] = 0

    def dead_mask(self) -> torch.Tensor:
        """Latents that have not fired for `cfg.dead_after` training examples; (n?, d_sae)."""
        return self.examples_since_fired >= self.cfg.dead_after

    @torch.no_grad()
    def init_from_data(self, x: torch.Tensor, target: torch.Tensor | None = None) -> None:
        """Centre on a first batch: `b_dec` = mean target; for d_out != d_in, centre via b_enc."""
        xl = self._lift_input(x, self.d_in, "input")
        tl = xl if target is None else self._lift_input(target, self.d_out, "target")
        self._lift(self.b_dec).copy_(tl.reshape(-1, self.n_instances, self.d_out).mean(0))
        if not self.autoencoder:
            mean_in = xl.reshape(-1, self.n_instances, self.d_in).mean(0)  # (n, d_in)
            shift = torch.einsum("nd,nds->ns", mean_in, self._lift(self.W_enc))
            self._lift(self.b_enc).sub_(shift)

    @torch.no_grad()
    def post_step(self) -> None:
        """Renormalise decoder rows to unit norm (called by `train` after each step)."""
        self.W_dec.copy_(_unit_rows(self.W_dec))

    # ----- instances -----

    def _init_kwargs(self) -> dict[str, Any]:
        return {} if self.autoencoder else {"d_out": self.d_out}

    def instance(self, i: int) -> Self:
        """Instance i as a plain single dictionary (a copy; n_instances = 1)."""
        single = type(self)(self.cfg.for_instance(i), **self._init_kwargs())
        if self.n_instances == 1:
            single.load_state_dict(self.state_dict())
        else:
            single.load_state_dict({k: v[i] for k, v in self.state_dict().items()})
        single.train(self.training)
        return single


def init_generator(seed: int) -> torch.Generator:
    """The generator a dictionary's initial weights come from: a mix of `seed`.

    Why not the global RNG or `Generator().manual_seed(seed)`: hosts here draw their
    weights from exactly such a stream, and a 512 -> 64 dictionary built from the same
    seed started *equal* to the toy host's initial feature directions (MCC 1.0 before
    any training), which silently inflates every recovery score. The mix (a
    splitmix64-style odd multiplier) keeps the init a pure function of the config
    while sharing no stream with `manual_seed(seed)`.
    """
    return torch.Generator().manual_seed((seed * 0x9E3779B97F4A7C15 + 0x5AE) % 2**63)


def _unit_rows(w: torch.Tensor) -> torch.Tensor:
    return w / w.norm(dim=-1, keepdim=True).clamp_min(1e-8)


def _mean_examples(t: torch.Tensor) -> torch.Tensor:
    """(..., n) -> (n,): mean over every example dimension."""
    return t.reshape(-1, t.shape[-1]).mean(0)
