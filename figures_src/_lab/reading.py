"""What section 4 asks of every reader of the modular-addition host: is it faithful, and
what are its units?

Not a figure (leading underscore). `modadd_readers` and `modadd_transcoder` score their
symbiotes with these functions, so a dictionary and a transcoder are held to the same
standard. Torch is imported inside the functions: a figure module imports this one at
top level only for type names, never in `render`.

**Faithfulness.** The host's logits are a linear read-out of its neurons,
`logits = hidden @ W_U + b_U`, so a symbiote that rebuilds the neurons is spliced into
the host by reading its reconstruction out the same way (`splice`). It is scored

- by *loss recovered*: of the cross-entropy that mean-ablating the neurons costs (every
  pair given the neurons' mean), the share the splice wins back; the same share of the
  KL divergence from the host's own output (`kl_recovered`), which still means
  something where the task loss does not move (an untrained host);
- by the fraction of variance left unexplained, in the neurons (`fvu`) and in the space
  the host reads them in, the logits (`logit_fvu`): an error the unembedding ignores
  costs nothing, one along its rows costs answers.

**Units.** A unit is a function of the pair (a, b) over the p x p grid: a neuron, a
latent, a probe's read-out. `unit_scores` gives its frequency purity (the share of its
variance in its best frequency, `symbiote_core.fourier.frequency_purity`), its *answer
share* (the share of its variance that the answer c = (a + b) mod p explains alone), and
for non-negative units its *token selectivity* (the share of its activation on its best
single value of a or of b). `arcs` asks of an answer unit whether its response over the
answers is one arc of the circle on which a key frequency places them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


def splice(
    hidden: torch.Tensor,
    recon: torch.Tensor,
    mean: torch.Tensor,
    W_U: torch.Tensor,
    b_U: torch.Tensor,
    targets: torch.Tensor,
) -> dict[str, float]:
    """Scores of one symbiote spliced into one host on one set of pairs.

    `hidden` and `recon` `(n, d_mlp)`: the host's neurons and the symbiote's version of
    them on the scored pairs; `mean` `(d_mlp,)` the neurons' mean (the ablation);
    `W_U` `(d_mlp, p)`, `b_U` `(p,)`; `targets` `(n,)` the answers.
    """
    import torch.nn.functional as F

    logits = {
        name: h @ W_U + b_U
        for name, h in (("clean", hidden), ("spliced", recon), ("ablated", mean.expand_as(hidden)))
    }
    ce = {name: F.cross_entropy(v, targets).item() for name, v in logits.items()}
    clean_logp = F.log_softmax(logits["clean"], -1)
    kl = {
        name: F.kl_div(
            F.log_softmax(logits[name], -1), clean_logp, log_target=True, reduction="batchmean"
        ).item()
        for name in ("spliced", "ablated")
    }
    centred = hidden - hidden.mean(0)
    error = hidden - recon
    return {
        "clean_loss": ce["clean"],
        "spliced_loss": ce["spliced"],
        "ablated_loss": ce["ablated"],
        "recovered": (ce["ablated"] - ce["spliced"]) / (ce["ablated"] - ce["clean"]),
        "kl_recovered": (kl["ablated"] - kl["spliced"]) / kl["ablated"],
        "fvu": (error.pow(2).sum() / centred.pow(2).sum()).item(),
        "logit_fvu": ((error @ W_U).pow(2).sum() / (centred @ W_U).pow(2).sum()).item(),
        "accuracy": (logits["spliced"].argmax(-1) == targets).float().mean().item(),
    }


def unit_scores(functions: torch.Tensor, P: int, *, tokens: bool) -> dict[str, torch.Tensor]:
    """Scores of units `(p*p, units)` (rows in `all_pairs` order): `purity`, `frequency`
    (best frequency, 1-based), `answer_share` and, when `tokens`, `token_selectivity`
    (only meaningful for non-negative units), each `(units,)`."""
    from symbiote_core.fourier import frequency_purity

    grid = functions.double().reshape(P, P, -1)  # (a, b, unit)
    purity = frequency_purity(grid, P)
    out = {
        "purity": purity.purity,
        "frequency": purity.frequency,
        "answer_share": answer_share(grid),
    }
    if tokens:
        out["token_selectivity"] = token_selectivity(grid)
    return out


def answer_share(grid: torch.Tensor) -> torch.Tensor:
    """Share of each unit's variance explained by the answer c = (a + b) mod p alone,
    `(units,)`: 1 for any function of a + b, near 0 for a function of a alone."""
    centred = grid - grid.mean(dim=(0, 1))  # (a, b, unit)
    by_answer = by_answer_mean(centred)  # (c, unit)
    variance = centred.pow(2).mean(dim=(0, 1)).clamp_min(1e-12)
    return by_answer.pow(2).mean(0) / variance


def by_answer_mean(grid: torch.Tensor) -> torch.Tensor:
    """`(p, units)`: each unit's mean over the p pairs with answer c, for c = 0 .. p-1."""
    import torch

    P = grid.shape[0]
    a, b = torch.meshgrid(torch.arange(P), torch.arange(P), indexing="ij")
    out = torch.zeros(P, grid.shape[-1], dtype=grid.dtype)
    out.index_add_(0, ((a + b) % P).flatten(), grid.reshape(P * P, -1))
    return out / P


def token_selectivity(grid: torch.Tensor) -> torch.Tensor:
    """Share of a non-negative unit's total activation on its best single value of a or
    of b, `(units,)`: 1 for a detector of one input token, about 1/p for a unit spread
    evenly over the inputs."""
    mass = grid.sum(dim=(0, 1)).clamp_min(1e-12)
    by_a = grid.sum(dim=1).max(dim=0).values  # best row a = x
    by_b = grid.sum(dim=0).max(dim=0).values  # best column b = y
    return by_a.maximum(by_b) / mass


def arcs(functions: torch.Tensor, P: int, key: list[int]) -> dict[str, Any]:
    """Which units `(p*p, units)` respond to one arc of the answer circle.

    A unit's *support* is the set of answers c where its mean activation (over the p
    pairs with that answer) is above half its largest. The unit is an *arc* when, for
    some key frequency k, its support is one unbroken run of the circle on which k
    places the answers (c at angle 2 pi k c / p, i.e. in the order of k c mod p): the
    shape a unit reading cos(2 pi k c / p - phase) through a threshold has. Returns
    `is_arc` `(units,)` bool, `width` `(units,)` (support size over p) and `support`
    `(units, p)` bool.
    """
    import torch

    profile = by_answer_mean(functions.double().reshape(P, P, -1))  # (c, unit)
    profile = profile - profile.min(0).values
    support = (profile > 0.5 * profile.max(0).values.clamp_min(1e-12)).T  # (unit, c)
    is_arc = torch.zeros(support.shape[0], dtype=torch.bool)
    for k in key:
        # Step j round the circle (angle 2 pi j / p) holds the answer c with k c = j mod p.
        order = (pow(k, -1, P) * torch.arange(P)) % P
        around = support[:, order]
        # One run on a circle: exactly one place where the support switches on.
        starts = (around & ~around.roll(1, dims=1)).sum(1)
        is_arc |= (starts == 1) & ~around.all(1)
    return {"is_arc": is_arc, "width": support.double().mean(1), "support": support}
