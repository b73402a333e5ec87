"""The toy-host figures' building blocks: the privileged-basis host, per-seed instances,
count-matched scores, the shuffle null, and steering by decode."""

from __future__ import annotations

import dataclasses

import torch

from figures_src._lab import toy, toy_hosts
from figures_src._lab.steering_runs import _pick, _steer
from symbiote_core.hosts.toy import ToyConfig, ToyModel, train_toy
from symbiote_core.interventions import Intervention, add, intervene


def _rotated(model: ToyModel, q: torch.Tensor) -> ToyModel:
    """The same host with its hidden space rotated by the orthogonal matrix `q`."""
    other = ToyModel(model.cfg)
    other.load_state_dict(model.state_dict())
    other.W.data = model.W.data @ q
    return other


def test_relu_host_breaks_the_rotation_symmetry_of_the_linear_one() -> None:
    # The linear host computes the same function in any rotated frame (no privileged
    # basis); the ReLU host does not. This is the premise of the neuron comparison.
    gen = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(6, 6, generator=gen))
    for activation, invariant in (("linear", True), ("relu", False)):
        cfg = ToyConfig(n_features=12, d_hidden=6, hidden_activation=activation)
        model = ToyModel(cfg, generator=torch.Generator().manual_seed(1))
        x = model.sample_features(64, torch.Generator().manual_seed(2))
        same = torch.allclose(model(x), _rotated(model, q)(x), atol=1e-5)
        assert same is invariant, activation


def test_relu_host_hidden_layer_and_true_directions() -> None:
    cfg = ToyConfig(n_features=3, d_hidden=2, hidden_activation="relu")
    model = ToyModel(cfg)
    model.W.data = torch.tensor([[[1.0, -2.0], [0.0, 3.0], [-1.0, -1.0]]])
    x = torch.tensor([[[1.0, 0.0, 0.0]]])
    torch.testing.assert_close(model.hidden(x), torch.tensor([[[1.0, 0.0]]]))
    directions, norms = model.true_directions()
    # A ReLU layer writes only the positive part of a feature's column.
    torch.testing.assert_close(directions[0, :2], torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    torch.testing.assert_close(norms[0], torch.tensor([1.0, 3.0, 0.0]))
    assert model.represented().tolist() == [[True, True, False]]


def test_a_seed_gives_the_same_host_whichever_seeds_train_beside_it() -> None:
    base = ToyConfig(n_features=20, d_hidden=5, steps=30, feature_probability=0.1)
    batched, _ = train_toy(dataclasses.replace(base, n_instances=3, instance_seeds=[7, 3, 9]))
    alone, _ = train_toy(dataclasses.replace(base, n_instances=1, instance_seeds=[3]))
    torch.testing.assert_close(batched.W[1], alone.W[0], rtol=1e-4, atol=1e-5)
    assert not torch.allclose(batched.W[0], batched.W[1])


def test_shared_toy_hosts_are_train_toys_hosts_exactly() -> None:
    # Outside a build the artifact is computed in place; either way the figure gets the
    # weights and buffers train_toy produced, in eval mode, and the global stream is
    # left alone (building the model draws from seeded generators).
    cfg = ToyConfig(n_features=20, d_hidden=5, steps=30, n_instances=2, instance_seeds=[3, 4])
    torch.manual_seed(0)
    shared = toy_hosts.trained(cfg)
    after = torch.rand(1)
    torch.manual_seed(0)
    trained, _ = train_toy(cfg)
    assert torch.equal(after, torch.rand(1))
    assert not shared.training
    for (name, a), (_, b) in zip(
        shared.state_dict().items(), trained.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name


def test_match_scores_coverage_is_capped_by_the_number_of_readers() -> None:
    true = torch.eye(4)
    full = toy.match_scores(torch.eye(4), true, threshold=0.9)
    assert full == {"mmcs": 1.0, "mcc": 1.0, "coverage": 1.0, "cap": 1.0}
    # Two readers for four features: MCC averages the two pairs it forms (both perfect),
    # coverage counts them over all four features.
    half = toy.match_scores(torch.eye(4)[:2], true, threshold=0.9)
    assert half["mcc"] == 1.0 and half["coverage"] == 0.5 and half["cap"] == 0.5
    assert half["mmcs"] == 0.5  # features 2 and 3 see only orthogonal readers


def test_shuffle_keeps_each_coordinate_and_destroys_directions() -> None:
    gen = torch.Generator().manual_seed(0)
    direction = torch.tensor([1.0, 1.0, 0.0]) / 2**0.5
    acts = (torch.rand(2000, 1, generator=gen) * direction).unsqueeze(1)  # (2000, 1, 3)
    shuffled = toy.shuffle_coordinates(acts, [torch.Generator().manual_seed(1)])
    for j in range(3):
        assert torch.equal(acts[:, 0, j].sort().values, shuffled[:, 0, j].sort().values)
    # Coordinates 0 and 1 moved together before, and no longer do.
    before = torch.corrcoef(acts[:, 0, :2].T)[0, 1]
    after = torch.corrcoef(shuffled[:, 0, :2].T)[0, 1]
    assert before > 0.99 and abs(after) < 0.1


def test_steering_by_decode_equals_the_hooked_intervention() -> None:
    cfg = ToyConfig(n_features=10, d_hidden=4, n_instances=2)
    host = ToyModel(cfg, generator=torch.Generator().manual_seed(0)).eval()
    x = host.sample_features(32, torch.Generator().manual_seed(1))
    direction = torch.nn.functional.normalize(torch.randn(4, generator=torch.Generator()), dim=0)
    with torch.no_grad():
        hidden, clean = host.hidden(x), host(x)
    doses = torch.tensor([0.0, 0.5, 2.0])
    change = _steer(host, hidden, clean, 1, direction, doses)  # (doses, batch, features)
    for j, dose in enumerate(doses.tolist()):
        push = torch.zeros(2, 4)
        push[1] = direction  # instance 1 only
        with torch.no_grad(), intervene(host, [Intervention("hook_hidden", add(push, dose))]):
            expected = host(x)[:, 1] - clean[:, 1]
        torch.testing.assert_close(change[j], expected, rtol=1e-5, atol=1e-6)


def test_pick_chooses_by_correlation_with_either_sign() -> None:
    gen = torch.Generator().manual_seed(0)
    hidden = torch.randn(500, 3, generator=gen)
    outs = torch.stack([hidden[:, 1], -hidden[:, 2]], dim=1)  # target 1 tracks -axis 2
    outs = (outs - outs.mean(0)) / (outs - outs.mean(0)).norm(dim=0)
    directions, index = _pick(torch.eye(3), hidden, outs, signed=True)
    torch.testing.assert_close(directions, torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0]]))
    assert index.tolist() == [1, 5]


