"""The authoring rulebook (rules in `authoring/rules.py`, applied by `figures/check.py`)
on a figure that follows every rule, and each rule firing on a copy broken one way: what
`python -m symbiote_core.figures check` reports, `figures new` runs on its module and
`figures build` prints as warnings. (Every real figure: essay/test_real_figure_rules.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.engine import cli_command

from symbiote_core.figures import check as checker
from symbiote_core.figures.authoring import rules
from symbiote_core.figures.engine.registry import Engine
from symbiote_core.figures.site.sourcetext import SourceIndex

GOOD = '''"""A figure that follows every authoring rule."""
from dataclasses import dataclass, field

from symbiote_core.figures.authoring import palette
from symbiote_core.figures.authoring.spec import Claim, Figure, Null, Value


@dataclass(frozen=True)
class Host:
    width: int = 8
    """Hidden units."""


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = (0, 1, 2)
    """Evaluation seeds."""
    host: Host = field(default_factory=Host)


def compute(p: Params) -> dict:
    return {"scores": [1.0 + s for s in p.seeds], "untrained": [0.1 for _ in p.seeds]}


def render(data: dict):
    import altair as alt

    mark = alt.Chart(alt.Data(values=[{"x": 1}])).mark_point(color=palette.color("symbiote"))
    return mark.encode(x="x:Q")


METHODS = ("**Host.** {{ param: good.host.width }} units, trained for "
           "{{ code: lib.settings.Conf.steps }} steps. **Seeds.** {{ param: good.seeds }}.")

FIGURE = Figure(
    title="Good",
    caption="Scores per seed.",
    alt="Scores of {{ value: good.score | .2f mean }} on {{ param: good.seeds }} seeds, "
    "read at layer-0.",
    methods=METHODS,
    params=Params(),
    compute=compute,
    render=render,
    values={"score": Value("the score", lambda d: d["scores"]),
            "untrained_score": Value("the untrained host's score", lambda d: d["untrained"])},
    claims=(
        Claim(
            name="beats_untrained",
            statement="The score clears a half.",
            left="score",
            op=">",
            right=0.5,
            control="half the score's range",
            why="a stated criterion",
            null=Null(description="an untrained host", values={"score": "untrained_score"}),
        ),
    ),
)
'''
SETTINGS = '''from dataclasses import dataclass


@dataclass
class Conf:
    steps: int = 100
    """Optimiser steps."""
'''
META = {
    "alt": "Scores of {{ value: good.score | .2f mean }} on {{ param: good.seeds }} seeds.",
    "values": {"score": [1.0, 2.0, 3.0], "untrained_score": [0.1, 0.1, 0.1]},
    "claims": [{"name": "beats_untrained", "null_values": {"score": "untrained_score"}}],
    "params": {"seeds": [0, 1, 2], "host": {"width": 8}},
}


@dataclass
class Entry:
    """What the rules read of a built entry: its meta.json."""

    meta: dict[str, Any]


@pytest.fixture
def good(fake_project) -> Engine:
    engine = fake_project()
    (engine.root / "figs" / "good.py").write_text(GOOD)
    (engine.root / "lib" / "settings.py").write_text(SETTINGS)
    return engine


def checked(engine: Engine, meta: dict[str, Any] | None = None) -> checker.Report:
    entries = {"good": Entry(meta)} if meta is not None else {}
    (report,) = checker.check(engine, ["good"], entries)
    return report


def fired(report: checker.Report) -> set[str]:
    return {f.rule for f in report.findings}


def test_a_good_figure_follows_every_rule_from_source_and_built(good: Engine) -> None:
    unbuilt = checked(good)
    assert unbuilt.findings == ()
    assert unbuilt.unchecked == ("params-rows",)  # needs the params the build recorded
    built = checked(good, META)
    assert built.findings == () and built.unchecked == ()


@pytest.mark.parametrize(
    ("rule", "edits"),
    [
        ("alt-values", [("on {{ param: good.seeds }} seeds", "on 3 seeds")]),  # typed
        ("alt-values", [("{{ value: good.score | .2f mean }}", "high")]),  # no value
        ("alt-values", [("{{ value: good.score", "{{ value: other.score")]),  # not its own
        ("alt-values", [("{{ value: good.score", "{{ value: good.nope")]),  # unknown
        ("alt-values", [("{{ param: good.seeds }} seeds", "{{ ref: good }} seeds")]),  # kind
        ("methods", [("    methods=METHODS,\n", "")]),  # missing
        ("methods", [("methods=METHODS", 'methods=f"{METHODS}"')]),  # not from source
        ("methods", [("{{ param: good.host.width }} units", "Wide"),
                     ("**Seeds.** {{ param: good.seeds }}.", "")]),  # quotes no param
        ("methods", [("lib.settings.Conf.steps", "lib.settings.Conf.nope")]),  # no setting
        ("methods", [("**Seeds.**", "{{ figure: good }} **Seeds.**")]),  # kind
        ("palette", [('palette.color("symbiote")', '"#00897b"')]),
        ("palette", [('palette.color("symbiote")', '"black"')]),
        ("palette", [('mark_point(color=palette.color("symbiote"))',
                      'mark_point(color=palette.color("symbiote")).encode('
                      'color=alt.Color("x:Q", scale=alt.Scale(scheme="viridis")))')]),
        ("palette", [("mark_point(", "mark_text(fontSize=9, ")]),
        ("identifiers", [('"untrained_score": Value', '"untrained-score": Value'),
                         ('values={"score": "untrained_score"}', 'values={"score": "x_score"}'),
                         ('"score": Value', '"x_score": Value("x", lambda d: 0), "score": Value')]),
        ("identifiers", [('name="beats_untrained"', 'name="beats untrained"')]),
        ("null-names", [('"untrained_score"', '"score_untrained"')]),  # a suffix
        ("null-names", [('"untrained_score"', '"random_scores"')]),  # another name
        ("null-names", [('null=Null(description="an untrained host", values={"score": '
                         '"untrained_score"}),',
                         'null=(Null(description="an untrained host", values={"score": '
                         '"untrained_score"}), Null(description="shuffled", values={"score": '
                         '"score_shuffled"})),')]),  # one of several nulls
    ],
)
def test_each_rule_fires_on_a_figure_broken_its_way(
    good: Engine, rule: str, edits: list[tuple[str, str]]
) -> None:
    module = good.root / "figs" / "good.py"
    source = module.read_text()
    for old, new in edits:
        assert old in source, old
        source = source.replace(old, new)
    module.write_text(source)
    report = checked(good)
    assert fired(report) == {rule}, [str(f) for f in report.findings]
    assert all(f.where.startswith("figs/good.py:") for f in report.findings)


def test_a_helper_module_off_the_palette_is_found_through_the_import(good: Engine) -> None:
    (good.root / "figs" / "_colours.py").write_text('ACCENT = "#c0392b"\n')
    module = good.root / "figs" / "good.py"
    module.write_text(module.read_text().replace(
        "from dataclasses import", "from figs._colours import ACCENT  # noqa: F401\n"
        "from dataclasses import"))
    (found,) = checked(good).findings
    assert (found.rule, found.where) == ("palette", "figs/_colours.py:1")


@pytest.mark.parametrize(
    ("rule", "change"),
    [
        # The entry's text and names are what the build computed (an f-string alt, names
        # made in a loop): the rules read them there once the figure is built.
        ("alt-values", lambda m: m.update(alt="Scores of 2.00 on 3 seeds.")),
        ("null-names", lambda m: m.update(claims=[
            {"name": "beats_untrained", "null_values": {"score": "score_at_k3_untrained"}}])),
        ("identifiers", lambda m: m["values"].update({"bad name": [1.0, 1.0, 1.0]})),
        # The evidence API's record: a claim's nulls as a list, each with its values.
        ("null-names", lambda m: m.update(claims=[{"name": "beats_untrained", "nulls": [
            {"description": "an untrained host", "values": {"score": "untrained_score"}},
            {"description": "shuffled labels", "values": {"score": "score_shuffled"}}]}])),
    ],
)
def test_a_built_figure_is_checked_on_what_its_entry_recorded(
    good: Engine, rule: str, change
) -> None:
    meta = {key: (dict(value) if isinstance(value, dict) else value)
            for key, value in META.items()}
    change(meta)
    assert fired(checked(good, meta)) == {rule}


def test_params_rows_fires_when_the_methods_table_lacks_a_param(
    good: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every recorded param gets a row from the source reader as it stands; the rule
    guards the methods table against a reader (or a Params layout) that drops one."""
    real = SourceIndex.param_rows
    monkeypatch.setattr(SourceIndex, "param_rows",
                        lambda self, module, params: real(self, module, params)[1:])
    report = checked(good, META)
    assert fired(report) == {"params-rows"}
    assert "missing ['" in report.findings[0].message


