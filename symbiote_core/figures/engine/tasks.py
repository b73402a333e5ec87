"""What the client and a figure worker pass each other: the task, its outcome, events.

Kept apart from the pool and the worker so that both, and the Dask cluster, share these
types without importing one another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from symbiote_core.figures.engine.registry import Engine

Status = Literal["computed", "rendered", "cached", "failed"]


EventCallback = Callable[[str, str, dict[str, Any]], None]
"""`on_event(name, kind, info)`, called in the calling process as things happen. Kinds:
"cached" (info: seconds), "corrupt" (info: problem, naming the rejected entry's path),
"start" (info: retry, True when rerun alone after another worker crashed), "done"
(info: status "computed" | "rendered" | "cached", seconds), "failed" (info: error,
seconds)."""


@dataclass(frozen=True)
class Task:
    engine: Engine
    name: str
    force: bool
    git: str
    parent: int
    """pid of the process that started the worker: the worker dies with it."""
    pin_torch: bool = True
    """Import torch and pin it (threads, deterministic kernels, seeds, OpenBLAS products)
    before the figure runs; False only for a figure none of whose sources import torch
    (the worker refuses to store one that loaded it after all)."""
    expected_key: str | None = None
    """The key the client planned (Dask runs): a worker whose sources give another key
    fails the figure rather than write an entry nobody asked for."""


@dataclass(frozen=True)
class Outcome:
    name: str
    status: Status
    seconds: float
    key: str | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    log_path: Path | None = None
