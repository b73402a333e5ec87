"""Section 4's reading scores (`figures_src/_lab/reading.py`) on hand-built units and hosts.

Each score is checked where its answer is known by construction: a function of the
answer alone, a detector of one token, an arc of the answer circle at a key frequency,
and a splice that is perfect, useless, or wrong only where the output does not read.
"""

from __future__ import annotations

import math

import torch

from figures_src._lab import reading

P = 11


def _grid(fn) -> torch.Tensor:
    """A unit over all pairs as `(p*p, 1)`, rows in `all_pairs` order (a*p + b)."""
    a = torch.arange(P).repeat_interleave(P)
    b = torch.arange(P).repeat(P)
    return fn(a, b).double()[:, None]


def test_answer_share_and_token_selectivity() -> None:
    answer = _grid(lambda a, b: torch.cos(2 * math.pi * 3 * ((a + b) % P) / P))
    token = _grid(lambda a, b: (a == 4).double())
    scores = reading.unit_scores(torch.cat([answer, token], 1), P, tokens=True)
    assert scores["answer_share"][0] > 0.999  # a function of a + b alone
    assert scores["answer_share"][1] < 1 / P + 1e-9  # a function of a alone
    assert scores["token_selectivity"][1] > 0.999  # all its mass on a = 4
    assert scores["purity"][0] > 0.999 and int(scores["frequency"][0]) == 3


def test_arcs_in_the_order_of_a_key_frequency() -> None:
    # Answers c with 3c mod p in {0, 1, 2}: one run on the circle of frequency 3,
    # scattered on the circle of frequency 1.
    run = {(j * pow(3, -1, P)) % P for j in (0, 1, 2)}
    arc = _grid(lambda a, b: torch.tensor([float(c in run) for c in ((a + b) % P).tolist()]))
    other = _grid(lambda a, b: torch.tensor([float(c in (0, 3, 6)) for c in ((a + b) % P).tolist()]))
    out = reading.arcs(torch.cat([arc, other], 1), P, key=[3])
    assert out["is_arc"].tolist() == [True, False]
    assert math.isclose(out["width"][0].item(), 3 / P)
    assert out["support"][0].sum().item() == 3
    assert not reading.arcs(arc, P, key=[1])["is_arc"][0]


def test_splice_scores() -> None:
    gen = torch.Generator().manual_seed(0)
    hidden = torch.randn(200, 6, generator=gen, dtype=torch.float64)
    W_U = torch.randn(6, 5, generator=gen, dtype=torch.float64)
    b_U = torch.zeros(5, dtype=torch.float64)
    targets = (hidden @ W_U).argmax(-1)
    mean = hidden.mean(0)
    perfect = reading.splice(hidden, hidden, mean, W_U, b_U, targets)
    assert perfect["recovered"] == 1.0 and perfect["kl_recovered"] == 1.0
    assert perfect["fvu"] == 0.0 and perfect["logit_fvu"] == 0.0
    useless = reading.splice(hidden, mean.expand_as(hidden), mean, W_U, b_U, targets)
    assert abs(useless["recovered"]) < 1e-12 and abs(useless["kl_recovered"]) < 1e-12
    # An error orthogonal to what the unembedding reads costs variance, not answers.
    null = torch.linalg.svd(W_U.T).Vh[-1]  # W_U.T @ null = 0
    off = hidden + 3 * null
    scores = reading.splice(hidden, off, mean, W_U, b_U, targets)
    assert scores["fvu"] > 0.1 and scores["logit_fvu"] < 1e-12
    assert math.isclose(scores["recovered"], 1.0, abs_tol=1e-9)
