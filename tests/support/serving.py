"""Helpers for the tests that run `mkdocs serve`: a free port, a fetch that tolerates a
server not yet (or no longer) answering, and a bounded wait."""

from __future__ import annotations

import socket
import time
import urllib.request
from collections.abc import Callable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str | None:
    """The page's text, or None while the server does not answer."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()
    except OSError:
        return None


def wait_for(condition: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout  # a limit on waiting, not an assertion on speed
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")
