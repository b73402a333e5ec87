"""Steering the toy host along a dictionary atom, a neuron, or a random direction.

Toy hosts of superposition (one per seed, trained together) are steered at their
hidden layer by adding `dose * d` for a unit direction `d`. The target is one
feature's output; the collateral is how much every other output moves.

Directions are chosen without ground truth, from how the host behaves on clean
*selection* inputs (the dictionary's own training activations, where each target
fires about a hundred times): among a reader's candidates, the one whose activation
correlates best with the target output. They are then scored on separate
*evaluation* inputs. Every reader faces a control with the same number of candidates,
picked by the same rule: the dictionary's atoms against random directions (both signs
of half as many), the neurons' signed axes against as many signed random directions.
The true feature direction is drawn as an upper reference that no real experiment would
have.

The host's weights are tied (it reads its output back with the W it wrote with), so a
push along a feature's direction raises that feature's output whether or not the host
was trained. So the whole pipeline (host, dictionary grown on its activations, choice
of direction, steering) also runs on null hosts, the same seeds in the same run: the
host untrained (its initial weights), and a second untrained host (another draw of
initial weights), the null of the comparison between trained and untrained hosts. A
host trained with the same recipe on a shuffled task (each input's target is another
input's features) was meant as a further null, but no feature of its output fires often
enough to be a target, so there is nothing to steer; its output is reported, not steered. A fifth host,
trained like the first with a ReLU on its hidden layer, has a privileged basis, where
its neurons are a frame the host itself picks: there the best neuron gets a fair
comparison with the atom. Null hosts and the privileged host are scored at the headline
dose only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import altair as alt

from figures_src._lab.hosts import ToyHost
from figures_src._lab.steering_runs import KINDS, _shuffled_outputs, _steer_host, _train_shuffled
from figures_src._lab.steering_values import (
    HOST_KEYS,
    _host_values,
    _min_firings,
    _per_gain,
    _per_seed_mean,
    _picked_best,
    _picked_when_available,
    _seed_curves,
    _share_of_oracle,
    _well_chosen,
)
from figures_src._lab.values import n_seeds, stored
from figures_src._lab.words import loss_recovered, loss_recovered_method, output_recovered, toy_host
from symbiote_core.figures.authoring.spec import Claim, Control, Figure, Null

KIND_ROLES = ("symbiote", "neuron", "control", "control", "oracle")
"""Palette roles of `KINDS`. The two random controls share the control grey and their
lines differ by dash (`KIND_DASHES`), so no colour outside the palette is needed."""
KIND_DASHES = ((1, 0), (1, 0), (1, 0), (4, 3), (1, 0))
HOSTS = ("trained", "untrained", "untrained, second draw", "privileged basis")
"""The hosts steered: the host of the section, its two null hosts and the ReLU host."""
_FAITHFULNESS_WORDS = {"recovered": loss_recovered(), "output_recovered": output_recovered()}
SECOND_DRAW = 9
"""The `toy.stream` purpose of the second untrained host's initial weights (the
purposes `_lab.toy` uses are 1-7)."""
NULL_UNTRAINED = (
    "the host untrained (its initial weights, same seeds): its own dictionary grown on its "
    "activations, directions chosen and scored by the same code, same run"
)
NULL_SECOND = (
    "a second untrained host (another draw of initial weights, same seeds' data): its own "
    "dictionary, same code, same run"
)
TUNING_SEEDS = (0, 1, 2, 3, 4)
"""The seeds the steering recipe (host, dictionary, selection rule) was developed on."""


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
    """Dictionary training inputs, also the selection inputs (about 100 firings per feature)."""
    n_eval: int = 512
    """Fresh evaluation inputs, never used to choose a direction."""
    n_splice: int = 4096
    """Fresh inputs (the evaluation stream) on which each dictionary is spliced into its
    host, to check it is faithful before its atoms are used."""
    n_targets: int = 16
    """Target features per seed, steered one at a time."""
    min_firings: int = 50
    """A target must fire at least this often in the selection inputs."""
    doses: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
    """Steering strengths: the multiple of the chosen unit direction added to the hidden
    layer."""
    headline_dose: float = 1.0
    """The dose every claim is judged at; the null hosts and the privileged host are
    steered at this dose only."""
    well_chosen_cosine: float = 0.9
    """A chosen atom is "the feature's atom" at this cosine with the true direction or above."""


def compute(p: Params) -> dict[str, Any]:
    import torch

    from figures_src._lab import toy, toy_hosts
    from symbiote_core.hosts.toy import ToyModel, toy_activations

    seeds, n_inst = list(p.seeds), len(p.seeds)
    cfg = toy.host_config(p)
    relu_cfg = toy.host_config(p, hidden_activation="relu")
    hosts = {
        "trained": toy_hosts.trained(cfg),
        "untrained": ToyModel(cfg, generator=cfg.generators()).eval(),
        "untrained, second draw": ToyModel(cfg, generator=toy.streams(seeds, SECOND_DRAW)),
        "privileged basis": toy_hosts.trained(relu_cfg),
    }
    hosts["untrained, second draw"].eval()
    shuffled = _shuffled_outputs(p, _train_shuffled(cfg))
    # Every host sees the same feature samples (same streams), so runs are paired.
    selection = {
        name: toy_activations(host, p.n_activations, toy.streams(seeds, toy.ACTIVATIONS))[0]
        for name, host in hosts.items()
    }
    # One batched dictionary run for all hosts: instance h * n + i is host h, seed i
    # (each seed's dictionary starts from the same weights on every host).
    sae = toy.train_dictionary(p, torch.cat(list(selection.values()), dim=1), seeds * len(hosts))
    with torch.no_grad():
        latents = sae.encode(torch.cat(list(selection.values()), dim=1))  # (sel, H * n, d_sae)
    atoms = sae.W_dec.detach()  # (H * n, d_sae, d)
    # Faithfulness first: each host's dictionary spliced in place of its hidden layer on
    # held-out inputs (loss recovered; on the untrained hosts, output recovered).
    x_splice = hosts["trained"].sample_features(p.n_splice, toy.streams(seeds, toy.EVALUATION))
    with torch.no_grad():
        h_splice = torch.cat([host.hidden(x_splice) for host in hosts.values()], dim=1)
        recon = sae(h_splice).recon  # (splice, H * n, d)
    faithfulness = {
        name: toy.splice_recovered(
            host, x_splice, recon[:, h * n_inst : (h + 1) * n_inst], range(n_inst)
        )
        for h, (name, host) in enumerate(hosts.items())
    }
    rows: list[dict[str, Any]] = []
    targets_info: list[dict[str, Any]] = []
    for h, (name, host) in enumerate(hosts.items()):
        doses = torch.tensor(p.doses if name == "trained" else (p.headline_dose,))
        part = slice(h * n_inst, (h + 1) * n_inst)
        info = targets_info if name == "trained" else None
        _steer_host(
            p, name, host, selection[name], latents[:, part], atoms[part], doses, rows, info
        )
    return {
        "rows": rows,
        "targets": targets_info,
        "seeds": seeds,
        "hosts": list(hosts),
        "shuffled": shuffled,
        "headline_dose": p.headline_dose,
        "n_targets": p.n_targets,
        "n_features": p.host.n_features,
        "d_hidden": p.host.d_hidden,
        "n_selection": p.n_activations,
        "n_eval": p.n_eval,
        "well_chosen_cosine": p.well_chosen_cosine,
        "faithfulness": faithfulness,
    }


# ----- values -----


# ----- chart -----


def render(data: dict[str, Any]) -> alt.HConcatChart:
    # Imported here, not at the top: a top-level import is part of the data key, and
    # colours must only re-render.
    from symbiote_core.figures.authoring import palette

    # One column: two would make the legend wider than a phone, and the whole chart would
    # be shrunk to fit (its text then redrawn larger, crowding the panels).
    legend = alt.Legend(orient="bottom", columns=1, labelLimit=300, symbolStrokeWidth=2)
    color = alt.Color(
        "direction:N",
        scale=alt.Scale(domain=list(KINDS), range=[palette.color(r) for r in KIND_ROLES]),
        title="steered along",
        legend=legend,
    )
    # Same field, title and legend as the colour, so Vega-Lite draws one legend whose
    # symbols carry both the colour and the dash.
    dash = alt.StrokeDash(
        "direction:N",
        scale=alt.Scale(domain=list(KINDS), range=[list(d) for d in KIND_DASHES]),
        title="steered along",
        legend=legend,
    )
    pick = alt.selection_point(fields=["direction"], bind="legend")
    opacity = alt.condition(pick, alt.value(1.0), alt.value(0.12))
    curves = alt.Chart(alt.Data(values=_seed_curves(data))).encode(
        x=alt.X("dose:Q", title="dose (length of the added vector)"), color=color
    )

    def panel(field: str, title: str, chart_title: str) -> alt.LayerChart:
        band = curves.mark_errorband(extent="ci", opacity=0.25).encode(
            y=alt.Y(f"{field}:Q", title=title), opacity=opacity
        )
        line = curves.mark_line(point=True).encode(
            y=alt.Y(f"mean({field}):Q", title=title),
            strokeDash=dash,
            opacity=opacity,
            tooltip=["direction:N", "dose:Q", alt.Tooltip(f"mean({field}):Q", format=".4f")],
        )
        return (band + line).properties(width=200, height=220, title=chart_title)

    per_target = [
        r for r in data["rows"] if r["dose"] == data["headline_dose"] and r["host"] == "trained"
    ]
    strip = (
        alt.Chart(alt.Data(values=per_target))
        .mark_circle(size=18)
        .encode(
            x=alt.X("gain:Q", title=f"target change at dose {data['headline_dose']:g}"),
            y=alt.Y("direction:N", sort=list(KINDS), title=None, axis=alt.Axis(labels=False)),
            yOffset=alt.YOffset("jitter:Q"),
            color=color,
            opacity=opacity,
            tooltip=[
                "direction:N",
                "seed:O",
                "target:O",
                alt.Tooltip("gain:Q", format=".3f"),
                alt.Tooltip("collateral:Q", format=".4f"),
            ],
        )
        .transform_calculate(jitter="(datum.target * 37 + datum.seed * 11) % 17")
        .properties(width=200, height=220, title="Each target, each seed")
    )
    return (
        alt.vconcat(
            alt.hconcat(
                panel("gain", "change of the target output", "What we meant to move"),
                panel("collateral", "mean |change| of every other output", "What moved anyway"),
                strip,
            ).add_params(pick),
            _hosts_chart(data, color),
        )
        .resolve_scale(color="shared")
        .properties(
            description="Two line charts against dose, with a band over seeds: the change of "
            "the steered feature's output and the mean absolute change of all other outputs, "
            "for five kinds of direction; a strip of every target's change at the headline "
            "dose; and, for four hosts (trained, untrained, a second untrained host, trained "
            "with a privileged basis), each kind's collateral change per unit of "
            "target change, one dot per seed."
        )
    )


def _hosts_chart(data: dict[str, Any], color: Any) -> alt.Chart:
    """Per host and kind, collateral per unit of gain at the headline dose, one dot per
    seed (log scale): what separates a trained host from its null hosts."""
    rows = []
    for host in data["hosts"]:
        for kind in (KINDS[0], KINDS[1], KINDS[3], KINDS[4]):
            for seed, value in zip(data["seeds"], _per_gain(data, kind, host), strict=True):
                rows.append({"host": host, "direction": kind, "seed": seed, "value": value})
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_point(filled=True, size=40, opacity=0.8)
        .encode(
            x=alt.X(
                "value:Q",
                scale=alt.Scale(type="log"),
                title="collateral change per unit of target change, dose "
                f"{data['headline_dose']:g}",
            ),
            y=alt.Y("host:N", sort=list(data["hosts"]), title=None, axis=alt.Axis(labelLimit=160)),
            yOffset=alt.YOffset("direction:N", sort=list(KINDS)),
            color=color,
            tooltip=["host:N", "direction:N", "seed:O", alt.Tooltip("value:Q", format=".4f")],
        )
        .properties(
            width=520,
            height=190,
            title=alt.Title(
                "Which host: trained, two untrained hosts, and a privileged basis",
                subtitle="lower is more selective; one dot per seed",
            ),
        )
    )


PARAMS = Params()

ALT = (
    "Two line charts against dose, a strip chart and a dot plot of four hosts. At dose "
    "{{ value: steering_dose_response.headline_dose }} the dictionary atom moves its target output "
    "by {{ value: steering_dose_response.atom_gain | .2f mean }}, "
    "{{ value: steering_dose_response.atom_share_of_oracle | .0% mean }} of the true feature "
    "direction's {{ value: steering_dose_response.oracle_gain | .2f mean }}, against "
    "{{ value: steering_dose_response.neuron_gain | .2f mean }} for the best neuron and "
    "{{ value: steering_dose_response.random_gain | .2f mean }} for random directions; on the "
    "untrained host its own atom moves the target by "
    "{{ value: steering_dose_response.untrained_host_atom_gain | .2f mean }}. Collateral change "
    "per unit of target change: {{ value: steering_dose_response.atom_collateral_per_gain | .3f "
    "mean }} for the atom, {{ value: steering_dose_response.random_collateral_per_gain | .3f "
    "mean }} for random directions, {{ value: "
    "steering_dose_response.untrained_host_atom_collateral_per_gain | .3f mean }} for the "
    "untrained host's atom and {{ value: "
    "steering_dose_response.second_untrained_host_atom_collateral_per_gain | .3f mean }} for "
    "a second untrained host. Spliced into its host, the dictionary recovers "
    "{{ value: steering_dose_response.dictionary_recovered | .2f mean }} of the loss that "
    "mean-ablating the hidden layer costs (the ReLU host's: "
    "{{ value: steering_dose_response.privileged_dictionary_recovered | .2f mean }}). Means over "
    "{{ value: steering_dose_response.n_seeds }} seeds and "
    "{{ value: steering_dose_response.n_targets }} targets."
)
"""Alt text: its numbers are the figure's values, filled in by the site."""

