"""Closed-form regression probes: exact on a planted linear map, batched, and honest
about what they cannot read."""

from __future__ import annotations

import torch

from symbiote_core.symbiotes.probe import fit_regression_probes


def test_recovers_a_planted_linear_map_in_every_batch_entry() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 200, 5, generator=gen, dtype=torch.float64) * 3 + 1  # (batch, N, d)
    W = torch.randn(3, 5, 2, generator=gen, dtype=torch.float64)
    y = x @ W + torch.tensor([0.5, -2.0], dtype=torch.float64)  # (batch, N, 2)
    probes = fit_regression_probes(x, y)
    assert probes.W.shape == (3, 5, 2) and probes.b.shape == (3, 2)
    torch.testing.assert_close(probes.predict(x), y)
    # Each batch entry is its own problem: fitting entry 1 alone gives the same answer.
    alone = fit_regression_probes(x[1], y[1])
    torch.testing.assert_close(alone.predict(x[1]), probes.predict(x)[1])


def test_shared_targets_broadcast_and_noise_is_not_read() -> None:
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2, 400, 4, generator=gen)
    y = torch.randn(400, 3, generator=gen)  # one target set for both batch entries
    probes = fit_regression_probes(x, y)
    assert probes.W.shape == (2, 4, 3)
    # Targets independent of x: a least-squares fit explains only ~d/N of the variance.
    residual = (y - probes.predict(x.double())).pow(2).sum() / (y - y.mean(0)).pow(2).sum() / 2
    assert residual > 0.95


def test_dead_and_duplicate_columns_are_handled() -> None:
    x = torch.randn(100, 3, generator=torch.Generator().manual_seed(2))
    x = torch.cat([x, torch.zeros(100, 1), x[:, :1]], dim=1)  # a dead and a duplicate column
    y = (x[:, 0] - x[:, 1])[:, None]
    probes = fit_regression_probes(x, y)
    assert torch.isfinite(probes.W).all()
    torch.testing.assert_close(probes.predict(x), y, atol=1e-5, rtol=0)
