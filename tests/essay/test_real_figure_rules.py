"""Every real figure follows the authoring rules (`symbiote_core/figures/authoring/rules.py`,
applied by `figures/check.py`), checked on what its entry recorded in the session's one
full build: the checks once spread over the methods/alt, palette and claim tests, now
one rulebook (`python -m symbiote_core.figures check`; each rule is shown firing on a
broken figure in engine/test_rules.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.project import ROOT, session_figure_cache

from symbiote_core.figures import check as checker
from symbiote_core.figures.engine.registry import Engine, figure_names

ENGINE = Engine(root=ROOT)
NAMES = figure_names(ENGINE)

PENDING_NULL_NAMES: dict[str, set[tuple[str, str]]] = {
    "modadd_readers": {
        ("dictionary_answer_max", "twin_answer_max"),
        ("dictionary_arc_coverage", "twin_matched_arc_coverage"),
        ("dictionary_recovered", "other_recovered"),
        ("neuron_purity_median", "untrained_purity_median"),
        ("neuron_single_share", "random_single_share"),
        ("probe_double_r2_median", "control_double_r2_median"),
        ("probe_key_r2_min", "control_key_r2_max"),
        ("probe_nondouble_r2_median", "control_nondouble_r2_median"),
        ("probe_other_r2_median", "probe_key_r2_median"),
        ("sweep_purity_median_max", "probe_key_purity_median"),
    },
}
"""(value, null value) pairs named before the null naming rule (`rules.NULL_NAMING`)
was set, found by the first check of every figure: the renames are the figures'
authors' to make (many of these nulls are controls, which issue 17 moves to
`controls=`). A pair here is the only finding a figure may have; one renamed must be
removed, so the list only shrinks."""


def _pending(finding: checker.Finding) -> tuple[str, str] | None:
    for real, null in PENDING_NULL_NAMES.get(finding.figure, ()):
        if finding.rule == "null-names" and f"null value '{null}' replaces '{real}'" in (
            finding.message
        ):
            return real, null
    return None


@pytest.fixture(scope="module")
def reports(built_site: Path) -> dict[str, checker.Report]:
    """Every figure checked against the entries the essay's build wrote."""
    engine = Engine(root=ROOT, cache_dir=session_figure_cache())
    return {report.figure: report for report in checker.check(engine)}


@pytest.mark.parametrize("name", NAMES)
def test_every_figure_follows_the_authoring_rules(reports, name: str) -> None:
    report = reports[name]
    assert report.unchecked == (), f"{name}: built, yet not checked: {report.unchecked}"
    found = [str(f) for f in report.findings if _pending(f) is None]
    assert found == [], "\n".join(found)


def test_pending_null_renames_are_still_pending(reports) -> None:
    seen = {(f.figure, *pair) for r in reports.values() for f in r.findings
            if (pair := _pending(f)) is not None}
    listed = {(name, *pair) for name, pairs in PENDING_NULL_NAMES.items() for pair in pairs}
    assert listed - seen == set(), f"renamed or gone: drop from PENDING_NULL_NAMES: {listed - seen}"
