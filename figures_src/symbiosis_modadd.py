"""Symbiosis on the modular-addition host: grown with its reader, it learns less, not clearer.

The hosts of section 4 (`figures_src._modadd.HostParams`: embedding + one ReLU layer
on (a + b) mod p) train together with a TopK dictionary on their hidden neurons
(site `mlp.hidden`), for a sweep of coupling strengths. The coupling is the one of
the toy host (`symbiote_core.cotrain`): the dictionary's normalised reconstruction
error, weighted relative to the task loss. The host keeps its own recipe (full
batch, AdamW with strong weight decay, the late learning-rate decay), so a coupling
of 0 is the plain host. Every coupling and seed is one instance of one batched run,
and a seed's hosts start from the same weights and train on the same pairs.

After training, each host is frozen and measured the way section 4 measures its
hosts: held-out accuracy and loss, the step it groks (half the held-out pairs right),
the key frequencies of its embedding; a fresh TopK dictionary grown on its neurons
(never coupled) scored for frequency purity (`modadd_readers._units`) and for
faithfulness (loss recovered when spliced in); and the causal test of
`modadd_causal._read`, mean-ablating the key-frequency subspace against random
directions.

The null of every claim is a second uncoupled host per seed: the same training pairs,
its own initial weights. It shows how far two runs that differ only in their draw
of initial weights drift apart.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import altair as alt

from figures_src._modadd import SEEDS, HostParams
from symbiote_core.figures.authoring.spec import Claim, Figure, Null

if TYPE_CHECKING:
    import torch

METRICS = (
    ("test_acc", "held-out accuracy"),
    ("grok_step", "step it groks (half the held-out pairs right)"),
    ("reader_purity", "fresh dictionary: median frequency purity"),
    ("reader_recovered", "fresh dictionary: loss recovered when spliced"),
    ("key_ablated_acc", "accuracy with the key subspace ablated"),
    ("n_key", "key frequencies in the embedding"),
)


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = SEEDS
    host: HostParams = field(default_factory=HostParams)
    steps: int = 1000
    """The first 1,000 of section 4's 2,000 steps, all before its learning rate starts to
    fall (step 1,400): the build's budget buys no more. Uncoupled, the section's hosts
    pass half their held-out pairs by step 850 on every seed and get 78-99% right at
    step 1,000 (exploration run, seeds 0-4)."""
    couplings: tuple[float, ...] = (0.0, 0.1, 0.14, 0.2)
    """Spaced by factors of about the square root of two across the trade-off that
    exploration runs found: 0.003-0.05 changed nothing, at 0.1 some seeds grokked later,
    and from 0.2 on every seed stayed at chance. The last is the strongest coupling the
    claims compare."""
    symbiote_size: int = 128
    """Latents of the co-trained and of the fresh dictionary: as many as the host has
    neurons, as in `modadd_readers`."""
    symbiote_k: int = 4
    """Active latents per input: `modadd_readers`' headline sparsity."""
    symbiote_lr: float = 1e-2
    symbiote_batch: int = 32
    """Training pairs per step that the symbiote reads (and its error is measured on):
    a seeded draw of the host's full batch; the whole batch cost twice the host's step."""
    null_init_offset: int = 1000
    """The null host of seed s starts from the initial weights of seed s + this (and
    trains on seed s's pairs)."""
    log_every: int = 50
    """Held-out accuracy is measured every this many steps (for the grokking step)."""
    grok_accuracy: float = 0.5
    """As in `modadd_training`: the step half of the held-out pairs come right."""
    reader_steps: int = 100
    reader_batch: int = 256
    reader_lr: float = 1e-2
    n_random: int = 8
    """Draws of random directions for the ablation control (as in `modadd_causal`)."""
    defined_gap: float = 0.1
    """Loss recovered is reported only where mean-ablating the neurons costs more than
    this many nats (held out): below it, the share of a vanishing gap is noise."""


def _instances(p: Params) -> list[tuple[int, float | None]]:
    """(seed, coupling) per instance; coupling None is the null's second uncoupled host."""
    return [(s, c) for c in p.couplings for s in p.seeds] + [(s, None) for s in p.seeds]


