"""The essay builds strictly, and breaks loudly (naming file and line) when it should."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from support.project import run_mkdocs

FIGURE = "superposition_recovery"


def test_strict_build_renders_figures_values_and_claims(built_site: Path) -> None:
    page = (built_site / "superposition" / "index.html").read_text()
    assert f'id="fig-{FIGURE}"' in page
    # The spec is fetched from its file when the chart nears the viewport (page weight).
    assert 'class="sym-chart"' in page and "data-spec-src=" in page
    # Every directive outside code was replaced.
    body = re.sub(r"<pre.*?</pre>|<code.*?</code>", "", page, flags=re.S)
    assert "{{ value:" not in body and "{{ claim:" not in body
    assert 'class="sym-value"' in page
    assert "sym-claim--holds" in page and "sym-claim--fails" not in page
    for name in ("spec.json", "data.json", "figure.svg"):
        assert (built_site / "figures" / FIGURE / name).stat().st_size > 100
    claims = (built_site / "claims" / "index.html").read_text()
    assert "dictionary_beats_random" in claims and "FAILS" not in claims


def test_methods_page_lists_every_figure_with_its_params(built_site: Path) -> None:
    methods = (built_site / "methods" / "index.html").read_text()
    for folder in (built_site / "figures").iterdir():
        assert f"figures_src/{folder.name}.py" in methods, folder.name
    assert "feature_probabilities" in methods and "failed to build" not in methods


def test_offline_assets_are_local(built_site: Path) -> None:
    html = (built_site / "index.html").read_text()
    assert "fonts.googleapis" not in html and "fonts.gstatic" not in html
    for src in re.findall(r'<script[^>]+src="([^"]+)"', html):
        assert not src.startswith(("http:", "https:", "//")), src
    assert (built_site / "assets/vendor/vega/vega-bundle.js").stat().st_size > 500_000


def test_unknown_value_fails_naming_file_and_line(project_copy) -> None:
    project = project_copy()
    page = project / "essay" / "superposition.md"
    lines = page.read_text().splitlines()
    lines.insert(3, "A typo: {{ value: superposition_recovery.no_such_value }}.")
    page.write_text("\n".join(lines) + "\n")
    result = run_mkdocs(project, strict=False)
    assert result.returncode != 0
    assert "essay/superposition.md:4" in result.stderr + result.stdout
    assert "no_such_value" in result.stderr + result.stdout


def test_unknown_figure_fails_naming_file_and_line(project_copy) -> None:
    project = project_copy()
    page = project / "essay" / "index.md"
    page.write_text(page.read_text() + "\nSee {{ ref: no_such_figure }}.\n")
    result = run_mkdocs(project, strict=False)
    out = result.stderr + result.stdout
    assert result.returncode != 0
    line = len(page.read_text().splitlines())
    assert f"essay/index.md:{line}" in out and "no_such_figure" in out


def test_failing_claim_fails_strict_build_and_is_marked(project_copy) -> None:
    project = project_copy()
    module = project / "figures_src" / f"{FIGURE}.py"
    source = module.read_text()
    # Demand the impossible of one claim; data is reused (only the claims changed).
    patched = re.sub(r'(name="dictionary_beats_random".*?margin=)([0-9.]+)', r"\g<1>10.0",
                     source, count=1, flags=re.S)
    assert patched != source, "could not find the claim's margin to patch"
    module.write_text(patched)
    strict = run_mkdocs(project)
    assert strict.returncode != 0
    assert "dictionary_beats_random" in strict.stderr + strict.stdout
    lenient = run_mkdocs(project, strict=False)
    assert lenient.returncode == 0, lenient.stderr
    page = (project / "site" / "superposition" / "index.html").read_text()
    assert "sym-claim--fails" in page
    claims = (project / "site" / "claims" / "index.html").read_text()
    assert "FAILS" in claims


def test_raising_figure_shows_error_box_and_fails_strict(project_copy) -> None:
    project = project_copy()
    (project / "figures_src" / "broken_demo.py").write_text(BROKEN_FIGURE)
    page = project / "essay" / "index.md"
    page.write_text(page.read_text() + "\n{{ figure: broken_demo }}\n")
    strict = run_mkdocs(project)
    assert strict.returncode != 0
    assert "broken_demo" in strict.stderr + strict.stdout
    lenient = run_mkdocs(project, strict=False)
    assert lenient.returncode == 0, lenient.stderr
    html = (project / "site" / "index.html").read_text()
    assert 'class="sym-error"' in html
    assert "ZeroDivisionError" in html and "broken_demo.py" in html


BROKEN_FIGURE = '''"""A figure whose compute raises, to test the error path."""
from dataclasses import dataclass

from symbiote_core.figures.authoring.spec import Figure


@dataclass(frozen=True)
class Params:
    seed: int = 0


def compute(p: Params) -> dict:
    return {"x": 1 / 0}


def render(data: dict):
    import altair as alt
    return alt.Chart(alt.Data(values=[data])).mark_point()


FIGURE = Figure(title="Broken", caption="Raises.", alt="Nothing.", params=Params(),
                compute=compute, render=render)
'''


def test_notebook_reruns_when_library_source_changes(project_copy) -> None:
    project = project_copy()
    first = run_mkdocs(project)
    assert first.returncode == 0, first.stderr
    library = project / "symbiote_core" / "metrics.py"
    # A fresh edit each run, so no earlier run's entry can answer.
    library.write_text(library.read_text() + f"\n# an edit the notebook must see: {uuid.uuid4()}\n")
    second = run_mkdocs(project)
    log = second.stderr + second.stdout
    assert second.returncode == 0, log
    # mkdocs-jupyter keys its cache on the notebook's bytes only; ours adds the library's.
    assert "Converting notebook (execute=True)" in log, log
    assert ": cached" not in log, log


def _figure_blocks(site: Path) -> dict[str, str]:
    """Figure name -> its block's HTML, from every page of the built site."""
    blocks: dict[str, str] = {}
    for page in site.rglob("index.html"):
        text = page.read_text()
        for m in re.finditer(r'<figure class="sym-figure" id="fig-(\w+)".*?</figure>', text, re.S):
            blocks.setdefault(m.group(1), m.group(0))
    return blocks


