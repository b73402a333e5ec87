"""Byline, cite-this, CITATION.cff, site_url: one source of truth, rendered everywhere."""

from __future__ import annotations

import html
import re
from pathlib import Path

import yaml
from support.project import ROOT, mkdocs_env, run_mkdocs
from pybtex.database import parse_string

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


def test_built_site_has_byline_cite_block_canonical_and_sitemap(built_site: Path) -> None:
    meta = Meta.load(ROOT / "CITATION.cff")
    page = (built_site / "superposition" / "index.html").read_text()
    assert 'class="sym-byline"' in page and meta.released.isoformat() in page
    assert f'<link rel="canonical" href="{DEFAULT_URL}superposition/">' in page
    sitemap = (built_site / "sitemap.xml").read_text()
    assert f"<loc>{DEFAULT_URL}superposition/</loc>" in sitemap and "127.0.0.1" not in sitemap
    about = (built_site / "about" / "index.html").read_text()
    assert 'id="cite-this-essay"' in about and 'id="updates-and-corrections"' in about
    blocks = [
        html.unescape(re.sub(r"<[^>]+>", "", b))
        for b in re.findall(r"<code>(.*?)</code>", about, re.S)
    ]
    bibtex = [b for b in blocks if b.lstrip().startswith("@misc")]
    assert bibtex, "no BibTeX block on the about page"
    text = bibtex[0]
    entry = next(iter(parse_string(text, "bibtex").entries.values()))
    assert entry.fields["title"] == meta.title and entry.fields["url"] == DEFAULT_URL
    bibliography = (built_site / "bibliography" / "index.html").read_text()
    assert bibliography.count('<li id="ref-') >= 10


def test_site_url_comes_from_the_environment(project_copy, tmp_path: Path) -> None:
    project = project_copy()
    env = mkdocs_env() | {"SITE_URL": "https://example.org/essay/"}
    result = run_mkdocs(project, strict=False, env=env)
    site = project / "site"
    assert (site / "sitemap.xml").exists(), result.stderr[-2000:]
    assert (
        "<loc>https://example.org/essay/superposition/</loc>" in (site / "sitemap.xml").read_text()
    )
    about = (site / "about" / "index.html").read_text()
    assert "https://example.org/essay/" in about
