"""Training the induction host on 1 seed and on 5 seeds batched, in one process.

    .venv/bin/python bench/bench_seeds_induction.py [--steps N] [--layers L]

The 5 seeds train together as instances of one set of tensors (leading instance axis);
the ratio says what a seed costs when it rides along with others. Wall-clock seconds
are inflated when other processes share the CPU, so CPU seconds of this process are
printed beside them (closer to what the same run costs alone). One torch thread, as in
the figure build.
"""

from __future__ import annotations

import argparse
import time

from symbiote_core.hosts.induction import InductionConfig, train_induction
from symbiote_core.runtime import make_deterministic


def timed(cfg: InductionConfig) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    train_induction(cfg)
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = InductionConfig()
    parser.add_argument("--steps", type=int, default=default.steps)
    parser.add_argument("--layers", type=int, default=default.n_layers)
    args = parser.parse_args()
    make_deterministic(0)
    timed(InductionConfig(steps=5, n_layers=args.layers))  # warm-up: first-call costs
    results = {}
    for seeds in ((0,), (0, 1, 2, 3, 4)):
        cfg = InductionConfig(steps=args.steps, n_layers=args.layers, seeds=seeds)
        results[len(seeds)] = timed(cfg)
        wall, cpu = results[len(seeds)]
        print(f"{len(seeds)} seed(s), {args.steps} steps: {wall:6.2f} s wall, {cpu:6.2f} s CPU")
    (wall1, cpu1), (wall5, cpu5) = results[1], results[5]
    print(
        f"5 seeds / 1 seed: {wall5 / wall1:.2f}x wall, {cpu5 / cpu1:.2f}x CPU "
        f"(5 separate runs would be 5x)"
    )


if __name__ == "__main__":
    main()
