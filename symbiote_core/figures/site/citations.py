"""Citations: `[@key]` and `[@key1; @key2]` in the essay's Markdown, numbered references.

Why pybtex (over citeproc-py and mkdocs-bibtex): it parses BibTeX natively (names,
braces, accents) and its `plain` style already renders DOI, arXiv and URL links, with
no CSL style files to vendor; mkdocs-bibtex turns citations into per-page footnotes,
which is what the essay is moving away from (no hover, no shared bibliography page).
Nothing here imports MkDocs: `site.py` calls it from the hooks.

Numbers follow first citation in reading order across the whole essay (like figures),
so one entry keeps one number on every page. A citation renders as `[3]`, a link to
the bibliography page with a hover/focus preview of the formatted reference. An
unknown key is a `CitationProblem` naming the page and line (the build fails on it).
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pybtex.database import BibliographyData, Entry, parse_string
from pybtex.plugin import find_plugin

BIBLIOGRAPHY_PAGE = "bibliography.md"
_KEY = r"[A-Za-z0-9_:.\-]+"
_CITE = re.compile(rf"\[(?P<body>@{_KEY}(?:\s*;\s*@{_KEY})*)\]")
_FENCE = re.compile(r"^\s*(```+|~~~+)")
_INLINE_CODE = re.compile(r"(`+)(?:.+?)\1")
_ENTRY_START = re.compile(r"^[ \t]*@\w+\s*\{\s*(" + _KEY + r")\s*,", re.M)


@dataclass(frozen=True)
class CitationProblem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Citation:
    keys: tuple[str, ...]
    line: int
    """1-based line in the source file."""
    start: int
    end: int
    """Character span in the whole source text."""


def find_citations(text: str) -> list[Citation]:
    """Every `[@key; ...]` outside fenced and inline code, in order."""
    found: list[Citation] = []
    offset = 0
    fence: str | None = None
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        marker = _FENCE.match(line)
        if fence is not None:
            if marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence):
                fence = None
        elif marker:
            fence = marker.group(1)
        else:
            code = [m.span() for m in _INLINE_CODE.finditer(line)]
            for m in _CITE.finditer(line):
                if any(a <= m.start() < b for a, b in code):
                    continue
                keys = tuple(k.strip().lstrip("@") for k in m["body"].split(";"))
                found.append(Citation(keys, number, offset + m.start(), offset + m.end()))
        offset += len(line)
    return found


def entry_link(entry: Entry) -> str | None:
    """The entry's canonical link: DOI first, then arXiv, then its URL."""
    fields = entry.fields
    if fields.get("doi"):
        return f"https://doi.org/{fields['doi']}"
    if fields.get("eprint") and fields.get("archiveprefix", "arXiv").lower() == "arxiv":
        return f"https://arxiv.org/abs/{fields['eprint']}"
    return fields.get("url") or None


@functools.cache
def _formatter() -> tuple[Any, Any]:
    """pybtex's `plain` style and HTML backend, made once per process: finding a pybtex
    plugin reads the metadata of every installed package (a tenth of a warm rebuild)."""
    style = find_plugin("pybtex.style.formatting", "plain")()
    return style, find_plugin("pybtex.backends", "html")()


@functools.lru_cache(maxsize=8)
def _parsed(text: str) -> BibliographyData:
    """The parsed bibliography, per text (read only: pages format it, never change it)."""
    return parse_string(text, "bibtex")


@functools.lru_cache(maxsize=4096)
def _entry_html(text: str, key: str) -> str:
    """One entry of the bibliography `text`, formatted: per process, not per build (pybtex
    takes milliseconds an entry, and every rebuild formats every cited one)."""
    style, backend = _formatter()
    formatted = style.format_entry(label=key, entry=_parsed(text).entries[key])
    # One line: the HTML lands inside paragraphs and list items of the page.
    return " ".join(formatted.text.render(backend).split())


@dataclass
class Bibliography:
    """A parsed BibTeX file; formats entries to HTML with pybtex's `plain` style."""

    path: Path
    display: str
    """How errors name the file (e.g. 'essay/references.bib')."""
    data: BibliographyData = field(init=False)
    lines: dict[str, int] = field(init=False)
    problems: list[CitationProblem] = field(default_factory=list)

    def __post_init__(self) -> None:
        # A project without a bibliography has no references: every citation is unknown.
        text = self.path.read_text(encoding="utf-8") if self.path.is_file() else ""
        # pybtex keeps no line numbers: find each entry's own for error messages.
        self.lines = {
            m.group(1): text.count("\n", 0, m.start()) + 1 for m in _ENTRY_START.finditer(text)
        }
        self._text = text
        self.data = _parsed(text)
        for key, entry in self.data.entries.items():
            if entry_link(entry) is None:
                self.problems.append(
                    CitationProblem(
                        self.display,
                        self.lines.get(key, 1),
                        f"reference {key!r} has no doi, arXiv eprint or url: "
                        "every reference must link to its source",
                    )
                )

    @property
    def keys(self) -> list[str]:
        return list(self.data.entries)

    def entry(self, key: str) -> Entry:
        return self.data.entries[key]

    def html(self, key: str) -> str:
        """The formatted reference (authors, title, venue, year, links) as HTML."""
        return _entry_html(self._text, key)

    def short(self, key: str) -> str:
        """'Nanda et al., 2023' (plain text, for labels)."""
        entry = self.data.entries[key]
        people = entry.persons.get("author", [])
        names = [" ".join(p.last_names) for p in people if str(p) != "others"]
        if not names:
            who = entry.fields.get("title", key)
        elif len(people) == 1:
            who = names[0]
        elif len(people) == 2 and len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        else:
            who = f"{names[0]} et al."
        return f"{_latex_to_text(who)}, {entry.fields.get('year', 'n.d.')}"


