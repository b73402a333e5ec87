"""Library tests: process state for torch code that is seeded or compared bit for bit.

`seeded`: every RNG seeded with 0, one thread, deterministic kernels (what
`make_deterministic(0)` sets), before each test of a module that asks for it with
`pytestmark = pytest.mark.usefixtures("seeded")`. `one_thread`: the same thread and
kernel state without reseeding, restored afterwards (trainers must leave it alone).
"""

from __future__ import annotations

import pytest


@pytest.fixture
def seeded() -> None:
    from symbiote_core.runtime import make_deterministic

    make_deterministic(0)


@pytest.fixture
def one_thread():
    """The process state the figures run with (one torch thread, deterministic kernels),
    restored afterwards. Trainers leave it to their caller, and bit-for-bit comparisons
    between batch shapes hold on one thread only."""
    import torch

    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
