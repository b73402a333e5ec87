"""Debian chromium through Playwright, with the network cut to loopback: a context that
blocks and counts every request leaving 127.0.0.1, a static server for a built site,
and a wait until every chart on a page has drawn."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

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


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """`folder` served on a free loopback port; yields its base URL."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


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

    def open(self, url: str, before: Callable[[object], None] | None = None):
        """A new page at `url`, its console errors collected; `before(page)` runs
        before the page is requested (to listen to its responses from the start)."""
        page = self.context.new_page()
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        if before is not None:
            before(page)
        page.goto(url, wait_until="load")
        return page


def wait_for_charts(page) -> int:
    """Scroll to every chart (they are drawn when they near the viewport), wait until
    each has drawn marks, and return to the top; returns how many there are."""
    count = page.locator(".sym-chart").count()
    if count:
        for i in range(count):
            chart = page.locator(".sym-chart").nth(i)
            chart.scroll_into_view_if_needed()
            chart.locator("svg").first.wait_for(state="attached", timeout=20_000)
        # site.js marks a chart once its final drawing is done (it may redraw a shrunk
        # chart with larger text).
        page.wait_for_function(
            "() => [...document.querySelectorAll('.sym-chart')].every("
            "el => el.hasAttribute('data-rendered-scheme') || el.classList.contains('sym-chart--failed'))",
            timeout=30_000,
        )
        page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_function(
            """() => [...document.querySelectorAll('.sym-chart')].every(
                   el => el.querySelector('svg .mark-group, svg path, svg text'))""",
            timeout=20_000,
        )
    return count
