"""The modular-addition host memorises first and generalises much later: grokking.

The hosts of section 4 (`figures_src._lab.modadd`, one per seed) are trained full-batch on
a fixed fraction of all pairs (a, b); accuracy and cross-entropy on the training pairs
and on the held-out pairs are logged at log-spaced steps. The held-out pairs are the
same task on inputs the host never saw (chance is 1/p).

No claim: what this figure shows (the host fits its training pairs first and the
held-out pairs much later) has no live null in this run, only other quantities of the
same hosts, so it is reported as values. The recipe's success rate is reported too:
of twenty seeds outside the tuning set (`_lab.modadd.RATE_SEEDS`, the same shared run), how
many end at the criterion declared before that run (`_lab.modadd.GENERALISED`).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any

import altair as alt

from figures_src._lab.modadd import SEEDS, TUNING_SEEDS, HostParams, log_steps
from figures_src._lab.values import n_seeds, stored
from figures_src._lab.words import modadd_host
from symbiote_core.figures.authoring.spec import Figure

SPLITS = ("train", "test")
SPLIT_ROLES = {"train": "control", "test": "ink"}
"""Palette roles of the two splits. Neither is a reader, so neutrals: the held-out
pairs (the result) in ink, the memorised training pairs in the light control grey."""


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = SEEDS
    """Evaluation seeds (`_lab.modadd.SEEDS`): one host per seed, from the hosts' shared run."""
    host: HostParams = field(default_factory=HostParams)
    log_points_per_decade: int = 24
    """Measurements are log-spaced (the step axis is logarithmic): this many per factor
    of ten, from step 1 on, plus step 0 and the last step. The hosts' shared training
    run measures at `_lab.modadd.LOG_POINTS_PER_DECADE`; at another value this figure's
    steps are added to it (a run of its own, with the same weights)."""
    fit_accuracy: float = 0.99
    """Training accuracy at which the host counts as having fitted its training pairs."""
    grok_accuracy: float = 0.5
    """Test accuracy that marks the jump (half the unseen pairs right)."""
    generalised_accuracy: float = 0.99
    """Test accuracy at which a host has generalised (`_lab.modadd.GENERALISED`, the recipe's
    criterion)."""


def compute(p: Params) -> dict[str, Any]:
    from figures_src._lab.modadd import per_seed, recipe_rate, train_hosts

    run = train_hosts(p.host, p.seeds, log_steps(p.host.steps, p.log_points_per_decade))
    n = len(p.seeds)
    m = {k: per_seed(run.log, k, n) for k in ("train_acc", "test_acc", "train_loss", "test_loss")}
    logs = [
        [
            {
                "step": step,
                "train_acc": round(m["train_acc"][i][j], 5),
                "test_acc": round(m["test_acc"][i][j], 5),
                "train_loss": float(f"{m['train_loss'][i][j]:.5g}"),
                "test_loss": float(f"{m['test_loss'][i][j]:.5g}"),
            }
            for j, step in enumerate(run.log.steps)
        ]
        for i in range(n)
    ]
    n_pairs = p.host.p**2
    n_train = round(p.host.train_fraction * n_pairs)
    return {
        "seeds": list(p.seeds),
        "logs": logs,
        "p": p.host.p,
        "n_train": n_train,
        "n_test": n_pairs - n_train,
        "steps": p.host.steps,
        "fit_accuracy": p.fit_accuracy,
        "grok_accuracy": p.grok_accuracy,
        "generalised_accuracy": p.generalised_accuracy,
        "rate": recipe_rate(p.host),
    }


def _first_step(log: list[dict[str, Any]], metric: str, at_least: float) -> int:
    """First logged step where `metric` reaches `at_least`; the last step + 1 if it
    never does (finite, for the prose; `_delay` treats it as no generalisation)."""
    return next((r["step"] for r in log if r[metric] >= at_least), log[-1]["step"] + 1)


def _each(fn: Any) -> Any:
    """A per-seed value: `fn(data, log)` on every seed's log, in params order."""
    return lambda d: [fn(d, log) for log in d["logs"]]


def _fit(d: dict[str, Any], log: list[dict[str, Any]]) -> int:
    return _first_step(log, "train_acc", d["fit_accuracy"])


