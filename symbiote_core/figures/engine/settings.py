"""The project's figure settings, read in one place: `[tool.symbiote.figures]` in
`pyproject.toml` at the repository root.

    [tool.symbiote.figures]
    figures-package = "figures_src"                 # one module per figure
    project-packages = ["symbiote_core", "figures_src"]  # their source enters the keys
    cache = ".cache/figures"                        # a folder under the root, or a URL
    scheduler = "local"                             # or "local:N", "tcp://HOST:PORT"

Every key is optional. `SYMBIOTE_FIGURE_CACHE` and `SYMBIOTE_SCHEDULER` override the
table, and a command-line flag or an explicit `Engine(...)` argument overrides both.
The engine, the CLI, the MkDocs hooks and the methods page all ask this module; nobody
else writes a default.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

CACHE_ENV = "SYMBIOTE_FIGURE_CACHE"
SCHEDULER_ENV = "SYMBIOTE_SCHEDULER"
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
