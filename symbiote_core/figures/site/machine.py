"""The essay for programs: `llms.txt`, each page as Markdown with its numbers filled in,
and `claims.json`, every checked claim with its per-seed values, null and verdict.

`llms.txt` follows the llms.txt proposal (llmstxt.org): a title, a one-line summary, and
a list of links to each page's Markdown (`<page>/index.md`, beside its `index.html`).
In that Markdown every directive is plain text: a value is its formatted number (mean
± spread where it varies over seeds), a figure is its title, caption and a link to its
SVG and data, a claim is its sentence followed by its verdict in brackets. So a
language model, or a script, reads what a person reads, without HTML.

`claims.json` is the ledger a program can check: for each claim, its statement, figure,
the compared values per seed for the real run and its null, controls, the verdict, and
the source commit of the build. A test checks it against the claims appendix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from symbiote_core.figures.site.markup import PageRenderer, find_directives

CLAIMS_JSON = "claims.json"
LLMS_TXT = "llms.txt"
FORMAT = 1
"""Bump when the shape of claims.json changes."""


class PlainRenderer(PageRenderer):
    """`PageRenderer` whose output is plain Markdown text instead of HTML fragments."""

    def render(self, text: str) -> str:
        out: list[str] = []
        last = 0
        for d in find_directives(text):
            out.append(text[last : d.start])
            try:
                handler = self.HANDLERS[d.kind]
                out.append(handler(self, d))
            except Exception:
                out.append(d.text)  # the HTML build reports it; keep the source visible
            last = d.end
        out.append(text[last:])
        return "".join(out)

    def _number(self, text: str, source: str) -> str:
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
            f"*{number}.* {meta.get('caption', '')} (data: [{view.name}/data.json]({data}))\n\n"
        )

    def _ref(self, d: Any) -> str:
        view = self._view(d.target, d)
        return f"Figure {view.number}" if view.number else str((view.meta or {}).get("title"))

    def _claim(self, d: Any) -> str:
        view, name = self._split(d)
        claim = view.claims[name]
        return f"{claim['statement']} [claim {view.name}.{name}: {claim['verdict']}]"


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
    views: Mapping[str, Any], revision: str, pages: Mapping[tuple[str, str], str]
) -> dict[str, Any]:
    """`claims.json`: every claim of every built figure, in figure and claim order."""
    claims = []
    for name in sorted(views):
        view = views[name]
        meta = view.meta
        if meta is None:
            continue
        seeds = list(meta.get("seeds", []))
        for claim in meta.get("claims", []):
            claims.append(
                {
                    "figure": name,
                    "claim": claim["name"],
                    "statement": claim["statement"],
                    "page": pages.get((name, claim["name"])),  # the page that states it
                    "seeds": seeds,
                    "comparison": {
                        "left": claim["left"],
                        "op": claim["op"],
                        "right": claim["right"],
                        "margin": claim["margin"],
                        "aggregate": claim["aggregate"],
                    },
                    "real": _evaluation(claim["real"]),
                    "null": {
                        "description": claim.get("null_description"),
                        "replaces": claim.get("null_values"),
                        **_evaluation(claim["null"]),
                    },
                    "controls": claim.get("controls", claim.get("control")),
                    "why": claim.get("why"),
                    "verdict": claim["verdict"],
                    "history": claim.get("history"),
                }
            )
    return {"format": FORMAT, "revision": revision, "claims": claims}


def _evaluation(evaluation: Mapping[str, Any]) -> dict[str, Any]:
    keys: Sequence[str] = ("left", "right", "gaps", "seed_holds", "statistic", "holds")
    return {key: evaluation.get(key) for key in keys}


def dumps(ledger: Mapping[str, Any]) -> str:
    return json.dumps(ledger, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
