"""Activations beyond memory: stream them to disk in safetensors shards, train from there.

    from symbiote_core.store import ShardConfig, open_activations, write_activations
    write_activations(host, ["blocks.0:output"], batches, "acts/", ShardConfig(rows_per_shard=65536))
    data = open_activations("acts/")                      # nothing loaded yet
    train_symbiote(sae, data, TrainConfig(seed=0))        # shards read one buffer at a time

On disk a folder holds `shard-00000.safetensors`, `shard-00001.safetensors`, ... (each
one tensor per site, all with the same rows) and `index.json` (sites, widths, dtype,
rows per shard). The index is written last, so a folder whose writing was
interrupted has none and is refused when opened.

Rows: with `flatten=True` (the default) every position is a row, so a `(batch, seq,
d)` site gives `batch * seq` rows of width d; `keep(batch)` can drop some (padding,
say). With `flatten=False` the rows are the site's dim 0 and the rest of its shape
is kept.

Order when training: each epoch visits the shards in a seeded random order,
`buffer_shards` at a time; the rows of a buffer are shuffled together and cut into
batches; a remainder smaller than a batch carries over to the next buffer, and the
last one of an epoch is dropped (as `train` does for a tensor). So memory holds one
buffer plus one batch, whatever the data size.

Pitfall: rows are only mixed within a buffer. A shard holds consecutive inputs, so
if the inputs come sorted (by document, by label...) use more, smaller shards or a
larger `buffer_shards`, or shuffle the inputs before writing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from symbiote_core.sites import Forward, Inputs, _batches, stream

INDEX_FILE = "index.json"
FORMAT_VERSION = 1
_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


@dataclass(frozen=True)
class ShardConfig:
    """How activations are written: rows per shard, dtype on disk, what a row is."""

    rows_per_shard: int = 65_536
    """Rows in each shard file (the last shard may hold fewer)."""
    dtype: str = "float32"
    """Dtype on disk: "float32", "float16" or "bfloat16" (half the bytes, ~3 significant digits)."""
    flatten: bool = True
    """Every position is a row (`reshape(-1, d)`); False keeps dim 0 as the rows."""

    def __post_init__(self) -> None:
        if not isinstance(self.rows_per_shard, int) or self.rows_per_shard < 1:
            raise ValueError(
                f"ShardConfig.rows_per_shard must be an int >= 1, got {self.rows_per_shard!r}"
            )
        if self.dtype not in _DTYPES:
            raise ValueError(
                f"ShardConfig.dtype must be one of {sorted(_DTYPES)}, got {self.dtype!r}"
            )


KeepFn = Callable[[Any], torch.Tensor]
"""`keep(batch) -> bool mask` over a site's positions, e.g. `lambda b: b["attention_mask"]`."""


def _shard_name(i: int) -> str:
    return f"shard-{i:05d}.safetensors"


