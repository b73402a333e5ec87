"""The small site tests break freely: the essay's stack (theme, hooks, mkdocs-jupyter,
assets) around one cheap probe figure and one tiny notebook; a build takes seconds."""

from __future__ import annotations

import functools
import re
import shutil
from pathlib import Path

from filelock import FileLock

from support.project import ROOT, mkdocs_env, run_mkdocs, session_dir, shared_dir

MINI_FIGURE = '''"""A probe figure for the site tests: cheap, and every text field is a parameter."""
from dataclasses import dataclass

from symbiote_core.figures.authoring.spec import Claim, Figure, Null, Value

TEXT = {text!r}


@dataclass(frozen=True)
class Params:
    label: str = TEXT
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)


def compute(p: Params) -> dict:
    rows = [{{"x": i, "y": i * i, "label": p.label}} for i in range(4)]
    return {{"rows": rows, "tops": [9 + s for s in p.seeds], "nulls": [s - 9 for s in p.seeds]}}


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
    tuning_seeds=(),
    tuning_note=TEXT,
    compute=compute,
    render=render,
    values={{"top": Value("the top score", lambda d: d["tops"]),
            "null_top": Value("the top score of the null run", lambda d: d["nulls"])}},
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


def make_mini_project(target: Path, text: str = "Probe", caption: str = "A *probe*.",
                      publication: bool = False) -> Path:
    """The small site at `target`; `text` and `caption` go into every text field of the
    probe figure. `publication`: with CITATION.cff and the essay's references.bib, so
    the byline, the about page and the bibliography are made as for the essay."""
    import yaml
    from mkdocs.utils.yaml import yaml_load  # resolves mkdocs.yml's !ENV tags

    for folder in ("symbiote_core", "essay/assets"):
        shutil.copytree(ROOT / folder, target / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", target / "pyproject.toml")
    appendix = ["claims.md", "methods.md"]
    if publication:
        shutil.copy2(ROOT / "CITATION.cff", target / "CITATION.cff")
        shutil.copy2(ROOT / "essay" / "references.bib", target / "essay" / "references.bib")
        appendix += ["bibliography.md", "about.md"]
    source = (ROOT / "mkdocs.yml").read_text()
    config = yaml_load(source)
    config["nav"] = [{"Essay": ["index.md"]}, {"Lab": ["notebooks/lab.py"]},
                     {"Appendix": appendix}]
    written = yaml.safe_dump(config, sort_keys=False)
    # site_url as the essay writes it (`!ENV [SITE_URL, ...]`), so SITE_URL still sets it.
    site_url = re.search(r"^site_url:.*$", source, re.M)
    if site_url is not None:
        written = re.sub(r"^site_url:.*$", lambda _: site_url[0], written, count=1, flags=re.M)
    (target / "mkdocs.yml").write_text(written)
    (target / "figures_src").mkdir()
    (target / "figures_src" / "__init__.py").write_text('"""Probe figures."""\n')
    (target / "figures_src" / "probe.py").write_text(
        MINI_FIGURE.format(text=text, caption=caption))
    (target / "essay" / "notebooks").mkdir(parents=True)
    (target / "essay" / "notebooks" / "lab.py").write_text(MINI_NOTEBOOK)
    (target / "essay" / "index.md").write_text(MINI_INDEX)
    # The Vega bundle the seed build wrote (site/vendor.py makes one per project: 3 s).
    vendor = _seed_folder() / "project" / ".cache" / "vendor"
    if vendor.is_dir():
        shutil.copytree(vendor, target / ".cache" / "vendor")
    return target


def mini_env(private: Path | None = None) -> dict[str, str]:
    """The environment of a build of the small site. Its figure and notebook caches start
    from the default probe site's entries (`_seed`: the probe figure computed and the lab
    notebook executed once per session), never from the essay's: the session's shared
    folders, or, with `private`, fresh copies under it for a test that counts what runs
    or breaks an entry."""
    folder = session_dir() / "mini" if private is None else private
    if not (folder / "figures").is_dir():
        seed = _seed()
        for name in ("figures", "notebooks"):
            shutil.copytree(seed / name, folder / name,
                            ignore=shutil.ignore_patterns("locks", "tmp", "logs"))
    return _env(folder)


def _env(folder: Path) -> dict[str, str]:
    env = mkdocs_env(folder / "figures")
    env["SYMBIOTE_NOTEBOOK_CACHE"] = str(folder / "notebooks")
    return env


def _seed_folder() -> Path:
    return shared_dir() / "mini-seed"


@functools.cache
def _seed() -> Path:
    """Caches holding the default probe site's figure and notebook, from one build per
    test run: the first xdist worker to need them builds them into the run's shared
    folder while the other waits on the lock, then both copy them (only ever read)."""
    folder = _seed_folder()
    done = folder / "built"
    with FileLock(shared_dir() / "mini-seed.lock"):
        if done.is_file():
            return folder
        shutil.rmtree(folder, ignore_errors=True)  # a build that failed part-way
        project = make_mini_project(folder / "project")
        result = run_mkdocs(project, env=_env(folder))
        if result.returncode != 0:
            raise RuntimeError(
                f"the probe site does not build:\n{result.stdout}\n{result.stderr}")
        (folder / "notebooks").mkdir(exist_ok=True)
        done.touch()
    return folder
