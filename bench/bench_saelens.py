"""Train the same TopK dictionary with symbiote_core and with SAELens; compare speed and MCC.

Run through `bench/run.sh` (or `make bench`), which provides a venv holding both
libraries. One process, one torch thread, the same synthetic ground truth for both:
SAELens's own generator (`sae_lens.synthetic`: a `FeatureDictionary` of unit feature
vectors and an `ActivationGenerator` with Zipfian firing probabilities).

What is timed: the training loop only. Every batch is generated before either library
starts (step t's batch comes from a per-step seed), so both see the same rows in the
same order and neither pays for data generation. The two train side by side, in two
threads that take turns at every batch (`Turns`: only one runs at a time), so both
meet the same machine load; each turn is timed twice, by the wall clock and by the
thread's CPU time (`time.thread_time`, which leaves out the time spent waiting for a
core on a shared machine). `--repeats` pairs of runs from fresh initialisations,
alternating who starts; both ratios are printed per repeat and as min / median / max.

Shared settings: d_in, d_sae, k, batch size, steps, Adam (0.9, 0.999), constant lr.
Each library keeps its own defaults for what it does differently (printed below):
symbiote_core renormalises decoder rows after each step, ties the encoder to the
decoder at init, centres b_dec on the first batch and weighs AuxK by 1/32; SAELens's
TopK starts decoder rows at norm 0.1, weighs its auxiliary loss by 1 and clips the
gradient norm at 1. MCC is SAELens's definition (Hungarian matching on absolute
cosines), computed by both libraries as a cross-check.

The roofline line: a TopK step's matmuls are the encoder (x @ W_enc), its weight
gradient (x^T @ d_pre), the decoder (z @ W_dec) and its two gradients (d_recon @
W_dec^T, z^T @ d_recon): five (batch x d_in x d_sae) products, 2 * batch * d_in *
d_sae FLOPs each (the encoder's input gradient is not needed). The bare-matmul rate
is those five `torch.mm` calls on dense tensors, on this thread; a library's
fraction is (those FLOPs / its step time) / that rate, i.e. the dense matmul time
over its step time. An implementation that exploits z's sparsity does fewer FLOPs
than this nominal count, so the fraction measures step time against the dense
matmul floor, as model-FLOP utilisation does, not hardware utilisation.

Not part of `make test`: it takes minutes and needs the SAELens venv.
"""

from __future__ import annotations

import os

os.environ.setdefault("TQDM_DISABLE", "1")  # SAELens's progress bar; before tqdm is imported

import argparse
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

import torch
from sae_lens import TopKTrainingSAE, TopKTrainingSAEConfig
from sae_lens.config import LoggingConfig, SAETrainerConfig
from sae_lens.synthetic import (
    ActivationGenerator,
    FeatureDictionary,
    mean_correlation_coefficient,
    zipfian_firing_probabilities,
)
from sae_lens.training.sae_trainer import SAETrainer

from symbiote_core.metrics import mcc, random_directions
from symbiote_core.runtime import make_deterministic
from symbiote_core.symbiotes import TopKConfig, TopKSAE
from symbiote_core.train import TrainConfig, train


@dataclass
class Run:
    """One timed training run of one library."""

    wall: float
    cpu: float
    W_dec: torch.Tensor


