"""The shared recipe runs of sections 4 and 5: the evaluation seeds are cut out of one run
over the success-rate seeds, and what is cut out is what training those seeds alone gives.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from figures_src._lab import induction, modadd

pytestmark = pytest.mark.usefixtures("one_thread")


def test_evaluation_and_tuning_seeds_are_disjoint_and_inside_the_rate_run() -> None:
    from figures_src._lab import induction_seeds

    for module in (modadd, induction_seeds):
        assert not set(module.SEEDS) & set(module.TUNING_SEEDS)
        assert not set(module.RATE_SEEDS) & set(module.TUNING_SEEDS)
        assert set(module.SEEDS) <= set(module.RATE_SEEDS) and len(module.RATE_SEEDS) >= 20


def test_modadd_hosts_cut_from_the_shared_run_are_those_trained_alone() -> None:
    host = modadd.HostParams(p=7, steps=6, memorised_step=2)
    seeds = (8, 6)  # out of order on purpose
    run = modadd.train_hosts(host, seeds)
    measured = modadd.shared_log_steps(host, (0, host.memorised_step, host.steps))
    alone = modadd.train_states(host, seeds, measured)
    for part, model in (("trained", run.trained), ("memorised", run.memorised)):
        for name, tensor in model.state_dict().items():
            assert torch.equal(tensor, alone[part][name]), (part, name)
    for i in range(len(seeds)):
        rows = [alone["steps"].index(step) for step in run.log.steps]
        expected = [alone["metrics"][f"test_acc/{i}"][r] for r in rows]
        assert run.log.metrics[f"test_acc/{i}"] == expected
    rate = modadd.recipe_rate(host)
    assert rate["seeds"] == list(modadd.RATE_SEEDS)
    assert rate["generalised"] == [acc >= modadd.GENERALISED for acc in rate["final_test_acc"]]


def test_induction_hosts_cut_from_the_shared_run_are_those_trained_alone(monkeypatch) -> None:
    small = dict(d_model=8, n_heads=2, vocab_size=20, seq_len=16, steps=3, warmup=1, log_every=3)
    original = induction.host_config
    monkeypatch.setattr(
        induction,
        "host_config",
        lambda seeds, n_layers, repeat="copy": dataclasses.replace(
            original(seeds, n_layers, repeat), **small
        ),
    )
    seeds = (22, 20)
    hosts = induction.train_hosts(seeds)
    alone = induction.train_trained(seeds)
    for name, tensor in hosts.trained.state_dict().items():
        assert torch.equal(tensor, alone[name]), name
    assert hosts.shuffled.cfg.repeat == "shuffled" and hosts.control.cfg.n_layers == 1
    rate = induction.recipe_rate(8)
    assert len(rate["formed"]) == len(induction.RATE_SEEDS)
