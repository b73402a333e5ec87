"""Steer the toy host yourself: the host runs in the page, in plain JavaScript.

A small toy host of superposition and a TopK dictionary grown on it are shipped to the
browser as numbers (their weights are a few kilobytes). The reader picks a target
feature, a kind of direction and a dose; `essay/assets/javascripts/explorable.js`
adds the direction to the host's hidden layer for a fixed batch of inputs and
recomputes every output, exactly as `compute` does here in PyTorch for the dose the
static chart shows. A browser test checks the two agree to 1e-5.

This figure is an instrument for the reader, not an experiment: it runs one seed and
makes no claim. The experiment, on five seeds, is the steering figure above it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import altair as alt

from figures_src._lab.words import loss_recovered
from symbiote_core.figures.authoring.spec import Figure

KINDS = ("dictionary atom", "best neuron", "random direction")
TUNING_SEEDS = (0,)
"""The seed this instrument's sizes and training were chosen on."""


@dataclass(frozen=True)
class Params:
    seed: int = 5
    """Outside `TUNING_SEEDS`, like the experiment's evaluation seeds."""
    n_features: int = 40
    """Sparse ground-truth features of the toy host (each a steering target on the page)."""
    d_hidden: int = 10
    """Width of the host's hidden layer, into which the features are compressed."""
    feature_probability: float = 0.05
    """Probability that each feature is active on an input (active values uniform on [0, 1])."""
    host_steps: int = 800
    """Optimiser steps training the host, each on a fresh batch."""
    dictionary_steps: int = 800
    """Optimiser steps training the TopK dictionary."""
    n_activations: int = 10_000
    """Hidden activations of the trained host that the dictionary trains on."""
    n_selection: int = 2000
    """Inputs on which each target's atom and neuron are chosen (not shown to the reader)."""
    n_inputs: int = 64
    """The inputs the page steers; disjoint from the selection inputs."""
    n_splice: int = 4096
    """Fresh inputs on which the dictionary is spliced into the host (loss recovered)."""
    shown_dose: float = 1.0
    """The dose drawn before the reader moves the slider (the multiple of the direction
    added to the hidden layer)."""
    shown_target: int = 0
    """The target feature drawn before the reader picks one (its index)."""


def compute(p: Params) -> dict[str, Any]:
    import torch

    from figures_src._lab.toy import splice_recovered
    from symbiote_core.hosts.toy import ToyConfig, toy_activations, train_toy
    from symbiote_core.metrics import random_directions
    from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE
    from symbiote_core.train import TrainConfig, train

    host, _ = train_toy(
        ToyConfig(
            n_features=p.n_features,
            d_hidden=p.d_hidden,
            feature_probability=p.feature_probability,
            steps=p.host_steps,
            batch_size=256,
            lr=3e-3,
            seed=p.seed,
        )
    )
    acts, _ = toy_activations(
        host, p.n_activations, torch.Generator().manual_seed(p.seed + 1), instance=0
    )
    k = max(1, round(p.n_features * p.feature_probability))
    sae = TopKSAE(TopKConfig(d_in=p.d_hidden, d_sae=p.n_features, k=k, seed=p.seed))
    train(sae, acts, TrainConfig(steps=p.dictionary_steps, lr=3e-3, seed=p.seed, progress=False))

    with torch.no_grad():
        select = host.sample_features(p.n_selection, torch.Generator().manual_seed(p.seed + 2))
        out_sel = host(select)[:, 0]  # (selection, features)
        hidden_sel = host.hidden(select)[:, 0]
        latents_sel = sae.encode(hidden_sel)
        shown = host.sample_features(p.n_inputs, torch.Generator().manual_seed(p.seed + 3))
    atoms = sae.W_dec.detach()
    # Faithfulness first: the dictionary spliced in place of the hidden layer, held out.
    x_splice = host.sample_features(p.n_splice, torch.Generator().manual_seed(p.seed + 5))
    with torch.no_grad():
        recon = sae(host.hidden(x_splice)[:, 0]).recon[:, None]  # (splice, 1, hidden)
    recovered = splice_recovered(host, x_splice, recon, [0])["recovered"][0]
    randoms = random_directions(p.n_features, p.d_hidden, torch.Generator().manual_seed(p.seed + 4))
    directions: dict[str, list[list[float]]] = {kind: [] for kind in KINDS}
    for target in range(p.n_features):
        target_out = out_sel[:, target]
        directions["dictionary atom"].append(atoms[_best(latents_sel, target_out)].tolist())
        neurons = torch.cat([torch.eye(p.d_hidden), -torch.eye(p.d_hidden)])
        directions["best neuron"].append(
            neurons[_best(hidden_sel @ neurons.T, target_out)].tolist()
        )
        directions["random direction"].append(randoms[target].tolist())

    W = host.W.detach()[0]  # (features, hidden): row f is feature f's direction
    b = host.b.detach()[0]
    x = shown[:, 0]  # (inputs, features)
    d = torch.tensor(directions["dictionary atom"][p.shown_target])
    change = steered_change(W, b, x, d, p.shown_dose)
    return {
        "recovered": round(recovered, 6),
        "host": {"W": W.tolist(), "b": b.tolist()},
        "inputs": x.tolist(),
        "directions": directions,
        "shown": {
            "kind": "dictionary atom",
            "target": p.shown_target,
            "dose": p.shown_dose,
            "change": change.tolist(),
        },
    }


