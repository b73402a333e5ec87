"""What the language figures share past the host: labelled held-out windows, activations,
linear probes, the readers' units, and the dictionary.

Not a figure (the leading underscore keeps it out of the registry); figure modules
import it inside `compute`, because it imports torch and `render` must not.

**Windows.** Every held-out file (`_lab.language_host.split_held_out`: the fit half and the
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

from figures_src._lab.language_host import HostParams

if TYPE_CHECKING:
    import numpy as np
    import torch

    from symbiote_core.hosts.bytelm import ByteLM
    from symbiote_core.source_labels import ByteLabels


def sites(n_layers: int) -> dict[str, str]:
    """Hook name -> how the figures name the site, in the order the host computes them."""
    out = {"hook_embed": "embedding"}
    for layer in range(n_layers):
        out[f"blocks.{layer}.hook_resid_mid"] = f"L{layer} after attention"
        out[f"blocks.{layer}.mlp.hook_hidden"] = f"L{layer} MLP neurons"
        out[f"blocks.{layer}.hook_resid_post"] = f"L{layer} after MLP"
    return out


def mid_layer(site: str) -> int:
    """The block whose residual stream after attention `site` names
    (`blocks.{l}.hook_resid_mid`); a ValueError for any other site."""
    parts = site.split(".")
    if len(parts) != 3 or parts[0] != "blocks" or parts[2] != "hook_resid_mid":
        raise ValueError(
            f"{site!r} is not a residual stream after attention (blocks.L.hook_resid_mid)"
        )
    return int(parts[1])


def mlp_site(n_layers: int) -> str:
    """The last MLP's neurons: the privileged basis the dictionary is compared with."""
    return f"blocks.{n_layers - 1}.mlp.hook_hidden"


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

    site: str = "blocks.1.hook_resid_mid"
    """The hook the dictionaries read and splice into: block 1's residual stream after
    attention (the input of the last MLP)."""
    d_sae: int = 128
    """Latents: as many as the last MLP has neurons, so latents and neurons compare one to one."""
    ks: tuple[int, ...] = (16, 32)
    """Candidate sparsities; one is chosen by faithfulness (`max_splice_bits`). On the
    tuning seeds (256 latents on a host with 256 neurons per MLP) k = 4 and 8 cost a third
    and a fifth of a bit, k = 16 just over a tenth, k = 32 a twentieth."""
    max_splice_bits: float = 0.1
    """The chosen dictionary is the sparsest whose splice costs the host at most this many
    bits per byte on every seed (on the fit half), a tenth of a bit, under a twentieth
    of what the host pays per byte; if none does, the most faithful."""
    choice_windows: int = 160
    """Held-out fit windows the choice is made on."""
    choice_seed: int = 2
    """Seed of the sample of held-out fit windows on which k is chosen."""
    steps: int = 500
    """Adam steps training each dictionary."""
    batch_size: int = 512
    """Activation rows (one byte position each) per step."""
    lr: float = 5e-3
    """The dictionaries' Adam learning rate."""
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
    from figures_src._lab.language_host import load_corpus, split_files, split_held_out

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


def window_sample(windows: Windows, read: ReadParams, count: int) -> torch.Tensor:
    """A seeded sample of `count` windows, in file order (they are stored file by file)."""
    import torch

    order = torch.randperm(
        windows.tokens.shape[0], generator=torch.Generator().manual_seed(read.window_seed)
    )
    return order[:count].sort().values


