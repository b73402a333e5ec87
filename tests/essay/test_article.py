"""The essay as a reader's article (issue 22): captions whose colour words the charts
draw, numbered sections, visible claims, metadata, print and PDF. (Figures that fit a
phone are checked on the browser sweep's phone loads, test_browser_sweep.py.)

Browser checks drive Debian chromium against the built essay with the network cut to
loopback, as test_browser_sweep.py does; the rest read the built HTML.
"""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

PHONE = {"width": 390, "height": 844}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def article_site(request: pytest.FixtureRequest) -> Path:
    """The built essay; `SYMBIOTE_BUILT_SITE=site` checks a site built already instead
    (a quick loop while working on the site's front end)."""
    prebuilt = os.environ.get("SYMBIOTE_BUILT_SITE")
    return Path(prebuilt).resolve() if prebuilt else request.getfixturevalue("built_site")


@pytest.fixture(scope="module")
def article_url(article_site: Path) -> Iterator[str]:
    built_site = article_site
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(built_site))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def _offline_context(browser, **args):
    """A context whose requests may not leave loopback (each one that tries is listed)."""
    context = browser.new_context(**args)
    context.blocked = []

    def route(r) -> None:
        url = r.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            context.blocked.append(url)
            r.abort()

    context.route("**/*", route)
    return context


# ------------------------------------------------------------ captions and colour words

def _spec(*colours: str) -> dict:
    """A two-series line chart drawn in these colours."""
    return {"mark": "line", "encoding": {"color": {"field": "kind", "scale": {
        "domain": [f"k{i}" for i in range(len(colours))], "range": list(colours)}}}}


def test_a_caption_naming_a_colour_its_chart_does_not_draw_is_a_problem() -> None:
    from symbiote_core.figures.authoring import palette
    from symbiote_core.figures.site.colourwords import caption_colour_problems

    drawn = _spec(palette.color("control"), palette.color("neuron"))
    # The figure 3: "orange" and "teal" for a chart drawn in grey and black.
    assert caption_colour_problems("train (orange), test (teal)", [], _spec(palette.color("control")))
    # A bare word must hold in both themes: the neuron role is orange, but yellow in dark.
    problems = caption_colour_problems("the neurons (orange)", [], drawn)
    assert len(problems) == 1 and "dark theme" in problems[0]
    # Said through the palette, it is right in both; a role the chart lacks is not.
    assert caption_colour_problems("the neurons (X)", ["neuron"], drawn) == []
    assert caption_colour_problems("X: the truth", ["oracle"], drawn)
    # Grey is grey in both themes, and a caption may say so.
    assert caption_colour_problems("grey ticks: the control", [], drawn) == []


def test_colour_directive_names_the_colour_of_each_theme() -> None:
    from symbiote_core.figures.site.colourwords import colour_html

    out = colour_html("neuron", "capital")
    assert ">Orange<" in out and ">Yellow<" in out and "#c8572f" in out
    with pytest.raises(KeyError, match="unknown colour role"):
        colour_html("turquoise")


def test_every_caption_of_the_essay_says_colours_its_chart_draws(article_site: Path) -> None:
    """The built figures, read back: the build fails on a caption that names a colour its
    chart does not draw; this checks the captions the site actually shows."""
    import json

    from symbiote_core.figures.site.colourwords import caption_colour_problems
    from symbiote_core.figures.site.markup import find_directives

    checked, problems = 0, []
    for folder in sorted((article_site / "figures").iterdir()):
        meta = json.loads((folder / "meta.json").read_text())
        spec = json.loads((folder / "spec.json").read_text())
        caption = meta.get("caption", "")
        colours = [d for d in find_directives(caption) if d.kind == "colour"]
        for d in reversed(colours):
            caption = caption[: d.start] + "X" + caption[d.end :]
        problems += [f"{folder.name}: {p}" for p in
                     caption_colour_problems(caption, [d.target for d in colours], spec)]
        checked += 1
    assert checked >= 10 and problems == []


# ------------------------------------------------------------ sections, title page, claims

def _html(site: Path, rel: str) -> str:
    return (site / rel / "index.html").read_text(encoding="utf-8")


def _essay_pages() -> list[str]:
    from support.project import ROOT

    from symbiote_core.figures.site.pdf import essay_pages

    return [p for p in essay_pages(ROOT / "mkdocs.yml") if p != "bibliography.md"]


