"""How good is a symbiote: reconstruction, sparsity, faithfulness, feature recovery.

Conventions: activations and latents are `(batch, [n_instances,] width)`. Metrics
reduce over the batch (dim 0) and the width (last dim) and keep any dimensions in
between, so a batched set of dictionaries gets one number per instance. Flatten
sequence positions into the batch first. Direction sets are `(n, d)` rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment
from torch import nn

from symbiote_core.interventions import Intervention, ablate_all, intervene, replace, splice
from symbiote_core.sites import collect


def mse(x: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
    """Mean squared error over batch and features; (n_instances,) or ()."""
    return (x - recon).pow(2).mean(dim=(0, -1))


def fvu(x: torch.Tensor, recon: torch.Tensor) -> torch.Tensor:
    """Fraction of variance unexplained: residual energy over energy about the batch mean."""
    residual = (x - recon).pow(2).sum(dim=(0, -1))
    total = (x - x.mean(0)).pow(2).sum(dim=(0, -1))
    return residual / total


def l0(latents: torch.Tensor) -> torch.Tensor:
    """Mean number of non-zero latents per example; (n_instances,) or ()."""
    return (latents != 0).float().sum(-1).mean(0)


def dead_fraction(latents: torch.Tensor) -> torch.Tensor:
    """Fraction of latents that are zero on every example of the batch."""
    return (~(latents != 0).any(0)).float().mean(-1)


def loss_recovered(clean_loss: float, spliced_loss: float, ablated_loss: float) -> float:
    """`(ablated - spliced) / (ablated - clean)`: 1 when the splice costs nothing, 0 when
    it is as bad as ablating the site."""
    if ablated_loss == clean_loss:
        raise ValueError(
            "ablated_loss equals clean_loss: ablating the site changes nothing to recover"
        )
    return (ablated_loss - spliced_loss) / (ablated_loss - clean_loss)


class SpliceLosses(NamedTuple):
    """Host losses with the site as is, spliced by the symbiote, and ablated."""

    clean: float
    spliced: float
    ablated: float
    recovered: float
    """`loss_recovered(clean, spliced, ablated)`."""


@torch.no_grad()
def splice_loss_recovered(
    model: nn.Module,
    site: str,
    symbiote: Any,
    inputs: torch.Tensor,
    loss_fn: Callable[[Any, torch.Tensor], torch.Tensor],
    ablation: Literal["zero", "mean"] = "mean",
) -> SpliceLosses:
    """Run `model(inputs)` clean, with `site` spliced by `symbiote`, and with it ablated.

    `loss_fn(output, inputs)` returns the host's scalar loss. Mean ablation uses the
    site's mean over `inputs` (dim 0). The model's train/eval mode is left as it is.
    """

    def run(interventions: Iterable[Intervention]) -> float:
        with intervene(model, interventions):
            return float(loss_fn(model(inputs), inputs))

    mean = collect(model, site, inputs)[site].mean(0) if ablation == "mean" else None
    clean = run([])
    spliced = run([Intervention(site, splice(symbiote))])
    ablated = run([Intervention(site, ablate_all(ablation, mean))])
    return SpliceLosses(clean, spliced, ablated, loss_recovered(clean, spliced, ablated))


def instance_reconstruction(
    symbiote: Any, activation: torch.Tensor, slots: Sequence[int], instance_dim: int = -2
) -> torch.Tensor:
    """A batched dictionary's `decode(encode(.))` of a batched host's activation.

    `activation` has the host's instances along `instance_dim`; host instance s is read
    by dictionary instance `slots[s]` (the dictionary may hold more instances: the
    others are fed zeros and dropped). The result has `activation`'s shape.
    """
    x = activation.movedim(instance_dim, -2)  # (..., host instances, d)
    index = torch.as_tensor(list(slots))
    filled = x.new_zeros(*x.shape[:-2], symbiote.n_instances, x.shape[-1])
    filled[..., index, :] = x
    return symbiote.decode(symbiote.encode(filled))[..., index, :].movedim(-2, instance_dim)


class InstanceSpliceLosses(NamedTuple):
    """`SpliceLosses` of a batched splice: one value per spliced dictionary instance."""

    clean: list[float]
    spliced: list[float]
    ablated: list[float]
    recovered: list[float]


@torch.no_grad()
def splice_loss_recovered_instances(
    model: nn.Module,
    site: str,
    replacement: Any,
    inputs: Any,
    loss_fn: Callable[[Any, Any], torch.Tensor],
    hosts: Sequence[int] | None = None,
    *,
    slots: Sequence[int] | None = None,
    instance_dim: int = -2,
) -> InstanceSpliceLosses:
    """`splice_loss_recovered` for a batched host and a stack of dictionaries.

    The host holds several instances along `instance_dim` of `site`, and
    `loss_fn(output, inputs)` returns its loss per instance `(host instances,)`.
    `replacement` is either
    - a batched dictionary: host instance s is spliced by dictionary instance
      `slots[s]` (default s; see `instance_reconstruction`), or
    - a reconstruction already made, the site's shape but with one entry per splice
      along `instance_dim`: splice j replaces host instance `hosts[j]` (default j).
      Several splices may read one host instance; each is judged alone (they are run
      in rounds that splice each host instance once).
    Mean ablation replaces each host instance's site by its mean over every other
    dimension but the last. Returns one value per splice.
    """
    seen: list[torch.Tensor] = []

    def record(tensor: torch.Tensor, *, site: str) -> None:
        seen.append(tensor)

    with intervene(model, [Intervention(site, record)]):
        clean = loss_fn(model(inputs), inputs)
    activation = seen[0]
    dim = instance_dim % activation.dim()
    if isinstance(replacement, torch.Tensor):
        recon = replacement
    else:
        n_host = activation.shape[dim]
        recon = instance_reconstruction(
            replacement, activation, range(n_host) if slots is None else slots, instance_dim
        )
    hosts = list(range(recon.shape[dim])) if hosts is None else [int(i) for i in hosts]
    if len(hosts) != recon.shape[dim]:
        raise ValueError(f"{len(hosts)} host instances for {recon.shape[dim]} splices")
    others = tuple(d for d in range(activation.dim()) if d not in (dim, activation.dim() - 1))
    mean = activation.mean(dim=others, keepdim=True)
    ablated = _run(model, inputs, loss_fn, [Intervention(site, replace(mean))])
    spliced = [0.0] * len(hosts)
    pending = list(range(len(hosts)))
    while pending:
        taken: dict[int, int] = {}
        for j in pending:
            taken.setdefault(hosts[j], j)
        edited = activation.clone()
        for i, j in taken.items():
            edited.select(dim, i).copy_(recon.select(dim, j))
        losses = _run(model, inputs, loss_fn, [Intervention(site, replace(edited))])
        for i, j in taken.items():
            spliced[j] = losses[i].item()
        pending = [j for j in pending if j not in taken.values()]
    clean_j = [clean[i].item() for i in hosts]
    ablated_j = [ablated[i].item() for i in hosts]
    recovered = [loss_recovered(*row) for row in zip(clean_j, spliced, ablated_j, strict=True)]
    return InstanceSpliceLosses(clean_j, spliced, ablated_j, recovered)


def _run(model: nn.Module, inputs: Any, loss_fn: Callable, interventions: list) -> torch.Tensor:
    with intervene(model, interventions):
        return loss_fn(model(inputs), inputs)


def cosine_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Cosine similarity of every row of `a` (n_a, d) with every row of `b` (n_b, d)."""
    if a.dim() != 2 or b.dim() != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(
            f"need (n_a, d) and (n_b, d) direction sets, got {tuple(a.shape)}, {tuple(b.shape)}"
        )
    return F.normalize(a.double(), dim=1) @ F.normalize(b.double(), dim=1).T  # (n_a, n_b)


