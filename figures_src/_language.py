"""What the language figures share past the host: labelled held-out windows, activations,
linear probes, the readers' units, and the dictionary.

Not a figure (the leading underscore keeps it out of the registry); figure modules
import it inside `compute`, because it imports torch and `render` must not.

**Windows.** Every held-out file (`_language_host.split_held_out`: the fit half and the
test half) is cut into consecutive windows of `context + 1` bytes, `context` bytes
apart, so that the host reads bytes 0..context-1 of a window and is scored on bytes
1..context. A seeded sample of windows per half is kept. Every byte of a window gets
the exact labels of `symbiote_core.source_labels` for its file; a label that depends
on the window (whether an identifier was seen earlier in it) is computed per window.
Probes and readers use positions from `ReadParams.min_position` on, where the host has
read at least that many bytes of the window: a label set by a quote or bracket far
outside the window is beyond any reader of the window.

**Labels read** (`LABELS`): in a string, in a comment, bracket depth (0, 1, 2, 3 or
more), indentation level (0 to 4 or more), token kind (`source_labels.KINDS`), position
in the token (0, 1, 2, 3 or more), and, at the last byte of an identifier, whether the
same identifier started earlier in the window. Each class of a label, taken alone, is
a *feature* (`FEATURES`) that a single unit (a neuron, a dictionary latent, a
direction) may or may not match.

**Probes** are linear discriminant analysis with equal class priors (class means and
one shared within-class covariance, a small ridge; closed form, so thousands of probes
cost a few solves), fitted on the fit half and scored by balanced accuracy (mean recall
over classes) on the test half: chance is one over the number of classes whatever the
class frequencies.

**The dictionary** is shared through the artifact cache like the hosts: the first
figure that needs it trains it (`train_dictionaries`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from figures_src._language_host import HostParams

if TYPE_CHECKING:
    import numpy as np
    import torch

    from symbiote_core.hosts.bytelm import ByteLM
    from symbiote_core.source_labels import ByteLabels

SITES = {
    "hook_embed": "embedding",
    "blocks.0.hook_resid_mid": "after attention",
    "blocks.0.mlp.hook_hidden": "MLP neurons",
    "blocks.0.hook_resid_post": "after the MLP",
}
"""Hook name -> how the figures name the site, in the order the host computes them."""
MLP_SITE = "blocks.0.mlp.hook_hidden"

LABELS: dict[str, tuple[str, ...]] = {
    "string": ("outside", "inside"),
    "comment": ("outside", "inside"),
    "depth": ("0", "1", "2", "3+"),
    "indent": ("0", "1", "2", "3", "4+"),
    "kind": ("name", "keyword", "number", "operator", "string", "comment", "space", "newline"),
    "position": ("1st", "2nd", "3rd", "4th+"),
    "seen": ("new", "seen"),
}
"""Label -> its classes, by index. `seen` is defined only at the last byte of an identifier."""
LABEL_TITLES = {
    "string": "in a string",
    "comment": "in a comment",
    "depth": "bracket depth",
    "indent": "indentation level",
    "kind": "token kind",
    "position": "position in token",
    "seen": "identifier seen before",
}


class Feature(NamedTuple):
    """One binary feature: `label`'s classes in `classes` (vs the rest, where defined)."""

    name: str
    label: str
    classes: tuple[int, ...]


FEATURES: tuple[Feature, ...] = (
    Feature("in a string", "string", (1,)),
    Feature("in a comment", "comment", (1,)),
    Feature("inside brackets", "depth", (1, 2, 3)),
    Feature("depth 2 or more", "depth", (2, 3)),
    Feature("indented", "indent", (1, 2, 3, 4)),
    Feature("indent 2 or more", "indent", (2, 3, 4)),
    *(Feature(f"{kind} token", "kind", (i,)) for i, kind in enumerate(LABELS["kind"])),
    Feature("first byte of token", "position", (0,)),
    Feature("identifier seen before", "seen", (1,)),
)
"""The features single units are matched against."""


