"""Symbiosis on the modular-addition host: a trade-off curve against ordinary baselines.

The hosts of section 4 (`figures_src._lab.modadd.HostParams`: embedding + one ReLU layer
on (a + b) mod p) train together with a TopK dictionary on their hidden neurons
(site `mlp.hidden`), for a log-spaced sweep of coupling strengths. The coupling is the
one of the toy host (`symbiote_core.cotrain`): the dictionary's normalised
reconstruction error, weighted relative to the task loss. The dictionary takes one step
per host step and, once the host is frozen, reader-only catch-up steps
(`cotrain.catch_up`), as many as a fresh dictionary takes from scratch with the same
recipe, from its atoms with its encoder restarted tied to them (`Params.catch_up_start`:
the encoder is what lags a moving host); its FVU before and after, and the fresh one's,
are reported, and the claim
`cotrained_reader_matches_fresh` asks whether it is within a tenth of the fresh one's.
The host keeps its own recipe (full batch, AdamW with strong weight decay, the late
learning-rate decay), so a coupling of 0 is the plain host. Beside the coupled hosts train two non-symbiotic
baselines (`figures_src._lab.symbiosis`): an L1 penalty on the neurons and narrower hosts.
Every arm and seed is one instance of one batched run, and a seed's hosts start from
the same weights and train on the same pairs.

After training, each host is frozen and read by a fresh dictionary (batched with the
catch-up, `_grow_readers`) of the sparsity at
which a dictionary of this size is faithful (loss recovered near 1 on the uncoupled
host): its loss recovered when spliced in, and its answer latents (latents whose
variance is mostly a function of (a + b) mod p, `_lab.modadd_reading.unit_rows`).
Readability is compared with the baselines at equal held-out loss.

The null of every claim is a second uncoupled host per seed: the same training pairs,
its own initial weights. It shows how far two runs that differ only in their draw
of initial weights drift apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import altair as alt

from figures_src._lab import symbiosis as sym
from figures_src._lab.modadd import HostParams
from figures_src._lab.symbiosis import COUPLED, L1, NARROW, NULL, arms
from symbiote_core.figures.authoring.spec import Claim, Figure, Null, Stated

if TYPE_CHECKING:
    import torch

METRICS = (
    ("test_acc", "held-out accuracy"),
    ("test_loss", "held-out loss (nats)"),
    ("grok_step", "step it groks"),
    ("reader_recovered", "fresh dictionary: loss recovered"),
    ("answer_latents", "fresh dictionary: answer latents"),
    ("fvu_ratio", "co-trained (after catch-up) / fresh FVU"),
)
READABILITY = (
    ("reader_recovered", "fresh dictionary: loss recovered"),
    ("answer_latents", "fresh dictionary: answer latents"),
)


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = (5, 6, 7, 8, 9)
    """Evaluation seeds (hosts, splits and readers); the recipe was set on seeds 0-4."""
    host: HostParams = field(default_factory=HostParams)
    steps: int = 1000
    """The first 1,000 of section 4's 2,000 steps, all before its learning rate starts to
    fall (step 1,400): the build's budget buys no more. Uncoupled, the section's hosts
    pass half their held-out pairs by step 850 on every tuning seed."""
    couplings: tuple[float, ...] = (0.0, 0.001, 0.03, 0.1, 1.0)
    """Log-spaced from 1e-3 to 1, half decades around 0.1: the earlier exploration on
    seeds 0-4 saw nothing move up to 0.05, later grokking at 0.1 and hosts at chance
    from 0.2. The build's budget (issue 19: the figure ran 554 s of one core) dropped
    0.01, where nothing moved, and 0.3, where a first run of this version (seeds 5-9)
    had every host at chance, as at 1."""
    l1s: tuple[float, ...] = (1e-4, 3e-4)
    """Baseline: an L1 penalty on the hidden neurons, weighted relative to the task loss
    like the coupling. Chosen on a tuning run (seeds 0-4) over 1e-4, 3e-4, 1e-3 and 3e-3
    (0.01 and 0.1 had silenced every host) by a criterion stated before it: the strengths
    whose mean held-out loss lies within the range of the coupled hosts' mean held-out
    losses at the couplings where hosts learn (0-0.1: 0.12-0.37 nats). 1e-4 and 3e-4 gave
    0.16 and 0.29; 1e-3 and 3e-3, 0.66 and 0.65."""
    widths: tuple[int, ...] = (96,)
    """Baseline: hosts with this many hidden neurons (the rest held at zero). Same tuning
    run and criterion over 32, 64 and 96: no width fell in the range (mean held-out loss
    17, 3.9 and 1.0 nats), so the one nearest it."""
    symbiote_size: int = 128
    """Latents of the co-trained and of the fresh dictionary: as many as the host has
    neurons. The co-trained dictionary reads the coupled hosts only (coupling 0
    included); the null and baseline hosts train without one."""
    symbiote_k: int = 32
    """Active latents per input: the sparsity at which a dictionary of this size
    reproduces the host's loss when spliced in (the reading issue's sweep on seeds 0-4:
    0.96-1.00 of the loss recovered, against 0.13-0.30 at k = 4)."""
    symbiote_lr: float = 1e-2
    """Adam learning rate of the co-trained dictionary."""
    symbiote_batch: int = 64
    """Training pairs per step that the symbiote reads (and its error is measured on):
    a seeded draw of the host's full batch, twice the earlier 32."""
    symbiote_steps: int = 1
    """Co-trained symbiote steps per host step. Two at batch 128 with more arms ran at
    about six times the cost of a step of the earlier figure: more than the build buys."""
    null_init_offset: int = 1000
    """The null host of seed s starts from the initial weights of seed s + this (and
    trains on seed s's pairs)."""
    log_every: int = 50
    """Held-out accuracy is measured every this many steps (for the grokking step)."""
    grok_accuracy: float = 0.5
    """As in `modadd_training`: the step half of the held-out pairs come right."""
    reader_steps: int = 1000
    """Steps of the fresh reader grown on each frozen host, and of the co-trained one's
    catch-up on its final frozen host (the same recipe, batch, learning rate and schedule,
    batched with the fresh readers: `cotrain.catch_up`). With the earlier 200 steps at
    learning rate 0.01 the fresh reader had not converged, and the co-trained one looked
    better than it (0.46-0.65 of its FVU); on a tuning run (seeds 0-4, couplings 0-0.1, 20
    hosts) its FVU at that rate fell by a third per doubling of the steps (0.074, 0.049,
    0.033 at 250, 500 and 1,000 steps). The
    criterion the issue asks for, FVU falling by less than 1 % per doubling, is past the
    build's budget: at this recipe, 1,000 to 2,000 steps still cut the fresh reader's FVU
    by 7-15 % on every tuning host (0.026 to 0.023 on average). 1,000 steps is what the
    budget buys; the FVUs are compared at an equal budget, not at convergence. There the
    co-trained reader left 1.06-1.49 times the fresh one's FVU on the tuning run: it ends
    in a worse place than a reader grown on the frozen host. Co-training it at learning
    rate 0.03 with two steps per host step, to keep up better, made it far worse (4-10
    times after catch-up). The gap was its encoder's (`catch_up_start`)."""
    reader_batch: int = 256
    """Pairs per step of the fresh reader and of the catch-up (drawn from every pair)."""
    reader_lr: float = 3e-2
    """Adam learning rate of the fresh reader and of the catch-up, chosen on the tuning run:
    at 500 steps 0.01, 0.03 and 0.1 left a mean FVU of 0.049, 0.032 and 0.11 (unstable); at
    1,000 steps 0.03 and 0.05 left 0.026 and 0.027."""
    reader_decay_from: float = 0.5
    """Share of the reader's steps after which its learning rate falls linearly to 0."""
    catch_up_start: str = "retie"
    """How the co-trained dictionary starts its catch-up: "retie" keeps its atoms (decoder)
    and restarts its encoder as a fresh reader's starts, tied to the decoder (encoder =
    decoder transposed, encoder bias 0, decoder bias the frozen host's mean); "as_left"
    starts from the dictionary exactly as co-training left it. Chosen on two tuning runs
    (seeds 0-4, the 20 coupled hosts up to the interior coupling,
    `bench/tune_symbiosis_reader.py`), by the smallest ratio of the caught-up to a fresh
    reader's FVU. Second run, this code: as left, 1.06-1.42 (median 1.26); encoder columns
    scaled to unit norm, 1.02-1.22 (1.13), with dead latents restarted too, 1.02-1.24;
    re-tied, 0.96-1.21 (1.06; 5 of 20 hosts above 1.1). First run (the host step before a
    rounding-level change): as left 1.08-1.44; the 0-9 latents that fire on no pair
    restarted at a fresh reader's weights, 1.03-1.48; decoder bias re-centred only,
    1.07-1.29; re-tied, 0.97-1.11; re-tied with dead latents restarted, 0.95-1.12. The
    co-trained encoder, not its atoms and not its dead latents, is what lags a host that
    moved under it; re-tied, the reader is still not within a tenth of a fresh one on
    every tuning host."""
    match_ratio: float = 1.1
    """The co-trained reader reads the host as well as a fresh one when its FVU is at most
    this many times the fresh one's (the issue's "within about 10 %"), on every coupled
    host where the FVUs are defined."""
    answer_share: float = 0.5
    """A latent is an *answer latent* when more than this share of its variance is a
    function of the answer (a + b) mod p alone (`modadd_readers`' threshold)."""
    defined_gap: float = 0.1
    """Loss recovered is reported only where mean-ablating the neurons costs more than
    this many nats: below it, the share of a vanishing gap is noise. Measured on every
    pair, the pairs the dictionary is grown on: on held-out pairs alone it was undefined
    for a host that has memorised but not yet generalised (changed with the couplings,
    before the evaluation run)."""
    silent_variance: float = 1e-8
    """A host whose neurons' variance over the pairs (summed over neurons) is below this
    is *silent*: its neurons carry nothing, and the dictionaries' FVUs (a share of that
    variance) are undefined (None) there."""


