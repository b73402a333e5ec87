"""`figures verify`: cached figures recomputed from scratch in a throwaway cache and
compared byte for byte (`engine/verify.py`), on the fake project. (A sample of the real
essay's figures: essay/test_real_figures_reproduce.py.)"""

from __future__ import annotations

from support.engine import cli_args

from symbiote_core.figures import cli
from symbiote_core.figures.engine import artifacts
from symbiote_core.figures.engine.build import build
from symbiote_core.figures.engine.registry import Engine
from symbiote_core.figures.engine.verify import choose, verify

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
                compute=compute, render=render, tuning_seeds=(), tuning_note="a test fixture")
'''


def project(fake_project) -> Engine:
    engine = fake_project()
    (engine.root / "figs" / "drifting.py").write_text(DRIFTING)
    return engine


def test_a_deterministic_figure_reproduces_and_a_drifting_one_is_reported(fake_project) -> None:
    engine = project(fake_project)
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


def test_the_sample_is_seeded_and_skips_figures_not_cached(fake_project) -> None:
    engine = project(fake_project)
    build(engine, ["alpha", "beta", "drifting"])
    first = choose(engine, ["alpha", "beta", "drifting", "slow"], sample=2, seed=3)
    assert first == choose(engine, ["alpha", "beta", "drifting", "slow"], sample=2, seed=3)
    assert len(first) == 2 and "slow" not in first  # slow was never built
    assert choose(engine, ["alpha", "slow"]) == ["alpha"]


def test_the_command_fails_when_a_figure_does_not_reproduce(fake_project) -> None:
    engine = project(fake_project)
    build(engine, ["alpha", "drifting"])
    base = cli_args(engine, "verify")
    assert cli.main([*base, "alpha"]) == 0
    assert cli.main([*base, "drifting"]) == 1


def store_artifact(engine: Engine, name: str, producer: str, seconds: float, created: str) -> None:
    key = f"{name}-{created}".replace(":", "")
    meta = {"name": name, "key": key, "producer": producer, "seconds": seconds, "created": created}
    artifacts._write(engine, name, key, b"", b"{}", meta)


def test_the_budget_counts_the_artifacts_a_figure_would_produce_again(fake_project) -> None:
    # alpha imports lib.curves, beta does not: only alpha's recompute includes producing
    # what lib.curves produced, at the newest entry's cost (an older one took longer).
    engine = project(fake_project)
    build(engine, ["alpha", "beta"])
    assert choose(engine, ["alpha", "beta"], budget=100.0) == ["alpha", "beta"]
    store_artifact(engine, "hosts", "lib.curves.train", 900.0, "2026-01-01T00:00:00+00:00")
    store_artifact(engine, "hosts", "lib.curves.train", 150.0, "2026-02-01T00:00:00+00:00")
    assert choose(engine, ["alpha", "beta"], budget=100.0) == ["beta"]
    assert choose(engine, ["alpha", "beta"], budget=200.0) == ["alpha", "beta"]
