"""The forge workflow (.github/workflows/essay.yml) lints clean with actionlint, and the
lint is live: the same file with one mistake fails it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "essay.yml"


def actionlint() -> str:
    found = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    if not Path(found).exists():
        pytest.fail(
            "actionlint is not installed: it is in the test extra (pip install -e '.[test]')"
        )
    return found


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [actionlint(), "-no-color", str(path)], capture_output=True, text=True, timeout=120
    )


def test_the_workflow_lints_clean() -> None:
    run = lint(WORKFLOW)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        ("needs: build", "needs: biuld", "biuld"),  # a job that does not exist
        ("${{ github.base_ref }}", "${{ github.base_reff }}", "base_reff"),  # a bad context
        ("runs-on: ubuntu-latest", "runs-on: [ubuntu-latest", ""),  # broken YAML
    ],
)
def test_a_broken_workflow_fails_the_lint(
    tmp_path: Path, old: str, new: str, complaint: str
) -> None:
    text = WORKFLOW.read_text()
    assert old in text
    broken = tmp_path / ".github" / "workflows" / "essay.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(text.replace(old, new, 1))
    run = lint(broken)
    assert run.returncode != 0
    assert complaint in run.stdout


def test_the_figure_cache_is_keyed_on_the_figure_keys() -> None:
    steps = yaml.safe_load(WORKFLOW.read_text())["jobs"]["build"]["steps"]
    commands = [step.get("run", "") for step in steps]
    assert any("symbiote_core.figures keys" in c and "figure-keys.txt" in c for c in commands)
    caches = [s for s in steps if str(s.get("uses", "")).startswith("actions/cache/")]
    assert {s["uses"].split("@")[0] for s in caches} == {
        "actions/cache/restore",
        "actions/cache/save",
    }
    for step in caches:
        assert step["with"]["path"] == ".cache/figures"
        assert "hashFiles('figure-keys.txt')" in step["with"]["key"]
