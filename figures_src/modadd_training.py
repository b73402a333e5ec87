"""The modular-addition host memorises first and generalises much later: grokking.

The host of section 4 (`figures_src._modadd`) is trained full-batch on a fixed
fraction of all pairs (a, b); accuracy and cross-entropy on the training pairs and
on the held-out pairs are logged every few steps. The control is built in: the
held-out pairs are the same task on inputs the host never saw, and chance is 1/p.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import altair as alt

from figures_src._modadd import HostParams
from symbiote_core.figures.spec import Claim, Figure

SPLITS = ("train", "test")
COLORS = alt.Scale(domain=list(SPLITS), range=["#ef6c00", "#00897b"])


@dataclass(frozen=True)
class Params:
    seed: int = 0
    host: HostParams = field(default_factory=HostParams)
    log_every: int = 10
    """Steps between measurements; the first one after step 0 is the left edge of the
    log-scaled axis."""
    fit_accuracy: float = 0.99
    """Training accuracy at which the host counts as having fitted its training pairs."""
    grok_accuracy: float = 0.5
    """Test accuracy that marks the jump (half the unseen pairs right)."""
    generalised_accuracy: float = 0.99


def compute(p: Params) -> dict[str, Any]:
    from figures_src._modadd import train_host

    _, _, log = train_host(p.host, p.seed, log_every=p.log_every)
    m = log.metrics
    rows = [
        {
            "step": step,
            "train_acc": round(m["train_acc"][i], 5),
            "test_acc": round(m["test_acc"][i], 5),
            "train_loss": m["train_loss"][i],
            "test_loss": m["test_loss"][i],
        }
        for i, step in enumerate(log.steps)
    ]
    n_pairs = p.host.p**2
    n_train = round(p.host.train_fraction * n_pairs)
    return {
        "log": rows,
        "p": p.host.p,
        "n_train": n_train,
        "n_test": n_pairs - n_train,
        "steps": p.host.steps,
        "fit_accuracy": p.fit_accuracy,
        "grok_accuracy": p.grok_accuracy,
        "generalised_accuracy": p.generalised_accuracy,
    }


def _first_step(data: dict[str, Any], metric: str, at_least: float) -> int:
    """First logged step where `metric` reaches `at_least`; -1 if it never does (the
    claims then fail, which is what we want)."""
    return next((r["step"] for r in data["log"] if r[metric] >= at_least), -1)


def _fit_step(d: dict[str, Any]) -> int:
    return _first_step(d, "train_acc", d["fit_accuracy"])


def _grok_step(d: dict[str, Any]) -> int:
    return _first_step(d, "test_acc", d["grok_accuracy"])


def _at_step(d: dict[str, Any], step: int, metric: str) -> float:
    (row,) = [r for r in d["log"] if r["step"] == step]
    return row[metric]


def _peak_test_loss(d: dict[str, Any]) -> dict[str, Any]:
    return max(d["log"], key=lambda r: r["test_loss"])


def _long(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (step, split), step 0 dropped: the step axis is logarithmic. Each row
    also carries both splits' values, for a tooltip that shows them side by side."""

    def short(x: float) -> float:
        # A log axis drops zeros; float32 cross-entropy here never gets below ~1e-7.
        return float(f"{max(x, 1e-12):.4g}")

    return [
        {
            "step": r["step"],
            "pairs": split,
            "accuracy": round(r[f"{split}_acc"], 4),
            "loss": short(r[f"{split}_loss"]),
            **{f"{s}_accuracy": round(r[f"{s}_acc"], 4) for s in SPLITS},
            **{f"{s}_loss": short(r[f"{s}_loss"]) for s in SPLITS},
        }
        for r in data["log"]
        if r["step"] > 0
        for split in SPLITS
    ]


