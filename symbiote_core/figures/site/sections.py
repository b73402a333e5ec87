"""Numbered sections: the essay's pages are its sections, numbered in reading order.

The pages of the nav section named by `extra.publication.byline_section` ("Essay") are
numbered 1, 2, ... in nav order, the title page (the site's home page) left out. A page's
number goes before its title (its H1, its nav entry, its browser title) and its H2
headings are numbered under it (3.1, 3.2, ...), in the page and in its table of
contents. Prose cites a section with `{{ section: algorithm.md }}` ("section 3", a
link; `| capital` gives "Section 3"), so references follow the numbering when pages
move, and a reference to a page that is not a numbered section is a problem.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page

_H1 = re.compile(r"(<h1\b[^>]*>)")
_H2 = re.compile(r"(<h2\b[^>]*>)")


@dataclass
class Sections:
    numbers: dict[str, int] = field(default_factory=dict)
    """Page source path -> its section number."""

    @classmethod
    def from_nav(cls, nav: Navigation, section_title: str) -> Sections:
        sections = cls()
        for item in nav.items:
            if not (isinstance(item, Section) and item.title == section_title):
                continue
            # The title page (the site's home) is not a section.
            pages = [p for p in _pages(item) if p.file.src_uri != "index.md"]
            for number, page in enumerate(pages, start=1):
                src = page.file.src_uri
                sections.numbers[src] = number
        return sections

    def label(self, src: str, fmt: str | None = None) -> str:
        """'section 3' (or 'Section 3' with fmt 'capital'); KeyError for an unnumbered page."""
        if fmt not in (None, "capital"):
            raise ValueError(f"unknown section format {fmt!r} (known: capital)")
        if src not in self.numbers:
            known = ", ".join(self.numbers) or "none"
            raise KeyError(f"{src!r} is not a numbered section (numbered: {known})")
        word = "Section" if fmt == "capital" else "section"
        return f"{word} {self.numbers[src]}"

    def number_page(self, content: str, page: Page) -> str:
        """The page's HTML with its H1 and H2 numbered, its title and TOC to match."""
        number = self.numbers.get(page.file.src_uri)
        if number is None:
            return content
        content = _H1.sub(
            lambda m: f'{m.group(1)}<span class="sym-secnum">{number}</span> ', content, count=1
        )
        counter = iter(range(1, 10_000))

        def h2(m: re.Match[str]) -> str:
            return f'{m.group(1)}<span class="sym-secnum">{number}.{next(counter)}</span> '

        content = _H2.sub(h2, content)
        title = page.title
        if title and not str(title).startswith(f"{number} "):
            page.title = f"{number} {title}"  # the nav entry and the browser's title
        for sub, item in enumerate(_toc_children(page), start=1):
            if not item.title.startswith(f"{number}.{sub} "):  # a reused TOC (page_memo)
                item.title = f"{number}.{sub} {item.title}"
        return content


def _toc_children(page: Page) -> list:
    """The H2 entries of a page's table of contents (under its H1 when it has one)."""
    items = list(page.toc or [])
    if len(items) == 1 and items[0].level == 1:
        return list(items[0].children)
    return [i for i in items if i.level == 2]


def _pages(section: Section) -> list[Page]:
    out: list[Page] = []
    for child in section.children:
        if isinstance(child, Section):
            out += _pages(child)
        elif isinstance(child, Page):
            out.append(child)
    return out


def section_link(label: str, href: str) -> str:
    return f'<a class="sym-section-ref" href="{html.escape(href)}">{html.escape(label)}</a>'
