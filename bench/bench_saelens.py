"""Train the same TopK dictionary with symbiote_core and with SAELens; compare speed and MCC.

Run through `bench/run.sh` (or `make bench`), which provides a venv holding both
libraries. One process, one torch thread, the same synthetic ground truth for both:
SAELens's own generator (`sae_lens.synthetic`: a `FeatureDictionary` of unit feature
vectors and an `ActivationGenerator` with Zipfian firing probabilities).

What is timed: the training loop only. Every batch is generated before either library
starts (step t's batch comes from a per-step seed), so both see the same rows in the
same order and neither pays for data generation. Each library trains `--repeats`
times from its fresh initialisation, alternating which goes first, and each run is
timed twice: wall clock, and the CPU time of this thread. On a shared machine the
wall clock mostly measures how often the process was scheduled; thread CPU time
(`time.thread_time`) counts only the work done, so its ratio is the steadier one.
Both are printed, per repeat and as min / median / max.

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
import time
from collections.abc import Callable
from dataclasses import dataclass

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


def timed(fn: Callable[..., torch.Tensor], *args: object) -> Run:
    wall, cpu = time.perf_counter(), time.thread_time()
    W_dec = fn(*args)
    return Run(time.perf_counter() - wall, time.thread_time() - cpu, W_dec.detach().clone())


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


def train_ours(data: torch.Tensor, d_sae: int, k: int, lr: float, seed: int) -> torch.Tensor:
    sae = TopKSAE(TopKConfig(d_in=data.shape[-1], d_sae=d_sae, k=k, seed=seed))
    cfg = TrainConfig(steps=data.shape[0], batch_size=data.shape[1], lr=lr, progress=False)
    train(sae, lambda step, _: data[step], cfg)
    return sae.W_dec


def train_theirs(data: torch.Tensor, d_sae: int, k: int, lr: float, seed: int) -> torch.Tensor:
    torch.manual_seed(seed)  # SAELens draws its init from the global RNG
    sae = TopKTrainingSAE(TopKTrainingSAEConfig(d_in=data.shape[-1], d_sae=d_sae, k=k))
    steps, batch = data.shape[:2]
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
    trainer = SAETrainer(
        cfg=cfg, sae=sae, data_provider=iter(data), save_checkpoint_fn=lambda _: None
    )
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

    trainers = {"symbiote_core": train_ours, "SAELens": train_theirs}
    runs: dict[str, list[Run]] = {name: [] for name in trainers}
    for r in range(args.repeats):
        order = list(trainers) if r % 2 == 0 else list(reversed(trainers))
        for name in order:  # alternate who goes first, so drifting load hits both
            runs[name].append(timed(trainers[name], data, args.features, k, args.lr, args.seed))
        ours, theirs = runs["symbiote_core"][-1], runs["SAELens"][-1]
        print(
            f"repeat {r + 1}: steps/s ours {args.steps / ours.wall:.1f} / SAELens {args.steps / theirs.wall:.1f} "
            f"(wall), {args.steps / ours.cpu:.1f} / {args.steps / theirs.cpu:.1f} (thread CPU); "
            f"ratio {theirs.wall / ours.wall:.2f}x wall, {theirs.cpu / ours.cpu:.2f}x CPU"
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
