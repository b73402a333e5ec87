"""Symbiosis proper: a toy host trained together with the dictionary that reads it.

Toy hosts of superposition (many sparse features in few dimensions) train with a
TopK dictionary on their hidden layer. The host's loss is its task loss plus a
coupling to the dictionary's normalised reconstruction error, weighted relative to
the task loss (`symbiote_core.cotrain`). The sweep runs from no coupling to a strong
one; every coupling and seed is one instance of a single batched run, and each seed's
hosts start from the same initial weights, so couplings are compared seed by seed.

After training, the host is frozen and a fresh dictionary (a new seed, never coupled)
is grown on it. That reader, not the co-trained symbiote, says how readable the host
became: how many of the host's features it finds, and how faithful it is when spliced
in. A second uncoupled host per seed (same initial weights, its own data stream) is the
null: what two runs that differ in nothing but noise look like.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import altair as alt

from symbiote_core.figures.authoring.spec import Claim, Figure, Null

METRICS = (
    ("task_loss", "host task loss (weighted MSE)"),
    ("represented", "features the host represents"),
    ("found", "features a fresh dictionary finds"),
    ("reader_fvu", "fresh dictionary: variance it leaves unexplained"),
)


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    n_features: int = 64
    d_hidden: int = 8
    feature_probability: float = 0.03
    couplings: tuple[float, ...] = (0.0, 0.03, 0.1, 0.3, 1.0, 3.0)
    """Log-spaced across the range where the prototype's raw coupling fell off a cliff;
    the last is the sweep's end point that the claims compare with no coupling."""
    steps: int = 600
    batch_size: int = 128
    lr: float = 3e-3
    reader_steps: int = 500
    n_reader_samples: int = 6_000
    n_eval: int = 4000
    match_cosine: float = 0.9
    """An atom finds a feature when their cosine exceeds this (a near-exact direction)."""
    represented_norm: float = 0.5
    """A feature is represented when its direction's norm exceeds this (trained hosts
    give norms near 0 or near 1)."""


def _instances(p: Params) -> list[tuple[int, float | None]]:
    """(seed, coupling) per instance; coupling None is the null's second uncoupled host."""
    return [(s, c) for c in p.couplings for s in p.seeds] + [(s, None) for s in p.seeds]


