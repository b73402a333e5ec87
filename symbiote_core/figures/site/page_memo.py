"""Page HTML from the previous build of this process, reused when nothing it came from
changed.

A prose edit under `mkdocs serve` rebuilds the whole site, and MkDocs converts every
page's Markdown again: with figures, values and claims expanded, an essay page's
Markdown is several times its source, and the generated appendix pages grow with the
number of figures. `PageMemo` wraps `Page.render`: when a page's final Markdown (after
every `on_page_markdown` hook) and everything else the conversion reads are what they
were in an earlier build of this process, the page gets that build's HTML, table of
contents, title and anchors, and the messages its conversion logged are logged again
(so a broken link still warns, and still fails `--strict`, on every build).

What a conversion reads, all in the key: the Markdown text; the page's source path,
URL and output path; the Markdown extensions and their options; link validation and
URL settings; and every file of the site with its URL (links are resolved against
them). The extensions this essay uses read nothing else (no file includes); a site
whose extensions do (`pymdownx.snippets`) must not use the memo, and `PageMemo`
refuses to (`READS_FILES`); `SYMBIOTE_PAGE_MEMO=off` turns it off.

Only pages that rendered without raising are kept, and only those rendered or reused
by the latest build (`end_build`), so memory holds one site's pages.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import get_toc

from symbiote_core.figures.engine.keys import feed
from symbiote_core.figures.site.notebook_cache import toc_to_tokens

READS_FILES = ("pymdownx.snippets", "markdown_include", "mdx_include")
"""Extensions whose output depends on files the key does not cover."""
SWITCH = "SYMBIOTE_PAGE_MEMO"
_LOGGER = "mkdocs"
"""Messages logged under it while a page converts are kept and replayed."""


@dataclass(frozen=True)
class RenderedPage:
    content: str
    toc: list[dict[str, Any]]
    title: str | None
    anchors: frozenset[str]
    links: dict[str, dict[str, str]] | None
    """Links to anchors in other pages: target's source path -> {anchor: link}."""
    records: tuple[logging.LogRecord, ...]


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class PageMemo:
    """Converted pages by what they were converted from; one per serving process."""

    pages: dict[str, RenderedPage] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    """Keys the current build rendered or reused (`end_build` keeps only those)."""
    hits: int = 0
    misses: int = 0

    @staticmethod
    def usable(config: MkDocsConfig) -> bool:
        """False for a site whose extensions read files, or with `SYMBIOTE_PAGE_MEMO=off`
        (every page converted on every build: to time the memo, or to rule it out)."""
        if os.environ.get(SWITCH, "on") == "off":
            return False
        names = [_extension_name(e, module=True) for e in config.markdown_extensions]
        return not any(name.startswith(READS_FILES) for name in names)

    def site_key(self, config: MkDocsConfig, files: Files) -> str:
        """What every page's conversion shares: extensions, settings, the site's files."""
        h = hashlib.sha256()
        parts = [
            repr([_extension_name(e) for e in config.markdown_extensions]),
            repr(sorted((str(k), repr(v)) for k, v in (config.mdx_configs or {}).items())),
            repr(config.validation),
            repr((config.use_directory_urls, config.site_url, config.docs_dir)),
            repr(sorted((f.src_uri, f.dest_uri, f.url) for f in files)),
        ]
        feed(h, *(part.encode() for part in parts))
        return h.hexdigest()

    def wrap(
        self, page: Page, render: Callable[[MkDocsConfig, Files], None], site_key: str
    ) -> Callable[[MkDocsConfig, Files], None]:
        def memo_render(config: MkDocsConfig, files: Files) -> None:
            key = _page_key(page, site_key)
            hit = self.pages.get(key)
            if hit is not None:
                self.hits += 1
                self.used.add(key)
                _restore(page, hit, files)
                return
            self.misses += 1
            capture = _Capture()
            logger = logging.getLogger(_LOGGER)
            logger.addHandler(capture)
            try:
                render(config, files)
            finally:
                logger.removeHandler(capture)
            self.pages[key] = _snapshot(page, tuple(capture.records))
            self.used.add(key)

        return memo_render

    def end_build(self) -> None:
        """Keep only the pages the latest build rendered or reused."""
        self.pages = {k: v for k, v in self.pages.items() if k in self.used}
        self.used = set()


def _extension_name(extension: Any, module: bool = False) -> str:
    """An extension as MkDocs lists it: its name, or for an instance (configured in code,
    not through `mdx_configs`, so not in the key) its class or module."""
    if isinstance(extension, str):
        return extension
    return type(extension).__module__ if module else type(extension).__qualname__


def _page_key(page: Page, site_key: str) -> str:
    h = hashlib.sha256()
    file = page.file
    parts = (site_key, file.src_uri, file.dest_uri, file.url, page.markdown or "")
    feed(h, *(part.encode() for part in parts))
    return h.hexdigest()


def _snapshot(page: Page, records: tuple[logging.LogRecord, ...]) -> RenderedPage:
    links = getattr(page, "links_to_anchors", None)
    return RenderedPage(
        content=page.content or "",
        toc=toc_to_tokens(page.toc),
        title=getattr(page, "_title_from_render", None),
        anchors=frozenset(page.present_anchor_ids or ()),
        links=None
        if links is None
        else {target.src_uri: dict(anchors) for target, anchors in links.items()},
        records=records,
    )


def _restore(page: Page, hit: RenderedPage, files: Files) -> None:
    page.content = hit.content
    page.toc = get_toc(hit.toc)
    page._title_from_render = hit.title
    page.present_anchor_ids = set(hit.anchors)
    if hit.links is not None:
        page.links_to_anchors = {
            target: dict(anchors)
            for uri, anchors in hit.links.items()
            if (target := files.get_file_from_path(uri)) is not None
        }
    for record in hit.records:
        logging.getLogger(record.name).handle(record)
