"""The generated claims appendix: every claim, seed by seed, beside its nulls and controls.

Grouped by the page that states each claim, in reading order; every row links back to
its sentence, and every sentence's mark links here. For each claim: the comparison, the
verdict and the rule that decided it, the real run and every null and control seed by
seed (nulls and controls labelled apart), the separation between the weakest real seed
and the strongest null seed, and when its threshold was set (`claim_history`). Markdown
with the essay's own `{{ ref: }}` directives; the site adapter renders it like any page.
Text from figure modules is escaped (`markdown_literal`): it is data here, never markup
(no tag, link, code span or directive can start inside it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from symbiote_core.figures.authoring.claimtext import (
    comparison,
    evaluation_text,
    separation_text,
    verdict_text,
)
from symbiote_core.figures.authoring.spec import AGGREGATES, VERDICTS, upgrade_claim_json
from symbiote_core.figures.site.claim_history import STATUS_WORDS, ThresholdRecord
from symbiote_core.figures.site.markup import (
    FigureView,
    claim_anchor,
    claim_mark,
    escape,
    markdown_literal,
)

_NOT_STATED = "Claims no page states"
Records = Mapping[tuple[str, str], ThresholdRecord]
"""(figure, claim) -> when its threshold was set."""


def claims_page(
    views: Mapping[str, FigureView],
    page_titles: Mapping[str, str] | None = None,
    defer: Callable[[str], str] | None = None,
    records: Records | None = None,
) -> str:
    """Pages in reading order, then figures; for each claim its test and a per-seed table.

    `page_titles` maps page source paths to titles, in reading order. `defer`, when
    given, takes each per-seed table's HTML and returns what stands for it in the
    Markdown (`PageRenderer.defer`): numbers no reader searches for, and most of the
    page, so neither Markdown nor the search index parses them on every rebuild.
    `records` gives each claim's threshold history (the site reads it from git).
    """
    defer = defer or (lambda fragment: fragment)
    page_titles = page_titles or {}
    records = records or {}
    verdicts = "; ".join(f"**{v}**: {words}" for v, words in VERDICTS.items())
    lines = [
        "# Claims checked by the build",
        "",
        "Every claim in the essay is a comparison on data computed at build time, on "
        "every evaluation seed the figure runs (seeds disjoint from those its recipe was "
        "tuned on). Each claim says what it is compared with and where its threshold "
        "comes from, and is tested by the same code in the same run on the experiment "
        "and on at least one *null*: a live setting where the effect should be absent "
        "but could appear. A null whose two sides cannot differ, or that is pinned to one "
        "value while the experiment varies, is refused by the build. *Controls* are the "
        "same comparison with a different quantity put in: reported, never deciding. A "
        "seed's *gap* is how far the comparison clears its threshold: positive when it "
        f"holds. The verdicts, in the order their rules are applied: {verdicts}. A claim "
        "the essay states as failed is kept here with its numbers. For each threshold, the "
        "git history of its figure's module says when it was set: before, with or after "
        "the first commit that computed its values. This page is generated from the same "
        "cache entries as the figures.",
        "",
    ]
    counts: dict[str, int] = {}
    reported = 0
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
            claim = upgrade_claim_json(claim)
            counts[claim["verdict"]] = counts.get(claim["verdict"], 0) + 1
            reported += claim.get("stated") == "fails" and claim["verdict"] != "holds"
            record = records.get((view.name, claim["name"]))
            lines += _claim_block(view, claim, None if page == _NOT_STATED else page, defer, record)
    total = sum(counts.values())
    summary = f"{counts.get('holds', 0)} of {total} claims hold"
    others = [f"{n} {verdict}" for verdict, n in counts.items() if verdict != "holds" and n]
    if others:
        summary += "; " + "; ".join(others)
    if reported:
        summary += f" ({reported} of them stated as failed in the text)"
    lines[2:2] = [f"**{summary}.**", ""]
    table = summary_table(views, page_titles)
    at = lines.index("", 5) + 1  # after the introduction's paragraph
    lines[at:at] = [*table, "", "## Each claim, seed by seed", ""]
    return "\n".join(lines) + "\n"


def _claim_block(
    view: FigureView,
    claim: Mapping[str, Any],
    page: str | None,
    defer: Callable[[str], str],
    record: ThresholdRecord | None,
) -> list[str]:
    status, mark, _ = claim_mark(claim)
    aggregate = claim["aggregate"]
    anchor = claim_anchor(view.name, claim["name"])
    figure = f"{{{{ ref: {view.name} }}}}" if view.number else f"`{view.name}`"
    back = f" · [in the text]({page}#{anchor}-text)" if page else ""
    badge = mark if mark != "✓" else "holds"
    block = [
        f"### `{claim['name']}` {_badge(status, badge)} {{ #{anchor} }}",
        "",
        f"> {markdown_literal(claim['statement'])}",
        "",
        f"{figure}{back}",
        "",
        f"- **Verdict:** {markdown_literal(verdict_text(claim))}.",
        f"- **Compared:** `{comparison(claim)}`, which must hold {AGGREGATES[aggregate]}; "
        f"measured {evaluation_text(claim['real'], aggregate)}.",
        f"- **Compared with:** {markdown_literal(claim['control'])}",
        f"- **Why this threshold:** {markdown_literal(claim['why'])}",
        f"- **Threshold history:** {_history_text(record)}",
    ]
    for i, null in enumerate(claim["nulls"], start=1):
        label = "Null" if len(claim["nulls"]) == 1 else f"Null {i}"
        held = sum(null["evaluation"]["seed_holds"])
        outcome = f"holds on {held} seed(s)" if held else "fails on every seed"
        block.append(
            f"- **{label}:** {markdown_literal(null['description'])} "
            f"({_replaced(null['values'])}): {outcome}; "
            f"{evaluation_text(null['evaluation'], aggregate)}."
        )
    for i, control in enumerate(claim["controls"], start=1):
        label = "Control" if len(claim["controls"]) == 1 else f"Control {i}"
        held = sum(control["evaluation"]["seed_holds"])
        block.append(
            f"- **{label}** (reported, not deciding): "
            f"{markdown_literal(control['description'])} ({_replaced(control['values'])}): "
            f"the comparison holds on {held} of {len(control['evaluation']['seed_holds'])} "
            "seeds."
        )
    block += [f"- **Separation:** {markdown_literal(separation_text(claim))}.", ""]
    table = _seed_table(view, claim)
    block += [defer(f'<details class="sym-seed-details"><summary>Seed by seed</summary>{table}</details>'), ""]
    return block


def _replaced(values: Mapping[str, str]) -> str:
    return ", ".join(f"`{name}` → `{other}`" for name, other in sorted(values.items()))


def _history_text(record: ThresholdRecord | None) -> str:
    if record is None:
        return "not read (no history given to this page)."
    text = STATUS_WORDS[record.status]
    if record.set_in is not None:
        text += f"; in force since {record.set_in.short} ({record.set_in.day})"
    if record.values_since is not None:
        text += (
            f"; its values first existed in {record.values_since.short} ({record.values_since.day})"
        )
    revised = [
        f"{_code(c.old.text())} → {_code(c.new.text())} in "
        f"{c.commit.short + ' (' + c.commit.day + ')' if c.commit else 'the working tree'}"
        f"{' after its values existed' if c.after_values else ''}"
        for c in record.changes
    ]
    if revised:
        text += "; changes: " + "; ".join(revised)
    if record.note:
        text += f" ({markdown_literal(record.note)})"
    return text + "."


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
        claim = upgrade_claim_json(claim)
        real = claim["real"]
        seeds = len(real["seed_holds"])
        figure = f"{{{{ ref: {view.name} }}}}" if view.number else f"`{view.name}`"
        sentence = markdown_literal(claim["statement"])
        text = f"[{sentence}]({page}#{anchor}-text)" if page else sentence
        measured = (
            f"<code>{markdown_literal(str(claim['left']))}</code> "
            f"{_mean(real['left']):.3g} vs {_mean(real['right']):.3g}"
        )
        nulls = "; ".join(
            f"{markdown_literal(null['description'])}: holds on "
            f"{sum(bool(h) for h in null['evaluation']['seed_holds'])} of {seeds}"
            for null in claim["nulls"]
        )
        status, mark, _ = claim_mark(claim)
        verdict = _badge(status, mark)
        lines.append(
            f"| {text} | {figure} | {measured} | {markdown_literal(claim['control'])} | "
            f"{nulls} | {verdict} [test](#{anchor}) |"
        )
    return lines


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def _code(text: str) -> str:
    return f"`{text.replace('`', '')}`"


def _seed_table(view: FigureView, claim: Mapping[str, Any]) -> str:
    """Rows: the real run, each null, each control; columns: seeds. A cell gives both
    sides and the gap."""
    real = claim["real"]
    seeds = list((view.meta or {}).get("seeds") or range(len(real["gaps"])))
    rows = [("real", "", real)]
    for i, null in enumerate(claim["nulls"], start=1):
        rows.append(
            (f"null {i}" if len(claim["nulls"]) > 1 else "null", "null", null["evaluation"])
        )
    for i, control in enumerate(claim["controls"], start=1):
        label = f"control {i}" if len(claim["controls"]) > 1 else "control"
        rows.append((label, "control", control["evaluation"]))
    body = []
    for label, kind, evaluation in rows:
        cells = [f'<th scope="row">{escape(label)}</th>']
        for i in range(len(evaluation["gaps"])):
            holds = evaluation["seed_holds"][i]
            cells.append(
                f'<td class="sym-seed--{"holds" if holds else "not"}">'
                f"{escape(format(evaluation['left'][i], '.4g'))} vs "
                f"{escape(format(evaluation['right'][i], '.4g'))}<br>"
                f"gap {escape(format(evaluation['gaps'][i], '.3g'))}"
                f"{'' if holds else ' ✗'}</td>"
            )
        row_class = f' class="sym-seed-row--{kind}"' if kind else ""
        body.append(f"<tr{row_class}>{''.join(cells)}</tr>")
    head = '<th scope="col">seed</th>' + "".join(
        f'<th scope="col">{escape(seeds[i] if i < len(seeds) else i)}</th>'
        for i in range(len(real["gaps"]))
    )
    # One line of HTML: a raw block to Markdown, like the table it would have made.
    return (
        f'<div class="sym-seed-table"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _badge(status: str, text: str) -> str:
    return f'<span class="sym-claim--{status}">{text}</span>'
