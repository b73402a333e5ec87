"""Shared fixtures: the built essay, and throw-away copies of the project to break."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


def mkdocs_env(cache: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1", PYTHONUNBUFFERED="1")
    # Copies of the project share the real figure cache: their keys are the same
    # wherever a file is unchanged, so only what a test edits is recomputed.
    env["SYMBIOTE_FIGURE_CACHE"] = str(cache or ROOT / ".cache" / "figures")
    env["SYMBIOTE_NOTEBOOK_CACHE"] = str(ROOT / ".cache" / "mkdocs-jupyter")
    return env


def run_mkdocs(project: Path, *args: str, strict: bool = True,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "mkdocs", "build", *(["--strict"] if strict else []),
           "--site-dir", str(project / "site"), *args]
    return subprocess.run(cmd, cwd=project, env=env or mkdocs_env(), capture_output=True,
                          text=True, timeout=900)


def project_files() -> list[str]:
    """What a clone would hold: tracked files plus untracked ones git does not ignore."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [rel for rel in listed.splitlines() if (ROOT / rel).is_file()]


@pytest.fixture(scope="session")
def built_site() -> Path:
    """The real essay, built strictly once per test session."""
    result = run_mkdocs(ROOT)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    return ROOT / "site"


@pytest.fixture
def project_copy(tmp_path: Path) -> Callable[[], Path]:
    """A copy of the project (sources, essay, config) that a test may break."""

    def make() -> Path:
        target = tmp_path / "project"
        for rel in project_files():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, target / rel)
        return target

    return make
