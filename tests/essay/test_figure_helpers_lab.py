"""The experiment layer (`figures_src/_lab`): shared methods text reaches the site.

The site reads a figure's methods from source without importing it
(`site/sourcetext.py`); a figure that includes shared wording (`_lab.words`) must read
there exactly as its imported `FIGURE.methods`."""

from __future__ import annotations

import ast
import importlib

import pytest
from support.project import ROOT

from symbiote_core.figures.engine.registry import Engine, figure_names
from symbiote_core.figures.site.sourcetext import SourceIndex, SourceTextError

NAMES = figure_names(Engine(root=ROOT))


@pytest.mark.parametrize("name", NAMES)
def test_methods_read_from_source_equal_the_imported_methods(name: str) -> None:
    module = importlib.import_module(f"figures_src.{name}")
    text = SourceIndex(ROOT).figure_text(f"figures_src.{name}", "methods")
    assert text == module.FIGURE.methods


def test_an_include_is_evaluated_and_a_dynamic_expression_refused(tmp_path) -> None:
    from figures_src._lab import words

    index = SourceIndex(ROOT)
    call = ast.parse('toy_host("fig") + "tail"', mode="eval").body
    assert index.static_text("figures_src._lab.words", call, {}) == words.toy_host("fig") + "tail"
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "fig.py").write_text(
        "import os\nTEXT = os.environ['X']\nFIGURE = Figure(methods=TEXT)\n"
    )
    with pytest.raises(SourceTextError, match="must be a string"):
        SourceIndex(tmp_path).figure_text("pkg.fig", "methods")
