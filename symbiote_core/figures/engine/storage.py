"""Where the figure cache's bytes live: a local folder, or any fsspec URL.

Every read and write of the cache (`cache.py`, and any other cache under the same root,
such as shared trained hosts) goes through a `Storage`, addressed by paths relative to
the cache root ("out/<name>/<key>/meta.json"). Two implementations:

- `LocalStorage`, for a folder path (the default `<root>/.cache/figures`): plain `os`
  calls, so planning can memoise on `os.stat` signatures (`memo.py`). A folder is made
  in `tmp/` and renamed into place (atomic on one file system); locks are `FileLock`s
  under `locks/`.
- `FsspecStorage`, for a URL (`file:///shared/cache`, `s3://bucket/cache`,
  `memory://cache`): the same layout through fsspec, for a cache that several machines
  share. Object stores have no atomic rename of a folder, and no lock that holds
  between machines, so entries are *write-once and committed by a marker*:

  1. the payload files are written first, each as one object (a single PUT is
     atomic on object stores; on file systems with rename, to a temporary name that is
     then renamed);
  2. the marker (an entry's meta.json, which holds the sha256 of every payload file
     and of itself) is written last, so a folder without it is an entry still being
     written (or abandoned by a killed writer): readers treat it as absent;
  3. a reader verifies every checksum against the marker before serving anything; a
     mismatch is a corrupt entry, reported and never served.

  Keys are content hashes of everything a figure's output depends on, so two machines
  that build the same key concurrently write the same entry; nothing needs a lock
  between machines. Figure data is bit-identical for a key (the build's guarantee),
  so interleaved writes of the same file write the same bytes. Were they ever
  different (a nondeterministic figure, two CPUs rounding differently), a marker
  would disagree with a payload and the checksums catch it: the entry is rebuilt, not
  served. Locks are still taken, on the local machine (`lock_dir`), so builders on one
  machine do not repeat each other's work.

`storage_for(engine)` returns the engine's storage (one per cache root and process).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from symbiote_core.figures.engine.settings import is_url

if TYPE_CHECKING:
    from symbiote_core.figures.engine.registry import Engine


class Storage(ABC):
    """A cache root. Paths are relative, '/'-separated, and never start with '/'."""

    local: ClassVar[bool]
    """True when `location` gives real local paths (os.stat, memo signatures, MkDocs
    copying files by path)."""
    root: Path | str
    """The cache root, as given: a resolved Path or a URL."""

    @abstractmethod
    def location(self, rel: str) -> Path | str:
        """`rel` as a local Path (LocalStorage) or a URL (for messages and for readers)."""

    @abstractmethod
    def read_bytes(self, rel: str) -> bytes:
        """The file's bytes; `FileNotFoundError` if it is absent."""

    @abstractmethod
    def write_atomic(self, rel: str, payload: bytes) -> None:
        """Write one file so that readers see all of it or none (parents made as needed)."""

    @abstractmethod
    def exists(self, rel: str) -> bool: ...

    @abstractmethod
    def isdir(self, rel: str) -> bool: ...

    @abstractmethod
    def listdir(self, rel: str) -> list[str]:
        """Names directly under folder `rel` (files and folders); [] when it is absent."""

    @abstractmethod
    def remove(self, rel: str) -> None:
        """Delete a file or a folder tree; nothing when absent. No reader sees a folder
        half-deleted as a whole entry: the marker goes first (or the folder is renamed)."""

    @abstractmethod
    def modified(self, rel: str) -> float:
        """When `rel` last changed, in seconds since the epoch (for pruning old entries)."""

    @abstractmethod
    def commit_folder(
        self, rel: str, files: Mapping[str, bytes], marker: str, marker_bytes: bytes, replace: bool
    ) -> bool:
        """Write folder `rel` holding `files` and then `marker` (last: it commits the
        folder). If a committed folder is already there, keep it and return False, unless
        `replace` removes it first. True when ours was written."""

    @abstractmethod
    def committed(self, rel: str, marker: str) -> bool:
        """Whether folder `rel` is a whole entry (its marker is there)."""

    @abstractmethod
    def lock(self, name: str) -> contextlib.AbstractContextManager[Any]:
        """A lock named `name`, held by one process of this machine at a time."""

    @property
    @abstractmethod
    def log_dir(self) -> Path:
        """A local folder for worker logs (logs are written by a process's file
        descriptors, so they are always local to the machine that ran the worker)."""

    def clear_temp(self, prefix: str) -> None:  # noqa: B027 (optional for a store)
        """Remove leftovers of writers killed mid-write whose names start with `prefix`."""


