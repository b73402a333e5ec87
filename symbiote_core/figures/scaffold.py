"""`figures new NAME`: a figure module that builds as it stands, to edit into a real one.

The scaffold shows the house rules in working code: five evaluation seeds disjoint from
the tuning seeds, every RNG seeded explicitly from them, values one number per seed, and
a claim with a live null that the same compute measures in the same run (a planted
effect against a run where none is planted), its margin taken from the planted size,
not from the result.
"""

from __future__ import annotations

from pathlib import Path

from symbiote_core.figures.engine.registry import Engine, FigureError, figure_names

TEMPLATE = '''"""{title}: a planted shift recovered on every seed (scaffold; edit me).

Replace compute with the experiment, keep the shape: every RNG seeded from
`params.seeds`, values one number per seed, and each claim tested against a null that
the same code measures in the same run.
"""

from dataclasses import dataclass

import altair as alt
import torch

from symbiote_core.figures.authoring.spec import Claim, Figure, Null


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = (5, 6, 7, 8, 9)
    """Evaluation seeds: the claims are judged on these, never on the tuning seeds."""
    samples: int = 256
    """Draws per seed of each run: control, treated and null."""
    shift: float = 1.0
    """The planted effect; the null run plants none."""


def compute(params: Params) -> dict:
    runs = []
    for seed in params.seeds:
        generator = torch.Generator().manual_seed(seed)  # one explicit RNG per seed
        control = torch.randn(params.samples, generator=generator)
        treated = torch.randn(params.samples, generator=generator) + params.shift
        null = torch.randn(params.samples, generator=generator)  # same code, no shift
        runs.append(
            {{
                "seed": seed,
                "control": control.mean().item(),
                "treated": treated.mean().item(),
                "null": null.mean().item(),
            }}
        )
    return {{"runs": runs}}


def render(data: dict) -> alt.Chart:
    rows = [
        {{"seed": run["seed"], "arm": arm, "mean": run[arm]}}
        for run in data["runs"]
        for arm in ("control", "treated", "null")
    ]
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_point(filled=True)
        .encode(x=alt.X("arm:N", title=None), y=alt.Y("mean:Q"), color="arm:N")
    )


FIGURE = Figure(
    title="{title}",
    caption="Mean of the treated and control samples, one point per seed.",
    # Numbers in the alt text and the methods paragraph are directives, never typed.
    alt="Treated means ({{{{ value: {name}.treated | .2f mean }}}}) sit above the control "
    "({{{{ value: {name}.control | .2f mean }}}}) and null means on every seed.",
    methods="**Samples.** Per seed, three samples of {{{{ param: {name}.samples }}}} unit "
    "normals; the treated one is shifted by {{{{ param: {name}.shift }}}}. **Control.** The "
    "unshifted sample of the same seed. **Null.** A third sample with no shift. "
    "**Seeds.** {{{{ param: {name}.seeds }}}}.",
    params=Params(),
    # Every seed you look at while developing the recipe; disjoint from params.seeds.
    tuning_seeds=(0, 1, 2, 3, 4),
    compute=compute,
    render=render,
    # Each value is a pair: a phrase saying what the number is (a reader sees it when they
    # open a quoted number; the build refuses a value without one), and its getter.
    values={{
        "treated": (
            "the treated sample's mean", lambda data: [run["treated"] for run in data["runs"]]
        ),
        "control": (
            "the control sample's mean", lambda data: [run["control"] for run in data["runs"]]
        ),
        # A null value is named <setting>_<value it replaces> (rules.NULL_NAMING).
        "unshifted_treated": (
            "the mean of a third sample drawn with no shift",
            lambda data: [run["null"] for run in data["runs"]],
        ),
        "shift": ("the shift added to the treated sample", lambda data: Params().shift),
    }},
    claims=(
        Claim(
            name="shift_recovered",
            statement="The treated mean exceeds the control mean by at least half the shift.",
            left="treated",
            op=">",
            right="control",
            margin=0.5,
            control="the control sample of the same seed, same size, no shift",
            why="half the planted shift (1.0): far above the standard error of a "
            "difference of two means of 256 unit normals (0.09)",
            null=Null(
                description="a third sample with no shift",
                values={{"treated": "unshifted_treated"}},
            ),
        ),
    ),
)
'''


def new_figure(engine: Engine, name: str) -> Path:
    """Write `<figures_package>/<name>.py` from the template; refuses to overwrite."""
    if not name.isidentifier() or name.startswith("_"):
        raise FigureError(
            f"figure name {name!r} must be a Python identifier not starting with '_' "
            "(it names the module and the directives {{ figure: NAME }})"
        )
    if name in figure_names(engine):
        raise FigureError(f"figure {name!r} exists already: {engine.module_path(name)}")
    path = engine.module_path(name)
    title = name.replace("_", " ").capitalize()
    path.write_text(TEMPLATE.format(title=title, name=name), encoding="utf-8")
    return path
