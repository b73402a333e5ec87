"""Issue 17 at build time: a figure whose null is dead, or whose evaluation seeds are not
apart from its tuning seeds, fails its build with an error naming the figure (and the
claim); a figure that gets it right builds beside them."""

from __future__ import annotations

from pathlib import Path

from support.engine import copy_fake_project

from symbiote_core.figures.engine.build import build

FIGURE = '''"""{what}."""
from dataclasses import dataclass

from figs._shared import count_call
from symbiote_core.figures.authoring.spec import Claim, Figure, Null, Value


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = (5, 6, 7)


def compute(p: Params) -> dict:
    count_call("{name}")
    return {{"ys": [1.0, 2.0, 3.0], "nulls": {nulls}}}


def render(data: dict):
    import altair as alt

    return alt.Chart(alt.Data(values=[{{"v": 1}}])).mark_point().encode(x="v:Q")


FIGURE = Figure(
    title="{name}", caption="C.", alt="A.", params=Params(), compute=compute, render=render,
    values={{"y": Value("the measured y", lambda d: d["ys"]),
            "n": Value("the null run's y", lambda d: d["nulls"])}},
    claims=(
        Claim(name="positive", statement="y is above one half.", left="y", op=">",
              right=0.5, control="one half", why="a stated criterion",
              null=Null(description="the null run", values={{"y": "n"}})),
    ),{tuning}
)
'''

CASES = {
    # name: (what, null values, tuning keywords, what the error must say)
    "live": ("a live null, seeds apart", "[0.1, -0.2, 0.3]", "\n    tuning_seeds=(0, 1),", None),
    "pinned": (
        "a null pinned to one value",
        "[0.0, 0.0, 0.0]",
        "\n    tuning_seeds=(0, 1),",
        "claim 'positive': its null (the null run) is dead: its left side ('n') is 0 on every "
        "seed",
    ),
    "equal": (
        "a null whose sides are equal",
        "[0.5, 0.5, 0.5]",
        "\n    tuning_seeds=(0, 1),",
        "claim 'positive': its null (the null run) is dead: its two sides are equal",
    ),
    "undeclared": (
        "no tuning seeds",
        "[0.1, -0.2, 0.3]",
        "",
        "figure 'undeclared': declare the seeds its recipe was tuned on",
    ),
    "overlap": (
        "tuning seeds among the evaluation seeds",
        "[0.1, -0.2, 0.3]",
        "\n    tuning_seeds=(4, 5, 6),",
        "its evaluation seeds (5, 6, 7) overlap the seeds its recipe was tuned on (4, 5, 6)",
    ),
}


def test_dead_nulls_and_unseparated_seeds_fail_the_build_naming_figure_and_claim(
    tmp_path: Path,
) -> None:
    engine = copy_fake_project(tmp_path / "project")
    root = engine.root
    for name, (what, nulls, tuning, _) in CASES.items():
        source = FIGURE.format(what=what, name=name, nulls=nulls, tuning=tuning)
        (root / "figs" / f"{name}.py").write_text(source)
    results = {r.name: r for r in build(engine, list(CASES))}
    live = results["live"]
    assert live.status == "computed", live.error
    (claim,) = live.entry.claims
    assert claim.verdict == "holds" and live.entry.meta.tuning_seeds == (0, 1)
    for name, (*_, expected) in CASES.items():
        if expected is None:
            continue
        error = results[name].error or ""
        assert results[name].status == "failed", name
        assert f"figure {name!r} (figs/{name}.py)" in error, error
        assert expected in error, (name, error)
    # Refused before compute: the seeds are declared wrongly, so nothing ran.
    for name in ("undeclared",):
        assert not (root / "markers" / f"{name}.txt").exists(), f"{name}: compute ran"


DESCRIBED = 'Value("the null run\'s y", lambda d: d["nulls"])'
UNDESCRIBED = {
    # name: (the null value's declaration, what the error must say)
    "bare": ('lambda d: d["nulls"]', "value 'n' has no description: declare it as a pair"),
    "blank": ('Value("  ", lambda d: d["nulls"])', "value 'n' has an empty description"),
}


def test_a_value_without_a_description_fails_the_build_naming_figure_and_value(
    tmp_path: Path,
) -> None:
    """Every value says in a phrase what it is (a reader sees it in the number's popover):
    the build refuses one declared without, before compute, naming figure and value; a
    described figure stores each description in its entry."""
    engine = copy_fake_project(tmp_path / "project")
    root = engine.root
    tuning = "\n    tuning_seeds=(0, 1),"
    sources = {
        "described": FIGURE.format(what="described", name="described", nulls="[0.1, -0.2, 0.3]",
                                   tuning=tuning),
        **{
            name: FIGURE.format(what=name, name=name, nulls="[0.1, -0.2, 0.3]", tuning=tuning)
            .replace(DESCRIBED, declared)
            for name, (declared, _) in UNDESCRIBED.items()
        },
    }
    for name, source in sources.items():
        assert name == "described" or DESCRIBED not in source
        (root / "figs" / f"{name}.py").write_text(source)
    results = {r.name: r for r in build(engine, list(sources))}
    described = results["described"]
    assert described.status == "computed", described.error
    assert dict(described.entry.meta.value_descriptions) == {
        "y": "the measured y", "n": "the null run's y"
    }
    for name, (_, expected) in UNDESCRIBED.items():
        error = results[name].error or ""
        assert results[name].status == "failed", name
        assert f"figure {name!r} (figs/{name}.py)" in error and expected in error, error
        assert not (root / "markers" / f"{name}.txt").exists(), f"{name}: compute ran"
