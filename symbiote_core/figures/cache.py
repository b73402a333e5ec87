"""The figure cache on disk: layout, atomic writes, verified reads, locks, pruning.

Layout under `Engine.cache_dir`:

    data/<name>/<data_key>/   data.json, meta.json          what compute returned
    out/<name>/<key>/         spec.json, data.json, figure.svg, meta.json
    locks/<name>.lock         one lock per figure, held while it is built
    tmp/<name>.<level>.<id>/  entries being written (removed or renamed away)
    logs/<name>.log           stdout and stderr of the figure's last worker

An entry is written in full under `tmp/`, then renamed into place, so a reader sees
it whole or not at all. `meta.json` records the sha256 of every other file and is
written last. meta.json also carries `meta_sha256`, the sha256 of its own content
(canonical JSON without that field), because the values, claim verdicts and text that
pages show live only in it. A read checks every checksum, meta.json's own included,
and an entry that fails is reported and never served.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from filelock import FileLock

from symbiote_core.figures.registry import Engine
from symbiote_core.figures.spec import ClaimResult, Value

log = logging.getLogger("symbiote_core.figures")

Level = Literal["data", "out"]
DATA_FILES = ("data.json",)
OUT_FILES = ("spec.json", "data.json", "figure.svg")
META = "meta.json"
META_SUM = "meta_sha256"
"""The field of meta.json that holds the checksum of the rest of meta.json."""


class CorruptEntryError(Exception):
    """An entry whose files do not match its meta.json; it must not be served."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"corrupt figure cache entry {path}: {problem}")
        self.path = path
        self.problem = problem


def entry_dir(engine: Engine, level: Level, name: str, key: str) -> Path:
    return engine.cache_dir / level / name / key


def figure_lock(engine: Engine, name: str) -> FileLock:
    """The lock held while figure `name` is built, by any process on this machine."""
    path = engine.cache_dir / "locks" / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(path)


def log_path(engine: Engine, name: str) -> Path:
    return engine.cache_dir / "logs" / f"{name}.log"


def dumps(obj: Any, *, indent: int | None = None) -> bytes:
    """Strict, deterministic JSON: sorted keys, no NaN or infinity (browsers reject them)."""
    separators = (",", ":") if indent is None else (",", ": ")
    text = json.dumps(
        obj,
        sort_keys=True,
        allow_nan=False,
        ensure_ascii=False,
        indent=indent,
        separators=separators,
    )
    return text.encode()


