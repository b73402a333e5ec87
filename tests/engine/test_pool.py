"""The test-only forkserver preload depends on private multiprocessing state: it must
find it on this Python, and fail loudly, naming the switch, where it is missing."""

from __future__ import annotations

import types
from multiprocessing import forkserver

import pytest

from symbiote_core.figures.engine import pool


def test_this_python_has_the_forkserver_internals() -> None:
    assert pool._process_forkserver(forkserver) is forkserver._forkserver


@pytest.mark.parametrize("server", [None, types.SimpleNamespace(_stop=lambda: None)])
def test_a_python_without_them_fails_naming_the_switch(server: object) -> None:
    fake = types.SimpleNamespace(_forkserver=server)
    with pytest.raises(RuntimeError, match=pool.PRELOAD_ENV):
        pool._process_forkserver(fake)
