"""The same dictionary grown on a trained host and on a host that learned nothing.

Both toy hosts map the same kind of sparse input through their weights `W`; one was
trained to reconstruct its input, the other keeps its random initialisation. TopK
dictionaries (one per host, trained together) read each host's hidden layer. We score
each dictionary against its own host's feature directions (the columns of W), next to
random directions, and report what the hosts themselves achieve on their task.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import altair as alt

from symbiote_core.figures.spec import Claim, Figure

HOSTS = ("trained host", "random host")


@dataclass(frozen=True)
class Params:
    seed: int = 0
    n_features: int = 256
    d_hidden: int = 32
    feature_probability: float = 0.01
    host_steps: int = 1500
    dictionary_steps: int = 1500
    n_activations: int = 20_000
    n_eval: int = 4096


def compute(p: Params) -> dict[str, Any]:
    import torch

    from figures_src._toy import host_config, train_dictionary
    from symbiote_core.hosts.toy import ToyModel, toy_activations, train_toy
    from symbiote_core.metrics import fvu, mean_max_cosine, random_directions

    cfg = host_config(p)
    trained, _ = train_toy(cfg)
    untrained = ToyModel(cfg, generator=torch.Generator().manual_seed(p.seed + 10)).eval()
    hosts = {"trained host": trained, "random host": untrained}

    generator = torch.Generator().manual_seed(p.seed + 1)
    acts = {
        name: toy_activations(host, p.n_activations, generator, instance=0)[0]
        for name, host in hosts.items()
    }
    stacked = torch.stack([acts[h] for h in HOSTS], dim=1)  # (samples, 2, d_hidden)
    sae = train_dictionary(p, stacked, n_instances=2)

    random = random_directions(p.n_features, p.d_hidden, torch.Generator().manual_seed(p.seed + 2))
    x_eval = trained.sample_features(p.n_eval, torch.Generator().manual_seed(p.seed + 3))
    rows = []
    for i, name in enumerate(HOSTS):
        host, dictionary = hosts[name], sae.instance(i)
        true, _ = host.true_directions()
        with torch.no_grad():
            task_loss = host.loss(x_eval, host(x_eval)).item()
            recon = dictionary(acts[name]).recon
        rows.append(
            {
                "host": name,
                "dictionary_mmcs": mean_max_cosine(dictionary.W_dec.detach(), true[0]),
                "random_mmcs": mean_max_cosine(random, true[0]),
                "fvu": fvu(acts[name], recon).item(),
                "task_loss": task_loss,
            }
        )
    # The loss of a host that outputs nothing: what "learned nothing" costs on this task.
    silent_loss = (trained.importance * x_eval.pow(2)).mean().item()
    return {
        "rows": rows,
        "n_features": p.n_features,
        "d_hidden": p.d_hidden,
        "silent_loss": silent_loss,
    }


def _row(data: dict[str, Any], host: str, field: str) -> float:
    (row,) = [r for r in data["rows"] if r["host"] == host]
    return row[field]


def render(data: dict[str, Any]) -> alt.Chart:
    long = [
        {"host": r["host"], "reader": reader, "mmcs": r[field]}
        for r in data["rows"]
        for reader, field in (
            ("dictionary", "dictionary_mmcs"),
            ("random directions", "random_mmcs"),
        )
    ]
    colors = alt.Scale(domain=["dictionary", "random directions"], range=["#00897b", "#9e9e9e"])
    match = (
        alt.Chart(alt.Data(values=long))
        .mark_bar()
        .encode(
            x=alt.X("host:N", title=None, sort=list(HOSTS), axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("reader:N"),
            y=alt.Y(
                "mmcs:Q", scale=alt.Scale(domain=[0, 1]), title="mean max cosine with the host's W"
            ),
            color=alt.Color(
                "reader:N", scale=colors, title=None, legend=alt.Legend(orient="bottom")
            ),
            tooltip=["host:N", "reader:N", alt.Tooltip("mmcs:Q", format=".3f")],
        )
        .properties(width=250, height=220, title="What the dictionary reads")
    )
    task = (
        alt.Chart(alt.Data(values=data["rows"]))
        .mark_bar(color="#607d8b")
        .encode(
            x=alt.X("host:N", title=None, sort=list(HOSTS), axis=alt.Axis(labelAngle=0)),
            y=alt.Y("task_loss:Q", title="host's reconstruction loss"),
            tooltip=[
                "host:N",
                alt.Tooltip("task_loss:Q", format=".4f"),
                alt.Tooltip("fvu:Q", format=".3f", title="dictionary FVU"),
            ],
        )
        .properties(width=160, height=220, title="What the host does")
    )
    silent = alt.Chart(
        alt.Data(values=[{"loss": data["silent_loss"], "label": "a host that outputs nothing"}])
    ).encode(y="loss:Q")
    silent_rule = silent.mark_rule(strokeDash=[4, 3], color="#c62828")
    silent_text = silent.mark_text(align="left", dx=2, dy=-6, fontSize=10, color="#c62828").encode(
        x=alt.value(0), text="label:N"
    )
    return alt.hconcat(match, task + silent_rule + silent_text).properties(
        description="Bars: the dictionary's match to each host's feature directions, next to "
        "random directions; and each host's own task loss."
    )


PARAMS = Params()

FIGURE = Figure(
    title="A dictionary reads a random host nearly as well as a trained one",
    caption=(
        f"Two toy hosts with {PARAMS.n_features} features in {PARAMS.d_hidden} dimensions "
        "see the same kind of sparse input: one trained, one left at its random "
        "initialisation. A TopK dictionary grown on each recovers that host's feature "
        "directions (the columns of its W) about equally well, far above random "
        "directions. Only the trained host does its job."
    ),
    alt=(
        "Grouped bars: dictionary match near 1 for both the trained and the random host, "
        "random directions low for both; a second chart shows the random host's task loss "
        "far above the trained host's."
    ),
    params=PARAMS,
    compute=compute,
    render=render,
    values={
        "trained_mmcs": lambda d: _row(d, "trained host", "dictionary_mmcs"),
        "random_host_mmcs": lambda d: _row(d, "random host", "dictionary_mmcs"),
        "random_directions_mmcs": lambda d: _row(d, "random host", "random_mmcs"),
        "trained_loss": lambda d: _row(d, "trained host", "task_loss"),
        "random_host_loss": lambda d: _row(d, "random host", "task_loss"),
        "trained_fvu": lambda d: _row(d, "trained host", "fvu"),
        "random_host_fvu": lambda d: _row(d, "random host", "fvu"),
        "silent_loss": lambda d: d["silent_loss"],
        "n_features": lambda d: d["n_features"],
        "d_hidden": lambda d: d["d_hidden"],
    },
    claims=(
        Claim(
            name="random_host_is_read_too",
            statement="The dictionary finds the random host's directions far better than "
            "random directions do, although that host learned nothing.",
            left="random_host_mmcs",
            op=">",
            right="random_directions_mmcs",
            margin=0.3,
        ),
        Claim(
            name="only_trained_host_works",
            statement="Yet only the trained host reconstructs its input well.",
            left="random_host_loss",
            op=">",
            right="trained_loss",
            margin=0.0,
        ),
    ),
)
