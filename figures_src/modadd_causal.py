"""Remove the answer's Fourier planes and the host fails; rotate them and its answer moves.

The probes of section 4 show that cos and sin of w_k (a + b) (w_k = 2 pi k / p, k a
key frequency of the embedding) can be read from the host's MLP neurons. Reading is
not use. This figure tests use twice, on the same hosts as the rest of the section
(`figures_src._lab.modadd`, one host per seed, trained once here for both parts):

Read. For each seed, the *answer map* is the least-squares fit
`h ~ mean + T(s) @ U` of the neurons h (site `mlp.hidden`) on the answer's features
T(s) = [cos w_k s, sin w_k s]_k, s = (a + b) mod p, fitted on the host's *training*
pairs only (`symbiote_core.fourier_edits`). The rows of U span the 2K-dimensional
key-frequency subspace. Key frequencies come from the embedding's spectrum (weights,
not data), as in `modadd_fourier`. On held-out pairs we then

- mean-ablate that subspace, against mean-ablating the 2K neurons that carry the
  most of it (the strongest neuron-basis control: the neurons a reader of neurons
  would pick) and 2K random directions (several seeded draws, averaged);
- compute Nanda et al.'s (2023) restricted loss: the neurons replaced by
  `mean + T(s) @ U`, their key-frequency components alone, scored on held-out pairs;
  and their excluded loss: `h - T(s) @ U`, the key-frequency components removed,
  scored on the training pairs (the question there is whether anything besides the
  algorithm, e.g. a memorised table, still fits the training set). Nanda et al.
  project over all pairs; we fit on the training pairs so that held-out pairs never
  enter the restricted logits. The control is the same with as many non-key
  frequencies (a seeded draw per seed).

Write. A linear probe (least squares, training pairs) reads T-hat(h) from the
neurons; the rotation R(d) that maps T(s) to T(s + d) (angle w_k d in each plane)
is applied to the read-out and the change written back through U:
`h' = h + T-hat (R(d) - I) U`. Every shift d in 0..p-1 is precomputed.

Why the hidden layer, through least-squares maps. The logits are the obvious
alternative: rotating the logits' Fourier components over the output c is a
relabelling of the output, exact for any host whose logits are Fourier, and so it
would test nothing about the host. At the hidden layer the edit still has to pass
through the host's own unembedding: the answer moves by d only if the unembedding
reads the answer through these planes and nothing else we left untouched (the
a - b terms, harmonics, single-token terms) pulls it back. The probe reads from the
host what it encodes, so the edit needs no label; the write map is least squares
because the planes are ellipses in neuron space, not orthonormal pairs.

Controls of the same size. The same rotation R(d) applied in planes of the neuron
basis (for each key frequency, the two neurons carrying most of its write map,
disjoint across frequencies) and in random orthonormal planes, each rescaled per
input to the key edit's norm |T-hat (R - I) U|. So every edit moves the activation
by exactly as much; only the planes differ.

Collateral change. The intended output of a shift by d is the host's own
distribution moved by d, q_d(c) = p(c - d | a, b): an edit that does only what it
intends keeps the host's confidence and the shape of its uncertainty. We report
KL(q_d || p_edit), the divergence from that intended output, averaged over held-out
pairs: for the key rotation it is everything the edit did besides the shift (its
collateral change); for a control that fails to shift it is mostly that failure, so
we also report KL(p_clean || p_edit), how much a same-size push off the answer's
planes changes the output at all. The yardstick of the first is KL(q_d || p_clean),
doing nothing.

Nulls: the untrained hosts (the same seeds' step-0 weights, the trained host's key
frequencies, every map refitted on their neurons, same run); random planes; non-key
frequencies.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import altair as alt

from figures_src._lab.modadd import SEEDS, TUNING_SEEDS, HostParams
from figures_src._lab.modadd_causal_values import (
    CONDITIONS,
    _at_extreme,
    _condition_rows,
    _curve_rows,
    _nothing,
    _over_shifts,
    _ratio,
    _score,
)
from figures_src._lab.modadd_key_edits import (  # noqa: F401 (tests import them from here)
    EDITS,
    KEY,
    NEURONS,
    RANDOM,
    _key_change,
    _plane_change,
    analyse,
)
from figures_src._lab.values import each, n_seeds, stored
from figures_src._lab.words import modadd_host
from symbiote_core.figures.authoring.spec import Claim, Figure, Null

if TYPE_CHECKING:

    pass

EDIT_ROLES = {KEY: "symbiote", NEURONS: "neuron", RANDOM: "control", "doing nothing": "muted"}
"""Palette roles: the Fourier reading's planes are under test, against the host's own
neurons and random directions; doing nothing is a neutral baseline."""
HOST_ROLES = {"trained": "symbiote", "untrained": "control"}


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = SEEDS
    """Evaluation seeds (`_lab.modadd.SEEDS`): one host per seed, from the hosts' shared run."""
    host: HostParams = field(default_factory=HostParams)
    site: str = "mlp.hidden"
    """Where the subspaces are ablated and the planes rotated (see the module docstring)."""
    n_random: int = 8
    """Seeded draws of 2K random directions per seed for the ablation; the control's
    numbers are the mean over its draws."""
    n_random_planes: int = 4
    """Seeded draws of K random planes per seed for the writing (each costs a pass over
    every shift; the draws differed little in exploratory runs)."""


