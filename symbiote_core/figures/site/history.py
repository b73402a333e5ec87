"""The essay's history from git: dates for the byline and the "updates and corrections" list.

Works in any checkout. A shallow clone (CI's `--depth 1`) has only its newest commits:
the oldest one it holds looks as if it added every file, so it is reported as the point
where the history is cut rather than as a change. Without git (a tarball), there is no
history, and the page says so.

A commit counts as a *correction* when its message has a `Correction:` trailer (its value
says what was wrong) or its subject starts with "Fix" or "Correct".
"""

from __future__ import annotations

import html
import subprocess
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from symbiote_core.figures.engine import memo

_RECORD, _UNIT = "\x1e", "\x1f"


@dataclass(frozen=True)
class Change:
    commit: str
    day: date
    subject: str
    pages: tuple[str, ...]
    correction: str | None
    """What was corrected (the trailer's text, or the subject), or None for an update."""


@dataclass
class History:
    changes: list[Change] = field(default_factory=list)
    """Newest first."""
    available: bool = False
    shallow: bool = False
    cut_at: date | None = None
    """In a shallow clone: the date of the oldest commit held."""

    def last_change(self, page: str) -> date | None:
        for change in self.changes:
            if page in change.pages:
                return change.day
        return None

    @property
    def updated(self) -> date | None:
        return self.changes[0].day if self.changes else None


