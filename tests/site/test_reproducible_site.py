"""Issue 21: a byte-reproducible site, and directives in a notebook's Markdown cells.

On the small site of `support/mini.py` (one probe figure, one notebook), a
git repository with one commit: two clean builds of it with the same figure cache
give identical files, every one (popover ids once carried a per-process nonce, and
notebook cells nbformat's random ids); the second build runs its notebook afresh (its
own notebook cache), so the page does not depend on that cache either. A valid
`{{ value: }}` in a notebook's Markdown cell renders as on a page (it once failed the
build as "1 chart spec(s) or figure fragment(s) were lost"); one that cannot render
is an error naming the notebook, its line and its cell.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from support.mini import make_mini_project, mini_env
from support.project import mkdocs_env, run_mkdocs

pytestmark = pytest.mark.slow

NOTEBOOK = Path("essay") / "notebooks" / "lab.py"


def env_for(figures: Path, notebooks: Path) -> dict[str, str]:
    env = mkdocs_env(figures)
    env["SYMBIOTE_NOTEBOOK_CACHE"] = str(notebooks)
    env.pop("SOURCE_DATE_EPOCH", None)  # the build takes it from the commit
    return env


def commit(project: Path) -> None:
    for args in (["init", "-q"], ["add", "-A"],
                 ["-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-qm", "x"]):
        subprocess.run(["git", *args], cwd=project, check=True, capture_output=True)


def add_to_notebook(project: Path, markdown: str) -> None:
    """Append Markdown lines to the notebook's first Markdown cell."""
    path = project / NOTEBOOK
    text = path.read_text()
    lines = "".join(f"# {line}\n" if line else "#\n" for line in markdown.splitlines())
    path.write_text(text.replace("# # Lab\n", f"# # Lab\n#\n{lines}", 1))


def site_files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def figure_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One figure cache for every build here: the probe sites' (`support/mini.py`), where
    the probe is computed once per session."""
    return Path(mini_env()["SYMBIOTE_FIGURE_CACHE"])


def test_two_clean_builds_of_one_commit_are_byte_identical(
    figure_cache: Path, tmp_path: Path
) -> None:
    project = make_mini_project(tmp_path / "mini")
    commit(project)
    sites = []
    for run in ("first", "second"):
        result = run_mkdocs(project, "--site-dir", str(tmp_path / run),
                            env=env_for(figure_cache, tmp_path / f"notebooks-{run}"))
        assert result.returncode == 0, result.stdout + result.stderr
        sites.append(site_files(tmp_path / run))
    first, second = sites
    assert 'class="sym-tip"' in first["index.html"].decode()  # popovers are there to compare
    assert sorted(first) == sorted(second)
    differ = [name for name in first if first[name] != second[name]]
    assert differ == [], f"files that differ between two builds: {differ}"


def test_a_value_in_a_notebook_markdown_cell_renders_as_on_a_page(
    figure_cache: Path, tmp_path: Path
) -> None:
    project = make_mini_project(tmp_path / "mini")
    add_to_notebook(project, "The top is {{ value: probe.top }} on average,\n"
                             "and `{{ value: probe.nope }}` is code, left alone.")
    result = run_mkdocs(project, env=env_for(figure_cache, tmp_path / "notebooks"))
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    page = (project / "site" / "notebooks" / "lab" / "index.html").read_text()
    index = (project / "site" / "index.html").read_text()
    number = 'class="sym-value-number" aria-describedby="sym-popover-'
    assert number in page and 'class="sym-tip" role="tooltip"' in page
    assert "the top score, mean of 5 seeds" in page  # the popover says what it is
    shown = index.split(number, 1)[1].split(">", 1)[1].split("<", 1)[0]
    assert f">{shown}</button>" in page, shown  # the same number as the page shows
    assert "<code>{{ value: probe.nope }}</code>" in page
    assert "symnb" not in page and "{{ value: probe.top" not in page
    # The download is the notebook as written.
    assert "{{ value: probe.top }}" in (project / "site/notebooks/lab.ipynb").read_text()


def test_a_broken_directive_in_a_notebook_names_notebook_line_and_cell(
    mini_project: Callable[..., Path], figure_cache: Path, tmp_path: Path
) -> None:
    project = mini_project()
    add_to_notebook(project, "Unknown: {{ value: probe.nope }}.\n\n"
                             "A figure: {{ figure: probe }}\n\n"
                             "## Heading {{ value: probe.top }}")
    result = run_mkdocs(project, env=env_for(figure_cache, tmp_path / "notebooks"))
    log = result.stdout + result.stderr
    assert result.returncode != 0, log
    lines = (project / NOTEBOOK).read_text().splitlines()

    def line_of(text: str) -> int:
        return next(i for i, line in enumerate(lines, 1) if text in line)

    where = f"{NOTEBOOK.as_posix()}:"
    assert f"{where}{line_of('probe.nope')}: cell 1: unknown value 'nope'" in log, log
    assert f"{where}{line_of('figure: probe')}: cell 1: {{{{ figure: probe }}}}: a notebook" in log
    assert f"{where}{line_of('## Heading')}: cell 1: {{{{ value: probe.top }}}}: a directive " \
           "in a notebook heading" in log, log
    assert "were lost" not in log
