"""Induction host: data, scores on hand-made patterns, and the trained circuit."""

from __future__ import annotations

import pytest
import torch

from symbiote_core.hosts.induction import (
    InductionConfig,
    InductionModel,
    attention_patterns,
    induction_score,
    make_batch,
    previous_token_score,
    repeat_accuracy,
    train_induction,
)


def test_batch_structure() -> None:
    cfg = InductionConfig(seq_len=16, min_span=3, max_span=6, vocab_size=20)
    batch = make_batch(cfg, 200, torch.Generator().manual_seed(0))
    assert batch.tokens.shape == (200, 16) and batch.target_mask.shape == (200, 16)
    assert set(batch.span.tolist()) == {3, 4, 5, 6}
    assert (batch.start + 2 * batch.span <= 16).all()
    assert len(set(batch.start.tolist())) > 5  # the span's position varies, not only L
    for row in range(200):
        tokens, s, L = batch.tokens[row], int(batch.start[row]), int(batch.span[row])
        assert torch.equal(tokens[s : s + L], tokens[s + L : s + 2 * L])
        # Every token is distinct apart from the repeat.
        assert len(set(tokens.tolist())) == 16 - L
        assert batch.target_mask[row].nonzero().flatten().tolist() == list(
            range(s + L, s + 2 * L - 1)
        )
    again = make_batch(cfg, 200, torch.Generator().manual_seed(0))
    assert torch.equal(batch.tokens, again.tokens)


def test_scores_on_hand_made_patterns() -> None:
    cfg = InductionConfig(seq_len=16, min_span=3, max_span=6, vocab_size=20)
    batch = make_batch(cfg, 8, torch.Generator().manual_seed(0))
    T = cfg.seq_len
    # Head 0 looks exactly one back (position 0 looks at itself); head 1 is uniform
    # causal; head 2 attends exactly to the induction key on target queries.
    prev = torch.zeros(T, T)
    prev[0, 0] = 1.0
    prev[torch.arange(1, T), torch.arange(T - 1)] = 1.0
    uniform = torch.ones(T, T).tril()
    uniform = uniform / uniform.sum(dim=-1, keepdim=True)
    pattern = torch.stack([prev, uniform, uniform]).expand(8, 3, T, T).clone()
    for row in range(8):
        s, L = int(batch.start[row]), int(batch.span[row])
        for q in range(s + L, s + 2 * L - 1):
            pattern[row, 2, q] = 0.0
            pattern[row, 2, q, q - L + 1] = 1.0

    prev_scores = previous_token_score(pattern)
    assert prev_scores[0].item() == pytest.approx(1.0)
    harmonic = sum(1 / (q + 1) for q in range(1, T)) / (T - 1)  # uniform head, by hand
    assert prev_scores[1].item() == pytest.approx(harmonic)
    ind_scores = induction_score(pattern, batch)
    assert ind_scores[2].item() == pytest.approx(1.0)
    # A previous-token head never hits the induction key: q - 1 != q - L + 1 for L >= 3.
    assert ind_scores[0].item() == pytest.approx(0.0)


def test_hook_points_and_shapes() -> None:
    cfg = InductionConfig(n_layers=2, n_heads=4, d_model=16, seq_len=16, max_span=6, vocab_size=20)
    model = InductionModel(cfg)
    batch = make_batch(cfg, 3, torch.Generator().manual_seed(0))
    assert model(batch.tokens).shape == (3, 16, 20)
    modules = dict(model.named_modules())
    for name in (
        "embed",
        "pos_embed",
        "hook_embed",
        "blocks.1.attn.hook_z",
        "blocks.1.hook_resid_post",
        "unembed",
    ):
        assert name in modules, name
    patterns = attention_patterns(model, batch.tokens)
    assert [p.shape for p in patterns] == [(3, 4, 16, 16)] * 2
    torch.testing.assert_close(patterns[0].sum(dim=-1), torch.ones(3, 4, 16))
    assert patterns[0].triu(diagonal=1).abs().max() == 0  # causal
    # attention_patterns removes its hooks.
    assert not any(m._forward_hooks for m in model.modules())


