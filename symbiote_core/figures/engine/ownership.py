"""Which folder is a figure cache, and what in it this engine wrote: the marker and `clean`.

A cache location is a folder or a URL that anyone can type (`--cache-dir .`, a shared
folder in `$SYMBIOTE_FIGURE_CACHE`), so nothing is deleted, and nothing written, on the
strength of a path alone:

- A figure cache holds a marker, `symbiote-figure-cache.json`, written when the engine
  first builds into the location (`claim_cache`, called by `build` before anything is
  written). Caches made before the marker existed have none: a location without it is
  taken as a figure cache when one of its entries verifies (meta.json parses, every
  checksum matches, its name and key are its folder's), and the marker is written then.
  A location that is empty (or holds only the engine's empty folders and lock files)
  is a new cache. Anything else is refused (`NotAFigureCacheError`, naming what it
  holds): nothing is built into it or cleaned out of it.
- `clean` deletes, inside a figure cache, only what the engine writes: entry folders
  (`data|out|artifacts/<name>/<key>/`) whose meta.json verifies, or that hold nothing
  but an entry's own file names under a key-shaped name (an entry damaged or abandoned
  mid-write), `tmp/<name>.<level>.<id>` leftovers and `logs/<name>.log`. Every other
  file or folder, beside the cache's folders or inside them (inside an entry too), is
  left where it is and named in the result.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from symbiote_core.figures.engine import artifacts
from symbiote_core.figures.engine.cache import (
    DATA_FILES,
    META,
    OUT_FILES,
    CorruptEntryError,
    Level,
    Location,
    clear_temp,
    figure_lock,
    log_path,
    read_data_entry,
    read_figure_entry,
)
from symbiote_core.figures.engine.registry import Engine, FigureError
from symbiote_core.figures.engine.settings import process_local_reason
from symbiote_core.figures.engine.storage import Storage, storage_for

MARKER = "symbiote-figure-cache.json"
MARKER_KIND = "symbiote_core.figures cache"
MARKER_BYTES = (
    json.dumps(
        {
            "kind": MARKER_KIND,
            "format": 1,
            "note": "written by `python -m symbiote_core.figures` when it first built into "
            "this location; `figures clean` deletes only the entries it verifies in a "
            "folder holding this file",
        },
        indent=2,
        sort_keys=True,
    )
    + "\n"
).encode()
LEVELS: dict[Level, tuple[str, ...]] = {
    "data": DATA_FILES,
    "out": OUT_FILES,
    "artifacts": artifacts.FILES,
}
"""Each entry level and the files an entry of it holds (besides meta.json)."""
LAYOUT = (*LEVELS, "locks", "tmp", "logs")
"""The folders the engine makes at a cache root."""
_KEY = re.compile(r"[0-9a-f]{64}")
_HEX = r"[0-9a-f]{32}"
_WRITING = re.compile(rf"\..+\.tmp-{_HEX}")
"""A file an fsspec writer had not yet renamed into place (`FsspecStorage.write_atomic`)."""
_REMOVING = re.compile(rf"\.removing\.{_HEX}")
"""A folder `storage.remove_local` renamed away but did not finish deleting."""
_TEMP = re.compile(rf"[A-Za-z_][A-Za-z0-9_]*\.(?:{'|'.join(LEVELS)})\.{_HEX}")
"""An entry being written in a local cache's tmp/ (`LocalStorage.commit_folder`)."""


class NotAFigureCacheError(FigureError):
    """A cache location that holds other things than a figure cache."""


@dataclass
class Cleaned:
    """What `clean` deleted, and what it found but did not write, so left alone."""

    removed: list[Location] = field(default_factory=list)
    left: list[Location] = field(default_factory=list)


def claim_cache(engine: Engine) -> None:
    """Refuse a location figures cannot be built into, else make sure it is marked.

    Called before a build writes anything: a process-local URL (`memory://`), or a
    folder that is neither empty nor a figure cache, stops the build with the reason.
    """
    reason = process_local_reason(engine.cache_dir)
    if reason is not None:
        raise FigureError(reason)
    _check(engine, storage_for(engine), mark_empty=True)


def clean(engine: Engine, names: list[str] | None = None) -> Cleaned:
    """Delete the cached entries, leftovers and logs of `names` (all figures and the
    shared artifacts when None), each figure under its lock; the module docstring says
    what counts as the engine's. A location that is not a figure cache is refused."""
    reason = process_local_reason(engine.cache_dir)
    if reason is not None:
        raise FigureError(reason)
    store = storage_for(engine)
    result = Cleaned()
    if not _check(engine, store, mark_empty=False):
        return result  # nothing there: nothing to clean
    figures = names if names is not None else _cached_names(store)
    levels = list(LEVELS) if names is None else ["data", "out"]
    for level in levels:
        for name in store.listdir(level):
            folder = f"{level}/{name}"
            if names is not None and name not in names:
                continue
            if not (name.isidentifier() and store.isdir(folder)):
                result.left.append(store.location(folder))
                continue
            with _lock(engine, store, level, name):
                _clean_folder(engine, store, level, name, result)
    for name in figures:
        with figure_lock(engine, name):
            clear_temp(engine, name)
            log_path(engine, name).unlink(missing_ok=True)
    if names is None:
        _left_at_root(store, result)
    return result


# ------------------------------------------------------------------ the marker


def marked(store: Storage) -> bool:
    """Whether the location holds this engine's marker."""
    try:
        found = json.loads(store.read_bytes(MARKER))
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        return False
    return isinstance(found, dict) and found.get("kind") == MARKER_KIND


