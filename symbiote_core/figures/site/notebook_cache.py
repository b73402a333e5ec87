"""The executed-notebook cache, ours instead of mkdocs-jupyter's.

mkdocs-jupyter writes its cache with a plain write and reads it with a bare
`json.loads`: a truncated file (a full disk, a killed build) made every later build fail
with a `JSONDecodeError` naming no file. This cache writes each entry atomically (a
temporary file in the same folder, then `os.replace`) with the sha256 of its payload,
and a read that finds an entry which does not parse or does not match its checksum
reports it once, with its path, removes it and returns None, so the notebook is run
again. The site adapter (`site.py`) turns mkdocs-jupyter's own cache off and wraps its
page render with this one; the key covers the notebook's bytes, every plugin option
and the library source an executed notebook may import. Its folder is its own
(`.cache/notebooks`): mkdocs-jupyter, whenever its cache is on, deletes every file in
its folder that its build did not use, and this cache prunes its own folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from symbiote_core.figures.engine.keys import feed

FORMAT = 1
"""Bump when the payload's shape changes."""
KEEP = 20
"""Entries kept (the newest by write time): a few per notebook, across edits."""

log = logging.getLogger("mkdocs.plugins.symbiote")


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class NotebookCache:
    folder: Path
    report: Callable[[str], None] = log.info
    """Where a corrupt entry is reported (info by default: it is repaired, and a warning
    would fail `mkdocs build --strict` for a fault the build has already fixed)."""

    def key(self, notebook: Path, options: dict[str, Any], library_digest: str) -> str:
        h = hashlib.sha256()
        feed(
            h,
            f"format={FORMAT}".encode(),
            notebook.read_bytes(),
            repr(sorted((str(k), repr(v)) for k, v in options.items())).encode(),
            library_digest.encode(),
        )
        return h.hexdigest()

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def read(self, key: str, notebook: str) -> dict[str, Any] | None:
        """The verified payload of `key`, or None (absent, or corrupt: reported and removed)."""
        path = self.path(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        problem = _problem(raw)
        if problem is None:
            return json.loads(raw)["payload"]
        self.report(
            f"corrupt notebook cache entry {path} for {notebook} ({problem}): removed, "
            "running the notebook again"
        )
        path.unlink(missing_ok=True)
        return None

    def write(self, key: str, payload: dict[str, Any]) -> Path:
        """Store `payload` atomically: a reader sees the whole entry or none."""
        self.folder.mkdir(parents=True, exist_ok=True)
        body = _dumps({"payload": payload, "sha256": hashlib.sha256(_dumps(payload)).hexdigest()})
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(body)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(tmp, self.path(key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._prune()
        return self.path(key)

    def _prune(self) -> None:
        entries = sorted(
            self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True
        )
        for old in entries[KEEP:]:
            old.unlink(missing_ok=True)


def _problem(raw: bytes) -> str | None:
    try:
        entry = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"does not parse: {exc}"
    if not isinstance(entry, dict) or not isinstance(entry.get("payload"), dict):
        return "has no payload"
    if entry.get("sha256") != hashlib.sha256(_dumps(entry["payload"])).hexdigest():
        return "does not match its checksum"
    if not isinstance(entry["payload"].get("content"), str):
        return "has no page content"
    return None


def toc_to_tokens(toc: Any) -> list[dict[str, Any]]:
    """A MkDocs table of contents as the tokens `mkdocs.structure.toc.get_toc` reads."""
    return [
        {
            "level": item.level,
            "id": item.id,
            "name": item.title,
            "children": toc_to_tokens(item.children),
        }
        for item in toc
    ]
