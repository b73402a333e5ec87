"""The same dictionary grown on a trained host and on a host that learned nothing.

Both toy hosts map the same kind of sparse input through their weights `W`; one was
trained to reconstruct its input, the other keeps its random initialisation. TopK
dictionaries (one per host, trained together) read each host's hidden layer. We score
each dictionary against its own host's feature directions (the columns of W), next to
random directions, and report what the hosts themselves achieve on their task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import altair as alt

from figures_src._lab.hosts import ToyHost
from figures_src._lab.values import n_seeds, per_seed, stored
from figures_src._lab.words import loss_recovered, loss_recovered_method, output_recovered, toy_host
from symbiote_core.figures.authoring.spec import Claim, Figure, Null

TUNING_SEEDS = (0, 1, 2, 3, 4)
"""The seeds the recipe was developed on; claims are judged on `Params.seeds`."""

HOSTS = ("trained host", "random host")


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = (5, 6, 7, 8, 9)
    """Evaluation seeds; the recipe was developed on `TUNING_SEEDS`."""
    host: ToyHost = field(default_factory=ToyHost)
    """The toy host: features, width, sparsity and its training (`_lab.hosts`)."""
    dictionary_steps: int = 400
    """Optimiser steps training the TopK dictionary."""
    dictionary_lr: float = 1e-2
    """The dictionary's Adam learning rate."""
    n_activations: int = 10_000
    """Hidden activations of each host (trained and random) that its dictionary trains on."""
    n_eval: int = 4096
    """Fresh inputs on which the hosts' losses and the dictionaries are evaluated."""


def compute(p: Params) -> dict[str, Any]:
    import torch

    from figures_src._lab import toy, toy_hosts
    from symbiote_core.hosts.toy import ToyModel, toy_activations
    from symbiote_core.metrics import fvu, mean_max_cosine, random_directions
    from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE

    seeds = list(p.seeds)
    cfg = toy.host_config(p)
    trained = toy_hosts.trained(cfg)  # the same hosts as steering_dose_response's
    # The untrained host is each trained host's own starting point: the same seeds give
    # the same initial weights, so the pair differs only by training.
    untrained = ToyModel(cfg, generator=cfg.generators()).eval()
    hosts = {"trained host": trained, "random host": untrained}

    acts = {
        name: toy_activations(host, p.n_activations, toy.streams(seeds, toy.ACTIVATIONS))[0]
        for name, host in hosts.items()
    }  # name -> (samples, seeds, d_hidden)
    stacked = torch.cat([acts[h] for h in HOSTS], dim=1)  # (samples, 2 * seeds, d_hidden)
    sae = toy.train_dictionary(p, stacked, seeds * len(HOSTS))
    k = max(1, round(p.host.n_features * p.host.feature_probability))
    initial = TopKSAE(
        TopKConfig(
            d_in=p.host.d_hidden,
            d_sae=p.host.n_features,
            n_instances=2 * len(seeds),
            k=k,
            instance_seeds=seeds * len(HOSTS),
        )
    )  # the dictionaries' starting points, before training

    x_eval = trained.sample_features(p.n_eval, toy.streams(seeds, toy.EVALUATION))
    rows = []
    for h, name in enumerate(HOSTS):
        host = hosts[name]
        true, _ = host.true_directions()  # (seeds, features, d)
        with torch.no_grad():
            task_loss = host.loss(x_eval, host(x_eval))  # (seeds,)
            recon = sae(stacked).recon[:, h * len(seeds) : (h + 1) * len(seeds)]
        unexplained = fvu(acts[name], recon)  # (seeds,)
        # Faithfulness: the dictionary spliced in place of its own host's hidden layer on
        # the held-out inputs; output_recovered is the measure on the random host, whose
        # loss need not rise when its hidden layer is mean-ablated.
        with torch.no_grad():
            h_eval = host.hidden(x_eval)  # (eval, seeds, d_hidden)
            eval_recon = sae(h_eval.repeat(1, len(HOSTS), 1)).recon[
                :, h * len(seeds) : (h + 1) * len(seeds)
            ]
        faithful = toy.splice_recovered(host, x_eval, eval_recon, range(len(seeds)))
        for j, seed in enumerate(seeds):
            i = h * len(seeds) + j
            random = random_directions(
                p.host.n_features, p.host.d_hidden, toy.stream(seed, toy.RANDOM_READERS)
            )
            rows.append(
                {
                    "host": name,
                    "seed": seed,
                    "dictionary_mmcs": mean_max_cosine(sae.W_dec.detach()[i], true[j]),
                    "untrained_dictionary_mmcs": mean_max_cosine(
                        initial.W_dec.detach()[i], true[j]
                    ),
                    "random_mmcs": mean_max_cosine(random, true[j]),
                    "fvu": unexplained[j].item(),
                    "task_loss": task_loss[j].item(),
                    "recovered": faithful["recovered"][j],
                    "output_recovered": faithful["output_recovered"][j],
                }
            )
    # The loss of a host that outputs nothing: what "learned nothing" costs on this task.
    silent_loss = (trained.importance * x_eval.pow(2)).mean(dim=(0, 2))  # (seeds,)
    return {
        "rows": rows,
        "seeds": seeds,
        "n_features": p.host.n_features,
        "d_hidden": p.host.d_hidden,
        "silent_loss": silent_loss.tolist(),
    }