def _instances(p: Params) -> list[tuple[int, str, float]]:
    """(seed, family, level) per instance: every arm of `_lab.symbiosis.arms` for every seed."""
    return [(s, f, lv) for f, lv in arms(p.couplings, p.l1s, p.widths) for s in p.seeds]


def compute(p: Params) -> dict[str, Any]:
    import torch

    from figures_src._lab.modadd import host_config
    from figures_src._lab.symbiosis_dense import DenseTopKSAE, FirstInstances
    from symbiote_core.cotrain import CoTrainConfig, cotrain, normalised_error
    from symbiote_core.hosts.modadd import ModAddModel, all_pairs, labels, lr_factor, splits
    from symbiote_core.runtime import make_deterministic
    from symbiote_core.symbiotes.topk import TopKConfig

    instances = _instances(p)
    n, P = len(instances), p.host.p
    seeds = [s for s, _, _ in instances]
    # Splits by the instance's seed; initial weights by it too, except the null hosts'.
    cfg = host_config(p.host, seeds)
    init = [s + p.null_init_offset if f == NULL else s for s, f, _ in instances]
    make_deterministic(p.seeds[0])
    host = ModAddModel(host_config(p.host, init))
    m = host.cfg.d_mlp
    # A narrower host: neurons past its width start at zero weights and bias, so their
    # ReLU is 0 with no gradient, and weight decay keeps them at zero.
    width = torch.tensor([int(lv) if f == NARROW else m for _, f, lv in instances])
    keep = (torch.arange(m)[None, :] < width[:, None]).float()  # (n, d_mlp)
    with torch.no_grad():
        host.mlp.W_in.mul_(keep[:, None, :])
        host.mlp.b_in.mul_(keep)
    l1 = torch.tensor([lv if f == L1 else 0.0 for _, f, lv in instances])
    train_idx, test_idx = splits(cfg)
    answers = labels(all_pairs(P), P)
    a, b = train_idx // P, train_idx % P
    offset = (torch.arange(n) * P)[:, None]  # instance i's table rows start at i * p
    # The co-trained dictionary reads the coupled hosts only: the first instances.
    n_coupled = sum(f == COUPLED for _, f, _ in instances)
    assert all(f == COUPLED for _, f, _ in instances[:n_coupled])
    symbiote = FirstInstances(
        DenseTopKSAE(
            TopKConfig(
                d_in=m, d_sae=p.symbiote_size, n_instances=n_coupled, k=p.symbiote_k,
                seed=p.seeds[0],
            )
        ),
        n_coupled,
    )  # fmt: skip

    def task(h: ModAddModel, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        # The host's full-batch step (as `ModAddModel.fast_logits`, through per-token
        # tables), keeping the hidden layer for the symbiote.
        # The bias is folded into a's table (p rows, not one per pair), and rows are
        # picked from the tables flattened over instances: both cheaper than the obvious
        # forms on one CPU thread.
        d = h.cfg.d_model
        T_a = (h.W_E @ h.mlp.W_in[:, :d] + h.mlp.b_in[:, None]).reshape(n * P, m)
        T_b = (h.W_E @ h.mlp.W_in[:, d:]).reshape(n * P, m)

        def hidden(ia: torch.Tensor, ib: torch.Tensor) -> torch.Tensor:
            pre = T_a.index_select(0, (ia + offset).flatten()) + T_b.index_select(
                0, (ib + offset).flatten()
            )
            return torch.relu(pre.view(n, -1, m))

        full = hidden(a, b)  # (n, pairs, d_mlp)
        # The L1 baseline's neuron sum rides along the unembedding as one more output
        # column: its gradient then joins the logits' in one matmul, where a separate sum
        # cost a full-batch add in the backward pass.
        W = torch.cat([h.unembed.W_U, ones], -1)  # (n, d_mlp, p + 1)
        out = torch.baddbmm(torch.cat([h.unembed.b_U, zero], -1)[:, None], full, W)
        loss = (
            torch.nn.functional.cross_entropy(
                out[..., :P].reshape(-1, P), targets, reduction="none"
            )
            .view(n, -1)
            .mean(1)
        )
        # The L1 baseline, weighted relative to the task loss like the coupling.
        size = out[..., P].mean(1)  # (n,): the neurons are non-negative
        loss = loss + l1 * (loss / size.clamp_min(1e-12)).detach() * size
        # The symbiote's rows are recomputed, not sliced from the full batch: slicing
        # costs a full-batch zero tensor in the backward pass.
        rows = torch.randperm(a.shape[1], generator=generator)[: p.symbiote_batch]
        return loss, hidden(a[:, rows], b[:, rows]).transpose(0, 1)  # (batch, n, m)

    ones, zero = torch.ones(n, m, 1), torch.zeros(n, 1)
    targets = answers[train_idx].flatten()
    accuracy: dict[int, list[float]] = {}

    def observe(step: int, h: ModAddModel) -> None:
        if step % p.log_every == 0 or step == p.steps:
            right = h.grid_logits().argmax(-1).gather(1, test_idx) == answers[test_idx]
            accuracy[step] = right.double().mean(1).tolist()

    cotrain(
        host,
        symbiote,
        task,
        CoTrainConfig(
            coupling=[lv if f == COUPLED else 0.0 for _, f, lv in instances],
            steps=p.steps,
            symbiote_steps=p.symbiote_steps,
            host_lr=p.host.lr,
            symbiote_lr=p.symbiote_lr,
            host_weight_decay=p.host.weight_decay,
            host_betas=(0.9, 0.98),  # the host's own (`train_modadd`)
            host_lr_factor=lambda step: lr_factor(cfg, step),
            seed=p.seeds[0],
            log_every=p.steps,
        ),
        observe,
    )

    h = host.hidden_grid().flatten(1, 2).double()  # (n, p*p, d_mlp)
    acts = h.float().transpose(0, 1)  # (p*p, n, d_mlp)
    ours = acts[:, :n_coupled]
    with torch.no_grad():  # the co-trained symbiote as co-training left it, on every pair
        cotrained_fvu = normalised_error(ours, symbiote.inner(ours).recon).tolist()
    # Then, on the frozen hosts, a fresh reader per host and the co-trained one's catch-up:
    # one batched run, the fresh readers its first n instances.
    # Catch-up only where the FVUs are compared: the coupled hosts up to the interior
    # coupling (the first ones); past it the hosts are at chance and near silent.
    n_caught = sum(f == COUPLED and lv <= MID for _, f, lv in instances)
    assert all(lv <= MID for _, _, lv in instances[:n_caught])
    readers = _grow_readers(acts, symbiote.inner, seeds, p, n_caught)
    with torch.no_grad():
        read = readers(torch.cat([acts, ours[:, :n_caught]], 1))  # recon (p*p, n + c, d)
        symbiote_fvu = normalised_error(ours[:, :n_caught], read.recon[:, n:]).tolist()
    rows = []
    for i, (seed, family, level) in enumerate(instances):
        row = {"seed": seed, "family": family, "level": level} | _measure(
            host, i, h[i], read.recon[:, i], read.latents[:, i], answers,
            train_idx[i], test_idx[i], p,
        )  # fmt: skip
        # The co-trained dictionary's FVU, and its ratio to the fresh one's: only on the
        # coupled hosts (the others have none) and where both are defined.
        has = i < n_coupled and row["reader_fvu"] is not None
        ours_fvu = symbiote_fvu[i] if has and i < n_caught else None
        before = cotrained_fvu[i] if has else None
        defined = has and row["reader_fvu"] > 0
        rows.append(
            row
            | {
                "symbiote_fvu": None if ours_fvu is None else round(ours_fvu, 5),
                "fvu_ratio": round(ours_fvu / row["reader_fvu"], 4)
                if defined and ours_fvu is not None
                else None,
                "cotrained_fvu": None if before is None else round(before, 5),
                "cotrained_ratio": round(before / row["reader_fvu"], 4) if defined else None,
                "grok_step": next(
                    (s for s in sorted(accuracy) if accuracy[s][i] >= p.grok_accuracy),
                    p.steps + p.log_every,  # never: one logging step past the end
                ),
            }
        )  # fmt: skip
    return {
        "rows": rows,
        "seeds": list(p.seeds),
        "couplings": list(p.couplings),
        "l1s": list(p.l1s),
        "widths": list(p.widths),
        "steps": p.steps,
        "p": P,
        "d_mlp": m,
        "symbiote_size": p.symbiote_size,
        "symbiote_k": p.symbiote_k,
        "grok_accuracy": p.grok_accuracy,
    }


def _grow_readers(
    acts: torch.Tensor, cotrained: Any, seeds: list[int], p: Params, count: int | None = None
) -> Any:
    """Fresh TopK dictionaries on the frozen hosts' neurons over every pair (one per host,
    `acts` `(p*p, n, d)`), and the co-trained dictionaries' catch-up, trained as one
    batched dictionary (`cotrain.catch_up`): its first n instances are the fresh readers,
    each seeded by its host's seed and centred on its data, the rest start as the first
    `count` instances of `cotrained` (which reads the first hosts; all of them when None)
    left co-training. One recipe, one run, the same pairs per step for both."""
    import torch

    from figures_src._lab.symbiosis_dense import DenseTopKSAE
    from symbiote_core.cotrain import catch_up
    from symbiote_core.symbiotes.topk import TopKConfig

    n, d = acts.shape[1], acts.shape[-1]
    c = cotrained.n_instances if count is None else count

    def dictionary(count: int, instance_seeds: list[int] | None = None) -> Any:
        return DenseTopKSAE(
            TopKConfig(
                d_in=d,
                d_sae=p.symbiote_size,
                n_instances=count,
                k=p.symbiote_k,
                instance_seeds=instance_seeds,
            )
        )

    fresh = dictionary(n, seeds)
    fresh.init_from_data(acts)
    both = dictionary(n + c)
    start = {k: v[:c] for k, v in cotrained.state_dict().items()}
    if p.catch_up_start not in ("retie", "as_left"):
        raise ValueError(f"catch_up_start must be 'retie' or 'as_left', got {p.catch_up_start!r}")
    if p.catch_up_start == "retie":  # keep the atoms, restart the encoder from them
        start["W_enc"] = start["W_dec"].transpose(1, 2).contiguous()
        start["b_enc"] = torch.zeros_like(start["b_enc"])
        start["b_dec"] = acts[:, :c].mean(0)
    both.load_state_dict({k: torch.cat([v, start[k]]) for k, v in fresh.state_dict().items()})
    catch_up(
        both,
        torch.cat([acts, acts[:, :c]], 1),
        p.reader_steps,
        p.reader_batch,
        p.reader_lr,
        seed=p.seeds[0] + 1,  # apart from the co-training's stream
        decay_from=p.reader_decay_from,
    )
    return both


def _measure(
    host: Any,
    i: int,
    h: torch.Tensor,
    recon: torch.Tensor,
    z: torch.Tensor,
    answers: torch.Tensor,
    train: torch.Tensor,
    test: torch.Tensor,
    p: Params,
) -> dict[str, Any]:
    """One frozen host: its task, its key frequencies, and the fresh reader's
    faithfulness (loss recovered) and answer latents."""
    import torch.nn.functional as F

    from figures_src._lab.modadd import key_frequencies
    from figures_src._lab.modadd_reading import DICTIONARY, unit_rows
    from symbiote_core.fourier import frequency_spectrum
    from symbiote_core.metrics import fvu

    P = p.host.p
    W_U = host.unembed.W_U[i].detach().double()
    b_U = host.unembed.b_U[i].detach().double()
    spectrum = frequency_spectrum(host.W_E[i].detach().double(), P)
    key = key_frequencies(spectrum, P)
    recon, z = recon.double(), z.double()  # (p*p, d), (p*p, d_sae)

    def loss(hidden: torch.Tensor, rows: torch.Tensor) -> float:
        return F.cross_entropy(hidden[rows] @ W_U + b_U, answers[rows]).item()

    def acc(hidden: torch.Tensor, rows: torch.Tensor) -> float:
        return ((hidden[rows] @ W_U + b_U).argmax(-1) == answers[rows]).double().mean().item()

    every = slice(None)  # every pair
    clean, spliced = loss(h, every), loss(recon, every)
    ablated = loss(h.mean(0).expand_as(h), every)  # mean-ablated neurons: the host's prior
    gap = ablated - clean
    variance = (h - h.mean(0)).pow(2).sum(-1).mean().item()
    silent = variance < p.silent_variance
    live = (z > 0).any(0)
    n_live = int(live.sum())  # a silent host can leave the reader no live latent
    names = list(map(str, range(n_live)))
    units = unit_rows(z[:, live].float(), DICTIONARY, P, key, names) if n_live else []
    return {
        "train_loss": float(f"{loss(h, train):.4g}"),
        "test_loss": float(f"{loss(h, test):.4g}"),
        "test_acc": round(acc(h, test), 5),
        "n_key": len(key),
        "neuron_variance": float(f"{variance:.4g}"),
        "silent": silent,
        "reader_fvu": None if silent else round(fvu(h, recon).item(), 5),
        "reader_live": int(live.sum()),
        "answer_latents": sum(u["answer_share"] > p.answer_share for u in units),
        "splice_acc": round(acc(recon, test), 5),  # held out
        "ablated_loss": float(f"{ablated:.4g}"),  # on every pair
        # Loss recovered only means something where ablating the neurons costs loss.
        "reader_recovered": round((ablated - spliced) / gap, 5) if gap > p.defined_gap else None,
    }


def _rows(data: dict[str, Any]) -> tuple[list[dict[str, Any]], list[int]]:
    return data["rows"], data["seeds"]


def render(data: dict[str, Any]) -> alt.VConcatChart:
    # Imported here, not at the top: a top-level import is part of the data key, and
    # colours must only re-render.
    from figures_src._lab import symbiosis_charts as charts
    from symbiote_core.figures.authoring import palette

    top, middle = charts.sweep_chart(alt, palette, data["rows"], METRICS, data["couplings"])
    pareto = charts.pareto_chart(
        alt, palette, data["rows"], ("test_loss", "held-out loss (nats)"), READABILITY
    )
    # The sweep colours hosts (coupled, null), the trade-off families: two scales.
    return (
        alt.vconcat(top, middle, pareto)
        .resolve_scale(color="independent")
        .properties(
            description="Top two rows: six panels against the coupling, one point per seed and "
            "a line through the coupled hosts' means, grey points at the left for the null "
            "hosts: held-out accuracy and loss, the step the host groks, a fresh faithful "
            "dictionary's loss recovered and answer latents, and the co-trained dictionary's "
            "FVU over the fresh one's. Bottom row: held-out loss against the two readability "
            "scores for the coupled hosts and the two baselines (an L1 penalty on the neurons, "
            "narrower hosts), a line through each arm's means."
        )
    )


def _worst(metric: str, pick: Any = max) -> Any:
    """Per seed, the largest (or `pick`) `metric` over the coupled hosts at the couplings
    where the FVUs are quoted (`_DEFINED`); infinite where none is defined, so a claim on
    it fails there."""

    def value(d: dict[str, Any]) -> list[float]:
        at = [sym.per_seed(d["rows"], d["seeds"], COUPLED, c, metric) for c in _DEFINED]
        return [
            pick((v for v in vs if v is not None), default=math.inf)
            for vs in zip(*at, strict=True)
        ]

    return value


def _equal_loss(family: str, metric: str, where: tuple[str, float]) -> Any:
    return lambda d: sym.at_equal_loss(d["rows"], d["seeds"], family, "test_loss", metric, where)


PARAMS = Params()
MID = 0.1
"""The interior coupling the claims test: the largest coupling of the sweep at which every
tuning host (seeds 0-4) still groks within the steps. Kept from the earlier version of
this figure; on this version's tuning run all five hosts grokked at 0.1 (held-out
accuracy 0.95-1.00), none at 1. (No coupling moved the tuning means of held-out loss or
loss recovered beyond the margins below: the trade-off here is a cliff between 0.1 and 1.)"""
_MID = sym.slug(MID)
_METRICS = (
    "test_acc", "test_loss", "train_loss", "grok_step", "n_key", "neuron_variance",
    "reader_live", "answer_latents", "splice_acc", "ablated_loss",
)  # fmt: skip
"""Measures every host has (a number on every seed)."""
_UNDEFINED_ON_SILENT = (
    "reader_fvu", "symbiote_fvu", "fvu_ratio", "cotrained_fvu", "cotrained_ratio", "reader_recovered",
)  # fmt: skip
"""Measures that a silent host leaves undefined (None), and that only the coupled hosts
have (the co-trained dictionary's): named only where the tuning seeds' hosts learned."""
_WORDS = {
    "test_acc": "held-out accuracy",
    "test_loss": "held-out loss (nats)",
    "train_loss": "training loss (nats)",
    "grok_step": "the step the host groks",
    "n_key": "key frequencies of the host's embedding",
    "neuron_variance": "the variance of the host's neurons",
    "reader_live": "live latents of a fresh dictionary reading the frozen host",
    "answer_latents": "answer latents of a fresh dictionary reading the frozen host",
    "splice_acc": "held-out accuracy with the fresh dictionary spliced in",
    "ablated_loss": "the loss with the host's neurons mean-ablated",
    "reader_fvu": "the variance a fresh dictionary leaves unexplained",
    "symbiote_fvu": "the variance the co-trained dictionary leaves unexplained after its "
    "reader-only catch-up",
    "fvu_ratio": "the co-trained dictionary's FVU over a fresh dictionary's, after catch-up",
    "cotrained_fvu": "the variance the co-trained dictionary leaves unexplained at the end of "
    "co-training, before catch-up",
    "cotrained_ratio": "the co-trained dictionary's FVU over a fresh dictionary's at the end "
    "of co-training, before catch-up",
    "reader_recovered": "the loss a fresh dictionary recovers when spliced in",
}
"""Each measure in words (value descriptions)."""
_PLACES = {
    "uncoupled": (COUPLED, 0.0),
    "null": (NULL, 0.0),
    **{f"at_{sym.slug(c)}": (COUPLED, c) for c in PARAMS.couplings},
    **{f"l1_{sym.slug(s)}": (L1, s) for s in PARAMS.l1s},
    **{f"width_{w}": (NARROW, float(w)) for w in PARAMS.widths},
}
"""Every arm's name in value names (as `_lab.symbiosis.arm_values`) and its (family, level)."""
_DEFINED = tuple(c for c in PARAMS.couplings if c <= MID)
"""Couplings at which the measures above are quoted: where the tuning seeds' hosts still
learned (a silent host's mean-ablated neurons cost nothing, so loss recovered is
undefined there, and so is an FVU, a share of no variance)."""
MARGINS = {"test_loss": 1.3, "reader_recovered": 0.022}
"""A difference counts when it exceeds these: the largest difference between the
uncoupled and the null host of one seed on the tuning seeds 0-4, rounded up to two
significant digits, the toy figure's criterion. Measured for the present reader and
numerics (MKL's COMPATIBLE branch) by the figure's own compute on the tuning seeds
(`bench/tune_symbiosis_margins.py`),
uncoupled and null hosts only: held-out loss differs by 0.74-1.27 nats (so 1.3), loss
recovered by 0.002-0.021 (so 0.022). This run came after the evaluation seeds' values had
been seen; the criterion did not change, only the numbers it was applied to. The margins
before (1.2 and 0.14) were measured with an earlier fresh reader of 200 steps, whose loss
recovered spread far more between two hosts of one seed; the earliest version's were 0.75
and 0.05. (Answer latents had a margin of five latents too; their claims were dropped when
no dictionary on the evaluation seeds found any, which left the null no room to move. The
present reader finds none to six per host, still too few to claim on.)"""
_WHY = (
    "the margin is the largest difference between the uncoupled host and the null host of "
    "one seed on the tuning seeds 0-4, rounded up to two significant digits, so run-to-run "
    "noise alone cannot clear it; re-measured for the present reader after the evaluation "
    "values were seen, by the same criterion"
)
_NULL = "the second uncoupled host of each seed (same pairs, other initial weights)"


def _vs_uncoupled(
    name: str, statement: str, metric: str, rising: bool, stated: Stated = "holds"
) -> Claim:
    at, none = f"{metric}_at_{_MID}", f"{metric}_uncoupled"
    left, right = (at, none) if rising else (none, at)
    return Claim(
        name=name,
        statement=statement,
        left=left,
        op=">",
        right=right,
        margin=MARGINS[metric],
        control="the same seed's uncoupled host (same initial weights, same pairs)",
        why=_WHY,
        stated=stated,
        null=Null(
            description=f"{_NULL} in place of the coupled one", values={at: f"replicate_{at}"}
        ),
    )


def _vs_baseline(
    name: str, statement: str, metric: str, family: str, tag: str, stated: Stated = "holds"
) -> Claim:
    return Claim(
        name=name,
        statement=statement,
        left=f"{metric}_at_{_MID}",
        op=">",
        right=f"{metric}_{tag}_equal_loss",
        margin=MARGINS[metric],
        control=f"the {family} baseline of the same seed at the coupled host's held-out loss "
        "(interpolated along its arms, the uncoupled host its weakest member)",
        why=_WHY,
        stated=stated,
        null=Null(
            description=f"{_NULL} in place of the coupled one, against the baseline at its "
            "own held-out loss",
            values={
                f"{metric}_at_{_MID}": f"replicate_{metric}_at_{_MID}",
                f"{metric}_{tag}_equal_loss": f"replicate_{metric}_{tag}_equal_loss",
            },
        ),
    )


ALT = (
    "Top: six panels against the coupling ({{ param: symbiosis_modadd.couplings }}). Uncoupled, "
    "held-out accuracy is {{ value: symbiosis_modadd.test_acc_uncoupled | .0% mean }} and a fresh "
    "dictionary recovers {{ value: symbiosis_modadd.reader_recovered_uncoupled | .2f mean }} of "
    "the loss with {{ value: symbiosis_modadd.answer_latents_uncoupled | .0f mean }} answer "
    "latents; at λ = {{ value: symbiosis_modadd.mid }}, "
    "{{ value: symbiosis_modadd.test_acc_mid | .0% mean }}, "
    "{{ value: symbiosis_modadd.reader_recovered_mid | .2f mean }} and "
    "{{ value: symbiosis_modadd.answer_latents_mid | .0f mean }}; at λ = "
    "{{ value: symbiosis_modadd.strongest }}, {{ value: symbiosis_modadd.test_acc_at_1 | .1% mean }} "
    "held-out accuracy. The co-trained dictionary's FVU is "
    "{{ value: symbiosis_modadd.fvu_ratio_uncoupled | .2f mean }} times the fresh one's uncoupled. "
    "Bottom: held-out loss against the two readability scores, with the L1 and narrow-host "
    "baselines. Means over {{ value: symbiosis_modadd.n_seeds }} seeds."
)

METHODS = (
    "**Host.** The embedding + MLP of section 4 on (a + b) mod {{ param: symbiosis_modadd.host.p }}, "
    "full-batch on {{ param: symbiosis_modadd.host.train_fraction | .0% }} of the pairs with AdamW "
    "(learning rate {{ param: symbiosis_modadd.host.lr }}, weight decay "
    "{{ param: symbiosis_modadd.host.weight_decay }}) for {{ param: symbiosis_modadd.steps }} steps, "
    "before the learning rate of section 4 starts to decay. **Symbiote.** A TopK dictionary with "
    "{{ param: symbiosis_modadd.symbiote_size }} latents, {{ param: symbiosis_modadd.symbiote_k }} "
    "active, on the hidden neurons, trained at learning rate "
    "{{ param: symbiosis_modadd.symbiote_lr }}, {{ param: symbiosis_modadd.symbiote_steps }} steps "
    "per host step on {{ param: symbiosis_modadd.symbiote_batch }} training pairs, together with "
    "each coupled host (coupling 0 included; the null and baseline hosts train without one), "
    "then {{ param: symbiosis_modadd.reader_steps }} reader-only catch-up steps on the frozen "
    "host, trained as the fresh reader is, from its atoms with its encoder restarted tied to "
    "them (catch-up start {{ param: symbiosis_modadd.catch_up_start }}; its FVU is reported "
    "before and after): "
    "the host's loss adds the dictionary's normalised reconstruction error times the "
    "coupling, relative to the task loss (`symbiote_core.cotrain`), for couplings "
    "{{ param: symbiosis_modadd.couplings }}. **Baselines.** The same host with an L1 penalty on "
    "its neurons in place of the coupling (weights {{ param: symbiosis_modadd.l1s }}, relative in "
    "the same way), and hosts with only {{ param: symbiosis_modadd.widths }} of the neurons. "
    "**Measured afterwards on the frozen host.** Held-out accuracy and loss; the grokking step "
    "(the first logged step, every {{ param: symbiosis_modadd.log_every }}, with "
    "{{ param: symbiosis_modadd.grok_accuracy | .0% }} of held-out pairs right); a fresh dictionary "
    "of the same size and sparsity ({{ param: symbiosis_modadd.reader_steps }} Adam steps of batch "
    "{{ param: symbiosis_modadd.reader_batch }}, learning rate {{ param: symbiosis_modadd.reader_lr }}, "
    "falling linearly to 0 after the first "
    "{{ param: symbiosis_modadd.reader_decay_from | .0% }} of the steps) "
    "scored by loss recovered when spliced (against mean-ablating the neurons, on every pair, "
    "only where that costs more than {{ param: symbiosis_modadd.defined_gap }} nats) and "
    "by its answer latents (more than {{ param: symbiosis_modadd.answer_share | .0% }} of a "
    "latent's variance a function of (a + b) mod p alone); on a silent host (neuron variance "
    "below {{ param: symbiosis_modadd.silent_variance }}) the FVUs and loss recovered are "
    "undefined and not drawn. **Comparison at equal task loss.** "
    "Per seed, a baseline's score is interpolated along its arms at the coupled host's held-out "
    "loss. **Null.** A second uncoupled host per seed, from the initial weights of seed + "
    "{{ param: symbiosis_modadd.null_init_offset }} on the same pairs. **Seeds.** Evaluated on "
    "{{ param: symbiosis_modadd.seeds }}; couplings, baselines, the reader's schedule and the "
    "margins were chosen on seeds 0-4. All hosts train batched as instances of one set of tensors."
)


FIGURE = Figure(
    title="Trained with its reader, the modular-addition host gets no easier to read",
    caption=(
        f"The hosts of section 4, {len(PARAMS.seeds)} seeds, train for {PARAMS.steps} steps "
        f"together with a TopK dictionary ({PARAMS.symbiote_size} latents, "
        f"{PARAMS.symbiote_k} active) on their hidden neurons, for a sweep of coupling "
        "strengths λ (the weight of the dictionary's normalised reconstruction error, relative "
        "to the task loss), beside hosts made sparser by an L1 penalty or narrower. After "
        "training, each host is frozen and a fresh dictionary of the same size is grown on its "
        "neurons. Top rows: one point per seed, the line joins the means, grey at the left the "
        "null hosts. Bottom row: the trade-off against the baselines."
    ),
    alt=ALT,
    methods=METHODS,
    params=PARAMS,
    compute=compute,
    render=render,
    tuning_seeds=(0, 1, 2, 3, 4),
    tuning_note="the couplings and the interior coupling come from the earlier version of "
    "this figure on these seeds; the baselines' strengths and widths and the claims' margins "
    "from a tuning run of this version on them, the readers' steps, learning rate and "
    "schedule from a later one, the co-trained reader's catch-up start from a third "
    "(bench/tune_symbiosis_reader.py; see Params and MARGINS)",
    values={
        "n_seeds": ("evaluation seeds", lambda d: len(d["seeds"])),
        "mid": ("the interior coupling the claims test", lambda d: MID),
        "steps": ("training steps of every host", lambda d: d["steps"]),
        "strongest": ("the strongest coupling of the sweep", lambda d: max(d["couplings"])),
        "symbiote_size": ("the co-trained dictionary's latents", lambda d: d["symbiote_size"]),
        "symbiote_k": ("latents active per pair in the co-trained dictionary (TopK)", lambda d: d["symbiote_k"]),
        "chance": ("chance accuracy (one in p)", lambda d: 1 / d["p"]),
        "uniform_loss": ("the loss of a uniform guess (nats)", lambda d: math.log(d["p"])),
        "never_step": ("the step recorded for a host that never groks", lambda d: d["steps"] + PARAMS.log_every),
        **sym.arm_values(_rows, _METRICS, PARAMS.couplings, PARAMS.l1s, PARAMS.widths, _WORDS),
        **{
            f"{m}_{where}": (f"{_WORDS[m]}, {sym.arm_words(*arm)}", lambda d, m=m, arm=arm: sym.per_seed(*_rows(d), *arm, m))
            for m in _UNDEFINED_ON_SILENT
            for where, arm in (
                ("uncoupled", (COUPLED, 0.0)),
                *((f"at_{sym.slug(c)}", (COUPLED, c)) for c in _DEFINED),
                *((("null", (NULL, 0.0)),) if m in ("reader_fvu", "reader_recovered") else ()),
            )
        },
        **{
            f"{m}_mid": (f"{_WORDS[m]}, the host coupled at the interior coupling", lambda d, m=m: sym.per_seed(d["rows"], d["seeds"], COUPLED, MID, m))
            for m in (*_METRICS, *_UNDEFINED_ON_SILENT)
        },
        # Hosts whose neurons carry no variance, per arm: how many of the seeds.
        **{
            f"silent_{where}": (f"seeds on which the host's neurons carry no variance, {sym.arm_words(*arm)}", lambda d, arm=arm: sum(sym.per_seed(*_rows(d), *arm, "silent")))
            for where, arm in _PLACES.items()
        },
        # The null's values, named after the value each stands in for (rules.NULL_NAMING).
        **{
            f"replicate_{m}_at_{_MID}": (
                f"{_WORDS[m]}, the second uncoupled host (the null)", lambda d, m=m: sym.per_seed(d["rows"], d["seeds"], NULL, 0.0, m)
            )
            for m in (*_METRICS, "reader_recovered", "reader_fvu")
        },
        "match_ratio": ("the largest ratio of the co-trained to the fresh dictionary's FVU that counts as a match", lambda d: PARAMS.match_ratio),
        "fvu_ratio_worst": ("the largest ratio of the co-trained dictionary's FVU, after catch-up, to a fresh one's over the coupled hosts that learn (couplings up to the interior one)", _worst("fvu_ratio")),
        "fvu_ratio_best": ("the smallest such ratio", _worst("fvu_ratio", min)),
        "before_catch_up_fvu_ratio_worst": ("the same ratio for the co-trained dictionary as co-training left it, before catch-up (the null)", _worst("cotrained_ratio")),
        **{
            f"grokked_at_{sym.slug(c)}": (
                f"seeds whose host coupled at {c:g} groks within training", lambda d, c=c: sum(
                    g <= d["steps"]
                    for g in sym.per_seed(d["rows"], d["seeds"], COUPLED, c, "grok_step")
                )
            )
            for c in PARAMS.couplings
        },
        **{
            f"{prefix}{metric}_{tag}_equal_loss": (f"{_WORDS[metric]}, the {family} baseline at the held-out loss of {sym.arm_words(*where)}", _equal_loss(family, metric, where))
            for metric in ("reader_recovered", "answer_latents")
            for tag, family in (("l1", L1), ("narrow", NARROW))
            for prefix, where in (("", (COUPLED, MID)), ("replicate_", (NULL, 0.0)))
        },
    },
    claims=(
        Claim(
            name="cotrained_reader_matches_fresh",
            statement="After its catch-up (its atoms kept, its encoder restarted from them), "
            "the co-trained dictionary leaves at most "
            f"{PARAMS.match_ratio:g} times the variance a fresh dictionary leaves unexplained, on every coupled host that "
            "learns.",
            left="fvu_ratio_worst",
            op="<",
            right=PARAMS.match_ratio,
            control="a fresh dictionary of the same size and sparsity, grown on the same "
            "frozen host with the same steps, batch, learning rate and schedule",
            why="the issue's criterion for a co-trained reader as good as a fresh one "
            "(within about a tenth of its FVU), fixed before any evaluation seed was run",
            null=Null(
                description="the co-trained dictionary as co-training left it, before its "
                "catch-up",
                values={"fvu_ratio_worst": "before_catch_up_fvu_ratio_worst"},
            ),
            stated="fails",  # tuning seeds 0-4, re-tied: 0.96-1.21, 5 of 20 hosts above 1.1
        ),
        _vs_uncoupled(
            "coupling_costs_task_loss",
            "At the interior coupling the host's held-out loss is higher than uncoupled.",
            "test_loss",
            rising=True,
            stated="fails",  # seeds 5-9: higher on one (the latest to grok), lower on four
        ),
        _vs_uncoupled(
            "reader_more_faithful",
            "A fresh dictionary recovers more of the host's loss than on the uncoupled host.",
            "reader_recovered",
            rising=True,
            stated="fails",  # seeds 5-9: near 1 on every host, not beyond the margin on every seed
        ),
        _vs_baseline(
            "beats_l1_at_equal_loss",
            "At equal held-out loss, a fresh dictionary recovers more of the coupled host's "
            "loss than of a host trained with an L1 penalty on its neurons.",
            "reader_recovered",
            "L1",
            "l1",
            stated="fails",  # seeds 5-9: not ahead of the L1 family by the margin on every seed
        ),
        _vs_baseline(
            "beats_narrow_at_equal_loss",
            "At equal held-out loss, it recovers more of the coupled host's loss than of a "
            "narrower host.",
            "reader_recovered",
            "narrower-host",
            "narrow",
            stated="fails",  # seeds 5-9: not ahead of the narrower hosts by the margin on every seed
        ),
    ),
)
