"""A figure whose data carries a feature browser (`symbiote_core.browser.to_payload`)
gets it published at `browser/<figure>/` and linked under the figure."""

from __future__ import annotations

import re

from support.mini import mini_env
from support.project import run_mkdocs

BROWSER_FIGURE = '''
def compute_with_browser(p: Params) -> dict:
    import torch

    from symbiote_core.browser import summarise, to_payload

    data = compute(p)
    acts = torch.zeros(1, 6, 3)
    acts[0, 2, 0] = 1.5
    acts[0, 4, 1] = 0.5
    tokens = [["a", "b", "<c>", "d", "e", "f"]]
    labels = {"third": torch.tensor([[False, False, True, False, False, False]])}
    data["feature_browser"] = to_payload(summarise(acts, tokens, labels=labels), title="Probe SAE")
    return data
'''


def test_a_figure_with_latents_gets_its_browser_and_a_link(mini_project) -> None:
    root = mini_project()
    figure = root / "figures_src" / "probe.py"
    text = figure.read_text().replace("FIGURE = Figure(", BROWSER_FIGURE + "\n\nFIGURE = Figure(")
    figure.write_text(text.replace("compute=compute,", "compute=compute_with_browser,"))
    result = run_mkdocs(root, env=mini_env())
    assert result.returncode == 0, result.stderr[-3000:]
    site = root / "site"
    index = (site / "browser" / "probe" / "index.html").read_text()
    assert "Probe SAE" in index and "&lt;c&gt;" not in index  # tokens live in latent files
    first = (site / "browser" / "probe" / "latents" / "0000.js").read_text()
    assert '"third"' in first and '"<c>"' in first
    page = (site / "index.html").read_text()
    link = re.search(r'class="sym-browser-link"><a href="([^"]+)"', page)
    assert link is not None and link.group(1).endswith("browser/probe/index.html")
