"""The small site tests break freely: the essay's stack (theme, hooks, mkdocs-jupyter,
assets) around one cheap probe figure and one tiny notebook; a build takes seconds."""

from __future__ import annotations

import shutil
from pathlib import Path

from support.project import ROOT

MINI_FIGURE = '''"""A probe figure for the site tests: cheap, and every text field is a parameter."""
from dataclasses import dataclass

from symbiote_core.figures.authoring.spec import Claim, Figure, Null

TEXT = {text!r}


@dataclass(frozen=True)
class Params:
    label: str = TEXT
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)


def compute(p: Params) -> dict:
    rows = [{{"x": i, "y": i * i, "label": p.label}} for i in range(4)]
    return {{"rows": rows, "tops": [9 + s for s in p.seeds], "nulls": [0 for _ in p.seeds]}}


def render(data: dict):
    import altair as alt

    return (
        alt.Chart(alt.Data(values=data["rows"]), title=TEXT)
        .mark_point()
        .encode(x=alt.X("x:Q", title=TEXT), y="y:Q", tooltip=["label:N"])
    )


FIGURE = Figure(
    title=TEXT,
    caption={caption!r},
    alt=TEXT,
    params=Params(),
    compute=compute,
    render=render,
    values={{"top": lambda d: d["tops"], "null_top": lambda d: d["nulls"]}},
    claims=(
        Claim(name="top_positive", statement=TEXT, left="top", op=">", right=0.0,
              control=TEXT, why=TEXT,
              null=Null(description=TEXT, values={{"top": "null_top"}})),
    ),
)
'''

MINI_NOTEBOOK = """# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab

# %%
x = 1 + 1
print(x)
"""

MINI_INDEX = """# Probe

Before {{ value: probe.top }} and {{ claim: probe.top_positive }}, see {{ ref: probe }}.

{{ figure: probe }}
"""


def make_mini_project(target: Path, text: str = "Probe", caption: str = "A *probe*.") -> Path:
    import yaml

    for folder in ("symbiote_core", "essay/assets"):
        shutil.copytree(ROOT / folder, target / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", target / "pyproject.toml")
    from mkdocs.utils.yaml import yaml_load  # resolves mkdocs.yml's !ENV tags

    config = yaml_load((ROOT / "mkdocs.yml").read_text())
    config["nav"] = [{"Essay": ["index.md"]}, {"Lab": ["notebooks/lab.py"]},
                     {"Appendix": ["claims.md", "methods.md"]}]
    (target / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    (target / "figures_src").mkdir()
    (target / "figures_src" / "__init__.py").write_text('"""Probe figures."""\n')
    (target / "figures_src" / "probe.py").write_text(
        MINI_FIGURE.format(text=text, caption=caption))
    (target / "essay" / "notebooks").mkdir(parents=True)
    (target / "essay" / "notebooks" / "lab.py").write_text(MINI_NOTEBOOK)
    (target / "essay" / "index.md").write_text(MINI_INDEX)
    return target


