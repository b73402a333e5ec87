"""The forkserver preload depends on private multiprocessing state: it must
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


def test_workers_fork_preloaded_by_default_and_spawn_when_told(monkeypatch) -> None:
    monkeypatch.delenv(pool.PRELOAD_ENV, raising=False)
    assert pool._preloads()
    monkeypatch.setenv(pool.PRELOAD_ENV, "0")
    assert not pool._preloads()


def test_by_default_a_python_without_the_internals_spawns(monkeypatch) -> None:
    # Unasked, the preload is only a speed-up: its absence must not stop a build.
    monkeypatch.delenv(pool.PRELOAD_ENV, raising=False)
    monkeypatch.setattr(forkserver, "_forkserver", types.SimpleNamespace(_stop=lambda: None))
    assert not pool._preloads()
    monkeypatch.setenv(pool.PRELOAD_ENV, "1")
    assert pool._preloads()  # asked for: `_pool` then fails naming the switch
