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
other numbers under the same key.

**Split.** By file: a file is held out when the SHA-256 of its path (as a number) is
divisible by 5, about a fifth of the files; held-out files are split again in two
(divisible by 10 or not), the *fit* half where probes and readers are fitted and the
*test* half where they are scored. The host never trains on a held-out byte.

**Hosts.** `train_hosts` asks the engine's artifact cache for the trained hosts of the
evaluation seeds (batched as instances), keyed on this module's source closure, the
params and the seeds: the first figure of the section trains them, the others read
them. The random-init twin of each host is `ByteLM(cfg)` itself: each trained host's
own starting point, rebuilt from its seed, never stored.

Nothing here imports torch at module level: figure modules import `HostParams` at top
level, and their `render` must not pull torch in.
"""

from __future__ import annotations

import hashlib
import importlib.util
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
    """The byte-level host of the language section (`symbiote_core.hosts.bytelm`)."""

    n_layers: int = 1
    d_model: int = 64
    n_heads: int = 4
    d_mlp: int = 256
    context: int = 64
    steps: int = 600
    batch_size: int = 32
    lr: float = 5e-3
    warmup: int = 50


class Corpus(NamedTuple):
    files: dict[str, bytes]
    """Path relative to site-packages (`torch/fx/...`) -> the file's bytes, sorted by path."""
    root: Path
    """The folder the paths are relative to."""


def corpus_root() -> Path:
    spec = importlib.util.find_spec(CORPUS_PACKAGE)
    if spec is None or spec.origin is None:
        raise RuntimeError(
            f"the language corpus needs {CORPUS_PACKAGE}=={CORPUS_VERSION} installed"
        )
    return Path(spec.origin).parent.parent


def corpus_sha256(files: dict[str, bytes]) -> str:
    """SHA-256 over every (path, bytes) in path order, each part length-prefixed."""
    digest = hashlib.sha256()
    for path in sorted(files):
        for part in (path.encode(), files[path]):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()


def load_corpus(check: bool = True) -> Corpus:
    """Read the corpus and check it is the expected one (`CORPUS_SHA256`)."""
    from importlib.metadata import version

    root = corpus_root()
    folder = root / CORPUS_PACKAGE / CORPUS_FOLDER
    files = {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*.py"))
    }
    if check:
        found = corpus_sha256(files)
        if found != CORPUS_SHA256:
            raise RuntimeError(
                f"the language corpus ({folder}, {len(files)} files, installed "
                f"{CORPUS_PACKAGE} {version(CORPUS_PACKAGE)}) has SHA-256 {found}, but "
                f"figures_src/_language_host.py expects {CORPUS_SHA256} ({CORPUS_FILES} files "
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
    from symbiote_core.hosts.bytelm import ByteLM

    state = artifacts.cached("language_hosts", train_states, host, tuple(seeds))
    cfg = host_config(host, seeds)
    trained = ByteLM(cfg)
    trained.load_state_dict(state["trained"])
    return Hosts(trained.eval(), ByteLM(cfg).eval(), state["log"])


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
