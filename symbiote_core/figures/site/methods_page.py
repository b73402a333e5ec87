"""The generated methods appendix: per figure, its methods paragraph and every setting.

For each figure, in figure order:

- its methods paragraph (`Figure.methods`, read from source by `sourcetext`): Markdown,
  sanitised like a caption, whose numbers are directives the page renders live
  (`{{ param: }}`, `{{ value: }}`, `{{ code: }}`);
- a table of every param the build recorded, nested dataclasses expanded (`host.lr`),
  each with the docstring under its field;
- a table of the code settings its paragraph quotes (library defaults such as the
  host's width), each with where it is set and its docstring.

Text from figure modules and their source is escaped (`markdown_literal`) except the
methods paragraph, which is Markdown and goes through `caption_html` (nh3).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from symbiote_core.figures.site.markup import (
    FigureView,
    MarkupProblem,
    caption_html,
    find_directives,
    markdown_literal,
)
from symbiote_core.figures.site.sourcetext import Setting, SourceIndex, SourceTextError

NO_METHODS = "No methods paragraph: this figure's module gives `Figure(methods=...)` none."


@dataclass
class MethodsSource:
    """What the page needs from source, per figure; problems name file and line."""

    index: SourceIndex | None
    package: str = ""
    """The figures package (the engine's settings); "" when there is no source index."""
    problems: list[MarkupProblem] = field(default_factory=list)

    def text(self, name: str) -> str:
        if self.index is None:
            return ""
        try:
            return self.index.figure_text(f"{self.package}.{name}", "methods")
        except SourceTextError as error:
            self._problem(name, error)
            return ""

    def params(self, name: str, params: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
        """(path, value, description) for every recorded param."""
        if self.index is None:
            return [(p, v, "") for p, v in _flat(params)]
        try:
            rows = self.index.param_rows(f"{self.package}.{name}", dict(params))
        except SourceTextError as error:
            self._problem(name, error)
            return [(p, v, "") for p, v in _flat(params)]
        return [(r.path, r.value, r.doc) for r in rows]

    def settings(self, name: str, text: str) -> list[Setting]:
        out: list[Setting] = []
        if self.index is None:
            return out
        for d in find_directives(text):
            if d.kind != "code":
                continue
            try:
                out.append(self.index.setting(d.target))
            except SourceTextError:
                continue  # the page's renderer reports it, at its line
        return list({s.path: s for s in out}.values())

    def _problem(self, name: str, error: SourceTextError) -> None:
        text = str(error)
        match = re.match(r"([^:\s]+\.py):(\d+): (.*)", text, re.S)
        if match:
            self.problems.append(MarkupProblem(match[1], int(match[2]), match[3]))
        else:
            self.problems.append(MarkupProblem(f"{self.package}/{name}.py", 1, text))


def methods_page(views: Mapping[str, FigureView], source: MethodsSource | None = None) -> str:
    """Markdown of the methods appendix. `views` carry literal text already
    (`site.markdown_literal_views`); `source` reads methods and descriptions."""
    source = source or MethodsSource(None)
    folder = source.package.replace(".", "/") or "the figures package"
    lines = [
        "# Methods",
        "",
        f"Each figure is computed by `compute(params)` in its module under `{folder}/`. "
        "Below, per figure, how it was made (host, symbiote, control, null, seeds) and "
        "every setting. All of it is generated: the numbers in the paragraphs and tables "
        "are the parameters recorded with each cached result and the literals in the "
        "library's code, so they always describe the numbers on the page. Rebuild one "
        "figure with `python -m symbiote_core.figures build NAME --force`.",
        "",
    ]
    order = sorted(views.values(), key=lambda v: (v.number is None, v.number or 0, v.name))
    for view in order:
        heading = f"Figure {view.number}" if view.number else "Not embedded"
        if view.error is not None or view.meta is None:
            lines += [f"## {heading}: `{view.name}`", "", "This figure failed to build.", ""]
            continue
        meta = view.meta
        text = source.text(view.name)
        lines += [
            f"## {heading}: {_heading_text(meta.get('title', view.name))} "
            f"{{ #methods-{view.name} }}",
            "",
            (f"{{{{ ref: {view.name} }}}} · " if view.number else "")
            + f"source `{view.module}` · evaluation seeds {_seeds_text(meta)} · "
            f"{_tuning_text(meta)} · computed in {float(meta.get('compute_seconds', 0.0)):.1f} s",
            "",
        ]
        if text.strip():
            lines += [_paragraph_html(text), ""]
        else:
            lines += [f'<p class="sym-methods-missing">{markdown_literal(NO_METHODS)}</p>', ""]
        lines += [
            "| parameter | value | what it is |",
            "|---|---|---|",
        ]
        for path, value, doc in source.params(view.name, meta.get("params", {})):
            # <code>, not a code span: a backtick in a value cannot close it.
            lines.append(
                f"| <code>{path}</code> | <code>{_shown(value)}</code> | {_doc(doc)} |"
            )
        lines.append("")
        settings = source.settings(view.name, text)
        if settings:
            lines += [
                "Settings in the library's code that the paragraph quotes:",
                "",
                "| setting | value | set in | what it is |",
                "|---|---|---|---|",
            ]
            for s in settings:
                lines.append(
                    f"| <code>{markdown_literal(s.path)}</code> | "
                    f"<code>{markdown_literal(_shown(s.value))}</code> | "
                    f"<code>{markdown_literal(s.where)}</code> | {_doc(s.doc)} |"
                )
            lines.append("")
    return "\n".join(lines)


def _paragraph_html(text: str) -> str:
    """The methods Markdown as sanitised HTML, its directives left for the page's
    renderer: each is swapped for a placeholder first, so Markdown cannot read its
    underscores or bars as emphasis or tables."""
    found = find_directives(text)
    parts, last = [], 0
    for i, d in enumerate(found):
        parts.append(text[last : d.start])
        parts.append(f"SYMDIRECTIVE{i}X")
        last = d.end
    parts.append(text[last:])
    rendered = caption_html("".join(parts))
    for i, d in enumerate(found):
        rendered = rendered.replace(f"SYMDIRECTIVE{i}X", text[d.start : d.end].replace("\n", " "))
    # One block of HTML for the page's Markdown: no blank line may split it.
    body = re.sub(r"\n\s*\n", "\n", rendered).strip()
    return f'<div class="sym-methods">\n{body}\n</div>'


def _doc(text: str) -> str:
    """A docstring as table text: literal, except that its `code` spans show as code
    (not as backticks; the text inside stays escaped)."""
    return re.sub(r"&#96;(.+?)&#96;", r"<code>\1</code>", markdown_literal(text))


def _heading_text(title: str) -> str:
    """A title (literal already) before the heading's `{ #id }`: its braces as character
    references, or attr_list would read from its first `{` to our `}` as attributes
    (`{<img onerror=...>` would become an attribute of the heading)."""
    return str(title).replace("{", "&#123;").replace("}", "&#125;")


def _flat(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in params.items():
        if isinstance(value, Mapping):
            out += _flat(value, f"{prefix}{key}.")
        else:
            out.append((f"{prefix}{key}", value))
    return out


def _shown(value: Any) -> str:
    return json.dumps(value) if not isinstance(value, str) else value


def _seeds_text(meta: Mapping[str, Any]) -> str:
    seeds = meta.get("seeds") or []
    return ", ".join(str(s) for s in seeds) if seeds else "none"


def _tuning_text(meta: Mapping[str, Any]) -> str:
    """'tuned on seeds 0, 1, 2' (with the figure's note), or what was declared instead."""
    tuning, note = meta.get("tuning_seeds"), str(meta.get("tuning_note") or "").strip()
    if tuning is None:
        text = "tuning seeds not declared"
    elif tuning:
        text = "tuned on seeds " + ", ".join(str(s) for s in tuning)
    else:
        text = "never tuned"
    return text + (f" ({markdown_literal(note)})" if note else "")
