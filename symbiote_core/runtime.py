"""Reproducible CPU runs: one thread, deterministic kernels, explicit seeds.

Why one thread: on a 2-core machine with other processes busy, a 2-thread torch
step ran 20-30x slower than a 1-thread one, and changing the thread count changes
float32 results. Parallelism comes from separate processes instead.
"""

from __future__ import annotations

import random
import sys

import numpy as np
import torch


def make_deterministic(seed: int, threads: int = 1) -> torch.Generator:
    """Seed every RNG, pin the thread count, and turn on deterministic kernels.

    Returns a `torch.Generator` seeded with `seed`, for code that wants its own stream.
    """
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    _deterministic_kernels()
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def _deterministic_kernels() -> None:
    """`torch.use_deterministic_algorithms(True)`, without its 1.4 s import.

    The public call also sets `torch._inductor.config.deterministic`, and importing that
    config pulls in sympy and ~800 modules: 1.4 s in every figure worker process. Nothing
    here uses torch.compile (it broke bit-reproducibility), so unless inductor is already
    loaded only the kernel flag is set. Pitfall: code that starts using torch.compile
    after this call should call `torch.use_deterministic_algorithms(True)` itself.
    """
    setter = getattr(torch._C, "_set_deterministic_algorithms", None)
    if setter is None or "torch._inductor.config" in sys.modules:
        torch.use_deterministic_algorithms(True)
    else:
        setter(True, warn_only=False)
