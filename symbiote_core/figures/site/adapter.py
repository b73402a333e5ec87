"""The MkDocs side of the essay build: figures, directives, claims page, offline assets.

`mkdocs_hooks.py` (the file named in mkdocs.yml) re-imports this module on every
build, so `mkdocs serve` picks up edits to it. One `EssaySite` lives for one build:

- on_config: IPYTHONDIR with the offline Altair renderer for notebooks; the notebook
  cache folder keyed on the project's source (mkdocs-jupyter keys on notebook bytes only).
- on_files: build stale figures (cached ones cost a hash), add their artefacts, the
  vendored Vega bundle and the generated claims page to the site.
- on_nav: number figures in reading order across the whole essay.
- on_pre_page: wrap every page's render so that an exception (a notebook cell that
  raises, above all) becomes an error box on that page and one error naming the file
  and line, never a build that stops (`mkdocs serve` would stop answering); notebook
  pages also go through our own atomic, checksummed cache (`notebook_cache.py`).
- on_page_markdown: replace directives; problems become warnings naming file and line
  (so `--strict` fails) and visible error boxes (so `mkdocs serve` keeps running).
- on_post_build / on_build_error / on_shutdown: `mkdocs build` writes into a fresh
  folder next to `site/` and swaps it in only when the build succeeded, under a build
  lock per checkout, so a failed build keeps the previous site and two builds at once
  take turns instead of deleting each other's files.

Every problem is printed once: where it is found. The final error only counts them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import html
import json
import logging
import os
import re
import shutil
import tempfile
import traceback
import uuid
from collections.abc import Callable, Iterator
from html import escape as escape_text  # `html` is also on_page_content's argument
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import get_toc
from mkdocs.utils import get_relative_url

from symbiote_core.figures.authoring.claimtext import describe_claim
from symbiote_core.figures.authoring.palette import palette_script
from symbiote_core.figures.engine.build import build
from symbiote_core.figures.engine.cache import META, OUT_FILES
from symbiote_core.figures.engine.ownership import claim_cache
from symbiote_core.figures.engine.plan import git_revision
from symbiote_core.figures.engine.registry import Engine, FigureError
from symbiote_core.figures.engine.releases import load_releases
from symbiote_core.figures.engine.settings import SettingsError
from symbiote_core.figures.site.claim_history import (
    STATUS_WORDS,
    ThresholdRecord,
    module_history,
    threshold_record,
    unsupported_why,
)
from symbiote_core.figures.site.claims_page import claims_page
from symbiote_core.figures.site.history import commit_time
from symbiote_core.figures.site.machine import (
    CLAIMS_JSON,
    MachinePages,
    PlainRenderer,
    claims_ledger,
)
from symbiote_core.figures.site.machine import dumps as ledger_json
from symbiote_core.figures.site.markup import (
    CLAIMS_PAGE,
    FigureView,
    MarkupProblem,
    PageRenderer,
    claim_places,
    figure_order,
    fill_deferred,
    markdown_literal,
)
from symbiote_core.figures.site.metadata import (
    CARD_FOLDER,
    Card,
    Citation,
    card_png,
    description,
    head_tags,
)
from symbiote_core.figures.site.methods_page import MethodsSource, methods_page
from symbiote_core.figures.site.notebook import (
    ipynb_text,
    lean_notebook_page,
    write_ipython_dir,
)
from symbiote_core.figures.site.notebook_cache import NotebookCache, toc_to_tokens
from symbiote_core.figures.site.notebook_directives import NotebookDirectives
from symbiote_core.figures.site.notebook_directives import fill as fill_notebook
from symbiote_core.figures.site.notebook_directives import prepare as prepare_notebook
from symbiote_core.figures.site.page_memo import PageMemo
from symbiote_core.figures.site.publication import PDF_FILE, Publication
from symbiote_core.figures.site.search import defer_search_index
from symbiote_core.figures.site.sections import Sections
from symbiote_core.figures.site.sourcetext import SourceIndex
from symbiote_core.figures.site.vendor import vega_bundle
from symbiote_core.figures.site.versions import VERSIONS_PAGE, versions_page

log = logging.getLogger("mkdocs.plugins.symbiote")

METHODS_PAGE = "methods.md"

NOTEBOOKS = "notebooks/"
NOTEBOOK_CACHE_ENV = "SYMBIOTE_NOTEBOOK_CACHE"
SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"
"""The reproducible-builds variable MkDocs reads for the build date."""
VEGA_BUNDLE = "assets/vendor/vega/vega-bundle.js"
PALETTE_SCRIPT = "assets/javascripts/palette.js"
_NOTEBOOK_IMPORTS = ("symbiote_core",)  # what lab notebooks may import
BUILD_LOCK = ".cache/build.lock"
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
_NONCE = uuid.uuid4().hex[:12]
"""Starts the tokens pages carry between Markdown and HTML. One per process, not per
build: a page's Markdown must come out the same on every rebuild for `PAGES` to reuse
its HTML; random, so no text an author writes can pose as a token."""
PAGES = PageMemo()
"""Converted pages, across the builds of one `mkdocs serve` (this module is re-imported,
and the memo dropped, whenever an engine file changes)."""


class EssaySite:
    def __init__(self, command: str | None, dirty: bool = False) -> None:
        self.command = command
        self.dirty = dirty
        self.views: dict[str, FigureView] = {}
        self.problems: list[MarkupProblem] = []
        self.root = Path.cwd()
        self.engine: Engine | None = None
        self.jupyter: Any = None
        self.notebooks: NotebookCache | None = None
        self.library_digest = ""
        self.lock: FileLock | None = None
        self.site_dir: Path | None = None
        """The real site folder when this build writes into a fresh one (`building`)."""
        self.building: Path | None = None
        self.finished = False
        self.token_prefix = f"sym-spec-{_NONCE}"
        self.pages_key: str | None = None
        self.deferred: dict[str, tuple[str, dict[str, str]]] = {}
        """Page source -> (page as shown in messages, its deferred fragments)."""
        self.publication: Publication | None = None
        """Citations, bibliography, byline, about page, lazy media (publication.py)."""
        self.sources = SourceIndex(self.root)
        """The project's source, read without importing it (methods, code settings)."""
        self.sections = Sections()
        """The essay's pages as numbered sections (sections.py)."""
        self._param_docs: dict[str, dict[str, str]] = {}
        """Figure -> param path -> its docstring, read from source when first quoted."""
        self.notebook_directives: dict[str, NotebookDirectives] = {}
        """Notebook page source -> its Markdown cells' directives (`notebook_directives.py`)."""
        self.failed_renders: set[str] = set()
        self._converted: tempfile.TemporaryDirectory[str] | None = None
        """Where notebooks with directives are written, tokens in place, for conversion."""
        self.machine: MachinePages | None = None
        """Each page as plain Markdown, for llms.txt (machine.py)."""

    # -- on_config ---------------------------------------------------------------
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        self.root = Path(config.config_file_path).resolve().parent
        try:
            self.engine = Engine(root=self.root)
            # A cache no figure worker can reach (memory://), or a folder of other files:
            # the build stops here with the reason, `mkdocs serve` included.
            claim_cache(self.engine)
        except (FigureError, SettingsError) as error:
            raise PluginError(str(error)) from None
        if SOURCE_DATE_EPOCH not in os.environ:
            # MkDocs dates the sitemap (and its gzip header) by the build day unless told
            # otherwise: the commit's time makes two builds of one commit byte-identical.
            stamp = commit_time(self.root)
            if stamp is not None:
                os.environ[SOURCE_DATE_EPOCH] = str(stamp)
        figures_dir = str(self.engine.figures_dir)
        if figures_dir not in config.watch:  # serve reloads on figure edits
            config.watch.append(figures_dir)
        self.sources = SourceIndex(self.root)
        self.publication = Publication.from_config(self.root, config)
        self.machine = MachinePages(config.site_name, config.site_description or "")
        cache = self.root / ".cache"
        os.environ["IPYTHONDIR"] = str(write_ipython_dir(cache / "ipython"))
        if self.command in ("build", "gh-deploy"):
            self._take_build_lock()
            if not self.dirty:
                self._build_into_fresh_folder(config)
        self.jupyter = config.plugins.get("mkdocs-jupyter")
        if self.jupyter is not None:
            # Our cache replaces the plugin's (see notebook_cache.py); it is keyed on the
            # library source too, because executed notebooks import the project.
            self.jupyter.config["cache"] = False
            # Not mkdocs-jupyter's folder: a build with its cache on (any build without
            # these hooks) deletes every entry there that it did not use itself.
            folder = Path(os.environ.get(NOTEBOOK_CACHE_ENV) or cache / "notebooks")
            self.notebooks = NotebookCache(folder)
            self.library_digest = source_digest(self.root)
        return config

    def _take_build_lock(self) -> None:
        path = self.root / BUILD_LOCK
        path.parent.mkdir(parents=True, exist_ok=True)
        self.lock = FileLock(path)
        try:
            self.lock.acquire(timeout=0)
        except Timeout:
            # info, not warning: waiting is no fault, and --strict fails on warnings.
            log.info("waiting for the other build of this checkout to finish (lock %s)", path)
            self.lock.acquire()

    def _build_into_fresh_folder(self, config: MkDocsConfig) -> None:
        """Point MkDocs at a new folder beside the site; `on_shutdown` swaps it in."""
        self.site_dir = Path(config.site_dir).resolve()
        self.building = self.site_dir.with_name(f".{self.site_dir.name}.building-{os.getpid()}")
        # Under the build lock no other build is running: these are killed builds' leftovers.
        for pattern in (".building-*", ".old-*"):
            for leftover in self.site_dir.parent.glob(f".{self.site_dir.name}{pattern}"):
                shutil.rmtree(leftover, ignore_errors=True)
        config.site_dir = str(self.building)

    # -- on_files ----------------------------------------------------------------
    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        assert self.engine is not None
        results = build(self.engine, on_event=_log_event)
        self.results = results
        for result in results:
            source = self.engine.relative(self.engine.module_path(result.name))
            view = FigureView(name=result.name, source=source)
            if result.status == "failed" or result.entry is None:
                view.error = result.error or "unknown error"
                log.warning("figure %r failed to build (%s):\n%s", result.name, source, view.error)
            else:
                entry = result.entry
                view.meta, view.spec = entry.meta, entry.spec
                self._param_docs.pop(result.name, None)  # its params may have changed
                # A local entry is copied from its files; one at a URL (a shared cache)
                # from the bytes that were verified when it was read.
                sources = entry.files() if entry.is_local else entry.payloads
                for label in (*OUT_FILES, META):  # the order of the download links
                    site_path = f"figures/{result.name}/{label}"
                    origin = sources[label]
                    if isinstance(origin, Path):
                        kind = LinkedFile if self.command == "serve" else File
                        file = kind.generated(config, site_path, abs_src_path=str(origin))
                    else:
                        file = File.generated(config, site_path, content=origin)
                    files.append(file)
                    view.files[label] = site_path
                self._add_feature_browser(result.name, entry.payloads, config, files, view)
                for claim in entry.claims:
                    if not claim.agrees:
                        log.warning(
                            "claim %s.%s: %s (%s)",
                            result.name,
                            claim.name,
                            describe_claim(claim.to_json()),
                            view.module,
                        )
            self.views[result.name] = view
        files.append(
            File.generated(config, VEGA_BUNDLE, abs_src_path=str(vega_bundle(self.root / ".cache")))
        )
        # Every lab notebook is also offered as .ipynb, beside its page's source.
        for source in [
            f for f in files if f.src_uri.startswith(NOTEBOOKS) and f.src_uri.endswith(".py")
        ]:
            files.append(
                File.generated(
                    config, source.src_uri[:-3] + ".ipynb", content=ipynb_text(source.abs_src_path)
                )
            )
        # When each claim's threshold was set (git); read once per build, for the
        # appendix and the ledger.
        self.records = self._threshold_records()
        # Its text is written in on_page_markdown, once figures are numbered.
        files.append(File.generated(config, CLAIMS_PAGE, content="# Claims checked by the build\n"))
        files.append(File.generated(config, METHODS_PAGE, content="# Methods\n"))
        files.append(File.generated(config, VERSIONS_PAGE, content="# Versions\n"))
        # The chart theme (light and dark Vega-Lite configs, palette) for site.js.
        files.append(File.generated(config, PALETTE_SCRIPT, content=palette_script()))
        assert self.publication is not None
        for file in self.publication.files(config):
            files.append(file)
        return files

    def _add_feature_browser(
        self,
        name: str,
        payloads: Any,
        config: MkDocsConfig,
        files: Files,
        view: FigureView,
    ) -> None:
        """A figure whose data holds `feature_browser` (`symbiote_core.browser.to_payload`)
        gets its latents published at `browser/<figure>/` and linked from its figure."""
        raw = payloads.get("data.json", b"")
        if b'"feature_browser"' not in raw:  # cheap: most figures have none
            return
        payload = json.loads(raw).get("feature_browser")
        if not isinstance(payload, dict):
            return
        from symbiote_core.browser.write import browser_files, from_payload  # no torch

        pages = browser_files(
            from_payload(payload),
            title=str(payload.get("title", name)),
            description=str(payload.get("description", "")),
        )
        for path, text in pages.items():
            files.append(File.generated(config, f"browser/{name}/{path}", content=text))
        view.browser = f"browser/{name}/index.html"

    # -- on_nav ------------------------------------------------------------------
    def on_nav(self, nav: Navigation, config: MkDocsConfig, files: Files) -> Navigation:
        pages = [
            (p.file.src_uri, p.file.content_string)
            for p in nav.pages
            if p.file.src_uri.endswith(".md")
        ]
        for name, (number, page) in figure_order(pages).items():
            if name in self.views:
                self.views[name].number, self.views[name].page = number, page
        for view in self.views.values():
            view.claim_pages = {}
        for (figure, claim), page in claim_places(pages).items():
            if figure in self.views:
                self.views[figure].claim_pages[claim] = page
        self.page_titles = {page: _first_heading(text) or page for page, text in pages}
        assert self.publication is not None
        self.publication.nav(nav, files)
        self.sections = Sections.from_nav(nav, self.publication.byline_section)
        # A page's card image is its first figure; a page without one shows the hero.
        self.cards: dict[str, str] = {}
        self.descriptions: dict[str, str] = {}
        """Each page's description as plain text (page.meta holds it escaped)."""
        for name, view in sorted(self.views.items(), key=lambda kv: kv[1].number or 0):
            if view.page and view.number and "figure.svg" in view.files:
                self.cards.setdefault(view.page, name)
        hero = re.search(r"\{\{\s*hero:\s*([\w-]+)", "\n".join(text for _, text in pages))
        self.default_card = hero.group(1) if hero else next(iter(self.cards.values()), None)
        return nav

    # -- on_pre_page ----------------------------------------------------------------
    def on_pre_page(self, page: Page, config: MkDocsConfig, files: Files) -> Page:
        render = page.render  # mkdocs-jupyter has replaced it for notebooks by now
        notebook = self.jupyter is not None and self.jupyter.should_include(page.file)
        if notebook:
            render = self._cached_notebook_render(page, render)
        elif PageMemo.usable(config):
            if self.pages_key is None:  # every plugin has added its files by now
                self.pages_key = PAGES.site_key(config, files)
            render = PAGES.wrap(page, render, self.pages_key)
        page.render = self._guarded_render(page, render, notebook)  # type: ignore[method-assign]
        return page

    def _cached_notebook_render(
        self, page: Page, render: Callable[[MkDocsConfig, Files], None]
    ) -> Callable[[MkDocsConfig, Files], None]:
        assert self.notebooks is not None
        notebooks, jupyter = self.notebooks, self.jupyter
        source = Path(page.file.abs_src_path)
        shown = self._shown(page)

        def cached_render(config: MkDocsConfig, files: Files) -> None:
            # Keyed on the file converted: with tokens for its directives, if it has any.
            prepared = self.notebook_directives.get(page.file.src_uri)
            converted = prepared.converted if prepared is not None else source
            key = notebooks.key(converted, dict(jupyter.config), self.library_digest)
            hit = notebooks.read(key, shown)
            if hit is not None:
                log.info("notebook %s: cached", shown)
                page.content = lean_notebook_page(hit["content"])
                page.toc = get_toc(hit["toc"])
                if hit.get("title") is not None:
                    page.title = hit["title"]
                return
            title = page.title
            with _converting(page.file, converted):
                render(config, files)
            page.content = lean_notebook_page(page.content)
            notebooks.write(
                key,
                {
                    "content": page.content,
                    "toc": toc_to_tokens(page.toc),
                    "title": page.title if page.title != title else None,
                },
            )

        return cached_render

    def _guarded_render(
        self, page: Page, render: Callable[[MkDocsConfig, Files], None], notebook: bool
    ) -> Callable[[MkDocsConfig, Files], None]:
        def guarded_render(config: MkDocsConfig, files: Files) -> None:
            try:
                render(config, files)
            except Exception as error:
                self.failed_renders.add(page.file.src_uri)
                problem = self._render_problem(page, error, notebook)
                log.error(str(problem))  # the one place this problem is printed
                self.problems.append(problem)
                page.content = _error_page(problem)
                page.toc = get_toc([])

        return guarded_render

    def _render_problem(self, page: Page, error: Exception, notebook: bool) -> MarkupProblem:
        text = _ANSI.sub("", str(error)).strip()
        shown = self._shown(page)
        line = 1
        if notebook:
            line = notebook_error_line(Path(page.file.abs_src_path), text)
            what = "a notebook cell raised"
        else:
            text = _ANSI.sub("", "".join(traceback.format_exception(error))).strip()
            what = f"the page could not be rendered ({type(error).__name__})"
        return MarkupProblem(shown, line, f"{what}:\n{text}")

    def _shown(self, page: Page) -> str:
        if page.file.generated_by:
            return page.file.src_uri
        path = Path(page.file.abs_src_path)
        return (
            path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else str(path)
        )

    def _param_doc(self, figure: str, path: str) -> str:
        """The docstring under a figure's param field (for a quoted param's popover)."""
        docs = self._param_docs.get(figure)
        if docs is None:
            assert self.engine is not None
            view = self.views.get(figure)
            params = dict((view.meta or {}).get("params", {})) if view else {}
            rows = self.sources.param_rows(f"{self.engine.figures_package}.{figure}", params)
            docs = self._param_docs[figure] = {r.path: r.doc for r in rows}
        return docs.get(path, "")

    # -- on_page_markdown ---------------------------------------------------------
    def on_page_markdown(
        self, markdown: str, page: Page, config: MkDocsConfig, files: Files
    ) -> str:
        src = page.file.src_uri
        shown = src if page.file.generated_by else f"{config.docs_dir}/{src}"
        renderer = PageRenderer(
            page=os.path.relpath(shown, self.root) if os.path.isabs(shown) else shown,
            figures=self.views,
            url_to=lambda target: get_relative_url(target, page.file.url),
            page_url=lambda source: _site_path(files, source),
            deferred={},
            token_prefix=self.token_prefix,
            settings=self.sources.setting,
            sections=self.sections,
            param_doc=self._param_doc,
        )
        # The appendix pages are Markdown built from figure text: every string that came
        # from a figure module reaches them as literal text (`markup.markdown_literal`).
        if src == CLAIMS_PAGE and page.file.generated_by:
            markdown = claims_page(
                self.views,
                getattr(self, "page_titles", {}),
                defer=renderer.defer,
                records=getattr(self, "records", {}),
            )  # it escapes with markdown_literal
            # The same ledger for programs (machine.py); raw HTML: a file, not a page.
            markdown += (
                f'\n\nFor programs: <a href="../{CLAIMS_JSON}">{CLAIMS_JSON}</a> holds every '
                "claim above with its per-seed values, null and verdict.\n"
            )
        elif src == VERSIONS_PAGE and page.file.generated_by:
            meta = self.publication.meta if self.publication is not None else None
            releases = load_releases(self.root)
            markdown = versions_page(releases, self.views, meta.version if meta else "")
        elif src == METHODS_PAGE and page.file.generated_by:
            assert self.engine is not None
            source = MethodsSource(self.sources, self.engine.figures_package)
            markdown = methods_page(markdown_literal_views(self.views, METHODS_FIELDS), source)
            for problem in source.problems:
                log.warning(str(problem))
            self.problems.extend(source.problems)
        if not page.file.generated_by and src.endswith(".md") and self.machine is not None:
            plain = PlainRenderer(
                page=renderer.page,
                figures=self.views,
                url_to=renderer.url_to,
                page_url=renderer.page_url,
                settings=self.sources.setting,
                sections=self.sections,
            )
            self.machine.add(page.url, page.title or src, plain.render(markdown))
        # Citations first: they keep every line where it was, so line numbers still match.
        assert self.publication is not None
        markdown = self.publication.page_markdown(markdown, page, files, self._shown(page))
        if self.jupyter is not None and self.jupyter.should_include(page.file):
            # mkdocs-jupyter converts the notebook file, not this Markdown: its Markdown
            # cells' directives are rendered now and put in after conversion.
            if self._converted is None:
                self._converted = tempfile.TemporaryDirectory(prefix="symbiote-notebooks-")
            prepared = prepare_notebook(
                Path(page.file.abs_src_path),
                self._shown(page),
                renderer,
                Path(self._converted.name) / hashlib.sha256(src.encode()).hexdigest()[:16],
            )
            self.notebook_directives[src] = prepared
            self.deferred[src] = (renderer.page, renderer.deferred or {})
            for problem in prepared.problems:
                log.warning(str(problem))
            self.problems.extend(prepared.problems)
            return markdown
        out = renderer.render(markdown)
        self.deferred[page.file.src_uri] = (renderer.page, renderer.deferred or {})
        for problem in renderer.problems:
            log.warning(str(problem))
        self.problems.extend(renderer.problems)
        return out

    def _threshold_records(self) -> dict[tuple[str, str], ThresholdRecord]:
        """Each claim's threshold history from git (`claim_history`); a `why` that says
        its threshold came before the runs where the history does not show it is
        reported (a warning, so `mkdocs build --strict` fails)."""
        records = {}
        for view in self.views.values():
            if view.error is not None or view.meta is None:
                continue
            history = module_history(self.root, view.module)
            for name, claim in view.claims.items():
                record = records[(view.name, name)] = threshold_record(history, claim)
                phrase = unsupported_why(claim, record)
                if phrase is not None:
                    log.warning(
                        "claim %s.%s (%s): its why says %r, but the git history shows its "
                        "threshold %s; say what the history shows",
                        view.name,
                        name,
                        view.module,
                        phrase,
                        STATUS_WORDS[record.status],
                    )
        return records

    # -- on_page_content / on_post_page ------------------------------------------------
    def on_page_content(self, html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
        prepared = self.notebook_directives.get(page.file.src_uri)
        if prepared is not None and prepared.tokens and page.file.src_uri not in self.failed_renders:
            html, lost = fill_notebook(html, prepared, self._shown(page))
            for problem in lost:
                log.warning(str(problem))
            self.problems.extend(lost)
        assert self.publication is not None
        html = self.sections.number_page(html, page)
        plain = str(page.meta.get("description") or description(html) or config.site_description or "")
        self.descriptions[page.file.src_uri] = plain
        # Material writes page.meta's description into an attribute unescaped: the text
        # comes from the page's prose (a figure's caption can hold quotes and markup).
        page.meta["description"] = escape_text(plain, quote=True)
        return self.publication.page_content(html, page, files)

    def on_post_page(self, output: str, page: Page, config: MkDocsConfig) -> str:
        """Put the deferred fragments into the finished page (`PageRenderer.deferred`),
        then the publication's lazy media (which may swap a spec for its URL)."""
        shown, deferred = self.deferred.pop(page.file.src_uri, ("", {}))
        output, missing = fill_deferred(output, deferred, self.token_prefix)
        if missing:
            problem = MarkupProblem(
                shown,
                1,
                f"{len(missing)} chart spec(s) or figure fragment(s) were lost between "
                "Markdown and HTML",
            )
            log.warning(str(problem))
            self.problems.append(problem)
        assert self.publication is not None
        output = self.publication.post_page(output, page)
        tags = self._head_tags(page, config)
        # The search index loads when the reader opens search (search.py).
        return defer_search_index(output.replace("</head>", f"{tags}\n</head>", 1))

    def _head_tags(self, page: Page, config: MkDocsConfig) -> str:
        """OpenGraph, Twitter and citation tags (metadata.py)."""
        site_url = (config.site_url or "").rstrip("/") + "/"
        figure = self.cards.get(page.file.src_uri, self.default_card)
        image = f"{site_url}{CARD_FOLDER}/{figure}.png" if figure else None
        card = Card(
            title=str(page.title or config.site_name),
            description=self.descriptions.get(page.file.src_uri, ""),
            url=page.canonical_url or site_url,
            image=image,
        )
        meta = self.publication.meta if self.publication else None
        citation = None
        if meta is not None and page.file.src_uri in self.publication.byline_pages:
            citation = Citation(
                title=meta.title,
                authors=meta.authors,
                date=meta.released.strftime("%Y/%m/%d"),
                url=site_url,
                pdf_url=site_url + PDF_FILE,
                version=meta.version,
            )
        return head_tags(card, citation, config.site_name)

    # -- on_post_build -------------------------------------------------------------
    def on_post_build(self, config: MkDocsConfig) -> None:
        self._write_cards(config)
        if self.pages_key is not None:  # a build with the memo off leaves it as it was
            PAGES.end_build()
        if self.publication is not None:  # reference and citation problems, logged already
            self.problems.extend(self.publication.problems)
            self.publication.problems = []
        if self.command == "build" and self.problems:
            # Each was printed where it was found; listing them again would print twice.
            where = ", ".join(sorted({f"{p.file}:{p.line}" for p in self.problems}))
            raise PluginError(
                f"{len(self.problems)} problem(s) in the essay, each reported above ({where}); "
                "the previous site is left in place"
            )
        self._write_machine_pages(config)
        self.finished = True

    def _write_cards(self, config: MkDocsConfig) -> None:
        """Each card image: a page's first figure as PNG, made from its SVG in the site."""
        site = Path(config.site_dir)
        for name in {*getattr(self, "cards", {}).values(), getattr(self, "default_card", None)}:
            svg = site / "figures" / str(name) / "figure.svg"
            if name is None or not svg.is_file():
                continue
            target = site / CARD_FOLDER / f"{name}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(card_png(svg, self.root / ".cache"), target)

    def _write_machine_pages(self, config: MkDocsConfig) -> None:
        """llms.txt, each page's Markdown and claims.json (machine.py), beside the HTML."""
        if self.machine is None or self.engine is None:
            return
        revision = git_revision(self.root)
        texts = self.machine.files("", revision)
        places = {
            (name, claim): page
            for name, view in self.views.items()
            for claim, page in view.claim_pages.items()
        }
        records = getattr(self, "records", {})
        texts[CLAIMS_JSON] = ledger_json(claims_ledger(self.views, revision, places, records))
        site = Path(config.site_dir)
        for path, text in texts.items():
            target = site / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")

    def on_build_error(self, error: Exception) -> None:
        self.finished = False

    def on_shutdown(self) -> None:
        """Swap the freshly built site in if the build succeeded; release the lock."""
        try:
            if self.building is not None and self.site_dir is not None:
                if self.finished and self.building.is_dir():
                    _swap_in(self.building, self.site_dir)
                else:
                    shutil.rmtree(self.building, ignore_errors=True)
        finally:
            self.building = None
            if self._converted is not None:
                self._converted.cleanup()
                self._converted = None
            if self.lock is not None:
                self.lock.release(force=True)
                self.lock = None


@contextlib.contextmanager
def _converting(file: File, path: Path) -> Iterator[None]:
    """Have mkdocs-jupyter convert `path` for `file`: its render reads the notebook from
    `page.file.abs_src_path` when it runs. Restored before anything else reads it (the
    error line of a raising cell, `include_source`'s copy of the source)."""
    original = file.abs_src_path
    if original is None or Path(original) == path:
        yield
        return
    file.abs_src_path = str(path)
    try:
        yield
    finally:
        file.abs_src_path = original


def _swap_in(new: Path, site: Path) -> None:
    """Replace `site` by `new` with two renames (no half-written site is ever visible)."""
    old = site.with_name(f".{site.name}.old-{uuid.uuid4().hex[:8]}")
    if site.exists():
        os.rename(site, old)
    os.rename(new, site)
    shutil.rmtree(old, ignore_errors=True)


def _error_page(problem: MarkupProblem) -> str:
    head, _, rest = str(problem).partition("\n")
    return (
        '<div class="sym-error" role="alert"><p><strong>Build error.</strong> '
        f"{html.escape(head)}</p><pre>{html.escape(rest)}</pre></div>"
    )


def notebook_error_line(notebook: Path, message: str) -> int:
    """The line of the jupytext notebook where the failing cell's failing line is.

    nbconvert's error quotes the cell's source between dashed lines, and IPython's
    traceback names the line within the cell ("Cell In[3], line 2"); the cell is found
    in the `.py` by its lines. 1 when it cannot be found.
    """
    quoted = re.search(r"-{10,}\n(.*?)\n-{10,}", message, re.S)
    try:
        lines = [line.rstrip() for line in notebook.read_text(encoding="utf-8").splitlines()]
    except OSError:
        return 1
    if quoted is None:
        return 1
    cell = [line.rstrip() for line in quoted.group(1).splitlines()]
    while cell and not cell[0]:
        cell.pop(0)
    if not cell:
        return 1
    within = re.search(r"Cell In\[\d+\], line (\d+)", message)
    offset = int(within.group(1)) - 1 if within else 0
    for start in range(len(lines) - len(cell) + 1):
        if lines[start : start + len(cell)] == cell:
            return start + 1 + offset
    return 1


def _log_event(name: str, kind: str, info: dict[str, Any]) -> None:
    if kind == "corrupt":
        # info: repaired already (it is rebuilt now), and --strict fails on warnings.
        log.info("%s; removed, rebuilding", info["problem"])
    elif kind == "start":
        log.info("figure %s: computing...", name)
    elif kind == "done":
        log.info("figure %s: %s in %.1f s", name, info.get("status"), info.get("seconds", 0.0))


class LinkedFile(File):
    """A figure file that `mkdocs serve` links to its cache entry instead of copying.

    MkDocs empties the site folder and copies every file again on each rebuild: four
    files per figure, most of a prose edit's rebuild at a few hundred figures. `serve`
    builds into a throwaway folder that is never deployed, so there a figure's site
    folder (`figures/NAME/`, which holds exactly its entry's files) is a symbolic link
    to its entry's folder: one link per figure. Where links cannot be made, the file is
    copied. Symbolic, not hard links: linking must leave the entry's files as they were
    (a hard link changes their ctime, and every rebuild would verify every entry again,
    `memo.py`), and MkDocs's cleaning removes a link without following it. Entries are
    never rewritten in place, and every read of one checks its checksums, so a tool
    that wrote into a served file would be caught, not served."""

    def copy_file(self, dirty: bool = False) -> None:
        if self._content is not None or self.abs_src_path is None:
            super().copy_file(dirty)
            return
        folder = os.path.dirname(self.abs_dest_path)
        entry = os.path.dirname(os.path.abspath(self.abs_src_path))
        try:
            if os.path.islink(folder):
                if os.readlink(folder) == entry:
                    return  # linked already, with this file's siblings
                os.unlink(folder)  # `serve --dirty`: the figure's previous entry
            if not os.path.lexists(folder):
                os.makedirs(os.path.dirname(folder), exist_ok=True)
                os.symlink(entry, folder, target_is_directory=True)
                return
        except OSError:
            pass
        super().copy_file(dirty)


def _site_path(files: Files, source: str) -> str:
    """Site path of a page given its source path (the source itself if it is not a page)."""
    file = files.get_file_from_path(source)
    return file.url if file is not None else source


def source_digest(root: Path) -> str:
    """A short hash of every library source file (what an executed notebook may import)."""
    h = hashlib.sha256()
    for folder in _NOTEBOOK_IMPORTS:
        for path in sorted((root / folder).rglob("*.py")):
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
    h.update((root / "pyproject.toml").read_bytes())
    return h.hexdigest()[:16]


def _literal(obj: Any) -> Any:
    if isinstance(obj, str):
        return markdown_literal(obj)
    if isinstance(obj, dict):
        return {_literal(k): _literal(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_literal(v) for v in obj]
    return obj


def markdown_literal_views(
    views: dict[str, FigureView], fields: tuple[str, ...] | None = None
) -> dict[str, FigureView]:
    """Copies of `views` whose meta strings are literal Markdown text (`markdown_literal`),
    for pages generated as Markdown (claims, methods). `fields`: only those meta fields
    (a page that shows a few need not escape every value and claim of every figure)."""

    def literal(meta: Any) -> Any:
        if not meta:
            return meta
        kept = dict(meta) if fields is None else {k: meta[k] for k in fields if k in meta}
        return _literal(kept)

    return {
        name: dataclasses.replace(view, meta=literal(view.meta)) for name, view in views.items()
    }


METHODS_FIELDS = ("title", "params", "seeds", "compute_seconds")
"""The meta fields `methods_page` shows."""


def _first_heading(markdown: str) -> str | None:
    """A page's H1 text (what its nav entry shows), read from its Markdown source."""
    for line in markdown.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return None
