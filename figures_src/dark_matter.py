"""How much of a dictionary's unexplained variance is the instrument's own cap.

A TopK dictionary reconstructs each input from at most k atoms. An input in which more
than k of the host's features are active cannot be reconstructed exactly, however good
the atoms are: that part of the residual is the instrument's cap, not something hidden
in the host. Toy hosts (one per seed) are read by dictionaries with a sweep of k, all
trained together; each dictionary's unexplained variance is split by whether the input
had more active features than its k.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import altair as alt

from symbiote_core.figures.authoring.spec import Claim, Figure, Null

PARTS = ("more active features than k", "at most k active features")
"""Legend labels: the residual the cap forces, and the rest."""


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    n_features: int = 128
    d_hidden: int = 16
    feature_probability: float = 0.02
    host_steps: int = 600
    ks: tuple[int, ...] = (1, 2, 3, 5, 8)
    essay_k: int = 3
    """The k the essay's other toy dictionaries use: the expected number of active
    features (n_features * feature_probability, rounded)."""
    dictionary_steps: int = 500
    batch_size: int = 256
    lr: float = 3e-3
    n_activations: int = 10_000
    n_eval: int = 8192


def compute(p: Params) -> dict[str, Any]:
    import torch

    from symbiote_core.hosts.toy import ToyConfig, ToyModel
    from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE
    from symbiote_core.train import TrainConfig, train

    n_seeds = len(p.seeds)
    cfg = ToyConfig(
        n_features=p.n_features,
        d_hidden=p.d_hidden,
        n_instances=n_seeds,
        feature_probability=p.feature_probability,
        instance_seeds=p.seeds,
    )
    host = ToyModel(cfg, generator=cfg.generators())  # each seed's weights from its own seed
    optimiser = torch.optim.Adam(host.parameters(), lr=p.lr)
    generator = torch.Generator().manual_seed(p.seeds[0])
    for _ in range(p.host_steps):
        x = host.sample_features(p.batch_size, generator)
        loss = host.loss(x, host(x)).sum()  # a sum keeps each seed's gradient its own
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    host.eval()

    # One dictionary per (k, seed): instance j reads seed j % n_seeds's host.
    pairs = [(k, i) for k in p.ks for i in range(n_seeds)]
    which = torch.tensor([i for _, i in pairs])
    with torch.no_grad():
        acts = host.hidden(host.sample_features(p.n_activations, generator))[:, which]
    sae = TopKSAE(
        TopKConfig(
            d_in=p.d_hidden,
            d_sae=p.n_features,
            n_instances=len(pairs),
            k=tuple(k for k, _ in pairs),
            seed=p.seeds[0] + 1,
        )
    )
    train(
        sae,
        acts,
        TrainConfig(
            steps=p.dictionary_steps,
            batch_size=p.batch_size,
            lr=p.lr,
            seed=p.seeds[0] + 1,
            progress=False,
        ),
    )

    eval_generator = torch.Generator().manual_seed(p.seeds[0] + 2)
    shuffle_generator = torch.Generator().manual_seed(p.seeds[0] + 3)
    with torch.no_grad():
        x = host.sample_features(p.n_eval, eval_generator)  # (eval, seeds, features)
        h = host.hidden(x)[:, which]  # (eval, pairs, hidden)
        residual = (h - sae(h).recon).pow(2).sum(-1)  # (eval, pairs)
        energy = (h - h.mean(0)).pow(2).sum(-1)  # (eval, pairs)
        active = (x > 0).sum(-1)[:, which]  # (eval, pairs)
    rows = []
    for j, (k, i) in enumerate(pairs):
        over = active[:, j] > k  # inputs the cap binds on
        # The null: a random set of inputs as large as `over`.
        shuffled = over[torch.randperm(p.n_eval, generator=shuffle_generator)]
        total_energy = energy[:, j].sum()
        rows.append(
            {
                "seed": p.seeds[i],
                "k": k,
                "fvu": (residual[:, j].sum() / total_energy).item(),
                "fvu_over": (residual[over, j].sum() / total_energy).item(),
                "fvu_within": (residual[~over, j].sum() / total_energy).item(),
                "share_of_inputs_over": over.float().mean().item(),
                "residual_share_over": (residual[over, j].sum() / residual[:, j].sum()).item(),
                "energy_share_over": (energy[over, j].sum() / total_energy).item(),
                "residual_share_random": (
                    residual[shuffled, j].sum() / residual[:, j].sum()
                ).item(),
                "energy_share_random": (energy[shuffled, j].sum() / total_energy).item(),
            }
        )
    return {
        "rows": rows,
        "seeds": list(p.seeds),
        "ks": list(p.ks),
        "essay_k": p.essay_k,
        "n_features": p.n_features,
        "d_hidden": p.d_hidden,
    }


def _per_seed(data: dict[str, Any], k: int, metric: str) -> list[float]:
    by_seed = {r["seed"]: r[metric] for r in data["rows"] if r["k"] == k}
    return [by_seed[s] for s in data["seeds"]]


def render(data: dict[str, Any]) -> alt.Chart:
    # Imported here, not at the top: a top-level import is part of the data key, and
    # colours must only re-render.
    from symbiote_core.figures.authoring import palette

    means: dict[tuple[int, str], list[float]] = {}
    for r in data["rows"]:
        means.setdefault((r["k"], PARTS[0]), []).append(r["fvu_over"])
        means.setdefault((r["k"], PARTS[1]), []).append(r["fvu_within"])
    stacked = [
        {"k": k, "part": part, "fvu": sum(v) / len(v)} for (k, part), v in sorted(means.items())
    ]
    seeds = [{"k": r["k"], "seed": r["seed"], "fvu": r["fvu"]} for r in data["rows"]]
    bars = (
        alt.Chart(alt.Data(values=stacked))
        .mark_bar()
        .encode(
            x=alt.X("k:O", title="k (atoms per input)"),
            y=alt.Y("fvu:Q", stack="zero", title="fraction of variance unexplained"),
            color=alt.Color(
                "part:N",
                sort=list(PARTS),
                title="residual from inputs with",
                scale=alt.Scale(**palette.scale({PARTS[0]: "control", PARTS[1]: "symbiote"})),
                # One entry a row: side by side they are wider than a phone.
                legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=260),
            ),
            order=alt.Order("part:N", sort="descending"),
            tooltip=["k:O", "part:N", alt.Tooltip("fvu:Q", format=".3f")],
        )
    )
    points = (
        alt.Chart(alt.Data(values=seeds))
        .mark_tick(thickness=2, size=18, color=palette.color("ink"))
        .encode(x="k:O", y="fvu:Q", tooltip=["seed:O", alt.Tooltip("fvu:Q", format=".3f")])
    )
    return (bars + points).properties(
        width=360,
        height=240,
        description="Stacked bars over k: the mean unexplained variance of the dictionary, "
        "split into the part from inputs with more active features than k and the rest; "
        "a tick per seed marks each seed's total.",
    )


PARAMS = Params()

ALT = (
    "Stacked bars of the fraction of variance the TopK dictionaries leave unexplained, for k of "
    "{{ param: dark_matter.ks }}, split by whether the input had more active features than k. At k "
    "= {{ param: dark_matter.ks.0 }} they leave {{ value: dark_matter.fvu_at_k1 | .2f mean }}, of "
    "which {{ value: dark_matter.fvu_over_at_k1 | .2f mean }} comes from inputs over the cap; at "
    "the essay's k = {{ value: dark_matter.essay_k }}, "
    "{{ value: dark_matter.fvu_at_k3 | .2f mean }} with "
    "{{ value: dark_matter.fvu_over_at_k3 | .2f mean }} over the cap; at k = "
    "{{ value: dark_matter.largest_k }}, {{ value: dark_matter.fvu_at_k8 | .2f mean }} with "
    "{{ value: dark_matter.fvu_over_at_k8 | .3f mean }} over the cap. Means over seeds; a tick per "
    "seed marks each seed's total."

)
"""Alt text: its numbers are the figure's values, filled in by the site."""

