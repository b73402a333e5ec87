"""For authors (issue 10): `figures new` scaffolds a figure that builds as it stands,
and `figures diff` shows what changed in values and verdicts against another build."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from symbiote_core.figures import cli
from symbiote_core.figures.engine.build import build
from symbiote_core.figures.engine.registry import Engine

FIXTURE = Path(__file__).parent / "fixtures" / "figure_project"


def make_project(tmp_path: Path) -> Engine:
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    return Engine(
        root=root,
        figures_package="figs",
        project_packages=("figs", "lib"),
        cache_dir=root / ".cache" / "figures",
    )


def run_cli(engine: Engine, *args: str) -> int:
    return cli.main(
        [
            "--root",
            str(engine.root),
            "--figures-package",
            "figs",
            "--project-packages",
            "figs,lib",
            "--cache-dir",
            str(engine.cache_dir),
            *args,
        ]
    )


def test_new_scaffolds_a_figure_that_builds_and_whose_claim_holds_and_null_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_project(tmp_path)
    assert run_cli(engine, "new", "demo") == 0
    assert "figs/demo.py" in capsys.readouterr().out
    (result,) = build(engine, ["demo"])
    assert result.status == "computed", result.error
    assert result.entry is not None
    (claim,) = result.entry.claims
    assert claim.verdict == "holds"
    assert claim.real.holds and all(claim.real.seed_holds)
    assert not any(claim.nulls[0].evaluation.seed_holds)  # no shift planted: fails everywhere
    assert len(result.entry.meta["seeds"]) == 5
    assert len(result.entry.values["treated"]) == 5
    # Refuses to overwrite, and names that cannot be modules.
    assert run_cli(engine, "new", "demo") == 2
    assert run_cli(engine, "new", "not-a-name") == 2
    assert "must be a Python identifier" in capsys.readouterr().err


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_diff_shows_changed_values_against_a_revision_and_a_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_project(tmp_path)
    root = engine.root
    (root / ".gitignore").write_text(".cache/\nmarkers/\n")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    (before,) = build(engine, ["alpha"])
    assert before.ok, before.error
    assert run_cli(engine, "manifest", "-o", str(tmp_path / "base.json")) == 0
    saved = json.loads((tmp_path / "base.json").read_text())
    assert saved["figures"]["alpha"]["values"]["n_points"] == [6]
    assert saved["figures"]["beta"]["built"] is False

    assert run_cli(engine, "diff") == 0  # nothing changed yet
    assert "no figure value or claim verdict differs from HEAD" in capsys.readouterr().out

    alpha = root / "figs" / "alpha.py"
    alpha.write_text(alpha.read_text().replace("n: int = 6", "n: int = 7"))
    (after,) = build(engine, ["alpha"])
    assert after.ok, after.error

    for args in (
        ["diff", "HEAD", "--markdown"],
        ["diff", "--manifest", str(tmp_path / "base.json"), "--markdown"],
    ):
        assert run_cli(engine, *args) == 0
        out = capsys.readouterr().out
        assert "| alpha | n_points | 6 ± 0 (1 seeds) | 7 ± 0 (1 seeds) |" in out, out
        assert "| alpha | last_y |" in out
        assert "beta" not in out  # unbuilt on both sides, same sources: no change to show
        assert "claim has_points" not in out  # its verdict did not change

    assert run_cli(engine, "diff", "no-such-revision") == 2
    assert "unknown git revision" in capsys.readouterr().err