def mean_max_cosine(learned: torch.Tensor, true: torch.Tensor, absolute: bool = False) -> float:
    """For each true direction, the best cosine among the learned ones; averaged.

    Signed by default (a dictionary atom pointing the opposite way is a different
    feature); `absolute=True` counts antipodal matches.
    """
    cos = cosine_matrix(learned, true)
    cos = cos.abs() if absolute else cos
    return cos.max(0).values.mean().item()


def mcc(learned: torch.Tensor, true: torch.Tensor, absolute: bool = False) -> float:
    """Mean cosine of the best one-to-one matching of learned to true directions.

    Hungarian matching (`scipy.optimize.linear_sum_assignment`) maximises the summed
    cosine; the mean runs over min(n_learned, n_true) matched pairs. Unlike
    `mean_max_cosine`, one learned direction cannot match several true ones.
    """
    cos = cosine_matrix(learned, true)
    cos = cos.abs() if absolute else cos
    rows, cols = linear_sum_assignment(cos.numpy(), maximize=True)
    return float(np.mean(cos.numpy()[rows, cols]))


def random_directions(n: int, d: int, generator: torch.Generator) -> torch.Tensor:
    """`n` random unit vectors in `d` dimensions, (n, d): the control for recovery scores.

    The generator is required: drawn from the global RNG right after
    `make_deterministic(seed)`, the "random" control replayed the toy host's own
    initial weights (MCC 1.0).
    """
    return F.normalize(torch.randn(n, d, generator=generator), dim=1)


def accuracy(logits: torch.Tensor, targets: torch.Tensor) -> float:
    """Fraction of examples whose arg-max class is the target."""
    return (logits.argmax(-1) == targets).float().mean().item()


def selectivity(score: float, control_score: float) -> float:
    """Probe score minus its control's: what the host adds over a random host."""
    return score - control_score


def kl_divergence(logits_p: torch.Tensor, logits_q: torch.Tensor) -> torch.Tensor:
    """Mean KL(P || Q) over examples, P and Q given as logits over the last dimension.

    Use P = the clean host's output and Q = the host under intervention to measure
    collateral change.
    """
    logp = F.log_softmax(logits_p.double(), dim=-1)
    logq = F.log_softmax(logits_q.double(), dim=-1)
    kl = (logp.exp() * (logp - logq)).sum(-1)
    return kl.reshape(-1).mean().to(logits_p.dtype)