def _check(engine: Engine, store: Storage, mark_empty: bool) -> bool:
    """True when the location is a figure cache (marked now), False when it is empty
    (marked if `mark_empty`); raises `NotAFigureCacheError` otherwise."""
    if marked(store):
        return True
    if store.exists("") and not store.isdir(""):
        raise NotAFigureCacheError(
            f"{store.location('')} is a file, not a figure cache folder; point --cache-dir "
            "or $SYMBIOTE_FIGURE_CACHE at a folder"
        )
    if _empty(store):
        if mark_empty:
            _mark(store)
        return False
    if _any_verified(engine, store):
        _mark(store)  # a cache from before the marker: its entries prove it
        return True
    first = _first_files(store, 4)
    shown = ", ".join(str(store.location(rel)) for rel in first[:3]) + (
        ", ..." if len(first) > 3 else ""
    )
    raise NotAFigureCacheError(
        f"{store.location('')} is not a figure cache: it holds other files ({shown}), "
        f"no {MARKER} and no entry that verifies, so nothing is built into it or deleted "
        "from it; point --cache-dir or $SYMBIOTE_FIGURE_CACHE at the figure cache "
        "(default .cache/figures) or at a new or empty folder"
    )


def _mark(store: Storage) -> None:
    # A read-only cache stays unmarked: its verified entries are still served.
    with contextlib.suppress(OSError):
        store.write_atomic(MARKER, MARKER_BYTES)


def _empty(store: Storage) -> bool:
    """Nothing there but the engine's empty folders and lock files."""
    return next(iter(_first_files(store, 1)), None) is None


def _first_files(store: Storage, limit: int) -> list[str]:
    """Up to `limit` files under the location that are not lock files under locks/."""
    found: list[str] = []
    for rel in _walk(store, ""):
        if not (rel.startswith("locks/") and rel.endswith(".lock")):
            found.append(rel)
            if len(found) >= limit:
                break
    return found


def _walk(store: Storage, rel: str) -> Iterator[str]:
    """Every file under folder `rel`, depth first, in name order."""
    for child in store.listdir(rel):
        path = f"{rel}/{child}" if rel else child
        if store.isdir(path):
            yield from _walk(store, path)
        else:
            yield path


def _any_verified(engine: Engine, store: Storage) -> bool:
    for level in LEVELS:
        for name in store.listdir(level):
            if not name.isidentifier():
                continue
            for key in store.listdir(f"{level}/{name}"):
                if _verify(engine, store, level, name, key) is True:
                    return True
    return False


# ------------------------------------------------------------------ entries


def _verify(engine: Engine, store: Storage, level: Level, name: str, key: str) -> bool | None:
    """True: a whole entry of `name` under its own key; False: damaged; None: absent
    or not committed."""
    try:
        if level == "out":
            entry = read_figure_entry(engine, name, key)
            return None if entry is None else entry.meta.name == name
        if level == "data":
            data = read_data_entry(engine, name, key)
            return None if data is None else data.meta.name == name
        found = artifacts.read_artifact(store, f"{level}/{name}/{key}")
        return None if found is None else True
    except CorruptEntryError:
        return False
    except OSError:
        return False


def _own_files(level: Level, files: list[str]) -> bool:
    known = {*LEVELS[level], META}
    return all(f in known or _WRITING.fullmatch(f) for f in files)


def _clean_folder(engine: Engine, store: Storage, level: Level, name: str, result: Cleaned) -> None:
    """Remove the engine's entries under `<level>/<name>/`; name everything else."""
    folder = f"{level}/{name}"
    for key in store.listdir(folder):
        rel = f"{folder}/{key}"
        if _REMOVING.fullmatch(key) and store.isdir(rel):
            store.remove(rel)  # a delete that was cut short
            continue
        if not store.isdir(rel):
            result.left.append(store.location(rel))
            continue
        files = store.listdir(rel)
        verified = _verify(engine, store, level, name, key)
        if verified is not True and not (_KEY.fullmatch(key) and _own_files(level, files)):
            result.left.append(store.location(rel))  # not provably an entry: kept whole
            continue
        if _own_files(level, files):
            store.remove(rel)
            result.removed.append(store.location(rel))
            continue
        # A verified entry with someone's files inside: the marker goes first (readers
        # then see no entry), then the entry's own files; the rest stays.
        for own in [META, *(f for f in files if f != META and _own_files(level, [f]))]:
            store.remove(f"{rel}/{own}")
        result.removed.append(store.location(rel))
        result.left += [store.location(f"{rel}/{f}") for f in store.listdir(rel)]
    if not store.listdir(folder):
        store.remove(folder)


def _lock(
    engine: Engine, store: Storage, level: Level, name: str
) -> AbstractContextManager[Any]:
    if level == "artifacts":
        return artifacts.artifact_lock(store, name)
    return figure_lock(engine, name)


def _cached_names(store: Storage) -> list[str]:
    """Figures with entries, a leftover in tmp/ or a log (logs are local, see
    `Storage.log_dir`)."""
    names = {n for level in ("data", "out") for n in store.listdir(level)}
    names |= {n.split(".", 1)[0] for n in store.listdir("tmp") if _TEMP.fullmatch(n)}
    names |= {log.stem for log in store.log_dir.glob("*.log")}
    return sorted(n for n in names if n.isidentifier())


def _left_at_root(store: Storage, result: Cleaned) -> None:
    """Name what is at the root or in tmp/ and logs/ that the engine did not write."""
    for child in store.listdir(""):
        if child not in (*LAYOUT, MARKER) and not _WRITING.fullmatch(child):
            result.left.append(store.location(child))
    for child in store.listdir("tmp"):
        result.left.append(store.location(f"tmp/{child}"))  # clear_temp took its own
    for child in store.listdir("logs"):
        result.left.append(store.location(f"logs/{child}"))
    for rel in _walk(store, "locks"):
        if not rel.endswith(".lock"):
            result.left.append(store.location(rel))
