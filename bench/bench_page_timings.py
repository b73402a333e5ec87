"""What a reader on a mid-range phone waits for: first paint and every chart drawn.

Serves a built site on loopback, opens its heaviest page in Debian chromium (Playwright)
with the CPU slowed 4x (`Emulation.setCPUThrottlingRate`), scrolls through the page as
a reader would and times, from navigation start: the first paint, the first contentful
paint, and the moment every chart on the page has drawn. Each run is a fresh browser
context (a cold cache), and the runs alternate between two variants in one process:

- *change*: the site as built (the search index waits until the reader opens search,
  `symbiote_core/figures/site/search.py`);
- *baseline*: the same pages with that script taken out of each HTML response, so the
  theme fetches the search index on load as it did before.

It prints the median of each, the ratio change / baseline, and the bytes each variant
fetched. Times on a shared machine are inflated by other work: compare the ratios.
Tests never assert times.

    .venv/bin/python bench/bench_page_timings.py [--site site] [--page algorithm/]
        [--repeat 5] [--throttle 4]

Without `--page` the heaviest page (most bytes fetched once every chart has drawn,
measured unthrottled) is picked.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import re
import statistics
import threading
from collections.abc import Iterator
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
SHIM = re.compile(r"<script>\(function \(\) \{ var held = \[\].*?\}\)\(\);</script>", re.S)
"""The on-demand search script as the site inlines it (search.py)."""

ALL_DRAWN = """() => {
  const charts = [...document.querySelectorAll('.sym-chart')];
  return charts.every(c => c.hasAttribute('data-rendered-scheme'));
}"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def served(folder: Path) -> Iterator[str]:
    handler = functools.partial(_Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


def pages(site: Path) -> list[str]:
    return sorted(
        str(p.parent.relative_to(site)).replace(".", "") + ("/" if p.parent != site else "")
        for p in site.rglob("index.html")
        if not str(p.relative_to(site)).startswith(("assets", "search", "figures", "browser"))
    )


def run(browser, url: str, throttle: float, baseline: bool) -> dict[str, float]:
    """One cold load of `url`: scroll through, wait for every chart; times in ms."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    fetched: dict[str, int] = {}

    def count(response) -> None:
        with contextlib.suppress(Exception):
            fetched[response.url] = len(response.body())

    page.on("response", count)
    if baseline:

        def strip(route) -> None:
            response = route.fetch()
            body = response.text()
            route.fulfill(response=response, body=SHIM.sub("", body, count=1))

        page.route(re.compile(r".*/$|.*\.html$"), strip)
    if throttle != 1:
        cdp = context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
    page.goto(url, wait_until="domcontentloaded")
    # Scroll as a reader does, a screen at a time, to the end; then wait for the charts.
    while page.evaluate("() => innerHeight + scrollY < document.documentElement.scrollHeight - 2"):
        page.mouse.wheel(0, 700)
        page.wait_for_timeout(150)
    page.wait_for_function(ALL_DRAWN, timeout=180_000, polling=50)
    drawn = page.evaluate("() => performance.now()")
    paints = {
        e["name"]: e["startTime"]
        for e in page.evaluate(
            "() => performance.getEntriesByType('paint').map(e => ({name: e.name, startTime: e.startTime}))"
        )
    }
    charts = page.locator(".sym-chart").count()
    page.wait_for_load_state("networkidle")
    context.close()
    return {
        "first paint": paints.get("first-paint", float("nan")),
        "first contentful paint": paints.get("first-contentful-paint", float("nan")),
        "all charts drawn": drawn,
        "charts": charts,
        "bytes": sum(fetched.values()),
        "index fetched": any("search_index" in u for u in fetched),
    }


def heaviest(browser, base: str, site: Path) -> str:
    weights = {rel: run(browser, base + rel, 1, baseline=False)["bytes"] for rel in pages(site)}
    for rel, size in sorted(weights.items(), key=lambda kv: -kv[1])[:3]:
        print(f"  {rel or 'index'}: {size / 1e6:.2f} MB")
    return max(weights, key=weights.__getitem__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=Path("site"))
    parser.add_argument("--page", default=None, help="site path, e.g. algorithm/")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--throttle", type=float, default=4.0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with served(args.site.resolve()) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        if args.page is None:
            print("page weights (bytes fetched once every chart has drawn, unthrottled):")
            args.page = heaviest(browser, base, args.site)
        url = base + args.page
        print(f"page: /{args.page}  CPU throttle: {args.throttle:g}x  runs: {args.repeat} each")
        results: dict[str, list[dict[str, float]]] = {"baseline": [], "change": []}
        run(browser, url, args.throttle, baseline=False)  # warm the server and the OS cache
        for _ in range(args.repeat):
            for variant in ("baseline", "change"):
                results[variant].append(run(browser, url, args.throttle, variant == "baseline"))
        browser.close()
    print(f"{'':24}{'baseline':>12}{'change':>12}{'ratio':>8}")
    for metric in ("first paint", "first contentful paint", "all charts drawn", "bytes"):
        b = statistics.median(r[metric] for r in results["baseline"])
        c = statistics.median(r[metric] for r in results["change"])
        unit = "ms" if metric != "bytes" else ""
        print(f"{metric:24}{b:>10.0f}{unit:>2}{c:>10.0f}{unit:>2}{c / b:>8.2f}")
    print(
        "charts:", results["change"][0]["charts"],
        "| index fetched on load: baseline",
        all(r["index fetched"] for r in results["baseline"]),
        "change", any(r["index fetched"] for r in results["change"]),
    )


if __name__ == "__main__":
    main()
