"""The generated claims appendix: every claim, seed by seed, beside its null.

Markdown with the essay's own `{{ ref: }}` directives; the site adapter renders it like
any page. Text from figure modules is escaped: it is data here, never markup.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from symbiote_core.figures.claimtext import comparison, evaluation_text
from symbiote_core.figures.markup import FigureView
from symbiote_core.figures.spec import AGGREGATES

_VERDICT_CLASS = {"holds": "holds", "fails": "fails", "cannot fail": "cannotfail"}
_VERDICT_TEXT = {"holds": "holds", "fails": "FAILS", "cannot fail": "CANNOT FAIL"}


def claims_page(views: Mapping[str, FigureView]) -> str:
    """Figures in reading order; for each claim a summary row and a per-seed table."""
    lines = [
        "# Claims checked by the build",
        "",
        "Every claim in the essay is a comparison on data computed at build time, on "
        "every seed the figure runs. Each claim names its control, says where its "
        "threshold comes from, and is tested twice by the same code in the same run: on "
        "the experiment, and on a *null* where the effect should be absent. A claim "
        "that fails, or that also holds on its null (it **cannot fail**), fails the "
        "build. A seed's *gap* is how far the comparison clears its threshold: positive "
        "when it holds. This page is generated from the same cache entries as the figures.",
        "",
    ]
    counts = {"holds": 0, "fails": 0, "cannot fail": 0}
    order = sorted(views.values(), key=lambda v: (v.number is None, v.number or 0, v.name))
    for view in order:
        figure = f"{{{{ ref: {view.name} }}}}" if view.number else f"`{view.name}`"
        if view.error is not None:
            lines += [f"## {figure}", "", _badge("fails", "FIGURE FAILED TO BUILD"), ""]
            continue
        if not view.claims:
            continue
        title = html.escape(str((view.meta or {}).get("title", view.name)))
        lines += [f"## {figure}: {title}", ""]
        for claim in view.claims.values():
            counts[claim["verdict"]] += 1
            lines += _claim_block(view.name, claim)
    total = sum(counts.values())
    summary = f"{counts['holds']} of {total} claims hold"
    if counts["fails"] or counts["cannot fail"]:
        summary += f"; {counts['fails']} fail; {counts['cannot fail']} cannot fail"
    lines[2:2] = [f"**{summary}.**", ""]
    return "\n".join(lines) + "\n"


def _claim_block(figure: str, claim: Mapping[str, Any]) -> list[str]:
    verdict = claim["verdict"]
    real, null = claim["real"], claim["null"]
    replaced = ", ".join(
        f"`{name}` → `{other}`" for name, other in sorted(claim["null_values"].items())
    )
    block = [
        f"### `{figure}.{claim['name']}` {_badge(verdict, _VERDICT_TEXT[verdict])} "
        f"{{ #claim-{figure}-{claim['name']} }}",
        "",
        f"> {html.escape(claim['statement'])}",
        "",
        f"- **Compared:** `{comparison(claim)}`, which must hold {AGGREGATES[claim['aggregate']]}.",
        f"- **Control:** {html.escape(claim['control'])}",
        f"- **Why this threshold:** {html.escape(claim['why'])}",
        f"- **Null:** {html.escape(claim['null_description'])} ({replaced}).",
        f"- **Result:** {evaluation_text(real, claim['aggregate'])}; on the null "
        f"{evaluation_text(null, claim['aggregate'])}, so the null "
        f"{'holds too' if null['holds'] else 'does not hold'}.",
        "",
        "| seed | left | right | gap | holds | null left | null right | null gap | null holds |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for i in range(len(real["gaps"])):
        block.append(
            f"| {i} | {real['left'][i]:.4g} | {real['right'][i]:.4g} | {real['gaps'][i]:.3g} | "
            f"{_yes(real['seed_holds'][i])} | {null['left'][i]:.4g} | {null['right'][i]:.4g} | "
            f"{null['gaps'][i]:.3g} | {_yes(null['seed_holds'][i])} |"
        )
    block.append("")
    return block


def _badge(verdict: str, text: str) -> str:
    return f'<span class="sym-claim--{_VERDICT_CLASS[verdict]}">{text}</span>'


def _yes(holds: bool) -> str:
    return "yes" if holds else "no"