def compute(p: Params) -> dict[str, Any]:
    from figures_src._lab.modadd import train_hosts

    return analyse(train_hosts(p.host, p.seeds), p)


# ----- render -----


def render(data: dict[str, Any]) -> alt.VConcatChart:
    # Imported here, not at the top: a top-level import is part of the data key, and
    # colours must only re-render.
    from symbiote_core.figures.authoring import palette

    host_colors = alt.Scale(**palette.scale(HOST_ROLES))
    P = data["p"]
    order = [label for _, label in CONDITIONS]
    conditions = alt.Chart(alt.Data(values=_condition_rows(data)))
    y = alt.Y("condition:N", sort=order, title=None, axis=alt.Axis(labelLimit=280))
    tooltip = [
        alt.Tooltip("condition:N"),
        alt.Tooltip("host:N"),
        alt.Tooltip("seed:N"),
        alt.Tooltip("acc:Q", format=".1%", title="accuracy"),
        alt.Tooltip("loss:Q", format=".3g", title="loss (nats)"),
    ]
    dots = {"filled": True, "size": 45, "opacity": 0.8}
    accuracy = (
        conditions.mark_point(**dots)
        .encode(
            x=alt.X(
                "acc:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"), title="accuracy"
            ),
            y=y,
            color=alt.Color("host:N", scale=host_colors, title="host"),
            tooltip=tooltip,
        )
        .properties(width=260, height=230, title="Accuracy, one dot per seed")
    )
    uniform = (
        alt.Chart(alt.Data(values=[{"loss": data["uniform_loss"]}]))
        .mark_rule(strokeDash=[4, 3], color=palette.color("axis"))
        .encode(
            x="loss:Q", tooltip=[alt.Tooltip("loss:Q", format=".2f", title="uniform guess, log p")]
        )
    )
    loss = alt.layer(
        conditions.mark_point(**dots).encode(
            x=alt.X(
                "loss:Q",
                scale=alt.Scale(type="log", domain=[1e-6, 20]),
                axis=alt.Axis(values=[1e-6, 1e-4, 1e-2, 1, 10], format="~g", grid=False),
                title="loss (nats, log scale)",
            ),
            y=alt.Y("condition:N", sort=order, axis=None),
            color=alt.Color("host:N", scale=host_colors),
            tooltip=tooltip,
        ),
        uniform,
    ).properties(width=200, height=230, title="Loss; dashed: a uniform guess")
    read = alt.hconcat(accuracy, loss).properties(
        title="Read: remove the key-frequency subspace, or keep only it"
    )

    delta = alt.param(
        name="delta", value=7 % P, bind=alt.binding_range(min=0, max=P - 1, step=1, name="shift δ ")
    )
    curves = alt.Chart(alt.Data(values=_curve_rows(data)))
    colors = alt.Scale(**palette.scale(EDIT_ROLES))
    x = alt.X("delta:Q", scale=alt.Scale(domain=[0, P - 1], nice=False), title="shift δ")
    marker = (
        alt.Chart(alt.Data(values=[{}]))
        .transform_calculate(delta="delta")
        .mark_rule(color=palette.color("ink"), strokeDash=[2, 2])
        .encode(x="delta:Q")
    )
    success = alt.layer(
        curves.transform_filter("datum.shift_acc !== null")
        .mark_line(opacity=0.45, strokeWidth=1)
        .encode(
            x=x,
            y=alt.Y("shift_acc:Q", axis=alt.Axis(format="%"), title="answers moved to a+b+δ"),
            color=alt.Color(
                "edit:N",
                scale=colors,
                title="edit",
                legend=alt.Legend(labelLimit=220, symbolStrokeWidth=2, symbolOpacity=1),
            ),
            detail="seed:N",
            tooltip=["edit:N", "seed:N", "delta:Q", alt.Tooltip("shift_acc:Q", format=".1%")],
        ),
        marker,
    ).properties(width=230, height=180, title="Answers moved, one line per seed")
    collateral = alt.layer(
        curves.mark_line(opacity=0.45, strokeWidth=1).encode(
            x=x,
            y=alt.Y(
                "kl_target:Q",
                scale=alt.Scale(type="log"),
                axis=alt.Axis(values=[1e-4, 1e-2, 1, 100], format="~g", grid=False),
                title="KL(intended ‖ edited), nats",
            ),
            color=alt.Color("edit:N", scale=colors),
            detail="seed:N",
            tooltip=["edit:N", "seed:N", "delta:Q", alt.Tooltip("kl_target:Q", format=".3g")],
        ),
        marker,
    ).properties(width=230, height=180, title="Distance from the intended output")
    cells = (
        alt.Chart(alt.Data(values=data["scatter"]))
        .transform_filter(alt.datum.delta == delta)
        .transform_flatten(["actual", "predicted", "n"])
    )
    ticks = [0, 10, 20, 30, P - 1]
    panels = [
        cells.transform_filter(alt.datum.edit == edit)
        .mark_circle(opacity=0.8, color=palette.color(EDIT_ROLES[edit]))
        .encode(
            x=alt.X(
                "actual:Q",
                scale=alt.Scale(domain=[0, P - 1], nice=False),
                axis=alt.Axis(values=ticks),
                title="a+b",
            ),
            y=alt.Y(
                "predicted:Q",
                scale=alt.Scale(domain=[0, P - 1], nice=False),
                axis=alt.Axis(values=ticks),
                title="answer given",
            ),
            size=alt.Size("n:Q", scale=alt.Scale(range=[8, 120]), legend=None),
            tooltip=["actual:Q", "predicted:Q", alt.Tooltip("n:Q", title="pairs")],
        )
        .properties(width=130, height=130, title=edit)
        for edit in EDITS
    ]
    scatter = alt.hconcat(*panels).properties(
        title=f"Answers given at the chosen δ, seed {data['seeds'][0]['seed']}'s held-out pairs"
    )
    write = alt.vconcat(alt.hconcat(success, collateral), scatter).properties(
        title="Write: rotate the key-frequency planes by the angle of δ"
    )
    # Two colour legends (host, edit): independent, or Vega-Lite merges their domains.
    return alt.vconcat(read, write).add_params(delta).resolve_scale(color="independent")