def compute(p: Params) -> dict[str, Any]:
    import torch

    from figures_src._modadd import host_config
    from symbiote_core.cotrain import CoTrainConfig, cotrain, normalised_error
    from symbiote_core.hosts.modadd import ModAddModel, all_pairs, labels, lr_factor, splits
    from symbiote_core.runtime import make_deterministic
    from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE

    instances = _instances(p)
    n, P = len(instances), p.host.p
    seeds = [s for s, _ in instances]
    # Splits by the instance's seed; initial weights by it too, except the null hosts'.
    cfg = host_config(p.host, seeds)
    init = [s + p.null_init_offset if c is None else s for s, c in instances]
    make_deterministic(p.seeds[0])
    host = ModAddModel(host_config(p.host, init))
    train_idx, test_idx = splits(cfg)
    answers = labels(all_pairs(P), P)
    a, b = train_idx // P, train_idx % P
    offset = (torch.arange(n) * P)[:, None]  # instance i's table rows start at i * p
    symbiote = TopKSAE(
        TopKConfig(
            d_in=host.cfg.d_mlp,
            d_sae=p.symbiote_size,
            n_instances=n,
            k=p.symbiote_k,
            seed=p.seeds[0],
        )
    )

    def task(h: ModAddModel, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        # The host's full-batch step (as `ModAddModel.fast_logits`, through per-token
        # tables), keeping the hidden layer for the symbiote.
        # The bias is folded into a's table (p rows, not one per pair), and rows are
        # picked from the tables flattened over instances: both cheaper than the obvious
        # forms on one CPU thread.
        d, m = h.cfg.d_model, h.cfg.d_mlp
        T_a = (h.W_E @ h.mlp.W_in[:, :d] + h.mlp.b_in[:, None]).reshape(n * P, m)
        T_b = (h.W_E @ h.mlp.W_in[:, d:]).reshape(n * P, m)

        def hidden(ia: torch.Tensor, ib: torch.Tensor) -> torch.Tensor:
            pre = T_a.index_select(0, (ia + offset).flatten()) + T_b.index_select(
                0, (ib + offset).flatten()
            )
            return torch.relu(pre.view(n, -1, m))

        logits = torch.baddbmm(h.unembed.b_U[:, None], hidden(a, b), h.unembed.W_U)
        loss = torch.nn.functional.cross_entropy(
            logits.transpose(1, 2), answers[train_idx], reduction="none"
        ).mean(1)
        # The symbiote's rows are recomputed, not sliced from the full batch: slicing
        # costs a full-batch zero tensor in the backward pass.
        rows = torch.randperm(a.shape[1], generator=generator)[: p.symbiote_batch]
        return loss, hidden(a[:, rows], b[:, rows]).transpose(0, 1)  # (batch, n, m)

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
            coupling=[0.0 if c is None else c for _, c in instances],
            steps=p.steps,
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
    with torch.no_grad():  # the co-trained symbiote, read on every pair
        acts = h.float().transpose(0, 1)  # (p*p, n, d_mlp)
        symbiote_fvu = normalised_error(acts, symbiote(acts).recon).tolist()
    reader = _grow_reader(h.float(), seeds, p)
    with torch.no_grad():
        read = reader(h.float().transpose(0, 1))  # recon (p*p, n, d), latents (p*p, n, d_sae)
    rows = []
    for i, (seed, coupling) in enumerate(instances):
        rows.append(
            {"seed": seed, "coupling": coupling}
            | _measure(
                host,
                i,
                seed,
                h[i],
                read.recon[:, i],
                read.latents[:, i],
                answers,
                train_idx[i],
                test_idx[i],
                p,
            )
            | {
                "symbiote_fvu": round(symbiote_fvu[i], 5),
                "grok_step": next(
                    (s for s in sorted(accuracy) if accuracy[s][i] >= p.grok_accuracy),
                    p.steps + p.log_every,  # never: one logging step past the end
                ),
            }
        )
    return {
        "rows": rows,
        "seeds": list(p.seeds),
        "couplings": list(p.couplings),
        "steps": p.steps,
        "p": P,
        "d_mlp": host.cfg.d_mlp,
        "symbiote_size": p.symbiote_size,
        "symbiote_k": p.symbiote_k,
        "grok_accuracy": p.grok_accuracy,
        "curves": [
            {"step": s, "acc": [round(v, 4) for v in accs]} for s, accs in sorted(accuracy.items())
        ],
    }


def _grow_reader(h: torch.Tensor, seeds: list[int], p: Params) -> Any:
    """A fresh TopK dictionary per instance on the frozen host's neurons over every pair,
    as `modadd_readers` grows its dictionaries: each instance starts from a dictionary
    seeded by its seed (so a seed's readers start alike whatever the coupling)."""
    import torch

    from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE
    from symbiote_core.train import TrainConfig, train

    n, d = h.shape[0], h.shape[-1]
    reader = TopKSAE(TopKConfig(d_in=d, d_sae=p.symbiote_size, n_instances=n, k=p.symbiote_k))
    with torch.no_grad():
        for j, seed in enumerate(seeds):
            start = TopKSAE(TopKConfig(d_in=d, d_sae=p.symbiote_size, k=p.symbiote_k, seed=seed))
            for name, tensor in start.named_parameters():
                getattr(reader, name)[j].copy_(tensor)
    train(
        reader,
        h.transpose(0, 1).contiguous(),  # (p*p, n, d)
        TrainConfig(
            steps=p.reader_steps,
            batch_size=p.reader_batch,
            lr=p.reader_lr,
            seed=p.seeds[0] + 1,  # apart from the co-training's stream
            progress=False,
        ),
    )
    return reader.eval()


def _measure(
    host: Any,
    i: int,
    seed: int,
    h: torch.Tensor,
    recon: torch.Tensor,
    z: torch.Tensor,
    answers: torch.Tensor,
    train: torch.Tensor,
    test: torch.Tensor,
    p: Params,
) -> dict[str, Any]:
    """One frozen host: task, key frequencies, the fresh reader, the key ablation."""
    import torch.nn.functional as F

    from figures_src._modadd import key_frequencies
    from figures_src.modadd_causal import Split, _read
    from figures_src.modadd_readers import DICTIONARY, _units
    from symbiote_core.fourier import frequency_spectrum, n_frequencies
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

    clean, spliced = loss(h, test), loss(recon, test)
    ablated = loss(h.mean(0).expand_as(h), test)  # mean-ablated neurons: the host's prior
    gap = ablated - clean
    live = (z > 0).any(0)
    units = _units(z[:, live].float(), DICTIONARY, P, key, [str(j) for j in range(int(live.sum()))])
    purities = [u["purity"] for u in units] or [0.0]
    # The causal test on the host's own key frequencies; a host whose spectrum has none
    # above the threshold is ablated at its strongest frequency (there is nothing else).
    ablate_at = key or [int(spectrum.argmax()) + 1]
    others = [k for k in range(1, n_frequencies(P) + 1) if k not in ablate_at]
    read = _read(
        h,
        W_U,
        b_U,
        Split(answers, train, test, P),
        ablate_at,
        others[: len(ablate_at)],
        p.n_random,
        seed,
    )
    return {
        "train_loss": float(f"{loss(h, train):.4g}"),
        "train_acc": round(acc(h, train), 5),
        "test_loss": float(f"{clean:.4g}"),
        "test_acc": round(acc(h, test), 5),
        "n_key": len(key),
        "key_share": round(sum(spectrum[k - 1].item() for k in key), 5),
        "neuron_variance": float(f"{(h - h.mean(0)).pow(2).sum(-1).mean().item():.4g}"),
        "reader_fvu": round(fvu(h, recon).item(), 5),
        "reader_live": int(live.sum()),
        "reader_purity": round(statistics.median(purities), 4),
        "reader_single_share": round(sum(x > 0.5 for x in purities) / len(purities), 4),
        "reader_key_share": round(
            sum(u["key"] and u["purity"] > 0.5 for u in units) / max(len(units), 1), 4
        ),
        "splice_loss": float(f"{spliced:.4g}"),
        "ablated_loss": float(f"{ablated:.4g}"),
        # Loss recovered only means something where ablating the neurons costs loss.
        "reader_recovered": round((ablated - spliced) / gap, 5) if gap > p.defined_gap else None,
        "key_ablated_acc": read["ablate_key"]["acc"],
        "random_ablated_acc": read["ablate_random"]["acc"],
    }


def _per_seed(data: dict[str, Any], coupling: float | None, metric: str) -> list[Any]:
    """One number per seed, in params order, at one coupling (None: the null host)."""
    by_seed = {r["seed"]: r[metric] for r in data["rows"] if r["coupling"] == coupling}
    return [by_seed[s] for s in data["seeds"]]


def _strongest(data: dict[str, Any]) -> float:
    return max(data["couplings"])


NULL_LABEL = "null"
"""The x position of the null hosts (uncoupled, from other initial weights); short, so
it does not run into the next label at 11 px."""


def render(data: dict[str, Any]) -> alt.VConcatChart:
    # Imported here, not at the top: a top-level import is part of the data key, and
    # colours must only re-render.
    from symbiote_core.figures.authoring import palette

    def label(c: float | None) -> str:
        return NULL_LABEL if c is None else f"{c:g}"

    rows = [
        {
            "seed": r["seed"],
            "coupling": label(r["coupling"]),
            "host": "null host" if r["coupling"] is None else "coupled host",
            "metric": title,
            "value": r[metric],
        }
        for r in data["rows"]
        for metric, title in METRICS
        if r[metric] is not None  # loss recovered is undefined where ablation costs nothing
    ]
    order = [NULL_LABEL] + [label(c) for c in data["couplings"]]
    x = alt.X(
        "coupling:O",
        sort=order,
        title="coupling (relative to the task loss)",
        axis=alt.Axis(labelAngle=0),
    )
    never = data["steps"] + PARAMS.log_every
    titles = {  # what a panel's points mean where the data say more than the name
        "grok_step": f"step it groks ({never:,}: not within {data['steps']:,})",
        "reader_recovered": "fresh dictionary: loss recovered (clipped at -3)",
    }
    color = alt.Color(
        "host:N",
        scale=alt.Scale(**palette.scale({"coupled host": "symbiote", "null host": "control"})),
        legend=None,
    )
    panels = []
    for metric, title in METRICS:
        base = alt.Chart(alt.Data(values=rows)).transform_filter(alt.datum.metric == title)
        # One seed's reader on a nearly silent host scores far below the rest: clip, and
        # say so in the title, so the other points stay readable.
        scale = (
            alt.Scale(domain=[-3, 0.5], clamp=True)
            if metric == "reader_recovered"
            else alt.Scale(zero=False)
        )
        seeds = base.mark_point(opacity=0.6, size=30, filled=True).encode(
            x=x,
            y=alt.Y("value:Q", title=None, scale=scale),
            color=color,
            tooltip=["seed:O", "coupling:O", alt.Tooltip("value:Q", format=".4g")],
        )
        mean = (
            base.transform_filter(alt.datum.host == "coupled host")
            .mark_line(color=palette.color("symbiote"))
            .encode(x=x, y="mean(value):Q")
        )
        panels.append(
            (seeds + mean).properties(width=190, height=130, title=titles.get(metric, title))
        )
    return alt.vconcat(alt.hconcat(*panels[:3]), alt.hconcat(*panels[3:])).properties(
        description="Six panels against coupling strength, one point per seed and a line "
        "through the means of the coupled hosts; grey points at the left are the null "
        "hosts (uncoupled, other initial weights). Held-out accuracy, grokking step, the "
        "fresh dictionary's median frequency purity and loss recovered, held-out accuracy "
        "with the key-frequency subspace ablated, and the number of key frequencies."
    )


def _values(couplings: tuple[float, ...]) -> dict[str, Any]:
    """`{metric}_{where}` for the uncoupled, strongest and null hosts, and
    `{metric}_at_{c}` for every coupling (dots become underscores)."""
    metrics = (
        "test_acc", "test_loss", "train_loss", "grok_step", "n_key", "key_share",
        "neuron_variance", "reader_fvu", "reader_live", "reader_purity",
        "reader_single_share", "splice_loss", "ablated_loss",
        "key_ablated_acc", "random_ablated_acc", "symbiote_fvu",
    )  # fmt: skip
    out: dict[str, Any] = {}
    places: dict[str, Any] = {"uncoupled": 0.0, "null": None, "strongest": max(couplings)}
    places |= {f"at_{c:g}".replace(".", "_"): c for c in couplings}
    for metric in metrics:
        for where, c in places.items():
            out[f"{metric}_{where}"] = lambda d, metric=metric, c=c: _per_seed(d, c, metric)
    for where, c in places.items():  # how many seeds grokked within the steps
        out[f"grokked_{where}"] = lambda d, c=c: sum(
            g <= d["steps"] for g in _per_seed(d, c, "grok_step")
        )
    return out


def _recovered(data: dict[str, Any], coupling: float | None) -> list[float | None]:
    return _per_seed(data, coupling, "reader_recovered")


def _best_recovered(data: dict[str, Any]) -> list[float]:
    """Per seed, the fresh reader's best loss recovered over the non-zero couplings where
    it is defined (a silent host, whose mean-ablated neurons cost no loss, has none)."""
    coupled = [_recovered(data, c) for c in data["couplings"] if c > 0]
    return [max(v for v in seed if v is not None) for seed in zip(*coupled, strict=True)]


def _silent(data: dict[str, Any]) -> int:
    """Coupled hosts on which loss recovered is undefined."""
    return sum(v is None for c in data["couplings"] if c > 0 for v in _recovered(data, c))


PARAMS = Params()
_COLLAPSE_WHY = (
    "'Stops learning' stated as half of the held-out pairs fewer than the uncoupled host "
    "of the same seed, the criterion of section 4's ablations."
)

ALT = (
    "Six panels against coupling strength, one dot per seed. Held-out accuracy is "
    "{{ value: symbiosis_modadd.test_acc_uncoupled | .0% mean }} uncoupled, "
    "{{ value: symbiosis_modadd.test_acc_at_0_1 | .0% mean }} at "
    "{{ value: symbiosis_modadd.weakest }}, {{ value: symbiosis_modadd.test_acc_at_0_14 | .0% mean }} at "
    "{{ value: symbiosis_modadd.second_strongest }} and "
    "{{ value: symbiosis_modadd.test_acc_strongest | .0% mean }} at "
    "{{ value: symbiosis_modadd.strongest }}, against "
    "{{ value: symbiosis_modadd.test_acc_null | .0% mean }} for the null hosts; "
    "{{ value: symbiosis_modadd.grokked_strongest }} of "
    "{{ value: symbiosis_modadd.n_seeds }} seeds grok at the strongest coupling. A fresh "
    "dictionary's median purity is {{ value: symbiosis_modadd.reader_purity_uncoupled | .2f mean }} "
    "uncoupled and {{ value: symbiosis_modadd.reader_purity_at_0_14 | .2f mean }} at "
    "{{ value: symbiosis_modadd.second_strongest }}; it leaves "
    "{{ value: symbiosis_modadd.reader_fvu_uncoupled | .2f mean }} of the neurons' variance "
    "unexplained uncoupled and {{ value: symbiosis_modadd.reader_fvu_strongest | .3f mean }} at the "
    "strongest coupling. Ablating the key frequencies leaves "
    "{{ value: symbiosis_modadd.key_ablated_acc_uncoupled | .0% mean }} of held-out answers right "
    "uncoupled, random directions {{ value: symbiosis_modadd.random_ablated_acc_uncoupled | .0% mean }}."
)

METHODS = (
    "**Host.** The embedding + MLP of section 4 on (a + b) mod {{ param: symbiosis_modadd.host.p }}, "
    "full-batch on {{ param: symbiosis_modadd.host.train_fraction | .0% }} of the pairs with AdamW "
    "(learning rate {{ param: symbiosis_modadd.host.lr }}, weight decay "
    "{{ param: symbiosis_modadd.host.weight_decay }}) for {{ param: symbiosis_modadd.steps }} steps, before the "
    "learning rate of section 4 starts to decay. **Symbiote.** A TopK dictionary with "
    "{{ param: symbiosis_modadd.symbiote_size }} latents, {{ param: symbiosis_modadd.symbiote_k }} active, on the "
    "hidden neurons, trained at learning rate {{ param: symbiosis_modadd.symbiote_lr }} on "
    "{{ param: symbiosis_modadd.symbiote_batch }} training pairs per step, together with the host: "
    "the host's loss adds the dictionary's normalised reconstruction error times the "
    "coupling, relative to the task loss (`symbiote_core.cotrain`), for couplings "
    "{{ param: symbiosis_modadd.couplings }}. **Measured afterwards on the frozen host.** Held-out "
    "accuracy and loss; the grokking step (the first logged step, every "
    "{{ param: symbiosis_modadd.log_every }}, with {{ param: symbiosis_modadd.grok_accuracy | .0% }} of held-out "
    "pairs right); a fresh dictionary of the same size ({{ param: symbiosis_modadd.reader_steps }} steps "
    "of batch {{ param: symbiosis_modadd.reader_batch }}, learning rate {{ param: symbiosis_modadd.reader_lr }}) "
    "scored by unexplained variance, frequency purity as in `modadd_readers` and loss "
    "recovered when spliced (only where mean-ablating the neurons costs more than "
    "{{ param: symbiosis_modadd.defined_gap }} nats); and the accuracy left when the key-frequency "
    "subspace is mean-ablated, against {{ param: symbiosis_modadd.n_random }} draws of random "
    "directions, as in `modadd_causal`. **Null.** A second uncoupled host per seed, from "
    "the initial weights of seed + {{ param: symbiosis_modadd.null_init_offset }} on the same pairs. "
    "**Seeds.** {{ value: symbiosis_modadd.n_seeds }}; all "
    "{{ value: symbiosis_modadd.n_coupled_hosts }} coupled hosts and the null hosts train batched "
    "as instances of one set of tensors."
)


FIGURE = Figure(
    title="Trained with its reader, the modular-addition host learns no clearer, then "
    "stops learning",
    caption=(
        f"The hosts of section 4, {len(PARAMS.seeds)} seeds, train for {PARAMS.steps} steps "
        f"together with a TopK dictionary ({PARAMS.symbiote_size} latents, "
        f"{PARAMS.symbiote_k} active) on their hidden neurons, "
        "for a sweep of coupling strengths (the weight of the dictionary's normalised "
        "reconstruction error, relative to the task loss). After training, each host is "
        "frozen and measured as in section 4: a fresh dictionary of the same size is grown "
        "on its neurons, and its key-frequency subspace is mean-ablated. Grey, at the "
        "left: a second uncoupled host per seed, from other initial weights (the null). "
        "One point per seed; the line joins the means."
    ),
    alt=ALT,
    methods=METHODS,
    params=PARAMS,
    compute=compute,
    render=render,
    values={
        "n_seeds": lambda d: len(d["seeds"]),
        "steps": lambda d: d["steps"],
        "strongest": _strongest,
        "weakest": lambda d: min(c for c in d["couplings"] if c > 0),
        "second_strongest": lambda d: sorted(d["couplings"])[-2],
        "defined_gap": lambda d: PARAMS.defined_gap,
        "symbiote_size": lambda d: d["symbiote_size"],
        "symbiote_k": lambda d: d["symbiote_k"],
        "grok_accuracy": lambda d: d["grok_accuracy"],
        "chance": lambda d: 1 / d["p"],
        "uniform_loss": lambda d: math.log(d["p"]),
        "n_coupled_hosts": lambda d: len(d["seeds"]) * sum(c > 0 for c in d["couplings"]),
        "never_step": lambda d: d["steps"] + PARAMS.log_every,
        **_values(PARAMS.couplings),
        "reader_recovered_uncoupled": lambda d: _recovered(d, 0.0),
        "reader_recovered_null": lambda d: _recovered(d, None),
        "reader_recovered_best_coupled": _best_recovered,
        "silent_hosts": _silent,
    },
    claims=(
        Claim(
            name="strong_coupling_stops_learning",
            statement="At the strongest coupling the host gets at least half of the "
            "held-out pairs fewer right than the uncoupled host of its seed.",
            left="test_acc_uncoupled",
            op=">",
            right="test_acc_strongest",
            margin=0.5,
            control="the same seed's uncoupled host (same initial weights, same pairs)",
            why=_COLLAPSE_WHY,
            null=Null(
                description="a second uncoupled host per seed (same pairs, other initial "
                "weights) in place of the strongly coupled one",
                values={"test_acc_strongest": "test_acc_null"},
            ),
        ),
        Claim(
            name="strong_coupling_eases_the_reader",
            statement="At the strongest coupling a fresh dictionary leaves less of the "
            "neurons' variance unexplained than on the uncoupled host.",
            left="reader_fvu_uncoupled",
            op=">",
            right="reader_fvu_strongest",
            control="the same seed's uncoupled host",
            why="No margin: the claim is the direction. Aggregated by the lower confidence "
            "bound over seeds, not seed by seed: the collapse need not be complete on every "
            "seed, and the seeds' values are given beside the claim.",
            null=Null(
                description="a second uncoupled host per seed (same pairs, other initial "
                "weights) in place of the strongly coupled one",
                values={"reader_fvu_strongest": "reader_fvu_null"},
            ),
            aggregate="mean_lower_bound",
        ),
    ),
)