class _ShardWriter:
    """Buffers rows per site and writes a shard each time `rows_per_shard` are ready."""

    def __init__(self, folder: Path, sites: Sequence[str], cfg: ShardConfig) -> None:
        self.folder, self.sites, self.cfg = folder, list(sites), cfg
        self.dtype = _DTYPES[cfg.dtype]
        self.pending: dict[str, list[torch.Tensor]] = {s: [] for s in self.sites}
        self.pending_rows = 0
        self.shards: list[int] = []
        self.tails: dict[str, list[int]] = {}

    def add(self, rows: dict[str, torch.Tensor]) -> None:
        counts = {s: rows[s].shape[0] for s in self.sites}
        if len(set(counts.values())) != 1:
            raise ValueError(
                f"sites give different numbers of rows for one batch: {counts}; write them "
                "in separate folders (or use flatten=False)"
            )
        for site in self.sites:
            tail = list(rows[site].shape[1:])
            if self.tails.setdefault(site, tail) != tail:
                raise ValueError(
                    f"site {site!r} changed shape between batches: rows of {self.tails[site]}, "
                    f"then {tail}"
                )
            # Cast now: a bfloat16 buffer holds half the bytes of the float32 activations.
            self.pending[site].append(rows[site].to(self.dtype))
        self.pending_rows += next(iter(counts.values()))
        while self.pending_rows >= self.cfg.rows_per_shard:
            self._flush(self.cfg.rows_per_shard)

    def _flush(self, n: int) -> None:
        shard: dict[str, torch.Tensor] = {}
        for site in self.sites:
            joined = torch.cat(self.pending[site])
            shard[site] = joined[:n].contiguous()
            # clone: a view of the remainder would keep the whole joined buffer alive
            self.pending[site] = [joined[n:].clone()] if joined.shape[0] > n else []
        save_file(shard, str(self.folder / _shard_name(len(self.shards))))
        self.shards.append(n)
        self.pending_rows -= n

    def close(self) -> None:
        if self.pending_rows:
            self._flush(self.pending_rows)
        if not self.shards:
            raise ValueError("no activations were written: the inputs gave no rows")
        index = {
            "format": FORMAT_VERSION,
            "config": asdict(self.cfg),
            "sites": {s: {"shape": self.tails[s]} for s in self.sites},
            "shards": [{"file": _shard_name(i), "rows": n} for i, n in enumerate(self.shards)],
        }
        (self.folder / INDEX_FILE).write_text(json.dumps(index, indent=2) + "\n")


def _rows(
    acts: dict[str, torch.Tensor], batch: Any, cfg: ShardConfig, keep: KeepFn | None
) -> dict[str, torch.Tensor]:
    if not cfg.flatten:
        if keep is not None:
            raise ValueError("keep= selects positions, so it needs ShardConfig(flatten=True)")
        return acts
    out = {}
    for site, act in acts.items():
        if keep is None:
            out[site] = act.reshape(-1, act.shape[-1])
            continue
        mask = keep(batch).to(torch.bool)
        if mask.shape != act.shape[:-1]:
            raise ValueError(
                f"keep(batch) gave a mask of shape {tuple(mask.shape)} but site {site!r} has "
                f"positions {tuple(act.shape[:-1])}"
            )
        out[site] = act[mask]
    return out


def write_activations(
    model: nn.Module,
    sites: str | Sequence[str],
    inputs: Inputs,
    folder: str | Path,
    cfg: ShardConfig | None = None,
    *,
    batch_size: int | None = None,
    forward: Forward | None = None,
    keep: KeepFn | None = None,
) -> ActivationShards:
    """Run `model` over `inputs` (as `stream` does) and write its activations in shards.

    Memory holds one batch and at most one shard's worth of rows, so `inputs` should
    be an iterable that makes its batches lazily (a generator, a DataLoader) when
    they would not fit in memory either. `folder` must not hold activations already.
    Returns the written activations, opened for reading (nothing loaded).
    """
    cfg = cfg if cfg is not None else ShardConfig()
    names = [sites] if isinstance(sites, str) else list(dict.fromkeys(sites))
    folder = Path(folder)
    if (folder / INDEX_FILE).exists() or any(folder.glob("shard-*.safetensors")):
        raise ValueError(f"{folder} already holds activation shards; write to a new folder")
    folder.mkdir(parents=True, exist_ok=True)
    writer = _ShardWriter(folder, names, cfg)
    batches = _Recording(inputs, batch_size)
    for acts in stream(model, names, batches, forward=forward):
        writer.add(_rows(acts, batches.last, cfg, keep))
    writer.close()
    return open_activations(folder)


class _Recording:
    """Iterates the batches `stream` would make and remembers the last one (for `keep`)."""

    def __init__(self, inputs: Inputs, batch_size: int | None) -> None:
        self._batches = _batches(inputs, batch_size)
        self.last: Any = None

    def __iter__(self) -> Iterator[Any]:
        for batch in self._batches:
            self.last = batch
            yield batch


