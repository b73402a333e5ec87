"""Shared fixtures: the built essay, and throw-away copies of the project to break.

Hermetic: a test session has its own figure and notebook caches (in a temporary
folder, seeded once from the developer's `.cache/figures`, which is only read), and
every build, the real essay's included, runs in a copy of the project, so no test
writes into the checkout's `.cache` or `site/`, nor edits the essay's files.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


@functools.cache
def session_dir() -> Path:
    """This test session's private folder (removed when the session ends)."""
    folder = Path(tempfile.mkdtemp(prefix="symbiote-tests-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@functools.cache
def session_figure_cache() -> Path:
    """The session's figure cache, seeded from the developer's (read, never written):
    entries are verified on read and keyed on source, so a copy serves only what fits."""
    cache = session_dir() / "figures"
    developer = ROOT / ".cache" / "figures"
    if developer.is_dir():
        shutil.copytree(developer, cache, ignore=shutil.ignore_patterns("locks", "tmp", "logs"))
    cache.mkdir(parents=True, exist_ok=True)
    return cache


def mkdocs_env(cache: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", PYTHONUNBUFFERED="1")
    # Copies of the project share the session's figure cache: their keys are the same
    # wherever a file is unchanged, so only what a test edits is recomputed.
    env["SYMBIOTE_FIGURE_CACHE"] = str(cache or session_figure_cache())
    env["SYMBIOTE_NOTEBOOK_CACHE"] = str(session_dir() / "notebooks")
    return env


def run_mkdocs(project: Path, *args: str, strict: bool = True,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "mkdocs", "build", *(["--strict"] if strict else []),
           "--site-dir", str(project / "site"), *args]
    return subprocess.run(cmd, cwd=project, env=env or mkdocs_env(), capture_output=True,
                          text=True, timeout=900)


def project_files() -> list[str]:
    """What a clone would hold: tracked files plus untracked ones git does not ignore."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [rel for rel in listed.splitlines() if (ROOT / rel).is_file()]


def copy_project(target: Path) -> Path:
    for rel in project_files():
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target / rel)
    return target


@pytest.fixture(scope="session")
def built_site() -> Path:
    """The real essay (a copy of it), built strictly once per test session."""
    project = copy_project(session_dir() / "essay")
    result = run_mkdocs(project)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    return project / "site"


@pytest.fixture
def project_copy(tmp_path: Path) -> Callable[[], Path]:
    """A copy of the project (sources, essay, config) that a test may break."""

    def make() -> Path:
        return copy_project(tmp_path / "project")

    return make


# ------------------------------------------------------------ a small site to break
# The essay's stack (theme, hooks, mkdocs-jupyter, assets) around one cheap figure and
# one tiny notebook: a build takes seconds, so tests can break and rebuild it freely.

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


@pytest.fixture
def mini_project(tmp_path: Path) -> Callable[..., Path]:
    """`make(text=..., caption=...)`: a small site (one probe figure, one notebook)."""
    return functools.partial(make_mini_project, tmp_path / "mini")


@pytest.fixture
def one_thread():
    """The process state the figures run with (one torch thread, deterministic kernels),
    restored afterwards. Trainers leave it to their caller, and bit-for-bit comparisons
    between batch shapes hold on one thread only."""
    import torch

    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
