"""The modular-addition symbiosis figure's building blocks: the dense TopK dictionary,
the co-trained reader that skips the uncoupled arms, and a silent host's measures."""

from __future__ import annotations

import dataclasses
import json
import math

import torch

from figures_src import symbiosis_modadd as fig
from figures_src._lab.symbiosis_dense import DenseTopKSAE, FirstInstances
from symbiote_core.cotrain import normalised_error
from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE


def _pair(n: int = 3) -> tuple[TopKSAE, DenseTopKSAE, torch.Tensor]:
    cfg = TopKConfig(d_in=16, d_sae=16, n_instances=n, k=4, seed=0)
    sparse, dense = TopKSAE(cfg), DenseTopKSAE(cfg)
    dense.load_state_dict(sparse.state_dict())
    x = torch.relu(torch.randn(32, n, 16, generator=torch.Generator().manual_seed(1)))
    return sparse, dense, x


def test_dense_topk_has_the_sparse_loss_and_gradients() -> None:
    sparse, dense, x = _pair()
    for model in (sparse, dense):
        model.init_from_data(x)
    (loss_s, parts_s), (loss_d, parts_d) = sparse.loss(x), dense.loss(x)
    assert torch.allclose(loss_s, loss_d, rtol=1e-5)
    assert torch.equal(parts_s["l0"], parts_d["l0"])
    loss_s.backward()
    loss_d.backward()
    for name, p in sparse.named_parameters():
        q = dict(dense.named_parameters())[name]
        assert torch.allclose(p.grad, q.grad, rtol=1e-4, atol=1e-6), name
    assert torch.allclose(sparse(x).recon, dense(x).recon, atol=1e-6)


def test_dense_topk_auxk_matches_the_library_loss() -> None:
    # With dead latents in some instances (one all dead), the hand-written gradients
    # match autograd's through `Dictionary.loss` (AuxK included), and the counters agree.
    from symbiote_core.symbiotes.sae import Dictionary

    sparse, dense, x = _pair(n=4)
    for model in (sparse, dense):
        model.init_from_data(x)
        model.examples_since_fired[1, ::3] = 10**6
        model.examples_since_fired[3] = 10**6
    (loss_r, parts_r), (loss_d, parts_d) = Dictionary.loss(sparse, x), dense.loss(x)
    assert torch.allclose(loss_r, loss_d, rtol=1e-5)
    assert torch.allclose(parts_r["aux"], parts_d["aux"], rtol=1e-5)
    assert parts_d["aux"][1] > 0 and parts_d["aux"][0] == 0
    loss_r.backward()
    loss_d.backward()
    for name, p in sparse.named_parameters():
        q = dict(dense.named_parameters())[name]
        assert torch.allclose(p.grad, q.grad, rtol=1e-4, atol=1e-6), name
    assert torch.equal(sparse.examples_since_fired, dense.examples_since_fired)


def test_first_instances_reads_only_its_instances() -> None:
    _, dense, x = _pair(n=2)
    wrapped = FirstInstances(dense, 2)
    acts = torch.cat([x, torch.relu(torch.randn(32, 3, 16))], 1).requires_grad_()
    recon = wrapped(acts).recon
    assert recon.shape == acts.shape
    error = normalised_error(acts, recon)
    assert torch.equal(error[2:], torch.zeros(3))
    (grad,) = torch.autograd.grad(error[2:].sum(), acts)
    assert torch.equal(grad, torch.zeros_like(grad))
    assert torch.allclose(wrapped.loss(acts)[0], dense.loss(x)[0])


def test_a_silent_host_has_finite_or_undefined_measures() -> None:
    # A host whose neurons are all zero: its FVUs and loss recovered are undefined (None),
    # every other measure a finite number, and the row is plain JSON.
    from figures_src._lab.modadd import host_config
    from symbiote_core.hosts.modadd import ModAddModel, all_pairs, labels, splits

    p = dataclasses.replace(fig.PARAMS, host=dataclasses.replace(fig.PARAMS.host, p=7))
    cfg = host_config(p.host, [5])
    host = ModAddModel(cfg)
    train, test = splits(cfg)
    P = cfg.p
    h = torch.zeros(P * P, cfg.d_mlp, dtype=torch.double)
    z = torch.zeros(P * P, p.symbiote_size)
    row = fig._measure(host, 0, h, h.clone(), z, labels(all_pairs(P), P), train[0], test[0], p)
    assert row["silent"] is True
    assert row["reader_fvu"] is None and row["reader_recovered"] is None
    assert row["answer_latents"] == 0
    for value in row.values():
        assert not isinstance(value, float) or math.isfinite(value)
    json.dumps(row, allow_nan=False)


def test_readers_batch_fresh_dictionaries_with_the_cotrained_ones() -> None:
    # With no steps, the batched readers are the fresh dictionaries (seeded by their
    # hosts' seeds, centred on their data) followed by the co-trained ones, unchanged.
    p = dataclasses.replace(
        fig.PARAMS, reader_steps=0, symbiote_size=16, symbiote_k=4, catch_up_start="as_left"
    )
    acts = torch.relu(torch.randn(50, 3, 8, generator=torch.Generator().manual_seed(2)))
    cotrained = DenseTopKSAE(TopKConfig(d_in=8, d_sae=16, n_instances=2, k=4, seed=7))
    both = fig._grow_readers(acts, cotrained, [5, 6, 5], p)
    fresh = DenseTopKSAE(TopKConfig(d_in=8, d_sae=16, n_instances=3, k=4, instance_seeds=(5, 6, 5)))
    fresh.init_from_data(acts)
    for name, value in both.state_dict().items():
        assert torch.equal(value[:3], fresh.state_dict()[name]), name
        assert torch.equal(value[3:], cotrained.state_dict()[name]), name
    assert torch.equal(both.W_dec[0], both.W_dec[2])  # one seed, one start
    # Re-tied, the co-trained ones keep their atoms; their encoders restart tied to them.
    retied = fig._grow_readers(
        acts, cotrained, [5, 6, 5], dataclasses.replace(p, catch_up_start="retie")
    )
    assert torch.equal(retied.W_dec[3:], cotrained.W_dec)
    assert torch.equal(retied.W_enc[3:], cotrained.W_dec.transpose(1, 2))
    assert torch.equal(retied.b_enc[3:], torch.zeros(2, 16))
    assert torch.allclose(retied.b_dec[3:], acts[:, :2].mean(0))