def test_sections_are_numbered_in_headings_nav_and_references(article_site: Path) -> None:
    """Every essay page but the title page is a numbered section: its title, its H2s, its
    nav entry; `{{ section: }}` references link to the page with that number."""
    import re

    from symbiote_core.figures.site.pdf import page_path

    pages = _essay_pages()[1:]  # the title page is not numbered
    assert len(pages) >= 8
    for number, src in enumerate(pages, start=1):
        text = _html(article_site, page_path(src))
        h1 = re.search(r"<h1\b[^>]*>(.*?)</h1>", text, re.S)
        assert h1 and f'<span class="sym-secnum">{number}</span>' in h1.group(1), src
        h2s = re.findall(r'<h2\b[^>]*><span class="sym-secnum">([\d.]+)</span>', text)
        assert h2s == [f"{number}.{i}" for i in range(1, len(h2s) + 1)], src
    # The nav shows the numbers; a reference says the number of the page it links to.
    home = _html(article_site, "")
    algorithm = pages.index("algorithm.md") + 1
    assert re.search(rf'href="algorithm/"[^>]*>\s*(<[^>]+>\s*)*{algorithm} Reading an algorithm', home)
    refs = re.findall(r'<a class="sym-section-ref" href="([^"]+)">Section (\d+)</a>', home)
    assert refs and all(
        page_path(pages[int(n) - 1]) == href.removeprefix("./") or href.endswith(page_path(pages[int(n) - 1]))
        for href, n in refs
    ), refs


def test_the_title_page_reads_as_an_article(article_site: Path) -> None:
    """Title, authorship as CITATION.cff states it, date, version, a citable identifier,
    the PDF; a hero figure; what was found, with live numbers each marked with its check;
    the map of the argument; no chart runtime and no sidebars."""
    from support.project import ROOT

    from symbiote_core.figures.site.publication import PDF_FILE, Meta

    meta = Meta.load(ROOT / "CITATION.cff")
    home = _html(article_site, "")
    assert f"By {meta.authors[0]}" in home and meta.released.isoformat() in home
    assert f"Version {meta.version}" in home and "symbioticnetworks" in home
    assert f'href="{PDF_FILE}"' in home
    assert 'class="sym-hero"' in home and "figure.svg" in home
    findings = home[home.index('class="sym-findings"'):]
    findings = findings[: findings.index("</div>")]
    assert findings.count('class="sym-value-number"') >= 6  # live values
    assert findings.count("sym-claim-mark") >= 4  # each finding's check
    assert "sym-chart" not in home  # no chart here: the page loads no Vega
    assert "md-sidebar--primary" not in home or 'data-md-component="sidebar"' in home


def test_claims_appendix_opens_with_a_summary_table(article_site: Path) -> None:
    claims = _html(article_site, "claims")
    claims = claims[claims.index("<article"):]  # the page, not its table of contents
    table = claims.index("<table>")
    assert table < claims.index("Each claim, seed by seed")
    head = claims[table: claims.index("</thead>", table)]
    for column in ("claim", "figure", "measured", "control", "null", "verdict"):
        assert f">{column}<" in head
    rows = claims[table: claims.index("</table>", table)].count("<tr>") - 1
    assert rows == claims.count('class="sym-seed-details"') >= 20  # one row per claim
    assert "<details class=\"sym-seed-details\"><summary>" in claims  # detail folded


def test_claim_marks_say_in_words_what_was_checked(article_site: Path) -> None:
    import re

    text = _html(article_site, "superposition")
    marks = re.findall(r'<span class="sym-value sym-check[^"]*">(.*?)</span></span>', text, re.S)
    assert marks
    for mark in marks:
        assert 'aria-describedby="' in mark and "<button" in mark
        assert "Checked claim:" in mark and "of 5 seeds" in mark and "null" in mark
        assert "claims/#claim-" in mark


