"""The checkout, the test session's private caches, and copies of the project.

Hermetic: a test session has its own figure and notebook caches (in a temporary
folder, each seeded once from the developer's, which are only read: `.cache/figures`
and `.cache/notebooks`, or the folders $SYMBIOTE_FIGURE_CACHE and
$SYMBIOTE_NOTEBOOK_CACHE name), and every build, the real essay's included, runs in a
copy of the project, so no test writes into the checkout's `.cache` or `site/`, nor
edits the essay's files.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


@functools.cache
def session_dir() -> Path:
    """This test session's private folder (removed when the session ends)."""
    folder = Path(tempfile.mkdtemp(prefix="symbiote-tests-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


SHARED_ENV = "SYMBIOTE_TESTS_SHARED"


def shared_dir() -> Path:
    """A folder every process of this test run shares (tests/conftest.py makes it before
    the xdist workers start, and removes it when the run ends); this session's private
    folder where no such run made one."""
    named = os.environ.get(SHARED_ENV, "")
    return Path(named) if named and Path(named).is_dir() else session_dir()


def _developer_cache(variable: str, default: Path) -> Path:
    """The developer's cache folder: `$variable` when it names a local folder (a worktree
    sharing another checkout's cache), else `default` in this checkout."""
    named = os.environ.get(variable, "")
    if named and "://" not in named and Path(named).is_dir():
        return Path(named)
    return default


def seeded_cache(cache: Path, developer: Path) -> Path:
    """`cache`, a new folder, seeded with a copy of `developer` (read, never written)."""
    if developer.is_dir():
        shutil.copytree(developer, cache, ignore=shutil.ignore_patterns("locks", "tmp", "logs"))
    cache.mkdir(parents=True, exist_ok=True)
    return cache


def _seeded(name: str, developer: Path) -> Path:
    """A session cache folder seeded with a copy of `developer`."""
    return seeded_cache(session_dir() / name, developer)


@dataclass(frozen=True)
class EssayBuild:
    """The real essay built strictly: its site, and the figure cache its build filled
    (the `essay_build` fixture, tests/essay/conftest.py)."""

    site: Path
    figure_cache: Path


def developer_figure_cache() -> Path:
    """The developer's figure cache (`.cache/figures`, or the folder
    $SYMBIOTE_FIGURE_CACHE names), which tests only copy."""
    return _developer_cache("SYMBIOTE_FIGURE_CACHE", ROOT / ".cache" / "figures")


@functools.cache
def session_figure_cache() -> Path:
    """The session's figure cache, seeded from the developer's: entries are verified on
    read and keyed on source, so a copy serves only what fits."""
    return _seeded("figures", developer_figure_cache())


@functools.cache
def session_notebook_cache() -> Path:
    """The session's executed-notebook cache, seeded like the figure cache: entries are
    checksummed and keyed on the notebook, its options and the library's source, so the
    essay's build re-executes only a notebook whose inputs changed."""
    developer = _developer_cache("SYMBIOTE_NOTEBOOK_CACHE", ROOT / ".cache" / "notebooks")
    return _seeded("notebooks", developer)


def mkdocs_env(cache: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", PYTHONUNBUFFERED="1")
    # Copies of the project share the session's figure cache: their keys are the same
    # wherever a file is unchanged, so only what a test edits is recomputed.
    env["SYMBIOTE_FIGURE_CACHE"] = str(cache or session_figure_cache())
    env["SYMBIOTE_NOTEBOOK_CACHE"] = str(session_notebook_cache())
    return env


def run_mkdocs(project: Path, *args: str, strict: bool = True,
               env: dict[str, str] | None = None,
               timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """`mkdocs build` of a copy; `timeout` only guards against a hang (the real essay,
    every figure computed from scratch on a 2-core CI runner, passes a longer one)."""
    cmd = [sys.executable, "-m", "mkdocs", "build", *(["--strict"] if strict else []),
           "--site-dir", str(project / "site"), *args]
    return subprocess.run(cmd, cwd=project, env=env or mkdocs_env(), capture_output=True,
                          text=True, timeout=timeout)


def project_files() -> list[str]:
    """What a clone would hold: tracked files plus untracked ones git does not ignore."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [rel for rel in listed.splitlines() if (ROOT / rel).is_file()]


def copy_project(target: Path) -> Path:
    for rel in project_files():
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target / rel)
    return target
