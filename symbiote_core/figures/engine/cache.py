"""The figure cache: layout, atomic writes, verified reads, locks, pruning.

Layout under `Engine.cache_dir` (a local folder, or an fsspec URL: see `storage.py`):

    data/<name>/<data_key>/   data.json, meta.json          what compute returned
    out/<name>/<key>/         spec.json, data.json, figure.svg, meta.json
    locks/<name>.lock         one lock per figure, held while it is built
    tmp/<name>.<level>.<id>/  entries being written (removed or renamed away)
    logs/<name>.log           stdout and stderr of the figure's last worker
    symbiote-figure-cache.json  the marker: this location is a figure cache (`ownership.py`)

(For a URL cache, locks/ and logs/ are local to each machine, and there is no tmp/.)
What `figures clean` may delete, and which locations a build may write into, is
decided in `ownership.py`.

An entry is committed whole: in a local folder it is written under `tmp/` and renamed
into place; at a URL its files are written first and meta.json last, and a folder
without meta.json is an entry still being written, which readers treat as absent
(`storage.FsspecStorage`). `meta.json` records the sha256 of every other file and is
written last. meta.json also carries `meta_sha256`, the sha256 of its own content
(canonical JSON without that field), because the values, claim verdicts and text that
pages show live only in it. A read checks every checksum, meta.json's own included,
and an entry that fails is reported and never served.

All I/O goes through `storage.storage_for(engine)`.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from symbiote_core.figures.authoring.spec import ClaimResult, Quantity
from symbiote_core.figures.engine.registry import Engine
from symbiote_core.figures.engine.storage import LocalStorage, Storage, remove_local, storage_for

log = logging.getLogger("symbiote_core.figures")

Level = Literal["data", "out", "artifacts"]
DATA_FILES = ("data.json",)
OUT_FILES = ("spec.json", "data.json", "figure.svg")
META = "meta.json"
META_SUM = "meta_sha256"
"""The field of meta.json that holds the checksum of the rest of meta.json."""

Location = Path | str
"""Where an entry is: a local Path, or a URL for a cache at an fsspec URL."""


class CorruptEntryError(Exception):
    """An entry whose files do not match its meta.json; it must not be served."""

    def __init__(self, path: Location, problem: str, rel: str | None = None) -> None:
        super().__init__(f"corrupt figure cache entry {path}: {problem}")
        self.path = path
        self.rel = rel
        """The entry's path relative to its cache root, when read through a storage."""


def _rel(level: Level, name: str, key: str) -> str:
    return f"{level}/{name}/{key}"


def entry_dir(engine: Engine, level: Level, name: str, key: str) -> Location:
    """Where entry `key` of `name` is (a Path for a local cache, else a URL)."""
    return storage_for(engine).location(_rel(level, name, key))


def figure_lock(engine: Engine, name: str) -> AbstractContextManager[Any]:
    """The lock held while figure `name` is built, by any process on this machine."""
    return storage_for(engine).lock(name)


def log_path(engine: Engine, name: str) -> Path:
    return storage_for(engine).log_dir / f"{name}.log"


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
    """`(meta, {file: bytes})` of a verified entry folder; None if absent; raises if corrupt.

    For a local folder; `read_stored_entry` reads one through any storage.
    """
    path = Path(path)
    return read_stored_entry(LocalStorage(path.parent), path.name, files)


def read_stored_entry(
    store: Storage, rel: str, files: tuple[str, ...]
) -> tuple[dict[str, Any], dict[str, bytes]] | None:
    """`(meta, {file: bytes})` of the verified entry `rel` of `store` (meta.json's bytes
    included under its name); None if absent or not yet committed; raises if corrupt."""
    path = store.location(rel)
    if not store.committed(rel, META):
        return None
    try:
        meta_bytes = store.read_bytes(f"{rel}/{META}")
    except FileNotFoundError:
        if not store.isdir(rel):
            return None  # removed while we looked
        raise CorruptEntryError(path, "meta.json is missing", rel) from None
    try:
        meta = json.loads(meta_bytes)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptEntryError(path, f"meta.json does not parse ({exc})", rel) from None
    if not isinstance(meta, dict):
        raise CorruptEntryError(path, "meta.json is not a JSON object", rel)
    _check_meta_sum(path, meta, rel)
    sums = meta.get("sha256")
    if not isinstance(sums, dict):
        raise CorruptEntryError(path, "meta.json has no sha256 table", rel)
    payloads: dict[str, bytes] = {}
    for name in files:
        if name not in sums:
            raise CorruptEntryError(path, f"meta.json lists no checksum for {name}", rel)
        try:
            payload = store.read_bytes(f"{rel}/{name}")
        except FileNotFoundError:
            raise CorruptEntryError(path, f"{name} is missing", rel) from None
        if sha256(payload) != sums[name]:
            raise CorruptEntryError(path, f"{name} does not match its checksum", rel)
        payloads[name] = payload
    payloads[META] = meta_bytes
    return meta, payloads


