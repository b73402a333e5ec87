"""MkDocs hooks (named in mkdocs.yml): a thin shim over `symbiote_core.figures.site`.

MkDocs never reloads a hooks module nor what it imports, so `mkdocs serve` would keep
running stale engine code. Each build therefore drops the engine's modules from
`sys.modules` and imports them afresh; the figures themselves run in fresh worker
processes, so edited figure and library code is always what runs.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

_RELOADED = ("symbiote_core.figures", "figures_src")
_command: str | None = None
_site: Any = None


def _fresh_site_module() -> Any:
    for name in [m for m in sys.modules if m.startswith(_RELOADED)]:
        del sys.modules[name]
    return importlib.import_module("symbiote_core.figures.site")


def on_startup(command: str, dirty: bool) -> None:
    global _command
    _command = command


def on_config(config: Any) -> Any:
    global _site
    _site = _fresh_site_module().EssaySite(_command)
    return _site.on_config(config)


def on_files(files: Any, config: Any) -> Any:
    return _site.on_files(files, config)


def on_nav(nav: Any, config: Any, files: Any) -> Any:
    return _site.on_nav(nav, config, files)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return _site.on_page_markdown(markdown, page, config, files)


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    return _site.on_page_content(html, page, config, files)


def on_post_page(output: str, page: Any, config: Any) -> str:
    return _site.on_post_page(output, page, config)


def on_post_build(config: Any) -> None:
    _site.on_post_build(config)
