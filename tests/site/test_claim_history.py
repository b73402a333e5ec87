"""Thresholds on the record: when each claim's threshold was set, read from a throwaway
git repository's history of a figure module (parsed, never imported)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from symbiote_core.figures.site.claim_history import (
    Setting,
    module_history,
    parse_claims,
    threshold_record,
    unsupported_why,
)

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

MODULE = "figs/fig.py"


def _git(repo: Path, *args: str, when: str = "2026-12-01T12:00:00Z") -> str:
    env = dict(
        os.environ,
        GIT_AUTHOR_DATE=when,
        GIT_COMMITTER_DATE=when,
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.org",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.org",
    )
    out = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, env=env, text=True
    )
    return out.stdout.strip()


def _module(values: str, claims: str, constants: str = "") -> str:
    return f'''
from symbiote_core.figures.authoring.spec import Claim, Figure, Null
{constants}
VALUES = {{{values}}}
CLAIMS = ({claims})
'''


def _claim(name: str, right: str, margin: str = "0.0", extra: str = "") -> str:
    return (
        f"Claim(name={name!r}, statement='s', left='score', op='>', right={right}, "
        f"margin={margin}, control='c', why='w', null=Null(description='n', "
        f"values={{'score': 'score_null'}}){extra}),"
    )


def _commit(repo: Path, text: str, message: str, when: str) -> str:
    (repo / MODULE).write_text(text)
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", message, when=when)
    return _git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A figure whose `revised` claim went from 0.85 to 0.5 after its values existed,
    whose `planned` claim was committed before its values, and whose `steady` claim was
    set with its values and never changed."""
    repo = tmp_path / "repo"
    (repo / "figs").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    commits = {}
    # 1: the planned claim is written down; nothing computes its values yet.
    commits["plan"] = _commit(
        repo,
        _module("", _claim("planned", "'other'", "0.1")),
        "Plan",
        "2026-11-01T10:00:00Z",
    )
    # 2: values, and two claims set with them; the margin comes from a constant.
    values = "'score': 1, 'score_null': 2, 'other': 3"
    claims = (
        _claim("planned", "'other'", "0.1")
        + _claim("revised", "0.85")
        + _claim("steady", "'other'", "MARGIN")
    )
    commits["values"] = _commit(
        repo, _module(values, claims, "MARGIN = 0.25"), "Values", "2026-11-02T10:00:00Z"
    )
    # 3: the revised claim's threshold lowered after its values existed.
    claims = (
        _claim("planned", "'other'", "0.1")
        + _claim("revised", "0.5")
        + _claim("steady", "'other'", "MARGIN")
    )
    commits["revision"] = _commit(
        repo, _module(values, claims, "MARGIN = 0.25"), "Lower it", "2026-11-03T10:00:00Z"
    )
    # 4: an unrelated edit (a constant is renamed, its value unchanged).
    claims = claims.replace("MARGIN", "QUARTER")
    commits["rename"] = _commit(
        repo, _module(values, claims, "QUARTER = 0.25"), "Rename", "2026-11-04T10:00:00Z"
    )
    return repo, commits


def _entry_claim(name: str, right: float | str, margin: float = 0.0, **extra) -> dict:
    """A claim as a cache entry stores it (what the site reads)."""
    return {"name": name, "left": "score", "op": ">", "right": right, "margin": margin,
            "aggregate": "every_seed", "why": "w", **extra}


def test_a_threshold_lowered_after_its_values_existed_is_revised_after_results(repo) -> None:
    root, commits = repo
    history = module_history(root, MODULE)
    assert history.available and len(history.revisions) == 4
    record = threshold_record(history, _entry_claim("revised", 0.5))
    assert record.status == "revised after results"
    assert record.values_since.sha == commits["values"]
    assert record.set_in.sha == commits["revision"]
    (change,) = record.changes
    assert change.commit.sha == commits["revision"] and change.after_values
    assert (change.old.right, change.new.right) == (0.85, 0.5)
    assert change.old.text() == "score > 0.85 (every_seed)"


def test_a_threshold_set_with_its_values_and_one_committed_before_them(repo) -> None:
    root, commits = repo
    history = module_history(root, MODULE)
    steady = threshold_record(history, _entry_claim("steady", "other", 0.25))
    assert steady.status == "set with its values" and not steady.changes
    assert steady.set_in.sha == commits["values"]  # a renamed constant is no change
    planned = threshold_record(history, _entry_claim("planned", "other", 0.1))
    assert planned.status == "set before its values" and planned.before_values
    assert planned.set_in.sha == commits["plan"]
    assert planned.values_since.sha == commits["values"]


def test_an_uncommitted_edit_shows_as_not_committed(repo) -> None:
    root, _ = repo
    record = threshold_record(module_history(root, MODULE), _entry_claim("steady", "other", 0.2))
    assert record.status == "not committed"
    assert record.changes[-1].commit is None and record.changes[-1].new.margin == 0.2
    new = threshold_record(module_history(root, MODULE), _entry_claim("brand_new", 1.0))
    assert new.status == "not committed"


def test_a_why_that_claims_a_threshold_came_first_needs_the_history_to_show_it(repo) -> None:
    root, _ = repo
    history = module_history(root, MODULE)
    why = "'Most' as more than half, a criterion fixed before the runs."
    revised = _entry_claim("revised", 0.5, why=why)
    assert unsupported_why(revised, threshold_record(history, revised)) == "before the runs"
    planned = _entry_claim("planned", "other", 0.1, why=why)
    assert unsupported_why(planned, threshold_record(history, planned)) is None
    plain = _entry_claim("revised", 0.5, why="'Most' stated as more than half.")
    assert unsupported_why(plain, threshold_record(history, plain)) is None


def test_outside_git_there_is_no_history(tmp_path: Path) -> None:
    (tmp_path / "figs").mkdir()
    (tmp_path / MODULE).write_text(_module("", _claim("x", "1.0")))
    record = threshold_record(module_history(tmp_path, MODULE), _entry_claim("x", 1.0))
    assert record.status == "no history"


def test_claims_built_by_a_helper_with_static_arguments_are_followed() -> None:
    source = '''
from symbiote_core.figures.authoring.spec import Claim, Null
NOISE = 0.05

def _claim(name, metric, rising, margin=NOISE):
    strong, none = f"{metric}_strong", f"{metric}_none"
    left, right = (strong, none) if rising else (none, strong)
    return Claim(name=name, statement="s", left=left, op=">", right=right, margin=margin,
                 control="c", why="w", null=Null(description="n", values={left: "x"}))

CLAIMS = (_claim("rises", "share", True), _claim("falls", "loss", False, margin=2 * NOISE))
OTHER = Claim(name="dynamic", statement="s", left="a", op=">", right=compute_it(), why="w",
              control="c", null=None)
'''
    settings, strings = parse_claims(source)
    assert settings["rises"] == Setting("share_strong", ">", "share_none", 0.05, "every_seed")
    assert settings["falls"].right == "loss_strong" and settings["falls"].margin == 0.1
    assert settings["dynamic"].right == "<compute_it()>" and not settings["dynamic"].traced
    assert "s" not in strings  # strings inside Claim(...) are not value names
