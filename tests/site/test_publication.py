"""Byline, cite-this, CITATION.cff, site_url: one source of truth, rendered everywhere.
(The real essay's byline, about page and sitemap: essay/test_essay_build.py.)"""

from __future__ import annotations

import yaml
from support.mini import mini_env
from support.project import ROOT, run_mkdocs

from symbiote_core.figures.site.publication import Meta

DEFAULT_URL = "https://symbiotic-networks.github.io/"


def _cff() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text())


def test_citation_cff_is_complete_and_matches_the_site() -> None:
    cff = _cff()
    for key in ("cff-version", "message", "title", "authors", "date-released", "url", "license"):
        assert cff.get(key), f"CITATION.cff lacks {key}"
    assert cff["url"] == DEFAULT_URL
    # mkdocs.yml's default publication place is the same URL.
    config = (ROOT / "mkdocs.yml").read_text()
    assert f'site_url: !ENV [SITE_URL, "{DEFAULT_URL}"]' in config
    meta = Meta.load(ROOT / "CITATION.cff")
    assert meta.licences == ("CC-BY-4.0", "MIT")
    assert (ROOT / "LICENSE").read_text().count("MIT License") == 1


def test_site_url_comes_from_the_environment(mini_project) -> None:
    project = mini_project(publication=True)
    env = mini_env() | {"SITE_URL": "https://example.org/essay/"}
    result = run_mkdocs(project, strict=False, env=env)
    site = project / "site"
    assert (site / "sitemap.xml").exists(), result.stderr[-2000:]
    assert "<loc>https://example.org/essay/</loc>" in (site / "sitemap.xml").read_text()
    about = (site / "about" / "index.html").read_text()
    assert "https://example.org/essay/" in about
