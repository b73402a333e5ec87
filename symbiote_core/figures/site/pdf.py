"""The whole essay as one PDF, printed from the built site by the test browser.

    python -m symbiote_core.figures.site.pdf [SITE]    # default: site/

`make build` runs it after `mkdocs build`. Each page of the essay (the nav section named
by `extra.publication.byline_section`, in order) and the references are printed by
headless Chromium under the site's print stylesheet (print.css: every figure as the
static image the build made of it, light, kept whole with its caption), from the site
served on 127.0.0.1 with every other address blocked; the pages' PDFs are joined with
pypdf into `SITE/symbiotic-networks.pdf`, which the title page links to.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import io
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

from symbiote_core.figures.site.publication import PDF_FILE, Meta

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
EXTRA_PAGES = ("bibliography.md",)
"""Printed after the essay's own pages: the references its citations point to."""


def essay_pages(config_file: Path) -> list[str]:
    """Source paths of the essay's pages in reading order, then `EXTRA_PAGES`."""
    from mkdocs.utils.yaml import yaml_load

    config = yaml_load(config_file.read_text(encoding="utf-8"))
    section = ((config.get("extra") or {}).get("publication") or {}).get(
        "byline_section", "Essay"
    )
    pages: list[str] = []
    for item in config.get("nav", []):
        if isinstance(item, dict) and section in item:
            pages += [p if isinstance(p, str) else next(iter(p.values())) for p in item[section]]
    return pages + list(EXTRA_PAGES)


def page_path(src: str) -> str:
    """'algorithm.md' -> 'algorithm/', 'index.md' -> ''."""
    stem = src.removesuffix(".md")
    return "" if stem == "index" else stem.removesuffix("/index") + "/"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def print_essay(site: Path, pages: list[str], out: Path | None = None,
                title: str = "", authors: tuple[str, ...] = ()) -> Path:
    """Print `pages` (source paths) of the built `site` into one PDF; returns its path."""
    from playwright.sync_api import sync_playwright
    from pypdf import PdfWriter

    out = out or site / PDF_FILE
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    writer = PdfWriter()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
            context = browser.new_context(color_scheme="light")
            context.route("**/*", lambda r: r.continue_()
                          if urlparse(r.request.url).hostname == "127.0.0.1" else r.abort())
            for src in pages:
                if not (site / page_path(src) / "index.html").is_file():
                    raise FileNotFoundError(f"{src}: no page {page_path(src)} in {site}")
                page = context.new_page()
                page.emulate_media(media="print")
                page.goto(base + page_path(src), wait_until="load")
                # Print shows each figure's static image (lazy on screen): load each, eagerly
                # (a lazy image below the fold never loads in a page nobody scrolls), and
                # wait until every one is in.
                page.evaluate("document.querySelectorAll('img[data-print-src]')"
                              ".forEach(i => { i.loading = 'eager'; i.src = i.dataset.printSrc; })")
                page.wait_for_function(
                    "() => [...document.querySelectorAll('img.sym-print-figure')].every("
                    "i => i.complete && i.naturalWidth > 0)",
                    timeout=60_000,
                )
                pdf = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
                writer.append(io.BytesIO(pdf))
                page.close()
            browser.close()
    finally:
        server.shutdown()
    writer.add_metadata({"/Title": title, "/Author": ", ".join(authors)})
    tmp = out.with_suffix(".tmp")
    with tmp.open("wb") as f:
        writer.write(f)
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("site", nargs="?", default="site", type=Path)
    parser.add_argument("--config", default="mkdocs.yml", type=Path)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    pages = essay_pages(args.config)
    cff = args.config.resolve().parent / "CITATION.cff"
    meta = Meta.load(cff) if cff.is_file() else None
    out = print_essay(args.site.resolve(), pages, title=meta.title if meta else "",
                      authors=meta.authors if meta else ())
    print(f"printed {len(pages)} pages to {out} ({out.stat().st_size / 1e6:.1f} MB) "
          f"in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