@pytest.mark.browser
def test_a_claim_mark_opens_by_tap_and_keyboard(browser, article_url: str) -> None:
    context = _offline_context(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(article_url + "superposition/", wait_until="load")
    mark = page.locator(".sym-claim-mark").first
    tip = page.locator(".sym-check .sym-tip").first
    mark.scroll_into_view_if_needed()
    assert mark.is_visible() and not tip.is_visible()
    mark.tap()
    assert tip.is_visible() and "Checked claim:" in tip.inner_text()
    box = tip.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    page.keyboard.press("Escape")
    assert not tip.is_visible()
    page.evaluate("document.activeElement.blur()")
    mark.focus()  # the keyboard: focus shows it, and its link is reachable by Tab
    assert tip.is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('.sym-check') !== null")
    context.close()
    assert context.blocked == []


# ------------------------------------------------------------ metadata

def test_every_page_has_its_own_description_card_and_citation_tags(article_site: Path) -> None:
    import re

    from symbiote_core.figures.site.pdf import page_path

    descriptions: dict[str, str] = {}
    essay = {page_path(p) for p in _essay_pages()}
    for html_file in sorted(article_site.rglob("index.html")):
        rel = html_file.parent.relative_to(article_site).as_posix()
        # browser/: the feature browser, a standalone app the library writes (not a page).
        if rel.startswith(("assets", "search", "figures", "browser")):
            continue
        rel = "" if rel == "." else rel + "/"
        text = html_file.read_text(encoding="utf-8")
        head = text[: text.index("</head>")]
        meta = dict(re.findall(r'<meta (?:name|property)="([^"]+)" content="([^"]*)"', head))
        description = meta.get("description", "")
        assert len(description) >= 40, (rel, description)
        descriptions[rel] = description
        for tag in ("og:title", "og:description", "og:url", "og:image", "twitter:card",
                    "twitter:image"):
            assert meta.get(tag), (rel, tag)
        image = meta["og:image"].split("/assets/cards/", 1)[1]
        assert (article_site / "assets" / "cards" / image).read_bytes()[:4] == b"\x89PNG", rel
        if rel in essay:
            for tag in ("citation_title", "citation_author", "citation_publication_date",
                        "citation_pdf_url", "citation_fulltext_html_url"):
                assert meta.get(tag), (rel, tag)
            assert re.fullmatch(r"\d{4}/\d{2}/\d{2}", meta["citation_publication_date"])
    assert len(set(descriptions.values())) == len(descriptions), "pages share a description"


# ------------------------------------------------------------ print and PDF

@pytest.fixture(scope="module")
def essay_pdf(article_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The essay's PDF: the one `make build` printed into the site, or printed here."""
    from support.project import ROOT

    from symbiote_core.figures.site.publication import PDF_FILE

    built = article_site / PDF_FILE
    if built.is_file():
        return built
    # In its own process: the session's browser fixture already runs Playwright's sync
    # API in this thread, and a second one refuses to start inside its event loop.
    out = tmp_path_factory.mktemp("pdf") / PDF_FILE
    script = (
        "import sys; from pathlib import Path; "
        "from symbiote_core.figures.site.pdf import essay_pages, print_essay; "
        "print_essay(Path(sys.argv[1]), essay_pages(Path(sys.argv[2])), out=Path(sys.argv[3]))"
    )
    subprocess.run([sys.executable, "-c", script, str(article_site), str(ROOT / "mkdocs.yml"),
                    str(out)], check=True, timeout=900)
    return out


@pytest.mark.browser
def test_every_figure_is_drawn_in_the_pdf(article_site: Path, essay_pdf: Path) -> None:
    """Each numbered figure is in the PDF with its caption, drawn: text that only its
    chart holds (axis titles, labels) is on the PDF's pages."""
    import html
    import re

    import pypdfium2

    pdf = pypdfium2.PdfDocument(essay_pdf)
    # PDFium writes a hyphen that ends a line as U+FFFE.
    text = " ".join(
        " ".join(page.get_textpage().get_text_range().replace("\ufffe", "-").split())
        for page in pdf
    )
    missing = []
    for folder in sorted((article_site / "figures").iterdir()):
        home = [p for p in article_site.rglob("index.html")
                if f'id="fig-{folder.name}"' in p.read_text(encoding="utf-8")]
        if not home:
            continue  # embedded on no page
        page = home[0].read_text(encoding="utf-8")
        number = re.search(rf'id="fig-{folder.name}".*?<strong>Figure (\d+)\.</strong>', page, re.S)
        assert number, folder.name
        if f"Figure {number.group(1)}." not in text:
            missing.append(f"Figure {number.group(1)} ({folder.name}): caption not printed")
        svg = (folder / "figure.svg").read_text(encoding="utf-8")
        words = {" ".join(html.unescape(t).split()) for t in re.findall(r"<text[^>]*>([^<]{6,})</text>", svg)}
        words = {w for w in words if not re.fullmatch(r"[\d.,%\s−-]+", w)}
        if words and not any(w in text for w in words):
            missing.append(f"Figure {number.group(1)} ({folder.name}): chart not drawn")
    assert missing == [], "\n".join(missing)
