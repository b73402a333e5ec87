"""Warm rebuilds (issue 10): a page whose Markdown did not change is not converted again,
and what stays out of Markdown and the search index is put back byte for byte.

Built in this process, as `mkdocs serve` rebuilds, on a generated essay of four
figures (`bench/genproject.py`, the project the build benchmarks time), so this also
checks that the benchmarks' generator still builds with the engine as it is.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path

import pytest
from mkdocs.commands.build import build
from mkdocs.config import load_config
from mkdocs.exceptions import Abort

from symbiote_core.figures.engine.build import load_entry, plan
from symbiote_core.figures.engine.registry import Engine

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import genproject  # a script beside the benchmarks, not a package

_ENGINE_MODULES = ("symbiote_core.figures", "figures_src")


@pytest.fixture(scope="module", autouse=True)
def _engine_modules_restored() -> object:
    """The hooks re-import the engine's modules when its files change (`mkdocs_hooks`);
    later tests in this process must keep meeting the classes they imported."""
    saved = {k: v for k, v in sys.modules.items() if k.startswith(_ENGINE_MODULES)}
    yield
    for name in [k for k in sys.modules if k.startswith(_ENGINE_MODULES)]:
        del sys.modules[name]
    sys.modules.update(saved)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = genproject.generate(tmp_path_factory.mktemp("generated"), 4, per_page=2, points=20)
    genproject.populate(root)
    assert {p.status for p in plan(Engine(root=root))} == {"cached"}
    return root


def _build(root: Path, site: Path, strict: bool = False) -> dict[str, str]:
    build(load_config(str(root / "mkdocs.yml"), site_dir=str(site), strict=strict))
    return {p.relative_to(site).as_posix(): p.read_text() for p in site.rglob("*.html")}


def _pages() -> object:
    return sys.modules["symbiote_core.figures.site.adapter"].PAGES


def test_unchanged_pages_are_reused_and_come_out_the_same(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    first = _build(project, tmp_path / "a")
    memo = _pages()
    hits, misses = memo.hits, memo.misses
    second = _build(project, tmp_path / "b")
    # 2 essay pages, claims, methods, versions (the generated Versions page, releases.py)
    assert memo.hits - hits == 5 and memo.misses == misses
    assert second == first

    page = project / "essay" / "page_00.md"
    page.write_text(page.read_text() + "An edit {{ value: fig_000.last | .3f }}.\n")
    hits, misses = memo.hits, memo.misses
    third = _build(project, tmp_path / "c")
    assert memo.misses - misses == 1 and memo.hits - hits == 4  # only the edited page
    assert "An edit" in third["page_00/index.html"]
    assert third["page_01/index.html"] == first["page_01/index.html"]
    memo.pages.clear()  # the same site converted from scratch
    assert _build(project, tmp_path / "d") == third


def test_a_reused_page_warns_again(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A broken link warns on every build, converted or reused, so --strict fails."""
    monkeypatch.chdir(project)
    page = project / "essay" / "page_01.md"
    original = page.read_text()
    page.write_text(original + "A [broken link](no_such_page.md).\n")
    try:
        for site in ("a", "b"):
            caplog.clear()
            with caplog.at_level(logging.INFO, logger="mkdocs"), pytest.raises(Abort):
                _build(project, tmp_path / site, strict=True)
            assert any("no_such_page.md" in r.getMessage() for r in caplog.records), site
        assert _pages().hits > 0
    finally:
        page.write_text(original)


def test_popovers_provenance_and_seed_tables_stay_out_of_the_search_index(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    pages = _build(project, tmp_path / "site")
    page = pages["page_00/index.html"]
    # In the page, filled in after Markdown and search: no token is left.
    for fragment in ('class="sym-tip"', 'class="sym-provenance"', 'class="sym-summary"',
                     'class="sym-ref-preview"', 'sym-claim-mark"'):
        assert fragment in page, fragment
    assert "<!--sym-spec-" not in page and "sym-spec-" not in pages["claims/index.html"]
    assert "<td>" in pages["claims/index.html"]  # the per-seed tables
    index = json.loads((tmp_path / "site" / "search" / "search_index.json").read_text())
    text = " ".join(doc["text"] for doc in index["docs"])
    assert "Each line ends higher than it starts." in text  # claims are searchable
    assert "Prose about figure fig_000" in text
    for absent in ("mean of 5 seeds", "Cache key", "Data summary", "sym-spec"):
        assert absent not in text, absent


def test_serve_links_each_figure_folder_to_its_entry_and_build_copies(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`serve` rebuilds link, not copy, figure files; MkDocs's cleaning between rebuilds
    removes the links and leaves every entry as it was; `build` still copies."""
    monkeypatch.chdir(project)
    monkeypatch.delenv("SYMBIOTE_FIGURE_CACHE", raising=False)  # the project's own cache
    site = tmp_path / "served"
    config = load_config(str(project / "mkdocs.yml"), site_dir=str(site))
    (hooks,) = config["hooks"].values()
    command = hooks._command
    try:
        for _ in range(2):  # the second build cleans the first one's links away first
            config = load_config(str(project / "mkdocs.yml"), site_dir=str(site))
            config.plugins.on_startup(command="serve", dirty=False)
            build(config, serve_url=config.site_url)
    finally:
        hooks._command = command
    folder = site / "figures" / "fig_000"
    assert folder.is_symlink()
    entry = folder.resolve()
    assert entry.parent.parent.name == "out" and entry.is_relative_to(project / ".cache")
    assert sorted(p.name for p in folder.iterdir()) == [
        "data.json", "figure.svg", "meta.json", "spec.json"
    ]
    assert {p.status for p in plan(Engine(root=project))} == {"cached"}  # entries intact

    copied = tmp_path / "built"
    build(load_config(str(project / "mkdocs.yml"), site_dir=str(copied)))
    built = copied / "figures" / "fig_000"
    assert not built.is_symlink() and not (built / "data.json").is_symlink()
    assert (built / "data.json").read_bytes() == (entry / "data.json").read_bytes()


def test_a_reused_page_shows_the_new_entry_of_a_changed_figure(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edit that changes a figure's key but none of its numbers (a comment) leaves its
    page's Markdown as it was, so the page is reused; its provenance, filled in after
    Markdown on every build, still names the new entry."""
    monkeypatch.chdir(project)
    module = project / "figures_src" / "fig_001.py"
    original = module.read_text()

    def provenance_key(page: str) -> str:
        block = page.split('id="fig-fig_001"')[1]
        found = re.search(r"Cache key</th><td><code>(\w+)</code>", block)
        assert found is not None
        return found.group(1)

    before = _build(project, tmp_path / "a")["page_00/index.html"]
    memo = _pages()
    try:
        module.write_text(original + "# An edit that changes no number.\n")
        hits = memo.hits
        after = _build(project, tmp_path / "b")["page_00/index.html"]
        assert memo.hits - hits == 5  # page_00 too: its Markdown did not change
        entry = load_entry(Engine(root=project), "fig_001")
        assert entry is not None
        assert provenance_key(after) == entry.meta.key[:16] != provenance_key(before)
    finally:
        module.write_text(original)
