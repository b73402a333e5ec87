"""A generated essay project with N trivial figures, for the build benchmarks.

The project has the essay's stack (the material theme, the figure hooks, the Markdown
extensions) around `figures_src/fig_NNN.py` modules that import one shared helper
module, and a few pages of prose that embed every figure and quote its values and
claims. Figures are built for real (one worker process each, as in the essay), once:
the project lives in a folder keyed on its shape and this generator's version, so a
second run of a benchmark starts warm.

Populating: a worker process per figure spends seconds importing torch on this machine,
so 300 figures would take most of an hour. `populate` therefore runs the worker's own
code (`worker.make`: the same keys, compute, render, checks and atomic writes) for every
figure in one subprocess started with the workers' pinned environment; the entries are
the ones a worker writes, and `plan` verifies each of them before the benchmark starts.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import symbiote_core.figures.site.hooks as hooks_module
from symbiote_core.figures.engine.build import plan
from symbiote_core.figures.engine.keys import figure_keys
from symbiote_core.figures.engine.registry import Engine
from symbiote_core.figures.engine.tasks import Task
from symbiote_core.figures.engine.worker import WORKER_ENV, Stage, make

VERSION = 3
"""Bump when the generated files change, so old generated projects are not reused."""

HELPER = '''"""Shared by every generated figure: a deterministic curve."""

import random


def curve(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [{"x": i, "y": i + rng.random()} for i in range(n)]
'''

FIGURE = '''"""Generated figure {index}: a line per seed."""

from dataclasses import dataclass

import altair as alt

from figures_src._common import curve
from symbiote_core.figures.authoring.spec import Claim, Figure, Null


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    n: int = {n}


def compute(params: Params) -> dict:
    return {{"runs": [curve(params.n, {index} * 100 + seed) for seed in params.seeds]}}


def render(data: dict) -> alt.Chart:
    rows = [dict(point, run=i) for i, run in enumerate(data["runs"]) for point in run]
    return alt.Chart(alt.Data(values=rows)).mark_line().encode(x="x:Q", y="y:Q", detail="run:N")


FIGURE = Figure(
    title="Generated figure {index}",
    caption="A noisy line per seed.",
    alt="Five noisy rising lines.",
    params=Params(),
    tuning_seeds=(),
    tuning_note="generated for the benchmark: nothing was tuned",
    compute=compute,
    render=render,
    values={{
        "last": ("the curve's last point", lambda data: [run[-1]["y"] for run in data["runs"]]),
        "first": ("the curve's first point", lambda data: [run[0]["y"] for run in data["runs"]]),
        "flat_last": (
            "the last point of the curve with its trend taken out",
            lambda data: [run[-1]["y"] - len(run) for run in data["runs"]],
        ),
    }},
    claims=(
        Claim(
            name="rises",
            statement="Each line ends higher than it starts.",
            left="last",
            op=">",
            right="first",
            control="the line's own first point",
            why="the curve adds i to noise below 1, so the end is higher by construction",
            null=Null(
                description="the last point with the rise the curve adds (n) removed",
                values={{"last": "flat_last"}},
            ),
        ),
    ),
)
'''

PAGE_HEAD = "# Generated page {page}\n\n"
PARAGRAPH = (
    "Prose about figure {name}, which shows {{{{ ref: {name} }}}}. Its last point sits at "
    "{{{{ value: {name}.last | .2f }}}} and the claim reads: {{{{ claim: {name}.rises }}}}. "
    "Filler sentences follow so that each page holds as much text as an essay page "
    "does, with *emphasis*, `code` and a [link](#top).\n\n"
)

MKDOCS_YML = """site_name: Generated essay
site_url: http://127.0.0.1:8000/
docs_dir: essay
site_dir: site
theme:
  name: material
  font: false
nav:
{nav}  - claims.md
  - methods.md
hooks:
  - {hooks}
plugins:
  - search
markdown_extensions:
  - admonition
  - attr_list
  - footnotes
  - md_in_html
  - tables
  - toc:
      permalink: true
  - pymdownx.superfences
extra_javascript:
  - assets/vendor/vega/vega-bundle.js
"""


def project_root(base: Path, n_figures: int, per_page: int, points: int) -> Path:
    return base / f"figures-{n_figures}-per-page-{per_page}-points-{points}-v{VERSION}"


def generate(base: Path, n_figures: int, per_page: int = 10, points: int = 8) -> Path:
    """Write the project (if it is not there yet) and return its root.

    `per_page` figures share a page; each figure draws five lines of about `points`
    points (the chart spec carries them, as the essay's do).
    """
    root = project_root(base, n_figures, per_page, points)
    stamp = root / ".generated"
    if not stamp.exists():
        _write(root, n_figures, per_page, points)
        stamp.write_text(hashlib.sha256(str(VERSION).encode()).hexdigest())
    # Rewritten every time: the hooks of whichever engine is imported (a checkout on
    # PYTHONPATH times its own engine against the same project).
    nav = "".join(f"  - {page.name}\n" for page in sorted((root / "essay").glob("page_*.md")))
    hooks = Path(hooks_module.__file__).resolve()
    (root / "mkdocs.yml").write_text(MKDOCS_YML.format(nav=nav, hooks=hooks))
    return root


def _write(root: Path, n_figures: int, per_page: int, points: int) -> None:
    shutil.rmtree(root, ignore_errors=True)
    figures = root / "figures_src"
    figures.mkdir(parents=True)
    (figures / "__init__.py").write_text('"""Generated figures."""\n')
    (figures / "_common.py").write_text(HELPER)
    names = [f"fig_{i:03d}" for i in range(n_figures)]
    for i, name in enumerate(names):
        n = max(2, points * (1 + i % 3) // 2)  # sizes vary, about `points` on average
        (figures / f"{name}.py").write_text(FIGURE.format(index=i, n=n))
    essay = root / "essay"
    essay.mkdir()
    for page, start in enumerate(range(0, n_figures, per_page)):
        text = PAGE_HEAD.format(page=page)
        for name in names[start : start + per_page]:
            text += f"{{{{ figure: {name} }}}}\n\n" + PARAGRAPH.format(name=name) * 3
        (essay / f"page_{page:02d}.md").write_text(text)


def populate(root: Path) -> None:
    """Build every stale figure of the project with the worker's code (see above)."""
    engine = Engine(root=root)
    stale = [p.name for p in plan(engine) if p.status != "cached"]
    if stale:
        env = dict(os.environ, **WORKER_ENV)
        code = f"import genproject; genproject._populate_here({str(root)!r}, {stale!r})"
        subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent, env=env, check=True)
    left = [p.name for p in plan(engine) if p.status != "cached"]
    if left:
        raise SystemExit(f"generated figures not built: {', '.join(left)}")


def _populate_here(root: str, names: list[str]) -> None:
    engine = Engine(root=Path(root))
    task = functools.partial(Task, engine, force=False, git="generated", parent=os.getpid())
    for name in names:
        keys = figure_keys(engine, name)
        make(task(name=name), keys, None, Stage(), warnings=[])


_EDIT = "<!-- the benchmark's edit -->\n"
_edits = itertools.count()


def touch_prose(root: Path) -> None:
    """A prose edit: a different last sentence on the first page (what a writer does in
    serve). The page keeps its size, however many benchmarks have edited it."""
    page = root / "essay" / "page_00.md"
    text = page.read_text().split(_EDIT)[0]
    page.write_text(f"{text}{_EDIT}One more sentence, edit {next(_edits)}.\n")