def sha256(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def read_entry(
    path: Path, files: tuple[str, ...]
) -> tuple[dict[str, Any], dict[str, bytes]] | None:
    """`(meta, {file: bytes})` of a verified entry; None if absent; raises if corrupt."""
    if not path.is_dir():
        return None
    try:
        meta = json.loads((path / META).read_bytes())
    except FileNotFoundError:
        raise CorruptEntryError(path, "meta.json is missing") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptEntryError(path, f"meta.json does not parse ({exc})") from None
    if not isinstance(meta, dict):
        raise CorruptEntryError(path, "meta.json is not a JSON object")
    _check_meta_sum(path, meta)
    sums = meta.get("sha256")
    if not isinstance(sums, dict):
        raise CorruptEntryError(path, "meta.json has no sha256 table")
    payloads: dict[str, bytes] = {}
    for name in files:
        if name not in sums:
            raise CorruptEntryError(path, f"meta.json lists no checksum for {name}")
        try:
            payload = (path / name).read_bytes()
        except FileNotFoundError:
            raise CorruptEntryError(path, f"{name} is missing") from None
        if sha256(payload) != sums[name]:
            raise CorruptEntryError(path, f"{name} does not match its checksum")
        payloads[name] = payload
    return meta, payloads


def meta_checksum(meta: dict[str, Any]) -> str:
    """sha256 of `meta` without its own checksum field, as canonical JSON."""
    return sha256(dumps({k: v for k, v in meta.items() if k != META_SUM}))


def _check_meta_sum(path: Path, meta: dict[str, Any]) -> None:
    claimed = meta.get(META_SUM)
    if not isinstance(claimed, str):
        raise CorruptEntryError(path, f"meta.json has no {META_SUM} (its own checksum)")
    try:
        actual = meta_checksum(meta)
    except (TypeError, ValueError) as exc:  # e.g. a NaN that json.loads accepted
        raise CorruptEntryError(
            path, f"meta.json holds a value JSON cannot carry ({exc})"
        ) from None
    if actual != claimed:
        raise CorruptEntryError(path, "meta.json does not match its own checksum")


def write_entry(
    engine: Engine,
    level: Level,
    name: str,
    key: str,
    files: dict[str, bytes],
    meta: DataMeta | dict[str, Any],
    replace: bool = False,
) -> Path:
    """Write an entry atomically and return its folder.

    The files go into a fresh folder under `tmp/`, meta.json (with every checksum)
    last, and the folder is renamed into place. If the final folder already exists,
    another builder got there first: theirs is kept and ours discarded, unless
    `replace` (a forced rebuild, under the figure's lock) removes theirs first.
    """
    final = entry_dir(engine, level, name, key)
    tmp_root = engine.cache_dir / "tmp"
    tmp_root.mkdir(parents=True, exist_ok=True)
    tmp = tmp_root / f"{name}.{level}.{uuid.uuid4().hex}"
    tmp.mkdir()
    try:
        for filename, payload in files.items():
            (tmp / filename).write_bytes(payload)
        plain = meta.to_json() if isinstance(meta, DataMeta) else dict(meta)
        meta = {**plain, "sha256": {f: sha256(p) for f, p in files.items()}}
        meta[META_SUM] = meta_checksum(meta)
        (tmp / META).write_bytes(dumps(meta, indent=2))
        final.parent.mkdir(parents=True, exist_ok=True)
        if replace:
            remove_entry(final)
        try:
            os.rename(tmp, final)
        except OSError:
            if not final.is_dir():
                raise
            # Lost the race to another builder (only possible outside the lock): keep theirs.
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def remove_entry(path: Path) -> None:
    """Delete an entry folder; rename first so no reader sees it half-deleted."""
    if not path.exists():
        return
    doomed = path.parent / f".removing.{uuid.uuid4().hex}"
    try:
        os.rename(path, doomed)
    except OSError:
        doomed = path
    shutil.rmtree(doomed, ignore_errors=True)


def clear_temp(engine: Engine, name: str) -> None:
    """Remove `name`'s leftovers in tmp/ (from a killed worker). Call under its lock."""
    tmp_root = engine.cache_dir / "tmp"
    if tmp_root.is_dir():
        # Only this figure's levels: `tmp/` also holds artifacts being written
        # (`artifacts.py`), which may share a figure's name.
        for level in ("data", "out"):
            for leftover in tmp_root.glob(f"{name}.{level}.*"):
                shutil.rmtree(leftover, ignore_errors=True)


def prune(engine: Engine, level: Level, name: str, current: str) -> None:
    """Keep the newest `engine.keep` entries of `name` at `level` (always `current`)."""
    folder = engine.cache_dir / level / name
    if not folder.is_dir():
        return
    entries = [p for p in folder.iterdir() if p.is_dir() and p.name != current]
    entries.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
    for old in entries[max(engine.keep - 1, 0) :]:
        remove_entry(old)


# ------------------------------------------------------------------ the schema


@dataclass(frozen=True, kw_only=True)
class DataMeta(Mapping[str, Any]):
    """meta.json of a data entry: the one definition of its fields.

    The build writes it (`to_json`), `read_data_entry` checks a stored one against it
    (`from_json`: a missing, extra or mistyped field is a corrupt entry), and readers
    use its attributes. It is also a read-only mapping of its JSON form, so code that
    shows metadata as a mapping (the page fragments in `markup.py`) reads it as written.
    """

    name: str
    data_key: str
    module: str
    deps: tuple[str, ...]
    params: Mapping[str, Any]
    seeds: tuple[int, ...]
    versions: Mapping[str, str]
    git: str
    compute_seconds: float | None
    created: str
    engine_format: int
    sha256: Mapping[str, str] = field(default_factory=dict)
    """Checksum of every other file of the entry; filled in by `write_entry`."""
    meta_sha256: str = ""
    """Checksum of meta.json without this field; filled in by `write_entry`."""

    _ENVELOPE: ClassVar[tuple[str, ...]] = ("sha256", META_SUM)

    def to_json(self) -> dict[str, Any]:
        """The JSON object stored as meta.json (without the checksums until written)."""
        out = {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}
        for name in self._ENVELOPE:
            if not out[name]:
                del out[name]
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], path: Path) -> Self:
        """The schema of a stored meta.json; `CorruptEntryError` naming what is wrong."""
        names = {f.name: f for f in dataclasses.fields(cls)}
        missing = sorted(set(names) - set(raw))
        extra = sorted(set(raw) - set(names))
        if missing or extra:
            problem = ", ".join(
                [f"lacks {n!r}" for n in missing] + [f"has unknown field {n!r}" for n in extra]
            )
            raise CorruptEntryError(path, f"meta.json {problem}")
        kwargs = {}
        for name in names:
            value = raw[name]
            expected = _SCHEMA_TYPES.get(name)
            if expected is not None and not isinstance(value, expected):
                raise CorruptEntryError(
                    path, f"meta.json field {name!r} is a {type(value).__name__}"
                )
            kwargs[name] = tuple(value) if name in ("deps", "seeds", "claims") else value
        return cls(**kwargs)

    def __getitem__(self, key: str) -> Any:
        if key not in self._json:
            raise KeyError(key)
        return self._json[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._json)

    def __len__(self) -> int:
        return len(self._json)

    @functools.cached_property
    def _json(self) -> dict[str, Any]:
        return self.to_json()


