"""What sending torch's matrix products to OpenBLAS saves a figure worker.

    .venv/bin/python bench/bench_gemm_routing.py [--steps N] [--repeats R]

Trains the language section's hosts (`figures_src._lab.language_host`: five seeds as
instances, its shape, batch and context) for N steps on random bytes, under the figure
workers' pinned numerics (`worker.PINNED_ENV`; the script restarts itself with them),
alternately with torch's own kernels (MKL in its COMPATIBLE branch, the only one MKL
keeps alike across CPU vendors) and with `runtime.route_gemm_to_openblas`, R times in
this one process, so load from other processes falls on both alike. Prints the CPU
seconds of each run and the ratio of the best of each. It times training steps only
(no data loading, no evaluation): the part of a figure's compute that is most GEMM.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from symbiote_core.figures.engine.worker import restart_with_pinned_env

restart_with_pinned_env()

# Imported after the numerics are pinned (torch reads them when it loads).
import torch  # noqa: E402

from symbiote_core import runtime  # noqa: E402
from symbiote_core.hosts.bytelm import ByteLMConfig, train_bytelm  # noqa: E402


def host_config(steps: int) -> ByteLMConfig:
    """The language section's host recipe (`_lab.language_host.host_config`), cut to `steps`."""
    from figures_src._lab.language_host import HostParams
    from figures_src._lab.language_host import host_config as section_config

    return section_config(dataclasses.replace(HostParams(), steps=steps), (5, 6, 7, 8, 9))


def cpu_seconds(cfg: ByteLMConfig, stream: torch.Tensor) -> tuple[float, float]:
    runtime.make_deterministic(0, threads=1)
    start = time.process_time()
    _, log = train_bytelm(cfg, stream)
    return time.process_time() - start, log.metrics["bits"][-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    cfg = host_config(args.steps)
    stream = torch.randint(0, 256, (1 << 20,), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(0))  # fmt: skip
    best = {"mkl": float("inf"), "openblas": float("inf")}
    for _ in range(args.repeats):
        for side in best:
            if side == "openblas":
                runtime.route_gemm_to_openblas()
            seconds, bits = cpu_seconds(cfg, stream)
            if side == "openblas":  # back to torch's own kernels for the next repeat
                runtime._GEMM_OVERRIDES._destroy()  # type: ignore[union-attr]
                runtime._GEMM_OVERRIDES = None
            best[side] = min(best[side], seconds)
            print(
                f"{side:9s} {seconds:6.2f} CPU s for {args.steps} steps (last loss {bits:.4f} bits)"
            )
    print(
        f"MKL COMPATIBLE / OpenBLAS: {best['mkl'] / best['openblas']:.2f}x (best of {args.repeats})"
    )


if __name__ == "__main__":
    main()