class LocalStorage(Storage):
    """A cache in a local folder; folders are committed by one rename."""

    local = True

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, rel: str) -> Path:
        return self.root / rel if rel else self.root

    def location(self, rel: str) -> Path:
        return self.path(rel)

    def read_bytes(self, rel: str) -> bytes:
        return self.path(rel).read_bytes()

    def write_atomic(self, rel: str, payload: bytes) -> None:
        final = self.path(rel)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.with_name(f".{final.name}.tmp-{uuid.uuid4().hex}")
        try:
            tmp.write_bytes(payload)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)

    def exists(self, rel: str) -> bool:
        return self.path(rel).exists()

    def isdir(self, rel: str) -> bool:
        return self.path(rel).is_dir()

    def listdir(self, rel: str) -> list[str]:
        try:
            return sorted(os.listdir(self.path(rel)))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def remove(self, rel: str) -> None:
        remove_local(self.path(rel))

    def modified(self, rel: str) -> float:
        return self.path(rel).stat().st_mtime_ns / 1e9

    def commit_folder(
        self, rel: str, files: Mapping[str, bytes], marker: str, marker_bytes: bytes, replace: bool
    ) -> bool:
        final = self.path(rel)
        tmp_root = self.path("tmp")
        tmp_root.mkdir(parents=True, exist_ok=True)
        # "<level>/<name>/<key>" is written as tmp/<name>.<level>.<id>, so a builder of
        # figure `name` finds (`clear_temp`) what a killed writer of it left.
        parts = rel.split("/")
        label = ".".join([parts[1], parts[0]] if len(parts) >= 3 else parts[:1])
        tmp = tmp_root / f"{label}.{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            for filename, payload in files.items():
                (tmp / filename).write_bytes(payload)
            (tmp / marker).write_bytes(marker_bytes)
            final.parent.mkdir(parents=True, exist_ok=True)
            if replace:
                remove_local(final)
            try:
                os.rename(tmp, final)
            except OSError:
                if not final.is_dir():
                    raise
                return False  # lost the race to another builder: keep theirs
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return True

    def committed(self, rel: str, marker: str) -> bool:
        # A local folder only ever appears whole (renamed into place): any folder is an
        # entry, and one without its marker is a damaged one, which readers report.
        return self.path(rel).is_dir()

    def lock(self, name: str) -> contextlib.AbstractContextManager[Any]:
        from filelock import FileLock

        path = self.path("locks") / f"{name}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(path)

    @property
    def log_dir(self) -> Path:
        return self.path("logs")

    def clear_temp(self, prefix: str) -> None:
        tmp_root = self.path("tmp")
        if tmp_root.is_dir():
            for leftover in tmp_root.glob(f"{prefix}.*"):
                shutil.rmtree(leftover, ignore_errors=True)


def remove_local(path: Path) -> None:
    """Delete a local file or folder; a folder is renamed first, so no reader sees it
    half-deleted."""
    if not path.exists():
        return
    if not path.is_dir():
        path.unlink(missing_ok=True)
        return
    doomed = path.parent / f".removing.{uuid.uuid4().hex}"
    try:
        os.rename(path, doomed)
    except OSError:
        doomed = path
    shutil.rmtree(doomed, ignore_errors=True)


