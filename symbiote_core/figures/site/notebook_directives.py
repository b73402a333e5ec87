"""Directives in a lab notebook's Markdown cells, rendered as on the essay's pages.

mkdocs-jupyter converts a notebook from its source file, not from the Markdown that
MkDocs hands the page hooks, so a directive cannot be replaced there. Instead:

1. `prepare` reads the notebook (jupytext), and in every Markdown cell replaces each
   directive by a token, a plain word that Markdown and nbconvert leave as it is; the
   notebook with tokens is written to a private folder, and the site has mkdocs-jupyter
   convert that copy (it runs in the same working folder: a jupytext notebook executes
   in MkDocs' working folder wherever its file is). Each directive is rendered by the
   page renderer as on a page, its problems named by notebook, line and cell.
2. `fill` puts each directive's HTML in place of its token in the converted page, on
   every build, so the notebook cache keeps pages with tokens and a changed figure
   value never re-runs a notebook.

Tokens are derived from the notebook's bytes (no process nonce: the site is
reproducible byte for byte); no author can write one, since it hashes the file that
would contain it. Inline directives only (`value`, `param`, `code`, `claim`, `ref`),
outside headings: a figure is embedded in the essay's pages (a notebook draws its own
charts), and a token in a heading would reach the table of contents and the anchor.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from symbiote_core.figures.site.markup import (
    Directive,
    MarkupProblem,
    PageRenderer,
    find_directives,
)

INLINE_KINDS = ("value", "param", "code", "claim", "ref")
"""What a notebook's Markdown may use."""


@dataclass
class Placed:
    """One directive of a notebook: where it is, and what replaces its token."""

    cell: int
    """1-based index of its cell among all cells."""
    line: int
    """Its line in the notebook's source file (1 when it cannot be found)."""
    text: str
    html: str


@dataclass
class NotebookDirectives:
    """A notebook's directives, prepared for conversion (`prepare`)."""

    source: Path
    prepared: Path | None = None
    """The notebook with tokens for directives; None when it has no directive."""
    tokens: dict[str, Placed] = field(default_factory=dict)
    problems: list[MarkupProblem] = field(default_factory=list)

    @property
    def converted(self) -> Path:
        """The file mkdocs-jupyter converts."""
        return self.prepared or self.source


def prepare(source: Path, shown: str, renderer: PageRenderer, folder: Path) -> NotebookDirectives:
    """Replace the directives of `source`'s Markdown cells by tokens (a copy in
    `folder`), rendering each with `renderer`; `shown` names the notebook in problems."""
    result = NotebookDirectives(source)
    raw = source.read_bytes()
    if b"{{" not in raw:
        return result  # the common case: nothing to read or write
    import jupytext

    notebook = jupytext.read(source)
    lines = raw.decode("utf-8").splitlines()
    salt = hashlib.sha256(raw).hexdigest()
    cursor = 0
    for number, cell in enumerate(notebook.cells, 1):
        if cell.cell_type != "markdown":
            continue
        found = find_directives(cell.source)
        if not found:
            continue
        parts, last = [], 0
        for d in found:
            written = cell.source[d.start : d.end]
            line, cursor = _line_of(lines, written, cursor)
            digest = hashlib.sha256(f"{salt}:{len(result.tokens)}".encode()).hexdigest()
            token = f"symnb{digest[:32]}"
            parts += [cell.source[last : d.start], token]
            last = d.end
            html = _render(d, cell.source, renderer, result, shown, line, number)
            result.tokens[token] = Placed(number, line, " ".join(written.split()), html)
        cell.source = "".join(parts) + cell.source[last:]
    if result.tokens:
        folder.mkdir(parents=True, exist_ok=True)
        result.prepared = folder / source.name
        jupytext.write(notebook, result.prepared)
    return result


def fill(html: str, prepared: NotebookDirectives, shown: str) -> tuple[str, list[MarkupProblem]]:
    """The converted page with each token replaced by its directive's HTML, and a
    problem for each token the conversion lost."""
    problems = []
    for token, placed in prepared.tokens.items():
        if token in html:
            html = html.replace(token, placed.html)
        else:
            problems.append(
                MarkupProblem(
                    shown,
                    placed.line,
                    f"cell {placed.cell}: {placed.text} was lost when the notebook was "
                    "converted to HTML",
                )
            )
    return html, problems


def _render(
    d: Directive,
    cell: str,
    renderer: PageRenderer,
    result: NotebookDirectives,
    shown: str,
    line: int,
    number: int,
) -> str:
    """The directive's HTML from the page renderer; problems go to `result`, named by
    the notebook's line and cell."""
    written = cell[d.start : d.end]
    line_text = cell[cell.rfind("\n", 0, d.start) + 1 : d.start]
    refusal = None
    if d.problem is None and d.kind == "figure":
        refusal = (
            f"{d.text}: a notebook's Markdown takes inline directives only "
            f"({', '.join(INLINE_KINDS)}); embed figures in the essay's pages"
        )
    elif line_text.lstrip().startswith("#"):
        refusal = (
            f"{d.text}: a directive in a notebook heading is not supported (its text "
            "would become the heading's anchor); move it to the text below"
        )
    if refusal is not None:
        result.problems.append(MarkupProblem(shown, line, f"cell {number}: {refusal}"))
        return f'<span class="sym-error sym-error--inline" role="alert">{_escape(refusal)}</span>'
    before = len(renderer.problems)
    html = renderer.render(written)
    for problem in renderer.problems[before:]:
        result.problems.append(MarkupProblem(shown, line, f"cell {number}: {problem.message}"))
    del renderer.problems[before:]
    return html


def _line_of(lines: list[str], text: str, start: int) -> tuple[int, int]:
    """(1-based line of the first line of `text` at or after line index `start`, the
    index to search on from); (1, start) when it is not found verbatim."""
    first = text.splitlines()[0] if text else ""
    for index in range(start, len(lines)):
        if first in lines[index]:
            return index + 1, index
    return 1, start


def _escape(text: str) -> str:
    import html

    return html.escape(text)
