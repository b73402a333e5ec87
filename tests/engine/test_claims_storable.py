"""Issue 21: a claim or param the cache cannot store is an error naming figure, claim
and field, where the figure is loaded, not "Out of range float values are not JSON
compliant" after compute has run.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
from support.engine import FIXTURE

from symbiote_core.figures.authoring.spec import Claim, Null
from symbiote_core.figures.engine.build import build
from symbiote_core.figures.engine.registry import Engine

FIGURE = '''"""A figure whose {what}."""
from dataclasses import dataclass

import numpy as np

from figs._shared import count_call
from symbiote_core.figures.authoring.spec import Claim, Figure, Null, Value


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = (1, 2)
    scale: float = {scale}


def compute(p: Params) -> dict:
    count_call("{name}")
    return {{"ys": [1.0, 2.0], "zs": [0.0, 0.0]}}


def render(data: dict):
    import altair as alt

    return alt.Chart(alt.Data(values=[{{"v": 1}}])).mark_point().encode(x="v:Q")


FIGURE = Figure(
    title="T", caption="C.", alt="A.", params=Params(), compute=compute, render=render,
    values={{"y": Value("the measured y", lambda d: d["ys"]),
            "z": Value("zeros", lambda d: d["zs"])}},
    claims=(
        Claim(name="above", statement="y is above the threshold.", left="y", op=">",
              right={right}, margin={margin}, control="zero", why="a stated criterion",
              null=Null(description="zeros", values={{"y": "z"}})),
    ),
)
'''

CASES = {
    # name: (what, right, margin, scale, what the error must say)
    "nan_margin": ("margin is NaN", "0.5", 'float("nan")', "1.0", "claim 'above': margin is nan"),
    "inf_right": ("threshold is infinite", 'float("inf")', "0.0", "1.0",
                  "claim 'above': right is inf"),
    "numpy_right": ("threshold is a numpy float32", "np.float32(0.5)", "0.0", "1.0",
                    "claim 'above': field 'right' is np.float32(0.5)"),
    "nan_param": ("param is NaN", "0.5", "0.0", 'float("nan")', "params field 'scale' is nan"),
}


def test_a_claim_with_a_non_finite_threshold_or_margin_is_refused_when_made() -> None:
    null = Null(description="zeros", values={"y": "z"})
    fields = {"name": "c", "statement": "s.", "left": "y", "op": ">", "control": "c",
              "why": "w", "null": null}
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match=rf"claim 'c': margin is {bad}, not a finite"):
            Claim(**fields, right=0.0, margin=bad)
        with pytest.raises(ValueError, match=rf"claim 'c': right is {bad}, not a finite"):
            Claim(**fields, right=bad)
    with pytest.raises(TypeError, match="claim 'c': margin must be a number"):
        Claim(**fields, right=0.0, margin="0.1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="claim 'c': right must be a number or a value name"):
        Claim(**fields, right=True)
    assert Claim(**fields, right=0, margin=0.5).margin == 0.5  # finite numbers are fine


def test_an_unstorable_claim_or_param_fails_its_figure_naming_the_field(tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    for name, (what, right, margin, scale, _) in CASES.items():
        source = FIGURE.format(what=what, right=right, margin=margin, scale=scale, name=name)
        (root / "figs" / f"{name}.py").write_text(source)
    engine = Engine(root=root, figures_package="figs", project_packages=("figs", "lib"),
                    cache_dir=root / ".cache" / "figures")
    results = {r.name: r for r in build(engine, [*CASES, "alpha"])}
    assert results["alpha"].status == "computed", results["alpha"].error  # the others build
    for name, (*_, expected) in CASES.items():
        result = results[name]
        assert result.status == "failed", name
        error = result.error or ""
        assert f"figure {name!r} (figs/{name}.py) failed while importing its module" in error, error
        assert expected in error, (name, error)
        assert not (root / "markers" / f"{name}.txt").exists(), f"{name}: compute ran"
