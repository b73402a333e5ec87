"""Methods paragraphs, params tables, code settings and alt text: generated, never typed.

Unit tests of `{{ param: }}`, `{{ code: }}`, the alt text and data summary a figure
block carries (markup.py), the source reader (sourcetext.py) and the methods page
(methods_page.py). That every real figure has a methods paragraph, a row per param and
alt text whose numbers are directives is the rulebook's (authoring/rules.py; checked
in essay/test_real_figure_rules.py).
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest

from symbiote_core.figures.site.markup import FigureView, PageRenderer
from symbiote_core.figures.site.methods_page import MethodsSource, methods_page
from symbiote_core.figures.site.sourcetext import SourceIndex, SourceTextError

ROOT = Path(__file__).resolve().parents[2]


def view(**meta) -> FigureView:
    base = {
        "title": "A figure",
        "caption": "Cap.",
        "alt": "Scores {{ value: fig.score | .2f mean }} with {{ param: fig.host.width }} units "
        "over {{ param: fig.ks.1 }}.",
        "params": {"host": {"width": 64, "lr": 0.02}, "ks": [2, 4, 32], "seeds": [0, 1]},
        "values": {"score": [0.9, 0.92], "count": 512},
        "claims": [],
        "seeds": [0, 1],
        "module": "figures_src/fig.py",  # the worker records the module's path
    }
    return FigureView(name="fig", number=1, page="p.md", meta=base | meta, spec={"mark": "point"},
                      files={"figure.svg": "figures/fig/figure.svg"})


def renderer(**kwargs) -> PageRenderer:
    return PageRenderer(page="essay/p.md", figures={"fig": kwargs.pop("fig", view())},
                        url_to=lambda t: t, page_url=lambda s: s, **kwargs)


def test_param_directive_quotes_nested_and_indexed_params() -> None:
    r = renderer()
    out = r.render("W {{ param: fig.host.width }}, lr {{ param: fig.host.lr | .0e }}, "
                   "ks {{ param: fig.ks }}, k {{ param: fig.ks.2 }}.")
    assert r.problems == []
    assert ">64</button>" in out and ">2e-02</button>" in out
    assert ">2, 4, 32</button>" in out and ">32</button>" in out
    # The source is in a popover reachable by tap and keyboard, not in a title.
    assert 'class="sym-tip" role="tooltip"' in out and "title=" not in out
    # Without a docstring to say what it is (no source here), the popover names its path.
    assert "the setting host.width, a setting of the experiment" in out


def test_unknown_param_names_page_and_line() -> None:
    r = renderer()
    r.render("line one\n{{ param: fig.host.depth }}")
    assert [(p.file, p.line) for p in r.problems] == [("essay/p.md", 2)]
    assert "unknown param 'host.depth'" in r.problems[0].message
    assert "host.width" in r.problems[0].message  # the known ones are listed


def test_figure_alt_text_and_summary_are_filled_from_values_and_params() -> None:
    out = renderer().render("{{ figure: fig }}")
    label = html.unescape(re.search(r'aria-label="([^"]*)" data-spec', out).group(1))
    assert label == "Scores 0.91 with 64 units over 4."
    summary = out[out.index('class="sym-summary"'):]
    assert "Scores 0.91 with 64 units over 4." in html.unescape(summary)
    assert "<code>score</code>" in summary and "0.91 ± 0.0141" in summary


def test_a_broken_alt_directive_is_a_problem_naming_the_figure() -> None:
    r = renderer(fig=view(alt="Scores {{ value: fig.nope }}."))
    r.render("text\n\n{{ figure: fig }}")
    assert len(r.problems) == 1 and r.problems[0].line == 3
    assert "alt text of figure 'fig' (figures_src/fig.py)" in r.problems[0].message


def _project(tmp_path: Path) -> Path:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "__init__.py").write_text("")
    (tmp_path / "lib" / "conf.py").write_text(
        "from dataclasses import dataclass, field\n\n"
        "@dataclass\nclass Base:\n    width: int = 64\n    \"\"\"Hidden units.\"\"\"\n\n"
        "@dataclass\nclass Conf(Base):\n    lr: float = field(default=1e-3)\n"
        "    \"\"\"Adam learning rate.\"\"\"\n    name: str = 'x'\n\n"
        "def make():\n    return Conf(lr=0.5, depth=3)\n\n"
        "def ambiguous():\n    Conf(lr=0.5)\n    Conf(lr=0.25)\n"
    )
    (tmp_path / "figs").mkdir()
    (tmp_path / "figs" / "__init__.py").write_text("")
    (tmp_path / "figs" / "f.py").write_text(
        "from dataclasses import dataclass, field\n"
        "from lib.conf import Base as Host\n\n"
        "@dataclass(frozen=True)\nclass Params:\n    steps: int = 10\n"
        "    \"\"\"Optimiser steps.\"\"\"\n    host: Host = field(default_factory=Host)\n\n"
        "TEXT = 'Trained {{ param: f.steps }} steps, batch {{ code: lib.conf.make.depth }}.'\n"
        "FIGURE = Figure(title='t', alt='a', params=Params(), methods=TEXT)\n"
    )
    return tmp_path


def test_source_index_reads_settings_docs_and_methods_without_importing(tmp_path) -> None:
    index = SourceIndex(_project(tmp_path))
    width = index.setting("lib.conf.Conf.width")  # inherited from Base
    assert (width.value, width.doc) == (64, "Hidden units.")
    assert index.setting("lib.conf.Conf.lr").value == 1e-3  # field(default=...)
    assert index.setting("lib.conf.make.depth").value == 3  # a keyword inside a function
    with pytest.raises(SourceTextError, match="2 different literals"):
        index.setting("lib.conf.ambiguous.lr")
    with pytest.raises(SourceTextError, match="no field 'nope'"):
        index.setting("lib.conf.Conf.nope")
    assert index.figure_text("figs.f", "methods").startswith("Trained {{ param: f.steps }}")
    rows = index.param_rows("figs.f", {"host": {"width": 32}, "steps": 10})
    assert [(r.path, r.value, r.doc) for r in rows] == [
        ("steps", 10, "Optimiser steps."),
        ("host.width", 32, "Hidden units."),  # nested dataclass, imported under another name
    ]


def test_methods_text_must_be_readable_without_importing(tmp_path) -> None:
    project = _project(tmp_path)
    path = project / "figs" / "f.py"
    path.write_text(path.read_text().replace("methods=TEXT", "methods=f'{TEXT}'"))
    with pytest.raises(SourceTextError, match=r"figs/f.py:\d+: Figure's methods= must be"):
        SourceIndex(project).figure_text("figs.f", "methods")


def test_methods_page_lists_every_param_and_quoted_setting(tmp_path) -> None:
    project = _project(tmp_path)
    v = FigureView(name="f", number=2, meta={"title": "T", "params": {"host": {"width": 32},
                                                                       "steps": 10}})
    page = methods_page({"f": v}, MethodsSource(SourceIndex(project), "figs"))
    assert '<div class="sym-methods">' in page and "{{ param: f.steps }}" in page
    assert "| <code>steps</code> | <code>10</code> | Optimiser steps. |" in page
    assert "| <code>host.width</code> | <code>32</code> | Hidden units. |" in page
    assert "<code>lib.conf.make.depth</code> | <code>3</code>" in page
    # A figure without a paragraph says so on the page (and the test below fails on it).
    bare = methods_page({"f": v}, MethodsSource(None))
    assert "No methods paragraph" in bare


def test_methods_table_shows_a_docstrings_code_spans_as_code_not_backticks(tmp_path) -> None:
    project = _project(tmp_path)
    path = project / "figs" / "f.py"
    path.write_text(path.read_text().replace(
        '"""Optimiser steps."""', '"""Steps of `adam<1>` (as in `lib|conf`\'s run)."""'))
    v = FigureView(name="f", number=2, meta={"title": "T", "params": {"steps": 10}})
    page = methods_page({"f": v}, MethodsSource(SourceIndex(project), "figs"))
    (row,) = [line for line in page.splitlines() if line.startswith("| <code>steps</code>")]
    # Inline code as <code>, its text escaped (no tag, no cell break); no backtick left.
    assert "<code>adam&lt;1&gt;</code>" in row and "<code>lib&#124;conf</code>" in row
    assert "`" not in row and "&#96;" not in row and row.count(" | ") == 2


def test_a_new_source_index_sees_an_edit_that_keeps_size_and_mtime(tmp_path) -> None:
    """Trees are shared between builds by content, not by stat signature."""
    project = _project(tmp_path)
    path = project / "lib" / "conf.py"
    assert SourceIndex(project).setting("lib.conf.Conf.lr").value == 1e-3
    stat = path.stat()
    text = path.read_text()
    assert "1e-3" in text
    path.write_text(text.replace("1e-3", "2e-3", 1))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    assert SourceIndex(project).setting("lib.conf.Conf.lr").value == 2e-3