def _row(data: dict[str, Any], host: str, field: str) -> list[float]:
    """`field` of one host, one value per seed."""
    return per_seed(data["rows"], field, data["seeds"], host=host)


def _loss_removed(data: dict[str, Any], host: str) -> list[float]:
    """Per seed, the share of a silent host's loss that this host removes."""
    losses = _row(data, host, "task_loss")
    return [1 - loss / silent for loss, silent in zip(losses, data["silent_loss"], strict=True)]


def render(data: dict[str, Any]) -> alt.HConcatChart:
    # Imported here, not at the top: a top-level import is part of the data key, and
    # colours must only re-render.
    from symbiote_core.figures.authoring import palette

    readers = (
        ("dictionary", "dictionary_mmcs"),
        ("untrained dictionary", "untrained_dictionary_mmcs"),
        ("random directions", "random_mmcs"),
    )
    long = [
        {"host": r["host"], "seed": r["seed"], "reader": reader, "mmcs": r[field]}
        for r in data["rows"]
        for reader, field in readers
    ]
    # Both baselines are controls: two greys of different lightness, so the dictionary
    # is the one coloured bar.
    colors = alt.Scale(
        **palette.scale(
            {
                "dictionary": "symbiote",
                "untrained dictionary": "muted",
                "random directions": "control",
            }
        )
    )
    host_x = alt.X("host:N", title=None, sort=list(HOSTS), axis=alt.Axis(labelAngle=0))
    match_base = alt.Chart(alt.Data(values=long)).encode(
        x=host_x,
        xOffset=alt.XOffset("reader:N", sort=[name for name, _ in readers]),
        color=alt.Color(
            "reader:N", scale=colors, title=None, legend=alt.Legend(orient="bottom", labelLimit=200)
        ),
    )
    match = (
        match_base.mark_bar(opacity=0.7).encode(
            y=alt.Y(
                "mean(mmcs):Q",
                scale=alt.Scale(domain=[0, 1]),
                title="mean max cosine with the host's W",
            )
        )
        + match_base.mark_circle(size=16, color=palette.color("ink"), opacity=0.6).encode(
            y="mmcs:Q",
            tooltip=["host:N", "reader:N", "seed:O", alt.Tooltip("mmcs:Q", format=".3f")],
        )
    ).properties(width=260, height=220, title="What the dictionary reads")
    task_base = alt.Chart(alt.Data(values=data["rows"])).encode(x=host_x)
    task = (
        task_base.mark_bar(color=palette.color("muted"), opacity=0.7).encode(
            y=alt.Y("mean(task_loss):Q", title="host's reconstruction loss")
        )
        + task_base.mark_circle(size=16, color=palette.color("ink"), opacity=0.6).encode(
            y="task_loss:Q",
            tooltip=[
                "host:N",
                "seed:O",
                alt.Tooltip("task_loss:Q", format=".5f"),
                alt.Tooltip("fvu:Q", format=".3f", title="dictionary FVU"),
                alt.Tooltip("recovered:Q", format=".2f", title="dictionary's loss recovered"),
            ],
        )
    ).properties(width=160, height=220, title="What the host does")
    mean_silent = sum(data["silent_loss"]) / len(data["silent_loss"])
    silent = alt.Chart(
        alt.Data(values=[{"loss": mean_silent, "label": "a host that outputs nothing"}])
    ).encode(y="loss:Q")
    ink = palette.color("ink")
    silent_rule = silent.mark_rule(strokeDash=[4, 3], color=ink)
    silent_text = silent.mark_text(
        align="left", dx=2, dy=-6, fontSize=palette.MIN_FONT_PX, color=ink
    ).encode(x=alt.value(0), text="label:N")
    return alt.hconcat(match, task + silent_rule + silent_text).properties(
        description="Bars (means over seeds, one dot per seed): the dictionary's match to "
        "each host's feature directions, next to the same dictionary before training and "
        "random directions; and each host's own task loss, with the loss of a host that "
        "outputs nothing."
    )