METHODS = (
    toy_host("steering_dose_response")
    + "**Symbiote.** A TopK dictionary, one "
    "atom per feature, grown on {{ param: steering_dose_response.n_activations }} hidden "
    "activations (Adam, learning rate {{ param: steering_dose_response.dictionary_lr }}, "
    "{{ param: steering_dose_response.dictionary_steps }} steps), steering by adding dose × atom "
    "to the hidden layer, doses {{ param: steering_dose_response.doses }}. For each of "
    "{{ param: steering_dose_response.n_targets }} target features (firing at least "
    "{{ param: steering_dose_response.min_firings }} times in the selection inputs), each reader's "
    "candidate whose activation correlates best with the target output is picked on the "
    "dictionary's training activations and scored on {{ param: steering_dose_response.n_eval }} "
    "separate inputs. **Controls.** Random directions (both signs of half as many as atoms) and "
    "the neurons' signed axes against as many signed random directions. **Nulls.** The whole "
    "pipeline (its own dictionary, the same choice and scoring) on the host untrained and on a "
    "second untrained host (another draw of initial weights). A host trained with the same "
    "recipe on a shuffled task (each input's target is another input's features) was meant as a "
    "further null; no feature of its output fires often enough to be a target, so its output "
    "is reported, not steered. **Privileged "
    "basis.** The same on a host trained with a ReLU hidden "
    "layer, where the neurons are a frame the host picks. The null hosts and the ReLU host are "
    "scored at dose {{ param: steering_dose_response.headline_dose }}. **Reference.** The true "
    "feature direction. **Faithfulness.** Each dictionary replaces its host's hidden layer on "
    "{{ param: steering_dose_response.n_splice }} fresh inputs: "
    + loss_recovered_method()
    + "; on the untrained hosts, the same share of the squared distance to the host's own output. "
    "**Seeds.** "
    "{{ value: steering_dose_response.n_seeds }} ({{ param: steering_dose_response.seeds }})."
)
"""The methods appendix's paragraph (see `Figure.methods`)."""

