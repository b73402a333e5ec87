"""The causal tests of the modular-addition host's Fourier reading: mean-ablating the key
subspace (reading) and rotating the answer's phases written back through the answer map
(writing), with neurons and random directions as controls.
"""

from __future__ import annotations

import math
import statistics
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from figures_src._lab.modadd import HostRun
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from figures_src.modadd_causal import Params


KEY, NEURONS, RANDOM = "key-frequency planes", "top neurons", "random directions"


EDITS = (KEY, NEURONS, RANDOM)


def analyse(run: HostRun, p: Params) -> dict[str, Any]:
    """Every measurement of the figure on trained hosts (and their step-0 and memorised
    checkpoints as controls); split from `compute` so tests can pass hand-made hosts."""
    import torch

    from figures_src._lab.modadd import host_config, key_frequencies
    from symbiote_core.fourier import frequency_spectrum, n_frequencies
    from symbiote_core.hosts.modadd import all_pairs, labels, splits

    P = p.host.p
    answers = labels(all_pairs(P), P)  # (p*p,) rows in all_pairs order
    train_idx, test_idx = splits(host_config(p.host, p.seeds))
    hosts = {"trained": run.trained, "untrained": run.untrained, "memorised": run.memorised}
    tensors = {
        name: (
            model.hidden_grid().flatten(1, 2).double(),  # (inst, p*p, d_mlp)
            model.unembed.W_U.detach().double(),  # (inst, d_mlp, p)
            model.unembed.b_U.detach().double(),  # (inst, p)
        )
        for name, model in hosts.items()
    }
    seeds: list[dict[str, Any]] = []
    scatter: list[dict[str, Any]] = []
    for i, seed in enumerate(p.seeds):
        spectrum = frequency_spectrum(run.trained.W_E[i].detach().double(), P)
        # A host with no key frequency (one that did not generalise may have none) is
        # read through its strongest frequency, so every seed is measured; `n_key` says 0.
        key = key_frequencies(spectrum, P) or [int(spectrum.argmax()) + 1]
        n_key = len(key_frequencies(spectrum, P))
        others = [k for k in range(1, n_frequencies(P) + 1) if k not in key]
        pick = torch.randperm(len(others), generator=torch.Generator().manual_seed(seed + 31))
        control = sorted(others[j] for j in pick[: len(key)].tolist())
        entry: dict[str, Any] = {"seed": seed, "key": key, "control": control, "n_key": n_key}
        for name in hosts:
            h, W_U, b_U = (t[i] for t in tensors[name])
            split = Split(answers, train_idx[i], test_idx[i], P)
            entry[name] = _read(h, W_U, b_U, split, key, control, p.n_random, seed)
            if name != "memorised":  # the memoriser only gives the progress-measure contrast
                # The untrained host is the null of the key/neuron comparison only.
                draws = p.n_random_planes if name == "trained" else 0
                written, predictions = _write(h, W_U, b_U, split, key, draws, seed)
                entry[name]["write"] = written
                if name == "trained" and i == 0:
                    scatter = _cells(predictions, P)
        seeds.append(entry)
    return {
        "p": P,
        "d_mlp": int(tensors["trained"][0].shape[-1]),
        "n_random": p.n_random,
        "seeds": seeds,
        "scatter": scatter,
        "uniform_loss": math.log(P),
        "memorised_step": p.host.memorised_step,
    }


class Split:
    """The answers of every pair and one seed's train/test row indices."""

    def __init__(self, answers: torch.Tensor, train: torch.Tensor, test: torch.Tensor, p: int):
        self.answers, self.train, self.test, self.p = answers, train, test, p