@dataclass(frozen=True)
class ReadParams:
    """Which held-out bytes the readers see."""

    fit_windows: int = 320
    """Windows sampled from the fit half of the held-out files."""
    test_windows: int = 320
    """Windows sampled from the test half."""
    min_position: int = 32
    """Readers use window positions from this one on (at least this many bytes read)."""
    window_seed: int = 0
    """Seeds the window sample (the same windows for every host seed, so seeds pair)."""


@dataclass(frozen=True)
class DictionaryParams:
    """TopK dictionaries on the host's residual stream after attention (the MLP's input)."""

    site: str = "blocks.0.hook_resid_mid"
    d_sae: int = 256
    """Latents: as many as the MLP has neurons, so latents and neurons compare one to one."""
    ks: tuple[int, ...] = (4, 8, 16)
    """Candidate sparsities; one is chosen by faithfulness (`max_splice_bits`)."""
    max_splice_bits: float = 0.1
    """The chosen dictionary is the sparsest whose splice costs the host at most this many
    bits per byte on every seed (on the fit half), a tenth of a bit, under a twentieth
    of what the host pays per byte; if none does, the most faithful."""
    steps: int = 800
    batch_size: int = 512
    lr: float = 3e-3
    train_windows: int = 512
    """Random windows of the training files whose activations train the dictionaries."""


class Windows(NamedTuple):
    tokens: torch.Tensor
    """`(N, context + 1)` long: the window's bytes."""
    labels: dict[str, torch.Tensor]
    """Label -> `(N, context)` long class of each read byte (-1 where undefined)."""


# ------------------------------------------------------------------ windows


def make_windows(host: HostParams, read: ReadParams) -> dict[str, Any]:
    """The fit and test windows with their labels (what `artifacts.cached` stores)."""
    from figures_src._language_host import load_corpus, split_files, split_held_out

    _, held = split_files(load_corpus())
    fit, test = split_held_out(held)
    out = {}
    for part, files, n in (("fit", fit, read.fit_windows), ("test", test, read.test_windows)):
        windows = _label_windows(files, host.context, n, read.window_seed)
        out[part] = {"tokens": windows.tokens, "labels": windows.labels}
    return out


def windows(host: HostParams, read: ReadParams) -> tuple[Windows, Windows]:
    """(fit, test) windows, through the artifact cache."""
    from symbiote_core.figures.engine import artifacts

    stored = artifacts.cached("language_windows", make_windows, host, read)
    return tuple(Windows(stored[p]["tokens"], stored[p]["labels"]) for p in ("fit", "test"))  # type: ignore[return-value]


def _label_windows(files: dict[str, bytes], context: int, n: int, seed: int) -> Windows:
    import numpy as np
    import torch

    from symbiote_core.source_labels import label_source

    spans = [
        (path, start)
        for path, source in files.items()
        for start in range(0, len(source) - context, context)
    ]
    order = torch.randperm(len(spans), generator=torch.Generator().manual_seed(seed))[:n]
    chosen = sorted(order.tolist())  # by file, then position: each file labelled once
    by_file: dict[str, ByteLabels] = {}
    tokens, labels = [], {name: [] for name in LABELS}
    for index in chosen:
        path, start = spans[index]
        if path not in by_file:
            by_file[path] = label_source(files[path], path)
        lab = by_file[path]
        source = files[path]
        tokens.append(np.frombuffer(source[start : start + context + 1], dtype=np.uint8))
        read = slice(start, start + context)  # the bytes the host reads
        for name, values in _classes(lab, start).items():
            labels[name].append(values[read])
    return Windows(
        torch.from_numpy(np.stack(tokens).astype(np.int64)),
        {name: torch.from_numpy(np.stack(v).astype(np.int64)) for name, v in labels.items()},
    )


