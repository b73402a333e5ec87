"""The real essay's one strict build (`built_site`, once per session): figures, values,
claims, methods, alt text, lab notebooks, publication metadata, offline assets.

How the build fails (unknown names, failing claims, raising figures) is checked on the
small probe site (site/test_build_errors.py); this file holds what only the real essay
can show.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from pybtex.database import parse_string
from support.project import ROOT

from symbiote_core.figures.site.publication import Meta

FIGURE = "superposition_recovery"
NOTEBOOKS = sorted(p.stem for p in (ROOT / "essay" / "notebooks").glob("*.py"))
DEFAULT_URL = "https://symbiotic-networks.github.io/"


def test_strict_build_renders_figures_values_and_claims(built_site: Path) -> None:
    page = (built_site / "superposition" / "index.html").read_text()
    assert f'id="fig-{FIGURE}"' in page
    # The spec is fetched from its file when the chart nears the viewport (page weight).
    assert 'class="sym-chart"' in page and "data-spec-src=" in page
    # Every directive outside code was replaced.
    body = re.sub(r"<pre.*?</pre>|<code.*?</code>", "", page, flags=re.S)
    assert "{{ value:" not in body and "{{ claim:" not in body
    assert 'class="sym-value"' in page
    assert "sym-claim--holds" in page and "sym-claim--fails" not in page
    for name in ("spec.json", "data.json", "figure.svg"):
        assert (built_site / "figures" / FIGURE / name).stat().st_size > 100
    claims = (built_site / "claims" / "index.html").read_text()
    # No claim fails unannounced (a failure the text states is marked sym-claim--reported).
    assert "dictionary_beats_random" in claims and "sym-claim--fails" not in claims


def test_methods_page_lists_every_figure_with_its_params(built_site: Path) -> None:
    methods = (built_site / "methods" / "index.html").read_text()
    for folder in (built_site / "figures").iterdir():
        assert f"figures_src/{folder.name}.py" in methods, folder.name
    assert "feature_probabilities" in methods and "failed to build" not in methods


def test_offline_assets_are_local(built_site: Path) -> None:
    html = (built_site / "index.html").read_text()
    assert "fonts.googleapis" not in html and "fonts.gstatic" not in html
    for src in re.findall(r'<script[^>]+src="([^"]+)"', html):
        assert not src.startswith(("http:", "https:", "//")), src
    assert (built_site / "assets/vendor/vega/vega-bundle.js").stat().st_size > 500_000


def _figure_blocks(site: Path) -> dict[str, str]:
    """Figure name -> its block's HTML, from every page of the built site."""
    blocks: dict[str, str] = {}
    for page in site.rglob("index.html"):
        text = page.read_text()
        for m in re.finditer(r'<figure class="sym-figure" id="fig-(\w+)".*?</figure>', text, re.S):
            blocks.setdefault(m.group(1), m.group(0))
    return blocks


def test_alt_text_and_data_summary_carry_the_figures_values(built_site: Path) -> None:
    """The numbers in each figure's alt text are its values, evaluated here from the
    data.json the site publishes (not read from the build's record)."""
    from symbiote_core.figures.engine.registry import Engine, load_figure
    from symbiote_core.figures.site.markup import find_directives, format_value

    engine = Engine(root=ROOT)
    blocks = _figure_blocks(built_site)
    assert len(blocks) >= 10
    for name, block in blocks.items():
        figure = load_figure(name, engine)
        data = json.loads((built_site / "figures" / name / "data.json").read_text())
        values = figure.evaluate_values(data)
        label = html.unescape(re.search(r'aria-label="([^"]*)" data-spec', block).group(1))
        assert "{{" not in label, name
        quoted = [d for d in find_directives(figure.alt) if d.kind == "value"]
        assert quoted, f"{name}: no value in its alt text"
        for d in quoted:
            number = format_value(values[d.target.split(".", 1)[1]], d.fmt)
            assert number in label, f"{name}: {d.text} should show {number!r} in {label!r}"
        summary = block[block.index('class="sym-summary"') :]
        for d in quoted:
            assert f"<code>{d.target.split('.', 1)[1]}</code>" in summary, (name, d.text)


def test_methods_page_has_every_figures_paragraph_and_params(built_site: Path) -> None:
    import dataclasses

    from symbiote_core.figures.engine.registry import Engine, figure_names, load_figure

    methods = (built_site / "methods" / "index.html").read_text()
    engine = Engine(root=ROOT)
    assert "No methods paragraph" not in methods
    for name in figure_names(engine):
        start = methods.index(f'id="methods-{name}"')
        end = methods.find("<h2", start)
        section = methods[start : end if end > 0 else len(methods)]
        assert 'class="sym-methods"' in section, name
        assert "{{" not in section, name  # every directive in it was rendered

        def leaves(params: dict, prefix: str = "") -> list[str]:
            out: list[str] = []
            for key, value in params.items():
                out += leaves(value, f"{prefix}{key}.") if isinstance(value, dict) else [
                    f"{prefix}{key}"
                ]
            return out

        for path in leaves(dataclasses.asdict(load_figure(name, engine).params)):
            assert f"<code>{path}</code>" in section, f"{name}: param {path} missing"


# ------------------------------------------------------------------ lab notebooks


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


# ------------------------------------------------------------------ publication


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
