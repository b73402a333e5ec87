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
The null is the same dictionary before training. The true feature direction is drawn
as an upper reference that no real experiment would have.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import altair as alt

from symbiote_core.figures.authoring.spec import Claim, Figure, Null

KINDS = (
    "dictionary atom",
    "untrained dictionary atom",
    "best neuron",
    "random (as many candidates as neurons)",
    "random (as many candidates as atoms)",
    "true feature (oracle)",
)
KIND_ROLES = ("symbiote", "muted", "neuron", "control", "control", "oracle")
"""Palette roles of `KINDS`. Three controls, two greys: the untrained dictionary is the
dark neutral; the two random controls share the control grey and their lines differ by
dash (`KIND_DASHES`), so no colour outside the palette is needed."""
KIND_DASHES = ((1, 0), (1, 0), (1, 0), (1, 0), (4, 3), (1, 0))


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    n_features: int = 256
    d_hidden: int = 32
    feature_probability: float = 0.01
    host_steps: int = 300
    host_lr: float = 1e-2
    dictionary_steps: int = 400
    dictionary_lr: float = 1e-2
    n_activations: int = 10_000
    """Dictionary training inputs, also the selection inputs (about 100 firings per feature)."""
    n_eval: int = 512
    """Fresh evaluation inputs, never used to choose a direction."""
    n_targets: int = 16
    """Target features per seed, steered one at a time."""
    min_firings: int = 50
    """A target must fire at least this often in the selection inputs."""
    doses: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
    headline_dose: float = 1.0
    well_chosen_cosine: float = 0.9
    """A chosen atom is "the feature's atom" at this cosine with the true direction or above."""


