"""The site build breaks loudly, naming file and line, when it should: an unknown value,
figure or citation, a claim that fails, a figure that raises. On the small probe site
(`support/mini.py`): what the real essay's build adds is checked in essay/."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from support.mini import mini_env
from support.project import run_mkdocs

Make = Callable[..., Path]


def _append(page: Path, line: str) -> int:
    """Adds `line` at the end of the page; returns its line number."""
    page.write_text(page.read_text() + f"\n{line}\n")
    return len(page.read_text().splitlines())


def test_unknown_value_fails_naming_file_and_line(mini_project: Make) -> None:
    project = mini_project()
    page = project / "essay" / "index.md"
    lines = page.read_text().splitlines()
    lines.insert(1, "A typo: {{ value: probe.no_such_value }}.")
    page.write_text("\n".join(lines) + "\n")
    result = run_mkdocs(project, strict=False, env=mini_env())
    assert result.returncode != 0
    assert "essay/index.md:2" in result.stderr + result.stdout
    assert "no_such_value" in result.stderr + result.stdout


def test_unknown_figure_fails_naming_file_and_line(mini_project: Make) -> None:
    project = mini_project()
    line = _append(project / "essay" / "index.md", "See {{ ref: no_such_figure }}.")
    result = run_mkdocs(project, strict=False, env=mini_env())
    out = result.stderr + result.stdout
    assert result.returncode != 0
    assert f"essay/index.md:{line}" in out and "no_such_figure" in out


def test_unknown_citation_key_fails_naming_page_and_line(mini_project: Make) -> None:
    project = mini_project(publication=True)
    line = _append(project / "essay" / "index.md", "A typo [@no_such_reference2099].")
    result = run_mkdocs(project, strict=False, env=mini_env())
    out = result.stderr + result.stdout
    assert result.returncode != 0
    assert f"essay/index.md:{line}: unknown citation key 'no_such_reference2099'" in out


def test_failing_claim_fails_strict_build_and_is_marked(mini_project: Make) -> None:
    project = mini_project()
    module = project / "figures_src" / "probe.py"
    source = module.read_text()
    # Demand the impossible of the claim; data is reused (only the claims changed).
    patched = re.sub(r'(name="top_positive".*?right=)([0-9.]+)', r"\g<1>1000.0", source,
                     count=1, flags=re.S)
    assert patched != source, "could not find the claim's threshold to patch"
    module.write_text(patched)
    strict = run_mkdocs(project, env=mini_env())
    assert strict.returncode != 0
    assert "top_positive" in strict.stderr + strict.stdout
    lenient = run_mkdocs(project, strict=False, env=mini_env())
    assert lenient.returncode == 0, lenient.stderr
    page = (project / "site" / "index.html").read_text()
    assert "sym-claim--fails" in page
    claims = (project / "site" / "claims" / "index.html").read_text()
    assert 'class="sym-claim--fails"' in claims  # its row's verdict: an unexpected failure


def test_raising_figure_shows_error_box_and_fails_strict(mini_project: Make) -> None:
    project = mini_project()
    (project / "figures_src" / "broken_demo.py").write_text(BROKEN_FIGURE)
    _append(project / "essay" / "index.md", "{{ figure: broken_demo }}")
    strict = run_mkdocs(project, env=mini_env())
    assert strict.returncode != 0
    assert "broken_demo" in strict.stderr + strict.stdout
    lenient = run_mkdocs(project, strict=False, env=mini_env())
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
