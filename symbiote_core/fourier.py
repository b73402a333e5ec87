"""Fourier analysis over Z_p, for reading the modular-addition host.

The real Fourier basis of functions on Z_p (p odd) has p orthonormal vectors:

    constant  1/sqrt(p)
    cos_k(x)  = sqrt(2/p) cos(2 pi k x / p)     k = 1 .. (p-1)/2
    sin_k(x)  = sqrt(2/p) sin(2 pi k x / p)

"Frequency k" means the 2-dim space spanned by cos_k and sin_k: a shift of x only
rotates within it, so the power in frequency k (cos_k^2 + sin_k^2 coefficients) does
not depend on phase. Frequency 0 is the constant.

What purity measures. A "direction" (a neuron, a probe or dictionary direction, a
random direction as control) is given by its *activation as a function of the input*,
in one of two layouts:

- `(p, n)`: n functions of one token x (an embedding column, or an activation
  indexed by c = (a + b) mod p). Power at frequency k is the squared norm of the
  function's cos_k/sin_k coefficients.
- `(p, p, n)`: n functions of the pair (a, b), e.g. `ModAddModel.hidden_grid()`. The
  2-D basis is the outer product of the 1-D one; frequency k owns the 8 components
  whose a-part and b-part are each in {constant, cos_k, sin_k} and not both constant:
  cos/sin(k a), cos/sin(k b), and their four products, which span cos/sin(k(a + b))
  and cos/sin(k(a - b)). Components mixing two different non-zero frequencies
  belong to no single frequency.

In both layouts, `frequency_purity` is the fraction of the *variance* (the power
left after removing the constant, i.e. the mean) that lies in the single best
frequency. A pure cos(k x) or cos(k(a + b)) scores 1; a random function scores
about 2/(p-1) in 1-D and 8/(p^2-1) in 2-D. ReLU neurons of a grokked host score
below 1 because their harmonics (2k, 3k...) count against them.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch


def n_frequencies(p: int) -> int:
    """Number of non-constant frequencies, (p - 1) / 2."""
    if p < 3 or p % 2 == 0:
        raise ValueError(f"the Fourier basis here needs an odd p >= 3, got {p}")
    return (p - 1) // 2


def fourier_basis(p: int) -> tuple[torch.Tensor, list[str]]:
    """Orthonormal real Fourier basis `(p, p)` (rows are basis vectors over x) and row names.

    Row order: `const, cos1, sin1, cos2, sin2, ...`; row 2k-1 is cos_k, row 2k is sin_k.
    """
    K = n_frequencies(p)
    x = torch.arange(p, dtype=torch.float64)
    rows = [torch.full((p,), 1.0 / math.sqrt(p), dtype=torch.float64)]
    names = ["const"]
    for k in range(1, K + 1):
        angle = 2 * math.pi * k * x / p
        rows += [math.sqrt(2 / p) * angle.cos(), math.sqrt(2 / p) * angle.sin()]
        names += [f"cos{k}", f"sin{k}"]
    return torch.stack(rows).float(), names


def frequency_power(acts: torch.Tensor, p: int) -> torch.Tensor:
    """Power in each frequency `(n, (p-1)/2 + 1)`, column 0 the constant, column k frequency k.

    `acts` is `(p, n)` (functions of one token) or `(p, p, n)` (functions of a pair
    (a, b)); see the module docstring for which 2-D components frequency k owns. In
    1-D the columns sum to the squared norm of each function; in 2-D the components
    that mix two frequencies are left out, so they sum to less.
    """
    basis, _ = fourier_basis(p)
    basis = basis.to(acts.dtype)
    K = n_frequencies(p)
    if acts.ndim == 2 and acts.shape[0] == p:
        coef = basis @ acts  # (p, n): coefficient of each basis row
        sq = coef.pow(2)
        power = torch.cat([sq[:1], sq[1:].view(K, 2, -1).sum(dim=1)])  # (K+1, n)
        return power.T
    if acts.ndim == 3 and acts.shape[:2] == (p, p):
        # One axis at a time: as one einsum, torch contracts the two bases first, into a
        # p**4 outer product (4 s at p = 113, against milliseconds).
        along_a = torch.einsum("ia,abn->ibn", basis, acts)
        coef = torch.einsum("jb,ibn->ijn", basis, along_a)  # (p, p, n)
        sq = coef.pow(2)
        power = [sq[0, 0]]
        for k in range(1, K + 1):
            own = [0, 2 * k - 1, 2 * k]  # const, cos_k, sin_k rows
            power.append(sq[own][:, own].sum(dim=(0, 1)) - sq[0, 0])
        return torch.stack(power).T  # (n, K+1)
    raise ValueError(
        f"acts must be (p, n) or (p, p, n) with p = {p}, got shape {tuple(acts.shape)}; "
        "give a single direction a trailing axis of size 1"
    )


class Purity(NamedTuple):
    """Per direction: the fraction of variance in the best frequency, and that frequency."""

    purity: torch.Tensor
    """`(n,)` in [0, 1]."""

    frequency: torch.Tensor
    """`(n,)` long, in 1..(p-1)/2."""


def frequency_purity(acts: torch.Tensor, p: int, eps: float = 1e-12) -> Purity:
    """Fraction of each direction's variance in its single best frequency.

    `acts`: `(p, n)` activations over one token x (or over c = (a+b) mod p), or
    `(p, p, n)` over all pairs [a, b]. The denominator is the total variance (squared
    norm minus the constant's power), including any 2-D power no frequency owns, so
    purity is a fraction of everything the direction does. A constant direction has
    no variance and scores 0.
    """
    power = frequency_power(acts, p)  # (n, K+1)
    flat = acts.reshape(-1, acts.shape[-1])
    variance = flat.pow(2).sum(dim=0) - power[:, 0]  # (n,)
    best, index = power[:, 1:].max(dim=-1)
    purity = torch.where(variance > eps, best / variance.clamp_min(eps), torch.zeros_like(best))
    return Purity(purity.clamp(0, 1), index + 1)


def frequency_spectrum(W: torch.Tensor, p: int) -> torch.Tensor:
    """Fraction of the non-constant squared norm of `W` `(p, d)` in each frequency, `((p-1)/2,)`.

    Entry k-1 is frequency k; summed over the d columns, so for an embedding table
    `W_E` `(p, d_model)` it says which frequencies the embedding uses.
    """
    power = frequency_power(W, p).sum(dim=0)[1:]  # (K,)
    return power / power.sum()


def key_frequencies(W_embed: torch.Tensor, p: int, top: int = 5) -> list[int]:
    """The `top` frequencies holding the most embedding norm, strongest first.

    `W_embed` is `(p, d_model)`, row x the embedding of token x. Ties and near-ties
    are common among the weaker ones; read `frequency_spectrum` for the values.
    """
    spectrum = frequency_spectrum(W_embed, p)
    order = spectrum.argsort(descending=True)[:top]
    return [int(k) + 1 for k in order]
