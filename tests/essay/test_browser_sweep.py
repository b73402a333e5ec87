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
from support.mini import make_mini_project
from support.project import ARTIFACTS, run_mkdocs

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


# -- page weight, accessibility, chart legibility -------------------------------------

PAGE_BUDGET_BYTES = 1_500_000
"""What a page fetches on load before its charts are opened (uncompressed bytes).
Opening a chart (scrolling near it) fetches the Vega runtime and that chart's spec:
those are the charts' own cost, counted apart."""


def _opens_a_chart(url: str) -> bool:
    return "vega-bundle" in url or ("/figures/" in url and url.endswith("/spec.json"))


def test_every_page_fits_the_weight_budget(browser, built_site: Path, site_url: str) -> None:
    session = Session(browser, viewport={"width": 1280, "height": 900})
    heavy: dict[str, int] = {}
    for rel in site_pages(built_site):
        page = session.context.new_page()
        sizes: dict[str, int] = {}

        def count(response, sizes=sizes) -> None:
            try:
                sizes[response.url] = len(response.body())
            except Exception:  # redirects and aborted requests have no body
                sizes.setdefault(response.url, 0)

        page.on("response", count)
        page.goto(site_url + rel, wait_until="load")
        page.wait_for_load_state("networkidle")
        total = sum(n for u, n in sizes.items() if not _opens_a_chart(u))
        if total > PAGE_BUDGET_BYTES:
            heavy[rel] = total
        # What the weight saving rests on: nothing is fetched that the page does not use.
        uses_math = page.locator(".arithmatex").count() > 0
        assert any("katex.min.js" in u for u in sizes) == uses_math, rel
        assert not any(u.endswith("figure.svg") for u in sizes), f"{rel}: preview loaded eagerly"
        # Opening the charts (scrolling to them) fetches Vega, only on pages with charts.
        uses_charts = wait_for_charts(page) > 0
        page.wait_for_load_state("networkidle")
        assert any("vega-bundle" in u for u in sizes) == uses_charts, rel
        page.close()
    session.context.close()
    assert heavy == {}, f"pages over {PAGE_BUDGET_BYTES:,} bytes: {heavy}"


def test_charts_far_below_are_not_fetched_until_the_reader_nears_them(
    browser, site_url: str
) -> None:
    session = Session(browser, viewport={"width": 1280, "height": 600})
    page = session.context.new_page()
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url))
    page.goto(site_url + "algorithm/", wait_until="load")
    page.wait_for_load_state("networkidle")
    last = page.locator(".sym-chart").last
    src = last.get_attribute("data-spec-src")
    assert src and not any(u.endswith(src.lstrip("./")) for u in fetched), "opened too early"
    wait_for_charts(page)
    assert any(u.endswith(src.lstrip("./")) for u in fetched)
    session.context.close()


def test_hover_preview_image_loads_when_opened(browser, site_url: str) -> None:
    session = Session(browser, viewport={"width": 1280, "height": 900})
    page = session.open(site_url)
    img = page.locator(".sym-ref-preview img").first
    assert img.get_attribute("src") is None and img.get_attribute("data-src")
    page.locator(".sym-ref a").first.hover()
    img.wait_for(state="visible", timeout=5_000)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    session.context.close()


def test_citation_links_to_bibliography_with_preview(browser, site_url: str) -> None:
    session = Session(browser, viewport={"width": 1280, "height": 900})
    page = session.open(site_url + "superposition/")
    cite = page.locator(".sym-cite a").first
    cite.hover()
    preview = page.locator(".sym-cite-preview").first
    preview.wait_for(state="visible", timeout=5_000)
    assert "arxiv.org/abs/" in preview.inner_html() or "doi.org/" in preview.inner_html()
    box = preview.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 1280
    cite.click()
    page.wait_for_url("**/bibliography/#ref-*")
    target = page.url.split("#", 1)[1]
    assert page.locator(f"li#{target}").count() == 1
    assert session.blocked == [] and session.errors == []
    session.context.close()


AXE_SCRIPT = None