class ActivationShards:
    """Activations written by `write_activations`, read a shard at a time.

    `sites` chooses which sites a batch holds (default: all, in the written order);
    `train` gets `(site0_rows, site1_rows, ...)` with the same rows, e.g. `(x, y)`
    for a transcoder. `buffer_shards` shards are loaded and shuffled together.
    Rows come back as `dtype` (float32 by default, whatever is on disk).
    """

    def __init__(
        self,
        folder: str | Path,
        sites: Sequence[str] | None = None,
        *,
        buffer_shards: int = 1,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        self.folder = Path(folder)
        index_path = self.folder / INDEX_FILE
        if not index_path.exists():
            raise ValueError(
                f"{self.folder} has no {INDEX_FILE}: not written by write_activations, or its "
                "writing was interrupted"
            )
        self.index = json.loads(index_path.read_text())
        written = list(self.index["sites"])
        self.sites = written if sites is None else list(sites)
        unknown = [s for s in self.sites if s not in written]
        if unknown:
            raise ValueError(f"{self.folder} holds no sites {unknown}; it holds {written}")
        if buffer_shards < 1:
            raise ValueError(f"buffer_shards must be >= 1, got {buffer_shards}")
        self.buffer_shards, self.dtype = buffer_shards, dtype
        self.shard_rows = [s["rows"] for s in self.index["shards"]]

    @property
    def n_shards(self) -> int:
        """Shard files in the folder."""
        return len(self.shard_rows)

    @property
    def n_rows(self) -> int:
        """Rows over all shards."""
        return sum(self.shard_rows)

    def __len__(self) -> int:
        return self.n_rows

    def shape(self, site: str) -> tuple[int, ...]:
        """A row's shape at `site`, e.g. `(d,)`."""
        return tuple(self.index["sites"][site]["shape"])

    @property
    def disk_dtype(self) -> str:
        """The dtype the shards were written in ("float32", "float16", "bfloat16")."""
        return str(self.index["config"]["dtype"])

    def shard(self, i: int) -> tuple[torch.Tensor, ...]:
        """Shard i's rows, one tensor per site in `sites` order, as `dtype`."""
        if not 0 <= i < self.n_shards:
            raise IndexError(f"shard {i} out of range: {self.folder} has {self.n_shards}")
        path = self.folder / self.index["shards"][i]["file"]
        if len(self.sites) == len(self.index["sites"]):
            tensors = load_file(str(path))
        else:  # read only the chosen sites' tensors from the file
            with safe_open(str(path), framework="pt") as f:
                tensors = {s: f.get_tensor(s) for s in self.sites}
        return tuple(tensors[s].to(self.dtype) for s in self.sites)

    def batches(
        self, batch_size: int, generator: torch.Generator
    ) -> Iterator[tuple[torch.Tensor, ...]]:
        """Endless seeded batches (see the module docstring); `train` calls this."""
        size = min(batch_size, self.n_rows)
        while True:
            order = torch.randperm(self.n_shards, generator=generator).tolist()
            carry: tuple[torch.Tensor, ...] | None = None
            for start in range(0, self.n_shards, self.buffer_shards):
                parts = [self.shard(i) for i in order[start : start + self.buffer_shards]]
                if carry is not None:
                    parts.insert(0, carry)
                buffer = tuple(torch.cat(cols) for cols in zip(*parts, strict=True))
                del parts
                n = buffer[0].shape[0]
                perm = torch.randperm(n, generator=generator)
                full = n - n % size
                for b in range(0, full, size):
                    idx = perm[b : b + size]
                    yield tuple(t[idx] for t in buffer)
                carry = tuple(t[perm[full:]] for t in buffer) if full < n else None
                del buffer


def open_activations(
    folder: str | Path,
    sites: Sequence[str] | None = None,
    *,
    buffer_shards: int = 1,
    dtype: torch.dtype = torch.float32,
) -> ActivationShards:
    """Open a folder written by `write_activations` (reads only its index)."""
    return ActivationShards(folder, sites, buffer_shards=buffer_shards, dtype=dtype)