def _grok(d: dict[str, Any], log: list[dict[str, Any]]) -> int:
    return _first_step(log, "test_acc", d["grok_accuracy"])


def _delay(d: dict[str, Any], log: list[dict[str, Any]]) -> float:
    """Grok step over fit step; 0 for a host that never gets half the held-out pairs
    right, which then shows no delayed generalisation (and fails the claim)."""
    if _grok(d, log) > log[-1]["step"]:
        return 0.0
    return _grok(d, log) / _fit(d, log)


def _at(log: list[dict[str, Any]], step: int, metric: str) -> float:
    (row,) = [r for r in log if r["step"] == step] or [log[-1]]
    return row[metric]


def _peak(log: list[dict[str, Any]]) -> dict[str, Any]:
    return max(log, key=lambda r: r["test_loss"])


def _long(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (seed, step, split), step 0 dropped: the step axis is logarithmic."""

    def short(x: float) -> float:
        # A log axis drops zeros; float32 cross-entropy here never gets below ~1e-7.
        return float(f"{max(x, 1e-12):.3g}")

    return [
        {
            "seed": seed,
            "step": r["step"],
            "pairs": split,
            "accuracy": round(r[f"{split}_acc"], 4),
            "loss": short(r[f"{split}_loss"]),
        }
        for seed, log in zip(data["seeds"], data["logs"], strict=True)
        for r in log
        if r["step"] > 0
        for split in SPLITS
    ]


def _events(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Per seed: the step it fitted its training pairs and the step half the held-out
    pairs came right, as marks on the accuracy panel."""
    rows = []
    for seed, log in zip(data["seeds"], data["logs"], strict=True):
        rows.append(
            {
                "seed": seed,
                "step": _fit(data, log),
                "accuracy": data["fit_accuracy"],
                "pairs": "train",
                "event": "fitted training pairs",
            }
        )
        rows.append(
            {
                "seed": seed,
                "step": _grok(data, log),
                "accuracy": data["grok_accuracy"],
                "pairs": "test",
                "event": "half the held-out pairs right",
            }
        )
    return rows


def render(data: dict[str, Any]) -> alt.HConcatChart:
    # Imported here, not at the top: a top-level import is part of the data key, and
    # colours must only re-render.
    from symbiote_core.figures.authoring import palette

    colors = alt.Scale(**palette.scale({split: SPLIT_ROLES[split] for split in SPLITS}))
    rows = _long(data)
    first = min(r["step"] for r in rows)
    step_x = alt.X(
        "step:Q",
        scale=alt.Scale(type="log", domain=[first, data["steps"]], nice=False),
        axis=alt.Axis(values=[1, 3, 10, 30, 100, 300, 1000, 3000], format="~s"),
        title="training step (log scale)",
    )
    fits = [_fit(data, log) for log in data["logs"]]
    groks = [_grok(data, log) for log in data["logs"]]
    plateau = alt.Data(
        values=[
            {
                "from": statistics.median(fits),
                "to": statistics.median(groks),
                "label": "memorised, not yet general (medians over seeds)",
            }
        ]
    )
    tooltip = [
        alt.Tooltip("seed:N"),
        alt.Tooltip("pairs:N"),
        alt.Tooltip("step:Q"),
        alt.Tooltip("accuracy:Q", format=".1%"),
        alt.Tooltip("loss:Q", format=".3~g"),
    ]

    steps = sorted({r["step"] for r in rows})
    # Direct labels instead of a legend: in the accuracy panel where the two sets are
    # furthest apart (between the median fit and the median jump), in the loss panel at
    # the lines' ends. In ink: the training pairs' grey would not read at 4.5:1 as text.
    between = math.sqrt(statistics.median(fits) * statistics.median(groks))
    label_at = {
        "accuracy": min(steps, key=lambda s: abs(math.log(s / between))),
        "loss": steps[-1],
    }
    names = {"train": "training pairs", "test": "held-out pairs"}

    def labels(field: str, y: alt.Y) -> alt.LayerChart:
        step = label_at[field]
        marks = []
        for split in SPLITS:
            value = statistics.fmean(
                r[field] for r in rows if r["step"] == step and r["pairs"] == split
            )
            if field == "accuracy":  # right of the step; below a high line, above a low one
                align, dx, dy = "left", 4, (12 if value > 0.5 else -8)
            else:  # just left of the line's end, above it
                align, dx, dy = "right", -2, -8
            marks.append(
                alt.Chart(alt.Data(values=[{"step": step, field: value, "label": names[split]}]))
                .mark_text(align=align, dx=dx, dy=dy, color=palette.color("ink"))
                .encode(x=step_x, y=y, text="label:N")
            )
        return alt.layer(*marks)

    def panel(y: alt.Y, title: str, field: str) -> alt.LayerChart:
        base = alt.Chart().encode(x=step_x)  # the rows come once, from the top level
        lines = base.mark_line(strokeWidth=1.5, opacity=0.75).encode(
            y=y,
            color=alt.Color("pairs:N", scale=colors, title="pairs", legend=None),
            detail="seed:N",
            tooltip=tooltip,
        )
        shade = (
            alt.Chart(plateau)
            .mark_rect(color=palette.color("control"), opacity=0.2)
            .encode(x="from:Q", x2="to:Q", tooltip=[alt.Tooltip("label:N", title="")])
        )
        return alt.layer(shade, lines, labels(field, y)).properties(
            width=260, height=200, title=title
        )

    accuracy_y = alt.Y(
        "accuracy:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"), title="accuracy"
    )
    chance = (
        alt.Chart(alt.Data(values=[{"chance": 1 / data["p"], "label": "chance"}]))
        .mark_rule(strokeDash=[3, 3], color=palette.color("axis"))
        .encode(y="chance:Q", tooltip=[alt.Tooltip("chance:Q", format=".1%")])
    )
    events = (
        alt.Chart(alt.Data(values=_events(data)))
        .mark_point(filled=True, size=45, shape="diamond", opacity=0.9)
        .encode(
            x="step:Q",
            y="accuracy:Q",
            color=alt.Color("pairs:N", scale=colors, legend=None),
            tooltip=[alt.Tooltip("seed:N"), alt.Tooltip("event:N"), alt.Tooltip("step:Q")],
        )
    )
    loss_y = alt.Y(
        "loss:Q",
        scale=alt.Scale(type="log"),
        axis=alt.Axis(
            values=[1e-6, 1e-4, 1e-2, 1, 100],
            labelExpr="datum.value < 0.01 ? format(datum.value, '.0e') : format(datum.value, '~g')",
        ),
        title="cross-entropy (log scale)",
    )
    return (
        alt.hconcat(
            alt.layer(panel(accuracy_y, "Accuracy", "accuracy"), chance, events),
            panel(loss_y, "Loss", "loss"),
            _rate_panel(data),
            data=alt.Data(values=rows),
        )
        .resolve_scale(color="shared")
        .configure_legend(orient="bottom")
        .properties(
            description=f"Training and test accuracy and loss of {len(data['seeds'])} "
            "modular-addition hosts (one per seed) against training step on a log scale."
        )
    )