class FsspecStorage(Storage):
    """A cache at an fsspec URL: write-once folders committed by a marker (module doc)."""

    local = False
    SINGLE_PUT: ClassVar[frozenset[str]] = frozenset(
        {"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "memory"}
    )
    """Protocols whose single write of one object is atomic (a reader sees the old
    object, or the whole new one). Elsewhere a file is written under a temporary name
    and renamed."""

    def __init__(self, url: str, lock_dir: Path) -> None:
        import fsspec  # only a URL cache needs fsspec

        self.root = url.rstrip("/")
        self.fs, self._base = fsspec.core.url_to_fs(self.root)
        self._base = self._base.rstrip("/")
        protocols = self.fs.protocol if isinstance(self.fs.protocol, tuple) else (self.fs.protocol,)
        self._single_put = bool(self.SINGLE_PUT.intersection(protocols))
        self._lock_dir = Path(lock_dir)

    def _path(self, rel: str) -> str:
        return f"{self._base}/{rel}" if rel else self._base

    def location(self, rel: str) -> str:
        return f"{self.root}/{rel}" if rel else self.root

    def read_bytes(self, rel: str) -> bytes:
        try:
            return self.fs.cat_file(self._path(rel))
        except FileNotFoundError:
            raise
        except IsADirectoryError:
            raise FileNotFoundError(self.location(rel)) from None

    def write_atomic(self, rel: str, payload: bytes) -> None:
        path = self._path(rel)
        parent = path.rsplit("/", 1)[0]
        self.fs.makedirs(parent, exist_ok=True)
        if self._single_put:
            self.fs.pipe_file(path, payload)
            return
        tmp = f"{parent}/.{path.rsplit('/', 1)[1]}.tmp-{uuid.uuid4().hex}"
        try:
            self.fs.pipe_file(tmp, payload)
            self.fs.mv(tmp, path)
        finally:
            if self.fs.exists(tmp):
                self.fs.rm(tmp)

    def exists(self, rel: str) -> bool:
        return bool(self.fs.exists(self._path(rel)))

    def isdir(self, rel: str) -> bool:
        return bool(self.fs.isdir(self._path(rel)))

    def listdir(self, rel: str) -> list[str]:
        try:
            found = self.fs.ls(self._path(rel), detail=False)
        except (FileNotFoundError, NotADirectoryError):
            return []
        base = self._path(rel).rstrip("/") + "/"
        names = []
        for item in found:
            item = item.rstrip("/")
            stripped = self.fs._strip_protocol(item)
            if stripped.startswith(base):
                names.append(stripped[len(base) :].split("/", 1)[0])
        return sorted(set(names) - {""})

    def remove(self, rel: str) -> None:
        path = self._path(rel)
        if not self.fs.exists(path):
            return
        if self.fs.isdir(path):
            # The marker first: from then on readers see "absent", never a half entry.
            for marker in ("meta.json",):
                if self.fs.exists(f"{path}/{marker}"):
                    self.fs.rm(f"{path}/{marker}")
            with contextlib.suppress(FileNotFoundError):
                self.fs.rm(path, recursive=True)
        else:
            self.fs.rm(path)

    def modified(self, rel: str) -> float:
        try:
            stamp = self.fs.modified(self._path(rel))
        except (NotImplementedError, FileNotFoundError, IsADirectoryError):
            return 0.0
        return stamp.timestamp()

    def commit_folder(
        self, rel: str, files: Mapping[str, bytes], marker: str, marker_bytes: bytes, replace: bool
    ) -> bool:
        if replace:
            self.remove(rel)
        elif self.committed(rel, marker):
            return False  # write-once: a committed entry of this key is kept
        for filename, payload in files.items():
            self.write_atomic(f"{rel}/{filename}", payload)
        self.write_atomic(f"{rel}/{marker}", marker_bytes)  # last: commits the folder
        return True

    def committed(self, rel: str, marker: str) -> bool:
        return self.exists(f"{rel}/{marker}")

    def lock(self, name: str) -> contextlib.AbstractContextManager[Any]:
        from filelock import FileLock

        path = self._lock_dir / "locks" / f"{name}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(path)

    @property
    def log_dir(self) -> Path:
        return self._lock_dir / "logs"


_STORES: dict[tuple[str, str], Storage] = {}
_STORES_LOCK = threading.Lock()


def storage_for(engine: Engine) -> Storage:
    """The storage of `engine.cache_dir`, made once per process and cache root.

    A URL cache keeps its locks and logs in a local folder beside the project,
    `<root>/.cache/figures-remote/<sha256 of the URL>/`: locks only need to hold on
    this machine (see the module docstring), and logs are written by file descriptors.
    """
    cache = engine.cache_dir
    memo_key = (str(cache), str(engine.root))
    with _STORES_LOCK:
        store = _STORES.get(memo_key)
        if store is None:
            if is_url(cache):
                digest = hashlib.sha256(str(cache).encode()).hexdigest()[:16]
                local = engine.root / ".cache" / "figures-remote" / digest
                store = FsspecStorage(str(cache), local)
            else:
                store = LocalStorage(Path(cache))
            _STORES[memo_key] = store
    return store
