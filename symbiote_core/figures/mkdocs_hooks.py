"""MkDocs hooks (named in mkdocs.yml): a thin shim over `symbiote_core.figures.site`.

MkDocs never reloads a hooks module nor what it imports, so `mkdocs serve` would keep
running stale engine code. Each build therefore drops the engine's modules from
`sys.modules` and imports them afresh; the figures themselves run in fresh worker
processes, so edited figure and library code is always what runs.

Under `mkdocs serve` an exception escaping a hook would stop the server from answering
any request until a later build succeeds ("The server will appear stuck"); there every
hook's exception is logged once, with its traceback, and the build goes on. `mkdocs
build` lets it propagate, so the build fails.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

_RELOADED = ("symbiote_core.figures", "figures_src")
_command: str | None = None
_dirty = False
_site: Any = None
log = logging.getLogger("mkdocs.plugins.symbiote")
T = TypeVar("T")


def _fresh_site_module() -> Any:
    for name in [m for m in sys.modules if m.startswith(_RELOADED)]:
        del sys.modules[name]
    return importlib.import_module("symbiote_core.figures.site")


def _guard(event: str, call: Callable[[], T], fallback: T) -> T:
    if _command != "serve":
        return call()
    try:
        return call()
    except Exception:
        log.exception("the essay's %s hook failed; serving what could be built", event)
        return fallback


def on_startup(command: str, dirty: bool) -> None:
    global _command, _dirty
    _command, _dirty = command, dirty


def on_config(config: Any) -> Any:
    global _site
    if _site is not None:  # the previous build of `mkdocs serve` ended without shutdown
        _site.on_shutdown()
    _site = _fresh_site_module().EssaySite(_command, _dirty)
    return _guard("on_config", lambda: _site.on_config(config), config)


def on_files(files: Any, config: Any) -> Any:
    return _guard("on_files", lambda: _site.on_files(files, config), files)


def on_nav(nav: Any, config: Any, files: Any) -> Any:
    return _guard("on_nav", lambda: _site.on_nav(nav, config, files), nav)


def on_pre_page(page: Any, config: Any, files: Any) -> Any:
    return _guard("on_pre_page", lambda: _site.on_pre_page(page, config, files), page)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return _guard(
        "on_page_markdown",
        lambda: _site.on_page_markdown(markdown, page, config, files),
        markdown,
    )


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    return _site.on_page_content(html, page, config, files)


def on_post_page(output: str, page: Any, config: Any) -> str:
    return _site.on_post_page(output, page, config)


def on_post_build(config: Any) -> None:
    _site.on_post_build(config)


def on_build_error(error: Exception) -> None:
    if _site is not None:
        _site.on_build_error(error)


def on_shutdown() -> None:
    if _site is not None:
        _site.on_shutdown()
