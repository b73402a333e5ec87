"""Feature splitting: what a dictionary's atoms match as the dictionary grows.

The toy host's input features have a hierarchy. There are `n_parents` parent features;
each has `n_children` children, and a child fires only with its parent, exactly one
child per active parent. The host (one per seed) learns to squeeze parents and children
into its hidden layer. Dictionaries of growing size are grown on it, and each atom is
labelled by what it matches best (cosine above `match_cosine`): a parent's direction,
a child's, or the sum of a parent's and one of its children's (the composite that a
parent and child make when they fire together).

The control is a host of the same shape whose features fire independently, with the
same rates: no hierarchy, so a parent and one of its children fire together only by
chance. The null is a second such host per seed: two hosts without a hierarchy should
not differ in how many composites their dictionaries find.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import altair as alt

from symbiote_core.figures.authoring.spec import Claim, Figure, Null

LABELS = ("parent", "child", "parent + child", "unmatched")
ROLE_OF_LABEL = ("symbiote", "probe", "neuron", "control")
CONDITIONS = ("hierarchical", "independent")
REPLICATE = "independent, second host"
"""A second independent host per seed (its own initial weights): the claim's null."""


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    n_parents: int = 6
    n_children: int = 4
    d_hidden: int = 10
    parent_probability: float = 0.1
    host_steps: int = 800
    dictionary_sizes: tuple[int, ...] = (6, 12, 24, 30)
    """From one atom per parent (6), through one per child (24), to one per feature (30)."""
    k: int = 2
    """A parent and its child fire together: two atoms per active parent."""
    dictionary_steps: int = 500
    batch_size: int = 256
    lr: float = 3e-3
    n_activations: int = 10_000
    match_cosine: float = 0.9


def _n_features(p: Params) -> int:
    return p.n_parents * (1 + p.n_children)


def _sample(p: Params, batch: int, conditions: list[str], generator: Any) -> Any:
    """Features `(batch, instances, parents + children)`: parents first, then children
    grouped by parent. Hierarchical instances fire one child per active parent;
    independent instances fire every feature alone at the same marginal rate."""
    import torch

    n_inst, g, c = len(conditions), p.n_parents, p.n_children
    parent_on = torch.rand(batch, n_inst, g, generator=generator) < p.parent_probability
    child_pick = torch.randint(0, c, (batch, n_inst, g), generator=generator)
    child_on = torch.nn.functional.one_hot(child_pick, c).bool() & parent_on[..., None]
    hier = torch.cat([parent_on, child_on.flatten(-2)], dim=-1)
    rates = torch.tensor([p.parent_probability] * g + [p.parent_probability / c] * (g * c))
    indep = torch.rand(batch, n_inst, g * (1 + c), generator=generator) < rates
    is_hier = torch.tensor([cond == "hierarchical" for cond in conditions])[None, :, None]
    active = torch.where(is_hier, hier, indep)
    values = torch.rand(batch, n_inst, g * (1 + c), generator=generator)
    return torch.where(active, values, torch.zeros(()))