@dataclass(frozen=True, kw_only=True)
class EntryMeta(DataMeta):
    """meta.json of a rendered entry (see `DataMeta`): also the figure's text, values,
    claim results (`ClaimResult.to_json()` each) and render provenance."""

    key: str
    title: str
    caption: str
    alt: str
    values: Mapping[str, Value]
    claims: tuple[Mapping[str, Any], ...]
    render_seconds: float
    data_reused: bool

    def claim_results(self) -> tuple[ClaimResult, ...]:
        return tuple(ClaimResult.from_json(claim) for claim in self.claims)


_SCHEMA_TYPES: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "key": str,
    "data_key": str,
    "module": str,
    "deps": list,
    "params": dict,
    "seeds": list,
    "versions": dict,
    "git": str,
    "compute_seconds": (int, float, type(None)),
    "render_seconds": (int, float),
    "created": str,
    "engine_format": int,
    "title": str,
    "caption": str,
    "alt": str,
    "values": dict,
    "claims": list,
    "data_reused": bool,
    "sha256": dict,
    META_SUM: str,
}
"""The JSON type each stored field must have."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class FigureEntry:
    """One verified, rendered figure, as read from the cache. Never holds torch objects.

    `meta` is meta.json, checked against its schema (`EntryMeta`); `spec` the
    Vega-Lite spec; `data` what compute returned. The accessors below read `meta`.
    """

    name: str
    path: Path
    """The entry folder `out/<name>/<key>/`."""
    meta: EntryMeta
    spec: dict[str, Any]
    data: Any

    @property
    def spec_path(self) -> Path:
        return self.path / "spec.json"

    @property
    def data_path(self) -> Path:
        return self.path / "data.json"

    @property
    def svg_path(self) -> Path:
        return self.path / "figure.svg"

    @property
    def meta_path(self) -> Path:
        return self.path / META

    def files(self) -> dict[str, Path]:
        """Every file of the entry by its name: figure.svg, spec.json, data.json, meta.json."""
        return {name: self.path / name for name in (*OUT_FILES, META)}

    def svg(self) -> str:
        return self.svg_path.read_text(encoding="utf-8")

    @property
    def key(self) -> str:
        return self.meta.key

    @property
    def data_key(self) -> str:
        return self.meta.data_key

    @property
    def title(self) -> str:
        return self.meta.title

    @property
    def caption(self) -> str:
        return self.meta.caption

    @property
    def alt(self) -> str:
        return self.meta.alt

    @property
    def params(self) -> Mapping[str, Any]:
        return self.meta.params

    @property
    def values(self) -> Mapping[str, Value]:
        return self.meta.values

    @property
    def claims(self) -> tuple[ClaimResult, ...]:
        return self.meta.claim_results()

    @property
    def claims_holding(self) -> tuple[int, int]:
        """(claims that hold, all claims)."""
        claims = self.claims
        return sum(c.holds for c in claims), len(claims)

    @property
    def failed_claims(self) -> tuple[ClaimResult, ...]:
        return tuple(c for c in self.claims if not c.holds)


def read_figure_entry(engine: Engine, name: str, key: str) -> FigureEntry | None:
    """The verified out entry `key` of `name`; None if absent; raises if corrupt."""
    path = entry_dir(engine, "out", name, key)
    found = read_entry(path, OUT_FILES)
    if found is None:
        return None
    raw, payloads = found
    try:
        spec = json.loads(payloads["spec.json"])
        data = json.loads(payloads["data.json"])
    except ValueError as exc:
        raise CorruptEntryError(path, f"a checksummed file does not parse ({exc})") from None
    meta = EntryMeta.from_json(raw, path)
    if meta.key != key:
        raise CorruptEntryError(path, f"meta.json names key {meta.key}, not its folder's")
    return FigureEntry(name=name, path=path, meta=meta, spec=spec, data=data)


@dataclass(frozen=True)
class DataEntry:
    """A verified data entry: what compute returned, as parsed JSON and as stored bytes."""

    path: Path
    meta: DataMeta
    data: Any
    raw: bytes


def read_data_entry(engine: Engine, name: str, data_key: str) -> DataEntry | None:
    """The verified data entry `data_key` of `name`; None if absent; raises if corrupt."""
    path = entry_dir(engine, "data", name, data_key)
    found = read_entry(path, DATA_FILES)
    if found is None:
        return None
    stored, payloads = found
    raw = payloads["data.json"]
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise CorruptEntryError(path, f"data.json does not parse ({exc})") from None
    meta = DataMeta.from_json(stored, path)
    if meta.data_key != data_key:
        raise CorruptEntryError(path, "meta.json names another data_key than its folder's")
    return DataEntry(path=path, meta=meta, data=data, raw=raw)


def clean(engine: Engine, names: list[str] | None = None) -> list[Path]:
    """Delete every cached entry, log and leftover of `names` (all cached names if None).

    Each figure is cleaned under its lock, so a build in progress is never cut in half.
    Cleaning everything (`names` None) drops the shared artifacts too (`artifacts.py`).
    Returns the folders removed.
    """
    removed = []
    if names is None:
        from symbiote_core.figures import artifacts  # it imports this module

        removed += artifacts.clean(engine)
        found: set[str] = set()
        for level in ("data", "out"):
            folder = engine.cache_dir / level
            if folder.is_dir():
                found.update(p.name for p in folder.iterdir() if p.name.isidentifier())
        names = sorted(found)
    for name in names:
        with figure_lock(engine, name):
            for level in ("data", "out"):
                folder = engine.cache_dir / level / name
                if folder.exists():
                    remove_entry(folder)
                    removed.append(folder)
            clear_temp(engine, name)
            log_path(engine, name).unlink(missing_ok=True)
    return removed


def warn_corrupt(error: CorruptEntryError | str) -> None:
    log.warning("%s; it will be removed and rebuilt", error)