METHODS = (
    "**Host.** The toy model of superposition (`h = W x`, read back as `x̂ = ReLU(Wᵀh + b)`), "
    "{{ param: dark_matter.n_features }} features in {{ param: dark_matter.d_hidden }} dimensions, "
    "each active with probability {{ param: dark_matter.feature_probability }}; one host per seed, "
    "trained with Adam (learning rate {{ param: dark_matter.lr }}) for "
    "{{ param: dark_matter.host_steps }} steps on fresh batches of "
    "{{ param: dark_matter.batch_size }}. **Symbiote.** One TopK dictionary per seed and k in "
    "{{ param: dark_matter.ks }}, one atom per feature, all trained together on "
    "{{ param: dark_matter.n_activations }} hidden activations with Adam (learning rate "
    "{{ param: dark_matter.lr }}, {{ param: dark_matter.dictionary_steps }} steps, batches of "
    "{{ param: dark_matter.batch_size }}). **Measurement.** On {{ param: dark_matter.n_eval }} "
    "fresh inputs, each dictionary's squared residual is split by whether the input had more than "
    "k active features (a residual no k-sparse code can avoid). **Control.** The same inputs' "
    "share of the variance itself: a residual spread evenly over the variance gives the two shares "
    "equal. **Null.** A random set of inputs of the same size in place of those over the cap. "
    "**Seeds.** {{ param: dark_matter.seeds }}."

)
"""The methods appendix's paragraph (see `Figure.methods`)."""

