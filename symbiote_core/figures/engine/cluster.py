"""Figure jobs on a Dask cluster instead of the local process pool.

Chosen by `build(..., scheduler=...)`, `figures build --scheduler`, or
`$SYMBIOTE_SCHEDULER`:

    local            the local process pool (the default)
    local:N          a Dask `LocalCluster` of N worker processes on this machine
    tcp://HOST:PORT  an existing Dask scheduler (any address `distributed.Client` takes)

Why Dask distributed rather than Ray: it is pure Python and installs from PyPI in
seconds with no native runtime, and a `LocalCluster` of real worker processes runs in
a test exactly as a remote cluster does; Ray brings a large native runtime (its own
object store and raylet) for scheduling we do not need: figures are coarse,
independent jobs.

Determinism: the local pool gives every figure a fresh interpreter started with
`worker.WORKER_ENV` (PYTHONHASHSEED=0, one BLAS/OpenMP thread), which then pins torch
to one thread and deterministic kernels. A Dask worker is a long-lived process whose
hash seed was fixed when it started, and which would carry one figure's imports and
RNG state into the next. So a Dask task does not build the figure in the worker: it
runs `worker.work` in a fresh subprocess on the worker's machine, started with
`WORKER_ENV` (`run_isolated`), which checks that environment as a local worker does.
The figure sees exactly the process state of a local build, on whichever machine.

What a cluster needs: every worker sees the project checkout at the same path as the
client (`Engine.root`: a shared file system or an identical image), with the same
packages installed, and a cache that both see: a shared folder, or an fsspec URL
(`storage.py`). The worker recomputes each figure's keys from the sources it sees and
fails the figure if they differ from the client's, so a worker with other sources can
never write an entry under the client's key.
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from symbiote_core.figures.engine.registry import FigureError
from symbiote_core.figures.engine.settings import SCHEDULER_ENV, SCHEDULER_TIMEOUT_ENV

if TYPE_CHECKING:
    from symbiote_core.figures.engine.registry import Engine
    from symbiote_core.figures.engine.tasks import EventCallback, Outcome, Task

LOCAL = "local"


def resolve_scheduler(scheduler: str | None, default: str | None = None) -> str:
    """The scheduler to use: the argument, else `default` (the engine's: the variable,
    else the project's settings), else `$SYMBIOTE_SCHEDULER`, else "local". A value
    that is none of the three shapes, or an address that does not parse, fails here."""
    chosen = scheduler or default or os.environ.get(SCHEDULER_ENV) or LOCAL
    chosen = chosen.strip()
    if "://" in chosen:
        _parse_address(chosen)
        return chosen
    if chosen == LOCAL:
        return chosen
    if chosen.startswith("local:"):
        count = chosen.partition(":")[2]
        if count.isdigit() and int(count) >= 1:
            return chosen
    raise FigureError(
        f"scheduler {chosen!r} is not one of: 'local' (the process pool), 'local:N' (a Dask "
        "cluster of N worker processes here), or a Dask scheduler address such as "
        "tcp://host:8786 (from --scheduler or $" + SCHEDULER_ENV + ")"
    )


_PROTOCOLS = ("tcp", "tls", "ws", "wss", "inproc", "ucx")
"""Dask's address schemes (`distributed.comm.registry.backends`)."""
_NETWORK = ("tcp", "tls", "ws", "wss")
DASK_PORT, DASHBOARD_PORT = 8786, 8787
_CHECK = (
    "check the address and port (a Dask scheduler listens on 8786 by default; its "
    "dashboard, 8787, speaks HTTP), or give it longer with --scheduler-timeout, "
    f"${SCHEDULER_TIMEOUT_ENV} or scheduler-timeout in [tool.symbiote.figures]"
)


def _parse_address(address: str) -> tuple[str, str | None, int | None]:
    """(protocol, host, port) of a scheduler address; `FigureError` if it is malformed."""
    protocol, _, rest = address.partition("://")
    if protocol not in _PROTOCOLS:
        raise FigureError(
            f"scheduler address {address!r} has an unknown protocol {protocol!r} (Dask's "
            f"are {', '.join(_PROTOCOLS)}); a scheduler address looks like tcp://HOST:8786"
        )
    if protocol not in _NETWORK:
        return protocol, None, None
    try:
        parts = urlsplit(f"//{rest}")
        host, port = parts.hostname, parts.port
    except ValueError as error:
        host, port, problem = None, None, str(error)
    else:
        problem = "it names no host" if not host else ("it names no port" if not port else "")
        if parts.path or parts.query or parts.fragment or parts.username:
            problem = f"{rest!r} is not HOST:PORT"
    if problem:
        raise FigureError(
            f"scheduler address {address!r} is malformed: {problem}; a scheduler address "
            f"looks like {protocol}://HOST:{DASK_PORT}"
        )
    return protocol, host, port


def check_scheduler(address: str, timeout: float) -> None:
    """Return once `address` answers Dask's `identity` request as a scheduler; else
    raise `FigureError` with one line naming the address and what to check.

    Bounded by `timeout` seconds in all: distributed's own `Client(timeout=...)` does
    not stop a connection to a server that accepts it and never speaks Dask (an HTTP
    server on the port keeps the handshake waiting for good), and retries a refused
    connection until its timeout, then raises a long traceback.
    """
    _, host, port = _parse_address(address)
    deadline = time.monotonic() + timeout
    if host is not None and port is not None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                pass
        except socket.gaierror as error:
            raise FigureError(
                f"scheduler {address}: host {host!r} does not resolve ({error.strerror}); "
                "check the host name"
            ) from None
        except ConnectionRefusedError:
            raise FigureError(
                f"scheduler {address}: nothing listens on {host}:{port} (connection "
                "refused); is the scheduler running (`dask scheduler`), and is this its "
                f"address? {_CHECK}"
            ) from None
        except TimeoutError:
            raise FigureError(
                f"scheduler {address}: no connection to {host}:{port} within {timeout:g} s "
                f"(unreachable: check the host, the network and any firewall); {_CHECK}"
            ) from None
        except OSError as error:
            raise FigureError(
                f"scheduler {address}: cannot connect to {host}:{port} ({error}); {_CHECK}"
            ) from None
    reply = _identity(address, max(deadline - time.monotonic(), 0.1))
    if isinstance(reply, BaseException):
        what = (
            f"did not answer as a Dask scheduler within {timeout:g} s"
            if isinstance(reply, TimeoutError)
            else f"does not answer as a Dask scheduler ({type(reply).__name__}: {reply})"
        )
        raise FigureError(f"scheduler {address} {what}; {_CHECK}".replace("\n", " "))
    kind = reply.get("type") if isinstance(reply, dict) else None
    if kind != "Scheduler":
        raise FigureError(
            f"scheduler {address} answered as a Dask {kind or 'server of an unknown kind'}, "
            "not a scheduler; give the scheduler's address (dask scheduler prints it)"
        )


def _identity(address: str, timeout: float) -> Any:
    """The reply to Dask's `identity` request, or the exception that stopped it (a
    `TimeoutError` after `timeout` s). Runs its own event loop in a daemon thread, so
    it works whether or not the caller's thread runs one, and cannot outlive its bound."""
    import asyncio

    from distributed.comm import connect

    async def ask() -> Any:
        comm = await connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(asyncio.run(asyncio.wait_for(ask(), timeout)))
        except BaseException as error:  # returned, not raised: the caller words it
            outcome.append(error)

    thread = threading.Thread(target=run, name="dask-scheduler-check", daemon=True)
    thread.start()
    thread.join(timeout + 1.0)
    return outcome[0] if outcome else TimeoutError()


def run_on_dask(
    engine: Engine,
    names: list[str],
    force: bool,
    jobs: int | None,
    git: str,
    scheduler: str,
    emit: EventCallback,
    finish: Callable[[Outcome], None],
    expected: dict[str, str],
) -> None:
    """Build `names` as Dask tasks; `finish` is called in this process as each ends.

    At most `jobs` figures (default: the cluster's worker threads) are submitted at a
    time, so "start" means a worker took it. `expected` maps each name to the key the
    client planned: a worker whose sources give another key fails the figure.
    """
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as error:
        raise FigureError(
            f"scheduler {scheduler!r} needs Dask distributed: pip install -e '.[cluster]' ({error})"
        ) from None
    from symbiote_core.figures.engine.tasks import Outcome, Task

    with ExitStack() as stack:
        if scheduler.startswith("local:"):
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=int(scheduler.partition(":")[2]),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=40,
                )
            )
            client = stack.enter_context(Client(cluster, set_as_default=False))
        else:
            check_scheduler(scheduler, engine.scheduler_timeout)
            try:
                client = stack.enter_context(
                    Client(scheduler, set_as_default=False, timeout=engine.scheduler_timeout)
                )
            except Exception as error:  # it answered a moment ago: say so in one line
                raise FigureError(
                    f"scheduler {scheduler}: the Dask client could not connect "
                    f"({type(error).__name__}: {error}); {_CHECK}"
                ) from None
        slots = max(1, jobs or sum(client.nthreads().values()) or 1)
        pending = list(names)
        names_of: dict[Any, str] = {}

        def submit() -> list[Any]:
            submitted = []
            while pending and len(names_of) < slots:
                name = pending.pop(0)
                task = Task(engine, name, force, git, parent=0, expected_key=expected.get(name))
                # pure=False: a figure is a job with effects (it writes the cache), not
                # a value Dask may deduplicate or keep.
                future = client.submit(run_isolated, task, pure=False, key=f"figure-{name}")
                names_of[future] = name
                submitted.append(future)
                emit(name, "start", {"retry": False})
            return submitted

        running = as_completed(submit(), loop=client.loop)
        for future in running:
            name = names_of.pop(future)
            try:
                outcome = future.result()
            except Exception:
                error = (
                    f"figure {name!r}: its Dask task could not run (a worker died or left "
                    f"the cluster)\n{traceback.format_exc()}"
                )
                outcome = Outcome(name, "failed", 0.0, error=error)
            finish(outcome)
            running.update(submit())