@pytest.mark.parametrize(
    "kwargs",
    [{"d_model": 30}, {"max_span": 20}, {"vocab_size": 10}, {"min_span": 1}, {"n_layers": 0}],
)
def test_config_validation(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="InductionConfig"):
        InductionConfig(**kwargs)


def test_training_is_bit_reproducible() -> None:
    cfg = InductionConfig(
        d_model=16, n_heads=2, seq_len=16, max_span=6, vocab_size=20, steps=20, log_every=10
    )
    model_a, log_a = train_induction(cfg)
    model_b, log_b = train_induction(cfg)
    for (name, a), b in zip(
        model_a.state_dict().items(), model_b.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name
    assert log_a.metrics == log_b.metrics and log_a.steps == [10, 20]


def _ablated_accuracy(model: InductionModel, batch, layer: int, heads: list[int]) -> float:
    """Accuracy with the given heads' outputs zeroed at `blocks.{layer}.attn.hook_z`."""

    def zero_heads(module, inputs, z):  # z: (batch, seq, heads, d_head)
        z = z.clone()
        z[:, :, heads] = 0.0
        return z

    handle = model.blocks[layer].attn.hook_z.register_forward_hook(zero_heads)
    try:
        return repeat_accuracy(model, batch)
    finally:
        handle.remove()


@pytest.fixture(scope="module")
def eval_batch() -> object:
    return make_batch(InductionConfig(), 512, torch.Generator().manual_seed(123))


@pytest.mark.slow
def test_two_layers_grow_an_induction_circuit(eval_batch) -> None:
    # Default config (2 layers, 4 heads, d_model 64, batch 128, 1,000 steps):
    # ~25 s on 1 thread alone, ~50 s with another process on the second core.
    model, _ = train_induction(InductionConfig(seed=0))
    # Measured (seed 0): held-out accuracy 0.998.
    accuracy = repeat_accuracy(model, eval_batch)
    assert accuracy > 0.9

    layer0, layer1 = attention_patterns(model, eval_batch.tokens)
    prev0, ind1 = previous_token_score(layer0), induction_score(layer1, eval_batch)
    # Measured (seed 0): layer-0 previous-token scores 0.82, 0.10, 0.15, 0.10 (a uniform
    # head scores 0.10); layer-1 induction scores 0.97, 0.93, 0.98, 0.96, against at
    # most 0.05 in layer 0. Thresholds leave margins of ~0.3 and ~0.4.
    assert prev0.max() > 0.5
    assert ind1.max() > 0.5
    assert induction_score(layer0, eval_batch).max() < 0.2

    # Ablations (zeroing heads at hook_z). Measured (seed 0): the previous-token head
    # alone drops accuracy 0.998 -> 0.13, any other layer-0 head leaves 0.997; all
    # layer-1 induction heads together -> 0.005. Each layer-1 head alone leaves
    # 0.996-0.998: the other three compensate, so no single-head test there.
    best_prev = int(prev0.argmax())
    others = [h for h in range(len(prev0)) if h != best_prev]
    assert _ablated_accuracy(model, eval_batch, 0, [best_prev]) < 0.4
    assert _ablated_accuracy(model, eval_batch, 0, [others[0]]) > accuracy - 0.05
    induction_heads = (ind1 > 0.5).nonzero().flatten().tolist()
    assert _ablated_accuracy(model, eval_batch, 1, induction_heads) < 0.1


@pytest.mark.slow
def test_one_layer_control_stays_far_below(eval_batch) -> None:
    # Same data and steps, one layer (~20 s). It cannot compose heads, but it is not at
    # 1/64 either: it learns to guess among earlier tokens that have not repeated yet.
    # Measured (seed 0): 0.27 held out (training accuracy still creeping up, 0.28 at
    # step 1,000), against 0.998 for two layers; no head with induction score > 0.25.
    model, _ = train_induction(InductionConfig(n_layers=1, seed=0))
    assert repeat_accuracy(model, eval_batch) < 0.4
    (layer0,) = attention_patterns(model, eval_batch.tokens)
    assert induction_score(layer0, eval_batch).max() < 0.4