def _label_windows(files: dict[str, bytes], context: int, n: int, seed: int) -> Windows:
    import numpy as np
    import torch

    from figures_src._lab.language_host import sample_windows
    from symbiote_core.source_labels import label_source

    tokens, chosen = sample_windows(files, context, n, seed)
    by_file: dict[str, ByteLabels] = {}
    labels: dict[str, list[np.ndarray]] = {name: [] for name in LABELS}
    for path, start in chosen:
        if path not in by_file:
            by_file[path] = label_source(files[path], path)
        read = slice(start, start + context)  # the bytes the host reads
        for name, values in _classes(by_file[path], start).items():
            labels[name].append(values[read])
    return Windows(
        tokens, {name: torch.from_numpy(np.stack(v).astype(np.int64)) for name, v in labels.items()}
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
    """Linear discriminant probes for a batch of problems: class scores `x @ W + b`."""

    W: torch.Tensor
    """`(P, d, C)`, on the raw (unstandardised) features."""
    b: torch.Tensor
    """`(P, C)`; -inf for classes absent from the fit rows."""

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """`(P, N, d)` -> class `(P, N)`."""
        return (x.double() @ self.W + self.b[:, None]).argmax(-1)

    def predict_onehot(self, codes: torch.Tensor) -> torch.Tensor:
        """One-hot features given by their hot columns `(N, m)` (P = 1) -> class `(1, N)`."""
        return (self.W[0][codes].sum(1) + self.b[0]).argmax(-1)[None]


class Moments(NamedTuple):
    """What LDA needs from its fit rows (P problems, N rows, d features, C classes)."""

    n: int
    sums: torch.Tensor  # (P, d)
    gram: torch.Tensor  # (P, d, d): sum of x x^T
    class_sums: torch.Tensor  # (P, C, d)
    counts: torch.Tensor  # (C,)


RIDGE = 1e-3
"""Added to the diagonal of the standardised within-class covariance: keeps constant or
duplicate features (dead neurons, a byte never seen) from making it singular."""


def moments(
    x: torch.Tensor, y: torch.Tensor, n_classes: int, shared: Moments | None = None
) -> Moments:
    """LDA moments of dense features `x` `(P, N, d)` with classes `y` `(N,)` (-1 skipped).

    `shared`, the moments of the same `x` for a label defined on every row (any
    classes), saves recomputing the sums and the Gram matrix, which do not depend on the
    label; it is used only when `y` skips no row."""
    import torch

    keep = y >= 0
    full = bool(keep.all())
    x, y = x[:, keep].double(), y[keep]
    onehot = torch.nn.functional.one_hot(y, n_classes).double()  # (N, C)
    if shared is not None and full:
        sums, gram = shared.sums, shared.gram
    else:
        sums, gram = x.sum(1), x.transpose(1, 2) @ x
    return Moments(len(y), sums, gram, torch.einsum("nc,pnd->pcd", onehot, x), onehot.sum(0))


def onehot_moments(codes: torch.Tensor, d: int, y: torch.Tensor, n_classes: int) -> Moments:
    """LDA moments of one-hot features given by their hot columns `codes` `(N, m)` in
    `[0, d)` (P = 1), without building the `(N, d)` matrix."""
    import torch

    keep = y >= 0
    codes, y = codes[keep], y[keep]
    pairs = (codes[:, :, None] * d + codes[:, None, :]).reshape(-1)  # (N * m * m,)
    gram = torch.bincount(pairs, minlength=d * d).double().view(d, d)
    class_sums = torch.bincount((y[:, None] * d + codes).reshape(-1), minlength=n_classes * d)
    sums = torch.bincount(codes.reshape(-1), minlength=d).double()
    counts = torch.bincount(y, minlength=n_classes).double()
    return Moments(
        len(y), sums[None], gram[None], class_sums.double().view(1, n_classes, d), counts
    )


def fit_lda(stats: Moments) -> LDA:
    """LDA with equal class priors from its moments, on standardised features (a small
    ridge), folded back onto the raw features."""
    import torch

    n = stats.n
    mean = stats.sums / n  # (P, d)
    var = (stats.gram.diagonal(dim1=1, dim2=2) / n - mean**2).clamp_min(0)
    std = var.sqrt().clamp_min(1e-6)
    scale = std[:, :, None] * std[:, None, :]
    zz = (stats.gram - n * mean[:, :, None] * mean[:, None, :]) / scale  # sum of z z^T
    counts = stats.counts
    means = (stats.class_sums / counts.clamp_min(1)[None, :, None] - mean[:, None]) / std[:, None]
    between = torch.einsum("c,pcd,pce->pde", counts, means, means)
    cov = (zz - between) / n + RIDGE * torch.eye(mean.shape[-1], dtype=zz.dtype)
    W = torch.linalg.solve(cov, means.transpose(1, 2))  # (P, d, C) on z
    b = -0.5 * (means * W.transpose(1, 2)).sum(-1)  # (P, C)
    W_raw = W / std[:, :, None]  # z = (x - mean) / std
    b_raw = b - (mean[:, :, None] * W_raw).sum(1)
    return LDA(W_raw, torch.where(counts[None] > 0, b_raw, -torch.inf))


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


def context_codes(tokens: torch.Tensor, n_bytes: int, positions: slice) -> torch.Tensor:
    """`(N, len(positions), n_bytes)` hot columns of the control's one-hot features: for
    each read position, the byte there and the `n_bytes - 1` before it, column
    `j * 256 + byte` for the byte j back."""
    import torch

    T = tokens.shape[1] - 1
    pos = torch.arange(T)[positions]
    if pos[0] < n_bytes - 1:
        raise ValueError("context_codes needs n_bytes - 1 bytes before the first position")
    return torch.stack([j * 256 + tokens[:, pos - j] for j in range(n_bytes)], dim=-1)


# -------------------------------------------------------------- readers' units


def best_unit_mcc(
    fit_scores: torch.Tensor,
    fit_targets: torch.Tensor,
    test_scores: torch.Tensor,
    test_targets: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per problem and feature, the unit whose thresholded activation best detects the
    feature on the fit rows, and how well it does on the test rows.

    `*_scores` `(P, N, U)` unit activations; `*_targets` `(N, F)` 1/0/NaN (NaN: the
    feature is undefined there, e.g. "seen before" off identifiers). A unit predicts the
    feature where its activation is at least a threshold; the threshold and the unit are
    chosen together on the fit rows (every cut between distinct sorted fit values).
    Scored by the Matthews correlation (phi) of prediction and feature: 0 for a constant
    or a coin flip, 1 for a perfect detector. Not F1: F1 rewards a unit that is always
    on when a feature is common (a constant scores 0.95 on a feature that holds on 90%
    of the bytes). Returns (test MCC `(P, F)`, chosen unit `(P, F)`).
    """
    import torch

    P = fit_scores.shape[0]
    F = fit_targets.shape[1]
    # Units first and rows last (P, U, n), so that the running sums over the ranked rows
    # run along contiguous memory; ranks are computed once for every feature.
    order = fit_scores.transpose(1, 2).argsort(dim=-1, descending=True, stable=True)
    ranked = fit_scores.transpose(1, 2).gather(-1, order)
    # A cut may only fall between different values (ties go together).
    last_of_tie = torch.ones_like(ranked, dtype=torch.bool)
    last_of_tie[..., :-1] = ranked[..., :-1] != ranked[..., 1:]
    not_cut = ~last_of_tie
    # Rows at or above each cut, where every row is defined (most features): 1, 2, ... n.
    rows_above = torch.arange(1, order.shape[-1] + 1, dtype=torch.float32).expand_as(ranked)
    mcc_test = torch.zeros(P, F, dtype=torch.float64)
    chosen = torch.zeros(P, F, dtype=torch.long)
    rows = torch.arange(P)
    for f in range(F):
        defined = ~fit_targets[:, f].isnan()
        y = torch.where(defined, fit_targets[:, f], 0.0)
        tp = y[order].cumsum(-1)  # (P, U, n) positives at or above each cut
        # Defined rows at or above each cut: counted only where some row is undefined.
        above = rows_above if bool(defined.all()) else defined.float()[order].cumsum(-1)
        mcc = _mcc(tp, above, y.sum(), defined.sum().float())
        mcc.masked_fill_(not_cut, -2.0)
        best_cut = mcc.argmax(-1)  # (P, U)
        best = mcc.gather(-1, best_cut[..., None]).squeeze(-1)  # (P, U)
        unit = best.argmax(1)  # (P,)
        threshold = ranked[rows, unit, best_cut[rows, unit]]
        chosen[:, f] = unit
        keep = ~test_targets[:, f].isnan()
        yt = test_targets[keep, f].double()
        pred = (test_scores[:, keep][rows, :, unit] >= threshold[:, None]).double()  # (P, n)
        tp_t = (pred * yt).sum(1)
        mcc_test[:, f] = _mcc(tp_t, pred.sum(1), yt.sum(), torch.tensor(float(len(yt))))
    return mcc_test, chosen


def _mcc(tp: torch.Tensor, predicted: torch.Tensor, positives: Any, n: Any) -> torch.Tensor:
    """Matthews correlation from true positives, predicted positives, positives and rows
    (broadcasting); 0 where a margin is empty (a constant prediction)."""
    import torch

    fp = predicted - tp
    fn = positives - tp
    tn = n - predicted - fn
    denominator = (predicted * (tp + fn) * (tn + fp) * (tn + fn)).clamp_min(0).sqrt()
    return torch.where(denominator > 0, (tp * tn - fp * fn) / denominator.clamp_min(1e-12), 0.0)


# --------------------------------------------------------------- dictionary


def train_dictionaries(host: HostParams, seeds: tuple[int, ...], p: DictionaryParams) -> dict:
    """TopK dictionaries on activations at `p.site` over random training windows, and
    the choice of k by faithfulness (what `artifacts.cached` stores).

    First one dictionary per (k, seed) on the trained hosts, all as instances of one set
    of tensors; the choice of k on the held-out fit windows; then one per seed at that
    k on the twins. Every instance starts from a dictionary seeded with its seed (the
    same start for every k and both hosts of a seed); minibatches come from one
    generator seeded with the first seed.
    """
    import torch

    from figures_src._lab.language_host import (
        load_corpus,
        sample_windows,
        split_files,
        split_held_out,
        train_hosts,
        training_stream,
    )
    from symbiote_core.hosts.bytelm import DATA_STREAM, random_windows

    hosts = train_hosts(host, seeds)
    corpus = load_corpus()
    gen = [torch.Generator().manual_seed(seeds[0] + DATA_STREAM + 1)]
    tokens = random_windows(training_stream(corpus), p.train_windows, host.context + 1, gen)[0]

    def inputs(model: ByteLM) -> torch.Tensor:
        acts = activations(model, tokens, [p.site])[p.site]  # (I, N, T, d)
        return acts.flatten(1, 2).transpose(0, 1)  # (N * T, I, d)

    x = inputs(hosts.trained)
    trained = _train_topk(x.repeat(1, len(p.ks), 1), [k for k in p.ks for _ in seeds], seeds, p)
    # The choice, on the fit half of the held-out files (never the test half).
    _, held = split_files(corpus)
    fit, _ = split_held_out(held)
    fit_tokens, _ = sample_windows(fit, host.context, p.choice_windows, p.choice_seed)
    costs = {}
    for j, k in enumerate(p.ks):
        sae = _instances(trained, range(j * len(seeds), (j + 1) * len(seeds)), k, host, p)
        costs[k] = splice_cost(hosts.trained, sae, p.site, fit_tokens).tolist()
    good = [k for k in sorted(p.ks) if max(costs[k]) <= p.max_splice_bits]
    chosen = good[0] if good else min(p.ks, key=lambda k: (max(costs[k]), k))
    twin = _train_topk(inputs(hosts.twin), [chosen] * len(seeds), seeds, p)
    return {
        "trained": trained,
        "twin": twin,
        "fit_costs": {str(k): v for k, v in costs.items()},
        "k": chosen,
    }


def _train_topk(
    x: torch.Tensor, ks: list[int], seeds: Sequence[int], p: DictionaryParams
) -> dict[str, torch.Tensor]:
    """Train TopK dictionaries on `x` `(rows, n, d)`, instance j with k `ks[j]`, started
    from the dictionary of seed `seeds[j % len(seeds)]`; returns their state dict."""
    import torch

    from symbiote_core.symbiotes.sae import Dictionary
    from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE
    from symbiote_core.train import TrainConfig, train

    class DenseLoss(torch.nn.Module):
        """Trains `sae` on the dense form of its loss (`Dictionary.loss`): the loss
        `TopKSAE.loss` computes through sparse kernels, same parts and gradients to float
        rounding. The sparse kernels pay off for wide dictionaries; at 128 latents on 64
        dimensions, k differing between instances, they cost seven times the dense
        matmuls (400 against 54 ms a step for 15 instances, one thread)."""

        def __init__(self, sae: TopKSAE) -> None:
            super().__init__()
            self.sae = sae

        def loss(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
            return Dictionary.loss(self.sae, x)

        def init_from_data(self, x: torch.Tensor) -> None:
            self.sae.init_from_data(x)

        def post_step(self) -> None:
            self.sae.post_step()

    d_in = x.shape[-1]
    sae = TopKSAE(TopKConfig(d_in=d_in, d_sae=p.d_sae, n_instances=len(ks), k=tuple(ks)))
    with torch.no_grad():
        for j in range(len(ks)):
            start = TopKSAE(TopKConfig(d_in=d_in, d_sae=p.d_sae, seed=seeds[j % len(seeds)]))
            for name, tensor in start.named_parameters():
                getattr(sae, name)[j].copy_(tensor)
    config = TrainConfig(
        steps=p.steps, batch_size=p.batch_size, lr=p.lr, seed=seeds[0], progress=False
    )
    train(DenseLoss(sae), x, config)
    return {name: t.detach() for name, t in sae.state_dict().items()}


def _instances(
    state: dict[str, torch.Tensor],
    rows: Sequence[int],
    k: int,
    host: HostParams,
    p: DictionaryParams,
) -> Any:
    """Instances `rows` of a stored set of dictionaries, as one dictionary of len(rows)."""
    from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE

    sae = TopKSAE(TopKConfig(d_in=host.d_model, d_sae=p.d_sae, n_instances=len(rows), k=k))
    sae.load_state_dict({name: t[list(rows)] for name, t in state.items()})
    return sae.eval()


class Dictionaries(NamedTuple):
    k: int
    """The sparsity chosen by faithfulness."""
    fit_costs: dict[str, list[float]]
    """Per k: bits per byte the splice costs each seed's host on the fit windows."""
    by: Callable[[str, int], Any]
    """`by(host, k)`: the TopK dictionaries of that host ("trained", any k of the
    candidates; "twin", the chosen k only), one instance per seed."""


def dictionaries(host: HostParams, seeds: Sequence[int], p: DictionaryParams) -> Dictionaries:
    """The trained dictionaries and the choice of k, through the artifact cache."""
    from symbiote_core.figures.engine import artifacts

    stored = artifacts.cached("language_dictionaries", train_dictionaries, host, tuple(seeds), p)
    n = len(seeds)

    def by(which: str, k: int) -> Any:
        if which == "twin":
            if k != stored["k"]:
                raise ValueError(f"the twins have a dictionary at k = {stored['k']} only")
            return _instances(stored["twin"], range(n), k, host, p)
        j = p.ks.index(k)
        return _instances(stored["trained"], range(j * n, (j + 1) * n), k, host, p)

    return Dictionaries(stored["k"], stored["fit_costs"], by)


def splice_cost(model: ByteLM, sae: Any, site: str, tokens: torch.Tensor) -> torch.Tensor:
    """Bits per byte `(I,)` the host loses on `tokens` with `site` replaced by `sae`'s
    reconstruction (each instance by its own dictionary)."""
    from symbiote_core.hosts.bytelm import bits_per_byte
    from symbiote_core.interventions import Intervention, intervene, replace

    clean = bits_per_byte(model, tokens)
    with intervene(model, [Intervention(site, replace(splice(sae)))]):
        return bits_per_byte(model, tokens) - clean


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
