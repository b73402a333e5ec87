"""Fourier basis over Z_p and frequency purity, checked on hand-made functions."""

from __future__ import annotations

import math

import pytest
import torch

from symbiote_core.fourier import (
    fourier_basis,
    frequency_power,
    frequency_purity,
    frequency_spectrum,
    key_frequencies,
)

P = 13


def test_basis_is_orthonormal_and_hand_checked() -> None:
    basis, names = fourier_basis(5)
    assert names == ["const", "cos1", "sin1", "cos2", "sin2"]
    torch.testing.assert_close(basis @ basis.T, torch.eye(5), atol=1e-6, rtol=0)
    # By hand for p = 5: const = 1/sqrt(5); cos1(x=1) = sqrt(2/5) cos(2 pi / 5);
    # sin2(x=1) = sqrt(2/5) sin(4 pi / 5).
    assert basis[0, 3].item() == pytest.approx(1 / math.sqrt(5))
    assert basis[1, 1].item() == pytest.approx(math.sqrt(0.4) * math.cos(2 * math.pi / 5))
    assert basis[4, 1].item() == pytest.approx(math.sqrt(0.4) * math.sin(4 * math.pi / 5))
    assert basis[2, 0].item() == 0.0  # sin at x = 0


def test_even_p_is_refused() -> None:
    with pytest.raises(ValueError, match="odd p"):
        fourier_basis(12)


@pytest.mark.parametrize("k", [1, 4, 6])
def test_pure_cosine_has_purity_one(k: int) -> None:
    x = torch.arange(P, dtype=torch.float32)
    one_token = (2 * math.pi * k * x / P + 0.3).cos() + 5.0  # phase and offset do not matter
    result = frequency_purity(one_token[:, None], P)
    assert result.frequency.item() == k
    assert result.purity.item() == pytest.approx(1.0, abs=1e-5)

    a, b = x[:, None], x[None, :]
    over_pairs = (2 * math.pi * k * (a + b) / P).cos()  # (P, P)
    result = frequency_purity(over_pairs[..., None], P)
    assert result.frequency.item() == k
    assert result.purity.item() == pytest.approx(1.0, abs=1e-5)


def test_mixture_purity_is_the_share_of_the_best_frequency() -> None:
    x = torch.arange(P, dtype=torch.float32)
    # Power is proportional to amplitude^2: 3^2 / (3^2 + 1^2) = 0.9 at k = 2.
    f = 3 * (2 * math.pi * 2 * x / P).cos() + (2 * math.pi * 5 * x / P).sin()
    result = frequency_purity(f[:, None], P)
    assert result.frequency.item() == 2
    assert result.purity.item() == pytest.approx(0.9, abs=1e-5)

    # cos(2a) + cos(5b): half the variance each; the mixed product cos(2a)cos(5b) term
    # is absent, so the two single-frequency shares are 0.5 and 0.5.
    a, b = x[:, None], x[None, :]
    g = (2 * math.pi * 2 * a / P).cos() + (2 * math.pi * 5 * b / P).cos()
    assert frequency_purity(g[..., None], P).purity.item() == pytest.approx(0.5, abs=1e-5)
    # A product of two different frequencies belongs to neither: purity 0.
    h = (2 * math.pi * 2 * a / P).cos() * (2 * math.pi * 5 * b / P).cos()
    assert frequency_purity(h[..., None], P).purity.item() == pytest.approx(0.0, abs=1e-5)


def test_random_directions_have_low_purity() -> None:
    # Expected for white noise: the best of 6 frequencies, each ~2/12 of the variance,
    # in 1-D (p = 13); the best of 6 with ~8/168 each in 2-D. Measured medians with
    # this seed: 0.38 (1-D) and 0.078 (2-D), against 1.0 for a pure frequency.
    g = torch.Generator().manual_seed(0)
    one_token = frequency_purity(torch.randn(P, 200, generator=g), P).purity
    over_pairs = frequency_purity(torch.randn(P, P, 200, generator=g), P).purity
    assert one_token.median() < 0.5
    assert over_pairs.median() < 0.15
    assert ((over_pairs >= 0) & (over_pairs <= 1)).all()


def test_power_in_1d_sums_to_squared_norm() -> None:
    f = torch.randn(P, 3, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(frequency_power(f, P).sum(dim=-1), f.pow(2).sum(dim=0))


def test_constant_direction_has_zero_purity() -> None:
    assert frequency_purity(torch.ones(P, 1), P).purity.item() == 0.0


def test_key_frequencies_of_a_planted_embedding() -> None:
    x = torch.arange(P, dtype=torch.float32)
    W = torch.stack(
        [
            4 * (2 * math.pi * 3 * x / P).cos(),
            2 * (2 * math.pi * 5 * x / P).sin(),
            1 * (2 * math.pi * 1 * x / P).cos(),
        ],
        dim=-1,
    )  # (P, 3): power 16 : 4 : 1
    assert key_frequencies(W, P, top=3) == [3, 5, 1]
    spectrum = frequency_spectrum(W, P)
    assert spectrum.shape == (6,)
    torch.testing.assert_close(spectrum[[2, 4, 0]], torch.tensor([16.0, 4.0, 1.0]) / 21)


def test_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="trailing axis"):
        frequency_purity(torch.zeros(P), P)