def meta_checksum(meta: dict[str, Any]) -> str:
    """sha256 of `meta` without its own checksum field, as canonical JSON."""
    return sha256(dumps({k: v for k, v in meta.items() if k != META_SUM}))


def _check_meta_sum(path: Location, meta: dict[str, Any], rel: str | None = None) -> None:
    claimed = meta.get(META_SUM)
    if not isinstance(claimed, str):
        raise CorruptEntryError(path, f"meta.json has no {META_SUM} (its own checksum)", rel)
    try:
        actual = meta_checksum(meta)
    except (TypeError, ValueError) as exc:  # e.g. a NaN that json.loads accepted
        raise CorruptEntryError(
            path, f"meta.json holds a value JSON cannot carry ({exc})", rel
        ) from None
    if actual != claimed:
        raise CorruptEntryError(path, "meta.json does not match its own checksum", rel)


def write_entry(
    engine: Engine,
    level: Level,
    name: str,
    key: str,
    files: dict[str, bytes],
    meta: DataMeta | dict[str, Any],
    replace: bool = False,
) -> Location:
    """Write an entry atomically and return where it is.

    The payload files first, meta.json (with every checksum) last, committed as one
    folder (`Storage.commit_folder`). If a whole entry of this key is already there,
    another builder got there first: theirs is kept and ours discarded, unless
    `replace` (a forced rebuild, under the figure's lock) removes theirs first.
    """
    store = storage_for(engine)
    plain = meta.to_json() if isinstance(meta, DataMeta) else dict(meta)
    stored = {**plain, "sha256": {f: sha256(p) for f, p in files.items()}}
    stored[META_SUM] = meta_checksum(stored)
    rel = _rel(level, name, key)
    store.commit_folder(rel, files, META, dumps(stored, indent=2), replace)
    return store.location(rel)


def discard(engine: Engine, error: CorruptEntryError) -> None:
    """Remove the entry a `CorruptEntryError` names, through the engine's storage."""
    if error.rel is not None:
        storage_for(engine).remove(error.rel)
    elif isinstance(error.path, Path):
        remove_local(error.path)


def clear_temp(engine: Engine, name: str) -> None:
    """Remove `name`'s leftovers in tmp/ (from a killed worker). Call under its lock."""
    store = storage_for(engine)
    for level in ("data", "out"):  # only the figure's own: other caches share tmp/
        store.clear_temp(f"{name}.{level}")


