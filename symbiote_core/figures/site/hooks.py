"""MkDocs hooks (named in mkdocs.yml): a thin shim over `symbiote_core.figures.site.adapter`.

MkDocs never reloads a hooks module nor what it imports, so `mkdocs serve` would keep
running stale engine code. A build therefore drops the engine's modules from
`sys.modules` and imports them afresh whenever one of the engine's files changed since
they were imported (by stat signature, with the same margin for coarse timestamps as
`memo.py`); otherwise it keeps them, and with them the planning memo, so a prose edit
costs no re-import and no re-hashing. The figures themselves run in fresh worker
processes, so edited figure and library code is always what runs.

Under `mkdocs serve` an exception escaping a hook would stop the server from answering
any request until a later build succeeds ("The server will appear stuck"); there every
hook's exception is logged once, with its traceback, and the build goes on, except a
`PluginError` (a setting the build cannot work with, such as a cache location no worker
can reach), which stops it with its message. `mkdocs build` lets every exception
propagate, so the build fails.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from mkdocs.exceptions import PluginError

_ENGINE = "symbiote_core.figures"
_SITE = "symbiote_core.figures.site.adapter"
_ENGINE_DIR = Path(__file__).resolve().parents[1]  # symbiote_core/figures, every layer
_RACY_NS = 2_000_000_000  # memo.RACY_NS; not imported: this module must not pin the engine
_command: str | None = None
_dirty = False
_site: Any = None
_loaded: tuple[tuple[str, int, int, int, int], ...] | None = None
"""Signatures of the engine's files when its modules were last imported."""
log = logging.getLogger("mkdocs.plugins.symbiote")
T = TypeVar("T")


def _engine_signature() -> tuple[tuple[str, int, int, int, int], ...] | None:
    """The engine's source files' signatures; None if one changed too recently to tell."""
    limit = time.time_ns() - _RACY_NS
    sigs = []
    for path in sorted(_ENGINE_DIR.rglob("*.py")):
        st = os.stat(path)
        if max(st.st_mtime_ns, st.st_ctime_ns) >= limit:
            return None
        name = str(path.relative_to(_ENGINE_DIR))
        sigs.append((name, st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino))
    return tuple(sigs)


def _figures_packages() -> tuple[str, ...]:
    if _site is None or getattr(_site, "engine", None) is None:
        return ()
    return (_site.engine.figures_package,)


def _fresh_site_module() -> Any:
    global _loaded
    signature = _engine_signature()  # before importing: the files are read after it
    site = sys.modules.get(_SITE)
    if site is not None and signature is not None and signature == _loaded:
        return site
    # The engine, and the figures package its modules were imported beside (its name is
    # the project's setting, read from the module the engine loaded it through).
    reloaded = (_ENGINE, *_figures_packages())
    for name in [m for m in sys.modules if m.startswith(reloaded)]:
        del sys.modules[name]
    site = importlib.import_module(_SITE)
    _loaded = signature
    return site


def _guard(event: str, call: Callable[[], T], fallback: T) -> T:
    if _command != "serve":
        return call()
    try:
        return call()
    except PluginError:
        raise  # a setting the build cannot work with (the cache location): stop, and say why
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
    return _guard("on_page_content", lambda: _site.on_page_content(html, page, config, files), html)


def on_post_page(output: str, page: Any, config: Any) -> str:
    return _guard("on_post_page", lambda: _site.on_post_page(output, page, config), output)


def on_post_build(config: Any) -> None:
    _site.on_post_build(config)


def on_build_error(error: Exception) -> None:
    if _site is not None:
        _site.on_build_error(error)


def on_shutdown() -> None:
    if _site is not None:
        _site.on_shutdown()
