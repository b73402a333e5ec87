"""Citable versions (`engine/releases.py`, `site/versions.py`): a release records its
build, the versions page says what changed, and `figures freeze` rebuilds each release's
own site from its revision."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from support.mini import mini_env
from support.project import run_mkdocs

from symbiote_core.figures import cli
from symbiote_core.figures.engine.registry import FigureError
from symbiote_core.figures.engine.releases import changes, load_releases, release


def manifest(values: dict, verdicts: dict | None = None) -> dict:
    claims = {name: {"verdict": v} for name, v in (verdicts or {}).items()}
    return {"figures": {"fig": {"values": values, "claims": claims}}}


def test_a_change_is_a_move_beyond_the_seed_spread_or_a_flipped_verdict() -> None:
    before = manifest({"noisy": [1.0, 2.0, 3.0], "tight": [1.0, 1.01, 0.99], "const": 4},
                      {"c": "holds", "d": "holds"})
    after = manifest({"noisy": [1.5, 2.5, 3.5], "tight": [1.2, 1.21, 1.19], "const": 4},
                     {"c": "holds", "d": "fails"})
    found = {(c.item, c.kind) for c in changes(before, after)}
    assert found == {("tight", "value"), ("d", "verdict")}  # noisy moved within its spread
    gone = changes(before, {"figures": {"new": {}}})
    assert {(c.figure, c.kind) for c in gone} == {("fig", "removed"), ("new", "added")}


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root,
                   check=True, capture_output=True)


def mini_cache() -> Path:
    """The figure cache of the probe sites' builds (`support/mini.py`)."""
    return Path(mini_env()["SYMBIOTE_FIGURE_CACHE"])


def cli_args(root: Path) -> list[str]:
    return ["--root", str(root), "--cache-dir", str(mini_cache())]


@pytest.mark.slow  # four site builds in two git histories: `make test` runs it
def test_releases_record_builds_and_the_site_shows_and_freezes_them(mini_project) -> None:
    root = mini_project(text="First")
    (root / ".gitignore").write_text("/site/\n.cache/\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "one")
    from symbiote_core.figures.engine.registry import Engine

    engine = Engine(root=root, cache_dir=mini_cache())
    with pytest.raises(FigureError, match="build first"):
        release(engine, "0.1")
    assert cli.main([*cli_args(root), "build"]) == 0
    assert cli.main([*cli_args(root), "release", "0.1"]) == 0
    with pytest.raises(FigureError, match="commit first"):  # the record is uncommitted
        release(engine, "0.2")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "release 0.1")
    # Version 0.2: the probe's values move well beyond their spread, its text changes.
    figure = root / "figures_src" / "probe.py"
    figure.write_text(figure.read_text().replace("9 + s for s", "90 + s for s")
                      .replace("TEXT = 'First'", "TEXT = 'Second'"))
    git(root, "commit", "-qam", "two")
    assert cli.main([*cli_args(root), "build"]) == 0
    assert cli.main([*cli_args(root), "release", "0.2"]) == 0
    git(root, "add", "-A")
    git(root, "commit", "-qm", "release 0.2")
    assert [r.version for r in load_releases(root)] == ["0.1", "0.2"]

    result = run_mkdocs(root, env=mini_env())
    assert result.returncode == 0, result.stderr[-3000:]
    page = (root / "site" / "versions" / "index.html").read_text()
    assert "Version 0.2" in page and "Version 0.1" in page
    assert "<code>top</code>" in page  # the value that moved, named in 0.2's changes
    assert "Nothing changed beyond the seed spread" in page  # this build = release 0.2
    assert (root / "site" / "releases" / "0.1.json").is_file()

    assert cli.main([*cli_args(root), "freeze", str(root / "site")]) == 0
    first = (root / "site" / "v" / "0.1" / "index.html").read_text()
    second = (root / "site" / "v" / "0.2" / "index.html").read_text()
    assert "First" in first and "Second" not in first
    assert "Second" in second
