"""The language section's corpus and host, shared by its figures.

Not a figure (the leading underscore keeps it out of the registry).

**Corpus.** The Python files under `torch/fx/` of the pinned `torch==2.13.0` (the
project's one exactly pinned hard dependency, so it is installed wherever the essay
builds), read from the installed package: byte for byte the same on every machine
that installs that version, unlike the running interpreter's standard library.
PyTorch's licence is BSD-3-Clause. Why `torch/fx`: about two megabytes of code with
ordinary amounts of strings and comments (a fifth and a seventh of the bytes), where
`torch/nn` is half docstrings, i.e. half English prose.

The file list and every file's bytes are hashed (`corpus_sha256`) and compared with
`CORPUS_SHA256`, a constant of this module, so the expected corpus is part of every
figure key (keys hash this module's source), and a machine whose torch has other
bytes there fails with a message that names the difference instead of computing
other numbers under the same key. The figures also declare the files they read
(`Figure(inputs=(Package("torch", "torch/fx/*.py"),))`), so the engine hashes their
bytes into the data keys too and refuses any other file read at run time.

**Split.** By file: a file is held out when the SHA-256 of its path (as a number) is
divisible by 5, about a fifth of the files; held-out files are split again in two
(divisible by 10 or not), the *fit* half where probes and readers are fitted and the
*test* half where they are scored. The host never trains on a held-out byte.

**Hosts.** `train_hosts` asks the engine's artifact cache for the trained hosts of the
evaluation seeds (batched as instances), keyed on this module's source closure, the
params and the seeds: the first figure of the section trains them, the others read
them. The random-init twin of each host is its own starting point
(`bytelm.initial_host`: weights from its seed, the unembedding bias at the training
bytes' log frequencies), rebuilt, never stored.

Nothing here imports torch at module level: figure modules import `HostParams` at top
level, and their `render` must not pull torch in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import torch

    from symbiote_core.hosts.bytelm import ByteLM, ByteLMConfig

CORPUS_PACKAGE = "torch"
CORPUS_VERSION = "2.13.0"
CORPUS_FOLDER = "fx"
CORPUS_LICENCE = "BSD-3-Clause"
CORPUS_FILES = 104
CORPUS_SHA256 = "5a0d76eb7e2505c338c65208fa67ac94d90d831f9f48b358e1878f931ac9787d"
"""`corpus_sha256` of the corpus: checked before anything is computed from it."""


@dataclass(frozen=True)
class HostParams:
    """The byte-level host of the language section (`symbiote_core.hosts.bytelm`).

    Chosen on the tuning seeds 0-2 (one to three seeds per trial, one CPU thread, the
    machine shared): one layer trained for 600 steps reached 2.31-2.36 bits per byte on
    held-out files, 1,000 steps 2.11-2.13, but a probe read "in a string" from it no
    better than from the last four bytes (a single attention layer sees a quote, not
    whether it opens or closes a string); two layers at 800 steps reached 2.08 with 256
    neurons per MLP and 2.12-2.14 with 128, for about a quarter less compute, and a
    probe reads the string state from them. The trigram model scores 2.41 there.
    """

    n_layers: int = 2
    """Transformer blocks (attention and MLP each)."""
    d_model: int = 64
    """Width of the residual stream."""
    n_heads: int = 4
    """Attention heads per block (d_head = d_model // n_heads)."""
    d_mlp: int = 128
    """ReLU neurons per MLP."""
    context: int = 64
    """Bytes per window: the host predicts each next byte from those before it in the window."""
    steps: int = 800
    """Optimiser steps, each on fresh random windows of the training files."""
    batch_size: int = 32
    """Windows per step and host."""
    lr: float = 5e-3
    """AdamW peak learning rate: linear warm-up, then a cosine decay."""
    warmup: int = 50
    """Steps of linear learning-rate warm-up."""


class Corpus(NamedTuple):
    files: dict[str, bytes]
    """Path relative to site-packages (`torch/fx/...`) -> the file's bytes, sorted by path."""
    root: Path
    """The folder the paths are relative to."""


def corpus_sha256(files: dict[str, bytes]) -> str:
    """SHA-256 over every (path, bytes) in path order, each part length-prefixed."""
    digest = hashlib.sha256()
    for path in sorted(files):
        for part in (path.encode(), files[path]):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()


def load_corpus(check: bool = True) -> Corpus:
    """Read the corpus and check it is the expected one (`CORPUS_SHA256`).

    The files are found through the distribution's RECORD (`importlib.metadata`), not by
    listing folders: the same list pip installed, whatever else lies in the folder.
    """
    from importlib.metadata import distribution

    dist = distribution(CORPUS_PACKAGE)
    prefix = f"{CORPUS_PACKAGE}/{CORPUS_FOLDER}/"
    paths = sorted(
        f for f in dist.files or () if f.as_posix().startswith(prefix) and f.suffix == ".py"
    )
    files = {path.as_posix(): path.locate().read_bytes() for path in paths}
    root = Path(dist.locate_file(""))
    if check:
        found = corpus_sha256(files)
        if found != CORPUS_SHA256:
            raise RuntimeError(
                f"the language corpus ({root / prefix}, {len(files)} files, installed "
                f"{CORPUS_PACKAGE} {dist.version}) has SHA-256 {found}, but "
                f"figures_src/_lab/language_host.py expects {CORPUS_SHA256} ({CORPUS_FILES} files "
                f"of {CORPUS_PACKAGE}=={CORPUS_VERSION}): install that version, or, if the "
                "corpus changed on purpose, update CORPUS_SHA256 (every language figure is "
                "then recomputed)"
            )
    return Corpus(files, root)


def path_hash(path: str) -> int:
    return int(hashlib.sha256(path.encode()).hexdigest(), 16)


def split_files(corpus: Corpus) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """(training files, held-out files), by a hash of each path (module docstring)."""
    train = {p: b for p, b in corpus.files.items() if path_hash(p) % 5}
    held = {p: b for p, b in corpus.files.items() if not path_hash(p) % 5}
    return train, held


def split_held_out(held: dict[str, bytes]) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """(fit files, test files) of the held-out files."""
    fit = {p: b for p, b in held.items() if not path_hash(p) % 10}
    return fit, {p: b for p, b in held.items() if p not in fit}


def host_config(host: HostParams, seeds: Sequence[int]) -> ByteLMConfig:
    from symbiote_core.hosts.bytelm import ByteLMConfig

    return ByteLMConfig(
        n_layers=host.n_layers,
        d_model=host.d_model,
        n_heads=host.n_heads,
        d_mlp=host.d_mlp,
        context=host.context,
        steps=host.steps,
        batch_size=host.batch_size,
        lr=host.lr,
        warmup=host.warmup,
        log_every=max(1, host.steps // 20),
        seeds=tuple(seeds),
    )


def training_stream(corpus: Corpus) -> torch.Tensor:
    """The training files, concatenated in path order, as a uint8 tensor."""
    import torch

    train, _ = split_files(corpus)
    return torch.frombuffer(bytearray(b"".join(train.values())), dtype=torch.uint8)


class Hosts(NamedTuple):
    trained: ByteLM
    """One trained host per seed (instances)."""
    twin: ByteLM
    """The same hosts at initialisation: the random-init twins."""
    log: dict[str, Any]
    """The training log: `steps`, `bits` per instance per logged step, `seconds`."""


def train_hosts(host: HostParams, seeds: Sequence[int]) -> Hosts:
    """The trained hosts and their twins, through the artifact cache (module docstring)."""
    from symbiote_core.figures.engine import artifacts
    from symbiote_core.hosts.bytelm import ByteLM, initial_host

    state = artifacts.cached("language_hosts", train_states, host, tuple(seeds))
    cfg = host_config(host, seeds)
    trained = ByteLM(cfg)
    trained.load_state_dict(state["trained"])
    twin = initial_host(cfg, training_stream(load_corpus()))
    return Hosts(trained.eval(), twin.eval(), state["log"])


def train_states(host: HostParams, seeds: tuple[int, ...]) -> dict[str, Any]:
    """Train the hosts (what `artifacts.cached` stores): state dict and log."""
    from symbiote_core.hosts.bytelm import train_bytelm

    cfg = host_config(host, seeds)
    model, log = train_bytelm(cfg, training_stream(load_corpus()))
    bits = [[log.metrics[f"bits/{i}"][j] for i in range(len(seeds))] for j in range(len(log.steps))]
    return {
        "trained": model.state_dict(),
        "log": {"steps": list(log.steps), "bits": bits, "seconds": log.seconds},
    }


def file_windows(files: dict[str, bytes], context: int) -> list[tuple[str, int]]:
    """Every (path, start) of consecutive windows of `context + 1` bytes, `context`
    apart, in path order: the host reads bytes start..start+context-1 and is scored on
    start+1..start+context, so the windows of a file cover its bytes once."""
    return [
        (path, start)
        for path, source in files.items()
        for start in range(0, len(source) - context, context)
    ]


def sample_windows(
    files: dict[str, bytes], context: int, n: int, seed: int
) -> tuple[torch.Tensor, list[tuple[str, int]]]:
    """A seeded sample of `n` windows of `files` (in file order): `(n, context + 1)` long
    bytes and their (path, start)."""
    import numpy as np
    import torch

    spans = file_windows(files, context)
    order = torch.randperm(len(spans), generator=torch.Generator().manual_seed(seed))[:n]
    chosen = [spans[i] for i in sorted(order.tolist())]
    rows = [
        np.frombuffer(files[path][start : start + context + 1], dtype=np.uint8)
        for path, start in chosen
    ]
    return torch.from_numpy(np.stack(rows).astype(np.int64)), chosen
