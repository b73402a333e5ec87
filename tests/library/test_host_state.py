"""Host trainers change no process state: they draw only from their own generators.

A caller's thread count, global RNG streams (torch, numpy, random) and deterministic-
kernel flag are the caller's; only the figure worker pins them (`worker.make`). Each
trainer runs under a state that differs from what the figure worker sets (two threads,
deterministic kernels off, a reseeded RNG), so a trainer that reset any of it to its
own liking would be caught.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from symbiote_core.hosts.induction import InductionConfig, train_induction
from symbiote_core.hosts.modadd import ModAddConfig, train_modadd
from symbiote_core.hosts.toy import ToyConfig, train_toy

TRAINERS = {
    "toy": lambda: train_toy(ToyConfig(n_features=5, d_hidden=2, steps=20, batch_size=32)),
    "modadd": lambda: train_modadd(ModAddConfig(p=7, d_model=8, d_mlp=16, seeds=(0, 1), steps=5)),
    "induction": lambda: train_induction(
        InductionConfig(d_model=16, vocab_size=16, seq_len=12, max_span=6, steps=3, batch_size=8)
    ),
}


def process_state() -> dict:
    return {
        "threads": torch.get_num_threads(),
        "deterministic": torch.are_deterministic_algorithms_enabled(),
        "torch_rng": torch.get_rng_state().clone(),
        "numpy_rng": np.random.get_state()[1].copy(),
        "random_rng": random.getstate(),
    }


@pytest.mark.parametrize("host", sorted(TRAINERS))
def test_trainer_leaves_process_state_unchanged(host: str) -> None:
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    try:
        torch.set_num_threads(2)  # the figure worker uses 1
        torch.use_deterministic_algorithms(False)  # the figure worker turns them on
        torch.manual_seed(1234)
        np.random.seed(1234)
        random.seed(1234)
        before = process_state()
        TRAINERS[host]()
        after = process_state()
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
    assert after["threads"] == before["threads"] == 2
    assert after["deterministic"] is before["deterministic"] is False
    assert torch.equal(after["torch_rng"], before["torch_rng"]), "drew from torch's global RNG"
    assert np.array_equal(after["numpy_rng"], before["numpy_rng"]), "reseeded numpy"
    assert after["random_rng"] == before["random_rng"], "reseeded random"


def test_trainer_results_do_not_depend_on_the_global_seed() -> None:
    """Seeding belongs to the config's generators: the global seed changes nothing."""
    runs = []
    for seed in (0, 99):
        torch.manual_seed(seed)
        model, _ = TRAINERS["toy"]()
        runs.append(model.W.detach().clone())
    assert torch.equal(runs[0], runs[1])