def _rate_panel(data: dict[str, Any]) -> alt.LayerChart:
    """The recipe over twenty seeds: each host's final held-out accuracy against the
    criterion; the evaluation seeds marked."""
    from symbiote_core.figures.authoring import palette  # here, not at the top: see render

    rate = data["rate"]
    points = [
        {
            "seed": seed,
            "accuracy": acc,
            "host": "evaluation seed" if seed in data["seeds"] else "other seed",
            "met": "generalised" if ok else "did not generalise",
        }
        for seed, acc, ok in zip(rate["seeds"], rate["final_test_acc"], rate["generalised"],
                                 strict=True)
    ]
    y = alt.Y(
        "accuracy:Q",
        scale=alt.Scale(zero=False),
        axis=alt.Axis(format="%"),
        title="final held-out accuracy",
    )
    dots = (
        alt.Chart(alt.Data(values=points))
        .mark_point(filled=True, size=40)
        .encode(
            x=alt.X("seed:O", title="seed", axis=alt.Axis(labelAngle=0, values=rate["seeds"][::5])),
            y=y,
            shape=alt.Shape(
                "host:N",
                scale=alt.Scale(domain=["evaluation seed", "other seed"], range=["circle", "square"]),
                legend=alt.Legend(title=None, orient="bottom", direction="vertical"),
            ),
            color=alt.value(palette.color("ink")),
            tooltip=["seed:O", alt.Tooltip("accuracy:Q", format=".2%"), "met:N", "host:N"],
        )
    )
    bar = (
        alt.Chart(alt.Data(values=[{"accuracy": rate["criterion"]}]))
        .mark_rule(strokeDash=[3, 3], color=palette.color("axis"))
        .encode(y="accuracy:Q", tooltip=[alt.Tooltip("accuracy:Q", format=".0%", title="criterion")])
    )
    n_met = sum(rate["generalised"])
    return alt.layer(bar, dots).properties(
        width=160,
        height=200,
        title=alt.Title(
            "The recipe over twenty seeds",
            subtitle=f"{n_met} of {len(rate['seeds'])} reach the criterion (dashed)",
        ),
    )


