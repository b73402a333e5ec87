"""The training loop (reproducible, batched, early stopping) and the metrics."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from symbiote_core import metrics
from symbiote_core.runtime import make_deterministic
from symbiote_core.symbiotes import ReLUConfig, ReLUSAE, TopKConfig, TopKSAE
from symbiote_core.train import TrainConfig, train

pytestmark = pytest.mark.usefixtures("seeded")


def quiet(**kwargs) -> TrainConfig:
    return TrainConfig(progress=False, **kwargs)


# ----- train -----


def _trained_state(seed: int) -> dict[str, torch.Tensor]:
    make_deterministic(seed)
    x = torch.randn(500, 8)
    sae = TopKSAE(TopKConfig(d_in=8, d_sae=32, k=3))
    train(sae, x, quiet(steps=60, batch_size=64, log_every=20, seed=seed))
    return sae.state_dict()


def test_train_is_bit_for_bit_reproducible() -> None:
    first, second = _trained_state(0), _trained_state(0)
    assert all(torch.equal(first[k], second[k]) for k in first)
    other = _trained_state(1)
    assert not torch.equal(first["W_dec"], other["W_dec"])


def test_batched_instances_train_as_if_alone() -> None:
    x = torch.randn(300, 2, 8)  # per-instance inputs
    both = TopKSAE(TopKConfig(d_in=8, d_sae=16, k=(2, 4), n_instances=2))
    alone = both.instance(1)  # same initial weights as instance 1
    cfg = quiet(steps=40, batch_size=50, log_every=20)
    train(both, x, cfg)
    train(alone, x[:, 1], cfg)  # same rows drawn: same seed, same number of examples
    for name, value in alone.state_dict().items():
        torch.testing.assert_close(value, both.state_dict()[name][1], rtol=1e-4, atol=1e-5)


def test_history_is_logged_per_window() -> None:
    sae = ReLUSAE(ReLUConfig(d_in=4, d_sae=8, n_instances=2))
    result = train(sae, torch.randn(100, 2, 4), quiet(steps=25, batch_size=10, log_every=10))
    assert [h["step"] for h in result.history] == [10, 20, 25]
    assert result.steps == 25 and not result.stopped_early
    entry = result.history[-1]
    assert set(entry) == {"step", "loss", "recon", "sparsity", "aux", "l0"}
    assert len(entry["recon"]) == 2  # one value per instance
    assert entry["loss"] == pytest.approx(sum(entry["recon"]) + sum(entry["sparsity"]), rel=1e-5)
    assert result.final_loss == entry["loss"]


def test_loss_goes_down() -> None:
    x = torch.randn(1000, 8)
    result = train(
        TopKSAE(TopKConfig(d_in=8, d_sae=32, k=4)), x, quiet(steps=200, log_every=50, lr=3e-3)
    )
    assert result.history[-1]["loss"] < 0.5 * result.history[0]["loss"]


def test_early_stop_after_patience_windows() -> None:
    class Flat(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.zeros(()))

        def loss(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
            return 0 * self.w + 1.0, {}

    result = train(Flat(), torch.zeros(10, 1), quiet(steps=1000, log_every=5, patience=3))
    # window 1 sets the best loss; windows 2, 3 and 4 fail to improve on it
    assert result.stopped_early and result.steps == 20


def test_train_takes_pairs_and_batch_functions_and_restores_mode() -> None:
    sae = TopKSAE(TopKConfig(d_in=4, d_sae=8, k=2)).eval()
    calls = []

    def batch_fn(step: int, generator: torch.Generator) -> torch.Tensor:
        calls.append(step)
        return torch.randn(16, 4, generator=generator)

    train(sae, batch_fn, quiet(steps=3))
    assert calls == [0, 1, 2] and not sae.training

    seen = []

    class Pair(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.ones(()))

        def loss(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, dict]:
            seen.append(torch.equal(y, 2 * x))
            return (self.w * x - y).pow(2).mean(), {}

    x = torch.randn(40, 1)
    train(Pair(), (x, 2 * x), quiet(steps=5, batch_size=8))
    assert seen == [True] * 5  # rows of x and y stay paired


def test_train_config_validates() -> None:
    with pytest.raises(ValueError, match="steps"):
        TrainConfig(steps=0)
    with pytest.raises(ValueError, match="patience"):
        TrainConfig(patience=0)


# ----- metrics on hand-computed cases -----


def test_reconstruction_and_sparsity_metrics() -> None:
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    torch.testing.assert_close(metrics.mse(x, x + 1), torch.tensor(1.0))
    torch.testing.assert_close(metrics.fvu(x, x), torch.tensor(0.0))
    torch.testing.assert_close(metrics.fvu(x, x.mean(0).expand(2, 2)), torch.tensor(1.0))
    z = torch.tensor([[0.0, 1.0, 2.0, 0.0], [0.0, 0.0, 3.0, 0.0]])
    torch.testing.assert_close(metrics.l0(z), torch.tensor(1.5))
    torch.testing.assert_close(metrics.dead_fraction(z), torch.tensor(0.5))
    # per instance: (batch, n_instances, width) keeps the instance dimension
    zi = torch.stack([z, torch.ones_like(z)], dim=1)
    torch.testing.assert_close(metrics.l0(zi), torch.tensor([1.5, 4.0]))


def test_loss_recovered_by_hand() -> None:
    assert metrics.loss_recovered(1.0, 1.5, 3.0) == 0.75
    assert metrics.loss_recovered(1.0, 1.0, 3.0) == 1.0
    with pytest.raises(ValueError, match="ablat"):
        metrics.loss_recovered(1.0, 1.0, 1.0)


def test_splice_loss_recovered_on_a_host() -> None:
    host = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = torch.randn(64, 3)
    loss_fn = lambda out, inputs: out.pow(2).mean()  # noqa: E731
    perfect = ReLUSAE(ReLUConfig(d_in=4, d_sae=4))  # identity on non-negative activations
    with torch.no_grad():
        perfect.W_enc.copy_(torch.eye(4))
        perfect.W_dec.copy_(torch.eye(4))
    result = metrics.splice_loss_recovered(host, "1", perfect, x, loss_fn)
    assert result.spliced == result.clean and result.recovered == 1.0
    blind = ReLUSAE(ReLUConfig(d_in=4, d_sae=4))  # outputs b_dec = 0 whatever comes in
    with torch.no_grad():
        blind.W_enc.zero_()
    result = metrics.splice_loss_recovered(host, "1", blind, x, loss_fn, ablation="zero")
    assert result.spliced == result.ablated and result.recovered == 0.0


def test_mcc_and_mean_max_cosine_by_hand() -> None:
    eye = torch.eye(5)
    assert metrics.mcc(eye[torch.randperm(5)], eye) == pytest.approx(1.0)
    assert metrics.mcc(-eye[:1], eye[:1]) == pytest.approx(-1.0)  # signed by default
    assert metrics.mcc(-eye, eye) == pytest.approx(0.0)  # matching avoids the antipodes
    assert metrics.mcc(-eye, eye, absolute=True) == pytest.approx(1.0)
    # scale does not matter, only direction
    assert metrics.mcc(3 * eye, eye) == pytest.approx(1.0)
    learned = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    true = torch.tensor([[1.0, 0.0], [0.8, 0.6]])
    # best match per true direction: 1 and 0.8; one-to-one: 1 and 0.6
    assert metrics.mean_max_cosine(learned, true) == pytest.approx(0.9)
    assert metrics.mcc(learned, true) == pytest.approx(0.8)
    # rectangular: 2 learned, 3 true -> mean over 2 matched pairs
    assert metrics.mcc(eye[:2], eye[:3]) == pytest.approx(1.0)


def test_random_directions_are_seeded_unit_vectors() -> None:
    a = metrics.random_directions(10, 4, torch.Generator().manual_seed(3))
    b = metrics.random_directions(10, 4, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and a.shape == (10, 4)
    torch.testing.assert_close(a.norm(dim=1), torch.ones(10))


def test_kl_divergence_by_hand() -> None:
    p = torch.tensor([[0.5, 0.5]]).log()
    q = torch.tensor([[0.25, 0.75]]).log()
    expected = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    assert metrics.kl_divergence(p, q).item() == pytest.approx(expected)
    assert metrics.kl_divergence(p, p).item() == 0.0


def test_accuracy_and_selectivity() -> None:
    logits = torch.tensor([[2.0, 1.0], [0.0, 1.0], [3.0, 0.0], [0.0, 5.0]])
    assert metrics.accuracy(logits, torch.tensor([0, 1, 1, 1])) == 0.75
    assert metrics.selectivity(0.9, 0.6) == pytest.approx(0.3)
