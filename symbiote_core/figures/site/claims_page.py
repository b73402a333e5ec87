"""The generated claims appendix: every claim, seed by seed, beside its null.

Grouped by the page that states each claim, in reading order; every row links back to
its sentence, and every sentence's mark links here. Markdown with the essay's own
`{{ ref: }}` directives; the site adapter renders it like any page. Text from figure
modules is escaped (`markdown_literal`): it is data here, never markup (no tag, link,
code span or directive can start inside it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from symbiote_core.figures.authoring.claimtext import comparison, evaluation_text
from symbiote_core.figures.authoring.spec import AGGREGATES
from symbiote_core.figures.site.markup import FigureView, claim_anchor, escape, markdown_literal

_VERDICT_CLASS = {"holds": "holds", "fails": "fails", "cannot fail": "cannotfail"}
_VERDICT_TEXT = {"holds": "holds", "fails": "FAILS", "cannot fail": "CANNOT FAIL"}
_NOT_STATED = "Claims no page states"


def claims_page(
    views: Mapping[str, FigureView],
    page_titles: Mapping[str, str] | None = None,
    defer: Callable[[str], str] | None = None,
) -> str:
    """Pages in reading order, then figures; for each claim its test and a per-seed table.

    `page_titles` maps page source paths to titles, in reading order. `defer`, when
    given, takes each per-seed table's HTML and returns what stands for it in the
    Markdown (`PageRenderer.defer`): numbers no reader searches for, and most of the
    page, so neither Markdown nor the search index parses them on every rebuild.
    """
    defer = defer or (lambda fragment: fragment)
    page_titles = page_titles or {}
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
    order = {page: i for i, page in enumerate(page_titles)}
    groups: dict[str, list[tuple[FigureView, Mapping[str, Any]]]] = {}
    failed: list[FigureView] = []
    for view in sorted(views.values(), key=lambda v: (v.number is None, v.number or 0, v.name)):
        if view.error is not None:
            failed.append(view)
            continue
        for name, claim in view.claims.items():
            groups.setdefault(view.claim_pages.get(name, _NOT_STATED), []).append((view, claim))
    for view in failed:
        lines += [f"## `{view.name}`", "", _badge("fails", "FIGURE FAILED TO BUILD"), ""]
    for page in sorted(groups, key=lambda p: (p == _NOT_STATED, order.get(p, len(order)))):
        heading = (
            _NOT_STATED if page == _NOT_STATED else markdown_literal(page_titles.get(page, page))
        )
        lines += [f"## {heading}", ""]
        for view, claim in groups[page]:
            counts[claim["verdict"]] += 1
            lines += _claim_block(view, claim, None if page == _NOT_STATED else page, defer)
    total = sum(counts.values())
    summary = f"{counts['holds']} of {total} claims hold"
    if counts["fails"] or counts["cannot fail"]:
        summary += f"; {counts['fails']} fail; {counts['cannot fail']} cannot fail"
    lines[2:2] = [f"**{summary}.**", ""]
    table = summary_table(views, page_titles)
    at = lines.index("", 5) + 1  # after the introduction's paragraph
    lines[at:at] = [*table, "", "## Each claim, seed by seed", ""]
    return "\n".join(lines) + "\n"


def _claim_block(
    view: FigureView, claim: Mapping[str, Any], page: str | None, defer: Callable[[str], str]
) -> list[str]:
    verdict = claim["verdict"]
    real, null = claim["real"], claim["null"]
    anchor = claim_anchor(view.name, claim["name"])
    figure = f"{{{{ ref: {view.name} }}}}" if view.number else f"`{view.name}`"
    back = f" · [in the text]({page}#{anchor}-text)" if page else ""
    replaced = ", ".join(
        f"`{name}` → `{other}`" for name, other in sorted(claim["null_values"].items())
    )
    seeds = list((view.meta or {}).get("seeds") or range(len(real["gaps"])))
    block = [
        f"### `{claim['name']}` {_badge(verdict, _VERDICT_TEXT[verdict])} {{ #{anchor} }}",
        "",
        f"> {markdown_literal(claim['statement'])}",
        "",
        f"{figure}{back}",
        "",
        f"- **Compared:** `{comparison(claim)}`, which must hold {AGGREGATES[claim['aggregate']]}.",
        f"- **Measured:** {evaluation_text(real, claim['aggregate'])}.",
        f"- **Control:** {markdown_literal(claim['control'])}",
        f"- **Why this threshold:** {markdown_literal(claim['why'])}",
        f"- **Null:** {markdown_literal(claim['null_description'])} ({replaced}): "
        f"{evaluation_text(null, claim['aggregate'])}, so the null "
        f"{'holds too' if null['holds'] else 'does not hold'}.",
        "",
    ]
    rows = []
    for i in range(len(real["gaps"])):
        seed = seeds[i] if i < len(seeds) else i
        cells = (
            seed,
            f"{real['left'][i]:.4g}",
            f"{real['right'][i]:.4g}",
            f"{real['gaps'][i]:.3g}",
            _yes(real["seed_holds"][i]),
            f"{null['left'][i]:.4g}",
            f"{null['right'][i]:.4g}",
            f"{null['gaps'][i]:.3g}",
            _yes(null["seed_holds"][i]),
        )
        rows.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>")
    head = "".join(f'<th scope="col">{c}</th>' for c in _SEED_COLUMNS)
    # One line of HTML: a raw block to Markdown, like the table it would have made.
    table = (
        f'<div class="sym-seed-table"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )
    block += [defer(f'<details class="sym-seed-details"><summary>Seed by seed</summary>{table}</details>'), ""]
    return block


_SEED_COLUMNS = (
    "seed", "left", "right", "gap", "holds", "null left", "null right", "null gap", "null holds"
)


def _badge(verdict: str, text: str) -> str:
    return f'<span class="sym-claim--{_VERDICT_CLASS[verdict]}">{text}</span>'


def _yes(holds: bool) -> str:
    return "yes" if holds else "no"


def summary_table(
    views: Mapping[str, FigureView], page_titles: Mapping[str, str] | None = None
) -> list[str]:
    """One row per claim, in reading order: its sentence, figure, value, control, null and
    verdict; each links to its test below and to its sentence in the text. Markdown."""
    order = {page: i for i, page in enumerate(page_titles or {})}
    rows = []
    for view in sorted(views.values(), key=lambda v: (v.number is None, v.number or 0, v.name)):
        if view.error is not None:
            continue
        for name, claim in view.claims.items():
            page = view.claim_pages.get(name)
            rows.append((order.get(page, len(order)), view.number or 0, view, name, claim, page))
    lines = [
        "| claim | figure | measured | control | null | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for _, _, view, name, claim, page in sorted(rows, key=lambda r: (r[0], r[1])):
        anchor = claim_anchor(view.name, name)
        real, null = claim["real"], claim["null"]
        seeds = len(real["seed_holds"])
        figure = f"{{{{ ref: {view.name} }}}}" if view.number else f"`{view.name}`"
        sentence = markdown_literal(claim["statement"])
        text = f"[{sentence}]({page}#{anchor}-text)" if page else sentence
        measured = (
            f"<code>{markdown_literal(str(claim['left']))}</code> "
            f"{_mean(real['left']):.3g} vs {_mean(real['right']):.3g}"
        )
        null_text = (
            f"{markdown_literal(claim['null_description'])}: holds on "
            f"{sum(bool(h) for h in null['seed_holds'])} of {seeds}"
        )
        verdict = _badge(claim["verdict"], _VERDICT_TEXT[claim["verdict"]])
        lines.append(
            f"| {text} | {figure} | {measured} | {markdown_literal(claim['control'])} | "
            f"{null_text} | {verdict} [test](#{anchor}) |"
        )
    return lines


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")
