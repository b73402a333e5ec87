"""Co-training a host with its symbiote: zero coupling is plain training; coupling acts."""

from __future__ import annotations

import pytest
import torch

from symbiote_core.cotrain import CoTrainConfig, catch_up, cotrain, normalised_error
from symbiote_core.hosts.toy import ToyConfig, ToyModel
from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE


def _host(n_instances: int = 2) -> ToyModel:
    cfg = ToyConfig(n_features=16, d_hidden=4, n_instances=n_instances, feature_probability=0.1)
    return ToyModel(cfg, generator=torch.Generator().manual_seed(0))


def _task(host: ToyModel, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    x = host.sample_features(64, generator)
    acts = host.hidden(x)
    return host.loss(x, host.decode(acts)), acts


def _symbiote(n_instances: int = 2) -> TopKSAE:
    return TopKSAE(TopKConfig(d_in=4, d_sae=16, n_instances=n_instances, k=2, seed=3))


def test_zero_coupling_trains_the_host_exactly_as_alone() -> None:
    steps, lr = 60, 3e-3
    coupled = _host()
    cotrain(coupled, _symbiote(), _task, CoTrainConfig(coupling=0.0, steps=steps, host_lr=lr))

    alone = _host()
    optimiser = torch.optim.Adam(alone.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(0)
    for _ in range(steps):
        loss, _ = _task(alone, generator)
        optimiser.zero_grad()
        loss.sum().backward()
        optimiser.step()
    assert torch.allclose(coupled.W, alone.W, atol=1e-6)
    assert torch.allclose(coupled.b, alone.b, atol=1e-6)


def test_zero_coupling_with_decay_and_schedule_trains_as_adamw_alone() -> None:
    steps, lr = 40, 3e-3
    factor = lambda step: 1.0 if step < 20 else 0.5  # noqa: E731
    seen: list[int] = []
    coupled = _host()
    cotrain(
        coupled,
        _symbiote(),
        _task,
        CoTrainConfig(
            coupling=0.0,
            steps=steps,
            host_lr=lr,
            host_weight_decay=0.5,
            host_betas=(0.9, 0.98),
            host_lr_factor=factor,
        ),
        observe=lambda step, host: seen.append(step),
    )
    assert seen == list(range(steps + 1))  # before the first update, then after each

    alone = _host()
    optimiser = torch.optim.AdamW(alone.parameters(), lr=lr, weight_decay=0.5, betas=(0.9, 0.98))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, factor)
    generator = torch.Generator().manual_seed(0)
    for _ in range(steps):
        loss, _ = _task(alone, generator)
        optimiser.zero_grad()
        loss.sum().backward()
        optimiser.step()
        schedule.step()
    assert torch.allclose(coupled.W, alone.W, atol=1e-6)
    untouched = _host()
    cotrain(untouched, _symbiote(), _task, CoTrainConfig(coupling=0.0, steps=steps, host_lr=lr))
    assert not torch.allclose(untouched.W, alone.W, atol=1e-4)  # the options do act


def test_coupling_moves_only_its_own_instance() -> None:
    zero, strong = _host(), _host()
    cotrain(zero, _symbiote(), _task, CoTrainConfig(coupling=[0.0, 0.0], steps=80))
    cotrain(strong, _symbiote(), _task, CoTrainConfig(coupling=[0.0, 3.0], steps=80))
    assert torch.equal(zero.W[0], strong.W[0])  # instance 0 is uncoupled in both runs
    assert not torch.allclose(zero.W[1], strong.W[1], atol=1e-3)


def test_the_symbiote_learns_and_both_end_in_eval_mode() -> None:
    host, symbiote = _host(), _symbiote()
    log = cotrain(host, symbiote, _task, CoTrainConfig(coupling=0.3, steps=100, log_every=50))
    first, last = log.history[0]["symbiote_fvu"], log.history[-1]["symbiote_fvu"]
    assert all(b < a for a, b in zip(first, last, strict=True))
    assert not host.training and not symbiote.training


def test_more_symbiote_steps_read_better_and_leave_an_uncoupled_host_alone() -> None:
    hosts, fvus = [], []
    for steps in (1, 4):
        host, symbiote = _host(), _symbiote()
        cotrain(host, symbiote, _task, CoTrainConfig(coupling=0.0, steps=60, symbiote_steps=steps))
        x = host.sample_features(2000, torch.Generator().manual_seed(9))
        with torch.no_grad():
            h = host.hidden(x)
            fvus.append(normalised_error(h, symbiote(h).recon))
        hosts.append(host)
    assert torch.equal(hosts[0].W, hosts[1].W)  # the reader's schedule never touches the host
    assert (fvus[1] < fvus[0]).all()


def test_normalised_error_is_a_fraction_of_variance() -> None:
    acts = torch.randn(500, 2, 3)
    assert torch.allclose(normalised_error(acts, acts), torch.zeros(2))
    mean = acts.mean(0, keepdim=True).expand_as(acts)
    assert torch.allclose(normalised_error(acts, mean), torch.ones(2))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"coupling": -1.0}, "coupling must be >= 0"),
    ({"coupling": [0.1, float("nan")]}, "coupling must be >= 0"),
    ({"steps": 0}, "steps must be >= 1"),
    ({"symbiote_steps": 0}, "symbiote_steps must be >= 1"),
    ({"host_weight_decay": -0.1}, "host_weight_decay must be >= 0"),
])
def test_bad_configs_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CoTrainConfig(**kwargs)