def prune(engine: Engine, level: Level, name: str, current: str) -> None:
    """Keep the newest `engine.keep` entries of `name` at `level` (always `current`).

    At a URL, folders not yet committed are left alone: another machine may be writing
    them (`clean` removes abandoned ones).
    """
    store = storage_for(engine)
    folder = f"{level}/{name}"
    entries = [
        child
        for child in store.listdir(folder)
        if child != current
        and not child.startswith(".")
        and store.isdir(f"{folder}/{child}")
        and (store.local or store.committed(f"{folder}/{child}", META))
    ]
    stamp = (
        (lambda c: store.modified(f"{folder}/{c}"))
        if store.local
        else (lambda c: store.modified(f"{folder}/{c}/{META}"))
    )
    entries.sort(key=stamp, reverse=True)
    for old in entries[max(engine.keep - 1, 0) :]:
        store.remove(f"{folder}/{old}")


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
    _ADDED: ClassVar[tuple[str, ...]] = ("tuning_seeds", "tuning_note")
    """Fields added after entries were first stored: an older entry may lack them."""

    def to_json(self) -> dict[str, Any]:
        """The JSON object stored as meta.json (without the checksums until written)."""
        out = {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}
        for name in self._ENVELOPE:
            if not out[name]:
                del out[name]
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], path: Location, rel: str | None = None) -> Self:
        """The schema of a stored meta.json; `CorruptEntryError` naming what is wrong."""
        names = {f.name: f for f in dataclasses.fields(cls)}
        # Fields added later carry a default and may be absent from older entries.
        optional = {n for n in cls._ADDED if n in names}
        missing = sorted(set(names) - set(raw) - optional)
        extra = sorted(set(raw) - set(names))
        if missing or extra:
            problem = ", ".join(
                [f"lacks {n!r}" for n in missing] + [f"has unknown field {n!r}" for n in extra]
            )
            raise CorruptEntryError(path, f"meta.json {problem}", rel)
        kwargs = {}
        for name in names:
            if name not in raw:
                continue
            value = raw[name]
            expected = _SCHEMA_TYPES.get(name)
            if expected is not None and not isinstance(value, expected):
                raise CorruptEntryError(
                    path, f"meta.json field {name!r} is a {type(value).__name__}", rel
                )
            listed = name in ("deps", "seeds", "claims", "tuning_seeds") and value is not None
            kwargs[name] = tuple(value) if listed else value
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
    values: Mapping[str, Quantity]
    claims: tuple[Mapping[str, Any], ...]
    render_seconds: float
    data_reused: bool
    tuning_seeds: tuple[int, ...] | None = None
    """The seeds the figure's recipe was tuned on (`Figure.tuning_seeds`)."""
    tuning_note: str = ""
    value_descriptions: Mapping[str, str] = field(default_factory=dict)
    """Value name -> what the number is, in a phrase (`Value.description`); entries
    written before values were described lack it."""

    _ADDED: ClassVar[tuple[str, ...]] = ("tuning_seeds", "tuning_note", "value_descriptions")

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
    "tuning_seeds": (list, type(None)),
    "tuning_note": str,
    "title": str,
    "caption": str,
    "alt": str,
    "values": dict,
    "value_descriptions": dict,
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
    Vega-Lite spec; `data` what compute returned; `payloads` the verified bytes of every
    file (meta.json included). The accessors below read `meta`.
    """

    name: str
    path: Location
    """The entry folder `out/<name>/<key>/`: a Path, or a URL for a URL cache."""
    meta: EntryMeta
    spec: dict[str, Any]
    data: Any
    payloads: Mapping[str, bytes] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_local(self) -> bool:
        """Whether the entry's files are local files (`files()` and the *_path accessors)."""
        return isinstance(self.path, Path)

    def _local(self, name: str) -> Path:
        if not isinstance(self.path, Path):
            raise ValueError(
                f"figure {self.name!r}: its entry is at {self.path}, not a local folder; "
                "read its bytes from `payloads`"
            )
        return self.path / name

    @property
    def spec_path(self) -> Path:
        return self._local("spec.json")

    @property
    def data_path(self) -> Path:
        return self._local("data.json")

    def files(self) -> dict[str, Path]:
        """Every file of a local entry by its name: figure.svg, spec.json, data.json,
        meta.json."""
        return {name: self._local(name) for name in (*OUT_FILES, META)}

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
    def values(self) -> Mapping[str, Quantity]:
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
        """Claims whose verdict is not what the essay states (`ClaimResult.agrees`)."""
        return tuple(c for c in self.claims if not c.agrees)


def read_figure_entry(engine: Engine, name: str, key: str) -> FigureEntry | None:
    """The verified out entry `key` of `name`; None if absent; raises if corrupt."""
    store = storage_for(engine)
    rel = _rel("out", name, key)
    path = store.location(rel)
    found = read_stored_entry(store, rel, OUT_FILES)
    if found is None:
        return None
    raw, payloads = found
    try:
        spec = json.loads(payloads["spec.json"])
        data = json.loads(payloads["data.json"])
    except ValueError as exc:
        raise CorruptEntryError(path, f"a checksummed file does not parse ({exc})", rel) from None
    meta = EntryMeta.from_json(raw, path, rel)
    if meta.key != key:
        raise CorruptEntryError(path, f"meta.json names key {meta.key}, not its folder's", rel)
    return FigureEntry(name=name, path=path, meta=meta, spec=spec, data=data, payloads=payloads)


@dataclass(frozen=True)
class DataEntry:
    """A verified data entry: what compute returned, as the stored bytes (which parse)."""

    path: Location
    meta: DataMeta
    raw: bytes


def read_data_entry(engine: Engine, name: str, data_key: str) -> DataEntry | None:
    """The verified data entry `data_key` of `name`; None if absent; raises if corrupt."""
    store = storage_for(engine)
    rel = _rel("data", name, data_key)
    path = store.location(rel)
    found = read_stored_entry(store, rel, DATA_FILES)
    if found is None:
        return None
    stored, payloads = found
    raw = payloads["data.json"]
    try:
        json.loads(raw)
    except ValueError as exc:
        raise CorruptEntryError(path, f"data.json does not parse ({exc})", rel) from None
    meta = DataMeta.from_json(stored, path, rel)
    if meta.data_key != data_key:
        raise CorruptEntryError(path, "meta.json names another data_key than its folder's", rel)
    return DataEntry(path=path, meta=meta, raw=raw)


def warn_corrupt(error: CorruptEntryError | str) -> None:
    log.warning("%s; it will be removed and rebuilt", error)
