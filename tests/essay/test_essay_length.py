"""The essay's length (issue 24): the rendered words a reader meets on the essay pages,
front page to conclusion, stay within a budget the size of a long Distill article.

Counted: the article's own text, figure captions and the words of live values and
claims as they print. Not counted: what a reader must open or hover to see (details
boxes collapsed by default, such as provenance and data or a `??? note`; tooltips),
code, math (one word per formula), each page's byline, and navigation outside the
article.
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from support.project import ROOT

from symbiote_core.figures.site.pdf import EXTRA_PAGES, essay_pages, page_path

BUDGET = 12_000
"""Words, all essay pages together (issue 24: half the essay's length when it was filed)."""

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
         "source", "track", "wbr"}
_SKIP_TAGS = {"pre", "code", "script", "style", "nav", "svg", "template", "noscript"}
_SKIP_CLASSES = {"sym-tip", "headerlink", "md-source-file", "sym-byline", "sym-print-source"}
"""Tooltips, heading anchors, and each page's byline and print-only address (publication
metadata, the same on every page, not the article)."""
_MATH_CLASSES = {"arithmatex", "katex"}
_WORD = re.compile(r"\S*[A-Za-z0-9]\S*")


class _Words(HTMLParser):
    """The words of one page's `<article>`, less what is hidden until opened."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.in_article = 0  # depth inside <article>
        self.skip = 0  # depth inside a skipped subtree (0: counting)
        self.math = 0  # depth inside a formula, counted once
        self.words = 0

    def _skipped(self, tag: str, attrs: dict[str, str | None]) -> bool:
        classes = set((attrs.get("class") or "").split())
        return (
            tag in _SKIP_TAGS
            or (tag == "details" and "open" not in attrs)
            or attrs.get("role") == "tooltip"
            or attrs.get("aria-hidden") == "true"
            or "hidden" in attrs
            or bool(classes & _SKIP_CLASSES)
        )

    def handle_starttag(self, tag: str, attr_list: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            return
        attrs = dict(attr_list)
        if not self.in_article:
            self.in_article = int(tag == "article")
            return
        self.in_article += 1
        if self.skip:
            self.skip += 1
        elif self._skipped(tag, attrs):
            self.skip = 1
        elif self.math:
            self.math += 1
        elif set((attrs.get("class") or "").split()) & _MATH_CLASSES:
            self.math = 1
            self.words += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not self.in_article:
            return
        self.in_article -= 1
        if self.skip:
            self.skip -= 1
        elif self.math:
            self.math -= 1

    def handle_data(self, data: str) -> None:
        if self.in_article and not self.skip and not self.math:
            self.words += len(_WORD.findall(data))


def rendered_words(html: str) -> int:
    parser = _Words()
    parser.feed(html)
    return parser.words


def test_counter_skips_what_a_reader_does_not_see() -> None:
    page = (
        "<nav>Menu item</nav><article class='md-typeset'><h1>Two words</h1>"
        "<p>One <b>two</b> three, 0.93 <span class='arithmatex'>\\(a + b\\)</span>."
        "<br><span class='sym-tip' role='tooltip'>a hidden tip</span></p>"
        "<details class='note'><summary>Closed</summary><p>not read</p></details>"
        "<details open><summary>Open</summary><p>read</p></details>"
        "<pre><code>x = 1</code></pre><figure><figcaption>A caption.</figcaption></figure>"
        "</article><footer>Next page</footer>"
    )
    # Two words + One two three 0.93 + formula + Open read + A caption.
    assert rendered_words(page) == 2 + 4 + 1 + 2 + 2


@pytest.fixture(scope="module")
def site(request: pytest.FixtureRequest) -> Path:
    prebuilt = os.environ.get("SYMBIOTE_BUILT_SITE")
    return Path(prebuilt).resolve() if prebuilt else request.getfixturevalue("built_site")


def test_essay_pages_fit_the_word_budget(site: Path) -> None:
    pages = [p for p in essay_pages(ROOT / "mkdocs.yml") if p not in EXTRA_PAGES]
    assert pages[0] == "index.md" and pages[-1] == "conclusion.md", pages
    counts = {}
    for src in pages:
        html = (site / page_path(src) / "index.html").read_text(encoding="utf-8")
        counts[src] = rendered_words(html)
    total = sum(counts.values())
    report = "\n".join(f"{n:6d}  {src}" for src, n in counts.items()) + f"\n{total:6d}  total"
    print("\nRendered words per essay page:\n" + report)
    assert all(n > 0 for n in counts.values()), report
    assert total <= BUDGET, f"the essay is {total} words, over its budget of {BUDGET}:\n{report}"