@pytest.mark.parametrize(
    ("docstring", "path"),
    [('    """Evaluation seeds."""\n', "seeds"),  # a field of the figure's Params
     ('    """Hidden units."""\n', "host.width")],  # a field of a nested dataclass
)
def test_params_rows_fires_on_a_param_without_a_docstring(
    good: Engine, docstring: str, path: str
) -> None:
    """Every row of the methods table says what its param is: an undocumented field
    (in the figure's Params or in the class a nested param comes from) is a finding
    naming its path; the documented figure passes (the good figure, built, above)."""
    module = good.root / "figs" / "good.py"
    source = module.read_text()
    assert docstring in source
    module.write_text(source.replace(docstring, "", 1))
    report = checked(good, META)
    assert fired(report) == {"params-rows"}, [str(f) for f in report.findings]
    (finding,) = report.findings
    assert f"param {path!r} has no docstring" in finding.message
    assert finding.where.startswith("figs/good.py:")


def test_params_rows_rule_names_each_undocumented_row() -> None:
    rows = {"seeds": "Evaluation seeds.", "host.width": " ", "host.lr": ""}
    assert rules.params_rows_problems({"seeds": "Evaluation seeds."}, ["seeds"]) == []
    problems = rules.params_rows_problems(rows, list(rows))
    assert [p.split(" has")[0] for p in problems] == ["param 'host.width'", "param 'host.lr'"]


