"""The offline chart runtime: Vega, Vega-Lite and vega-embed in one local script.

vl-convert ships them (no npm, no CDN). Building the bundle takes 1-2 s, so it is
cached under the build cache, keyed on the vl-convert version that made it.
"""

from __future__ import annotations

import os
import tempfile
from importlib.metadata import version
from pathlib import Path


def vega_bundle(cache_dir: Path) -> Path:
    """Path of the cached bundle, creating it when missing."""
    target = cache_dir / "vendor" / f"vega-bundle-{version('vl-convert-python')}.js"
    if target.exists():
        return target
    import vl_convert

    target.parent.mkdir(parents=True, exist_ok=True)
    # The bundle declares top-level consts; wrapped in a function they cannot clash
    # with another script's globals. It publishes window.vegaEmbed, vega, vegaLite.
    source = "(function () {\n" + vl_convert.javascript_bundle() + "\n})();\n"
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(source)
    os.replace(tmp, target)  # atomic: a concurrent build never sees half a file
    return target
