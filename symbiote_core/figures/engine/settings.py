"""The project's figure settings, read in one place: `[tool.symbiote.figures]` in
`pyproject.toml` at the repository root.

    [tool.symbiote.figures]
    figures-package = "figures_src"                 # one module per figure
    project-packages = ["symbiote_core", "figures_src"]  # their source enters the keys
    cache = ".cache/figures"                        # a folder under the root, or a URL
    scheduler = "local"                             # or "local:N", "tcp://HOST:PORT"
    scheduler-timeout = 20                          # seconds a scheduler has to answer

Every key is optional. `SYMBIOTE_FIGURE_CACHE`, `SYMBIOTE_SCHEDULER` and
`SYMBIOTE_SCHEDULER_TIMEOUT` override the table, and a command-line flag or an explicit
`Engine(...)` argument overrides both.
The engine, the CLI, the MkDocs hooks and the methods page all ask this module; nobody
else writes a default.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

CACHE_ENV = "SYMBIOTE_FIGURE_CACHE"
SCHEDULER_ENV = "SYMBIOTE_SCHEDULER"
SCHEDULER_TIMEOUT_ENV = "SYMBIOTE_SCHEDULER_TIMEOUT"
PROCESS_LOCAL = frozenset({"memory"})
"""fsspec protocols whose files live inside one process (every other process sees an
empty store)."""
TABLE = ("tool", "symbiote", "figures")


class SettingsError(ValueError):
    """A `[tool.symbiote.figures]` table that cannot be used as it stands."""


@dataclass(frozen=True)
class Settings:
    """The table's values, with the defaults a project without the table gets."""

    figures_package: str = "figures_src"
    project_packages: tuple[str, ...] = ("symbiote_core", "figures_src")
    cache: str = ".cache/figures"
    """A folder (relative to the root) or an fsspec URL."""
    scheduler: str = "local"
    scheduler_timeout: float = 20.0
    """Seconds a scheduler address has to answer as a Dask scheduler (`cluster.py`)."""

    @classmethod
    def load(cls, root: Path) -> Settings:
        """The settings of the project at `root` (the defaults where it has no table)."""
        path = Path(root) / "pyproject.toml"
        try:
            with path.open("rb") as stream:
                document = tomllib.load(stream)
        except FileNotFoundError:
            return cls()
        except tomllib.TOMLDecodeError as error:
            raise SettingsError(f"{path}: {error}") from error
        table: Any = document
        for part in TABLE:
            table = table.get(part, {}) if isinstance(table, dict) else {}
        return cls.from_table(table, f"{path} [{'.'.join(TABLE)}]")

    @classmethod
    def from_table(cls, table: dict[str, Any], where: str = "settings") -> Settings:
        known = {field.name.replace("_", "-"): field.name for field in fields(cls)}
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise SettingsError(
                f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        values: dict[str, Any] = {}
        for key, value in table.items():
            name = known[key]
            if name == "project_packages":
                if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                    raise SettingsError(f"{where}: {key} must be a list of package names")
                value = tuple(value)
            elif name == "scheduler_timeout":
                value = parse_timeout(value, f"{where}: {key}")
            elif not isinstance(value, str) or not value:
                raise SettingsError(f"{where}: {key} must be a non-empty string")
            values[name] = value
        return cls(**values)

    def cache_location(self) -> str:
        """`$SYMBIOTE_FIGURE_CACHE` when set, else the table's `cache` (unresolved)."""
        return os.environ.get(CACHE_ENV) or self.cache

    def scheduler_address(self) -> str:
        """`$SYMBIOTE_SCHEDULER` when set, else the table's `scheduler`."""
        return os.environ.get(SCHEDULER_ENV) or self.scheduler

    def scheduler_wait(self) -> float:
        """`$SYMBIOTE_SCHEDULER_TIMEOUT` when set, else the table's `scheduler-timeout`."""
        text = os.environ.get(SCHEDULER_TIMEOUT_ENV)
        if text:
            return parse_timeout(text, f"${SCHEDULER_TIMEOUT_ENV}")
        return self.scheduler_timeout


def parse_timeout(value: Any, where: str) -> float:
    """A positive, finite number of seconds (a number, or its text)."""
    try:
        seconds = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise SettingsError(f"{where} must be a positive number of seconds, got {value!r}")
    return seconds


def is_url(location: str | os.PathLike[str]) -> bool:
    """Whether a cache location is an fsspec URL (`file:///x`, `s3://b/p`, `memory://x`)."""
    return isinstance(location, str) and "://" in location


def resolve_cache(location: str | os.PathLike[str], root: Path) -> Path | str:
    """A cache location as the engine holds it: a URL stays a URL (without a trailing
    slash); a folder becomes absolute, relative to `root`. The one parser for the flag,
    the variable and the table alike."""
    if is_url(location):
        return str(location).rstrip("/")
    path = Path(location).expanduser()
    return (path if path.is_absolute() else Path(root) / path).resolve()


def url_protocol(location: str | os.PathLike[str]) -> str | None:
    """The protocol of a URL location (`s3` of `s3://b/p`), None for a folder."""
    return str(location).split("://", 1)[0].lower() if is_url(location) else None


def process_local_reason(location: str | os.PathLike[str]) -> str | None:
    """Why figures cannot be built into `location` (None when they can).

    A `memory://` store lives inside one process, and every figure is built in a
    separate worker process (a fresh interpreter per figure, for determinism; a
    Dask task also starts one), so no entry a worker wrote would ever be seen: the
    build could only fail as "its worker wrote no entry". Refused up front instead.
    """
    if url_protocol(location) not in PROCESS_LOCAL:
        return None
    return (
        f"figure cache {location} is fsspec's in-memory store: it lives inside one process "
        "and is empty in every other, but each figure is built in its own worker process "
        "(a fresh interpreter per figure), so no figure could ever be stored there; use a "
        "folder or a URL every process reaches (file:///path, s3://bucket/path)"
    )