PARAMS = Params()

ALT = (
    "Grouped bars of mean max cosine with each host's feature directions: the dictionary scores "
    "{{ value: random_host_control.trained_mmcs | .2f mean }} on the trained host and "
    "{{ value: random_host_control.random_host_mmcs | .2f mean }} on the random host, the "
    "untrained dictionary "
    "{{ value: random_host_control.untrained_dictionary_random_host_mmcs | .2f mean }} and random "
    "directions {{ value: random_host_control.random_directions_mmcs | .2f mean }}. A second "
    "chart: task loss {{ value: random_host_control.task_loss | .4f mean }} for the trained "
    "host and {{ value: random_host_control.random_host_task_loss | .4f mean }} for the random host, "
    "against {{ value: random_host_control.silent_loss | .4f mean }} for a host that outputs "
    "nothing. Spliced into its host, the dictionary recovers "
    "{{ value: random_host_control.trained_recovered | .2f mean }} of the loss that "
    "mean-ablating the hidden layer costs on the trained host and "
    "{{ value: random_host_control.random_host_recovered | .2f mean }} on the random one. "
    "Means over {{ value: random_host_control.n_seeds }} seeds."

)
"""Alt text: its numbers are the figure's values, filled in by the site."""

METHODS = (
    toy_host("random_host_control")
    + "Beside each trained host, the random host: the same host left at its random "
    "initialisation. **Symbiote.** A TopK dictionary per host, one atom per feature, "
    "grown on {{ param: random_host_control.n_activations }} hidden activations (Adam, learning "
    "rate {{ param: random_host_control.dictionary_lr }}, "
    "{{ param: random_host_control.dictionary_steps }} steps, batches of "
    "{{ code: figures_src._lab.toy.train_dictionary.batch_size }}), scored against its own host's "
    "feature directions. **Controls.** As many random directions; the hosts' own task loss on "
    "{{ param: random_host_control.n_eval }} fresh inputs, against a host that outputs nothing. "
    "**Faithfulness.** Each dictionary replaces its host's hidden layer on the same fresh "
    "inputs: "
    + loss_recovered_method()
    + "; output recovered is the same share of the squared distance to the host's own "
    "output. **Null.** The same dictionary untrained. **Seeds.** "
    "{{ value: random_host_control.n_seeds }} ({{ param: random_host_control.seeds }})."
)
"""The methods appendix's paragraph (see `Figure.methods`)."""