PARAMS = Params()

first_fit = _each(_fit)
first_grok = _each(_grok)

ALT = (
    "Two line charts against training step on a log scale, one line per seed and pair set. "
    "Training accuracy reaches {{ value: modadd_training.fit_accuracy | .0% }} by step "
    "{{ value: modadd_training.fit_step | .0f mean }} while test accuracy is "
    "{{ value: modadd_training.test_acc_at_fit | .0% mean }} there; test accuracy passes "
    "{{ value: modadd_training.grok_accuracy | .0% }} at step "
    "{{ value: modadd_training.grok_step | .0f mean }} and "
    "{{ value: modadd_training.generalised_accuracy | .0% }} at step "
    "{{ value: modadd_training.generalised_step | .0f mean }}, "
    "{{ value: modadd_training.delay_ratio | .0f mean }} times later than the fit, and ends at "
    "{{ value: modadd_training.final_test_acc | .1% mean }}. Training loss falls steadily; test "
    "loss peaks at {{ value: modadd_training.peak_test_loss | .1f mean }} nats at step "
    "{{ value: modadd_training.peak_test_loss_step | .0f mean }}, then falls as test accuracy "
    "jumps. Means over {{ value: modadd_training.n_seeds }} seeds."

)
"""Alt text: its numbers are the figure's values, filled in by the site."""

METHODS = (
    modadd_host("modadd_training")
    + "The {{ value: modadd_training.n_train }} training pairs and "
    "{{ value: modadd_training.n_test }} held-out pairs are a seeded split per seed. "
    "**Measurement.** Accuracy and cross-entropy on both sets at "
    "{{ param: modadd_training.log_points_per_decade }} log-spaced steps per decade; a host has "
    "fitted at {{ param: modadd_training.fit_accuracy | .0% }} training accuracy, grokked at "
    "{{ param: modadd_training.grok_accuracy | .0% }} test accuracy and generalised at "
    "{{ param: modadd_training.generalised_accuracy | .0% }}. **Control.** The held-out pairs: the "
    "same task on inputs the host never saw (chance is 1/p). **No claim.** These hosts give no "
    "live null for the delay (only other quantities of the same run), so the figure reports "
    "values. **Recipe.** {{ value: modadd_training.rate_generalised }} of "
    "{{ value: modadd_training.rate_n_seeds }} seeds outside the tuning seeds end at or above "
    "{{ value: modadd_training.rate_criterion | .0% }} held-out accuracy, the criterion declared "
    "before that run. **Seeds.** {{ value: modadd_training.n_seeds }} ({{ param: "
    "modadd_training.seeds }})."

)
"""The methods appendix's paragraph (see `Figure.methods`)."""

