"""The lab notebooks on the built site: clean output, numbered captioned charts, .ipynb."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support.project import ROOT

NOTEBOOKS = sorted(p.stem for p in (ROOT / "essay" / "notebooks").glob("*.py"))


def test_there_are_two_lab_notebooks() -> None:
    assert len(NOTEBOOKS) >= 2, NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_page_is_clean_numbered_and_downloadable(built_site: Path, name: str) -> None:
    page = (built_site / "notebooks" / name / "index.html").read_text()
    text = re.sub(r"<[^>]+>", " ", page)
    # No warning and no path of the machine that built it reaches the reader.
    assert "Warning" not in text and "warn(" not in text
    assert str(ROOT) not in page and "site-packages" not in page
    assert "object at 0x" not in text and "TrainResult(" not in text
    charts = page.count('class="sym-chart"')
    assert charts >= 1
    for n in range(1, charts + 1):
        assert f"Lab figure {n}." in page
    assert f"{name}.ipynb" in page  # the download link
    notebook = json.loads((built_site / "notebooks" / f"{name}.ipynb").read_text())
    assert notebook["nbformat"] == 4 and any(c["cell_type"] == "code" for c in notebook["cells"])


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