def compute(p: Params) -> dict[str, Any]:
    import torch

    from figures_src import _toy
    from symbiote_core.hosts.toy import toy_activations, train_toy
    from symbiote_core.metrics import cosine_matrix, random_directions
    from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE

    seeds, d, n_inst = list(p.seeds), p.d_hidden, len(p.seeds)
    host, _ = train_toy(_toy.host_config(p))
    selection, _ = toy_activations(host, p.n_activations, _toy.streams(seeds, _toy.ACTIVATIONS))
    sae = _toy.train_dictionary(p, selection, seeds)
    k = max(1, round(p.n_features * p.feature_probability))
    untrained = _toy.reseed_instances(
        TopKSAE(TopKConfig(d_in=d, d_sae=p.n_features, n_instances=n_inst, k=k)), seeds
    )
    true_dirs, _ = host.true_directions()  # (inst, features, d)

    with torch.no_grad():
        sel_out = host.decode(selection)  # (sel, inst, features): clean outputs
        sel_latents = sae.encode(selection)  # (sel, inst, d_sae)
        sel_untrained = untrained.encode(selection)
        x_eval = host.sample_features(p.n_eval, _toy.streams(seeds, _toy.EVALUATION))
        h_eval = host.hidden(x_eval)  # (eval, inst, d)
        clean_eval = host.decode(h_eval)  # (eval, inst, features)

    doses = torch.tensor(p.doses)
    rows: list[dict[str, Any]] = []
    targets_info: list[dict[str, Any]] = []
    eye = torch.eye(d)
    for i, seed in enumerate(seeds):
        fired = (sel_out[:, i] > 0).sum(0)  # (features,)
        eligible = (fired >= p.min_firings).nonzero().flatten()
        order = torch.randperm(len(eligible), generator=_toy.stream(seed, _toy.TARGETS))
        targets = eligible[order[: p.n_targets]]
        gen = _toy.stream(seed, _toy.RANDOM_READERS)
        # Candidates with both signs: d axes -> 2d candidates; n/2 random -> n candidates.
        random_small = random_directions(d, d, gen)
        random_large = random_directions(p.n_features // 2, d, gen)
        atoms = sae.W_dec.detach()[i]  # (d_sae, d)
        cos_atoms = cosine_matrix(atoms, true_dirs[i])  # (d_sae, features)
        h_sel = selection[:, i]
        outs = _standardise(sel_out[:, i, targets])  # (sel, targets)
        # Each reader's candidates (rows) and their activations on the selection inputs;
        # signed readers offer each direction and its negation.
        readers = {
            KINDS[0]: (atoms, sel_latents[:, i], False),
            KINDS[1]: (untrained.W_dec.detach()[i], sel_untrained[:, i], False),
            KINDS[2]: (eye, h_sel, True),
            KINDS[3]: (random_small, h_sel @ random_small.T, True),
            KINDS[4]: (random_large, h_sel @ random_large.T, True),
        }
        picks = {
            kind: _pick(directions, activations, outs, signed)
            for kind, (directions, activations, signed) in readers.items()
        }  # kind -> ((targets, d) directions, (targets,) candidate index)
        for j, t in enumerate(targets.tolist()):
            chosen = {kind: picked[0][j] for kind, picked in picks.items()}
            chosen[KINDS[5]] = true_dirs[i, t]
            atom_index = int(picks[KINDS[0]][1][j])
            targets_info.append(
                {
                    "seed": seed,
                    "target": t,
                    "firings": int(fired[t]),
                    "chosen_atom_cosine": round(cos_atoms[atom_index, t].item(), 4),
                    "best_atom_cosine": round(cos_atoms[:, t].max().item(), 4),
                }
            )
            others = torch.ones(p.n_features, dtype=torch.bool)
            others[t] = False
            for kind, direction in chosen.items():
                change = _steer(host, h_eval, clean_eval, i, direction, doses)  # (doses, eval, f)
                gains = change[:, :, t].mean(1)
                collaterals = change[:, :, others].abs().mean((1, 2))
                for j, dose in enumerate(p.doses):
                    rows.append(
                        {
                            "seed": seed,
                            "target": t,
                            "direction": kind,
                            "dose": dose,
                            "gain": round(gains[j].item(), 6),
                            "collateral": round(collaterals[j].item(), 7),
                        }
                    )
    return {
        "rows": rows,
        "targets": targets_info,
        "seeds": seeds,
        "headline_dose": p.headline_dose,
        "n_targets": p.n_targets,
        "n_features": p.n_features,
        "d_hidden": d,
        "n_selection": p.n_activations,
        "n_eval": p.n_eval,
        "well_chosen_cosine": p.well_chosen_cosine,
    }


def _steer(host: Any, hidden: Any, clean: Any, i: int, direction: Any, doses: Any) -> Any:
    """Change of instance i's outputs when `dose * direction` is added at `hook_hidden`.

    The host's output is `decode(hook_hidden(h))`, so steering there gives
    `decode(h + dose * direction)`; this evaluates it for instance i alone and every
    dose at once, `(doses, eval, features)`. tests/test_figures_toy.py checks it
    against `intervene(host, [Intervention("hook_hidden", add(...))])`.
    """
    import torch
    import torch.nn.functional as F

    with torch.no_grad():
        pre = hidden[:, i] @ host.W[i].T + host.b[i]  # (eval, features)
        push = host.W[i] @ direction  # (features,): what a unit push adds to each output
        steered = F.relu(pre[None] + doses[:, None, None] * push)  # (doses, eval, features)
        return steered - clean[None, :, i]


def _standardise(a: Any) -> Any:
    """Columns centred and scaled to unit norm, so `x.T @ y` is Pearson's correlation
    (0 for a constant column)."""
    a = a - a.mean(0)
    return a / a.norm(dim=0).clamp_min(1e-12)


def _pick(directions: Any, activations: Any, outs: Any, signed: bool) -> tuple[Any, Any]:
    """Per target, the candidate whose activation correlates best with its output.

    `directions` `(n, d)` with `activations` `(samples, n)` on the selection inputs and
    standardised target outputs `outs` `(samples, targets)`. With `signed`, each
    direction's negation is a candidate too (its correlation is the negation). Returns
    the chosen unit directions `(targets, d)` and candidate indices `(targets,)`.
    """
    import torch

    corr = _standardise(activations).T @ outs  # (n, targets)
    if signed:
        directions = torch.cat([directions, -directions])
        corr = torch.cat([corr, -corr])
    index = corr.argmax(0)
    return directions[index], index


# ----- values -----


def _per_seed_mean(data: dict[str, Any], kind: str, field: str) -> list[float]:
    """Per seed, the mean of `field` over targets at the headline dose."""
    out = []
    for seed in data["seeds"]:
        picked = [
            r[field]
            for r in data["rows"]
            if r["seed"] == seed and r["direction"] == kind and r["dose"] == data["headline_dose"]
        ]
        out.append(sum(picked) / len(picked))
    return out


def _per_gain(data: dict[str, Any], kind: str) -> list[float]:
    """Per seed, mean collateral over mean target gain: collateral per unit of gain."""
    gains = _per_seed_mean(data, kind, "gain")
    collaterals = _per_seed_mean(data, kind, "collateral")
    return [c / g if g > 0 else float("inf") for c, g in zip(collaterals, gains, strict=True)]


def _share_of_oracle(data: dict[str, Any], summary: str = "median") -> list[float]:
    """Per seed, the median (or `min`) over targets of the atom's gain over the oracle's."""
    import statistics

    pick = statistics.median if summary == "median" else min
    at = {
        (r["seed"], r["target"], r["direction"]): r["gain"]
        for r in data["rows"]
        if r["dose"] == data["headline_dose"]
    }
    out = []
    for seed in data["seeds"]:
        targets = [t["target"] for t in data["targets"] if t["seed"] == seed]
        shares = [at[(seed, t, KINDS[0])] / at[(seed, t, KINDS[5])] for t in targets]
        out.append(pick(shares))
    return out


def _well_chosen(data: dict[str, Any], field: str) -> list[float]:
    """Per seed, the share of targets whose atom (chosen, or best available) has cosine
    >= `well_chosen_cosine` with the target's true direction."""
    out = []
    for seed in data["seeds"]:
        cosines = [t[field] for t in data["targets"] if t["seed"] == seed]
        out.append(sum(c >= data["well_chosen_cosine"] for c in cosines) / len(cosines))
    return out


def _picked_best(data: dict[str, Any]) -> list[float]:
    """Per seed, the share of targets whose chosen atom is the atom closest to the target's
    true direction (what a selection with ground truth would pick)."""
    out = []
    for seed in data["seeds"]:
        ts = [t for t in data["targets"] if t["seed"] == seed]
        out.append(sum(t["chosen_atom_cosine"] == t["best_atom_cosine"] for t in ts) / len(ts))
    return out


def _picked_when_available(data: dict[str, Any]) -> list[float]:
    """Per seed, among targets for which some atom has cosine >= `well_chosen_cosine`
    with the true direction, the share whose chosen atom is the closest one."""
    out = []
    for seed in data["seeds"]:
        ts = [
            t
            for t in data["targets"]
            if t["seed"] == seed and t["best_atom_cosine"] >= data["well_chosen_cosine"]
        ]
        out.append(sum(t["chosen_atom_cosine"] == t["best_atom_cosine"] for t in ts) / len(ts))
    return out


def _min_firings(data: dict[str, Any]) -> list[int]:
    return [min(t["firings"] for t in data["targets"] if t["seed"] == s) for s in data["seeds"]]


# ----- chart -----


def _seed_curves(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Per seed, kind and dose: the mean gain and collateral over targets."""
    groups: dict[tuple[int, str, float], list[dict[str, Any]]] = {}
    for row in data["rows"]:
        groups.setdefault((row["seed"], row["direction"], row["dose"]), []).append(row)
    return [
        {
            "seed": seed,
            "direction": kind,
            "dose": dose,
            "gain": sum(r["gain"] for r in rows) / len(rows),
            "collateral": sum(r["collateral"] for r in rows) / len(rows),
        }
        for (seed, kind, dose), rows in sorted(groups.items())
    ]


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
        return (band + line).properties(width=230, height=220, title=chart_title)

    per_target = [r for r in data["rows"] if r["dose"] == data["headline_dose"]]
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
        .properties(width=230, height=220, title="Each target, each seed")
    )
    return (
        alt.hconcat(
            panel("gain", "change of the target output", "What we meant to move"),
            panel("collateral", "mean |change| of every other output", "What moved anyway"),
            strip,
        )
        .add_params(pick)
        .properties(
            description="Two line charts against dose, with a band over seeds: the change of "
            "the steered feature's output and the mean absolute change of all other outputs, "
            "for six kinds of direction; and a strip of every target's change at the "
            "headline dose."
        )
    )


PARAMS = Params()

ALT = (
    "Two line charts against dose and a strip chart. At dose "
    "{{ value: steering_dose_response.headline_dose }} the dictionary atom moves its target output "
    "by {{ value: steering_dose_response.atom_gain | .2f mean }}, "
    "{{ value: steering_dose_response.atom_share_of_oracle | .0% mean }} of the true feature "
    "direction's {{ value: steering_dose_response.oracle_gain | .2f mean }}, against "
    "{{ value: steering_dose_response.neuron_gain | .2f mean }} for the best neuron, "
    "{{ value: steering_dose_response.random_gain | .2f mean }} for random directions and "
    "{{ value: steering_dose_response.untrained_atom_gain | .2f mean }} for the untrained "
    "dictionary; its collateral change per unit of target change is "
    "{{ value: steering_dose_response.atom_collateral_per_gain | .3f mean }}, against "
    "{{ value: steering_dose_response.neuron_collateral_per_gain | .3f mean }} for the neuron and "
    "{{ value: steering_dose_response.random_collateral_per_gain | .3f mean }} for random "
    "directions. Means over {{ value: steering_dose_response.n_seeds }} seeds and "
    "{{ value: steering_dose_response.n_targets }} targets."

)
"""Alt text: its numbers are the figure's values, filled in by the site."""

METHODS = (
    "**Host.** The toy model of superposition (`h = W x`, read back as `x̂ = ReLU(Wᵀh + b)`), "
    "{{ param: steering_dose_response.n_features }} features in "
    "{{ param: steering_dose_response.d_hidden }} dimensions, each active with probability "
    "{{ param: steering_dose_response.feature_probability }}; one per seed, trained with Adam "
    "(learning rate {{ param: steering_dose_response.host_lr }}, "
    "{{ param: steering_dose_response.host_steps }} steps, batches of "
    "{{ code: figures_src._toy.host_config.batch_size }}). **Symbiote.** A TopK dictionary, one "
    "atom per feature, grown on {{ param: steering_dose_response.n_activations }} hidden "
    "activations (Adam, learning rate {{ param: steering_dose_response.dictionary_lr }}, "
    "{{ param: steering_dose_response.dictionary_steps }} steps), steering by adding dose × atom "
    "to the hidden layer, doses {{ param: steering_dose_response.doses }}. For each of "
    "{{ param: steering_dose_response.n_targets }} target features (firing at least "
    "{{ param: steering_dose_response.min_firings }} times in the selection inputs), each reader's "
    "candidate whose activation correlates best with the target output is picked on the "
    "dictionary's training activations and scored on {{ param: steering_dose_response.n_eval }} "
    "separate inputs. **Controls.** Random directions (both signs of half as many as atoms) and "
    "the neurons' signed axes against as many signed random directions. **Null.** The same "
    "dictionary untrained. **Reference.** The true feature direction. **Seeds.** "
    "{{ value: steering_dose_response.n_seeds }} ({{ param: steering_dose_response.seeds }})."

)
"""The methods appendix's paragraph (see `Figure.methods`)."""

FIGURE = Figure(
    title="Steering along a dictionary atom moves the target, and little else",
    caption=(
        f"Toy hosts ({PARAMS.n_features} features in {PARAMS.d_hidden} dimensions, "
        f"{len(PARAMS.seeds)} seeds) are steered by adding a unit direction, scaled by the "
        f"dose, to the hidden layer; each seed steers {PARAMS.n_targets} target features one "
        "at a time. Every direction is picked by how well its activation tracks the target "
        f"output on {PARAMS.n_activations:,} selection inputs, and scored on "
        f"{PARAMS.n_eval} other inputs. Random directions get as many candidates as the "
        "reader they control for. Lines are means over seeds with a 95% band; the strip "
        "shows every target. Click a legend entry to isolate a kind."
    ),
    alt=ALT,
    methods=METHODS,
    params=PARAMS,
    compute=compute,
    render=render,
    values={
        "n_seeds": lambda d: len(d["seeds"]),
        "headline_dose": lambda d: d["headline_dose"],
        "n_features": lambda d: d["n_features"],
        "d_hidden": lambda d: d["d_hidden"],
        "n_targets": lambda d: d["n_targets"],
        "n_selection": lambda d: d["n_selection"],
        "n_eval": lambda d: d["n_eval"],
        "neuron_candidates": lambda d: 2 * d["d_hidden"],
        "atom_candidates": lambda d: d["n_features"],
        "min_firings": _min_firings,
        "atom_gain": lambda d: _per_seed_mean(d, KINDS[0], "gain"),
        "untrained_atom_gain": lambda d: _per_seed_mean(d, KINDS[1], "gain"),
        "neuron_gain": lambda d: _per_seed_mean(d, KINDS[2], "gain"),
        "random_small_gain": lambda d: _per_seed_mean(d, KINDS[3], "gain"),
        "random_gain": lambda d: _per_seed_mean(d, KINDS[4], "gain"),
        "twice_random_gain": lambda d: [2 * g for g in _per_seed_mean(d, KINDS[4], "gain")],
        "oracle_gain": lambda d: _per_seed_mean(d, KINDS[5], "gain"),
        "atom_collateral": lambda d: _per_seed_mean(d, KINDS[0], "collateral"),
        "neuron_collateral": lambda d: _per_seed_mean(d, KINDS[2], "collateral"),
        "random_collateral": lambda d: _per_seed_mean(d, KINDS[4], "collateral"),
        "atom_collateral_per_gain": lambda d: _per_gain(d, KINDS[0]),
        "untrained_collateral_per_gain": lambda d: _per_gain(d, KINDS[1]),
        "neuron_collateral_per_gain": lambda d: _per_gain(d, KINDS[2]),
        "random_collateral_per_gain": lambda d: _per_gain(d, KINDS[4]),
        "half_random_collateral_per_gain": lambda d: [r / 2 for r in _per_gain(d, KINDS[4])],
        "oracle_collateral_per_gain": lambda d: _per_gain(d, KINDS[5]),
        "atom_share_of_oracle": _share_of_oracle,
        "atom_share_lowest": lambda d: _share_of_oracle(d, "min"),
        "well_chosen_share": lambda d: _well_chosen(d, "chosen_atom_cosine"),
        "picked_best_share": _picked_best,
        "picked_when_available": _picked_when_available,
        "available_share": lambda d: _well_chosen(d, "best_atom_cosine"),
        "well_chosen_cosine": lambda d: d["well_chosen_cosine"],
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
            why="a criterion fixed in advance: a twofold effect over the control, per seed "
            "(mean over targets)",
            null=Null(
                description="the same dictionary before training (its initial atoms), "
                "chosen and scored by the same code",
                values={"atom_gain": "untrained_atom_gain"},
            ),
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
            why="a criterion fixed in advance: a twofold reduction, per seed",
            null=Null(
                description="the same dictionary before training (its initial atoms)",
                values={"atom_collateral_per_gain": "untrained_collateral_per_gain"},
            ),
        ),
    ),
)
