"""The real essay in a real browser (Debian chromium), with the network cut to loopback.

One sweep per colour scheme and width loads every page once and makes every check on
that load (`check_page`): charts render offline with no console error and no request
leaving 127.0.0.1; the page's weight before its charts open (light, desktop); axe-core
finds nothing serious (desktop); chart text is legible (both widths); legend keys follow
the theme (desktop); on a phone (a mobile, touch context) every chart shows whole in its
column, unscaled, uncut and drawn once, and no page scrolls sideways. Then single-page
checks of what a reader does: flip the theme, follow a cross-reference or a citation,
tap on a phone, drive the explorable figure, whose in-page host must agree with
PyTorch. With SYMBIOTE_SCREENSHOTS=1, each desktop page is also saved to test-artifacts/.
(A script injected into figure text never running: site/test_browser_injection.py.)
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch
from support.browser import Session, served, site_pages, wait_for_charts
from support.project import ARTIFACTS

from figures_src.steering_explorable import steered_change
from symbiote_core.figures.authoring.palette import swaps

pytestmark = pytest.mark.browser

DESKTOP, PHONE = 1280, 390
SCREENSHOTS = os.environ.get("SYMBIOTE_SCREENSHOTS") == "1"
"""Save each desktop page to test-artifacts/ (a picture for a person, not a check: 15 s a
sweep, so only when asked; `shared/tools/look.py` takes the reader's views)."""
SWEEPS = [(scheme, width) for width in (DESKTOP, PHONE) for scheme in ("light", "dark")]
"""One browser context each; every page is loaded once in each."""


@pytest.fixture(scope="module")
def site_url(built_site: Path) -> Iterator[str]:
    with served(built_site) as url:
        yield url


# -- page weight, accessibility, chart legibility: what each page load checks ----------

PAGE_BUDGET_BYTES = 1_500_000
"""What a page fetches on load before its charts are opened (uncompressed bytes).
Opening a chart (scrolling near it) fetches the Vega runtime and that chart's spec:
those are the charts' own cost, counted apart."""


def _opens_a_chart(url: str) -> bool:
    return "vega-bundle" in url or ("/figures/" in url and url.endswith("/spec.json"))


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


@dataclass
class Findings:
    """What one sweep found, page by page."""

    charts: int = 0
    heavy: dict[str, int] = field(default_factory=dict)
    axe: dict[str, list[str]] = field(default_factory=dict)
    text_seen: int = 0
    small: list[str] = field(default_factory=list)
    faint: list[str] = field(default_factory=list)
    keys_seen: int = 0
    wrong_keys: list[str] = field(default_factory=list)
    faint_keys: list[str] = field(default_factory=list)
    fitted: int = 0
    unfit: list[str] = field(default_factory=list)


_FIGURE_FIT = """() => [...document.querySelectorAll('.sym-chart')].map(el => {
  const svg = el.querySelector('svg.marks');
  const fig = el.closest('figure');
  return {figure: fig ? fig.id : '(notebook chart)', box: el.clientWidth, scroll: el.scrollWidth,
          svg: svg ? svg.getBoundingClientRect().width : -1,
          natural: svg ? parseFloat(svg.getAttribute('width')) : -1,
          draws: el._symDraws || 0, failed: el.classList.contains('sym-chart--failed'),
          cut: [...el.querySelectorAll('svg text')].map(t => t.textContent).filter(t => t.includes('\u2026'))};
})"""


def check_fit(page, rel: str, found: Findings) -> None:
    """At phone width every chart shows whole in its column: no sideways scrolling, never
    scaled down (its text keeps its size), no label cut short with an ellipsis, and drawn
    once (laid out to fit before drawing, not redrawn until it fits)."""
    for f in page.evaluate(_FIGURE_FIT):
        found.fitted += 1
        where = f"{rel}#{f['figure']}"
        if f["failed"]:
            found.unfit.append(f"{where}: not drawn")
        if f["scroll"] > f["box"] + 1:
            found.unfit.append(f"{where}: {f['scroll']} px wide in a {f['box']} px column")
        if f["natural"] > 0 and f["svg"] < f["natural"] - 1:
            found.unfit.append(f"{where}: scaled to {f['svg']:.0f} of {f['natural']:.0f} px")
        if f["draws"] != 1:
            found.unfit.append(f"{where}: drawn {f['draws']} times")
        if f["cut"]:
            found.unfit.append(f"{where}: labels cut short: {f['cut'][:3]}")
    overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
    if overflow > 1:
        found.unfit.append(f"{rel}: the page scrolls {overflow} px sideways")


def check_page(session: Session, url: str, rel: str, scheme: str, width: int,
               found: Findings) -> None:
    """Every check that applies to this scheme and width, on one load of the page."""
    weigh = (scheme, width) == ("light", DESKTOP)
    sizes: dict[str, int] = {}

    def count(response) -> None:
        try:
            sizes[response.url] = len(response.body())
        except Exception:  # redirects and aborted requests have no body
            sizes.setdefault(response.url, 0)

    page = session.open(url, before=(lambda p: p.on("response", count)) if weigh else None)
    if weigh:
        page.wait_for_load_state("networkidle")
        total = sum(n for u, n in sizes.items() if not _opens_a_chart(u))
        if total > PAGE_BUDGET_BYTES:
            found.heavy[rel] = total
        # What the weight saving rests on: nothing is fetched that the page does not use.
        # The search index (every page's text) loads when the reader opens search.
        assert not any("search_index" in u for u in sizes), f"{rel}: search index on load"
        uses_math = page.locator(".arithmatex").count() > 0
        assert any("katex.min.js" in u for u in sizes) == uses_math, rel
        # A figure shown as an image (the title page's hero) is the page's own; a preview
        # (an image with only a data-src until its popover opens) must not load.
        shown = set(page.eval_on_selector_all("img[src$='figure.svg']", "els => els.map(e => e.src)"))
        assert not any(u.endswith("figure.svg") and u not in shown for u in sizes), (
            f"{rel}: preview loaded eagerly"
        )
    charts = wait_for_charts(page)
    if weigh:
        # Opening the charts (scrolling to them) fetches Vega, only on pages with charts.
        page.wait_for_load_state("networkidle")
        assert any("vega-bundle" in u for u in sizes) == (charts > 0), rel
    page.wait_for_timeout(300)  # charts' SVG settled
    if charts:
        for t in page.evaluate(_CHART_TEXT):
            found.text_seen += 1
            if t["size"] < 11 - 0.01:
                found.small.append(f"{rel}#{t['figure']}: {t['text']!r} {t['size']:.1f}px")
            if t["contrast"] < 4.5:
                found.faint.append(f"{rel}#{t['figure']}: {t['text']!r} {t['contrast']:.2f}:1")
    if width == PHONE:
        check_fit(page, rel, found)
    if width == DESKTOP:
        found.charts += charts
        if charts:
            light_only = {k.lower() for k, v in swaps().items() if k.lower() != v.lower()}
            for key in page.evaluate(_LEGEND_KEYS):
                found.keys_seen += 1
                if scheme == "dark" and key["colour"] in light_only:
                    found.wrong_keys.append(f"{rel}#{key['figure']}: {key['colour']}")
                if key["contrast"] < 3:
                    found.faint_keys.append(
                        f"{rel}#{key['figure']}: {key['colour']} {key['contrast']:.2f}:1"
                    )
        for v in _axe_violations(page):
            targets = [", ".join(n["target"]) for n in v["nodes"][:3]]
            found.axe.setdefault(rel or "index", []).append(f"{v['id']} ({v['impact']}): {targets}")
        if SCREENSHOTS:
            name = rel.strip("/").replace("/", "_") or "index"
            page.screenshot(path=str(ARTIFACTS / f"{name}--{scheme}.png"), full_page=True)
    page.close()


@pytest.mark.parametrize(("scheme", "width"), SWEEPS, ids=[f"{s}-{w}" for s, w in SWEEPS])
def test_every_page_in_one_sweep(
    browser, built_site: Path, site_url: str, scheme: str, width: int
) -> None:
    """Each page loaded once: renders offline, weight, accessibility, legible chart text
    (at least 11 px, 4.5:1), legend keys in theme colours at 3:1 (WCAG 1.4.11), charts
    that fit a phone (`check_fit`)."""
    ARTIFACTS.mkdir(exist_ok=True)  # (screenshots)
    phone = {"is_mobile": True, "has_touch": True} if width == PHONE else {}
    session = Session(
        browser, viewport={"width": width, "height": 900}, color_scheme=scheme, **phone
    )
    found = Findings()
    pages = site_pages(built_site)
    assert {"", "superposition/", "claims/", "notebooks/superposition_lab/"} <= set(pages)
    for rel in pages:
        check_page(session, site_url + rel, rel, scheme, width, found)
    session.context.close()
    assert session.blocked == [], f"requests left loopback: {session.blocked}"
    assert session.errors == [], f"console errors: {session.errors}"
    assert found.heavy == {}, f"pages over {PAGE_BUDGET_BYTES:,} bytes: {found.heavy}"
    assert found.text_seen > 50, "no chart text found: did the charts render?"
    assert found.small == [], f"chart text below 11 px ({len(found.small)}): {found.small[:10]}"
    assert found.faint == [], f"chart text below 4.5:1 ({len(found.faint)}): {found.faint[:10]}"
    figures = len(list((built_site / "figures").iterdir()))
    if width == PHONE:
        assert found.fitted >= figures, "a figure was not found"
        assert found.unfit == [], "\n".join(found.unfit)
        return
    assert found.charts >= figures + 1, "every figure and the notebook chart should render"
    assert found.axe == {}, "axe-core, serious or critical:\n" + "\n".join(
        f"{page}: {item}" for page, items in found.axe.items() for item in items
    )
    assert found.keys_seen > 10, "no legend keys found: did the charts render?"
    assert found.wrong_keys == [], (
        f"legend keys left in light colours in dark mode: {found.wrong_keys[:10]}"
    )
    assert found.faint_keys == [], f"legend keys below 3:1: {found.faint_keys[:10]}"


# -- what a reader does on one page ------------------------------------------------------


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
    # The conclusion cites figures of other pages; its reference to section 3's figure
    # must land there.
    page = session.open(site_url + "conclusion/")
    ref = page.locator(".sym-ref", has=page.locator('a[href$="#fig-superposition_recovery"]'))
    link = ref.locator("a").first
    assert link.inner_text().startswith("Figure ")
    link.hover()
    preview = ref.locator(".sym-ref-preview img").first
    preview.wait_for(state="visible", timeout=5_000)
    box = preview.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 50
    link.click()
    page.wait_for_url("**/superposition/#fig-superposition_recovery")
    assert page.locator("#fig-superposition_recovery").count() == 1
    wait_for_charts(page)
    assert session.blocked == [] and session.errors == []
    session.context.close()


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


def test_search_index_loads_when_the_reader_opens_search(browser, site_url: str) -> None:
    """No page fetches the search index on load; opening search does, and search works."""
    session = Session(browser, viewport={"width": 1280, "height": 900})
    page = session.context.new_page()
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url))
    page.goto(site_url + "superposition/", wait_until="load")
    page.wait_for_load_state("networkidle")
    assert not any("search_index" in u for u in fetched), "fetched before search was opened"
    with page.expect_response(lambda r: "search/search_index.json" in r.url) as index:
        page.locator(".md-search__input").click()  # the search field, as on a desktop
    assert index.value.ok
    page.locator("input[data-md-component='search-query']").fill("superposition")
    # The index (about 400 kB) is built in a web worker before the first result shows:
    # with the other test process's browser and build on the same 2 cores this once took
    # over 10 s, so the wait is Playwright's default (30 s); it checks that search works.
    page.locator(".md-search-result__item").first.wait_for()
    assert session.blocked == [] and session.errors == []
    session.context.close()


