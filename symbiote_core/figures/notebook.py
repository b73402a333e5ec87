"""An Altair renderer for notebooks executed by the site build.

Altair's default renderer loads Vega from a CDN (blank offline). This one emits
the same element the figure directive emits, a `.sym-chart` carrying its spec,
which the site script renders with the vendored bundle. The build enables it
from an IPython startup file (found through IPYTHONDIR, which the kernels
inherit), so notebooks need no edits.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

RENDERER = "symbiote-site"

STARTUP_SOURCE = """\
# Written by the site build: render Altair charts as offline site elements.
from symbiote_core.figures.notebook import enable as _enable
_enable()
"""


def chart_html(spec: dict[str, Any]) -> str:
    data = html.escape(json.dumps(spec, separators=(",", ":")), quote=True)
    description = html.escape(str(spec.get("description") or spec.get("title") or "chart"))
    return f'<div class="sym-chart" role="img" aria-label="{description}" data-spec="{data}"></div>'


def _render(spec: dict[str, Any], **_: Any) -> dict[str, str]:
    return {"text/html": chart_html(spec)}


def enable() -> None:
    import altair as alt

    if RENDERER not in alt.renderers.names():
        alt.renderers.register(RENDERER, _render)
    alt.renderers.enable(RENDERER)


def write_ipython_dir(root: Path) -> Path:
    """Create an IPYTHONDIR whose startup file enables the renderer; returns it."""
    startup = root / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    target = startup / "00-symbiote-site.py"
    if not target.exists() or target.read_text() != STARTUP_SOURCE:
        target.write_text(STARTUP_SOURCE)
    return root
