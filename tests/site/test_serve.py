"""`mkdocs serve` while writing: prose edits recompute nothing, a broken figure shows an
error box and the server stays up, figure files are served from their cache entries.
On the small probe site (`support/mini.py`)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.mini import mini_env
from support.serving import fetch, free_port, wait_for

pytestmark = pytest.mark.slow


def test_serve_survives_edits(mini_project: Callable[..., Path], tmp_path: Path) -> None:
    project = mini_project()
    port = free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "mkdocs", "serve", "--dev-addr", f"127.0.0.1:{port}",
             "--livereload"],
            cwd=project, env=mini_env(), stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/"
    page_url = base
    try:
        wait_for(lambda: "sym-chart" in (fetch(page_url) or ""), "the first build", 600)
        logged = len(log_path.read_text())

        # Figure files are served through the link from the site folder to the entry.
        served = fetch(base + "figures/probe/spec.json")
        assert served is not None and "vega-lite" in json.loads(served)["$schema"]

        # A prose edit shows up and recomputes no figure.
        page = project / "essay" / "index.md"
        page.write_text(page.read_text() + "\nA sentence added while serving.\n")
        wait_for(lambda: "added while serving" in (fetch(page_url) or ""), "the prose edit", 120)
        since_edit = log_path.read_text()[logged:]
        assert "computing" not in since_edit, since_edit

        # A figure that raises: its error box replaces it, and the server keeps serving.
        module = project / "figures_src" / "probe.py"
        source = module.read_text()
        broken = source.replace("    rows = [",
                                "    raise RuntimeError('broken on purpose by test_serve')\n"
                                "    rows = [", 1)
        assert broken != source
        module.write_text(broken)
        wait_for(lambda: "broken on purpose" in (fetch(page_url) or ""), "the error box", 300)
        html = fetch(page_url) or ""
        assert 'class="sym-error"' in html
        assert server.poll() is None, "mkdocs serve died"

        # Fixing it brings the figure back (from the cache: the data key is the old one).
        module.write_text(source)
        wait_for(lambda: "broken on purpose" not in (fetch(page_url) or "broken on purpose"),
                 "the fixed figure", 300)
        assert 'id="fig-probe"' in (fetch(page_url) or "")
    finally:
        server.terminate()
        server.wait(timeout=30)
