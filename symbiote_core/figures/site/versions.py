"""The versions page: every release, what changed since the one before, and what the
current build changes since the latest release (records from `engine/releases.py`).

A reader who cited version 0.2 finds it here, frozen at `v/0.2/`, and sees which values
moved beyond their seed spread and which verdicts flipped since then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from symbiote_core.figures.engine.releases import RELEASES, Change, Release, changes
from symbiote_core.figures.site.markup import FigureView, markdown_literal

VERSIONS_PAGE = "versions.md"


def current_manifest(views: Mapping[str, FigureView]) -> dict[str, Any]:
    """The running build as a manifest (the same shape `diff.manifest` gives)."""
    figures = {}
    for name, view in views.items():
        if view.meta is None:
            continue
        figures[name] = {
            "values": dict(view.values),
            "claims": {claim: {"verdict": c["verdict"]} for claim, c in view.claims.items()},
        }
    return {"figures": figures}


def versions_page(
    releases: Sequence[Release], views: Mapping[str, FigureView], version: str
) -> str:
    """Markdown of the page; `version` is the one this build says it is (CITATION.cff)."""
    lines = [
        "# Versions",
        "",
        f"This is version {markdown_literal(version or 'unversioned')} of the essay, built "
        "from its sources. A release records its build (every figure's values per seed "
        "and every claim's verdict) and is kept, as it was, under its own address. A value "
        "counts as changed when its mean moved by more than its spread over seeds; a "
        "verdict, whenever it differs.",
        "",
    ]
    if not releases:
        lines += ["No release has been recorded yet (`python -m symbiote_core.figures "
                  "release VERSION`).", ""]
        return "\n".join(lines)
    latest = releases[-1]
    lines += [f"## Since version {latest.version}", ""]
    lines += _table(changes(latest.manifest, current_manifest(views)), "this build")
    for index in range(len(releases) - 1, -1, -1):
        item = releases[index]
        frozen = f"v/{item.version}/"
        record = f"{RELEASES.name}/{item.version}.json"
        lines += [
            f"## Version {item.version}",
            "",
            f"Released {item.date} from revision `{item.revision}`: "
            f'<a href="../{frozen}">the essay as it was</a> · '
            f'<a href="../{record}">its record</a>.',
            "",
        ]
        if index > 0:
            previous = releases[index - 1]
            lines += _table(changes(previous.manifest, item.manifest), f"version {item.version}",
                            previous.version)
    return "\n".join(lines)


def _table(found: Sequence[Change], now: str, before: str | None = None) -> list[str]:
    if not found:
        return ["Nothing changed beyond the seed spread, and no verdict flipped.", ""]
    head = f"| figure | what | {'version ' + before if before else 'then'} | {now} |"
    lines = [head, "|---|---|---|---|"]
    for change in found:
        what = {"value": "value", "verdict": "verdict", "added": "figure", "removed": "figure"}[
            change.kind
        ]
        item = f"{what} `{change.item}`" if change.item else f"{what} {change.kind}"
        lines.append(
            f"| `{change.figure}` | {item} | {markdown_literal(change.before)} | "
            f"{markdown_literal(change.after)} |"
        )
    return [*lines, ""]