def compute(p: Params) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    from symbiote_core.hosts.toy import ToyConfig, ToyModel
    from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE
    from symbiote_core.train import TrainConfig, train

    instances = [(cond, s) for cond in (*CONDITIONS, REPLICATE) for s in p.seeds]
    conditions = ["independent" if c == REPLICATE else c for c, _ in instances]
    n = _n_features(p)
    # A seed's first two hosts start alike; the replicate starts from its own weights.
    starts = [seed + (1_000 if cond == REPLICATE else 0) for cond, seed in instances]
    cfg = ToyConfig(
        n_features=n, d_hidden=p.d_hidden, n_instances=len(instances), instance_seeds=starts
    )
    host = ToyModel(cfg, generator=cfg.generators())
    optimiser = torch.optim.Adam(host.parameters(), lr=p.lr)
    generator = torch.Generator().manual_seed(p.seeds[0])
    for _ in range(p.host_steps):
        x = _sample(p, p.batch_size, conditions, generator)
        loss = host.loss(x, host(x)).sum()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    host.eval()

    with torch.no_grad():
        acts = host.hidden(_sample(p, p.n_activations, conditions, generator))
        directions, _ = host.true_directions()  # (inst, features, hidden)
        g, c = p.n_parents, p.n_children
        parents = directions[:, :g]  # (inst, g, hidden)
        children = directions[:, g:].reshape(len(instances), g, c, p.d_hidden)
        composite = F.normalize(
            host.W[:, :g, None] + host.W[:, g:].reshape(len(instances), g, c, p.d_hidden),
            dim=-1,
        ).flatten(1, 2)  # (inst, g * c, hidden)
        families = {
            "parent": parents,
            "child": children.flatten(1, 2),
            "parent + child": composite,
        }

    rows = []
    for size in p.dictionary_sizes:
        sae = TopKSAE(
            TopKConfig(
                d_in=p.d_hidden,
                d_sae=size,
                n_instances=len(instances),
                k=p.k,
                seed=p.seeds[0] + size,
            )
        )
        train(
            sae,
            acts,
            TrainConfig(
                steps=p.dictionary_steps,
                batch_size=p.batch_size,
                lr=p.lr,
                seed=p.seeds[0] + size,
                progress=False,
            ),
        )
        with torch.no_grad():
            atoms = F.normalize(sae.W_dec, dim=-1)  # (inst, size, hidden)
            best = torch.stack(
                [
                    torch.einsum("iad,ifd->iaf", atoms, fam).max(-1).values
                    for fam in families.values()
                ],
                dim=-1,
            )  # (inst, size, 3): best cosine with each family
            score, label = best.max(-1)
        for i, (cond, seed) in enumerate(instances):
            counts = {name: 0 for name in LABELS}
            for a in range(size):
                name = LABELS[int(label[i, a])] if score[i, a] > p.match_cosine else "unmatched"
                counts[name] += 1
            rows.append({"condition": cond, "seed": seed, "size": size, **counts})
    return {
        "rows": rows,
        "seeds": list(p.seeds),
        "sizes": list(p.dictionary_sizes),
        "n_parents": p.n_parents,
        "n_children": p.n_children,
        "d_hidden": p.d_hidden,
        "n_features": n,
    }


def _slug(text: str) -> str:
    return text.replace(" + ", "_").replace(", ", "_").replace(" ", "_")


def _share(data: dict[str, Any], condition: str, size: int, label: str) -> list[float]:
    by_seed = {
        r["seed"]: r[label] / r["size"]
        for r in data["rows"]
        if r["condition"] == condition and r["size"] == size
    }
    return [by_seed[s] for s in data["seeds"]]


def render(data: dict[str, Any]) -> alt.Chart:
    # Imported here, not at the top: a top-level import is part of the data key, and
    # colours must only re-render.
    from symbiote_core.figures.authoring import palette

    means: dict[tuple[str, int, str], list[float]] = {}
    for r in data["rows"]:
        if r["condition"] == REPLICATE:
            continue
        for label in LABELS:
            means.setdefault((r["condition"], r["size"], label), []).append(r[label] / r["size"])
    rows = [
        {"condition": cond, "size": size, "matches": label, "share": sum(v) / len(v)}
        for (cond, size, label), v in means.items()
    ]
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(
            x=alt.X("size:O", title="atoms in the dictionary"),
            y=alt.Y(
                "share:Q", stack="normalize", title="share of atoms", axis=alt.Axis(format="%")
            ),
            color=alt.Color(
                "matches:N",
                sort=list(LABELS),
                title="atom matches",
                scale=alt.Scale(**palette.scale(dict(zip(LABELS, ROLE_OF_LABEL, strict=True)))),
                legend=alt.Legend(orient="bottom"),
            ),
            order=alt.Order("matches_order:Q"),
            column=alt.Column("condition:N", sort=list(CONDITIONS), title=None),
            tooltip=["condition:N", "size:O", "matches:N", alt.Tooltip("share:Q", format=".0%")],
        )
        .transform_calculate(matches_order=f"indexof({list(LABELS)!r}, datum.matches)")
        .properties(width=220, height=200)
        .properties(
            description="Two panels of stacked bars, for hosts whose features have a "
            "hierarchy and for hosts whose features fire independently: for each "
            "dictionary size, the share of atoms that match a parent, a child, a "
            "parent-plus-child composite, or nothing."
        )
    )


PARAMS = Params()
_PER_CHILD = PARAMS.n_parents * PARAMS.n_children

