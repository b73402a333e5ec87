"""The essay as a publication: byline, citations, bibliography, "about" page, page weight.

Called from `site.py` (the MkDocs hooks). One source of truth for who, what and when:
`CITATION.cff` at the project root (title, authors, date released, licences, version);
the URL is MkDocs' `site_url` (set by the `SITE_URL` environment variable, see
mkdocs.yml), so a fork published elsewhere cites itself correctly.

- Citations `[@key]` are numbered across the essay and link to a generated
  bibliography page (see `citations.py`); an unknown key is a problem naming page and line.
- Pages of the nav section named by `extra.publication.byline_section` get a byline under
  their title: authors, date published, date last changed (from git), licence, "cite".
- A generated about page holds "cite this essay" (text and BibTeX, written by pybtex),
  the licences, and the updates and corrections list from git (see `history.py`).
- Page weight: every image loads lazily; hover-preview images get no `src` until the
  preview opens (site.js sets it), so a page does not fetch every preview up front.
"""

from __future__ import annotations

import html
import logging
import posixpath
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url
from pybtex.database import BibliographyData, Entry, Person

from symbiote_core.figures.site.citations import (
    BIBLIOGRAPHY_PAGE,
    Bibliography,
    CitationIndex,
    CitationProblem,
    CitationRenderer,
    bibliography_markdown,
    page_title,
)
from symbiote_core.figures.site.history import History, essay_history, history_markdown

log = logging.getLogger("mkdocs.plugins.symbiote")

ABOUT_PAGE = "about.md"
PDF_FILE = "symbiotic-networks.pdf"
"""The whole essay as one PDF (site/pdf.py prints it after the site is built)."""
BIB_FILE = "references.bib"
CFF_FILE = "CITATION.cff"
CHANGELOG_FILE = "CHANGELOG.md"
"""Updates and corrections, written by the authors; the about page shows it."""
_LICENCE_URLS = {
    "CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/",
    "MIT": "https://opensource.org/license/mit",
}
_H1 = re.compile(r"<h1\b[^>]*>.*?</h1>", re.S)
_IMG = re.compile(r"<img\b(?![^>]*\bloading=)")
_PREVIEW_IMG = re.compile(r'(<span class="sym-ref-preview"[^>]*>\s*<img\b[^>]*?)\ssrc="')
_INLINE_SPEC = re.compile(
    r'(<figure class="sym-figure"[^>]*\bdata-figure="(?P<name>[\w.-]+)"[^>]*>\s*'
    r'<div class="sym-chart"[^>]*?)\sdata-spec="[^"]*"'
)


@dataclass(frozen=True)
class Meta:
    """What CITATION.cff says about the essay."""

    title: str
    authors: tuple[str, ...]
    released: date
    licences: tuple[str, ...]
    version: str

    @classmethod
    def load(cls, path: Path) -> Meta:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        authors = tuple(
            a.get("name") or " ".join(filter(None, [a.get("given-names"), a.get("family-names")]))
            for a in data["authors"]
        )
        licences = data.get("license", [])
        released = data["date-released"]
        return cls(
            title=data["title"],
            authors=authors,
            released=released if isinstance(released, date) else date.fromisoformat(released),
            licences=tuple([licences] if isinstance(licences, str) else licences),
            version=str(data.get("version", "")),
        )


def _day(d: date) -> str:
    return f"{d.day} {d:%B %Y}"