def steered_change(W: Any, b: Any, x: Any, d: Any, dose: float) -> Any:
    """Mean change of every output over the inputs when `dose * d` is added to h.

    The host is `out = ReLU(W^T h + b)` with `h = W x` (rows of W are features); the
    page's JavaScript computes exactly this.
    """
    import torch

    h = x @ W  # (inputs, hidden)
    clean = torch.relu(h @ W.T + b)
    steered = torch.relu((h + dose * d) @ W.T + b)
    return (steered - clean).mean(0)  # (features,)


def _best(features: Any, out: Any) -> int:
    """Index of the column of `features` that correlates best with `out`."""
    f = features - features.mean(0)
    o = out - out.mean()
    corr = (f.T @ o) / (f.norm(dim=0) * o.norm()).clamp_min(1e-12)
    return int(corr.argmax())


def render(data: dict[str, Any]) -> alt.Chart:
    # Imported here, not at the top: a top-level import is part of the data key, and
    # colours must only re-render.
    from symbiote_core.figures.authoring import palette

    shown = data["shown"]
    rows = [
        {"feature": f, "change": c, "role": "target" if f == shown["target"] else "other"}
        for f, c in enumerate(shown["change"])
    ]
    chart = (
        alt.Chart(alt.Data(values=rows, name="outputs"))
        .mark_bar()
        .encode(
            x=alt.X(
                "feature:O",
                title="output feature",
                axis=alt.Axis(labelAngle=0, values=list(range(0, len(rows), 5))),
            ),
            y=alt.Y("change:Q", title="mean change of the output"),
            color=alt.Color(
                "role:N",
                scale=alt.Scale(**palette.scale({"target": "symbiote", "other": "control"})),
                legend=alt.Legend(title=None, orient="top"),
            ),
            tooltip=["feature:O", alt.Tooltip("change:Q", format=".4f")],
        )
        .properties(width=560, height=220)
    )
    return chart.properties(
        usermeta={
            "explorable": "toy_steering",
            "host": data["host"],
            "inputs": data["inputs"],
            "directions": data["directions"],
            "kinds": list(KINDS),
            "shown": {k: shown[k] for k in ("kind", "target", "dose")},
        },
        description="Bars: the mean change of each of the host's outputs when the chosen "
        "direction is added to its hidden layer at the chosen dose; the target is "
        "highlighted.",
    )


PARAMS = Params()

ALT = (
    "A bar chart of the change of each of the toy host's "
    "{{ value: steering_explorable.n_features }} outputs, averaged over "
    "{{ value: steering_explorable.n_inputs }} inputs, when a dose of "
    "{{ param: steering_explorable.shown_dose }} is added along the chosen direction; with a "
    "dictionary atom chosen, the target's bar rises far above the rest. Spliced in place of the "
    "hidden layer, the dictionary recovers "
    "{{ value: steering_explorable.dictionary_recovered | .2f }} of the loss that mean-ablating "
    "it costs."

)
"""Alt text: its numbers are the figure's values, filled in by the site."""

METHODS = (
    "**Host.** The toy model of superposition (`h = W x`, read back as `x̂ = ReLU(Wᵀh + b)`), "
    "{{ param: steering_explorable.n_features }} features in "
    "{{ param: steering_explorable.d_hidden }} dimensions, each active with probability "
    "{{ param: steering_explorable.feature_probability }}, trained with Adam (learning rate "
    "{{ code: figures_src.steering_explorable.compute.lr }}) for "
    "{{ param: steering_explorable.host_steps }} steps on batches of "
    "{{ code: figures_src.steering_explorable.compute.batch_size }}. **Symbiote.** A TopK "
    "dictionary, one atom per feature, grown on {{ param: steering_explorable.n_activations }} "
    "hidden activations for {{ param: steering_explorable.dictionary_steps }} steps; each target's "
    "atom and neuron are chosen on {{ param: steering_explorable.n_selection }} separate selection "
    "inputs. **In the page.** The weights and a fixed batch of "
    "{{ param: steering_explorable.n_inputs }} inputs are shipped to the browser, which recomputes "
    "every output for the reader's direction and dose; a browser test checks it against PyTorch to "
    "1e-5. **Controls.** The reader can pick a neuron or a random direction instead of the atom. "
    "This figure is an instrument, not an experiment: one seed ({{ param: steering_explorable.seed "
    "}}), no claim."

)
"""The methods appendix's paragraph (see `Figure.methods`)."""

FIGURE = Figure(
    title="Steer the host yourself",
    caption=(
        f"A toy host ({PARAMS.n_features} features in {PARAMS.d_hidden} dimensions) runs in "
        "this page. Pick a target feature, a direction and a dose: the direction is added "
        f"to the hidden layer for {PARAMS.n_inputs} fixed inputs, and the bars show how much "
        "each output changes on average. Atoms and neurons were chosen on other inputs. One "
        "seed, for exploring, not evidence."
    ),
    alt=ALT,
    methods=METHODS,
    params=PARAMS,
    tuning_seeds=TUNING_SEEDS,
    tuning_note="an instrument, not an experiment: its sizes and training were chosen on seed 0",
    compute=compute,
    render=render,
    values={
        "n_features": ("the toy host's features", lambda d: len(d["host"]["b"])),
        "n_inputs": ("the fixed inputs the page steers", lambda d: len(d["inputs"])),
        "dictionary_recovered": (loss_recovered(), lambda d: d["recovered"]),
    },
)
