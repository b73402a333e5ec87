"""Byte-level language host: causality, batched seeds, training, and its twin."""

from __future__ import annotations

import math

import pytest
import torch

from symbiote_core.hosts.bytelm import (
    BITS,
    ByteLM,
    ByteLMConfig,
    bits_per_byte,
    initial_host,
    logits_from_mid,
    next_byte_losses,
    random_windows,
    train_bytelm,
    unigram_log_frequencies,
)

pytestmark = pytest.mark.usefixtures("one_thread")

SMALL = dict(d_model=16, n_heads=2, d_mlp=32, context=12, batch_size=8, steps=30, log_every=10)
TEXT = torch.frombuffer(bytearray(b"def f(x):\n    return (x + 1)\n" * 40), dtype=torch.uint8)


def test_causal_every_position_sees_only_the_past() -> None:
    model = ByteLM(ByteLMConfig(seeds=(0, 1), **SMALL)).eval()
    x = torch.randint(0, 256, (2, 3, 12), generator=torch.Generator().manual_seed(0))
    y = x.clone()
    y[:, :, 7:] = (y[:, :, 7:] + 1) % 256  # change the future of position 6
    with torch.no_grad():
        a, b = model(x), model(y)
    torch.testing.assert_close(a[:, :, :7], b[:, :, :7])
    assert not torch.allclose(a[:, :, 7:], b[:, :, 7:])


def test_instances_are_independent_of_their_neighbours() -> None:
    together = ByteLM(ByteLMConfig(seeds=(3, 5), **SMALL))
    alone = ByteLM(ByteLMConfig(seeds=(5,), **SMALL))
    for (name, a), b in zip(
        together.state_dict().items(), alone.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(a[1], b[0], msg=name)
    trained, _ = train_bytelm(ByteLMConfig(seeds=(3, 5), **SMALL), TEXT)
    single, _ = train_bytelm(ByteLMConfig(seeds=(5,), **SMALL), TEXT)
    for name, a in trained.state_dict().items():
        torch.testing.assert_close(a[1], single.state_dict()[name][0], msg=name)


def test_training_is_reproducible_and_learns() -> None:
    cfg = ByteLMConfig(seeds=(0, 1), lr=1e-2, **SMALL)
    model, log = train_bytelm(cfg, TEXT)
    again, _ = train_bytelm(cfg, TEXT)
    for name, a in model.state_dict().items():
        assert torch.equal(a, again.state_dict()[name]), name
    windows = random_windows(TEXT, 16, cfg.context + 1, [torch.Generator().manual_seed(9)])[0]
    trained = bits_per_byte(model, windows)
    twin = bits_per_byte(initial_host(cfg, TEXT), windows)
    assert (trained < twin - 1).all()  # a repetitive text is learned within 30 steps
    assert log.steps == [10, 20, 30] and len(log.metrics["bits/1"]) == 3


def test_twin_starts_at_the_unigram_distribution() -> None:
    cfg = ByteLMConfig(seeds=(0,), **SMALL)
    twin = initial_host(cfg, TEXT)
    freq = unigram_log_frequencies(TEXT)
    assert math.isclose(freq.exp().sum().item(), 1.0, rel_tol=1e-5)
    torch.testing.assert_close(twin.b_U[0], freq)
    assert (ByteLM(cfg).b_U == 0).all()


def test_losses_are_next_byte_cross_entropy() -> None:
    logits = torch.zeros(1, 1, 4, 256)
    logits[0, 0, :, 65] = 10.0  # sure of "A" everywhere
    windows = torch.tensor([[[65, 65, 66, 65]]])
    losses = next_byte_losses(logits, windows)
    assert losses.shape == (1, 1, 3)
    sure = -torch.log_softmax(logits[0, 0, 0], -1)
    torch.testing.assert_close(losses[0, 0], torch.stack([sure[65], sure[66], sure[65]]))
    assert pytest.approx(1 / math.log(2)) == BITS


def test_bad_configs_are_refused() -> None:
    with pytest.raises(ValueError, match="divisible"):
        ByteLMConfig(d_model=10, n_heads=4)
    with pytest.raises(ValueError, match="seeds"):
        ByteLMConfig(seeds=(1, 1))
    with pytest.raises(ValueError, match="context"):
        ByteLMConfig(context=1)


def test_logits_from_mid_finish_the_forward_pass() -> None:
    model = ByteLM(ByteLMConfig(seeds=(0, 1), n_layers=2, **SMALL)).eval()
    tokens = torch.randint(0, 256, (2, 3, 12), generator=torch.Generator().manual_seed(1))
    for layer in (0, 1):
        seen = []
        handle = model.blocks[layer].hook_resid_mid.register_forward_hook(
            lambda m, i, out, seen=seen: seen.append(out)
        )
        with torch.no_grad():
            logits = model(tokens)
        handle.remove()
        with torch.no_grad():
            torch.testing.assert_close(logits_from_mid(model, layer, seen[0]), logits)