def _latex_to_text(text: str) -> str:
    return text.replace("{", "").replace("}", "")


@dataclass
class CitationIndex:
    """Numbers and back-references, from every page in reading order."""

    bibliography: Bibliography
    numbers: dict[str, int] = field(default_factory=dict)
    cited_on: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    """key -> [(page source, page title, anchor id of its first citation there)]."""

    @classmethod
    def scan(
        cls, bibliography: Bibliography, pages: Sequence[tuple[str, str, str]]
    ) -> CitationIndex:
        """`pages`: (source path, title, Markdown) in reading order."""
        index = cls(bibliography)
        for src, title, text in pages:
            seen: set[str] = set()
            for cite in find_citations(text):
                for key in cite.keys:
                    if key not in bibliography.data.entries:
                        continue  # reported when the page renders, with its line
                    index.numbers.setdefault(key, len(index.numbers) + 1)
                    if key not in seen:
                        seen.add(key)
                        index.cited_on.setdefault(key, []).append((src, title, f"cite-{key}-1"))
        return index


@dataclass
class CitationRenderer:
    """Replaces the citations of one page. Collects problems instead of raising."""

    page: str
    """The page as errors name it, e.g. 'essay/superposition.md'."""
    index: CitationIndex
    bibliography_url: str
    """URL of the bibliography page, relative to this page."""
    problems: list[CitationProblem] = field(default_factory=list)
    _count: dict[str, int] = field(default_factory=dict)

    def render(self, text: str) -> str:
        out: list[str] = []
        last = 0
        for cite in find_citations(text):
            out.append(text[last : cite.start])
            out.append(self._citation(cite))
            last = cite.end
        out.append(text[last:])
        return "".join(out)

    def _citation(self, cite: Citation) -> str:
        bib = self.index.bibliography
        unknown = [k for k in cite.keys if k not in bib.data.entries]
        if unknown:
            known = ", ".join(sorted(bib.keys)) or "none"
            message = (
                f"unknown citation key{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(repr(k) for k in unknown)} (known in {bib.display}: {known})"
            )
            self.problems.append(CitationProblem(self.page, cite.line, message))
            return (
                f'<span class="sym-error sym-error--inline" role="alert">'
                f"{html.escape(message)}</span>"
            )
        keys = sorted(cite.keys, key=lambda k: self.index.numbers.get(k, 10**6))
        links, previews = [], []
        for key in keys:
            number = self.index.numbers.get(key, 0)
            self._count[key] = self._count.get(key, 0) + 1
            anchor = f"cite-{key}-{self._count[key]}"
            label = html.escape(f"Reference {number}: {bib.short(key)}")
            links.append(
                f'<a id="{anchor}" href="{self.bibliography_url}#ref-{key}" '
                f'aria-label="{label}">{number}</a>'
            )
            previews.append(
                f'<span class="sym-cite-entry"><span class="sym-cite-number">{number}.</span> '
                f"{bib.html(key)}</span>"
            )
        return (
            f'<span class="sym-cite">[{", ".join(links)}]'
            f'<span class="sym-cite-preview" role="tooltip">{"".join(previews)}</span></span>'
        )


def bibliography_markdown(
    index: CitationIndex, url_to_page: Callable[[str], str], uncited: Iterable[str] = ()
) -> str:
    """The bibliography page: every cited reference, numbered, with links back."""
    bib = index.bibliography
    lines = [
        "# References",
        "",
        "Numbered in the order the essay first cites them. Each entry links to its "
        "source (DOI, arXiv or the publisher's page) and back to where the essay cites it. "
        "The BibTeX file is [`references.bib`](references.bib).",
        "",
        '<ol class="sym-bibliography">',
    ]
    for key, number in sorted(index.numbers.items(), key=lambda kv: kv[1]):
        backs = " · ".join(
            f'<a href="{url_to_page(src)}#{anchor}">{html.escape(title)}</a>'
            for src, title, anchor in index.cited_on.get(key, [])
        )
        lines.append(
            f'<li id="ref-{key}" value="{number}">{bib.html(key)}'
            f'<span class="sym-bib-cited"> Cited in: {backs}</span></li>'
        )
    lines.append("</ol>")
    rest = [k for k in uncited if k not in index.numbers]
    if rest:
        lines += ["", "## Also consulted", "", '<ul class="sym-bibliography">']
        lines += [f'<li id="ref-{k}">{bib.html(k)}</li>' for k in rest]
        lines.append("</ul>")
    lines.append("")
    return "\n".join(lines)


def page_title(markdown: str, fallback: str) -> str:
    """The page's first `# ` heading (what MkDocs will use as its title)."""
    for line in markdown.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return fallback
