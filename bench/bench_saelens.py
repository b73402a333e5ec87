"""Train the same TopK dictionary with symbiote_core and with SAELens; compare speed and MCC.

Run through `bench/run.sh` (or `make bench`), which provides a venv holding both
libraries. One process, one torch thread, the same synthetic ground truth for both:
SAELens's own generator (`sae_lens.synthetic`: a `FeatureDictionary` of unit feature
vectors and an `ActivationGenerator` with Zipfian firing probabilities). Each step's
batch is drawn from a per-step seed, so both libraries see identical batches.

Shared settings: d_in, d_sae, k, batch size, steps, Adam (0.9, 0.999), constant lr.
Each library keeps its own defaults for what it does differently (printed below):
symbiote_core renormalises decoder rows after each step, ties the encoder to the
decoder at init, centres b_dec on the first batch and weighs AuxK by 1/32; SAELens's
TopK rescales latents by decoder norms, starts decoder rows at norm 0.1 and weighs its
auxiliary loss by 1. MCC is SAELens's definition (Hungarian matching on absolute
cosines), computed by both libraries as a cross-check.

Not part of `make test`: it takes a minute or two and needs the SAELens venv.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import torch
from sae_lens import TopKTrainingSAE, TopKTrainingSAEConfig
from sae_lens.synthetic import (
    ActivationGenerator,
    FeatureDictionary,
    mean_correlation_coefficient,
    train_toy_sae,
    zipfian_firing_probabilities,
)

from symbiote_core.metrics import mcc, random_directions
from symbiote_core.runtime import make_deterministic
from symbiote_core.symbiotes import TopKConfig, TopKSAE
from symbiote_core.train import TrainConfig, train


class SeededFeatures:
    """`generator.sample(batch)` with the torch RNG reseeded per call: step t gives the
    same batch whoever asks and whatever else consumed random numbers before."""

    def __init__(self, generator: ActivationGenerator, seed: int) -> None:
        self.generator, self.seed, self.step = generator, seed, 0

    def __call__(self, batch_size: int) -> torch.Tensor:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed * 1_000_003 + self.step)
            self.step += 1
            return self.generator.sample(batch_size)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=512)
    parser.add_argument("--d-in", type=int, default=64)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    make_deterministic(args.seed)  # one thread, deterministic kernels
    feature_dict = FeatureDictionary(args.features, args.d_in, seed=args.seed + 1)
    probabilities = zipfian_firing_probabilities(args.features)
    activations = ActivationGenerator(args.features, probabilities)
    k = max(1, round(probabilities.sum().item()))  # expected number of firing features
    true = feature_dict.feature_vectors.detach()  # (features, d_in)
    samples = args.steps * args.batch_size
    print(
        f"ground truth: {args.features} features in {args.d_in} dims, Zipfian firing, "
        f"expected L0 {probabilities.sum().item():.2f} -> k = {k}; "
        f"{args.steps} steps x {args.batch_size}, lr {args.lr}, torch threads {torch.get_num_threads()}"
    )

    # --- symbiote_core ---
    torch.manual_seed(args.seed + 2)
    ours = TopKSAE(TopKConfig(d_in=args.d_in, d_sae=args.features, k=k))
    features = SeededFeatures(activations, args.seed)

    @torch.no_grad()
    def batch_fn(step: int, generator: torch.Generator) -> torch.Tensor:
        return feature_dict(features(args.batch_size))

    cfg = TrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr, progress=False)
    ours_s = timed(lambda: train(ours, batch_fn, cfg))

    # --- SAELens ---
    torch.manual_seed(args.seed + 2)
    theirs = TopKTrainingSAE(TopKTrainingSAEConfig(d_in=args.d_in, d_sae=args.features, k=k))
    features = SeededFeatures(activations, args.seed)  # the same batches, from step 0
    theirs_s = timed(
        lambda: train_toy_sae(
            theirs,
            feature_dict,
            features,
            training_samples=samples,  # type: ignore[arg-type]
            batch_size=args.batch_size,
            lr=args.lr,
        )
    )

    control = random_directions(
        args.features, args.d_in, torch.Generator().manual_seed(args.seed + 3)
    )
    rows = [
        ("symbiote_core", ours.W_dec, ours_s),
        ("SAELens", theirs.W_dec, theirs_s),
        ("random", control, None),
    ]
    print(f"{'library':<14} {'steps/s':>8} {'MCC':>6} {'MCC (SAELens fn)':>17}")
    for name, W_dec, seconds in rows:
        W = W_dec.detach()
        rate = f"{args.steps / seconds:8.1f}" if seconds else f"{'-':>8}"
        print(
            f"{name:<14} {rate} {mcc(W, true, absolute=True):6.3f} {mean_correlation_coefficient(W, true):17.3f}"
        )
    print(f"speed ratio symbiote_core / SAELens: {theirs_s / ours_s:.2f}x")


if __name__ == "__main__":
    main()
