"""Read and write the answer of a modular-addition host in its Fourier planes.

A host that computes (a + b) mod p with the Fourier algorithm (Nanda et al. 2023)
carries, in its hidden layer, the answer s = a + b as cos and sin of w_k s at a few
key frequencies k (w_k = 2 pi k / p). Per key frequency that is a plane, and a
change of the answer from s to s + d is a rotation of the point (cos w_k s, sin w_k s)
in that plane by the angle w_k d. This module holds the linear algebra for three
uses of those planes:

- *answer maps*: the least-squares fit `h ~ mean + T(s) @ U` of activations `h`
  `(n, d)` on the answer's features `T(s)` `(n, 2K)` (cos and sin per frequency);
  the rows of `U` are where each feature is written in activation space;
- *ablations*: `mean_ablate` removes an activation subspace (replaces the
  component in it with its mean), and `restrict`/`exclude` keep or remove the
  answer's own components `T(s) @ U` (restricted and excluded loss, Nanda et al.);
- *edits*: `shift_rotation` is the block-diagonal rotation with
  `T(s) @ R = T(s + d)`, and `rotate_planes` rotates activations within given planes.

Row-vector convention throughout: a batch of activations is `(n, d)`, maps act on
the right. Everything here is plain torch and works in the dtype it is given.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F


def answer_features(answers: torch.Tensor, p: int, freqs: Sequence[int]) -> torch.Tensor:
    """`(n, 2K)`: columns cos(w_k s), sin(w_k s) for each frequency k in `freqs`, in order.

    `answers` `(n,)` are the values s (any integers; only s mod p matters).
    """
    if not freqs:
        raise ValueError("answer_features needs at least one frequency")
    w = 2 * math.pi * torch.tensor(list(freqs), dtype=torch.float64) / p  # (K,)
    angle = answers.to(torch.float64)[:, None] * w  # (n, K)
    return torch.stack([angle.cos(), angle.sin()], dim=-1).flatten(1)


def shift_rotation(p: int, freqs: Sequence[int], delta: int) -> torch.Tensor:
    """`(2K, 2K)` block-diagonal rotation with `answer_features(s) @ R = answer_features(s + delta)`.

    For one frequency, [cos, sin] @ [[cos t, sin t], [-sin t, cos t]] with t = w_k delta
    gives [cos(w_k s + t), sin(w_k s + t)].
    """
    blocks = []
    for k in freqs:
        t = 2 * math.pi * k * delta / p
        c, s = math.cos(t), math.sin(t)
        blocks.append(torch.tensor([[c, s], [-s, c]], dtype=torch.float64))
    return torch.block_diag(*blocks)


class AnswerMap(NamedTuple):
    """`h ~ mean + answer_features(s) @ write`: the least-squares write map of the answer."""

    mean: torch.Tensor
    """`(d,)` the intercept: the activation the answer's features are added to."""

    write: torch.Tensor
    """`(2K, d)`: row 2j is where cos(w_k s) is written, row 2j + 1 where sin(w_k s) is."""


def fit_answer_map(h: torch.Tensor, features: torch.Tensor) -> AnswerMap:
    """Least squares of activations `h` `(n, d)` on `[1, features]` `(n, 2K)`.

    On the full grid of pairs the features are orthogonal and this is the Fourier
    projection Nanda et al. use; on a subset of pairs (a training split) it is the
    least-squares version of it, so the rows left out never enter the map.
    """
    design = torch.cat([torch.ones_like(features[:, :1]), features], dim=1).to(h.dtype)
    solution = torch.linalg.lstsq(design, h, driver="gelsd").solution  # (1 + 2K, d)
    return AnswerMap(solution[0], solution[1:])


def restrict(features: torch.Tensor, amap: AnswerMap) -> torch.Tensor:
    """Activations keeping only the answer's components: `mean + features @ write`, `(n, d)`."""
    return amap.mean + features @ amap.write


def exclude(h: torch.Tensor, features: torch.Tensor, amap: AnswerMap) -> torch.Tensor:
    """Activations with the answer's components removed: `h - features @ write`, `(n, d)`."""
    return h - features @ amap.write


def orthonormal_basis(vectors: torch.Tensor) -> torch.Tensor:
    """`(d, m)` orthonormal basis of the span of the rows of `vectors` `(m, d)` (QR)."""
    q, _ = torch.linalg.qr(vectors.T)
    return q


def mean_ablate(h: torch.Tensor, basis: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """Replace the component of `h` `(n, d)` in the span of `basis` `(d, m)` (orthonormal
    columns) by that of `mean` `(d,)`: `h - (h - mean) @ Q @ Q.T`.

    Mean rather than zero ablation: zeroing moves the activation off the distribution
    the next layer reads, which would count as damage done by the subspace.
    """
    return h - (h - mean) @ basis @ basis.T


def rotate_planes(
    h: torch.Tensor, planes: torch.Tensor, rotation: torch.Tensor, mean: torch.Tensor
) -> torch.Tensor:
    """The change `(n, d)` that rotates `h - mean` within the planes spanned by pairs of
    columns of `planes` `(d, 2K)` (orthonormal), by the block rotation `rotation` `(2K, 2K)`."""
    z = (h - mean) @ planes  # (n, 2K) coordinates in the planes
    return z @ (rotation - torch.eye(rotation.shape[0], dtype=rotation.dtype)) @ planes.T


def rotate_answer(read: torch.Tensor, write: torch.Tensor, rotation: torch.Tensor) -> torch.Tensor:
    """The change `(n, d)` that turns the answer's features `read` `(n, 2K)` (read off
    the activations by a probe) into `read @ rotation`, written back through `write` `(2K, d)`."""
    eye = torch.eye(rotation.shape[0], dtype=rotation.dtype)
    return read @ (rotation - eye) @ write


def shifted_log_probs(log_probs: torch.Tensor, delta: int) -> torch.Tensor:
    """The distribution moved by `delta` along the last (answer) axis: `out[c] = in[c - delta]`."""
    return torch.roll(log_probs, shifts=delta, dims=-1)


def kl(log_p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """KL(p || q) over the last axis, for log-probabilities; `(...)`."""
    return (log_p.exp() * (log_p - log_q)).sum(-1)


def loss_and_accuracy(logits: torch.Tensor, targets: torch.Tensor) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of logits `(n, p)` against targets `(n,)`."""
    loss = F.cross_entropy(logits.double(), targets).item()
    return loss, (logits.argmax(-1) == targets).double().mean().item()
