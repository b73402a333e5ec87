"""The built site in a real browser (Debian chromium), with the network cut to loopback.

Every request that would leave 127.0.0.1 is blocked and counted; the count must be 0.
Screenshots land in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import ARTIFACTS, make_mini_project, run_mkdocs

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def site_pages(site: Path) -> list[str]:
    """Every page of the built site, as a URL path relative to its root."""
    pages = [p.parent.relative_to(site).as_posix() for p in site.rglob("index.html")]
    return sorted(
        ("" if p == "." else p + "/")
        for p in pages
        if not p.startswith(("assets", "search", "figures"))
    )


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site_url(built_site: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(built_site))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            "Debian chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield b
        b.close()


class Session:
    """A browser context that blocks and counts every non-loopback request."""

    def __init__(self, browser, **context_args) -> None:
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(**context_args)
        self.context.route("**/*", self._route)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname in (
            "127.0.0.1",
            "localhost",
        ):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def open(self, url: str):
        page = self.context.new_page()
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.goto(url, wait_until="load")
        return page


def wait_for_charts(page) -> int:
    """Wait until every chart element has drawn marks; returns how many there are."""
    count = page.locator(".sym-chart").count()
    if count:
        page.wait_for_function(
            """() => [...document.querySelectorAll('.sym-chart')].every(
                   el => el.querySelector('svg .mark-group, svg path, svg text'))""",
            timeout=20_000,
        )
    return count


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_renders_offline(browser, built_site: Path, site_url: str, scheme: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    session = Session(browser, viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    charts_seen = 0
    pages = site_pages(built_site)
    assert {"", "superposition/", "claims/", "notebooks/superposition_lab/"} <= set(pages)
    for rel in pages:
        page = session.open(site_url + rel)
        charts_seen += wait_for_charts(page)
        name = rel.strip("/").replace("/", "_") or "index"
        page.screenshot(path=str(ARTIFACTS / f"{name}--{scheme}.png"), full_page=True)
        page.close()
    session.context.close()
    assert session.blocked == [], f"requests left loopback: {session.blocked}"
    assert session.errors == [], f"console errors: {session.errors}"
    figures = len(list((built_site / "figures").iterdir()))
    assert charts_seen >= figures + 1, "every figure and the notebook chart should render"


def test_figure_has_marks_and_dark_mode_rerenders(browser, site_url: str) -> None:
    session = Session(browser, viewport={"width": 1280, "height": 900}, color_scheme="light")
    page = session.open(site_url + "superposition/")
    wait_for_charts(page)
    chart = page.locator("#fig-superposition_recovery .sym-chart")
    assert chart.get_attribute("data-rendered-scheme") == "light"
    marks = chart.locator("svg .mark-symbol path, svg .mark-line path, svg .mark-rect path")
    assert marks.count() > 3
    # Flip the palette with Material's own toggle, as a reader would.
    page.locator("form[data-md-component=palette] label:visible").first.click()
    page.wait_for_function(
        """() => document.querySelector('#fig-superposition_recovery .sym-chart')
               .getAttribute('data-rendered-scheme') === 'dark'""",
        timeout=10_000,
    )
    assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == "slate"
    assert session.blocked == [] and session.errors == []
    session.context.close()


def test_cross_reference_resolves_to_the_figure(browser, site_url: str) -> None:
    session = Session(browser, viewport={"width": 1280, "height": 900})
    page = session.open(site_url)
    link = page.locator(".sym-ref a").first
    assert link.inner_text().startswith("Figure ")
    link.hover()
    preview = page.locator(".sym-ref-preview img").first
    preview.wait_for(state="visible", timeout=5_000)
    box = preview.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 50
    link.click()
    page.wait_for_url("**/superposition/#fig-superposition_recovery")
    assert page.locator("#fig-superposition_recovery").count() == 1
    wait_for_charts(page)
    assert session.blocked == [] and session.errors == []
    session.context.close()


def test_phone_width_has_no_horizontal_overflow(browser, site_url: str) -> None:
    session = Session(browser, viewport={"width": 390, "height": 844}, is_mobile=True)
    page = session.open(site_url + "superposition/")
    wait_for_charts(page)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    page.screenshot(path=str(ARTIFACTS / "superposition--phone.png"), full_page=True)
    assert overflow <= 1
    session.context.close()


# ------------------------------------------------------------ injected markup (issue 7)

PAYLOAD = (
    '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'
    '<svg onload="window.__pwned=1"></svg>`</code><script>window.__pwned=1</script>`'
    " | [x](javascript:window.__pwned=1) {{ value: probe.top }}"
)
CAPTION_PAYLOAD = (
    PAYLOAD + "\n\n[click](javascript:window.__pwned=1) ![i](javascript:window.__pwned=1)"
    '\n\nA paragraph with an attribute list.\n{: onclick="window.__pwned=1" }'
)


@pytest.fixture(scope="module")
def probe_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small site whose probe figure carries a script in every text field: title, alt,
    caption, claim statement, a param, the data's labels and the chart's titles."""
    project = make_mini_project(tmp_path_factory.mktemp("probe") / "mini", text=PAYLOAD,
                                caption=CAPTION_PAYLOAD)
    result = run_mkdocs(project)
    assert result.returncode == 0, result.stdout + result.stderr
    return project / "site"


def test_script_injected_into_every_text_field_never_runs(browser, probe_site: Path) -> None:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(probe_site))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    session = Session(browser, viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []
    try:
        for rel in ("", "claims/", "methods/"):
            page = session.open(base + rel)
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            wait_for_charts(page)
            # Hover every element that carries the payload (tooltips, previews, titles).
            for element in page.locator(".sym-chart, .sym-ref a, .sym-claim").all()[:10]:
                element.hover()
            assert page.evaluate("typeof window.__pwned") == "undefined", rel
            assert page.locator("[onerror], [onload], [onclick]").count() == 0, rel
            assert page.locator('a[href^="javascript:"], img[src^="javascript:"]').count() == 0
            # Shown as text (escaped), not dropped.
            assert "<script>window.__pwned=1</script>" in page.inner_text("body"), rel
            page.close()
    finally:
        session.context.close()
        server.shutdown()
    assert dialogs == []
    assert session.errors == [], session.errors