def render(data: dict[str, Any]) -> alt.HConcatChart:
    rows = _long(data)
    first = min(r["step"] for r in rows)
    step_x = alt.X(
        "step:Q",
        scale=alt.Scale(type="log", domain=[first, data["steps"]], nice=False),
        axis=alt.Axis(values=[10, 30, 100, 300, 1000, 3000], format="~s"),
        title="training step (log scale)",
    )
    plateau = alt.Data(
        values=[
            {
                "from": _fit_step(data),
                "to": _grok_step(data),
                "label": "memorised, not yet general",
            }
        ]
    )

    def panel(field: str, title: str, y: alt.Y) -> alt.LayerChart:
        # One hover selection per panel: a selection name may appear in one view only.
        hover = alt.selection_point(
            name=f"hover_{field}",
            fields=["step"],
            nearest=True,
            on="pointerover",
            clear="pointerout",
            empty=False,  # nothing highlighted until the pointer is on the chart
        )
        base = alt.Chart().encode(x=step_x)  # the rows come once, from the top level
        lines = base.mark_line(strokeWidth=2).encode(
            y=y, color=alt.Color("pairs:N", scale=COLORS, title="pairs")
        )
        points = (
            base.mark_point(filled=True, size=40)
            .encode(
                y=y,
                color=alt.Color("pairs:N", scale=COLORS),
                opacity=alt.condition(hover, alt.value(1), alt.value(0)),
                # Numbers only: Vega-Lite 6 reads nominal tooltip fields from the wrong
                # object under a `nearest` selection and shows "undefined".
                tooltip=[
                    alt.Tooltip("step:Q"),
                    *[
                        alt.Tooltip(
                            f"{split}_{field}:Q",
                            format=".3~g" if field == "loss" else ".1%",
                            title=f"{split} {field}",
                        )
                        for split in SPLITS
                    ],
                ],
            )
            .add_params(hover)
        )
        rule = base.mark_rule(color="#888", opacity=0.6).transform_filter(hover)
        shade = (
            alt.Chart(plateau)
            .mark_rect(color="#9e9e9e", opacity=0.15)
            .encode(x="from:Q", x2="to:Q", tooltip=[alt.Tooltip("label:N", title="")])
        )
        return alt.layer(shade, lines, rule, points).properties(width=260, height=200, title=title)

    accuracy_y = alt.Y(
        "accuracy:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%"), title="accuracy"
    )
    chance = (
        alt.Chart(alt.Data(values=[{"chance": 1 / data["p"], "label": "chance"}]))
        .mark_rule(strokeDash=[3, 3], color="#888")
        .encode(y="chance:Q", tooltip=[alt.Tooltip("chance:Q", format=".1%")])
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
            alt.layer(panel("accuracy", "Accuracy", accuracy_y), chance),
            panel("loss", "Loss", loss_y),
            data=alt.Data(values=rows),
        )
        .resolve_scale(color="shared")
        .configure_legend(orient="bottom")
        .properties(
            description="Training and test accuracy and loss of the modular-addition host "
            "against training step on a log scale."
        )
    )


PARAMS = Params()

FIGURE = Figure(
    title="The host fits its training pairs at once and the held-out pairs much later",
    caption=(
        f"Accuracy and loss of the host on (a + b) mod {PARAMS.host.p}, on the "
        f"{PARAMS.host.train_fraction:.0%} of all pairs it trains on (orange) and on the "
        f"held-out pairs (teal), measured every {PARAMS.log_every} steps; the step axes "
        "are logarithmic. The grey band runs from the step where training accuracy first "
        f"reaches {PARAMS.fit_accuracy:.0%} to the step where test accuracy first reaches "
        f"{PARAMS.grok_accuracy:.0%}. The dashed line is chance. Hover to read the values "
        "at a step."
    ),
    alt=(
        "Two line charts against training step on a log scale. Left: training accuracy "
        "rises to 100% within the first few dozen steps while test accuracy stays at "
        "zero, then test accuracy climbs steeply to 100% about twenty times later. "
        "Right: training loss falls steadily; test loss first rises, then falls sharply "
        "when test accuracy jumps."
    ),
    params=PARAMS,
    compute=compute,
    render=render,
    values={
        "p": lambda d: d["p"],
        "n_train": lambda d: d["n_train"],
        "n_test": lambda d: d["n_test"],
        "n_pairs": lambda d: d["n_train"] + d["n_test"],
        "fit_accuracy": lambda d: d["fit_accuracy"],
        "grok_accuracy": lambda d: d["grok_accuracy"],
        "generalised_accuracy": lambda d: d["generalised_accuracy"],
        "steps": lambda d: d["steps"],
        "chance": lambda d: 1 / d["p"],
        "fit_step": _fit_step,
        "grok_step": _grok_step,
        "generalised_step": lambda d: _first_step(d, "test_acc", d["generalised_accuracy"]),
        "delay_ratio": lambda d: _grok_step(d) / _fit_step(d),
        "test_acc_at_fit": lambda d: _at_step(d, _fit_step(d), "test_acc"),
        "peak_test_loss": lambda d: _peak_test_loss(d)["test_loss"],
        "peak_test_loss_step": lambda d: _peak_test_loss(d)["step"],
        "initial_loss": lambda d: d["log"][0]["test_loss"],
        "final_train_acc": lambda d: d["log"][-1]["train_acc"],
        "final_test_acc": lambda d: d["log"][-1]["test_acc"],
    },
    claims=(
        Claim(
            name="memorises_first",
            statement="When the host first fits its training pairs, it gets almost none "
            "of the held-out pairs right.",
            left="test_acc_at_fit",
            op="<",
            right=0.05,
        ),
        Claim(
            name="delayed_generalisation",
            statement="Half the held-out pairs come right only more than ten times later "
            "than the training pairs were fitted.",
            left="delay_ratio",
            op=">",
            right=10,
        ),
        Claim(
            name="generalises",
            statement="By the end of training the host is right on nearly every held-out pair.",
            left="final_test_acc",
            op=">",
            right=0.99,
        ),
    ),
)