# ----- values: one number per seed, in params order -----


PARAMS = Params()

ALT = (
    "Read: on held-out pairs, ablating the "
    "{{ value: modadd_causal.subspace_dim | .0f mean }}-dimensional key subspace leaves "
    "{{ value: modadd_causal.ablate_key_acc | .0% mean }} accuracy (chance "
    "{{ value: modadd_causal.chance | .1% }}), ablating as many top neurons "
    "{{ value: modadd_causal.ablate_neurons_acc | .0% mean }} and random directions "
    "{{ value: modadd_causal.ablate_random_acc | .0% mean }}; keeping only the key components "
    "keeps {{ value: modadd_causal.restricted_key_acc | .0% mean }}, as many other frequencies "
    "{{ value: modadd_causal.other_frequencies_restricted_key_acc | .0% mean }}; removing the key components "
    "leaves {{ value: modadd_causal.excluded_key_acc | .0% mean }} of the training pairs right. "
    "Write: the rotation moves {{ value: modadd_causal.key_shift_acc | .0% mean }} of answers to a "
    "+ b + δ, pushes of the same size along neurons "
    "{{ value: modadd_causal.neuron_shift_acc | .1% mean }} and random planes "
    "{{ value: modadd_causal.random_planes_key_shift_acc | .1% mean }}. Means over "
    "{{ value: modadd_causal.n_seeds }} seeds."

)
"""Alt text: its numbers are the figure's values, filled in by the site."""

