"""For authors: `figures new` scaffolds a figure that builds as it stands and follows
the authoring rules, and `figures diff` shows what changed in values and verdicts
against another build."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from support.engine import cli_args

from symbiote_core.figures import cli
from symbiote_core.figures.check import check
from symbiote_core.figures.engine.build import build
from symbiote_core.figures.engine.registry import Engine


def run_cli(engine: Engine, *args: str) -> int:
    return cli.main(cli_args(engine, *args))


def test_new_scaffolds_a_figure_that_builds_and_whose_claim_holds_and_null_fails(
    fake_project, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = fake_project()
    assert run_cli(engine, "new", "demo") == 0
    out = capsys.readouterr().out
    assert "figs/demo.py" in out
    # `new` checks the module it wrote: from source, every rule the build is not needed for.
    assert "authoring rules: 1 figure(s) follow every rule" in out, out
    assert "not checked: params-rows" in out
    (result,) = build(engine, ["demo"])
    assert result.status == "computed", result.error
    assert result.entry is not None
    (claim,) = result.entry.claims
    assert claim.verdict == "holds"
    assert claim.real.holds and all(claim.real.seed_holds)
    assert not any(claim.nulls[0].evaluation.seed_holds)  # no shift planted: fails everywhere
    assert len(result.entry.meta["seeds"]) == 5
    assert len(result.entry.values["treated"]) == 5
    (report,) = check(engine, ["demo"])  # built: every rule, on what the build recorded
    assert report.findings == () and report.unchecked == ()
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
    fake_project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = fake_project()
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