ALT = (
    "Two panels of stacked bars: the share of dictionary atoms that match a parent, a child, a "
    "parent-and-child composite or nothing, for dictionaries of "
    "{{ param: feature_splitting.dictionary_sizes }} atoms. On the hierarchical host the parents' "
    "share falls from {{ value: feature_splitting.parent_hierarchical_at_6 | .0% mean }} at "
    "{{ param: feature_splitting.dictionary_sizes.0 }} atoms to "
    "{{ value: feature_splitting.parent_hierarchical_at_24 | .0% mean }} at "
    "{{ param: feature_splitting.dictionary_sizes.2 }}, where composites take "
    "{{ value: feature_splitting.parent_child_hierarchical_at_24 | .0% mean }}; on the independent "
    "host composites take {{ value: feature_splitting.parent_child_independent_at_24 | .0% mean }} "
    "there and children {{ value: feature_splitting.child_independent_at_24 | .0% mean }}. Means "
    "over seeds."

)
"""Alt text: its numbers are the figure's values, filled in by the site."""

METHODS = (
    "**Host.** The toy model of superposition (`h = W x`, `x̂ = ReLU(Wᵀh + b)`) with "
    "{{ value: feature_splitting.n_parents }} parent features, each with "
    "{{ value: feature_splitting.n_children }} children ({{ value: feature_splitting.n_features }} "
    "features) in {{ param: feature_splitting.d_hidden }} dimensions. A parent is active with "
    "probability {{ param: feature_splitting.parent_probability }}, and exactly one of its "
    "children fires with it. One host per seed, trained with Adam (learning rate "
    "{{ param: feature_splitting.lr }}) for {{ param: feature_splitting.host_steps }} steps on "
    "fresh batches of {{ param: feature_splitting.batch_size }}. **Symbiote.** TopK dictionaries "
    "(k = {{ param: feature_splitting.k }}) of {{ param: feature_splitting.dictionary_sizes }} "
    "atoms on {{ param: feature_splitting.n_activations }} hidden activations, Adam (learning rate "
    "{{ param: feature_splitting.lr }}, {{ param: feature_splitting.dictionary_steps }} steps, "
    "batches of {{ param: feature_splitting.batch_size }}); each atom is labelled by the parent, "
    "child or parent-plus-child direction it matches at cosine above "
    "{{ param: feature_splitting.match_cosine }}. **Control.** A host of the same shape whose "
    "features fire independently at the same rates. **Null.** A second independent host per seed, "
    "from its own initial weights: two hosts without a hierarchy should not differ. **Seeds.** "
    "{{ param: feature_splitting.seeds }}."

)
"""The methods appendix's paragraph (see `Figure.methods`)."""

FIGURE = Figure(
    title="As the dictionary grows, its atoms split parents into parent-and-child pairs",
    caption=(
        f"Toy hosts whose {PARAMS.n_parents} parent features each have "
        f"{PARAMS.n_children} children (a child fires only with its parent), and hosts of "
        "the same shape whose features fire independently, are read by TopK dictionaries "
        "of growing size. Each atom is labelled by the family of directions it matches "
        f"(cosine above {PARAMS.match_cosine}). Bars average {len(PARAMS.seeds)} seeds."
    ),
    alt=ALT,
    methods=METHODS,
    params=PARAMS,
    compute=compute,
    render=render,
    values={
        "n_parents": lambda d: d["n_parents"],
        "n_children": lambda d: d["n_children"],
        "n_features": lambda d: d["n_features"],
        "d_hidden": lambda d: d["d_hidden"],
        **{
            f"{_slug(label)}_{_slug(cond)}_at_{size}": (
                lambda d, cond=cond, size=size, label=label: _share(d, cond, size, label)
            )
            for cond in (*CONDITIONS, REPLICATE)
            for size in PARAMS.dictionary_sizes
            for label in LABELS
        },
    },
    claims=(
        Claim(
            name="composites_at_one_atom_per_child",
            statement="With one atom per child, the hierarchical host's dictionary spends "
            "more of its atoms on parent-and-child composites than the independent host's.",
            left=f"parent_child_hierarchical_at_{_PER_CHILD}",
            op=">",
            right=f"parent_child_independent_at_{_PER_CHILD}",
            control="the same dictionary on a host whose features fire independently",
            why="any excess counts, on every seed; the null asks the same of two independent hosts",
            null=Null(
                description="a second independent host in place of the hierarchical one",
                values={
                    f"parent_child_hierarchical_at_{_PER_CHILD}": (
                        f"parent_child_independent_second_host_at_{_PER_CHILD}"
                    )
                },
            ),
        ),
    ),
)
