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


def test_value_helpers_read_per_seed_entries_in_params_order() -> None:
    from figures_src._lab.values import each, each_with_data, n_seeds, per_seed, stored

    data = {"seeds": [{"x": 3}, {"x": 1}], "scale": 10}
    assert n_seeds()[1](data) == 2
    assert each(lambda e: e["x"])(data) == [3, 1]
    assert each_with_data(lambda d, e: d["scale"] * e["x"])(data) == [30, 10]
    assert stored("scale")(data) == 10 and stored("a", "b")({"a": {"b": 2}}) == 2
    rows = [{"seed": 7, "k": 1, "v": 0.5}, {"seed": 5, "k": 1, "v": 0.25}, {"seed": 5, "k": 2, "v": 9}]
    assert per_seed(rows, "v", [5, 7], k=1) == [0.25, 0.5]
    with pytest.raises(KeyError, match="seeds"):
        per_seed(rows, "v", [5, 7], k=2)


def test_toy_figures_compose_the_toy_host_settings() -> None:
    import dataclasses

    from figures_src._lab.hosts import ToyHost

    for name in ("random_host_control", "steering_dose_response", "superposition_recovery"):
        params = importlib.import_module(f"figures_src.{name}").FIGURE.params
        assert isinstance(params.host, ToyHost)
        flat = {f.name for f in dataclasses.fields(params)}
        assert not flat & {"n_features", "d_hidden", "host_steps", "host_lr"}, name
