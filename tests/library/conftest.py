"""Library tests: process state for torch code that is seeded or compared bit for bit.

`seeded`: every RNG seeded with 0, one thread, deterministic kernels (what
`make_deterministic(0)` sets), before each test of a module that asks for it with
`pytestmark = pytest.mark.usefixtures("seeded")`. `one_thread` (the same thread and
kernel state without reseeding) is in the root conftest: the essay layer uses it too.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def seeded() -> None:
    from symbiote_core.runtime import make_deterministic

    make_deterministic(0)