def _scores(logits: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    from symbiote_core.fourier_edits import loss_and_accuracy

    loss, acc = loss_and_accuracy(logits, targets)
    # Four significant digits: losses span 1e-5 (restricted) to 10 (memoriser, held out).
    return {"loss": float(f"{loss:.4g}"), "acc": round(acc, 5)}


def _random_bases(d: int, m: int, n: int, seed: int) -> list[torch.Tensor]:
    """`n` random orthonormal bases `(d, m)`, seeded by `seed` alone (the trained and the
    untrained host of a seed get the same draws)."""
    import torch

    from symbiote_core.fourier_edits import orthonormal_basis

    gen = torch.Generator().manual_seed(seed + 57)
    return [
        orthonormal_basis(torch.randn(m, d, generator=gen, dtype=torch.float64)) for _ in range(n)
    ]


def _top_neurons(write: torch.Tensor, per_plane: int = 2) -> list[int]:
    """For each frequency (pair of rows of `write` `(2K, d)`) in turn, the `per_plane`
    neurons carrying most of its write map, never reusing a neuron: 2K neurons, in
    plane order."""
    chosen: list[int] = []
    for j in range(write.shape[0] // 2):
        score = write[2 * j : 2 * j + 2].pow(2).sum(0)
        order = [n for n in score.argsort(descending=True).tolist() if n not in chosen]
        chosen += order[:per_plane]
    return chosen


def _read(
    h: torch.Tensor,
    W_U: torch.Tensor,
    b_U: torch.Tensor,
    split: Split,
    key: list[int],
    control: list[int],
    n_random: int,
    seed: int,
) -> dict[str, Any]:
    """Loss and accuracy of one host: clean, with a 2K-dim subspace mean-ablated (key,
    top neurons, random), restricted and excluded (key and control frequencies)."""
    import torch

    from symbiote_core.fourier_edits import (
        answer_features,
        exclude,
        fit_answer_map,
        mean_ablate,
        orthonormal_basis,
        restrict,
    )

    s, tr, te, P = split.answers, split.train, split.test, split.p
    out: dict[str, Any] = {
        "clean": _scores(h[te] @ W_U + b_U, s[te]),
        "clean_train": _scores(h[tr] @ W_U + b_U, s[tr]),
    }
    for label, freqs in (("key", key), ("other", control)):
        features = answer_features(s, P, freqs)
        amap = fit_answer_map(h[tr], features[tr])
        out[f"restricted_{label}"] = _scores(restrict(features[te], amap) @ W_U + b_U, s[te])
        out[f"excluded_{label}"] = _scores(exclude(h[tr], features[tr], amap) @ W_U + b_U, s[tr])
        if label == "key":
            key_map = amap
    mean = h[tr].mean(0)
    d, m = h.shape[1], 2 * len(key)
    bases = {
        "ablate_key": [orthonormal_basis(key_map.write)],
        "ablate_neurons": [torch.eye(d, dtype=h.dtype)[:, _top_neurons(key_map.write)]],
        "ablate_random": _random_bases(d, m, n_random, seed),
    }
    for name, group in bases.items():
        rows = [_scores(mean_ablate(h[te], q, mean) @ W_U + b_U, s[te]) for q in group]
        out[name] = {f: round(statistics.fmean(r[f] for r in rows), 5) for f in ("loss", "acc")}
    # How much of the key write map the top neurons carry: how spread the planes are.
    top = _top_neurons(key_map.write)
    out["top_neuron_write_share"] = round(
        (key_map.write[:, top].pow(2).sum() / key_map.write.pow(2).sum()).item(), 5
    )
    # How much of the neurons' variance (held-out pairs) each ablated subspace holds.
    centred = h[te] - mean
    total = centred.pow(2).sum()
    for name, group in bases.items():
        shares = [((centred @ q).pow(2).sum() / total).item() for q in group]
        out[f"{name}_variance"] = round(statistics.fmean(shares), 5)
    return out


def _write(
    h: torch.Tensor,
    W_U: torch.Tensor,
    b_U: torch.Tensor,
    split: Split,
    key: list[int],
    n_random: int,
    seed: int,
) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Shift the answer by every d in 0..p-1 on held-out pairs: the key rotation and the
    same rotation, at the same size, in neuron planes and random planes.

    Returns per-edit curves over d (shifted accuracy, KL to the intended output, KL to
    the clean output, all means over held-out pairs; random planes also averaged over
    draws), and each edit's predicted answers `(d, n_test)` (the first random draw).
    """
    import torch
    import torch.nn.functional as F

    from symbiote_core.fourier_edits import (
        answer_features,
        fit_answer_map,
        kl,
        shift_rotation,
        shifted_log_probs,
    )
    from symbiote_core.symbiotes.probe import fit_regression_probes

    s, tr, te, P = split.answers, split.train, split.test, split.p
    features = answer_features(s, P, key)
    amap = fit_answer_map(h[tr], features[tr])
    read = fit_regression_probes(h[tr], features[tr]).predict(h[te])  # (n, 2K)
    mean = h[tr].mean(0)
    d, m = h.shape[1], 2 * len(key)
    planes = {NEURONS: [torch.eye(d, dtype=h.dtype)[:, _top_neurons(amap.write)]]}
    if n_random:
        planes[RANDOM] = _random_bases(d, m, n_random, seed)
    clean = h[te] @ W_U + b_U  # (n, p)
    log_clean = F.log_softmax(clean, -1)
    # Every shift at once: (D, 2K, 2K) rotations minus the identity, D = p shifts.
    eye = torch.eye(m, dtype=h.dtype)
    turn = torch.stack([shift_rotation(P, key, delta) for delta in range(P)]) - eye
    deltas = torch.arange(P)
    goal = (s[te][None] + deltas[:, None]) % P  # (D, n) the intended answers
    target = torch.stack([shifted_log_probs(log_clean, delta) for delta in range(P)])
    moved, size = _key_change(read, amap.write, turn)
    changes: dict[str, list[torch.Tensor]] = {KEY: [moved @ (amap.write @ W_U)]}
    for edit, group in planes.items():
        changes[edit] = [_plane_change(h[te], mean, q, turn, size) @ (q.T @ W_U) for q in group]
    # KL(q || p_edit) = sum q log q - sum q log p_edit: the first term once per target.
    p_target, p_clean = target.exp(), log_clean.exp()
    own = {
        "kl_target": (p_target * target).sum(-1),
        "kl_clean": (p_clean * log_clean).sum(-1)[None],
    }
    curves: dict[str, dict[str, list[float]]] = {}
    predictions: dict[str, torch.Tensor] = {}
    for edit, group in changes.items():
        rows = []
        for j, change in enumerate(group):
            logits = clean + change  # (D, n, p)
            log_edit = F.log_softmax(logits, -1)
            pred = logits.argmax(-1)
            if j == 0:
                predictions[edit] = pred
            rows.append(
                torch.stack(
                    [
                        (pred == goal).double().mean(1),
                        (own["kl_target"] - torch.einsum("dnc,dnc->dn", p_target, log_edit)).mean(
                            1
                        ),
                        (own["kl_clean"] - torch.einsum("nc,dnc->dn", p_clean, log_edit)).mean(1),
                    ]
                )
            )
        mean_rows = torch.stack(rows).mean(0)  # (3, D), averaged over draws
        curves[edit] = {
            name: [round(v, 5) for v in mean_rows[r].tolist()]
            for r, name in enumerate(("shift_acc", "kl_target", "kl_clean"))
        }
    push = size / (h[te] - mean).norm(dim=1)  # (D, n) the key edit's size, relative
    return (
        {
            "curves": curves,
            "kl_nothing": [round(v, 5) for v in kl(target, log_clean).mean(1).tolist()],
            "push": [round(v, 5) for v in push.mean(1).tolist()],
            "probe_r2": _r2(read, features[te]),
        },
        predictions | {"answers": s[te]},
    )


def _key_change(
    read: torch.Tensor, write: torch.Tensor, turn: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """`fourier_edits.rotate_answer` for every shift at once, in plane coordinates: the
    change is `moved @ write` with `moved = read @ turn` `(D, n, 2K)` (`turn` = R(d) - I,
    `(D, 2K, 2K)`); also its size `|moved @ write|` `(D, n)`, without forming it in
    neuron space (D n d_mlp numbers)."""
    import torch

    moved = read @ turn
    gram = write @ write.T
    size = torch.einsum("dni,ij,dnj->dn", moved, gram, moved).clamp_min(0).sqrt()
    return moved, size


def _plane_change(
    h: torch.Tensor,
    mean: torch.Tensor,
    planes: torch.Tensor,
    turn: torch.Tensor,
    size: torch.Tensor,
) -> torch.Tensor:
    """`fourier_edits.rotate_planes` for every shift, in the planes' coordinates `(D, n, 2K)`
    (the change is this `@ planes.T`; `planes` is orthonormal, so sizes carry over),
    rescaled per input to `size` `(D, n)`: the same push, as large as the key edit."""
    step = ((h - mean) @ planes) @ turn
    return step * (size / step.norm(dim=-1).clamp_min(1e-12))[..., None]


def _r2(pred: torch.Tensor, target: torch.Tensor) -> float:
    """R^2 over all outputs together (held-out pairs)."""
    residual = (target - pred).pow(2).sum()
    total = (target - target.mean(0)).pow(2).sum()
    return round((1 - residual / total).item(), 5)


def _cells(predictions: dict[str, torch.Tensor], P: int) -> list[dict[str, Any]]:
    """Predicted against actual answers on one seed's held-out pairs: one row per
    (edit, d) holding the nonzero cells (actual, predicted, count) as three lists (the
    chart flattens them; a row per cell, or every seed pooled, made the page several
    times heavier for a picture that looks the same)."""
    import torch

    rows = []
    actual = predictions["answers"]
    for edit in EDITS:
        for delta in range(P):
            counts = torch.bincount(actual * P + predictions[edit][delta], minlength=P * P)
            cells = counts.nonzero().squeeze(1)
            rows.append(
                {
                    "edit": edit,
                    "delta": delta,
                    "actual": (cells // P).tolist(),
                    "predicted": (cells % P).tolist(),
                    "n": counts[cells].tolist(),
                }
            )
    return rows
