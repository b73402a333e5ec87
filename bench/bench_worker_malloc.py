"""CPU time of a figure-sized training step with the figure workers' allocator settings,
against glibc's defaults.

    .venv/bin/python bench/bench_worker_malloc.py [--steps N] [--repeats R]

Each side is a child process (glibc reads its `MALLOC_*` variables once, at start)
running the same full-batch step of a batched modular-addition-shaped MLP: one torch
thread, 50 instances of 3,800 pairs, 128 hidden units, 113 outputs, forward, backward
and an Adam step, which allocates tensors of about 100 MB each step. One side has
`worker.WORKER_ENV` (large blocks reused from the heap), the other the same minus the
`MALLOC_*` settings (each large block a fresh mmap, zeroed by the kernel). Prints the
user and system CPU seconds of each child and the ratio of their totals; the two sides
alternate R times so load from other processes falls on both alike, and the best repeat
of each is kept.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys

from symbiote_core.figures.engine.worker import PINNED_ENV, WORKER_ENV

STEP = """
import torch
torch.manual_seed(0)
n, pairs, d_in, hidden, out = 50, 3800, 64, 128, 113
x = torch.randn(n, pairs, d_in)
y = torch.randint(0, out, (n, pairs))
w1 = torch.randn(n, d_in, hidden, requires_grad=True)
w2 = torch.randn(n, hidden, out, requires_grad=True)
opt = torch.optim.Adam([w1, w2], lr=1e-3)
for _ in range({steps}):
    h = torch.relu(torch.bmm(x, w1))
    logits = torch.bmm(h, w2)
    loss = torch.nn.functional.cross_entropy(logits.transpose(1, 2), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
"""


def cpu_seconds(env: dict[str, str], steps: int) -> tuple[float, float]:
    """(user, system) CPU seconds of one child running `steps` steps."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", STEP.format(steps=steps)], env=env, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    sides = {
        "glibc defaults": {**base, **PINNED_ENV},
        "worker settings": {**base, **WORKER_ENV},
    }
    best: dict[str, tuple[float, float]] = {}
    for _ in range(args.repeats):
        for name, env in sides.items():
            user, system = cpu_seconds(env, args.steps)
            if name not in best or user + system < sum(best[name]):
                best[name] = (user, system)
    for name, (user, system) in best.items():
        print(f"{name:>16}: user {user:6.2f} s  system {system:6.2f} s  total {user + system:6.2f} s")
    ratio = sum(best["glibc defaults"]) / sum(best["worker settings"])
    print(f"defaults / worker settings (CPU time, best of {args.repeats}): {ratio:.2f}x")


if __name__ == "__main__":
    main()