def test_alt_text_and_data_summary_carry_the_figures_values(built_site: Path) -> None:
    """The numbers in each figure's alt text are its values, evaluated here from the
    data.json the site publishes (not read from the build's record)."""
    import html
    import json

    from symbiote_core.figures.engine.registry import Engine, load_figure
    from symbiote_core.figures.site.markup import find_directives, format_value

    engine = Engine(root=Path(__file__).resolve().parents[2])
    blocks = _figure_blocks(built_site)
    assert len(blocks) >= 10
    for name, block in blocks.items():
        figure = load_figure(name, engine)
        data = json.loads((built_site / "figures" / name / "data.json").read_text())
        values = figure.evaluate_values(data)
        label = html.unescape(re.search(r'aria-label="([^"]*)" data-spec', block).group(1))
        assert "{{" not in label, name
        quoted = [d for d in find_directives(figure.alt) if d.kind == "value"]
        assert quoted, f"{name}: no value in its alt text"
        for d in quoted:
            number = format_value(values[d.target.split(".", 1)[1]], d.fmt)
            assert number in label, f"{name}: {d.text} should show {number!r} in {label!r}"
        summary = block[block.index('class="sym-summary"') :]
        for d in quoted:
            assert f"<code>{d.target.split('.', 1)[1]}</code>" in summary, (name, d.text)


def test_methods_page_has_every_figures_paragraph_and_params(built_site: Path) -> None:
    import dataclasses

    from symbiote_core.figures.engine.registry import Engine, figure_names, load_figure

    methods = (built_site / "methods" / "index.html").read_text()
    engine = Engine(root=Path(__file__).resolve().parents[2])
    assert "No methods paragraph" not in methods
    for name in figure_names(engine):
        start = methods.index(f'id="methods-{name}"')
        end = methods.find("<h2", start)
        section = methods[start : end if end > 0 else len(methods)]
        assert 'class="sym-methods"' in section, name
        assert "{{" not in section, name  # every directive in it was rendered

        def leaves(params: dict, prefix: str = "") -> list[str]:
            out: list[str] = []
            for key, value in params.items():
                out += leaves(value, f"{prefix}{key}.") if isinstance(value, dict) else [
                    f"{prefix}{key}"
                ]
            return out

        for path in leaves(dataclasses.asdict(load_figure(name, engine).params)):
            assert f"<code>{path}</code>" in section, f"{name}: param {path} missing"
