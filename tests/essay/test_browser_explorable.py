"""The explorable figure: the host computed in the page agrees with PyTorch.

The page runs the toy host in plain JavaScript (essay/assets/javascripts/explorable.js);
here the same inputs go through `steered_change` of the figure module in float64
PyTorch, and the two must agree to 1e-5, for the function and for what the chart shows
after a reader moves a control with the keyboard.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from test_browser_sweep import Session, browser, site_url  # noqa: F401 (fixtures)

from figures_src.steering_explorable import steered_change

pytestmark = pytest.mark.browser
FIGURE = "#fig-steering_explorable"


def _reference(data: dict, kind: str, target: int, dose: float) -> list[float]:
    W = torch.tensor(data["host"]["W"], dtype=torch.float64)
    b = torch.tensor(data["host"]["b"], dtype=torch.float64)
    x = torch.tensor(data["inputs"], dtype=torch.float64)
    d = torch.tensor(data["directions"][kind][target], dtype=torch.float64)
    return steered_change(W, b, x, d, dose).tolist()


def _open(browser, site_url: str):  # noqa: F811
    session = Session(browser, viewport={"width": 1280, "height": 900})
    page = session.open(site_url + "steering/")
    page.locator(FIGURE).scroll_into_view_if_needed()
    page.wait_for_selector(f"{FIGURE} .sym-explorable-controls select", timeout=20_000)
    return session, page


def test_in_page_host_matches_pytorch(browser, built_site: Path, site_url: str) -> None:  # noqa: F811
    data = json.loads((built_site / "figures" / "steering_explorable" / "data.json").read_text())
    session, page = _open(browser, site_url)
    n = len(data["host"]["b"])
    cases = [
        {"kind": kind, "target": target, "dose": dose}
        for kind in data["directions"]
        for target in (0, n // 2, n - 1)
        for dose in (0.0, 0.35, 2.5)
    ]
    computed = page.evaluate(
        """([host, inputs, directions, cases]) => cases.map(c =>
               window.symToyHost.steeredChange(host, inputs, directions[c.kind][c.target], c.dose))""",
        [data["host"], data["inputs"], data["directions"], cases],
    )
    worst = max(
        abs(a - b)
        for case, row in zip(cases, computed, strict=True)
        for a, b in zip(
            row, _reference(data, case["kind"], case["target"], case["dose"]), strict=True
        )
    )
    assert worst < 1e-5, f"in-page host differs from PyTorch by {worst:g}"
    assert session.errors == []


def test_keyboard_moves_the_chart(browser, built_site: Path, site_url: str) -> None:  # noqa: F811
    data = json.loads((built_site / "figures" / "steering_explorable" / "data.json").read_text())
    session, page = _open(browser, site_url)
    controls = page.locator(f"{FIGURE} .sym-explorable-controls")
    readout = controls.locator("output")
    before = readout.text_content()
    target, dose = (
        controls.locator("input[type=range]").nth(0),
        controls.locator("input[type=range]").nth(1),
    )
    target.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    dose.focus()
    page.keyboard.press("ArrowRight")
    controls.locator("select").select_option("best neuron")
    assert readout.text_content() != before
    state = page.evaluate(
        f"""() => {{
            const box = document.querySelector('{FIGURE} .sym-explorable-controls');
            const chart = document.querySelector('{FIGURE} .sym-chart');
            return {{state: box._state, shown: chart._symView.data('outputs').map(r => r.change)}};
        }}"""
    )
    assert state["state"]["kind"] == "best neuron" and state["state"]["target"] == 3
    expected = _reference(data, "best neuron", 3, state["state"]["dose"])
    assert max(abs(a - b) for a, b in zip(state["shown"], expected, strict=True)) < 1e-5
    assert session.errors == []