FIGURE = Figure(
    title="The host fits its training pairs at once and the held-out pairs much later",
    caption=(
        f"Accuracy and loss of {len(PARAMS.seeds)} hosts (one line per seed) on their training "
        "pairs ({{ colour: control }}) and held-out pairs ({{ colour: ink }}), on logarithmic "
        f"step axes. Diamonds mark, per seed, where training accuracy reaches "
        f"{PARAMS.fit_accuracy:.0%} and test accuracy {PARAMS.grok_accuracy:.0%}; the grey "
        "band joins their medians; dashed: chance. Right: held-out accuracy at the end of "
        "training on twenty seeds outside those the recipe was tuned on, against the "
        "criterion declared before that run (dashed)."
    ),
    alt=ALT,
    methods=METHODS,
    params=PARAMS,
    tuning_seeds=TUNING_SEEDS,
    tuning_note="the host recipe (_lab.modadd.HostParams) was tuned until these seeds generalised",
    compute=compute,
    render=render,
    values={
        "p": ("the modulus p", stored("p")),
        "n_seeds": n_seeds(),
        "n_train": ("training pairs", stored("n_train")),
        "n_test": ("held-out pairs", stored("n_test")),
        "n_pairs": ("pairs (a, b) in all", lambda d: d["n_train"] + d["n_test"]),
        "fit_accuracy": ("the training accuracy that counts as fitting the training set", stored("fit_accuracy")),
        "grok_accuracy": ("the held-out accuracy that counts as grokking", stored("grok_accuracy")),
        "generalised_accuracy": ("the held-out accuracy that counts as generalised", stored("generalised_accuracy")),
        "steps": ("training steps", stored("steps")),
        "chance": ("chance accuracy (one in p)", lambda d: 1 / d["p"]),
        "fit_step": ("the step the host first fits its training pairs", first_fit),
        "grok_step": ("the step the host first gets half the held-out pairs right", first_grok),
        "generalised_step": ("the step the host first counts as generalised", _each(
            lambda d, log: _first_step(log, "test_acc", d["generalised_accuracy"])
        )),
        "delay_ratio": ("the grok step over the fit step", _each(_delay)),
        # The null of `delayed_generalisation`: the same ratio with the training pairs in
        # place of the held-out ones (the step half of them came right).
        "train_delay_ratio": ("the same ratio with the training pairs in place of the held-out ones", _each(
            lambda d, log: _first_step(log, "train_acc", d["grok_accuracy"]) / _fit(d, log)
        )),
        "test_acc_at_fit": ("held-out accuracy at the fit step", _each(lambda d, log: _at(log, _fit(d, log), "test_acc"))),
        "peak_test_loss": ("the highest held-out loss during training (nats)", _each(lambda d, log: _peak(log)["test_loss"])),
        "peak_test_loss_step": ("the step of the highest held-out loss", _each(lambda d, log: _peak(log)["step"])),
        "initial_loss": ("the held-out loss at the start (nats)", _each(lambda d, log: log[0]["test_loss"])),
        "final_train_acc": ("training accuracy at the end", _each(lambda d, log: log[-1]["train_acc"])),
        "final_test_acc": ("held-out accuracy at the end", _each(lambda d, log: log[-1]["test_acc"])),
        "lowest_final_test_acc": ("the lowest final held-out accuracy over the evaluation seeds", lambda d: min(log[-1]["test_acc"] for log in d["logs"])),
        # The recipe's success rate over twenty seeds outside the tuning set.
        "rate_n_seeds": ("seeds outside the tuning set the recipe's success rate is measured on", lambda d: len(d["rate"]["seeds"])),
        "rate_criterion": ("the final held-out accuracy that counts as generalised", lambda d: d["rate"]["criterion"]),
        "rate_generalised": ("of those seeds, how many generalised", lambda d: sum(d["rate"]["generalised"])),
        "rate_failed": ("of those seeds, how many did not", lambda d: len(d["rate"]["seeds"]) - sum(d["rate"]["generalised"])),
        "rate_share": ("the share of those seeds that generalised", lambda d: sum(d["rate"]["generalised"]) / len(d["rate"]["seeds"])),
        "rate_lowest_test_acc": ("the lowest final held-out accuracy over those seeds", lambda d: min(d["rate"]["final_test_acc"])),
        "rate_lowest_train_acc": ("the lowest final training accuracy over those seeds", lambda d: min(d["rate"]["final_train_acc"])),
        "eval_seeds_generalised": ("evaluation seeds that generalised", lambda d: sum(log[-1]["test_acc"] >= d["rate"]["criterion"]
                                                for log in d["logs"])),
    },
    # No claims: see the module docstring (reported values, and the recipe's rate).
)