FIGURE = Figure(
    title="Steering along a dictionary atom moves the target; training is what keeps the "
    "rest still",
    caption=(
        f"Toy hosts ({PARAMS.host.n_features} features in {PARAMS.host.d_hidden} dimensions, "
        f"{len(PARAMS.seeds)} seeds) steered by adding a unit direction, scaled by the dose, "
        f"to the hidden layer, {PARAMS.n_targets} targets per seed; each direction is picked "
        "on selection inputs and scored on others. Lines: means over seeds with a 95% band; "
        "the strip shows every target; click a legend entry to isolate a kind. Bottom: the "
        "same pipeline on two untrained hosts and on a host with a privileged basis, each "
        f"kind's collateral change per unit of target change at dose {PARAMS.headline_dose:g}, "
        "one dot per seed."
    ),
    alt=ALT,
    methods=METHODS,
    params=PARAMS,
    tuning_seeds=TUNING_SEEDS,
    tuning_note="the host, dictionary and selection rule were developed on these seeds",
    compute=compute,
    render=render,
    values={
        "n_seeds": n_seeds(),
        "headline_dose": ("the dose every claim is judged at", stored("headline_dose")),
        "n_features": ("the toy host's ground-truth features", stored("n_features")),
        "d_hidden": ("the host's hidden width", stored("d_hidden")),
        "n_targets": ("target features steered per seed", stored("n_targets")),
        "n_selection": ("selection inputs directions are chosen on", stored("n_selection")),
        "n_eval": ("fresh evaluation inputs directions are scored on", stored("n_eval")),
        "neuron_candidates": ("candidate neuron directions (both signs of each neuron)", lambda d: 2 * d["d_hidden"]),
        "atom_candidates": ("candidate atoms of the dictionary", stored("n_features")),
        "min_firings": ("the firings a target needs in the selection inputs", _min_firings),
        "atom_gain": ("the target output's rise when pushed along the chosen dictionary atom (headline dose)", lambda d: _per_seed_mean(d, KINDS[0], "gain")),
        "neuron_gain": ("the target output's rise when pushed along the best neuron (headline dose)", lambda d: _per_seed_mean(d, KINDS[1], "gain")),
        "random_small_gain": ("the target output's rise when pushed along a random direction (as many candidates as neurons) (headline dose)", lambda d: _per_seed_mean(d, KINDS[2], "gain")),
        "random_gain": ("the target output's rise when pushed along a random direction (as many candidates as atoms) (headline dose)", lambda d: _per_seed_mean(d, KINDS[3], "gain")),
        "twice_random_gain": ("twice the target gain of a random direction (as many candidates as atoms)", lambda d: [2 * g for g in _per_seed_mean(d, KINDS[3], "gain")]),
        "oracle_gain": ("the target output's rise when pushed along the true feature direction (oracle) (headline dose)", lambda d: _per_seed_mean(d, KINDS[4], "gain")),
        "atom_collateral": ("how much the other outputs move when pushed along the chosen dictionary atom", lambda d: _per_seed_mean(d, KINDS[0], "collateral")),
        "neuron_collateral": ("how much the other outputs move when pushed along the best neuron", lambda d: _per_seed_mean(d, KINDS[1], "collateral")),
        "random_collateral": ("how much the other outputs move when pushed along a random direction (as many candidates as atoms)", lambda d: _per_seed_mean(d, KINDS[3], "collateral")),
        "atom_collateral_per_gain": ("collateral per unit of target gain, pushed along the chosen dictionary atom", lambda d: _per_gain(d, KINDS[0])),
        "neuron_collateral_per_gain": ("collateral per unit of target gain, pushed along the best neuron", lambda d: _per_gain(d, KINDS[1])),
        "random_collateral_per_gain": ("collateral per unit of target gain, pushed along a random direction (as many candidates as atoms)", lambda d: _per_gain(d, KINDS[3])),
        "half_random_collateral_per_gain": ("half the collateral per unit of gain of a random direction", lambda d: [r / 2 for r in _per_gain(d, KINDS[3])]),
        "oracle_collateral_per_gain": ("collateral per unit of target gain, pushed along the true feature direction (oracle)", lambda d: _per_gain(d, KINDS[4])),
        "atom_share_of_oracle": ("the atom's gain as a share of the true direction's (median over targets)", _share_of_oracle),
        "atom_share_lowest": ("the atom's gain as a share of the true direction's (lowest target)", lambda d: _share_of_oracle(d, "min")),
        "well_chosen_share": ("the share of targets whose chosen atom lies along the true feature", lambda d: _well_chosen(d, "chosen_atom_cosine")),
        "picked_best_share": ("the share of targets whose chosen atom is the one closest to the true feature", _picked_best),
        "picked_when_available": ("of targets with an atom along the true feature, the share whose chosen atom is the closest one", _picked_when_available),
        "available_share": ("the share of targets for which some atom lies along the true feature", lambda d: _well_chosen(d, "best_atom_cosine")),
        "well_chosen_cosine": ("the cosine with the true direction at which an atom counts as the feature's", stored("well_chosen_cosine")),
        "dictionary_recovered": ("the share of the loss mean-ablating the hidden layer costs that the dictionary wins back, spliced in its place, trained host", lambda d: d["faithfulness"]["trained"]["recovered"]),
        **{
            f"{key}_dictionary_{measure}": (
                f"{_FAITHFULNESS_WORDS[measure]}, on the {host} host",
                lambda d, host=host, measure=measure: d["faithfulness"][host][measure],
            )
            for host, key in HOST_KEYS.items()
            for measure in ("recovered", "output_recovered")
        },
        # The same on the null hosts and the ReLU host (headline dose), and ratios.
        **_host_values(),
        "untrained_over_trained_atom_collateral_per_gain": ("the atom's collateral per unit of gain on the untrained host over the trained host's", lambda d: [
            u / t
            for u, t in zip(
                _per_gain(d, KINDS[0], "untrained"), _per_gain(d, KINDS[0]), strict=True
            )
        ]),
        "untrained_over_trained_oracle_collateral_per_gain": ("the oracle's collateral per unit of gain on the untrained host over the trained host's", lambda d: [
            u / t
            for u, t in zip(
                _per_gain(d, KINDS[4], "untrained"), _per_gain(d, KINDS[4]), strict=True
            )
        ]),
    },
    claims=(
        Claim(
            name="atom_beats_random",
            statement="At the same dose, the chosen dictionary atom moves the target output "
            "more than twice as much as the best of as many random candidates.",
            left="atom_gain",
            op=">",
            right="twice_random_gain",
            control="random unit directions with as many candidates as the dictionary has "
            "atoms (half as many directions, both signs), chosen by the same rule on the "
            "same selection inputs and scored on the same evaluation inputs",
            why="a twofold effect over the control, per seed (mean over targets)",
            null=(
                Null(
                    description=NULL_UNTRAINED,
                    values={
                        "atom_gain": "untrained_host_atom_gain",
                        "twice_random_gain": "untrained_host_twice_random_gain",
                    },
                ),
                Null(
                    description=NULL_SECOND,
                    values={
                        "atom_gain": "second_untrained_host_atom_gain",
                        "twice_random_gain": "second_untrained_host_twice_random_gain",
                    },
                ),
            ),
            stated="fails",
        ),
        Claim(
            name="atom_less_collateral_per_gain",
            statement="Per unit of target change, the atom moves the other outputs less than "
            "half as much as the random control does.",
            left="atom_collateral_per_gain",
            op="<",
            right="half_random_collateral_per_gain",
            control="the same random control: its mean collateral change over its mean target "
            "change, per seed",
            why="a twofold reduction, per seed",
            null=(
                Null(
                    description=NULL_UNTRAINED,
                    values={
                        "atom_collateral_per_gain": "untrained_host_atom_collateral_per_gain",
                        "half_random_collateral_per_gain": (
                            "untrained_host_half_random_collateral_per_gain"
                        ),
                    },
                ),
                Null(
                    description=NULL_SECOND,
                    values={
                        "atom_collateral_per_gain": (
                            "second_untrained_host_atom_collateral_per_gain"
                        ),
                        "half_random_collateral_per_gain": (
                            "second_untrained_host_half_random_collateral_per_gain"
                        ),
                    },
                ),
            ),
            stated="fails",
        ),
        Claim(
            name="training_makes_steering_selective",
            statement="Steering the trained host along its atom moves the other outputs, per "
            "unit of target change, less than half as much as steering the untrained host "
            "along its own atom.",
            left="atom_collateral_per_gain",
            op="<",
            right="untrained_host_half_atom_collateral_per_gain",
            control="the untrained host (its initial weights) with its own dictionary, "
            "directions chosen and scored by the same code: its atom's collateral per unit of "
            "gain, halved",
            why="a twofold reduction, the criterion of the collateral claim above",
            null=Null(
                description="a second untrained host (another draw of initial weights, its own "
                "dictionary) in place of the trained host: two untrained hosts should not "
                "differ twofold",
                values={
                    "atom_collateral_per_gain": "second_untrained_host_atom_collateral_per_gain"
                },
            ),
            controls=Control(
                description="the true feature directions (oracle) of the two hosts instead of "
                "their atoms",
                values={
                    "atom_collateral_per_gain": "oracle_collateral_per_gain",
                    "untrained_host_half_atom_collateral_per_gain": (
                        "untrained_host_half_oracle_collateral_per_gain"
                    ),
                },
            ),
        ),
    ),
)