def test_splice_recovered_is_one_for_the_identity_and_zero_for_the_mean() -> None:
    # Two host instances (a trained one and its untrained start), read by three
    # "dictionaries": instance 0 twice (identity, mean) and instance 1 once (halfway).
    cfg = ToyConfig(n_features=8, d_hidden=3, n_instances=2, steps=200, batch_size=128, lr=1e-2)
    host, _ = train_toy(cfg)
    x = host.sample_features(512, torch.Generator().manual_seed(3))
    h = host.hidden(x).detach()
    mean = h.mean(0, keepdim=True).expand_as(h)
    recon = torch.stack([h[:, 0], mean[:, 0], (h[:, 1] + mean[:, 1]) / 2], dim=1)
    scores = toy.splice_recovered(host, x, recon, [0, 0, 1])
    for name in ("recovered", "output_recovered"):
        assert scores[name][0] == 1.0
        assert abs(scores[name][1]) < 1e-6
    assert 0.0 < scores["output_recovered"][2] < 1.0
    # By hand for the halfway splice, from the host's own decode and loss.
    clean = host.loss(x, host(x))[1].item()
    ablated = host.loss(x, host.decode(mean))[1].item()
    halfway = torch.stack([h[:, 0], (h[:, 1] + mean[:, 1]) / 2], dim=1)
    spliced = host.loss(x, host.decode(halfway))[1].item()
    expected = (ablated - spliced) / (ablated - clean)
    assert abs(scores["recovered"][2] - expected) < 1e-6
