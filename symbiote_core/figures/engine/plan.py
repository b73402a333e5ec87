"""What a build would do, found without importing any figure: keys and cache status.

`plan` reads sources and the cache and imports nothing (the MkDocs process calls it on
every rebuild).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from symbiote_core.figures.engine import memo
from symbiote_core.figures.engine.cache import (
    META,
    OUT_FILES,
    CorruptEntryError,
    FigureEntry,
    entry_dir,
    read_data_entry,
    read_figure_entry,
    warn_corrupt,
)
from symbiote_core.figures.engine.deps import SourceCache
from symbiote_core.figures.engine.keys import figure_keys, library_versions, planned_keys
from symbiote_core.figures.engine.memo import Stats
from symbiote_core.figures.engine.registry import Engine, resolve_names
from symbiote_core.figures.engine.storage import storage_for

PlanStatus = Literal["cached", "stale", "data-cached"]


@dataclass(frozen=True)
class FigurePlan:
    """What `build` would do for one figure, found without importing it."""

    name: str
    key: str
    data_key: str
    status: PlanStatus
    """"cached": the out entry is valid; "data-cached": only render is needed;
    "stale": compute must run."""
    module_path: Path
    deps: tuple[Path, ...]
    problems: tuple[str, ...] = ()
    """Entries found on disk but rejected (corrupt); build removes and rebuilds them."""


def plan(engine: Engine, names: list[str] | None = None) -> list[FigurePlan]:
    """The status of each figure (all when `names` is None); imports no figure."""
    names = resolve_names(engine, names)
    sources, versions = SourceCache(engine), library_versions()
    return [inspect(engine, name, sources, versions)[0] for name in names]


def load_entry(engine: Engine, name: str) -> FigureEntry | None:
    """The verified entry for figure `name`'s current source, or None (not built, or corrupt)."""
    resolve_names(engine, [name])
    keys = figure_keys(engine, name)
    try:
        return read_figure_entry(engine, name, keys.key)
    except CorruptEntryError as error:
        warn_corrupt(error)
        return None


def inspect(
    engine: Engine,
    name: str,
    sources: SourceCache,
    versions: dict[str, str],
    report: set[str] | None = None,
) -> tuple[FigurePlan, FigureEntry | None]:
    """Keys and cache status of one figure; corrupt entries are added to `report`."""
    keys = planned_keys(engine, name, sources, versions)
    problems: list[CorruptEntryError] = []
    entry = None
    try:
        entry = _verified_entry(engine, name, keys.key, sources.stats)
    except CorruptEntryError as error:
        problems.append(error)
    status: PlanStatus = "cached"
    if entry is None:
        status = "stale"
        try:
            if read_data_entry(engine, name, keys.data_key) is not None:
                status = "data-cached"
        except CorruptEntryError as error:
            problems.append(error)
    if report is not None:
        report.update(str(error) for error in problems)
    figure_plan = FigurePlan(
        name=name,
        key=keys.key,
        data_key=keys.data_key,
        status=status,
        module_path=keys.module_path,
        deps=keys.deps,
        problems=tuple(str(error) for error in problems),
    )
    return figure_plan, entry


def _verified_entry(engine: Engine, name: str, key: str, stats: Stats) -> FigureEntry | None:
    """`read_figure_entry`, memoised on the signatures of the entry's files.

    An entry is written once and never changed in place, so a file whose signature
    moved is a damaged entry (or a replaced one): it is read and checked again.
    """
    if not storage_for(engine).local:
        # No stat signatures at a URL: every plan reads and verifies the entry.
        return read_figure_entry(engine, name, key)
    memo_key = (engine, name, key)
    entry = memo.ENTRIES.get(memo_key, stats)
    if entry is not None:
        return entry
    folder = Path(entry_dir(engine, "out", name, key))
    files = [folder, *(folder / file for file in (*OUT_FILES, META))]
    for path in files:
        stats(path)  # before reading: see memo.Stats
    entry = read_figure_entry(engine, name, key)
    if entry is not None:
        memo.ENTRIES.put(memo_key, entry, files, stats)
    return entry


def git_revision(root: Path) -> str:
    """`git rev-parse --short HEAD`, plus "-dirty" if the worktree has changes; "unknown"."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}-dirty" if status else head