def _axe_violations(page) -> list[dict]:
    global AXE_SCRIPT
    if AXE_SCRIPT is None:
        import axe_playwright_python

        AXE_SCRIPT = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
    page.evaluate(AXE_SCRIPT)
    result = page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)"
    )
    return [v for v in result if v.get("impact") in ("serious", "critical")]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violation(
    browser, built_site: Path, site_url: str, scheme: str
) -> None:
    session = Session(browser, viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    found: dict[str, list[str]] = {}
    for rel in site_pages(built_site):
        page = session.open(site_url + rel)
        wait_for_charts(page)
        page.wait_for_timeout(300)  # charts' SVG settled
        for v in _axe_violations(page):
            targets = [", ".join(n["target"]) for n in v["nodes"][:3]]
            found.setdefault(rel or "index", []).append(f"{v['id']} ({v['impact']}): {targets}")
        page.close()
    session.context.close()
    assert found == {}, "axe-core, serious or critical:\n" + "\n".join(
        f"{page}: {item}" for page, items in found.items() for item in items
    )


_CHART_TEXT = """() => {
  function rgb(c) {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(',').map(Number);
    return p.length > 3 && p[3] === 0 ? null : p.slice(0, 3);
  }
  function lum(p) {
    const c = p.map(v => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  function background(el) {
    for (let n = el; n; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c) return c;
    }
    return [255, 255, 255];
  }
  const out = [];
  document.querySelectorAll('.sym-chart').forEach(chart => {
    const svg = chart.querySelector('svg');
    if (!svg) return;
    let bg = background(chart);
    const fill = svg.querySelector('.background');
    if (fill && rgb(getComputedStyle(fill).fill)) bg = rgb(getComputedStyle(fill).fill);
    // Filled shapes, in paint order: text drawn on one is read against its fill.
    const shapes = [...svg.querySelectorAll('path, rect, circle')].filter(e => {
      const s = getComputedStyle(e);
      return !e.classList.contains('background') && rgb(s.fill) &&
             parseFloat(s.fillOpacity) * parseFloat(s.opacity) > 0.5;
    });
    const all = [...svg.querySelectorAll('*')];
    chart.querySelectorAll('svg text').forEach(t => {
      if (!t.textContent.trim()) return;
      const m = t.getScreenCTM();
      const size = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
      const fg = rgb(getComputedStyle(t).fill) || [0, 0, 0];
      const r = t.getBoundingClientRect(), cx = r.x + r.width / 2, cy = r.y + r.height / 2;
      const order = all.indexOf(t);
      let under = bg;
      for (const e of shapes) {
        if (all.indexOf(e) > order) break;
        const b = e.getBoundingClientRect();
        if (b.width * b.height >= r.width * r.height * 0.5 &&
            b.left <= cx && cx <= b.right && b.top <= cy && cy <= b.bottom) {
          under = rgb(getComputedStyle(e).fill);
        }
      }
      const [hi, lo] = [lum(fg), lum(under)].sort((a, b) => b - a);
      out.push({figure: chart.closest('figure') ? chart.closest('figure').id : '?',
                text: t.textContent.slice(0, 30), size, contrast: (hi + 0.05) / (lo + 0.05)});
    });
  });
  return out;
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_chart_text_is_legible(
    browser, built_site: Path, site_url: str, scheme: str, width: int
) -> None:
    session = Session(browser, viewport={"width": width, "height": 900}, color_scheme=scheme)
    small, faint, seen = [], [], 0
    for rel in site_pages(built_site):
        page = session.open(site_url + rel)
        if not wait_for_charts(page):
            page.close()
            continue
        page.wait_for_timeout(300)
        for t in page.evaluate(_CHART_TEXT):
            seen += 1
            if t["size"] < 11 - 0.01:
                small.append(f"{rel}#{t['figure']}: {t['text']!r} {t['size']:.1f}px")
            if t["contrast"] < 4.5:
                faint.append(f"{rel}#{t['figure']}: {t['text']!r} {t['contrast']:.2f}:1")
        page.close()
    session.context.close()
    assert seen > 50, "no chart text found: did the charts render?"
    assert small == [], f"chart text below 11 px ({len(small)}): {small[:10]}"
    assert faint == [], f"chart text below 4.5:1 ({len(faint)}): {faint[:10]}"


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


# ------------------------------------------------------------ legends, layout, touch

_LEGEND_KEYS = """() => {
  function rgb(c) {
    const m = c && c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(',').map(Number);
    return p.length > 3 && p[3] === 0 ? null : p.slice(0, 3);
  }
  function hex(p) { return '#' + p.map(v => v.toString(16).padStart(2, '0')).join(''); }
  function lum(p) {
    const c = p.map(v => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }
  const out = [];
  document.querySelectorAll('.sym-chart').forEach(chart => {
    const svg = chart.querySelector('svg');
    if (!svg) return;
    let bg = [255, 255, 255];
    for (let n = chart; n; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c) { bg = c; break; }
    }
    const back = svg.querySelector('.background');
    if (back && rgb(getComputedStyle(back).fill)) bg = rgb(getComputedStyle(back).fill);
    svg.querySelectorAll('.role-legend-symbol path').forEach(sym => {
      const s = getComputedStyle(sym);
      // A key is drawn by its stroke, or by its fill when it has no visible stroke.
      const stroke = parseFloat(s.strokeWidth) > 0 ? rgb(s.stroke) : null;
      const colour = stroke || rgb(s.fill);
      if (!colour) return;
      const [hi, lo] = [lum(colour), lum(bg)].sort((a, b) => b - a);
      out.push({figure: chart.closest('figure') ? chart.closest('figure').id : '?',
                colour: hex(colour), contrast: (hi + 0.05) / (lo + 0.05)});
    });
  });
  return out;
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_legend_keys_follow_the_theme(browser, built_site: Path, site_url: str, scheme: str) -> None:
    """Legend colour keys are theme colours: in dark mode never a light-only palette
    colour (one that has a dark twin), and in both at 3:1 against the chart (WCAG 1.4.11)."""
    from symbiote_core.figures.authoring.palette import swaps

    light_only = {k.lower() for k, v in swaps().items() if k.lower() != v.lower()}
    session = Session(browser, viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    seen, wrong, faint = 0, [], []
    for rel in site_pages(built_site):
        page = session.open(site_url + rel)
        if not wait_for_charts(page):
            page.close()
            continue
        page.wait_for_timeout(300)
        for key in page.evaluate(_LEGEND_KEYS):
            seen += 1
            if scheme == "dark" and key["colour"] in light_only:
                wrong.append(f"{rel}#{key['figure']}: {key['colour']}")
            if key["contrast"] < 3:
                faint.append(f"{rel}#{key['figure']}: {key['colour']} {key['contrast']:.2f}:1")
        page.close()
    session.context.close()
    assert seen > 10, "no legend keys found: did the charts render?"
    assert wrong == [], f"legend keys left in light colours in dark mode: {wrong[:10]}"
    assert faint == [], f"legend keys below 3:1: {faint[:10]}"


def test_wide_screens_give_figures_room_beside_a_readable_measure(browser, site_url: str) -> None:
    session = Session(browser, viewport={"width": 1600, "height": 900})
    page = session.open(site_url + "superposition/")
    page.wait_for_timeout(300)
    sizes = page.evaluate("""() => {
      const fig = document.querySelector('.sym-figure').getBoundingClientRect();
      const p = document.querySelector('.md-content__inner > p').getBoundingClientRect();
      const toc = document.querySelector('.md-sidebar--secondary').getBoundingClientRect();
      const nav = document.querySelector('.md-sidebar--primary').getBoundingClientRect();
      return {fig: fig.width, left: fig.left, right: fig.right, prose: p.width,
              tocLeft: toc.left, navRight: nav.right};
    }""")
    session.context.close()
    assert 900 <= sizes["fig"] <= 1010, sizes  # breaks out of the text column...
    assert sizes["prose"] <= 690, sizes  # ...which keeps its measure
    assert sizes["navRight"] <= sizes["left"] and sizes["right"] <= sizes["tocLeft"], sizes


def test_hover_details_open_on_tap(browser, site_url: str) -> None:
    """On a touch screen a quoted number's source and a chart mark's tooltip open on tap."""
    session = Session(browser, viewport={"width": 390, "height": 844}, is_mobile=True,
                      has_touch=True)
    page = session.open(site_url + "superposition/")
    number = page.locator(".sym-value-number").first
    number.scroll_into_view_if_needed()
    tip = page.locator(".sym-tip").first
    assert not tip.is_visible()
    number.tap()
    assert tip.is_visible() and number.get_attribute("aria-expanded") == "true"
    box = tip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    page.locator("h1").first.tap()
    assert not tip.is_visible()

    chart = page.locator(".sym-chart").first
    chart.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => document.querySelector('.sym-chart').hasAttribute('data-rendered-scheme')",
        timeout=30_000,
    )
    x, y = page.evaluate("""() => {
      const r = document.querySelector('.sym-chart svg .mark-symbol path').getBoundingClientRect();
      return [r.x + r.width / 2, r.y + r.height / 2];
    }""")
    page.touchscreen.tap(x, y)
    page.wait_for_function(
        "() => { const t = document.querySelector('#vg-tooltip-element');"
        " return t && t.classList.contains('visible') && t.textContent.includes('mmcs'); }",
        timeout=5_000,
    )
    session.context.close()
    assert session.errors == []
