"""Issue 21: a scheduler address that is not a Dask scheduler ends the build at once.

An HTTP server on the port (the dashboard, 8787, is the likely slip) once kept a build
waiting for good; a closed port or a malformed address ended after a minute in a long
traceback. Each now ends the build with one line naming the address and what to check,
exit code 2, within the configured wait (2 s here; 20 s by default).
"""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.engine import FIXTURE

from symbiote_core.figures.engine.cluster import check_scheduler
from symbiote_core.figures.engine.registry import Engine
from symbiote_core.figures.engine.settings import SCHEDULER_TIMEOUT_ENV, Settings, SettingsError

pytest.importorskip("distributed")

LIMIT = 120  # a bound on the test, far above what the command needs


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    return root


@pytest.fixture
def http_port() -> Iterator[int]:
    """A plain HTTP server on a free port, as Dask's dashboard would be."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed when the socket is: nothing listens there


def build_on(project: Path, scheduler: str, *flags: str, timeout_env: str | None = None):
    env = dict(os.environ)
    env.pop(SCHEDULER_TIMEOUT_ENV, None)
    if timeout_env is not None:
        env[SCHEDULER_TIMEOUT_ENV] = timeout_env
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "symbiote_core.figures", "--root", str(project),
         "--figures-package", "figs", "--project-packages", "figs,lib",
         "--cache-dir", str(project / ".cache" / "figures"),
         "build", "alpha", "--scheduler", scheduler, *flags],
        env=env, capture_output=True, text=True, timeout=LIMIT)
    return result, time.monotonic() - started


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr  # no traceback
    assert "Traceback" not in result.stdout
    return lines[0]


def test_an_http_server_on_the_port_ends_the_build_within_the_wait(
    project: Path, http_port: int
) -> None:
    address = f"tcp://127.0.0.1:{http_port}"
    result, seconds = build_on(project, address, timeout_env="2")  # the variable sets the wait
    line = one_error_line(result)
    assert f"scheduler {address} did not answer as a Dask scheduler within 2 s" in line, line
    assert "8786" in line and "--scheduler-timeout" in line  # what to check
    assert seconds < 60, seconds  # the wait, plus starting Python and importing Dask
    assert not (project / "markers").exists(), "no figure ran"


def test_a_closed_port_ends_the_build_with_one_line(project: Path) -> None:
    address = f"tcp://127.0.0.1:{closed_port()}"
    result, _ = build_on(project, address, "--scheduler-timeout", "2")
    line = one_error_line(result)
    assert f"scheduler {address}: nothing listens on" in line and "connection refused" in line


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("tcp://127.0.0.1:notaport", "is malformed"),
        ("tcp://:8786", "is malformed: it names no host"),
        ("http://127.0.0.1:8787", "has an unknown protocol 'http'"),
    ],
)
def test_a_malformed_address_ends_the_build_with_one_line(
    project: Path, address: str, problem: str
) -> None:
    result, _ = build_on(project, address)
    line = one_error_line(result)
    assert f"scheduler address {address!r} {problem}" in line, line


def test_a_real_scheduler_passes_the_check_and_builds(project: Path) -> None:
    """The check must not stop a real cluster: its scheduler answers, the figure builds."""
    from distributed import LocalCluster

    from symbiote_core.figures.engine.build import build

    engine = Engine(root=project, figures_package="figs", project_packages=("figs", "lib"),
                    cache_dir=project / ".cache" / "figures", scheduler_timeout=10)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        check_scheduler(cluster.scheduler_address, 10.0)
        (result,) = build(engine, ["alpha"], scheduler=cluster.scheduler_address)
    assert result.status == "computed", result.error


def test_the_wait_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SCHEDULER_TIMEOUT_ENV, raising=False)
    assert Settings().scheduler_wait() == 20.0
    (tmp_path / "pyproject.toml").write_text(
        "[tool.symbiote.figures]\nscheduler-timeout = 5\n")
    assert Engine(root=tmp_path).scheduler_timeout == 5.0
    monkeypatch.setenv(SCHEDULER_TIMEOUT_ENV, "1.5")
    assert Engine(root=tmp_path).scheduler_timeout == 1.5
    assert Engine(root=tmp_path, scheduler_timeout=3).scheduler_timeout == 3.0
    for bad in ("0", "-1", "soon", "nan"):
        monkeypatch.setenv(SCHEDULER_TIMEOUT_ENV, bad)
        with pytest.raises(SettingsError, match="positive number of seconds"):
            Engine(root=tmp_path)
