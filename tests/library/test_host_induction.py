"""Induction host: data, scores on hand-made patterns, batched seeds, and the trained circuit."""

from __future__ import annotations

import pytest
import torch

from symbiote_core.hosts.induction import (
    InductionConfig,
    InductionModel,
    attention_patterns,
    induction_score,
    make_batch,
    make_sequences,
    previous_token_score,
    repeat_accuracy,
    repeat_losses,
    seed_generators,
    train_induction,
)

# Bit-for-bit checks hold on one thread, which trainers leave to their caller.
pytestmark = pytest.mark.usefixtures("one_thread")


SMALL = dict(d_model=16, n_heads=2, seq_len=16, max_span=6, vocab_size=20, steps=20, log_every=10)


def test_batch_structure() -> None:
    cfg = InductionConfig(seq_len=16, min_span=3, max_span=6, vocab_size=20)
    batch = make_sequences(cfg, 200, torch.Generator().manual_seed(0))
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
    again = make_sequences(cfg, 200, torch.Generator().manual_seed(0))
    assert torch.equal(batch.tokens, again.tokens)


def test_shuffled_repeat_keeps_the_tokens_and_loses_their_order() -> None:
    """The null host's data: the same draws as "copy" (the spans sit where they did), the
    second copy holding the span's tokens in a random order."""
    copy_cfg = InductionConfig(seq_len=16, min_span=3, max_span=6, vocab_size=20)
    cfg = InductionConfig(seq_len=16, min_span=3, max_span=6, vocab_size=20, repeat="shuffled")
    batch = make_sequences(cfg, 300, torch.Generator().manual_seed(0))
    copy = make_sequences(copy_cfg, 300, torch.Generator().manual_seed(0))
    assert torch.equal(batch.start, copy.start) and torch.equal(batch.span, copy.span)
    assert torch.equal(batch.target_mask, copy.target_mask)
    reordered = 0
    for row in range(300):
        tokens, s, L = batch.tokens[row], int(batch.start[row]), int(batch.span[row])
        first, second = tokens[s : s + L].tolist(), tokens[s + L : s + 2 * L].tolist()
        assert sorted(first) == sorted(second) and first == copy.tokens[row, s : s + L].tolist()
        # Outside the second copy, nothing moved.
        outside = [q for q in range(16) if not s + L <= q < s + 2 * L]
        assert tokens[outside].tolist() == copy.tokens[row, outside].tolist()
        reordered += first != second
    assert reordered > 250  # a random order: the identity only now and then (1/L!)
    with pytest.raises(ValueError, match="repeat"):
        InductionConfig(repeat="reversed")  # type: ignore[arg-type]


def test_make_batch_stacks_one_stream_per_instance() -> None:
    cfg = InductionConfig(seeds=(4, 7), seq_len=16, min_span=3, max_span=6, vocab_size=20)
    batch = make_batch(cfg, 5, seed_generators(cfg.seeds))
    assert batch.tokens.shape == (2, 5, 16) and batch.span.shape == (2, 5)
    alone = make_sequences(cfg, 5, torch.Generator().manual_seed(7))
    assert torch.equal(batch.tokens[1], alone.tokens)
    assert not torch.equal(batch.tokens[0], batch.tokens[1])
    with pytest.raises(ValueError, match="2 instances"):
        make_batch(cfg, 5, seed_generators((1,)))


def test_scores_on_hand_made_patterns() -> None:
    cfg = InductionConfig(seeds=(0, 1), seq_len=16, min_span=3, max_span=6, vocab_size=20)
    batch = make_batch(cfg, 8, seed_generators(cfg.seeds))
    T = cfg.seq_len
    # Head 0 looks exactly one back (position 0 looks at itself); head 1 is uniform
    # causal; head 2 attends exactly to the induction key on target queries.
    prev = torch.zeros(T, T)
    prev[0, 0] = 1.0
    prev[torch.arange(1, T), torch.arange(T - 1)] = 1.0
    uniform = torch.ones(T, T).tril()
    uniform = uniform / uniform.sum(dim=-1, keepdim=True)
    pattern = torch.stack([prev, uniform, uniform]).expand(2, 8, 3, T, T).clone()
    for i in range(2):
        for row in range(8):
            s, L = int(batch.start[i, row]), int(batch.span[i, row])
            for q in range(s + L, s + 2 * L - 1):
                pattern[i, row, 2, q] = 0.0
                pattern[i, row, 2, q, q - L + 1] = 1.0

    prev_scores = previous_token_score(pattern)
    assert prev_scores.shape == (2, 3)
    torch.testing.assert_close(prev_scores[:, 0], torch.ones(2))
    harmonic = sum(1 / (q + 1) for q in range(1, T)) / (T - 1)  # uniform head, by hand
    torch.testing.assert_close(prev_scores[:, 1], torch.full((2,), harmonic))
    ind_scores = induction_score(pattern, batch)
    torch.testing.assert_close(ind_scores[:, 2], torch.ones(2))
    # A previous-token head never hits the induction key: q - 1 != q - L + 1 for L >= 3.
    torch.testing.assert_close(ind_scores[:, 0], torch.zeros(2))