FIGURE = Figure(
    title="Much of the unexplained variance is the instrument's cap",
    caption=(
        f"Toy hosts ({PARAMS.n_features} features in {PARAMS.d_hidden} dimensions, one per "
        "seed) are read by TopK dictionaries with a sweep of k. Each bar is the mean "
        "fraction of variance a dictionary leaves unexplained, split by whether the input "
        "had more active features than k (a residual no k-sparse code can avoid) or not. "
        "Ticks mark each seed."
    ),
    alt=ALT,
    methods=METHODS,
    params=PARAMS,
    compute=compute,
    render=render,
    values={
        "n_features": lambda d: d["n_features"],
        "d_hidden": lambda d: d["d_hidden"],
        "essay_k": lambda d: d["essay_k"],
        "largest_k": lambda d: max(d["ks"]),
        **{
            f"{metric}_at_k{k}": (lambda d, metric=metric, k=k: _per_seed(d, k, metric))
            for metric in (
                "fvu",
                "fvu_over",
                "fvu_within",
                "share_of_inputs_over",
                "residual_share_over",
                "energy_share_over",
                "residual_share_random",
                "energy_share_random",
            )
            for k in PARAMS.ks
        },
    },
    claims=(
        Claim(
            name="cap_carries_the_residual",
            statement="At the essay's k, the inputs with more active features than k carry "
            "a larger share of the unexplained variance than of the variance itself.",
            left=f"residual_share_over_at_k{PARAMS.essay_k}",
            op=">",
            right=f"energy_share_over_at_k{PARAMS.essay_k}",
            control="the same inputs' share of the variance: an error spread evenly over "
            "the variance would give the two shares equal",
            why="equal shares is what no cap would give; the claim asks for more, on every seed",
            null=Null(
                description="a random set of inputs of the same size, in place of the "
                "inputs with more than k active features",
                values={
                    f"residual_share_over_at_k{PARAMS.essay_k}": (
                        f"residual_share_random_at_k{PARAMS.essay_k}"
                    ),
                    f"energy_share_over_at_k{PARAMS.essay_k}": (
                        f"energy_share_random_at_k{PARAMS.essay_k}"
                    ),
                },
            ),
        ),
    ),
)
