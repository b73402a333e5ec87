"""Reproducible CPU runs: one thread, deterministic kernels, explicit seeds.

Why one thread: on a 2-core machine with other processes busy, a 2-thread torch
step ran 20-30x slower than a 1-thread one, and changing the thread count changes
float32 results. Parallelism comes from separate processes instead.
"""

from __future__ import annotations

import random

import numpy as np
import torch


def make_deterministic(seed: int, threads: int = 1) -> torch.Generator:
    """Seed every RNG, pin the thread count, and turn on deterministic kernels.

    Returns a `torch.Generator` seeded with `seed`, for code that wants its own stream.
    """
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