def git_output(root: Path, *args: str) -> str | None:
    """`git -C root ARGS`'s output, or None when git is missing or fails."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def commit_time(root: Path) -> int | None:
    """When the checked-out commit was made (seconds since the epoch); None without git."""
    out = (git_output(root, "log", "-1", "--format=%ct") or "").strip()
    return int(out) if out.isdigit() else None


def essay_history(root: Path, pathspecs: tuple[str, ...] = ("essay/*.md",)) -> History:
    """Every commit that touched the essay's pages, newest first.

    Memoised on the stat signatures of the files that name the checked-out commit
    (HEAD, its branch's ref, packed-refs, shallow; see `memo.py`): every rebuild of
    `mkdocs serve` asks, and `git log` over the whole history costs most of a second,
    while the answer changes only with a commit, checkout, reset or fetch.
    """
    stats = memo.Stats()
    refs = ref_files(root)
    memo_key = (root, pathspecs)
    if refs is not None:
        for path in refs:
            stats(path)  # before git reads them: see memo.Stats
        cached = _HISTORY.get(memo_key, stats)
        if cached is not None:
            return cached
    history = _essay_history(root, pathspecs)
    if refs is not None:
        _HISTORY.put(memo_key, history, ref_files(root) or refs, stats)
    return history


_HISTORY: memo.Memo[History] = memo.Memo("essay history")
_GIT_DIRS: dict[Path, tuple[Path, Path] | None] = {}


def ref_files(root: Path) -> list[Path] | None:
    """The files whose content fixes HEAD's commit and the shallow boundary; None
    outside git."""
    if root not in _GIT_DIRS:
        out = git_output(root, "rev-parse", "--absolute-git-dir", "--git-common-dir")
        lines = (out or "").split()
        if len(lines) != 2:
            _GIT_DIRS[root] = None
        else:
            git_dir = Path(lines[0])
            common = Path(lines[1]) if Path(lines[1]).is_absolute() else root / lines[1]
            _GIT_DIRS[root] = (git_dir, common.resolve())
    dirs = _GIT_DIRS[root]
    if dirs is None:
        return None
    git_dir, common = dirs
    files = [git_dir / "HEAD", git_dir / "shallow", common / "packed-refs", common / "shallow"]
    try:
        head = (git_dir / "HEAD").read_text().strip()
    except OSError:
        return files
    if head.startswith("ref: "):
        files.append(common / head[len("ref: ") :])
    return files


def _essay_history(root: Path, pathspecs: tuple[str, ...]) -> History:
    if git_output(root, "rev-parse", "--git-dir") is None:
        return History()
    shallow = (git_output(root, "rev-parse", "--is-shallow-repository") or "").strip() == "true"
    boundary: set[str] = set()
    if shallow:
        shallow_file = (git_output(root, "rev-parse", "--git-path", "shallow") or "").strip()
        path = Path(shallow_file) if Path(shallow_file).is_absolute() else root / shallow_file
        if path.is_file():
            boundary = set(path.read_text().split())
    fmt = _RECORD + _UNIT.join(["%H", "%cs", "%s", "%(trailers:key=Correction,valueonly)"])
    out = git_output(root, "log", f"--format={fmt}", "--name-only", "--", *pathspecs)
    if out is None:
        return History()
    history = History(available=True, shallow=shallow)
    for record in out.split(_RECORD)[1:]:
        head, _, names = record.partition("\n")
        parts = head.split(_UNIT)
        commit, day, subject = parts[0], date.fromisoformat(parts[1]), parts[2]
        trailer = parts[3].strip() if len(parts) > 3 else ""
        # The trailer's value can run onto the next lines (before the file names).
        extra, pages = [], []
        for line in names.splitlines():
            line = line.strip()
            if not line:
                continue
            (pages if "/" in line and line.endswith(".md") else extra).append(line)
        trailer = " ".join([trailer, *extra]).strip()
        if commit in boundary:
            history.cut_at = day
            continue
        correction = trailer or (subject if subject.startswith(("Fix", "Correct")) else None)
        history.changes.append(Change(commit, day, subject, tuple(pages), correction or None))
    return history


def history_markdown(
    history: History,
    page_url: dict[str, str],
    page_titles: dict[str, str],
    released: date,
    repo_url: str | None = None,
) -> str:
    """The 'updates and corrections' section, newest first; drafts before `released` folded."""
    lines = ["## Updates and corrections", ""]
    if not history.available:
        return "\n".join(
            [
                *lines,
                "This copy of the essay was built without its git history, so its "
                "changes cannot be listed here.",
                "",
            ]
        )
    after = [c for c in history.changes if c.day > released]
    drafts = [c for c in history.changes if c.day <= released]
    corrections = [c for c in after if c.correction]
    lines += [
        f"Generated from the git history of the essay's pages: {len(after)} change(s) since "
        f"publication on {released:%-d %B %Y}, {len(corrections)} of them correction(s).",
        "",
    ]
    if history.shallow:
        cut = f" on {history.cut_at:%-d %B %Y}" if history.cut_at else ""
        lines += [
            f'!!! note "Partial history"\n    This copy was cloned without its full history '
            f"(a shallow clone), which is cut{cut}: older changes are not listed.",
            "",
        ]
    if corrections:
        lines += ["### Corrections", ""]
        for c in corrections:
            lines.append(
                f"- **{c.day:%-d %B %Y}**: {_escape(c.correction or '')} "
                f"({_pages(c, page_url, page_titles)}; {_commit(c, repo_url)})"
            )

        lines.append("")
    lines += ["### All changes since publication", ""]
    lines += [_item(c, page_url, page_titles, repo_url) for c in after]
    if not after:
        lines.append("- None yet.")
    lines.append("")
    if drafts:
        lines += [f'??? note "Drafting history before publication ({len(drafts)} changes)"', ""]
        lines += ["    " + _item(c, page_url, page_titles, repo_url) for c in drafts]
        lines.append("")
    return "\n".join(lines)


def _item(c: Change, page_url: dict[str, str], titles: dict[str, str], repo_url: str | None) -> str:
    return (
        f"- **{c.day:%-d %B %Y}**: {_escape(c.subject)} "
        f"({_pages(c, page_url, titles)}; {_commit(c, repo_url)})"
    )


def _escape(text: str) -> str:
    # Commit subjects are plain text: keep Markdown, HTML and the directives from reading them.
    text = html.escape(text, quote=False)
    for ch in "\\`*_[]#{}":
        text = text.replace(ch, "\\" + ch)
    return text


def _pages(change: Change, page_url: dict[str, str], titles: dict[str, str]) -> str:
    shown = []
    for page in change.pages:
        src = page.removeprefix("essay/")
        if src in page_url:
            shown.append(f"[{_escape(titles.get(src, src))}]({page_url[src]})")
        else:
            shown.append(f"`{src}`")
    return ", ".join(shown) or "—"


def _commit(change: Change, repo_url: str | None) -> str:
    short = change.commit[:7]
    if repo_url:
        return f"[`{short}`]({repo_url.rstrip('/')}/commit/{change.commit})"
    return f"`{short}`"