def run_isolated(task: Task) -> Outcome:
    """Run `worker.work(task)` in a fresh interpreter started with `WORKER_ENV`.

    Runs on a Dask worker (any machine). The task and its outcome travel by pickle
    files; the child's stdout and stderr go to the figure's log as in a local worker.
    A child that dies without a Python error (killed, out of memory) is reported like
    a local worker that did.
    """
    from symbiote_core.figures.engine.tasks import Outcome
    from symbiote_core.figures.engine.worker import WORKER_ENV, died_message

    host = socket.gethostname()
    task = dataclasses.replace(task, parent=os.getpid())
    if not task.engine.root.is_dir():
        error = (
            f"figure {task.name!r}: the Dask worker on {host} has no project checkout at "
            f"{task.engine.root}; every worker must see the client's checkout at the same path"
        )
        return Outcome(task.name, "failed", 0.0, error=error)
    env = {**os.environ, **WORKER_ENV}
    with tempfile.TemporaryDirectory(prefix="symbiote-figure-") as folder:
        given, returned = Path(folder) / "task.pickle", Path(folder) / "outcome.pickle"
        given.write_bytes(pickle.dumps(task))
        code = "from symbiote_core.figures.engine.cluster import _child_main; _child_main()"
        child = subprocess.run(
            [sys.executable, "-c", code, str(given), str(returned)],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
        )
        if child.returncode == 0 and returned.is_file():
            outcome: Outcome = pickle.loads(returned.read_bytes())
            return outcome
    detail = (child.stderr or b"").decode("utf-8", "replace").strip()[-4000:]
    error = f"{died_message(task.engine, task.name)} (on {host}, exit status {child.returncode})"
    if detail:
        error += f"\n--- its stderr ---\n{detail}"
    return Outcome(task.name, "failed", 0.0, error=error)


def _child_main() -> None:
    """Entry point of the subprocess `run_isolated` starts."""
    from symbiote_core.figures.engine.worker import work

    given, returned = Path(sys.argv[1]), Path(sys.argv[2])
    task = pickle.loads(given.read_bytes())
    outcome = work(task)
    returned.write_bytes(pickle.dumps(outcome))