def test_hook_points_and_shapes() -> None:
    cfg = InductionConfig(seeds=(0, 1, 2), **{**SMALL, "n_heads": 4})
    model = InductionModel(cfg)
    batch = make_batch(cfg, 3, seed_generators(cfg.seeds))
    assert model(batch.tokens).shape == (3, 3, 16, 20)
    modules = dict(model.named_modules())
    for name in (
        "hook_embed",
        "blocks.1.attn.hook_qkv",
        "blocks.1.attn.hook_pattern",
        "blocks.1.attn.hook_z",
        "blocks.1.hook_resid_post",
        "hook_logits",
    ):
        assert name in modules, name
    patterns = attention_patterns(model, batch.tokens)
    assert [p.shape for p in patterns] == [(3, 3, 4, 16, 16)] * 2
    torch.testing.assert_close(patterns[0].sum(dim=-1), torch.ones(3, 3, 4, 16))
    assert patterns[0].triu(diagonal=1).abs().max() == 0  # causal
    # attention_patterns removes its hooks.
    assert not any(m._forward_hooks for m in model.modules())


def test_loss_is_per_instance_and_on_targets_only() -> None:
    cfg = InductionConfig(seeds=(0, 1), **SMALL)
    batch = make_batch(cfg, 4, seed_generators(cfg.seeds))
    logits = torch.randn(2, 4, 16, 20, generator=torch.Generator().manual_seed(0))
    targets = batch.tokens.roll(-1, dims=-1)
    for i in range(2):
        mask = batch.target_mask[i]
        expected = torch.nn.functional.cross_entropy(logits[i][mask], targets[i][mask])
        torch.testing.assert_close(repeat_losses(logits, batch)[i], expected)
    # Changing a logit off the targets changes nothing.
    edited = logits.clone()
    edited[~batch.target_mask] += 5.0
    torch.testing.assert_close(repeat_losses(edited, batch), repeat_losses(logits, batch))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"d_model": 30},
        {"max_span": 20},
        {"vocab_size": 10},
        {"min_span": 1},
        {"n_layers": 0},
        {"seeds": ()},
        {"seeds": (1, 1)},
        {"init_std": 0.0},
    ],
)
def test_config_validation(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="InductionConfig"):
        InductionConfig(**kwargs)


