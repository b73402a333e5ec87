"""Every real figure follows the authoring rules (`symbiote_core/figures/authoring/rules.py`,
applied by `figures/check.py`), checked on what its entry recorded in the session's one
full build: the checks once spread over the methods/alt, palette and claim tests, now
one rulebook (`python -m symbiote_core.figures check`; each rule is shown firing on a
broken figure in engine/test_rules.py)."""

from __future__ import annotations

import pytest
from support.project import ROOT, EssayBuild

from symbiote_core.figures import check as checker
from symbiote_core.figures.engine.registry import Engine, figure_names

ENGINE = Engine(root=ROOT)
NAMES = figure_names(ENGINE)

@pytest.fixture(scope="module")
def reports(essay_build: EssayBuild) -> dict[str, checker.Report]:
    """Every figure checked against the entries the essay's build wrote."""
    engine = Engine(root=ROOT, cache_dir=essay_build.figure_cache)
    return {report.figure: report for report in checker.check(engine)}


@pytest.mark.parametrize("name", NAMES)
def test_every_figure_follows_the_authoring_rules(reports, name: str) -> None:
    report = reports[name]
    assert report.unchecked == (), f"{name}: built, yet not checked: {report.unchecked}"
    found = [str(f) for f in report.findings]
    assert found == [], "\n".join(found)
