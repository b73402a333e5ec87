"""The updates-and-corrections list from git: full, shallow and missing history."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from symbiote_core.figures.site.history import essay_history, history_markdown

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _git(repo: Path, *args: str, when: str = "2026-12-01T12:00:00Z") -> None:
    env = dict(
        os.environ,
        GIT_AUTHOR_DATE=when,
        GIT_COMMITTER_DATE=when,
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.org",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.org",
    )
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "essay").mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "main")
    (repo / "essay" / "a.md").write_text("# A\n")
    (repo / "README.md").write_text("x\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "Draft A", when="2026-11-20T10:00:00Z")
    (repo / "essay" / "a.md").write_text("# A\n\nmore\n")
    (repo / "essay" / "b.md").write_text("# B\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "Section B", when="2026-12-03T10:00:00Z")
    (repo / "README.md").write_text("y\n")
    _git(repo, "commit", "-qam", "Not an essay page", when="2026-12-04T10:00:00Z")
    (repo / "essay" / "b.md").write_text("# B\n\nfixed\n")
    _git(
        repo,
        "commit",
        "-qam",
        "Wording in B\n\nCorrection: the gain was 2x, not 3x",
        when="2026-12-05T10:00:00Z",
    )
    return repo


def test_full_history_lists_page_changes_and_corrections(repo: Path) -> None:
    history = essay_history(repo)
    assert history.available and not history.shallow
    assert [c.subject for c in history.changes] == ["Wording in B", "Section B", "Draft A"]
    assert history.changes[0].correction == "the gain was 2x, not 3x"
    assert history.changes[1].correction is None
    assert history.changes[1].pages == ("essay/a.md", "essay/b.md")
    assert history.last_change("essay/a.md") == date(2026, 12, 3)
    text = history_markdown(history, {"b.md": "b.md"}, {"b.md": "B"}, released=date(2026, 12, 1))
    assert "2 change(s) since publication" in text and "1 of them correction(s)" in text
    assert "the gain was 2x, not 3x ([B](b.md)" in text
    assert "Drafting history before publication (1 changes)" in text


def test_shallow_clone_marks_the_cut_instead_of_inventing_changes(
    repo: Path, tmp_path: Path
) -> None:
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "2", f"file://{repo}", str(clone)],
        check=True,
        capture_output=True,
    )
    history = essay_history(clone)
    assert history.available and history.shallow
    # The oldest commit held looks as if it added every page: it is the cut, not a change.
    assert [c.subject for c in history.changes] == ["Wording in B"]
    assert history.cut_at == date(2026, 12, 4)
    text = history_markdown(history, {}, {}, released=date(2026, 12, 1))
    assert "Partial history" in text and "shallow clone" in text


def test_no_git_says_so(tmp_path: Path) -> None:
    (tmp_path / "essay").mkdir()
    history = essay_history(tmp_path)
    assert not history.available and history.changes == []
    text = history_markdown(history, {}, {}, released=date(2026, 12, 1))
    assert "without its git history" in text


def test_commit_subjects_cannot_inject_markup_or_directives(repo: Path) -> None:
    (repo / "essay" / "a.md").write_text("# A\n\nagain\n")
    _git(repo, "commit", "-qam", "Use {{ value: x.y }} and <script>", when="2026-12-06T10:00:00Z")
    text = history_markdown(essay_history(repo), {}, {}, released=date(2026, 12, 1))
    assert "{{" not in text and "<script>" not in text and "&lt;script&gt;" in text
