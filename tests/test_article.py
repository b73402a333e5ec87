"""The essay as a reader's article (issue 22): figures that fit a phone, captions whose
colour words the charts draw, numbered sections, visible claims, metadata, print and PDF.

Browser checks drive Debian chromium against the built essay with the network cut to
loopback, as tests/test_browser.py does; the rest read the built HTML.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
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


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield browser
        browser.close()


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


def chart_pages(site: Path) -> list[str]:
    """Every page of the built site that holds a chart, as a URL path."""
    pages = []
    for html in sorted(site.rglob("index.html")):
        rel = html.parent.relative_to(site).as_posix()
        if rel.startswith(("assets", "search", "figures")):
            continue
        if 'class="sym-chart' in html.read_text(encoding="utf-8"):
            pages.append("" if rel == "." else rel + "/")
    return pages


def draw_every_chart(page) -> None:
    """Scroll to each chart (they are drawn near the viewport) and wait until it is drawn."""
    charts = page.locator(".sym-chart")
    for i in range(charts.count()):
        charts.nth(i).scroll_into_view_if_needed()
        page.wait_for_function(
            "i => { const el = document.querySelectorAll('.sym-chart')[i];"
            " return el.hasAttribute('data-rendered-scheme') || el.classList.contains('sym-chart--failed'); }",
            arg=i, timeout=60_000,
        )


_FIGURE_FIT = """() => [...document.querySelectorAll('.sym-chart')].map(el => {
  const svg = el.querySelector('svg.marks');
  const fig = el.closest('figure');
  return {figure: fig ? fig.id : '(notebook chart)', box: el.clientWidth, scroll: el.scrollWidth,
          svg: svg ? svg.getBoundingClientRect().width : -1,
          natural: svg ? parseFloat(svg.getAttribute('width')) : -1,
          draws: el._symDraws || 0, failed: el.classList.contains('sym-chart--failed'),
          cut: [...el.querySelectorAll('svg text')].map(t => t.textContent).filter(t => t.includes('\u2026'))};
})"""


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_figure_fits_a_phone_drawn_once(chromium, article_site: Path, article_url: str,
                                              scheme: str) -> None:
    """At 390 px every chart shows whole in its column: no sideways scrolling, never
    scaled down (its text keeps its size), no label cut short with an ellipsis, and
    drawn once (laid out to fit before drawing, not redrawn until it fits)."""
    context = _offline_context(chromium, viewport=PHONE, is_mobile=True, has_touch=True,
                               color_scheme=scheme)
    problems, seen = [], 0
    for rel in chart_pages(article_site):
        page = context.new_page()
        page.goto(article_url + rel, wait_until="load")
        draw_every_chart(page)
        for f in page.evaluate(_FIGURE_FIT):
            seen += 1
            where = f"{rel}#{f['figure']}"
            if f["failed"]:
                problems.append(f"{where}: not drawn")
            if f["scroll"] > f["box"] + 1:
                problems.append(f"{where}: {f['scroll']} px wide in a {f['box']} px column")
            if f["natural"] > 0 and f["svg"] < f["natural"] - 1:
                problems.append(f"{where}: scaled to {f['svg']:.0f} of {f['natural']:.0f} px")
            if f["draws"] != 1:
                problems.append(f"{where}: drawn {f['draws']} times")
            if f["cut"]:
                problems.append(f"{where}: labels cut short: {f['cut'][:3]}")
        assert page.evaluate("document.documentElement.scrollWidth - innerWidth") <= 1, rel
        page.close()
    context.close()
    assert seen >= len(list((article_site / "figures").iterdir())), "a figure was not found"
    assert context.blocked == []
    assert problems == [], "\n".join(problems)
