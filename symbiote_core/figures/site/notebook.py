"""An Altair renderer for notebooks executed by the site build.

Altair's default renderer loads Vega from a CDN (blank offline). This one emits
the same element the figure directive emits, a `.sym-chart` carrying its spec,
which the site script renders with the vendored bundle. The build enables it
from an IPython startup file (found through IPYTHONDIR, which the kernels
inherit), so notebooks need no edits.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from symbiote_core.figures.engine import memo

RENDERER = "symbiote-site"

STARTUP_SOURCE = """\
# Written by the site build: render Altair charts as offline site elements.
from symbiote_core.figures.site.notebook import enable as _enable
_enable()
"""


_shown = 0  # charts drawn so far in this kernel: a notebook numbers its own figures


def chart_html(spec: dict[str, Any], number: int | None = None) -> str:
    """A numbered figure: the chart element, and a caption from `usermeta.caption`.

    Give a chart its caption with `chart.properties(usermeta={"caption": "..."})`; its
    `description` is the alt text.
    """
    data = html.escape(json.dumps(spec, separators=(",", ":")), quote=True)
    description = html.escape(str(spec.get("description") or spec.get("title") or "chart"))
    caption = html.escape(str((spec.get("usermeta") or {}).get("caption") or ""))
    label = f"Lab figure {number}." if number is not None else "Lab figure."
    return (
        '<figure class="sym-figure sym-figure--lab">'
        f'<div class="sym-chart" role="img" aria-label="{description}" data-spec="{data}"></div>'
        f"<figcaption><p><strong>{label}</strong> {caption}</p></figcaption></figure>"
    )


def _render(spec: dict[str, Any], **_: Any) -> dict[str, str]:
    global _shown
    _shown += 1
    return {"text/html": chart_html(spec, _shown)}


def enable() -> None:
    import altair as alt

    if RENDERER not in alt.renderers.names():
        alt.renderers.register(RENDERER, _render)
    alt.renderers.enable(RENDERER)


def write_ipython_dir(root: Path) -> Path:
    """Create an IPYTHONDIR whose startup file enables the renderer; returns it."""
    startup = root / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    target = startup / "00-symbiote-site.py"
    if not target.exists() or target.read_text() != STARTUP_SOURCE:
        target.write_text(STARTUP_SOURCE)
    return root


_CELL_ID = re.compile(r'id="cell-id=[^"]*"')


def stable_cell_ids(page_html: str) -> str:
    """A converted notebook page with its cells' ids numbered in order: nbformat gives
    every cell read from a jupytext file a random id, and nbconvert writes it into the
    page, so two conversions of one notebook would differ (the site is reproducible)."""
    count = iter(range(1, 1_000_000))
    return _CELL_ID.sub(lambda _: f'id="cell-id=cell-{next(count)}"', page_html)


_STYLE = re.compile(r'(<style type="text/css">)(.*?)(</style>)', re.S)
_CLASS_ATTR = re.compile(r'class="([^"]*)"')
_CLASS_IN_SELECTOR = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
_PSEUDO_LIST = re.compile(r":(?:not|is|where|has)\([^()]*\)")
"""Selector lists inside pseudo-classes: they need not match for the rule to be kept."""


def lean_notebook_page(page_html: str) -> str:
    """A converted notebook page (`stable_cell_ids`) with only the style rules that can
    match it: nbconvert inlines all of JupyterLab's CSS (about 570 kB, widgets, editors
    and menus included) into every page, most of the heaviest page's weight. A rule is
    kept when, in one of its selectors, every class (outside `:not()`, `:is()`,
    `:where()` and `:has()`) is a class
    some element of the page has; at-rules other than @media and @supports are kept."""
    page_html = stable_cell_ids(page_html)
    classes = {c for attr in _CLASS_ATTR.findall(page_html) for c in attr.split()}
    return _STYLE.sub(lambda m: m.group(1) + _prune_css(m.group(2), classes) + m.group(3),
                      page_html)


def _prune_css(css: str, classes: set[str]) -> str:
    kept = []
    for prelude, body in _css_blocks(css):
        if prelude.startswith(("@media", "@supports")):
            inner = _prune_css(body, classes)
            if inner:
                kept.append(f"{prelude}{{{inner}}}")
        elif prelude.startswith("@charset"):
            continue  # ignored in a <style> element (and glued to the next rule here)
        elif prelude.startswith("@"):
            kept.append(f"{prelude}{{{body}}}")
        else:
            selectors = [
                sel for sel in _selectors(prelude)
                if all(c in classes for c in _CLASS_IN_SELECTOR.findall(_PSEUDO_LIST.sub("", sel)))
            ]
            if selectors:
                kept.append(f"{','.join(selectors)}{{{body}}}")
    return "".join(kept)


def _selectors(prelude: str) -> list[str]:
    """A selector list split at its top-level commas (not those inside `:is(a, b)`)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(prelude):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            out.append(prelude[start:i])
            start = i + 1
    return [*out, prelude[start:]]


def _css_blocks(css: str) -> list[tuple[str, str]]:
    """The top-level (prelude, body) pairs of a stylesheet (body without its braces)."""
    out, i = [], 0
    while (start := css.find("{", i)) >= 0:
        depth, j = 1, start + 1
        while j < len(css) and depth:
            depth += {"{": 1, "}": -1}.get(css[j], 0)
            j += 1
        prelude = css[i:start].strip()
        if prelude.startswith("@charset"):  # `@charset "UTF-8";.x{...}`: the rule after it
            prelude = prelude.split(";", 1)[1].strip()
        out.append((prelude, css[start + 1 : j - 1]))
        i = j
    return out


def ipynb_text(source: str | Path) -> str:
    """A jupytext notebook source as `.ipynb` JSON (unexecuted), for readers to download.

    Memoised on the source's stat signature (`memo.py`): every rebuild asks again.
    """
    path = Path(source)
    stats = memo.Stats()
    cached = _IPYNB.get(path, stats)
    if cached is not None:
        return cached
    stats(path)  # before reading: see memo.Stats
    import jupytext
    import nbformat

    notebook = jupytext.read(path)
    for number, cell in enumerate(notebook.cells, 1):
        cell.id = f"cell-{number}"  # not nbformat's random ids: the site is reproducible
    text = nbformat.writes(notebook)
    _IPYNB.put(path, text, [path], stats)
    return text


_IPYNB: memo.Memo[str] = memo.Memo("lab notebooks as .ipynb")