def test_training_is_bit_reproducible() -> None:
    cfg = InductionConfig(seeds=(0, 1), **SMALL)
    model_a, log_a = train_induction(cfg)
    model_b, log_b = train_induction(cfg)
    for (name, a), b in zip(
        model_a.state_dict().items(), model_b.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name
    assert log_a.metrics == log_b.metrics and log_a.steps == [10, 20]
    assert set(log_a.metrics) == {"loss", "acc", "loss/0", "loss/1", "acc/0", "acc/1"}


def test_an_instance_does_not_depend_on_its_neighbours() -> None:
    # Seed 3 trained alone and trained beside seeds 1 and 5 gives the same bits: the
    # instances share tensors but neither gradients, optimiser state nor random streams.
    alone, log_alone = train_induction(InductionConfig(seeds=(3,), **SMALL))
    batched, log_batched = train_induction(InductionConfig(seeds=(1, 3, 5), **SMALL))
    for (name, a), b in zip(alone.state_dict().items(), batched.state_dict().values(), strict=True):
        assert torch.equal(a[0], b[1]), name
        assert not torch.equal(b[0], b[1]), name  # and the seeds do differ
    assert log_alone.metrics["loss/0"] == log_batched.metrics["loss/1"]


def _ablated_accuracy(
    model: InductionModel, batch, layer: int, heads: torch.Tensor
) -> torch.Tensor:
    """Accuracy per instance with the heads where `heads` `(I, H)` is True zeroed at
    `blocks.{layer}.attn.hook_z`."""

    def zero_heads(module, inputs, z):  # z: (I, B, T, H, d_head)
        return torch.where(heads[:, None, None, :, None], 0.0, z)

    handle = model.blocks[layer].attn.hook_z.register_forward_hook(zero_heads)
    try:
        return repeat_accuracy(model, batch)
    finally:
        handle.remove()


SEEDS = (0, 1, 2, 3, 4)
"""The seeds the essay's figures run."""


@pytest.fixture(scope="module")
def eval_batch() -> object:
    cfg = InductionConfig(seeds=SEEDS)
    return make_batch(cfg, 256, seed_generators(SEEDS, offset=123))


@pytest.mark.slow
def test_two_layers_grow_an_induction_circuit_on_every_seed(eval_batch) -> None:
    # Default recipe, the essay's five seeds batched: ~13 CPU s on one thread.
    model, _ = train_induction(InductionConfig(seeds=SEEDS))
    accuracy = repeat_accuracy(model, eval_batch)
    # Measured (seeds 0-4): held-out accuracy 0.98-0.99 on every seed.
    assert (accuracy > 0.9).all(), accuracy

    layer0, layer1 = attention_patterns(model, eval_batch.tokens)
    prev0, ind1 = previous_token_score(layer0), induction_score(layer1, eval_batch)
    # A uniform head scores 0.16 on the previous-token score at seq 16. Measured: the
    # best layer-0 head 0.68-0.80; three or four induction heads per seed in layer 1
    # (0.92-0.98; seed 0 has a fourth head at 0.24); layer 0 at most ~0.1 as induction heads.
    assert (prev0.max(dim=-1).values > 0.5).all(), prev0
    assert (ind1.max(dim=-1).values > 0.5).all(), ind1
    assert (induction_score(layer0, eval_batch).max(dim=-1).values < 0.3).all()

    # Ablations (zeroing heads at hook_z), per seed. Layer 0 often has two
    # previous-token heads that back each other up, so they are removed together:
    # that breaks induction; removing the other layer-0 heads does not; removing all of
    # layer 1 does. Measured: 0.14-0.25 accuracy, within 0.004 of intact, 0.01-0.02.
    prev_heads = prev0 > 0.5
    assert (~prev_heads).any(dim=-1).all()  # every seed keeps a head for the control
    assert (_ablated_accuracy(model, eval_batch, 0, prev_heads) < 0.5).all()
    assert (_ablated_accuracy(model, eval_batch, 0, ~prev_heads) > accuracy - 0.1).all()
    best = prev_heads
    everyone = torch.ones_like(best)
    assert (_ablated_accuracy(model, eval_batch, 1, everyone) < 0.2).all()


@pytest.mark.slow
def test_one_layer_control_stays_far_below(eval_batch) -> None:
    # Same data and steps, one layer (~6 CPU s). It cannot compose heads, but it is not
    # at 1/64 either: it learns to guess among earlier tokens that have not repeated yet.
    # Measured: 0.31-0.36 held out (best induction score 0.28-0.37 on the figure's batch).
    model, _ = train_induction(InductionConfig(n_layers=1, seeds=SEEDS))
    assert (repeat_accuracy(model, eval_batch) < 0.6).all()
    (layer0,) = attention_patterns(model, eval_batch.tokens)
    assert (induction_score(layer0, eval_batch).max(dim=-1).values < 0.4).all()


def test_path_ablation_removes_exactly_the_source_heads_contribution() -> None:
    # The figures' path ablation subtracts a layer-0 head's (mean-centred) output from
    # what chosen layer-1 heads read. The host is linear up to each softmax, so the
    # edited q/k/v must equal W_QKV applied to the residual stream minus that output.
    from figures_src._lab.induction import head_outputs, remove_from_reads
    from symbiote_core.interventions import intervene
    from symbiote_core.sites import collect

    cfg = InductionConfig(seeds=(0, 1), **{**SMALL, "n_heads": 4})
    model = InductionModel(cfg).eval()
    with torch.no_grad():  # weights of order one, so a wrong edit is far above tolerance
        for param in model.parameters():
            param.mul_(25.0)
    batch = make_batch(cfg, 6, seed_generators(cfg.seeds))
    outputs = head_outputs(model, batch)
    sources = torch.tensor([[False, True, False, True], [True, False, False, False]])
    readers = torch.tensor([[True, False, True, False], [False, False, False, True]])
    cut = remove_from_reads(model, outputs, sources, readers, "k")
    with intervene(model, [cut]):
        edited = collect(model, "blocks.1.attn.hook_qkv", batch.tokens)["blocks.1.attn.hook_qkv"]
    resid = collect(model, "blocks.0.hook_resid_post", batch.tokens)["blocks.0.hook_resid_post"]
    z = outputs[0]  # (I, B, T, H, dh)
    away = (z - z.mean(dim=1, keepdim=True)) * sources[:, None, None, :, None]
    delta = away.flatten(-2) @ model.blocks[0].attn.W_O.detach()[:, None]  # (I, B, T, D)
    clean = resid @ model.blocks[1].attn.W_QKV.detach()[:, None]  # (I, B, T, 3D)
    without = (resid - delta) @ model.blocks[1].attn.W_QKV.detach()[:, None]
    D, dh = cfg.d_model, cfg.d_model // cfg.n_heads
    assert (without - clean).abs().max() > 0.1  # the cut is not negligible
    for i in range(2):
        for part in range(3):
            for h in range(cfg.n_heads):
                cols = slice(part * D + h * dh, part * D + (h + 1) * dh)
                want = without if (part == 1 and readers[i, h]) else clean
                torch.testing.assert_close(edited[i, ..., cols], want[i, ..., cols])
