"""Issue 21: `figures clean` deletes only what it can prove is this engine's.

A cache location is whatever a flag or a variable says (`--cache-dir .` typed by
mistake, a shared folder in `$SYMBIOTE_FIGURE_CACHE`). Each test puts a user's files
beside and inside a real cache of the fake project (`tests/fixtures/figure_project`),
or points the engine at a folder of user files, and checks that nothing but verified
entries (and the engine's own leftovers) goes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.engine import FIXTURE

from symbiote_core.figures.engine.build import build, plan
from symbiote_core.figures.engine.ownership import MARKER, NotAFigureCacheError, clean
from symbiote_core.figures.engine.registry import Engine


def engine_at(root: Path, cache: Path | str) -> Engine:
    return Engine(root=root, figures_package="figs", project_packages=("figs", "lib"),
                  cache_dir=cache)


def cli(root: Path, cache: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "symbiote_core.figures", "--root", str(root),
         "--figures-package", "figs", "--project-packages", "figs,lib",
         "--cache-dir", str(cache), *args],
        capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The fake project with alpha and beta built into a folder cache."""
    base = tmp_path_factory.mktemp("clean")
    root = base / "project"
    shutil.copytree(FIXTURE, root)
    cache = base / "cache"
    results = build(engine_at(root, cache), ["alpha", "beta"])
    assert all(r.ok for r in results), [r.error for r in results]
    return root, cache


@pytest.fixture
def cache_copy(built: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    root, cache = built
    copy = tmp_path / "cache"
    shutil.copytree(cache, copy, ignore=shutil.ignore_patterns("locks"))
    return root, copy


def user_files(cache: Path) -> dict[Path, bytes]:
    """A user's files beside the cache's folders and inside them (an entry too)."""
    (key,) = [p.name for p in (cache / "out" / "alpha").iterdir()]
    files = {
        cache / "notes.txt": b"my notes",
        cache / "data" / "mine.csv": b"1,2,3",
        cache / "out" / "results" / "table.csv": b"a,b",  # a folder named like a figure
        cache / "out" / "alpha" / "README.txt": b"about alpha",
        cache / "out" / "alpha" / key / "extra.txt": b"inside an entry",
        cache / "artifacts" / "hosts" / "weights.bin": b"\0\1",
        cache / "tmp" / "keep.txt": b"not a leftover",
        cache / "logs" / "diary.txt": b"dear diary",
        cache / "data" / "beta" / ("f" * 64) / "user.bin": b"key-shaped folder, foreign file",
    }
    for path, payload in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)
    return files


def test_clean_keeps_user_files_beside_and_inside_the_cache(cache_copy) -> None:
    root, cache = cache_copy
    engine = engine_at(root, cache)
    mine = user_files(cache)
    result = cli(root, cache, "clean")
    assert result.returncode == 0, result.stdout + result.stderr
    named = {line.strip() for line in result.stdout.splitlines()}
    for path, payload in mine.items():
        assert path.read_bytes() == payload, f"clean touched the user's {path}"
        # Named as left alone: the file, or the folder it was kept whole in.
        assert str(path) in named or str(path.parent) in named, (path, result.stdout)
    # Every figure entry went (the one with a user file inside keeps only that file).
    assert {p.status for p in plan(engine, ["alpha", "beta"])} == {"stale"}
    assert not list(cache.glob("*/*/*/meta.json"))
    assert not list(cache.glob("*/*/*/data.json"))
    assert "removed 4 cache entries" in result.stdout, result.stdout
    assert (cache / MARKER).is_file()  # still a figure cache


def test_a_folder_that_is_not_a_figure_cache_is_refused(built, tmp_path: Path) -> None:
    root, _ = built
    folder = tmp_path / "my-work"  # a `--cache-dir .` typed in the wrong folder
    mine = {
        folder / "data" / "survey" / "answers.csv": b"yes,no",
        folder / "out" / "report" / "draft.md": b"# Draft",
        folder / "artifacts" / "model" / "weights.bin": b"\0" * 8,
        folder / "todo.txt": b"everything",
    }
    for path, payload in mine.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    for command in (["clean"], ["clean", "alpha"], ["build", "alpha"]):
        result = cli(root, folder, *command)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        (line,) = result.stderr.strip().splitlines()  # one line, no traceback
        assert f"{folder} is not a figure cache" in line, line
        assert "--cache-dir" in line
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before  # no locks/ either
    for path, payload in mine.items():
        assert path.read_bytes() == payload
    with pytest.raises(NotAFigureCacheError):
        clean(engine_at(root, folder))


def test_an_empty_or_missing_folder_is_cleaned_as_an_empty_cache(built, tmp_path: Path) -> None:
    root, _ = built
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "empty", tmp_path / "missing"):
        result = cli(root, folder, "clean")
        assert result.returncode == 0, result.stderr
        assert "removed 0 cache entries" in result.stdout
    assert not (tmp_path / "missing").exists()  # clean made nothing


def test_a_cache_from_before_the_marker_is_recognised_by_its_entries(cache_copy) -> None:
    root, cache = cache_copy
    (cache / MARKER).unlink()  # as every developer's cache was made
    engine = engine_at(root, cache)
    (cache / "notes.txt").write_text("mine")
    # A build reads it as a cache (its entries verify) and marks it.
    assert [r.status for r in build(engine, ["alpha"])] == ["cached"]
    assert json.loads((cache / MARKER).read_text())["kind"]
    (cache / MARKER).unlink()
    cleaned = clean(engine, ["alpha"])
    assert len(cleaned.removed) == 2 and (cache / MARKER).is_file()
    assert plan(engine, ["alpha"])[0].status == "stale"
    assert plan(engine, ["beta"])[0].status == "cached"
    assert (cache / "notes.txt").read_text() == "mine"


def test_damaged_and_abandoned_entries_are_the_engines(cache_copy) -> None:
    root, cache = cache_copy
    engine = engine_at(root, cache)
    (entry,) = (cache / "out" / "alpha").iterdir()
    (entry / "meta.json").write_text("{ torn")  # damaged: no longer verifies
    abandoned = cache / "data" / "alpha" / ("e" * 64)
    abandoned.mkdir()
    (abandoned / "data.json").write_text("[1, 2")  # a writer killed before meta.json
    cleaned = clean(engine, ["alpha"])
    assert {Path(p) for p in cleaned.removed} >= {entry, abandoned}
    assert not (cache / "out" / "alpha").exists() and not (cache / "data" / "alpha").exists()
    assert cleaned.left == []


def test_a_url_cache_is_cleaned_by_the_same_rules(built, tmp_path: Path) -> None:
    root, cache = built
    folder = tmp_path / "shared"
    shutil.copytree(cache, folder, ignore=shutil.ignore_patterns("locks", "logs", "tmp"))
    (folder / "out" / "alpha" / "README.txt").write_text("mine")
    engine = engine_at(root, folder.as_uri())
    cleaned = clean(engine)
    assert [str(p) for p in cleaned.left] == [f"{folder.as_uri()}/out/alpha/README.txt"]
    assert (folder / "out" / "alpha" / "README.txt").read_text() == "mine"
    assert not list(folder.glob("*/*/*/meta.json"))
