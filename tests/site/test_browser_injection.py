"""A script put into every text field of a figure never runs in the page: the small
probe site built with a payload as its title, alt, caption, claim, param, data labels
and chart titles, opened in chromium (network cut to loopback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.browser import Session, served, wait_for_charts
from support.mini import make_mini_project, mini_env
from support.project import run_mkdocs

pytestmark = pytest.mark.browser

PAYLOAD = (
    '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=1">'
    '<svg onload="window.__pwned=1"></svg>`</code><script>window.__pwned=1</script>`'
    " | [x](javascript:window.__pwned=1) {{ value: probe.top }}"
)
CAPTION_PAYLOAD = (
    PAYLOAD + "\n\n[click](javascript:window.__pwned=1) ![i](javascript:window.__pwned=1)"
    '\n\nA paragraph with an attribute list.\n{: onclick="window.__pwned=1" }'
)


@pytest.fixture(scope="module")
def probe_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small site whose probe figure carries a script in every text field: title, alt,
    caption, claim statement, a param, the data's labels and the chart's titles."""
    project = make_mini_project(tmp_path_factory.mktemp("probe") / "mini", text=PAYLOAD,
                                caption=CAPTION_PAYLOAD)
    result = run_mkdocs(project, env=mini_env())
    assert result.returncode == 0, result.stdout + result.stderr
    return project / "site"


def test_script_injected_into_every_text_field_never_runs(browser, probe_site: Path) -> None:
    session = Session(browser, viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []
    with served(probe_site) as base:
        try:
            for rel in ("", "claims/", "methods/"):
                page = session.open(base + rel)
                page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
                wait_for_charts(page)
                # Hover every element that carries the payload (tooltips, previews, titles).
                for element in page.locator(".sym-chart, .sym-ref a, .sym-claim").all()[:10]:
                    element.hover()
                assert page.evaluate("typeof window.__pwned") == "undefined", rel
                assert page.locator("[onerror], [onload], [onclick]").count() == 0, rel
                assert page.locator('a[href^="javascript:"], img[src^="javascript:"]').count() == 0
                # Shown as text (escaped), not dropped.
                assert "<script>window.__pwned=1</script>" in page.inner_text("body"), rel
                page.close()
        finally:
            session.context.close()
    assert dialogs == []
    assert session.errors == [], session.errors
