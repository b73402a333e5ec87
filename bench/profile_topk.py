"""Where a TopK dictionary's training step spends its time, phase by phase.

Times the phases of `symbiote_core.train`'s step for a `TopKSAE` (the bench's shapes
by default: 1024 x 64 -> 512, k = 7) in thread CPU time (`time.thread_time`), which on
a shared machine counts this thread's work and not the time it waited for a core.
`--dense` runs the dense formulation instead (`Dictionary.loss`: scatter the k values
into a (batch, d_sae) tensor and multiply), the one TopK used before the sparse ops.
Each phase is reported as its median over the steps. `--torch-profiler` adds torch.profiler's table of operators (wall-clock, so inflated
by contention, but its proportions are what to read).

    .venv/bin/python bench/profile_topk.py [--dense] [--torch-profiler]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from symbiote_core.runtime import make_deterministic
from symbiote_core.symbiotes import Dictionary, TopKConfig, TopKSAE
from symbiote_core.train import TrainConfig, train


def synthetic(steps: int, batch: int, d_in: int, d_sae: int, k: int) -> torch.Tensor:
    """(steps, batch, d_in): k/d_sae-sparse uniform features through unit directions."""
    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(d_sae, d_in, generator=gen)
    feats /= feats.norm(dim=-1, keepdim=True)
    on = torch.rand(steps, batch, d_sae, generator=gen) < k / d_sae
    return (on * torch.rand(steps, batch, d_sae, generator=gen)) @ feats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--d-in", type=int, default=64)
    parser.add_argument("--d-sae", type=int, default=512)
    parser.add_argument("--k", type=int, default=7)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--dead-after", type=int, default=10_000)
    parser.add_argument("--dense", action="store_true", help="the dense Dictionary.loss")
    parser.add_argument("--torch-profiler", action="store_true")
    args = parser.parse_args()

    make_deterministic(0)
    data = synthetic(args.steps, args.batch_size, args.d_in, args.d_sae, args.k)
    cfg = TopKConfig(d_in=args.d_in, d_sae=args.d_sae, k=args.k, dead_after=args.dead_after)
    sae = TopKSAE(cfg)
    loss = (lambda x: Dictionary.loss(sae, x)) if args.dense else sae.loss
    sae.train()
    sae.init_from_data(data[0])
    optimiser = torch.optim.Adam(sae.parameters(), lr=1e-3, fused=True)  # as train() makes it
    seconds: dict[str, list[float]] = defaultdict(list)

    @contextmanager
    def phase(name: str) -> Iterator[None]:
        start = time.thread_time()
        yield
        seconds[name].append(time.thread_time() - start)

    window = torch.zeros(())
    dead_steps = 0
    for step in range(args.steps):
        dead_steps += bool(sae.dead_mask().any())
        if not args.dense:
            with phase("  (in loss) dense pre + top-k, no grad"), torch.no_grad():
                sae._pre(sae._lift_input(data[step], args.d_in, "input")).topk(args.k, dim=-1)
        with phase("loss (forward, AuxK, firing counters)"):
            total, parts = loss(data[step])
        with phase("zero_grad + backward"):
            optimiser.zero_grad(set_to_none=True)
            total.backward()
        with phase("Adam step"):
            optimiser.step()
        with phase("decoder renormalisation"):
            sae.post_step()
        with phase("loop bookkeeping (window sums)"):
            window += total.detach()
            for value in parts.values():
                window += value.detach().sum()
    # Medians over steps: a step that lost its core's cache to another process is an outlier.
    median = {name: statistics.median(v) for name, v in seconds.items()}
    choose = "  (in loss) dense pre + top-k, no grad"
    step_total = sum(v for name, v in median.items() if name != choose)
    kind = "dense Dictionary.loss" if args.dense else "sparse TopKSAE.loss"
    print(
        f"{kind}: batch {args.batch_size}, d_in {args.d_in}, d_sae {args.d_sae}, k {args.k}; "
        f"{1e3 * step_total:.2f} ms CPU/step (sum of per-phase medians); steps with dead "
        f"latents (AuxK on): {dead_steps}/{args.steps}"
    )
    for name, v in median.items():
        print(f"  {name:<48} {1e3 * v:7.3f} ms  {v / step_total:6.1%}")

    sae = TopKSAE(cfg)
    start = time.thread_time()
    train(sae, lambda step, _: data[step], TrainConfig(steps=args.steps, progress=False))
    print(
        f"symbiote_core.train, same data: {1e3 * (time.thread_time() - start) / args.steps:.2f} ms CPU/step"
    )

    if args.torch_profiler:
        from torch.profiler import ProfilerActivity, profile

        sae = TopKSAE(cfg)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            train(sae, lambda step, _: data[step], TrainConfig(steps=args.steps, progress=False))
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))


if __name__ == "__main__":
    main()