def test_coupling_count_must_match_instances() -> None:
    with pytest.raises(ValueError, match="3 values for 2 instances"):
        cotrain(_host(), _symbiote(), _task, CoTrainConfig(coupling=[0.0, 0.1, 0.2], steps=2))


def test_gradient_flows_through_a_padded_top_k() -> None:
    # k = 2 of 64 latents takes top_k's padded path; the host's gradient runs through it.
    sae = TopKSAE(TopKConfig(d_in=4, d_sae=64, k=2, seed=0))
    acts = torch.randn(32, 4, requires_grad=True)
    sae(acts).recon.pow(2).sum().backward()
    assert acts.grad is not None and torch.isfinite(acts.grad).all()


def test_catch_up_improves_the_reader_and_leaves_the_host_alone() -> None:
    host, symbiote = _host(), _symbiote()
    cotrain(host, symbiote, _task, CoTrainConfig(coupling=0.3, steps=30))
    weights = host.W.clone()
    x = host.sample_features(2000, torch.Generator().manual_seed(9))
    with torch.no_grad():
        h = host.hidden(x)
        before = normalised_error(h, symbiote(h).recon)
    catch_up(symbiote, h, steps=200, batch_size=64, lr=3e-3)
    with torch.no_grad():
        after = normalised_error(h, symbiote(h).recon)
    assert (after < before).all()
    assert torch.equal(host.W, weights) and not symbiote.training


def test_catch_up_with_a_full_batch_reads_every_row() -> None:
    # A batch as large as the rows is the rows: the seed of the row draws changes nothing.
    host = _host()
    x = host.sample_features(256, torch.Generator().manual_seed(9))
    with torch.no_grad():
        h = host.hidden(x)
    full = [_symbiote(), _symbiote()]
    for symbiote, seed in zip(full, (1, 2), strict=True):
        catch_up(symbiote, h, steps=5, batch_size=h.shape[0], lr=1e-2, seed=seed)
    assert torch.equal(full[0].W_dec, full[1].W_dec)
    drawn = [_symbiote(), _symbiote()]
    for symbiote, seed in zip(drawn, (1, 2), strict=True):
        catch_up(symbiote, h, steps=5, batch_size=64, lr=1e-2, seed=seed)
    assert not torch.equal(drawn[0].W_dec, drawn[1].W_dec)
    with pytest.raises(ValueError):
        catch_up(_symbiote(), h, steps=5, batch_size=8, lr=1e-2, decay_from=1.5)


def test_catch_up_schedule_moves_the_reader_less_than_a_constant_rate() -> None:
    # Decaying from the first step, the rate averages half the constant one.
    host = _host()
    x = host.sample_features(256, torch.Generator().manual_seed(9))
    with torch.no_grad():
        h = host.hidden(x)
    moved = []
    for decay_from in (1.0, 0.0):
        symbiote = _symbiote()
        start = symbiote.W_dec.detach().clone()
        catch_up(symbiote, h, steps=50, batch_size=64, lr=1e-2, decay_from=decay_from)
        moved.append((symbiote.W_dec - start).norm().item())
    assert moved[1] < moved[0]