FIGURE = Figure(
    title="A dictionary reads a random host nearly as well as a trained one",
    caption=(
        f"Pairs of toy hosts with {PARAMS.host.n_features} features in {PARAMS.host.d_hidden} "
        f"dimensions, {len(PARAMS.seeds)} seeds: each trained host next to its own "
        "starting point, the same weights before training. A TopK dictionary grown on each "
        "host's hidden layer recovers that host's feature directions (the columns of its W) "
        "about equally well, far above random directions and the dictionary's own initial "
        "atoms. Only the trained host does its job. Bars are means, dots are seeds."
    ),
    alt=ALT,
    methods=METHODS,
    params=PARAMS,
    tuning_seeds=TUNING_SEEDS,
    tuning_note="the toy host and dictionary recipe of section 3, set while looking at seeds 0-4",
    compute=compute,
    render=render,
    values={
        "n_seeds": n_seeds(),
        "trained_mmcs": ("the dictionary's mean max cosine similarity (MMCS) with the true features, trained host", lambda d: _row(d, "trained host", "dictionary_mmcs")),
        "random_host_mmcs": ("the dictionary's MMCS with the true features, random host", lambda d: _row(d, "random host", "dictionary_mmcs")),
        "random_host_halfway": ("halfway from random directions' MMCS to a perfect match, random host", lambda d: [
            (r + 1) / 2 for r in _row(d, "random host", "random_mmcs")
        ]),
        "untrained_dictionary_random_host_mmcs": ("the MMCS of the dictionary at its initialisation, random host", lambda d: _row(
            d, "random host", "untrained_dictionary_mmcs"
        )),
        "random_directions_mmcs": ("the MMCS of random directions, random host", lambda d: _row(d, "random host", "random_mmcs")),
        "read_gap": ("the trained host's dictionary MMCS minus the random host's", lambda d: [
            a - b
            for a, b in zip(
                _row(d, "trained host", "dictionary_mmcs"),
                _row(d, "random host", "dictionary_mmcs"),
                strict=True,
            )
        ]),
        "task_loss": ("the task loss of the trained host", lambda d: _row(d, "trained host", "task_loss")),
        "random_host_task_loss": ("the task loss of the random host", lambda d: _row(d, "random host", "task_loss")),
        "half_silent_loss": ("half the task loss of a silent host (one that outputs nothing)", lambda d: [s / 2 for s in d["silent_loss"]]),
        "trained_loss_removed": ("the share of a silent host's loss the trained host removes", lambda d: _loss_removed(d, "trained host")),
        "random_host_loss_removed": ("the share of a silent host's loss the random host removes", lambda d: _loss_removed(d, "random host")),
        "trained_fvu": ("the variance the dictionary leaves unexplained, trained host", lambda d: _row(d, "trained host", "fvu")),
        "random_host_fvu": ("the variance the dictionary leaves unexplained, random host", lambda d: _row(d, "random host", "fvu")),
        "silent_loss": ("the task loss of a silent host (one that outputs nothing)", stored("silent_loss")),
        "n_features": ("the toy host's ground-truth features", stored("n_features")),
        "d_hidden": ("the host's hidden width", stored("d_hidden")),
        "trained_recovered": (f"{loss_recovered()}, trained host", lambda d: _row(d, "trained host", "recovered")),
        "random_host_recovered": (f"{loss_recovered()}, random host", lambda d: _row(d, "random host", "recovered")),
        "trained_output_recovered": (f"{output_recovered()}, trained host", lambda d: _row(d, "trained host", "output_recovered")),
        "random_host_output_recovered": (f"{output_recovered()}, random host", lambda d: _row(d, "random host", "output_recovered")),
    },
    claims=(
        Claim(
            name="random_host_is_read_too",
            statement="On a host that learned nothing, the dictionary still closes more than "
            "half the gap between random directions and a perfect match to that host's "
            "feature directions.",
            left="random_host_mmcs",
            op=">",
            right="random_host_halfway",
            control="as many random unit directions as the dictionary has atoms, scored "
            "against the random host's own columns of W",
            why="the same criterion as in section 2: the midpoint between "
            "the control's score and a perfect 1, per seed",
            null=Null(
                description="the same dictionary before training (its initial atoms), on "
                "the same random host",
                values={"random_host_mmcs": "untrained_dictionary_random_host_mmcs"},
            ),
        ),
        Claim(
            name="only_trained_host_works",
            statement="Yet only the trained host does its task: its reconstruction loss is "
            "less than half of what a host that outputs nothing would pay.",
            left="task_loss",
            op="<",
            right="half_silent_loss",
            control="the loss of a host that outputs zeros on the same evaluation inputs",
            why="doing the task means removing more than half of the loss that doing nothing costs",
            null=Null(
                description="the same host before training (its initial weights, same run)",
                values={"task_loss": "random_host_task_loss"},
            ),
        ),
    ),
)
