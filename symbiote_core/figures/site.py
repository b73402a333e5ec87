"""The MkDocs side of the essay build: figures, directives, claims page, offline assets.

`mkdocs_hooks.py` (the file named in mkdocs.yml) re-imports this module on every
build, so `mkdocs serve` picks up edits to it. One `EssaySite` lives for one build:

- on_config: IPYTHONDIR with the offline Altair renderer for notebooks; the notebook
  cache folder keyed on the project's source (mkdocs-jupyter keys on notebook bytes only).
- on_files: build stale figures (cached ones cost a hash), add their artefacts, the
  vendored Vega bundle and the generated claims page to the site.
- on_nav: number figures in reading order across the whole essay.
- on_page_markdown: replace directives; problems become warnings naming file and line
  (so `--strict` fails) and visible error boxes (so `mkdocs serve` keeps running).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from symbiote_core.figures.build import build
from symbiote_core.figures.claims_page import claims_page
from symbiote_core.figures.claimtext import describe_claim
from symbiote_core.figures.markup import (
    FigureView,
    MarkupProblem,
    PageRenderer,
    figure_order,
)
from symbiote_core.figures.notebook import write_ipython_dir
from symbiote_core.figures.palette import palette_script
from symbiote_core.figures.publication import Publication
from symbiote_core.figures.registry import Engine
from symbiote_core.figures.vendor import vega_bundle

log = logging.getLogger("mkdocs.plugins.symbiote")

CLAIMS_PAGE = "claims.md"
METHODS_PAGE = "methods.md"
NOTEBOOK_CACHE_ENV = "SYMBIOTE_NOTEBOOK_CACHE"
VEGA_BUNDLE = "assets/vendor/vega/vega-bundle.js"
PALETTE_SCRIPT = "assets/javascripts/palette.js"
_NOTEBOOK_IMPORTS = ("symbiote_core",)  # what lab notebooks may import


class EssaySite:
    def __init__(self, command: str | None) -> None:
        self.command = command
        self.views: dict[str, FigureView] = {}
        self.problems: list[MarkupProblem] = []
        self.root = Path.cwd()
        self.engine: Engine | None = None
        self.publication: Publication | None = None

    # -- on_config ---------------------------------------------------------------
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        self.root = Path(config.config_file_path).resolve().parent
        self.engine = Engine(root=self.root)
        self.publication = Publication.from_config(self.root, config)
        cache = self.root / ".cache"
        os.environ["IPYTHONDIR"] = str(write_ipython_dir(cache / "ipython"))
        jupyter = config.plugins.get("mkdocs-jupyter")
        if jupyter is not None:
            # Executed notebooks import the project: key their cache on its source too.
            notebooks = Path(os.environ.get(NOTEBOOK_CACHE_ENV) or cache / "mkdocs-jupyter")
            jupyter.config["cache_dir"] = str(notebooks / source_digest(self.root))
        return config

    # -- on_files ----------------------------------------------------------------
    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        assert self.engine is not None
        results = build(self.engine, on_event=_log_event)
        for result in results:
            view = FigureView(name=result.name)
            if result.status == "failed" or result.entry is None:
                view.error = result.error or "unknown error"
                log.warning(
                    "figure %r failed to build (figures_src/%s.py):\n%s",
                    result.name,
                    result.name,
                    view.error,
                )
            else:
                entry = result.entry
                view.meta, view.spec = entry.meta, entry.spec
                for label, path in entry.files().items():
                    site_path = f"figures/{result.name}/{label}"
                    files.append(File.generated(config, site_path, abs_src_path=str(path)))
                    view.files[label] = site_path
                for claim in entry.meta.get("claims", []):
                    if not claim["holds"]:
                        log.warning(
                            "claim %s.%s %s: %s (figures_src/%s.py)",
                            result.name,
                            claim["name"],
                            "does not hold" if claim["verdict"] == "fails" else "cannot fail",
                            describe_claim(claim),
                            result.name,
                        )
            self.views[result.name] = view
        files.append(
            File.generated(config, VEGA_BUNDLE, abs_src_path=str(vega_bundle(self.root / ".cache")))
        )
        # Its text is written in on_page_markdown, once figures are numbered.
        files.append(File.generated(config, CLAIMS_PAGE, content="# Claims checked by the build\n"))
        files.append(File.generated(config, METHODS_PAGE, content="# Methods\n"))
        # The chart theme (light and dark Vega-Lite configs, palette) for site.js.
        files.append(File.generated(config, PALETTE_SCRIPT, content=palette_script()))
        assert self.publication is not None
        for file in self.publication.files(config):
            files.append(file)
        return files

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
        assert self.publication is not None
        self.publication.nav(nav, files)
        return nav

    # -- on_page_markdown ---------------------------------------------------------
    def on_page_markdown(
        self, markdown: str, page: Page, config: MkDocsConfig, files: Files
    ) -> str:
        src = page.file.src_uri
        if src == CLAIMS_PAGE and page.file.generated_by:
            markdown = claims_page(self.views)
        elif src == METHODS_PAGE and page.file.generated_by:
            markdown = methods_page(self.views)
        shown = src if page.file.generated_by else f"{config.docs_dir}/{src}"
        assert self.publication is not None
        markdown = self.publication.page_markdown(
            markdown,
            page,
            files,
            os.path.relpath(shown, self.root) if os.path.isabs(shown) else shown,
        )
        renderer = PageRenderer(
            page=os.path.relpath(shown, self.root) if os.path.isabs(shown) else shown,
            figures=self.views,
            url_to=lambda target: get_relative_url(target, page.file.url),
            page_url=lambda source: _site_path(files, source),
        )
        out = renderer.render(markdown)
        for problem in renderer.problems:
            log.warning(str(problem))
        self.problems.extend(renderer.problems)
        return out

    # -- on_page_content -------------------------------------------------------------
    def on_page_content(self, html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
        assert self.publication is not None
        return self.publication.page_content(html, page, files)

    # -- on_post_page ----------------------------------------------------------------
    def on_post_page(self, output: str, page: Page, config: MkDocsConfig) -> str:
        assert self.publication is not None
        return self.publication.post_page(output, page)

    # -- on_post_build -------------------------------------------------------------
    def on_post_build(self, config: MkDocsConfig) -> None:
        problems = [*self.problems, *(self.publication.problems if self.publication else [])]
        if self.command == "build" and problems:
            listing = "\n".join(f"  {p}" for p in problems)
            raise PluginError(f"{len(problems)} problem(s) in the essay's directives:\n{listing}")


def _log_event(name: str, kind: str, info: dict[str, Any]) -> None:
    if kind == "start":
        log.info("figure %s: computing...", name)
    elif kind == "done":
        log.info("figure %s: %s in %.1f s", name, info.get("status"), info.get("seconds", 0.0))


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


def methods_page(views: dict[str, FigureView]) -> str:
    """The generated methods appendix: every figure's parameters, as its build used them."""
    lines = [
        "# Methods: every figure's parameters",
        "",
        "Each figure is computed by `compute(params)` in its module under `figures_src/`. "
        "The tables below are generated from the parameters recorded with each cached "
        "result, so they always describe the numbers on the page. Rebuild one figure with "
        "`python -m symbiote_core.figures build NAME --force`.",
        "",
    ]
    order = sorted(views.values(), key=lambda v: (v.number is None, v.number or 0, v.name))
    for view in order:
        heading = f"Figure {view.number}" if view.number else "Not embedded"
        if view.error is not None or view.meta is None:
            lines += [f"## {heading}: `{view.name}`", "", "This figure failed to build.", ""]
            continue
        meta = view.meta
        lines += [
            f"## {heading}: {meta.get('title', view.name)}",
            "",
            (f"{{{{ ref: {view.name} }}}} · " if view.number else "")
            + f"source `figures_src/{view.name}.py` · seeds {_seeds_text(meta)} · "
            f"computed in {float(meta.get('compute_seconds', 0.0)):.1f} s",
            "",
            "| parameter | value |",
            "|---|---|",
        ]
        for name, value in meta.get("params", {}).items():
            shown = json.dumps(value) if not isinstance(value, str) else value
            lines.append(f"| `{name}` | `{shown}` |")
        lines.append("")
    return "\n".join(lines)


def _seeds_text(meta: dict[str, Any]) -> str:
    seeds = meta.get("seeds") or []
    return ", ".join(str(s) for s in seeds) if seeds else "none"
