"""Batched faithfulness: a stack of dictionaries spliced into a batched host at once
(`metrics.splice_loss_recovered_instances`), and per-instance dictionary seeds."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from symbiote_core.hosts.toy import ToyConfig, ToyModel
from symbiote_core.metrics import (
    instance_reconstruction,
    loss_recovered,
    splice_loss_recovered_instances,
)
from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE


def _host_and_inputs(n_instances: int = 3) -> tuple[ToyModel, torch.Tensor]:
    cfg = ToyConfig(n_features=8, d_hidden=3, n_instances=n_instances, instance_seeds=[4, 5, 6])
    host = ToyModel(cfg)
    x = host.sample_features(64, torch.Generator().manual_seed(0))
    return host, x


def _loss(host: ToyModel):
    return lambda out, x: host.loss(x, out)


def test_identity_recovers_all_and_mean_recovers_nothing() -> None:
    host, x = _host_and_inputs()
    h = host.hidden(x).detach()
    same = splice_loss_recovered_instances(host, "hook_hidden", h, x, _loss(host))
    assert same.recovered == pytest.approx([1.0] * 3, abs=1e-6)
    mean = h.mean(0, keepdim=True).expand_as(h)
    none = splice_loss_recovered_instances(host, "hook_hidden", mean, x, _loss(host))
    assert none.recovered == pytest.approx([0.0] * 3, abs=1e-6)
    # A broken splice (zeros) is not mistaken for a faithful one.
    zeros = splice_loss_recovered_instances(host, "hook_hidden", 0 * h, x, _loss(host))
    assert all(r < 0.99 for r in zeros.recovered)


def test_batched_dictionary_equals_splicing_each_instance_alone() -> None:
    host, x = _host_and_inputs()
    sae = TopKSAE(TopKConfig(d_in=3, d_sae=5, n_instances=4, k=2, seed=1))
    slots = [2, 0, 3]  # host instance s read by dictionary instance slots[s]
    batched = splice_loss_recovered_instances(host, "hook_hidden", sae, x, _loss(host), slots=slots)
    with torch.no_grad():
        h = host.hidden(x)
        clean = host.loss(x, host.decode(h))
        ablated = host.loss(x, host.decode(h.mean(0, keepdim=True).expand_as(h)))
        for s, slot in enumerate(slots):
            edited = h.clone()
            edited[:, s] = sae.instance(slot)(h[:, s]).recon
            spliced = host.loss(x, host.decode(edited))[s].item()
            alone = loss_recovered(clean[s].item(), spliced, ablated[s].item())
            assert batched.recovered[s] == pytest.approx(alone, rel=1e-5, abs=1e-6)
            assert batched.spliced[s] == pytest.approx(spliced, rel=1e-5)


def test_several_splices_of_one_host_instance_are_judged_apart() -> None:
    host, x = _host_and_inputs()
    h = host.hidden(x).detach()
    mean = h.mean(0, keepdim=True).expand_as(h)
    # Host instance 1 twice: once faithfully, once by its mean; host instance 0 once.
    recon = torch.stack([h[:, 1], mean[:, 1], h[:, 0]], dim=1)
    out = splice_loss_recovered_instances(host, "hook_hidden", recon, x, _loss(host), [1, 1, 0])
    assert out.recovered == pytest.approx([1.0, 0.0, 1.0], abs=1e-6)
    with pytest.raises(ValueError, match="host instances"):
        splice_loss_recovered_instances(host, "hook_hidden", recon, x, _loss(host), [1, 0])


def test_instance_reconstruction_moves_the_instance_axis() -> None:
    sae = TopKSAE(TopKConfig(d_in=3, d_sae=5, n_instances=2, k=2))
    a = torch.randn(2, 7, 3, generator=torch.Generator().manual_seed(0))  # (I, B, D)
    out = instance_reconstruction(sae, a, [1, 0], instance_dim=0)
    assert out.shape == a.shape
    with torch.no_grad():
        torch.testing.assert_close(out[0], sae.instance(1)(a[0]).recon)


def test_instance_seeds_start_each_instance_as_its_single_dictionary() -> None:
    cfg = TopKConfig(d_in=4, d_sae=6, n_instances=2, k=2, instance_seeds=(5, 11))
    batched = TopKSAE(cfg)
    for i, seed in enumerate((5, 11)):
        single = TopKSAE(TopKConfig(d_in=4, d_sae=6, k=2, seed=seed))
        assert torch.equal(batched.W_dec[i], single.W_dec)
        assert torch.equal(batched.W_enc[i], single.W_enc)
        assert cfg.for_instance(i).seed == seed
    assert not torch.equal(batched.W_dec[0], batched.W_dec[1])
    # Without instance seeds the instances differ from these singles.
    plain = TopKSAE(dataclasses.replace(cfg, instance_seeds=None))
    assert not torch.equal(plain.W_dec[1], batched.W_dec[1])
    with pytest.raises(ValueError, match="instance_seeds"):
        TopKConfig(d_in=4, d_sae=6, n_instances=2, k=2, instance_seeds=(5,))