def test_the_rules_module_imports_nothing_of_the_engine_or_the_site() -> None:
    probe = ("import sys\nimport symbiote_core.figures.authoring.rules\n"
             "print(sorted(m for m in sys.modules if m.startswith('symbiote_core.figures.')"
             " and m.split('.')[2] not in ('authoring',)))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]", run.stdout


def test_null_naming_is_stated_once_and_is_the_one_checked() -> None:
    assert "<setting>_<value>" in rules.NULL_NAMING
    assert rules.null_name_problem("dictionary_mmcs", "untrained_dictionary_mmcs") is None
    assert rules.null_name_problem("dictionary_mmcs", "random_host_dictionary_mmcs") is None
    for bad in ("dictionary_mmcs_untrained", "untrained_mmcs", "dictionary_mmcs",
                "_dictionary_mmcs", "x__dictionary_mmcs"):
        assert rules.null_name_problem("dictionary_mmcs", bad), bad


def test_off_palette_check_can_fail() -> None:
    bad = (
        'a = alt.Scale(range=["#00897b", "black"])\n'
        'b = alt.Scale(scheme="viridis")\n'
        "c = mark_text(fontSize=9)\n"
    )
    assert len(rules.off_palette(bad)) == 4
    good = "a = alt.Scale(**palette.scale({'x': 'symbiote'}))\nc = mark_text(fontSize=11)\n"
    assert rules.off_palette(good) == []


def test_cli_check_exits_1_on_findings_and_imports_no_torch(good: Engine) -> None:
    clean = subprocess.run(cli_command(good, "check", "good"), capture_output=True, text=True,
                           timeout=120)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "1 figure(s) follow every rule" in clean.stdout
    assert "note: good: not built, so not checked: params-rows" in clean.stdout
    module = good.root / "figs" / "good.py"
    module.write_text(module.read_text().replace('palette.color("symbiote")', '"#00897b"'))
    broken = subprocess.run(cli_command(good, "check", "good", "alpha"), capture_output=True,
                            text=True, timeout=120)
    assert broken.returncode == 1
    assert "figs/good.py:" in broken.stdout and ": palette: colour '#00897b'" in broken.stdout
    assert "figs/alpha.py:" in broken.stdout  # the fake figures have no methods paragraph
    probe = (
        "import sys\n"
        "from symbiote_core.figures.check import check\n"
        "from support.engine import fake_engine\n"
        "from pathlib import Path\n"
        f"check(fake_engine(Path({str(good.root)!r})))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'figs', 'lib')))\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=120, env=_with_support_path())
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]", run.stdout


def _with_support_path() -> dict[str, str]:
    tests = Path(__file__).resolve().parents[1]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(tests), *filter(None, [os.environ.get("PYTHONPATH")])]))