@dataclass
class Publication:
    root: Path
    docs_dir: Path
    site_url: str
    byline_section: str = "Essay"
    repo_url: str | None = None
    meta: Meta | None = field(init=False)
    """None without a CITATION.cff (a test's small site): no byline, no about page."""
    bibliography: Bibliography = field(init=False)
    history: History = field(init=False)
    index: CitationIndex | None = None
    byline_pages: set[str] = field(default_factory=set)
    site_files: Files | None = None
    titles: dict[str, str] = field(default_factory=dict)
    problems: list[CitationProblem] = field(default_factory=list)

    def __post_init__(self) -> None:
        cff = self.root / CFF_FILE
        self.meta = Meta.load(cff) if cff.is_file() else None
        bib = self.docs_dir / BIB_FILE
        self.bibliography = Bibliography(bib, display=bib.relative_to(self.root).as_posix())
        for problem in self.bibliography.problems:
            log.warning(str(problem))
        self.problems.extend(self.bibliography.problems)
        self.history = essay_history(self.root)

    @classmethod
    def from_config(cls, root: Path, config: MkDocsConfig) -> Publication:
        extra = (config.extra or {}).get("publication", {}) or {}
        return cls(
            root=root,
            docs_dir=Path(config.docs_dir),
            site_url=config.site_url or "",
            byline_section=extra.get("byline_section", "Essay"),
            repo_url=config.repo_url or None,
        )

    # -- files and nav ---------------------------------------------------------------
    def files(self, config: MkDocsConfig) -> list[File]:
        # Their text is written in page_markdown, once every page has been scanned.
        files = []
        if self.bibliography.path.is_file():
            files.append(File.generated(config, BIBLIOGRAPHY_PAGE, content="# References\n"))
        if self.meta is not None:
            files.append(File.generated(config, ABOUT_PAGE, content="# About this essay\n"))
        return files

    def nav(self, nav: Navigation, files: Files) -> None:
        self.site_files = files
        pages = []
        for page in nav.pages:
            src = page.file.src_uri
            if not src.endswith(".md"):
                continue
            text = page.file.content_string
            self.titles[src] = page.title or page_title(text, src)
            pages.append((src, self.titles[src], text))
        self.index = CitationIndex.scan(self.bibliography, pages)
        for item in nav.items:
            if isinstance(item, Section) and item.title == self.byline_section:
                self.byline_pages |= {p.file.src_uri for p in _section_pages(item)}

    # -- pages -------------------------------------------------------------------------
    def page_markdown(self, markdown: str, page: Page, files: Files, shown: str) -> str:
        """Generated pages' text, citations replaced, byline under the title."""
        src = page.file.src_uri
        assert self.index is not None, "nav() runs before any page"
        url_to = lambda target: get_relative_url(target, page.file.url)  # noqa: E731
        page_url = lambda source: url_to(_site_path(files, source))  # noqa: E731
        if page.file.generated_by and src == BIBLIOGRAPHY_PAGE:
            markdown = bibliography_markdown(self.index, page_url, uncited=self.bibliography.keys)
        elif page.file.generated_by and src == ABOUT_PAGE:
            markdown = self.about_markdown(page_url)
        renderer = CitationRenderer(
            page=shown, index=self.index, bibliography_url=page_url(BIBLIOGRAPHY_PAGE)
        )
        markdown = renderer.render(markdown)
        for problem in renderer.problems:
            log.warning(str(problem))
        self.problems.extend(renderer.problems)
        return markdown

    def page_content(self, content: str, page: Page, files: Files) -> str:
        """The byline, under the page's title (in HTML, so Markdown line numbers, which
        error messages quote, stay those of the source file)."""
        src = page.file.src_uri
        if src not in self.byline_pages or self.meta is None:
            return content
        url_to = lambda target: get_relative_url(target, page.file.url)  # noqa: E731
        page_url = lambda source: url_to(_site_path(files, source))  # noqa: E731
        byline = self.byline_html(src, page_url)
        if page.canonical_url:  # print only: where a printed page came from
            byline += (
                f'<p class="sym-print-source">{html.escape(page.canonical_url)} · version '
                f"{html.escape(self.meta.version)}</p>"
            )
        if src == "index.md":  # the title page: version, identifier, the PDF
            byline += self.title_block_html(page_url, url_to)
        return _insert_after_title(content, byline)

    def title_block_html(self, page_url: Any, url_to: Any) -> str:
        """Version, the identifier to cite, and the PDF of the whole essay."""
        assert self.meta is not None
        about = page_url(ABOUT_PAGE)
        key = self.citation_key()
        return (
            '<p class="sym-titleblock">'
            f"Version {html.escape(self.meta.version)} · "
            f'Cite as <a href="{about}#cite-this-essay"><code>{html.escape(key)}</code></a>, '
            f'<a href="{html.escape(self.site_url)}">{html.escape(self.site_url)}</a> · '
            f'<a href="{url_to(PDF_FILE)}" download>The whole essay as PDF</a></p>'
        )

    def citation_key(self) -> str:
        assert self.meta is not None
        return "symbioticnetworks" + str(self.meta.released.year)

    def post_page(self, output: str, page: Page) -> str:
        """Lazy media: preview images and figure specs are fetched when needed, not on load."""
        output = _PREVIEW_IMG.sub(r'\1 data-src="', output)
        output = _IMG.sub('<img loading="lazy" decoding="async"', output)

        def spec_src(m: re.Match[str]) -> str:
            # The figure's spec is also a site file: fetch it when the chart nears view
            # instead of inlining it (hundreds of KB) in every page load.
            path = f"figures/{m['name']}/spec.json"
            if self.site_files is None or self.site_files.get_file_from_path(path) is None:
                return m.group(0)
            return f'{m.group(1)} data-spec-src="{get_relative_url(path, page.file.url)}"'

        return _INLINE_SPEC.sub(spec_src, output)

    # -- byline, citation, about --------------------------------------------------------
    def byline_html(self, src: str, page_url: Any) -> str:
        assert self.meta is not None
        about = page_url(ABOUT_PAGE)
        changed = self.history.last_change(f"essay/{src}")
        parts = [
            f"By {html.escape(', '.join(self.meta.authors))}",
            f'Published <time datetime="{self.meta.released.isoformat()}">'
            f"{_day(self.meta.released)}</time>",
        ]
        if changed and changed > self.meta.released:
            parts.append(
                f'<a href="{about}#updates-and-corrections">Updated '
                f'<time datetime="{changed.isoformat()}">{_day(changed)}</time></a>'
            )
        parts.append(f'<a href="{about}#cite-this-essay">Cite</a>')
        if self.meta.licences:
            parts.append(
                f'<a href="{about}#licence">{html.escape(_licence_name(self.meta.licences[0]))}</a>'
            )
        return f'<p class="sym-byline">{" · ".join(parts)}</p>'

    def bibtex(self) -> str:
        """The essay's own BibTeX entry, written by pybtex."""
        assert self.meta is not None
        year = str(self.meta.released.year)
        key = self.citation_key()
        entry = Entry(
            "misc",
            fields={
                "title": self.meta.title,
                "year": year,
                "howpublished": f"\\url{{{self.site_url}}}",
                "url": self.site_url,
                "note": f"Version {self.meta.version}, {self.meta.released.isoformat()}",
            },
            persons={"author": [Person(f"{{{a}}}") for a in self.meta.authors]},
        )
        return BibliographyData(entries={key: entry}).to_string("bibtex").strip()

    def citation_text(self) -> str:
        assert self.meta is not None
        return (
            f"{', '.join(self.meta.authors)} ({self.meta.released.year}). "
            f"*{self.meta.title}*. Version {self.meta.version}. <{self.site_url}>"
        )

    def about_markdown(self, page_url: Any) -> str:
        assert self.meta is not None
        licences = "".join(
            f"\n- [{_licence_name(lic)}]({_LICENCE_URLS.get(lic, '#')}): "
            + ("the essay's text and figures" if lic.startswith("CC") else "the code")
            for lic in self.meta.licences
        )
        changelog = self.root / CHANGELOG_FILE
        history = (
            _changelog_markdown(changelog.read_text(encoding="utf-8"))
            if changelog.is_file()
            else self.history_markdown()
        )
        return self._about(licences, history)

    def history_markdown(self) -> str:
        """Updates from git, where the project keeps no changelog of its own."""
        assert self.meta is not None
        return history_markdown(
            self.history,
            # Markdown links take source paths (MkDocs resolves them; about.md is at the root).
            page_url={
                src: posixpath.relpath(src, posixpath.dirname(ABOUT_PAGE) or ".")
                for src in self.titles
            },
            page_titles=self.titles,
            released=self.meta.released,
            repo_url=self.repo_url,
        )

    def _about(self, licences: str, history: str) -> str:
        assert self.meta is not None
        return "\n".join(
            [
                "# About this essay",
                "",
                f"*{self.meta.title}*, by {', '.join(self.meta.authors)}. "
                f"Published {_day(self.meta.released)}"
                + (
                    f", last changed {_day(self.history.updated)}"
                    if self.history.updated and self.history.updated > self.meta.released
                    else ""
                )
                + ". Every figure and number is recomputed from code when the site is built; "
                "see [Reproduce everything](reproduce.md).",
                "",
                "## Cite this essay",
                "",
                self.citation_text(),
                "",
                "```bibtex",
                self.bibtex(),
                "```",
                "",
                "The same metadata is in `CITATION.cff` at the root of the source repository.",
                "",
                "## Licence",
                "",
                "Reuse is welcome with attribution:\n" + licences,
                "",
                history,
            ]
        )


def _changelog_markdown(text: str) -> str:
    """The changelog under the about page's "Updates and corrections" heading: its own
    title dropped, its sections one level down."""
    lines = text.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    body = "\n".join("#" + line if line.startswith("## ") else line for line in lines)
    return "## Updates and corrections\n" + body + "\n"


def _licence_name(spdx: str) -> str:
    return {"CC-BY-4.0": "CC BY 4.0"}.get(spdx, spdx)


def _section_pages(section: Section) -> list[Page]:
    out: list[Page] = []
    for child in section.children:
        if isinstance(child, Section):
            out += _section_pages(child)
        elif isinstance(child, Page):
            out.append(child)
    return out


def _site_path(files: Files, source: str) -> str:
    file = files.get_file_from_path(source)
    return file.url if file is not None else source


def _insert_after_title(content: str, block: str) -> str:
    m = _H1.search(content)
    if m is None:
        return f"{block}\n{content}"
    return f"{content[: m.end()]}\n{block}\n{content[m.end() :]}"
