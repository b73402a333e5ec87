"""Planning memoised on file signatures, so a rebuild's cost follows what changed.

`mkdocs serve` plans every figure on every rebuild. Reading, parsing and hashing every
figure module and library file, and reading and checksumming every cache entry, costs
time in proportion to the number of figures even when nothing changed. This module
keeps, in the process, what planning found (a figure's keys, a parsed source file, a
verified entry) next to the *signature* of every file it was derived from, and hands
it back while every one of those files still has the same signature.

A signature is `(st_mode, st_mtime_ns, st_ctime_ns, st_size, st_ino, st_dev)`, or None
for a path that did not exist (a figure's keys also depend on files that are absent:
`import a.b` would pick `a/b/__init__.py` over `a/b.py` if it appeared). Any write
moves ctime, which no program can set back (unlike mtime, `os.utime`); a rename onto
the file changes the inode. Two ways a content change could keep the signature, and
what is done about each:

- Timestamps are coarse (the kernel's clock tick, or 2 s on some file systems): a file
  written twice within one tick, to the same size, keeps all its timestamps. So a
  signature only vouches for content read at least `RACY_NS` after the file last
  changed (git's "racily clean" rule, with a margin): a file changed just before a
  plan is hashed again by the next plan, until it has been quiet for `RACY_NS`.
- A file system that does not keep ctime, or a clock set backwards by more than
  `RACY_NS`: not detected. Workers never use this memo (they hash the bytes they
  import, see `imports.py`), so at worst a plan reports a figure "cached" with the
  entry of the previous content; `python -m symbiote_core.figures build` in a fresh
  process plans from the bytes.

Memos live in this process only (a dict per kind); the MkDocs hooks keep this module
loaded between rebuilds (see `mkdocs_hooks.py`), so a prose edit plans from stats.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

RACY_NS = 2_000_000_000
"""How long a file must have been unchanged before its signature vouches for it."""

Signature = tuple[int, int, int, int, int, int]
T = TypeVar("T")


def signature(path: Path) -> Signature | None:
    """The file's stat signature, or None when it does not exist."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (st.st_mode, st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, st.st_dev)


def is_file(sig: Signature | None) -> bool:
    return sig is not None and stat.S_ISREG(sig[0])


class Stats:
    """The signatures seen by one plan: each path is stat'ed once, before it is read.

    `started_ns` is taken before the first stat, so everything this plan reads was read
    after it; `settled` compares against it.
    """

    def __init__(self) -> None:
        self.started_ns = time.time_ns()
        self._seen: dict[Path, Signature | None] = {}

    def __call__(self, path: Path) -> Signature | None:
        try:
            return self._seen[path]
        except KeyError:
            sig = self._seen[path] = signature(path)
            return sig

    def settled(self, sigs: Iterable[Signature | None]) -> bool:
        """Whether every file was last changed `RACY_NS` before this plan started."""
        limit = self.started_ns - RACY_NS
        return all(sig is None or max(sig[1], sig[2]) < limit for sig in sigs)


@dataclass
class _Record(Generic[T]):
    value: T
    inputs: dict[Path, Signature | None]


@dataclass
class Memo(Generic[T]):
    """Values keyed by anything hashable, each valid while its input files keep their
    signatures."""

    name: str
    _records: dict[Hashable, _Record[T]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: Hashable, stats: Stats) -> T | None:
        with self._lock:
            record = self._records.get(key)
        if record is None:
            return None
        if all(stats(path) == sig for path, sig in record.inputs.items()):
            return record.value
        with self._lock:
            self._records.pop(key, None)
        return None

    def put(self, key: Hashable, value: T, inputs: Iterable[Path], stats: Stats) -> None:
        """Remember `value`, derived from reading `inputs` during the plan of `stats`.

        Not remembered when an input changed too recently to be vouched for by its
        signature (see the module docstring); the next plan derives it again.
        """
        sigs = {path: stats(path) for path in inputs}
        with self._lock:
            if stats.settled(sigs.values()):
                self._records[key] = _Record(value, sigs)
            else:
                self._records.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def __len__(self) -> int:
        return len(self._records)


KEYS: Memo = Memo("figure keys")
"""(engine, figure name, versions) -> `keys.FigureKeys`."""
SOURCES: Memo = Memo("parsed source files")
"""(engine, module name, path) -> `deps.ModuleSource`."""
ENTRIES: Memo = Memo("verified entries")
"""(engine, figure name, key) -> `cache.FigureEntry`."""
DIGESTS: Memo = Memo("declared input digests")
"""("file digest", path) -> sha256 of a figure's declared input file (`inputs.py`)."""


def clear_all() -> None:
    """Forget everything (tests, or a caller that changed files behind our back)."""
    for memo in (KEYS, SOURCES, ENTRIES, DIGESTS):
        memo.clear()
