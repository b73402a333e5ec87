"""What batching seeds buys the modular-addition host: 1 seed against 5, one process.

The hosts of section 4 train their seeds as instances of one set of tensors
(`symbiote_core.hosts.modadd`). This trains the figures' host recipe for one seed and
for five seeds (0-4), in the same process and on one thread, and prints the seconds
of each (wall clock and this process's CPU time, which contention from other
processes inflates less), the ratio, and the ratio an unbatched loop would give (5).
It also checks that seed 0 of the batch is bit-identical to seed 0 alone.

    .venv/bin/python bench/bench_seeds_modadd.py [--steps 1000] [--repeat 2]

Fewer steps than the figures train only shorten the run: the cost per step does not
change with the step.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import torch

from figures_src._lab.modadd import HostParams, host_config
from symbiote_core.hosts.modadd import ModAddConfig, train_modadd


def run(cfg: ModAddConfig) -> tuple[float, float, torch.Tensor]:
    wall, cpu = time.perf_counter(), time.process_time()
    model, _ = train_modadd(cfg)
    return time.perf_counter() - wall, time.process_time() - cpu, model.W_E.detach()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each; the fastest counts")
    args = parser.parse_args()
    host = HostParams()
    # Measure at the start and end only, as two of section 4's figures do.
    base = host_config(host, (0,), steps=args.steps, log_every=args.steps)
    print(f"modadd host p={host.p}, {args.steps} steps, 1 thread; best of {args.repeat}")
    best: dict[int, tuple[float, float]] = {}
    weights: dict[int, torch.Tensor] = {}
    for n in (1, 5):
        cfg = dataclasses.replace(base, seeds=tuple(range(n)))
        runs = [run(cfg) for _ in range(args.repeat)]
        best[n] = (min(r[0] for r in runs), min(r[1] for r in runs))
        weights[n] = runs[0][2]
        print(f"{n} seed(s): {best[n][0]:.2f} s wall, {best[n][1]:.2f} s CPU")
    wall_ratio, cpu_ratio = best[5][0] / best[1][0], best[5][1] / best[1][1]
    print(f"5 seeds / 1 seed: {wall_ratio:.2f}x wall, {cpu_ratio:.2f}x CPU (5 separate runs: 5x)")
    same = torch.equal(weights[1], weights[5])
    print(f"seed 0 bit-identical in the batch and alone: {same}")


if __name__ == "__main__":
    main()