class Turns:
    """Trainers in threads that take turns at every batch, each timing only its own turns.

    Why: on a shared machine the share of a core this process gets drifts by 2x within
    minutes, so two trainers timed one after the other are timed under different loads.
    Alternating step by step, they see the same drift; only one runs at any time, so
    each still has the thread (and torch's one intra-op thread) to itself.
    """

    def __init__(self, names: list[str]) -> None:
        self.names, self.turn, self.done = names, names[0], set[str]()
        self.cond = threading.Condition()
        self.wall, self.cpu = dict.fromkeys(names, 0.0), dict.fromkeys(names, 0.0)
        self.started: dict[str, tuple[float, float]] = {}

    def _start(self, name: str) -> None:
        with self.cond:
            self.cond.wait_for(lambda: self.turn == name)
        self.started[name] = (time.perf_counter(), time.thread_time())

    def _stop(self, name: str, finished: bool = False) -> None:
        wall, cpu = self.started.pop(name)
        self.wall[name] += time.perf_counter() - wall
        self.cpu[name] += time.thread_time() - cpu
        with self.cond:
            if finished:
                self.done.add(name)
            waiting = [n for n in self.names if n != name and n not in self.done]
            if waiting:  # round robin: the next one after `name`
                later = self.names[self.names.index(name) + 1 :] + self.names
                self.turn = next(n for n in later if n in waiting)
            self.cond.notify_all()

    def batches(self, name: str, data: torch.Tensor) -> Iterator[torch.Tensor]:
        for t in range(data.shape[0]):
            self._stop(name)  # asking for a batch ends this turn
            self._start(name)
            yield data[t]

    def run(
        self,
        trainers: dict[str, Callable[[Iterator[torch.Tensor]], torch.Tensor]],
        data: torch.Tensor,
    ) -> dict[str, Run]:
        out: dict[str, torch.Tensor] = {}
        errors: list[BaseException] = []

        def work(name: str) -> None:
            self._start(name)
            try:
                out[name] = trainers[name](self.batches(name, data)).detach().clone()
            except BaseException as error:  # re-raised below, after the other one finished
                errors.append(error)
            finally:
                self._stop(name, finished=True)

        threads = [threading.Thread(target=work, args=(name,)) for name in self.names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return {n: Run(self.wall[n], self.cpu[n], out[n]) for n in self.names}


@torch.no_grad()
def make_batches(
    feature_dict: FeatureDictionary,
    generator: ActivationGenerator,
    steps: int,
    batch: int,
    seed: int,
) -> torch.Tensor:
    """(steps, batch, d_in) activations; step t's batch from seed (seed, t) alone."""
    out = torch.empty(steps, batch, feature_dict.feature_vectors.shape[1])
    with torch.random.fork_rng(devices=[]):
        for t in range(steps):
            torch.manual_seed(seed * 1_000_003 + t)
            out[t] = feature_dict(generator.sample(batch))
    return out


@dataclass
class Setup:
    """What both trainers share."""

    steps: int
    batch: int
    d_in: int
    d_sae: int
    k: int
    lr: float
    seed: int


def train_ours(batches: Iterator[torch.Tensor], s: Setup) -> torch.Tensor:
    sae = TopKSAE(TopKConfig(d_in=s.d_in, d_sae=s.d_sae, k=s.k, seed=s.seed))
    cfg = TrainConfig(steps=s.steps, batch_size=s.batch, lr=s.lr, progress=False)
    train(sae, lambda step, _: next(batches), cfg)
    return sae.W_dec


def train_theirs(batches: Iterator[torch.Tensor], s: Setup) -> torch.Tensor:
    torch.manual_seed(s.seed)  # SAELens draws its init from the global RNG
    sae = TopKTrainingSAE(TopKTrainingSAEConfig(d_in=s.d_in, d_sae=s.d_sae, k=s.k))
    steps, batch, lr = s.steps, s.batch, s.lr
    # The trainer settings of `sae_lens.synthetic.train_toy_sae`, fed the pre-generated batches.
    cfg = SAETrainerConfig(
        total_training_samples=steps * batch,
        train_batch_size_samples=batch,
        lr=lr,
        lr_end=lr,
        lr_scheduler_name="constant",
        adam_beta1=0.9,
        adam_beta2=0.999,
        device="cpu",
        dead_feature_window=1000,
        feature_sampling_window=2000,
        n_checkpoints=0,
        checkpoint_path=None,
        save_final_checkpoint=False,
        logger=LoggingConfig(log_to_wandb=False, eval_every_n_wandb_logs=2**31 - 1),
        n_batches_for_norm_estimate=1000,
    )
    trainer = SAETrainer(cfg=cfg, sae=sae, data_provider=batches, save_checkpoint_fn=lambda _: None)
    trainer.fit()
    return sae.W_dec


def matmul_floor(batch: int, d_in: int, d_sae: int, reps: int) -> float:
    """Best thread-CPU seconds of the five dense matmuls of one TopK training step."""
    g = torch.Generator().manual_seed(0)
    x, d_recon = torch.randn(batch, d_in, generator=g), torch.randn(batch, d_in, generator=g)
    z, d_pre = torch.randn(batch, d_sae, generator=g), torch.randn(batch, d_sae, generator=g)
    W_enc, W_dec = torch.randn(d_in, d_sae, generator=g), torch.randn(d_sae, d_in, generator=g)
    out_bs, out_ds, out_bd, out_sd = (
        torch.empty(batch, d_sae),
        torch.empty(d_in, d_sae),
        torch.empty(batch, d_in),
        torch.empty(d_sae, d_in),
    )

    def step() -> None:
        torch.mm(x, W_enc, out=out_bs)  # encoder
        torch.mm(x.t(), d_pre, out=out_ds)  # encoder weight gradient
        torch.mm(z, W_dec, out=out_bd)  # decoder
        torch.mm(d_recon, W_dec.t(), out=out_bs)  # latent gradient
        torch.mm(z.t(), d_recon, out=out_sd)  # decoder weight gradient

    step()
    best = float("inf")
    for _ in range(reps):
        start = time.thread_time()
        step()
        best = min(best, time.thread_time() - start)
    return best


def spread(values: list[float]) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=512)
    parser.add_argument("--d-in", type=int, default=64)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    make_deterministic(args.seed)  # one thread, deterministic kernels
    feature_dict = FeatureDictionary(args.features, args.d_in, seed=args.seed + 1)
    feature_dict.eval()
    probabilities = zipfian_firing_probabilities(args.features)
    activations = ActivationGenerator(args.features, probabilities)
    k = max(1, round(probabilities.sum().item()))  # expected number of firing features
    true = feature_dict.feature_vectors.detach()  # (features, d_in)
    print(
        f"ground truth: {args.features} features in {args.d_in} dims, Zipfian firing, "
        f"expected L0 {probabilities.sum().item():.2f} -> k = {k}; "
        f"{args.steps} steps x {args.batch_size}, lr {args.lr}, torch threads {torch.get_num_threads()}"
    )
    start = time.perf_counter()
    data = make_batches(feature_dict, activations, args.steps, args.batch_size, args.seed)
    print(
        f"generated {tuple(data.shape)} activations in {time.perf_counter() - start:.1f} s (not timed)"
    )

    setup = Setup(args.steps, args.batch_size, args.d_in, args.features, k, args.lr, args.seed)
    trainers = {"symbiote_core": train_ours, "SAELens": train_theirs}
    runs: dict[str, list[Run]] = {name: [] for name in trainers}
    for r in range(args.repeats):
        order = list(trainers) if r % 2 == 0 else list(reversed(trainers))  # who starts
        timed = Turns(order).run({n: partial(trainers[n], s=setup) for n in order}, data)
        for name, run in timed.items():
            runs[name].append(run)
        ours, theirs = timed["symbiote_core"], timed["SAELens"]
        print(
            f"repeat {r + 1}: steps/s ours {args.steps / ours.wall:.1f} / SAELens "
            f"{args.steps / theirs.wall:.1f} (wall), {args.steps / ours.cpu:.1f} / "
            f"{args.steps / theirs.cpu:.1f} (thread CPU); ratio {theirs.wall / ours.wall:.2f}x "
            f"wall, {theirs.cpu / ours.cpu:.2f}x CPU",
            flush=True,
        )
    for name, rs in runs.items():  # a fixed seed on one thread: every repeat bit-identical
        if not all(torch.equal(rs[0].W_dec, r.W_dec) for r in rs):
            print(f"WARNING: {name}'s repeats are not bit-identical")

    control = random_directions(
        args.features, args.d_in, torch.Generator().manual_seed(args.seed + 3)
    )
    floor = matmul_floor(args.batch_size, args.d_in, args.features, reps=50)
    flops = 5 * 2 * args.batch_size * args.d_in * args.features
    print(
        f"\n{'library':<14} {'steps/s wall':>13} {'steps/s CPU':>12} {'MCC':>6} {'MCC (SAELens fn)':>17}"
    )
    for name, W, rs in [(n, rs[0].W_dec, rs) for n, rs in runs.items()] + [("random", control, [])]:
        wall = f"{args.steps / statistics.median(r.wall for r in rs):13.1f}" if rs else f"{'-':>13}"
        cpu = f"{args.steps / statistics.median(r.cpu for r in rs):12.1f}" if rs else f"{'-':>12}"
        print(
            f"{name:<14} {wall} {cpu} {mcc(W, true, absolute=True):6.3f} {mean_correlation_coefficient(W, true):17.3f}"
        )
    ours, theirs = runs["symbiote_core"], runs["SAELens"]
    wall_ratios = [t.wall / o.wall for o, t in zip(ours, theirs, strict=True)]
    cpu_ratios = [t.cpu / o.cpu for o, t in zip(ours, theirs, strict=True)]
    print(f"speed ratio symbiote_core / SAELens, min / median / max of {args.repeats}:")
    print(f"  wall clock        {spread(wall_ratios)}")
    print(f"  thread CPU time   {spread(cpu_ratios)}")
    print(
        f"roofline: bare matmuls of a step ({flops / 1e6:.0f} MFLOP) {1e3 * floor:.2f} ms CPU = "
        f"{flops / floor / 1e9:.1f} GFLOP/s on this thread"
    )
    for name, rs in runs.items():
        step = min(r.cpu for r in rs) / args.steps
        print(
            f"  {name:<14} {1e3 * step:.2f} ms CPU/step = {flops / step / 1e9:.1f} GFLOP/s nominal, "
            f"{floor / step:.0%} of the bare-matmul rate"
        )


if __name__ == "__main__":
    main()
