"""Page metadata for readers' tools: descriptions, link cards, and scholarly citation tags.

- A description per page: its first paragraph of prose, as plain text, cut at a word
  (Material writes it as `<meta name="description">` from `page.meta`).
- OpenGraph and Twitter cards: title, description, URL, and an image made by the build
  from the page's first figure (its static SVG rasterised to PNG by vl-convert), or the
  title page's hero figure on a page without one.
- Highwire `citation_*` tags (read by Google Scholar and Zotero): the essay's title,
  authors and date from CITATION.cff, its URL and the URL of its PDF.

Card images are cached under `.cache/cards/`, keyed on the SVG's bytes.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from pathlib import Path

_P = re.compile(r"<p\b[^>]*>(.*?)</p>", re.S)
_TAG = re.compile(r"<[^>]+>")
_SKIP = ("sym-byline", "sym-figure-title", "sym-methods-missing")
DESCRIPTION_CHARS = 200
CARD_FOLDER = "assets/cards"


def description(content: str) -> str:
    """The first paragraph of prose in a page's HTML, plain, at most about 200 characters."""
    for m in _P.finditer(content):
        if any(cls in m.group(0)[:80] for cls in _SKIP):
            continue
        text = " ".join(html.unescape(_TAG.sub("", m.group(1))).split())
        if len(text) < 40:
            continue
        if len(text) > DESCRIPTION_CHARS:
            text = text[:DESCRIPTION_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"
        return text
    return ""


def card_png(svg: Path, cache: Path) -> Path:
    """The figure's SVG as a PNG (2x), cached on its bytes."""
    data = svg.read_bytes()
    target = cache / "cards" / f"{hashlib.sha256(data).hexdigest()[:20]}.png"
    if not target.exists():
        import vl_convert

        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(vl_convert.svg_to_png(data.decode("utf-8"), scale=2))
        tmp.replace(target)
    return target


@dataclass
class Card:
    """What one page's head says about it."""

    title: str
    description: str
    url: str
    image: str | None = None


@dataclass
class Citation:
    """The essay, as its citation tags give it (CITATION.cff, the site URL)."""

    title: str
    authors: tuple[str, ...]
    date: str
    """YYYY/MM/DD, as Highwire wants it."""
    url: str
    pdf_url: str | None = None
    version: str = ""
    keywords: tuple[str, ...] = field(default_factory=tuple)


def head_tags(card: Card, citation: Citation | None, site_name: str) -> str:
    """The meta tags for one page's head."""
    e = lambda text: html.escape(str(text), quote=True)  # noqa: E731
    tags = [
        ("property", "og:type", "article"),
        ("property", "og:site_name", site_name),
        ("property", "og:title", card.title),
        ("property", "og:description", card.description),
        ("property", "og:url", card.url),
        ("name", "twitter:card", "summary_large_image" if card.image else "summary"),
        ("name", "twitter:title", card.title),
        ("name", "twitter:description", card.description),
    ]
    if card.image:
        tags += [("property", "og:image", card.image), ("name", "twitter:image", card.image)]
    if citation is not None:
        tags.append(("name", "citation_title", citation.title))
        tags += [("name", "citation_author", a) for a in citation.authors]
        tags += [
            ("name", "citation_publication_date", citation.date),
            ("name", "citation_online_date", citation.date),
            ("name", "citation_fulltext_html_url", citation.url),
            ("name", "citation_abstract_html_url", citation.url),
        ]
        if citation.pdf_url:
            tags.append(("name", "citation_pdf_url", citation.pdf_url))
        if citation.version:
            tags.append(("name", "citation_technical_report_number", f"version {citation.version}"))
        tags += [("name", "citation_keywords", k) for k in citation.keywords]
    return "\n".join(f'<meta {kind}="{e(name)}" content="{e(value)}">' for kind, name, value in tags)