def test_a_number_says_what_it_is_and_links_to_its_figure(browser, site_url: str) -> None:
    """A quoted number's popover: what it is in words (the value's description), its
    seeds, and a link to the figure it comes from, which a tap or click follows."""
    session = Session(browser, viewport={"width": 1280, "height": 900})
    page = session.open(site_url + "algorithm/")
    measured = page.locator(".sym-value").filter(has=page.locator(".sym-tip", has_text=" seeds ("))
    number = measured.first.locator(".sym-value-number")
    number.scroll_into_view_if_needed()
    number.click()
    tip = page.locator(".sym-value.sym-tip-open .sym-tip")
    tip.wait_for(state="visible", timeout=5_000)
    text = tip.inner_text()
    what, _, where = text.partition(". From Figure ")
    assert where and ", mean of " in what, text
    assert "_" not in what and "." not in what.split(", mean of ")[0], f"not in words: {text}"
    link = tip.locator("a")
    href = link.get_attribute("href") or ""
    assert "#fig-" in href, href
    link.click()
    page.wait_for_url("**#fig-*")
    assert page.locator(f"#{page.url.split('#', 1)[1]}").count() == 1
    assert session.errors == []
    session.context.close()


def test_hover_preview_image_loads_when_opened(browser, site_url: str) -> None:
    session = Session(browser, viewport={"width": 1280, "height": 900})
    page = session.open(site_url + "conclusion/")
    ref = page.locator(".sym-ref").first
    img = ref.locator(".sym-ref-preview img")
    assert img.get_attribute("src") is None and img.get_attribute("data-src")
    ref.locator("a").first.hover()
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


