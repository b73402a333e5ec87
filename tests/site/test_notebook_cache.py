"""The lab notebooks' cache: keyed on the library's source as well as the notebook (a
library edit re-executes it), and kept out of mkdocs-jupyter's own cache folder. On the
small probe site; the real notebooks' pages are checked in essay/test_essay_build.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from support.mini import mini_env
from support.project import ROOT, run_mkdocs


def test_notebook_reruns_when_library_source_changes(mini_project: Callable[..., Path]) -> None:
    project, env = mini_project(), mini_env()
    first = run_mkdocs(project, env=env)
    assert first.returncode == 0, first.stderr
    library = project / "symbiote_core" / "metrics.py"
    # A fresh edit each run, so no earlier run's entry can answer.
    library.write_text(library.read_text() + f"\n# an edit the notebook must see: {uuid.uuid4()}\n")
    second = run_mkdocs(project, env=env)
    log = second.stderr + second.stdout
    assert second.returncode == 0, log
    # mkdocs-jupyter keys its cache on the notebook's bytes only; ours adds the library's.
    assert "Converting notebook (execute=True)" in log, log
    assert ": cached" not in log, log


def test_our_notebook_cache_is_not_in_mkdocs_jupyters_folder(monkeypatch) -> None:
    """mkdocs-jupyter, whenever its own cache is on (a build without our hooks), deletes
    every file in its cache folder that its build did not use: ours must live elsewhere,
    or such a build would make the next one run every notebook again."""
    from mkdocs.config import load_config

    from symbiote_core.figures.site.adapter import NOTEBOOK_CACHE_ENV, EssaySite

    monkeypatch.delenv(NOTEBOOK_CACHE_ENV, raising=False)
    monkeypatch.chdir(ROOT)
    config = load_config(str(ROOT / "mkdocs.yml"))
    theirs = (ROOT / config.plugins["mkdocs-jupyter"].config["cache_dir"]).resolve()
    site = EssaySite(None)
    site.on_config(config)
    ours = Path(site.notebooks.folder).resolve()
    assert not ours.is_relative_to(theirs) and not theirs.is_relative_to(ours)