def compute(p: Params) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    from symbiote_core.cotrain import CoTrainConfig, cotrain, normalised_error
    from symbiote_core.hosts.toy import ToyConfig, ToyModel
    from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE
    from symbiote_core.train import TrainConfig, train

    instances = _instances(p)
    n = len(instances)
    k = max(1, round(p.n_features * p.feature_probability))
    cfg = ToyConfig(
        n_features=p.n_features,
        d_hidden=p.d_hidden,
        n_instances=n,
        feature_probability=p.feature_probability,
        instance_seeds=[seed for seed, _ in instances],  # a seed's hosts start alike
    )
    host = ToyModel(cfg, generator=cfg.generators())
    symbiote = TopKSAE(
        TopKConfig(d_in=p.d_hidden, d_sae=p.n_features, n_instances=n, k=k, seed=p.seeds[0])
    )

    def task(h: ToyModel, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        x = h.sample_features(p.batch_size, generator)  # (batch, n, features)
        acts = h.hidden(x)
        return h.loss(x, h.decode(acts)), acts

    couplings = [0.0 if c is None else c for _, c in instances]
    cotrain(
        host,
        symbiote,
        task,
        CoTrainConfig(
            coupling=couplings, steps=p.steps, host_lr=p.lr, symbiote_lr=p.lr, seed=p.seeds[0]
        ),
    )

    # The reader: a fresh dictionary on the frozen host, seeded apart from the symbiote.
    generator = torch.Generator().manual_seed(p.seeds[0] + 1)
    with torch.no_grad():
        acts = host.hidden(host.sample_features(p.n_reader_samples, generator))
    reader = TopKSAE(
        TopKConfig(d_in=p.d_hidden, d_sae=p.n_features, n_instances=n, k=k, seed=p.seeds[0] + 1)
    )
    train(
        reader,
        acts,
        TrainConfig(
            steps=p.reader_steps,
            batch_size=p.batch_size,
            lr=p.lr,
            seed=p.seeds[0] + 1,
            progress=False,
        ),
    )

    with torch.no_grad():
        x = host.sample_features(p.n_eval, torch.Generator().manual_seed(p.seeds[0] + 2))
        h = host.hidden(x)  # (eval, n, hidden)
        clean = host.loss(x, host.decode(h))
        silent = host.loss(x, torch.zeros_like(x))  # a host that outputs nothing
        reader_error = normalised_error(h, reader(h).recon)  # (n,)
        symbiote_error = normalised_error(h, symbiote(h).recon)
        directions, norms = host.true_directions()
        represented = norms > p.represented_norm  # (n, features)
        cosines = torch.einsum(
            "iad,ifd->iaf", F.normalize(reader.W_dec, dim=-1), directions
        )  # (n, atoms, features)
        found = (cosines.max(1).values > p.match_cosine) & represented  # (n, features)

    rows = []
    for i, (seed, coupling) in enumerate(instances):
        rows.append(
            {
                "seed": seed,
                "coupling": coupling,
                "task_loss": clean[i].item(),
                "represented": int(represented[i].sum()),
                "found": int(found[i].sum()),
                "reader_fvu": reader_error[i].item(),
                "symbiote_fvu": symbiote_error[i].item(),
            }
        )
    return {
        "rows": rows,
        "seeds": list(p.seeds),
        "couplings": list(p.couplings),
        "silent_loss": silent.mean().item(),
        "n_features": p.n_features,
        "d_hidden": p.d_hidden,
        "k": k,
    }


def _per_seed(data: dict[str, Any], coupling: float | None, metric: str) -> list[float]:
    """One number per seed, in params order, at one coupling (None: the null host)."""
    by_seed = {r["seed"]: r[metric] for r in data["rows"] if r["coupling"] == coupling}
    return [by_seed[s] for s in data["seeds"]]


def _strongest(data: dict[str, Any]) -> float:
    return max(data["couplings"])


def _share(data: dict[str, Any], coupling: float | None) -> list[float]:
    found = _per_seed(data, coupling, "found")
    represented = _per_seed(data, coupling, "represented")
    return [f / r if r else 0.0 for f, r in zip(found, represented, strict=True)]


def render(data: dict[str, Any]) -> alt.Chart:
    # Imported here, not at the top: a top-level import is part of the data key, and
    # colours must only re-render.
    from symbiote_core.figures.authoring import palette

    rows = [
        {
            "seed": r["seed"],
            "coupling": f"{r['coupling']:g}",
            "metric": label,
            "value": r[metric],
        }
        for r in data["rows"]
        if r["coupling"] is not None
        for metric, label in METRICS
    ]
    order = [f"{c:g}" for c in data["couplings"]]
    x = alt.X("coupling:O", sort=order, title="coupling (relative to the task loss)")
    panels = []
    for _, label in METRICS:
        base = alt.Chart(alt.Data(values=rows)).transform_filter(alt.datum.metric == label)
        seeds = base.mark_point(
            opacity=0.55, size=28, filled=True, color=palette.color("symbiote")
        ).encode(
            x=x,
            y=alt.Y("value:Q", title=label, scale=alt.Scale(zero=False)),
            tooltip=["seed:O", "coupling:O", alt.Tooltip("value:Q", format=".4g")],
        )
        mean = base.mark_line(color=palette.color("symbiote")).encode(x=x, y="mean(value):Q")
        panels.append((seeds + mean).properties(width=200, height=150, title=label))
    return alt.vconcat(alt.hconcat(*panels[:2]), alt.hconcat(*panels[2:])).properties(
        description="Four panels against coupling strength: the host's task loss, how many "
        "features it represents, how many a fresh dictionary finds, and how much of the "
        "host's loss that dictionary recovers when spliced in; one point per seed, a line "
        "through the means."
    )


def _claim(name: str, statement: str, metric: str, rising: bool, why: str) -> Claim:
    strong, none = f"{metric}_strongest", f"{metric}_uncoupled"
    left, right = (strong, none) if rising else (none, strong)
    replaced = {strong: f"{metric}_null"}
    return Claim(
        name=name,
        statement=statement,
        left=left,
        op=">",
        right=right,
        control="the same seed's uncoupled host (same initial weights)",
        why=why,
        null=Null(
            description="a second uncoupled host per seed (same initial weights, its own "
            "data stream) in place of the strongly coupled one",
            values=replaced,
        ),
    )


PARAMS = Params()
_NOISE = (
    "any difference counts, but it must hold on every seed, and it must not hold between "
    "two uncoupled runs of the same seed (the null)"
)

ALT = (
    "Four panels against coupling strength ({{ param: symbiosis_toy.couplings }}). Uncoupled, the "
    "host represents {{ value: symbiosis_toy.represented_uncoupled | .0f mean }} of its "
    "{{ value: symbiosis_toy.n_features }} features, a fresh dictionary finds "
    "{{ value: symbiosis_toy.found_uncoupled | .0f mean }} and the task loss is "
    "{{ value: symbiosis_toy.task_loss_uncoupled | .4f mean }}; at the strongest coupling, "
    "{{ value: symbiosis_toy.strongest }}, the host represents "
    "{{ value: symbiosis_toy.represented_strongest | .0f mean }}, the reader finds "
    "{{ value: symbiosis_toy.found_strongest | .0f mean }} in {{ value: symbiosis_toy.d_hidden }} "
    "dimensions, and the task loss rises to "
    "{{ value: symbiosis_toy.task_loss_strongest | .4f mean }} (a silent host: "
    "{{ value: symbiosis_toy.silent_loss | .4f }}). Means over {{ value: symbiosis_toy.n_seeds }} "
    "seeds."

)
"""Alt text: its numbers are the figure's values, filled in by the site."""

METHODS = (
    "**Host.** The toy model of superposition (`h = W x`, read back as `x̂ = ReLU(Wᵀh + b)`), "
    "{{ param: symbiosis_toy.n_features }} features in {{ param: symbiosis_toy.d_hidden }} "
    "dimensions, each active with probability {{ param: symbiosis_toy.feature_probability }}, "
    "co-trained with a TopK dictionary (k = {{ value: symbiosis_toy.k }}, one atom per feature) on "
    "its hidden layer: the host's loss is its task loss plus the coupling times the dictionary's "
    "normalised reconstruction error, for couplings {{ param: symbiosis_toy.couplings }}; Adam for "
    "both (learning rate {{ param: symbiosis_toy.lr }}), {{ param: symbiosis_toy.steps }} steps. "
    "Every coupling and seed is one instance of a single batched run, and a seed's hosts start "
    "from the same weights. **Reader.** After training the host is frozen and a fresh dictionary "
    "(new seed, never coupled) is grown on {{ param: symbiosis_toy.n_reader_samples }} activations "
    "for {{ param: symbiosis_toy.reader_steps }} steps; it counts the features it finds at cosine "
    "{{ param: symbiosis_toy.match_cosine }} among the features the host represents (norm above "
    "{{ param: symbiosis_toy.represented_norm }}); task loss and the reader's normalised "
    "reconstruction error are measured on {{ param: symbiosis_toy.n_eval }} fresh inputs. "
    "**Control.** The uncoupled host (coupling 0). **Null.** A second uncoupled host per seed, "
    "same initial weights, its own data. **Seeds.** {{ value: symbiosis_toy.n_seeds }} ({{ param: "
    "symbiosis_toy.seeds }})."

)
"""The methods appendix's paragraph (see `Figure.methods`)."""

FIGURE = Figure(
    title="Trained with its reader, the host gets easier to read by holding less",
    caption=(
        f"Toy hosts ({PARAMS.n_features} sparse features in {PARAMS.d_hidden} dimensions) "
        "train together with a TopK dictionary on their hidden layer, for a sweep of "
        "coupling strengths (the weight of the dictionary's normalised reconstruction "
        "error, relative to the task loss). After training, a fresh dictionary is grown "
        "on each frozen host. One point per seed; the line joins the means."
    ),
    alt=ALT,
    methods=METHODS,
    params=PARAMS,
    compute=compute,
    render=render,
    values={
        "n_features": lambda d: d["n_features"],
        "d_hidden": lambda d: d["d_hidden"],
        "k": lambda d: d["k"],
        "n_seeds": lambda d: len(d["seeds"]),
        "strongest": _strongest,
        "silent_loss": lambda d: d["silent_loss"],
        **{
            f"{metric}_{where}": (
                lambda d, metric=metric, where=where: _per_seed(
                    d,
                    {"uncoupled": 0.0, "null": None, "strongest": _strongest(d)}[where],
                    metric,
                )
            )
            for metric in ("task_loss", "represented", "found", "reader_fvu", "symbiote_fvu")
            for where in ("uncoupled", "null", "strongest")
        },
        **{
            f"{metric}_at_{c:g}".replace(".", "_"): (
                lambda d, metric=metric, c=c: _per_seed(d, c, metric)
            )
            for metric in ("task_loss", "represented", "found", "reader_fvu")
            for c in PARAMS.couplings
        },
        "share_uncoupled": lambda d: _share(d, 0.0),
        "share_strongest": lambda d: _share(d, _strongest(d)),
        "share_null": lambda d: _share(d, None),
    },
    claims=(
        _claim(
            "coupling_costs_task_loss",
            "At the strongest coupling the host does its task worse.",
            "task_loss",
            rising=True,
            why=_NOISE,
        ),
        _claim(
            "coupling_sheds_features",
            "It represents fewer of its features.",
            "represented",
            rising=False,
            why=_NOISE,
        ),
        _claim(
            "reader_finds_fewer",
            "A fresh dictionary finds fewer of the host's features than on an uncoupled host.",
            "found",
            rising=False,
            why=_NOISE,
        ),
        _claim(
            "readable_share_rises",
            "Of the features the host keeps, the fresh dictionary finds a larger share.",
            "share",
            rising=True,
            why=_NOISE,
        ),
    ),
)
