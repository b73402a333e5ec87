"""`figures verify`: cached figures recomputed from scratch in a throwaway cache and
compared byte for byte (`engine/verify.py`), on the fake project."""

from __future__ import annotations

import shutil
from pathlib import Path

from symbiote_core.figures import cli
from symbiote_core.figures.engine.build import build
from symbiote_core.figures.engine.verify import choose, verify
from tests.test_figure_engine import FIXTURE, make_engine

DRIFTING = '''"""A figure whose compute is not deterministic: it reads the clock."""

import time
from dataclasses import dataclass

import altair as alt

from symbiote_core.figures.authoring.spec import Figure


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = (0,)


def compute(params: Params) -> dict:
    return {"points": [{"x": 0, "y": time.time_ns()}]}


def render(data: dict) -> alt.Chart:
    return alt.Chart(alt.Data(values=data["points"])).mark_point().encode(x="x:Q", y="y:Q")


FIGURE = Figure(title="Drift", caption="A clock.", alt="One point.", params=Params(),
                compute=compute, render=render)
'''


def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    (root / "figs" / "drifting.py").write_text(DRIFTING)
    return root


def test_a_deterministic_figure_reproduces_and_a_drifting_one_is_reported(tmp_path: Path) -> None:
    engine = make_engine(project(tmp_path))
    assert all(r.ok for r in build(engine, ["alpha", "drifting"]))
    results = {r.name: r for r in verify(engine, ["alpha", "drifting"])}
    assert results["alpha"].outcome == "identical", results["alpha"].detail
    assert results["drifting"].outcome == "differs"
    assert "data.json differs" in results["drifting"].detail
    # The check wrote nothing into the real cache: the cached entries are the same ones.
    assert {r.name: r.status for r in build(engine, ["alpha", "drifting"])} == {
        "alpha": "cached",
        "drifting": "cached",
    }


def test_the_sample_is_seeded_and_skips_figures_not_cached(tmp_path: Path) -> None:
    engine = make_engine(project(tmp_path))
    build(engine, ["alpha", "beta", "drifting"])
    first = choose(engine, ["alpha", "beta", "drifting", "slow"], sample=2, seed=3)
    assert first == choose(engine, ["alpha", "beta", "drifting", "slow"], sample=2, seed=3)
    assert len(first) == 2 and "slow" not in first  # slow was never built
    assert choose(engine, ["alpha", "slow"]) == ["alpha"]


def test_the_command_fails_when_a_figure_does_not_reproduce(tmp_path: Path) -> None:
    root = project(tmp_path)
    engine = make_engine(root)
    build(engine, ["alpha", "drifting"])
    base = ["--root", str(root), "--figures-package", "figs", "--project-packages", "figs,lib",
            "--cache-dir", str(engine.cache_dir), "verify"]
    assert cli.main([*base, "alpha"]) == 0
    assert cli.main([*base, "drifting"]) == 1


def test_a_sample_of_the_real_essay_reproduces(built_site: Path) -> None:
    """CI's spot-check: a few real figures (those whose recorded compute takes at most
    30 s, drawn by a seed that changes every day) recomputed from scratch, compared
    byte for byte with the entries the session's build used."""
    import datetime

    from symbiote_core.figures.engine.registry import Engine
    from tests.conftest import ROOT, session_figure_cache

    engine = Engine(root=ROOT, cache_dir=session_figure_cache())
    seed = datetime.date.today().toordinal()
    names = choose(engine, sample=2, seed=seed, budget=30.0)
    assert names, "no cached figure within the budget to verify"
    results = verify(engine, names)
    assert all(r.ok for r in results), [(r.name, r.outcome, r.detail) for r in results]
