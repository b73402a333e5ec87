"""The essay for programs: `llms.txt`, each page as Markdown with its numbers filled in,
and `claims.json`, every checked claim with its per-seed values, null and verdict.

`llms.txt` follows the llms.txt proposal (llmstxt.org): a title, a one-line summary, and
a list of links to each page's Markdown (`<page>/index.md`, beside its `index.html`).
In that Markdown every directive is plain text: a value is its formatted number (mean
± spread where it varies over seeds), a figure is its title, caption and a link to its
SVG and data, a claim is its sentence followed by its verdict in brackets. So a
language model, or a script, reads what a person reads, without HTML.

`claims.json` is the ledger a program can check: for each claim, its statement, figure,
the compared values per seed for the real run, its nulls and controls, the separation,
the verdict and the rule that decided it, when its threshold was set (from git), and the
source commit of the build. A test checks it against the claims appendix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from symbiote_core.figures.authoring import palette
from symbiote_core.figures.authoring.spec import upgrade_claim_json
from symbiote_core.figures.site.markup import PageRenderer, find_directives

_CAPTION_WORD = re.compile(r"\{\{\s*(colour|panel):\s*([^|}]+?)\s*(?:\|\s*(\w+)\s*)?\}\}")
"""`{{ colour: ROLE }}` and `{{ panel: SIDE | capital }}` in a caption."""

CLAIMS_JSON = "claims.json"
LLMS_TXT = "llms.txt"
FORMAT = 2  # 2: nulls and controls as lists, separation, decided_by, stated, history
"""Bump when the shape of claims.json changes."""


class PlainRenderer(PageRenderer):
    """`PageRenderer` whose output is plain Markdown text instead of HTML fragments."""

    def render(self, text: str) -> str:
        out: list[str] = []
        last = 0
        for d in find_directives(text):
            out.append(text[last : d.start])
            try:
                # The handler by name, so this class's overrides are the ones called.
                handler = getattr(self, self.HANDLERS[d.kind].__name__)
                out.append(handler(d))
            except Exception:
                out.append(d.text)  # the HTML build reports it; keep the source visible
            last = d.end
        out.append(text[last:])
        return "".join(out)

    def _number(self, text: str, source: str, view: Any = None) -> str:
        return text

    def defer(self, fragment: str) -> str:
        return ""

    def _figure(self, d: Any) -> str:
        view = self._view(d.target, d)
        meta = view.meta or {}
        number = f"Figure {view.number}" if view.number else "Figure"
        svg = self.url_to(view.files.get("figure.svg", ""))
        data = self.url_to(view.files.get("data.json", ""))
        return (
            f"\n\n![{number}: {meta.get('title', view.name)}]({svg})\n\n"
            f"*{number}.* {self._caption(str(meta.get('caption', '')))} "
            f"(data: [{view.name}/data.json]({data}))\n\n"
        )

    def _caption(self, caption: str) -> str:
        """A caption's colour and panel directives as the words a reader of the light,
        wide page sees (the picture linked is the light one); others as in the text."""

        def word(m: re.Match[str]) -> str:
            kind, target, fmt = m.group(1), m.group(2).strip(), m.group(3)
            text = palette.colour_name(target, "light") if kind == "colour" else target.lower()
            return text[:1].upper() + text[1:] if fmt == "capital" else text

        return self.render(_CAPTION_WORD.sub(word, caption))

    def _ref(self, d: Any) -> str:
        view = self._view(d.target, d)
        return f"Figure {view.number}" if view.number else str((view.meta or {}).get("title"))

    def _claim(self, d: Any) -> str:
        view, name = self._split(d)
        claim = view.claims[name]
        return f"{claim['statement']} [claim {view.name}.{name}: {claim['verdict']}]"

    def _check(self, d: Any) -> str:
        view, name = self._split(d)
        return f"[claim {view.name}.{name}: {view.claims[name]['verdict']}]"

    def _hero(self, d: Any) -> str:
        view = self._view(d.target, d)
        svg = self.url_to(view.files.get("figure.svg", ""))
        return f"\n\n![Figure {view.number}: {(view.meta or {}).get('title', view.name)}]({svg})\n\n"

    def _section(self, d: Any) -> str:
        return self.sections.label(d.target, d.fmt) if self.sections else d.target


@dataclass
class MachinePages:
    """Collects each page's plain Markdown during a build; writes them at its end."""

    title: str
    summary: str
    pages: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Site path of the page (`algorithm/`) -> (title, Markdown)."""

    def add(self, site_path: str, title: str, markdown: str) -> None:
        self.pages[site_path] = (title, markdown)

    def files(self, site_url: str, revision: str) -> dict[str, str]:
        """Site path -> text of every file to write (llms.txt and each page's Markdown)."""
        out: dict[str, str] = {}
        links = []
        for site_path, (title, markdown) in sorted(self.pages.items(), key=_page_order):
            target = f"{site_path}index.md"
            out[target] = markdown.rstrip() + "\n"
            links.append(f"- [{title}]({site_url}{target})")
        out[LLMS_TXT] = (
            f"# {self.title}\n\n> {self.summary}\n\n"
            f"Every number below is recomputed from code when the site is built (build "
            f"{revision}); each page is also available as HTML without the `index.md`.\n\n"
            "## Essay\n\n" + "\n".join(links) + "\n\n"
            f"## Data\n\n- [Claims ledger]({site_url}{CLAIMS_JSON}): every checked claim, "
            "its per-seed values, null and verdict\n"
        )
        return out


def _page_order(item: tuple[str, tuple[str, str]]) -> tuple[int, str]:
    return (0 if item[0] == "" else 1, item[0])


def claims_ledger(
    views: Mapping[str, Any],
    revision: str,
    pages: Mapping[tuple[str, str], str],
    records: Mapping[tuple[str, str], Any] | None = None,
) -> dict[str, Any]:
    """`claims.json`: every claim of every built figure, in figure and claim order.

    `records` gives each claim's threshold history (`claim_history.ThresholdRecord`)."""
    records = records or {}
    claims = []
    for name in sorted(views):
        view = views[name]
        meta = view.meta
        if meta is None:
            continue
        seeds = list(meta.get("seeds", []))
        for claim in meta.get("claims", []):
            claim = upgrade_claim_json(claim)
            claims.append(
                {
                    "figure": name,
                    "claim": claim["name"],
                    "statement": claim["statement"],
                    "page": pages.get((name, claim["name"])),  # the page that states it
                    "seeds": seeds,
                    "tuning_seeds": meta.get("tuning_seeds"),
                    "comparison": {
                        "left": claim["left"],
                        "op": claim["op"],
                        "right": claim["right"],
                        "margin": claim["margin"],
                        "aggregate": claim["aggregate"],
                    },
                    "compared_with": claim.get("control"),
                    "real": _evaluation(claim["real"]),
                    "nulls": [_contrast(null) for null in claim["nulls"]],
                    "controls": [_contrast(control) for control in claim["controls"]],
                    "separation": claim["separation"],
                    "why": claim.get("why"),
                    "verdict": claim["verdict"],
                    "decided_by": claim["decided_by"],
                    "stated": claim.get("stated", "holds"),
                    "history": _history(records.get((name, claim["name"]))),
                }
            )
    return {"format": FORMAT, "revision": revision, "claims": claims}


def _contrast(contrast: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "description": contrast["description"],
        "replaces": contrast["values"],
        **_evaluation(contrast["evaluation"]),
    }


def _history(record: Any) -> dict[str, Any] | None:
    """A threshold record as JSON: status, commits, and every change (old and new)."""
    if record is None:
        return None

    def commit(c: Any) -> dict[str, str] | None:
        return None if c is None else {"commit": c.sha, "date": c.day}

    return {
        "status": record.status,
        "values_since": commit(record.values_since),
        "set_in": commit(record.set_in),
        "changes": [
            {
                "commit": commit(change.commit),
                "old": change.old.text(),
                "new": change.new.text(),
                "after_values": change.after_values,
            }
            for change in record.changes
        ],
        "note": record.note,
    }


def _evaluation(evaluation: Mapping[str, Any]) -> dict[str, Any]:
    keys: Sequence[str] = ("left", "right", "gaps", "seed_holds", "statistic", "holds")
    return {key: evaluation.get(key) for key in keys}


def dumps(ledger: Mapping[str, Any]) -> str:
    return json.dumps(ledger, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
