"""The section 5 attribution through a dictionary is exact given the attention pattern.

A small batched 2-layer host (2 instances) is trained briefly so its heads do something;
a TopK dictionary (untrained weights suffice: exactness must not depend on training)
reads the residual stream between the layers. The float64 forward pass must match the
host, and the per-source, per-latent, per-path contributions plus the dictionary's
bias, mean and error terms must add up to the logits (direct and value paths).
"""

from __future__ import annotations

import torch

from figures_src._lab import symbiote_graph as graph
from symbiote_core.hosts.induction import (
    InductionConfig,
    make_batch,
    seed_generators,
    train_induction,
)
from symbiote_core.runtime import make_deterministic
from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE


def _setup():
    make_deterministic(0)
    cfg = InductionConfig(seeds=(0, 1), steps=40, batch_size=16, log_every=40)
    model, _ = train_induction(cfg)
    batch = make_batch(cfg, 8, seed_generators(cfg.seeds, 77))
    sae = TopKSAE(TopKConfig(d_in=cfg.d_model, d_sae=48, n_instances=2, k=4, seed=3))
    fwd = graph.forward(model, batch.tokens)
    with torch.no_grad():
        sae.init_from_data(fwd.resid_mid.float().flatten(1, 2).transpose(0, 1))
    return model, batch, sae, fwd


def test_forward_matches_host_and_attribution_sums_to_logits() -> None:
    model, batch, sae, fwd = _setup()
    host_logits = model.double()(batch.tokens)
    assert (fwd.logits - host_logits).abs().max().item() < 1e-9
    reader = graph.dictionary_reader(sae, [0, 1], fwd)
    assert reader.rest["dictionary error"].abs().max() > 1e-3  # the error term is real
    W_U = model.W_U.detach().double()
    for vocab_index in (0, 5, 17):
        # Read out one logit at one position per instance: its contributions must add up.
        for position in (3, 11):
            u = torch.zeros_like(fwd.resid_mid)
            u[:, 0, position] = W_U[:, :, vocab_index]
            a = graph.attribute(model, fwd, reader, u, per_latent=True)
            target = fwd.logits[:, 0, position, vocab_index]
            assert (a["exact"] - target).abs().max().item() < 1e-5
            exact = [0] + [3 * j + 3 for j in range(model.cfg.n_heads)]
            latent_sum = a["latent"][..., exact].sum(dim=(1, 2, 3))
            rest_sum = sum(v[:, exact].sum(-1) for v in a["rest"].values())
            assert (latent_sum + rest_sum - target).abs().max().item() < 1e-5
            assert torch.allclose(a["latent"].sum(dim=2), a["flows"])


def test_attribution_detects_a_wrong_decomposition() -> None:
    """Dropping the error term breaks the sum: the check above can fail."""
    model, _batch, sae, fwd = _setup()
    reader = graph.dictionary_reader(sae, [0, 1], fwd)
    del reader.rest["dictionary error"]
    u = torch.zeros_like(fwd.resid_mid)
    u[:, 0, 5] = model.W_U.detach().double()[:, :, 2]
    a = graph.attribute(model, fwd, reader, u)
    assert (a["exact"] - fwd.logits[:, 0, 5, 2]).abs().max().item() > 1e-5


def test_identity_reader_reproduces_path_patching() -> None:
    """Without a dictionary, the graph's q, k, v and direct edges are the path patching
    effects themselves (both exact for one edge at a time)."""
    model, batch, _, fwd = _setup()
    model = model.float()
    fwd = graph.forward(model, batch.tokens)
    u = graph.readout(model, batch)
    reader = graph.identity_reader(fwd)
    a = graph.attribute(model, fwd, reader, u)
    weights = graph.graph_weights(
        a["flows"], model.cfg.n_heads, graph.recompute_qk(model, fwd, reader, u)
    )
    truth = graph.patch_effects(model, batch)
    edges = graph.edge_list(model.cfg.n_heads)
    for e, (source, target, part) in enumerate(edges):
        if part or (target == graph.LOGITS and not source.startswith("L1")):
            assert torch.allclose(weights[:, e], truth[:, e].double(), atol=1e-3), edges[e]


def test_qk_effects_match_an_intervention_on_one_head() -> None:
    """Removing a term from one layer-1 head's keys (or queries) and recomputing its
    pattern is exactly what `qk_effects` reports, checked against the host run with that
    edit made by a hook; and `latent_truth`'s key column is `qk_effects` of the latent."""
    from symbiote_core.interventions import Intervention, intervene, replace

    model, batch, sae, _ = _setup()
    model = model.double()
    fwd = graph.forward(model, batch.tokens)
    u = graph.readout(model, batch)
    gen = torch.Generator().manual_seed(1)
    delta = 0.3 * torch.randn(*fwd.resid_mid.shape, generator=gen, dtype=torch.float64)
    effects = graph.qk_effects(model, fwd, delta[:, :, :, None], u)  # (I, 1, H, 2)
    D, H = model.cfg.d_model, model.cfg.n_heads
    dh = D // H
    W = model.blocks[1].attn.W_QKV.detach()
    clean = graph.logit_diff(model(batch.tokens), batch)
    for head in (0, 2):
        for part in (0, 1):  # query, key
            cols = slice(part * D + head * dh, part * D + (head + 1) * dh)
            shift = torch.einsum("ibtd,ide->ibte", delta, W[:, :, cols])

            def fn(qkv: torch.Tensor, cols: slice = cols, shift: torch.Tensor = shift) -> torch.Tensor:
                out = qkv.clone()
                out[..., cols] -= shift
                return out

            edit = [Intervention("blocks.1.attn.hook_qkv", replace(fn))]
            with torch.no_grad(), intervene(model, edit):
                patched = graph.logit_diff(model(batch.tokens), batch)
            assert torch.allclose(effects[:, 0, head, part], clean - patched, atol=1e-9)
    centred, decoder, _ = graph.latent_deltas(sae, [0, 1], fwd)
    truth = graph.latent_truth(model, fwd, centred, decoder, u)
    one = centred[..., 5:6, None] * decoder[:, None, None, 5:6]
    key = graph.qk_effects(model, fwd, one, u)[:, 0, 1, 1]
    assert torch.allclose(truth[:, 5, 2 + 3 * 1], key, atol=1e-12)


class _Fixed:
    """A stand-in dictionary on `(B, T, I, D)`: `decode(encode(x))` is x itself, or a
    fixed tensor broadcast to x's shape."""

    def __init__(self, n_instances: int, fixed: torch.Tensor | None = None) -> None:
        self.n_instances, self.fixed = n_instances, fixed

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return x

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return z if self.fixed is None else self.fixed.expand_as(z).clone()


def test_splice_recovered_is_one_for_the_identity_and_zero_for_the_mean() -> None:
    from figures_src._lab.induction_graph_compute import _residuals, _splice_recovered

    model, batch, _, _ = _setup()
    index = torch.arange(2)
    identity = _splice_recovered(model, batch, _Fixed(2), index)
    assert identity == [1.0, 1.0]
    mean = _residuals(model, batch.tokens).mean(dim=(1, 2))  # (I, D)
    ablated = _splice_recovered(model, batch, _Fixed(2, mean[None, None]), index)
    assert max(abs(v) for v in ablated) < 1e-5