def _classes(lab: ByteLabels, window_start: int) -> dict[str, np.ndarray]:
    """Every label of a file as class indices, for a window starting at `window_start`."""
    import numpy as np

    from symbiote_core.source_labels import seen_in_window

    mask, seen = seen_in_window(lab, window_start)
    return {
        "string": lab.string.astype(np.int64),
        "comment": lab.comment.astype(np.int64),
        "depth": np.minimum(lab.depth, 3),
        "indent": np.minimum(lab.indent, 4),
        "kind": lab.kind,
        "position": np.minimum(lab.position, 3),
        "seen": np.where(mask, seen.astype(np.int64), -1),
    }


def feature_targets(labels: dict[str, torch.Tensor], feature: Feature) -> torch.Tensor:
    """`(..., )` float: 1 where the feature holds, 0 where not, NaN where undefined."""
    import torch

    y = labels[feature.label]
    hit = torch.isin(y, torch.tensor(feature.classes)).float()
    return torch.where(y >= 0, hit, torch.nan)


# -------------------------------------------------------------- activations


@dataclass
class _Recorder:
    sites: Sequence[str]
    store: dict[str, list[torch.Tensor]] = field(default_factory=dict)


def activations(
    model: ByteLM, tokens: torch.Tensor, sites: Sequence[str], chunk: int = 64
) -> dict[str, torch.Tensor]:
    """Each site's activations `(I, N, context, d)` on windows `(N, context + 1)` (the
    host reads the first `context` bytes of each), in chunks of `chunk` windows."""
    import torch

    modules = dict(model.named_modules())
    out: dict[str, list[torch.Tensor]] = {site: [] for site in sites}
    handles = [
        modules[site].register_forward_hook(
            lambda m, i, o, site=site: out[site].append(o.detach().clone())
        )
        for site in sites
    ]
    try:
        with torch.no_grad():
            for part in tokens[:, :-1].split(chunk):
                model(part.expand(model.cfg.n_instances, *part.shape))
    finally:
        for handle in handles:
            handle.remove()
    return {site: torch.cat(parts, dim=1) for site, parts in out.items()}


# ------------------------------------------------------------------- probes


class LDA(NamedTuple):
    """Linear discriminant probes for a batch of problems: `scores = x @ W + b`."""

    mean: torch.Tensor  # (P, d) standardisation
    std: torch.Tensor  # (P, d)
    W: torch.Tensor  # (P, d, C)
    b: torch.Tensor  # (P, C); -inf for classes absent from the fit rows

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """`(P, N, d)` -> class `(P, N)`."""
        z = (x.double() - self.mean[:, None]) / self.std[:, None]
        return (z @ self.W + self.b[:, None]).argmax(-1)


RIDGE = 1e-3
"""Added to the diagonal of the standardised within-class covariance: keeps constant or
duplicate features (dead neurons, a byte never seen) from making it singular."""


def fit_lda(x: torch.Tensor, y: torch.Tensor, n_classes: int) -> LDA:
    """LDA with equal priors per problem: `x` `(P, N, d)`, `y` `(N,)` classes, -1 to skip."""
    import torch

    keep = y >= 0
    x, y = x[:, keep].double(), y[keep]
    mean, std = x.mean(1), x.std(1).clamp_min(1e-6)
    z = (x - mean[:, None]) / std[:, None]  # (P, N, d)
    onehot = torch.nn.functional.one_hot(y, n_classes).double()  # (N, C)
    counts = onehot.sum(0)  # (C,)
    means = torch.einsum("nc,pnd->pcd", onehot, z) / counts.clamp_min(1)[None, :, None]
    centred = z - means[:, y]  # (P, N, d)
    cov = centred.transpose(1, 2) @ centred / len(y)
    cov = cov + RIDGE * torch.eye(z.shape[-1], dtype=cov.dtype)
    W = torch.linalg.solve(cov, means.transpose(1, 2))  # (P, d, C)
    b = -0.5 * (means * W.transpose(1, 2)).sum(-1)  # (P, C)
    b = torch.where(counts[None] > 0, b, -torch.inf)
    return LDA(mean, std, W, b)