# -- the explorable figure: the in-page host against PyTorch ---------------------------

EXPLORABLE = "#fig-steering_explorable"


def _reference(data: dict, kind: str, target: int, dose: float) -> list[float]:
    W = torch.tensor(data["host"]["W"], dtype=torch.float64)
    b = torch.tensor(data["host"]["b"], dtype=torch.float64)
    x = torch.tensor(data["inputs"], dtype=torch.float64)
    d = torch.tensor(data["directions"][kind][target], dtype=torch.float64)
    return steered_change(W, b, x, d, dose).tolist()


def _open(browser, site_url: str):
    session = Session(browser, viewport={"width": 1280, "height": 900})
    page = session.open(site_url + "steering/")
    page.locator(EXPLORABLE).scroll_into_view_if_needed()
    page.wait_for_selector(f"{EXPLORABLE} .sym-explorable-controls select", timeout=20_000)
    return session, page


def test_in_page_host_matches_pytorch(browser, built_site: Path, site_url: str) -> None:
    data = json.loads((built_site / "figures" / "steering_explorable" / "data.json").read_text())
    session, page = _open(browser, site_url)
    n = len(data["host"]["b"])
    cases = [
        {"kind": kind, "target": target, "dose": dose}
        for kind in data["directions"]
        for target in (0, n // 2, n - 1)
        for dose in (0.0, 0.35, 2.5)
    ]
    computed = page.evaluate(
        """([host, inputs, directions, cases]) => cases.map(c =>
               window.symToyHost.steeredChange(host, inputs, directions[c.kind][c.target], c.dose))""",
        [data["host"], data["inputs"], data["directions"], cases],
    )
    worst = max(
        abs(a - b)
        for case, row in zip(cases, computed, strict=True)
        for a, b in zip(
            row, _reference(data, case["kind"], case["target"], case["dose"]), strict=True
        )
    )
    assert worst < 1e-5, f"in-page host differs from PyTorch by {worst:g}"
    assert session.errors == []


def test_keyboard_moves_the_chart(browser, built_site: Path, site_url: str) -> None:
    data = json.loads((built_site / "figures" / "steering_explorable" / "data.json").read_text())
    session, page = _open(browser, site_url)
    controls = page.locator(f"{EXPLORABLE} .sym-explorable-controls")
    readout = controls.locator("output.sym-explorable-readout")
    before = readout.text_content()
    target, dose = (
        controls.locator("input[type=range]").nth(0),
        controls.locator("input[type=range]").nth(1),
    )
    target.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    dose.focus()
    page.keyboard.press("ArrowRight")
    controls.locator("select").select_option("best neuron")
    assert readout.text_content() != before
    state = page.evaluate(
        f"""() => {{
            const box = document.querySelector('{EXPLORABLE} .sym-explorable-controls');
            const chart = document.querySelector('{EXPLORABLE} .sym-chart');
            return {{state: box._state, shown: chart._symView.data('outputs').map(r => r.change)}};
        }}"""
    )
    assert state["state"]["kind"] == "best neuron" and state["state"]["target"] == 3
    expected = _reference(data, "best neuron", 3, state["state"]["dose"])
    assert max(abs(a - b) for a, b in zip(state["shown"], expected, strict=True)) < 1e-5
    assert session.errors == []