METHODS = (
    modadd_host("modadd_causal")
    + "**Symbiote.** The answer map: a least-squares fit, on the training "
    "pairs only, of the {{ param: modadd_causal.site }} neurons on cos and sin of the key "
    "frequencies of a + b; key frequencies come from the embedding's spectrum. **Read.** On "
    "held-out pairs, mean-ablate the key subspace; keep only its components (restricted loss) or "
    "remove them (excluded loss, on the training pairs). **Write.** A linear probe reads the "
    "answer's phases; rotating them by δ and writing the change back through the map should move "
    "the answer to a + b + δ, for every δ. **Controls.** As many top neurons (those carrying most "
    "of the subspace), {{ param: modadd_causal.n_random }} draws of random directions, as many "
    "non-key frequencies; pushes of the same size per input along neurons and "
    "{{ param: modadd_causal.n_random_planes }} random planes. **Null.** The same edits on the "
    "untrained and on the memorised host (step {{ param: modadd_causal.host.memorised_step }}). "
    "**Seeds.** {{ value: modadd_causal.n_seeds }} ({{ param: modadd_causal.seeds }})."

)
"""The methods appendix's paragraph (see `Figure.methods`)."""

FIGURE = Figure(
    title="Remove the answer's Fourier planes and the host fails; rotate them and its answer moves",
    caption=(
        f"{len(PARAMS.seeds)} seeds, each with its own key frequencies. **Read** (top): "
        "held-out accuracy and loss with the key-frequency subspace mean-ablated, against as "
        "many top neurons or random directions; then the restricted and excluded losses, "
        "each beside as many non-key frequencies. Grey: the untrained hosts, every map "
        "refitted. **Write** (bottom): the answer's read-out rotated by w_k δ in each key "
        "plane and written back, against the same push in the top neurons' planes and in "
        "random planes. Left: share of held-out answers moved to a+b+δ; middle: KL "
        "divergence from the intended output, with doing nothing for scale. The slider "
        "picks δ: the answer each held-out pair of the first seed gets (circle size: "
        "number of pairs)."
    ),
    alt=ALT,
    methods=METHODS,
    params=PARAMS,
    tuning_seeds=TUNING_SEEDS,
    tuning_note="the host recipe (_lab.modadd.HostParams) was tuned until these seeds generalised; "
    "the answer map, probes and controls were developed on them too",
    compute=compute,
    render=render,
    values={
        "n_seeds": n_seeds(),
        "p": ("the modulus p", stored("p")),
        "d_mlp": ("the hosts' MLP neurons", stored("d_mlp")),
        "n_random": ("random subspaces drawn per seed for the ablation control", stored("n_random")),
        "n_random_planes": ("random plane sets drawn per seed for the rotation control", lambda d: PARAMS.n_random_planes),
        "uniform_loss": ("the loss of a uniform guess (nats)", stored("uniform_loss")),
        "chance": ("chance accuracy (one in p)", lambda d: 1 / d["p"]),
        "memorised_step": ("the training step of the memorised host", stored("memorised_step")),
        "n_key": ("key frequencies of the embedding", each(lambda e: e["n_key"])),
        "subspace_dim": ("dimensions of the key-frequency subspace", each(lambda e: 2 * len(e["key"]))),
        "clean_acc": ("accuracy on the clean host (held-out pairs)", _score("trained", "clean", "acc")),
        "clean_loss": ("loss (nats) on the clean host (held-out pairs)", _score("trained", "clean", "loss")),
        "ablate_key_acc": ("accuracy with the key-frequency subspace mean-ablated (held-out pairs)", _score("trained", "ablate_key", "acc")),
        "ablate_key_loss": ("loss (nats) with the key-frequency subspace mean-ablated (held-out pairs)", _score("trained", "ablate_key", "loss")),
        "ablate_neurons_acc": ("accuracy with as many top neurons mean-ablated (held-out pairs)", _score("trained", "ablate_neurons", "acc")),
        "ablate_neurons_loss": ("loss (nats) with as many top neurons mean-ablated (held-out pairs)", _score("trained", "ablate_neurons", "loss")),
        "ablate_random_acc": ("accuracy with as many random directions mean-ablated (held-out pairs)", _score("trained", "ablate_random", "acc")),
        "ablate_random_loss": ("loss (nats) with as many random directions mean-ablated (held-out pairs)", _score("trained", "ablate_random", "loss")),
        "untrained_ablate_key_acc": ("accuracy with the key-frequency subspace mean-ablated (held-out pairs), untrained host", _score("untrained", "ablate_key", "acc")),
        "untrained_ablate_neurons_acc": ("accuracy with as many top neurons mean-ablated (held-out pairs), untrained host", _score("untrained", "ablate_neurons", "acc")),
        "untrained_ablate_random_acc": ("accuracy with as many random directions mean-ablated (held-out pairs), untrained host", _score("untrained", "ablate_random", "acc")),
        "untrained_clean_acc": ("accuracy on the clean host (held-out pairs), untrained host", _score("untrained", "clean", "acc")),
        "untrained_restricted_key_acc": ("accuracy with the neurons restricted to their key-frequency components (held-out pairs), untrained host", _score("untrained", "restricted_key", "acc")),
        "untrained_restricted_key_loss": ("loss (nats) with the neurons restricted to their key-frequency components (held-out pairs), untrained host", _score("untrained", "restricted_key", "loss")),
        "untrained_clean_loss": ("loss (nats) on the clean host (held-out pairs), untrained host", _score("untrained", "clean", "loss")),
        "untrained_key_kl_ratio": ("KL to the intended output after rotating the key planes over KL of doing nothing, untrained host", _ratio(KEY, "untrained")),
        "top_neuron_write_share": ("the share of the key write map the top neurons carry", each(lambda e: e["trained"]["top_neuron_write_share"])),
        "key_variance": ("the share of the neurons' variance the key subspace holds", each(lambda e: e["trained"]["ablate_key_variance"])),
        "neurons_variance": ("the share of the neurons' variance the top neurons hold", each(lambda e: e["trained"]["ablate_neurons_variance"])),
        "random_variance": ("the share of the neurons' variance as many random directions hold", each(lambda e: e["trained"]["ablate_random_variance"])),
        "restricted_key_acc": ("accuracy with the neurons restricted to their key-frequency components (held-out pairs)", _score("trained", "restricted_key", "acc")),
        "restricted_key_loss": ("loss (nats) with the neurons restricted to their key-frequency components (held-out pairs)", _score("trained", "restricted_key", "loss")),
        "other_frequencies_restricted_key_acc": ("accuracy with the neurons restricted to as many other frequencies (held-out pairs)", _score("trained", "restricted_other", "acc")),
        "other_frequencies_restricted_key_loss": ("loss (nats) with the neurons restricted to as many other frequencies (held-out pairs)", _score("trained", "restricted_other", "loss")),
        "excluded_key_acc": ("accuracy with the key-frequency components removed (training pairs)", _score("trained", "excluded_key", "acc")),
        "excluded_key_loss": ("loss (nats) with the key-frequency components removed (training pairs)", _score("trained", "excluded_key", "loss")),
        "excluded_other_acc": ("accuracy with as many other frequencies removed (training pairs)", _score("trained", "excluded_other", "acc")),
        "excluded_other_loss": ("loss (nats) with as many other frequencies removed (training pairs)", _score("trained", "excluded_other", "loss")),
        # Seeds whose excluded accuracy is below one half (the prose's criterion).
        "excluded_below_half_seeds": ("seeds whose accuracy with the key frequencies removed is below one half", lambda d: sum(
            e["trained"]["excluded_key"]["acc"] < 0.5 for e in d["seeds"]
        )),
        # The seeds where the Fourier reading falls short, and how much of their training
        # set still fits without the key components (a host whose answer spreads wider).
        "lowest_shift_seed": ("the seed where rotating the key planes moves the answer least", lambda d: _at_extreme(d, _over_shifts("trained", KEY, "shift_acc"),
                                                   min, "seed")),
        "lowest_shift_seed_excluded_key_acc": ("training accuracy with the key frequencies removed, on the seed where rotating the key planes moves the answer least", lambda d: _at_extreme(
            d, _over_shifts("trained", KEY, "shift_acc"), min, "excluded_key"
        )),
        "highest_other_seed": ("the seed where other frequencies alone do best", lambda d: _at_extreme(
            d, _score("trained", "restricted_other", "acc"), max, "seed"
        )),
        "highest_other_seed_excluded_key_acc": ("training accuracy with the key frequencies removed, on the seed where other frequencies alone do best", lambda d: _at_extreme(
            d, _score("trained", "restricted_other", "acc"), max, "excluded_key"
        )),
        "memorised_test_acc": ("accuracy on the clean host (held-out pairs), memorised host", _score("memorised", "clean", "acc")),
        "memorised_excluded_key_acc": ("accuracy with the key-frequency components removed (training pairs), memorised host", _score("memorised", "excluded_key", "acc")),
        "memorised_excluded_key_loss": ("loss (nats) with the key-frequency components removed (training pairs), memorised host", _score("memorised", "excluded_key", "loss")),
        "memorised_excluded_other_loss": ("loss (nats) with as many other frequencies removed (training pairs), memorised host", _score("memorised", "excluded_other", "loss")),
        "memorised_restricted_key_acc": ("accuracy with the neurons restricted to their key-frequency components (held-out pairs), memorised host", _score("memorised", "restricted_key", "acc")),
        "probe_r2": ("R\u00b2 of the linear probe reading the answer's features from the neurons", each(lambda e: e["trained"]["write"]["probe_r2"])),
        "untrained_probe_r2": ("R\u00b2 of the same probe on the untrained host", each(lambda e: e["untrained"]["write"]["probe_r2"])),
        "push": ("how far the rotation moves the neurons, averaged over shifts", each(lambda e: statistics.fmean(e["trained"]["write"]["push"][1:]))),
        "key_shift_acc": ("how often rotating the key planes by d moves the answer by d, averaged over shifts", _over_shifts("trained", KEY, "shift_acc")),
        "key_shift_acc_min": ("the same, at the worst shift", _over_shifts("trained", KEY, "shift_acc", min)),
        "neuron_shift_acc": ("how often the same rotation in neuron planes moves the answer by d", _over_shifts("trained", NEURONS, "shift_acc")),
        "random_planes_key_shift_acc": ("how often the same rotation in random planes moves the answer by d", _over_shifts("trained", RANDOM, "shift_acc")),
        "untrained_key_shift_acc": ("how often rotating the key planes moves the answer by d, untrained host", _over_shifts("untrained", KEY, "shift_acc")),
        "untrained_neuron_shift_acc": ("how often rotating neuron planes moves the answer by d, untrained host", _over_shifts("untrained", NEURONS, "shift_acc")),
        "key_kl_target": ("KL from the intended shifted output after rotating the key planes", _over_shifts("trained", KEY, "kl_target")),
        "neuron_kl_target": ("KL from the intended shifted output after rotating neuron planes", _over_shifts("trained", NEURONS, "kl_target")),
        "random_kl_target": ("KL from the intended shifted output after rotating random planes", _over_shifts("trained", RANDOM, "kl_target")),
        "nothing_kl": ("KL from the intended shifted output when nothing is edited", each(_nothing)),
        "key_kl_ratio": ("KL to the intended output after rotating the key planes over KL of doing nothing", _ratio(KEY)),
        "neuron_kl_ratio": ("the same ratio for rotations in neuron planes", _ratio(NEURONS)),
        "random_planes_key_kl_ratio": ("the same ratio for rotations in random planes", _ratio(RANDOM)),
        "key_kl_clean": ("KL from the clean output after rotating the key planes", _over_shifts("trained", KEY, "kl_clean")),
        "neuron_kl_clean": ("KL from the clean output after rotating neuron planes", _over_shifts("trained", NEURONS, "kl_clean")),
        "random_kl_clean": ("KL from the clean output after rotating random planes", _over_shifts("trained", RANDOM, "kl_clean")),
    },
    claims=(
        Claim(
            name="key_ablation_beats_random",
            statement="Mean-ablating the key-frequency subspace costs more than half of the "
            "held-out pairs beyond what ablating as many random directions costs.",
            left="ablate_random_acc",
            op=">",
            right="ablate_key_acc",
            margin=0.5,
            control=f"2K random orthonormal directions in the same neuron space, mean-ablated "
            f"the same way ({PARAMS.n_random} seeded draws per seed, averaged)",
            why="'Breaks the host' stated as losing at least half of all held-out answers "
            "more than the control does.",
            null=Null(
                description="the untrained hosts (same seeds, same frequencies, maps refitted, "
                "same run)",
                values={
                    "ablate_random_acc": "untrained_ablate_random_acc",
                    "ablate_key_acc": "untrained_ablate_key_acc",
                },
            ),
        ),
        Claim(
            name="key_ablation_beats_neurons",
            statement="Mean-ablating the key-frequency subspace costs more than half of the "
            "held-out pairs beyond what ablating the 2K neurons that carry most of it costs.",
            left="ablate_neurons_acc",
            op=">",
            right="ablate_key_acc",
            margin=0.5,
            control="the 2K neurons with the largest share of the key write map (two per "
            "key frequency, chosen on training pairs), mean-ablated",
            why="The same criterion as against random directions.",
            null=Null(
                description="the untrained hosts (same seeds, same frequencies, maps refitted, "
                "same run)",
                values={
                    "ablate_neurons_acc": "untrained_ablate_neurons_acc",
                    "ablate_key_acc": "untrained_ablate_key_acc",
                },
            ),
        ),
        Claim(
            name="restricted_keeps_answers",
            statement="Reduced to their key-frequency components, the neurons still give "
            "nine in ten held-out answers.",
            left="restricted_key_acc",
            op=">",
            right=0.9,
            control="the same restriction to as many non-key frequencies",
            why="'Still answers' stated as 90% of held-out pairs.",
            null=(
                Null(
                    description="as many non-key frequencies (a seeded draw per seed, same run)",
                    values={"restricted_key_acc": "other_frequencies_restricted_key_acc"},
                ),
                Null(
                    description="the untrained hosts restricted to the same key frequencies "
                    "(maps refitted on their neurons, same run)",
                    values={"restricted_key_acc": "untrained_restricted_key_acc"},
                ),
            ),
        ),
        Claim(
            name="restricted_below_clean",
            statement="Restricted to its key frequencies, the host's held-out loss is lower "
            "than the whole host's, as Nanda et al. found after grokking.",
            left="restricted_key_loss",
            op="<",
            right="clean_loss",
            control="the whole host's held-out loss",
            why="No margin: the claim is the ordering Nanda et al. report; both losses are "
            "given beside it.",
            null=(
                Null(
                    description="restriction to as many non-key frequencies (same run)",
                    values={"restricted_key_loss": "other_frequencies_restricted_key_loss"},
                ),
                Null(
                    description="the untrained hosts, restricted to the same key frequencies, "
                    "against their own whole held-out loss (maps refitted, same run)",
                    values={
                        "restricted_key_loss": "untrained_restricted_key_loss",
                        "clean_loss": "untrained_clean_loss",
                    },
                ),
            ),
            stated="fails",
        ),
        Claim(
            name="rotation_moves_answer",
            statement="Rotating the key-frequency planes by the angle of δ moves nine in ten "
            "held-out answers to a+b+δ, averaged over every non-zero δ.",
            left="key_shift_acc",
            op=">",
            right=0.9,
            control="the same rotation, at the same size per input, in random planes",
            why="'Moves the answer' stated as 90% of held-out pairs.",
            null=(
                Null(
                    description=f"random planes ({PARAMS.n_random_planes} seeded draws per "
                    "seed, same run)",
                    values={"key_shift_acc": "random_planes_key_shift_acc"},
                ),
                Null(
                    description="the untrained hosts, the same rotation in their own key "
                    "planes (maps refitted, same run)",
                    values={"key_shift_acc": "untrained_key_shift_acc"},
                ),
            ),
        ),
        Claim(
            name="rotation_beats_neuron_push",
            statement="The rotation moves more than half of the held-out answers more than "
            "the same rotation in the planes of the top neurons does.",
            left="key_shift_acc",
            op=">",
            right="neuron_shift_acc",
            margin=0.5,
            control="the same rotation in planes of two neurons per key frequency (those "
            "carrying most of its write map), scaled to the same size per input",
            why="Half of all held-out pairs, the criterion of the ablation claims.",
            null=Null(
                description="the untrained hosts (same seeds, same frequencies, maps refitted, "
                "same run)",
                values={
                    "key_shift_acc": "untrained_key_shift_acc",
                    "neuron_shift_acc": "untrained_neuron_shift_acc",
                },
            ),
        ),
        Claim(
            name="rotation_lands_on_intended",
            statement="The rotated host's output is within a tenth of the divergence of doing "
            "nothing from the intended, shifted output.",
            left="key_kl_ratio",
            op="<",
            right=0.1,
            control="KL(intended ‖ clean): the distance of leaving the host alone",
            why="'Lands on the intended output' stated as an order of magnitude closer to "
            "it than doing nothing.",
            null=(
                Null(
                    description=f"random planes at the same size ({PARAMS.n_random_planes} "
                    "draws, same run)",
                    values={"key_kl_ratio": "random_planes_key_kl_ratio"},
                ),
                Null(
                    description="the untrained hosts, the same rotation in their own key "
                    "planes (maps refitted, same run)",
                    values={"key_kl_ratio": "untrained_key_kl_ratio"},
                ),
            ),
        ),
    ),
)