def balanced_accuracy(pred: torch.Tensor, y: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Mean recall over the classes present in `y` `(N,)` (-1 skipped); `pred` `(P, N)`."""
    import torch

    keep = y >= 0
    pred, y = pred[:, keep], y[keep]
    recalls = []
    for c in range(n_classes):
        where = y == c
        if where.any():
            recalls.append((pred[:, where] == c).double().mean(1))
    return torch.stack(recalls).mean(0)


def onehot_context(tokens: torch.Tensor, n_bytes: int, positions: slice) -> torch.Tensor:
    """`(N, len(positions), n_bytes * 256)` one-hot codes of the byte read at each
    position and the `n_bytes - 1` before it (the control's features)."""
    import torch

    T = tokens.shape[1] - 1
    pos = torch.arange(T)[positions]
    if pos[0] < n_bytes - 1:
        raise ValueError("onehot_context needs n_bytes - 1 bytes before the first position")
    parts = [torch.nn.functional.one_hot(tokens[:, pos - j], 256).float() for j in range(n_bytes)]
    return torch.cat(parts, dim=-1)


# -------------------------------------------------------------- readers' units


def best_unit_f1(
    fit_scores: torch.Tensor,
    fit_targets: torch.Tensor,
    test_scores: torch.Tensor,
    test_targets: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per problem and feature, the unit whose thresholded activation best matches the
    feature on the fit rows, and its F1 on the test rows.

    `*_scores` `(P, N, U)` unit activations; `*_targets` `(N, F)` 1/0/NaN. A unit
    predicts the feature where its activation is at least a threshold; the threshold and
    the unit are chosen together on the fit rows (every cut between sorted fit values).
    Returns (test F1 `(P, F)`, chosen unit `(P, F)`).
    """
    import torch

    P = fit_scores.shape[0]
    F = fit_targets.shape[1]
    f1_test = torch.zeros(P, F, dtype=torch.float64)
    chosen = torch.zeros(P, F, dtype=torch.long)
    for f in range(F):
        keep = ~fit_targets[:, f].isnan()
        y = fit_targets[keep, f]
        s = fit_scores[:, keep]  # (P, n, U)
        order = s.argsort(dim=1, descending=True, stable=True)
        ranked = s.gather(1, order)
        hits = y[order].cumsum(1)  # (P, n, U): true positives above each cut
        n_above = torch.arange(1, len(y) + 1, dtype=hits.dtype)[None, :, None]
        f1 = 2 * hits / (n_above + y.sum())
        # A cut may only fall between different values (ties go together).
        last_of_tie = torch.ones_like(ranked, dtype=torch.bool)
        last_of_tie[:, :-1] = ranked[:, :-1] != ranked[:, 1:]
        f1 = torch.where(last_of_tie, f1, -1.0)
        best_cut = f1.argmax(1)  # (P, U)
        best_f1 = f1.gather(1, best_cut[:, None]).squeeze(1)  # (P, U)
        unit = best_f1.argmax(1)  # (P,)
        threshold = ranked[torch.arange(P), best_cut[torch.arange(P), unit], unit]
        chosen[:, f] = unit
        keep_t = ~test_targets[:, f].isnan()
        yt = test_targets[keep_t, f].double()
        st = test_scores[:, keep_t][torch.arange(P), :, unit]  # (P, n)
        pred = (st >= threshold[:, None]).double()
        tp = (pred * yt).sum(1)
        f1_test[:, f] = 2 * tp / (pred.sum(1) + yt.sum()).clamp_min(1)
    return f1_test, chosen


# --------------------------------------------------------------- dictionary


def train_dictionaries(host: HostParams, seeds: tuple[int, ...], p: DictionaryParams) -> dict:
    """TopK dictionaries for every (host, k, seed) together as instances, on activations
    at `p.site` over random training windows (what `artifacts.cached` stores).

    Instance order: host ("trained", "twin") outermost, then k, then seed. Each
    instance starts from a dictionary seeded with its seed (the same start for every
    k and both hosts of a seed); minibatches come from one generator seeded with the
    first seed.
    """
    import torch

    from figures_src._language_host import load_corpus, train_hosts, training_stream
    from symbiote_core.hosts.bytelm import DATA_STREAM, random_windows
    from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE
    from symbiote_core.train import TrainConfig, train

    hosts = train_hosts(host, seeds)
    stream = training_stream(load_corpus())
    gen = [torch.Generator().manual_seed(seeds[0] + DATA_STREAM + 1)]
    tokens = random_windows(stream, p.train_windows, host.context + 1, gen)[0]
    inputs = []
    for model in (hosts.trained, hosts.twin):
        acts = activations(model, tokens, [p.site])[p.site]  # (I, N, T, d)
        inputs.append(acts.flatten(1, 2).transpose(0, 1))  # (N*T, I, d)
    plan = [(h, k, i) for h in range(2) for k in p.ks for i in range(len(seeds))]
    d_in = inputs[0].shape[-1]
    cfg = TopKConfig(
        d_in=d_in, d_sae=p.d_sae, n_instances=len(plan), k=tuple(k for _, k, _ in plan)
    )
    sae = TopKSAE(cfg)
    with torch.no_grad():
        for j, (_, _, i) in enumerate(plan):
            start = TopKSAE(TopKConfig(d_in=d_in, d_sae=p.d_sae, seed=seeds[i]))
            for name, tensor in start.named_parameters():
                getattr(sae, name)[j].copy_(tensor)
    data = torch.stack([inputs[h][:, i] for h, _, i in plan], dim=1)  # (rows, plan, d)
    result = train(
        sae,
        data,
        TrainConfig(steps=p.steps, batch_size=p.batch_size, lr=p.lr, seed=seeds[0], progress=False),
    )
    return {"state": sae.state_dict(), "seconds": result.seconds}


class Dictionaries(NamedTuple):
    by: Callable[[str, int], Any]
    """`by(host, k)`: the TopK dictionaries of that host ("trained" or "twin") and k, one
    instance per seed (instance axis = the host's)."""


def dictionaries(host: HostParams, seeds: Sequence[int], p: DictionaryParams) -> Dictionaries:
    """The trained dictionaries, through the artifact cache."""
    from symbiote_core.figures.engine import artifacts
    from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE

    state = artifacts.cached("language_dictionaries", train_dictionaries, host, tuple(seeds), p)
    plan = [(h, k, i) for h in ("trained", "twin") for k in p.ks for i in range(len(seeds))]

    def by(which: str, k: int) -> TopKSAE:
        rows = [j for j, (h, kk, _) in enumerate(plan) if h == which and kk == k]
        sae = TopKSAE(TopKConfig(d_in=host.d_model, d_sae=p.d_sae, n_instances=len(seeds), k=k))
        sae.load_state_dict({name: t[rows] for name, t in state["state"].items()})
        return sae.eval()

    return Dictionaries(by)


def encode_site(sae: Any, acts: torch.Tensor) -> torch.Tensor:
    """Latents `(I, ..., d_sae)` of host activations `(I, ..., d)` (instance axis first)."""
    import torch

    with torch.no_grad():
        moved = acts.movedim(0, -2)  # (..., I, d)
        return sae.encode(moved).movedim(-2, 0)


def splice(sae: Any) -> Callable[[torch.Tensor], torch.Tensor]:
    """A replacement for the site: each instance's activation by its reconstruction."""

    def fn(acts: torch.Tensor) -> torch.Tensor:
        moved = acts.movedim(0, -2)
        return sae(moved).recon.movedim(-2, 0)

    return fn
