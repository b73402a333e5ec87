"""The essay's directives, turned into HTML. No MkDocs here: any site generator can call it.

Four directives, each inside double braces:

    {{ figure: NAME }}              the figure, numbered, with caption and provenance
    {{ ref: NAME }}                 "Figure N", a link with a hover preview
    {{ value: NAME.VALUE }}         a computed number; `| FORMAT` picks a Python format
    {{ value: NAME.VALUE | .0% }}   spec (default: 3 significant digits)
    {{ claim: NAME.CLAIM }}         the claim's statement with its checked status

Directives inside fenced code blocks and inline code are left alone, so the essay
can show them. Every problem is a `MarkupProblem` naming the file and line.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import markdown as md

from symbiote_core.figures.claimtext import describe_claim

Kind = Literal["figure", "ref", "value", "claim"]
_DIRECTIVE = re.compile(
    r"\{\{\s*(?P<kind>figure|ref|value|claim)\s*:\s*(?P<target>[^}|]+?)\s*"
    r"(?:\|\s*(?P<fmt>[^}]*?)\s*)?\}\}"
)
_FENCE = re.compile(r"^\s*(```+|~~~+)")
_INLINE_CODE = re.compile(r"(`+)(?:.+?)\1")


@dataclass(frozen=True)
class Directive:
    kind: Kind
    target: str
    fmt: str | None
    line: int
    """1-based line in the source file."""
    start: int
    end: int
    """Character span in the whole source text."""


@dataclass(frozen=True)
class MarkupProblem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class FigureView:
    """What the page renderer needs to know about one figure."""

    name: str
    number: int | None = None
    """Order of first appearance across the essay; None if no page embeds it."""
    page: str | None = None
    """Source path of the page that embeds it (for cross-references)."""
    meta: Mapping[str, Any] | None = None
    """The cache entry's meta (title, caption, alt, values, claims, provenance)."""
    spec: Mapping[str, Any] | None = None
    error: str | None = None
    """Traceback text when the figure failed to build."""
    files: Mapping[str, str] = field(default_factory=dict)
    """Download name -> site path, e.g. {"data.json": "figures/x/data.json"}."""

    @property
    def values(self) -> Mapping[str, float | int | list[float]]:
        return (self.meta or {}).get("values", {})

    @property
    def claims(self) -> dict[str, Mapping[str, Any]]:
        return {c["name"]: c for c in (self.meta or {}).get("claims", [])}


def find_directives(text: str) -> list[Directive]:
    """Every directive outside code, in order."""
    found: list[Directive] = []
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
            code_spans = [m.span() for m in _INLINE_CODE.finditer(line)]
            for m in _DIRECTIVE.finditer(line):
                if any(a <= m.start() < b for a, b in code_spans):
                    continue
                found.append(
                    Directive(
                        m["kind"],
                        m["target"],
                        m["fmt"],
                        number,
                        offset + m.start(),
                        offset + m.end(),
                    )
                )
        offset += len(line)
    return found


def figure_order(pages: Sequence[tuple[str, str]]) -> dict[str, tuple[int, str]]:
    """Number figures by first `figure` directive over pages given in reading order.

    Returns name -> (number, page). A figure embedded twice keeps its first number.
    """
    order: dict[str, tuple[int, str]] = {}
    for page, text in pages:
        for d in find_directives(text):
            if d.kind == "figure" and d.target not in order:
                order[d.target] = (len(order) + 1, page)
    return order


SPREADS = ("pm", "mean", "sd", "range", "min", "max", "seeds")
"""How `{{ value: F.V | FORMAT SPREAD }}` shows a per-seed value: mean ± sd (`pm`, the
default), the mean, the sd, min–max, the min, the max, or every seed's value."""


def format_value(value: float | int | list[float], fmt: str | None) -> str:
    """A constant with a Python format spec; a per-seed value with a spec and a spread.

    `fmt` is `SPEC`, `SPREAD` or `SPEC SPREAD`: `.2f`, `range`, `.0% range`. Raises
    `ValueError` for a bad spec, or a spread asked of a constant.
    """
    spec, spread = _split_format(fmt)
    if not isinstance(value, list):
        if spread is not None:
            raise ValueError(f"{spread!r} needs a per-seed value; this one is a constant")
        return _format_number(value, spec)
    if not value:
        raise ValueError("a per-seed value with no seeds")
    seeds = [float(v) for v in value]
    mean = sum(seeds) / len(seeds)
    sd = (sum((v - mean) ** 2 for v in seeds) / (len(seeds) - 1)) ** 0.5 if len(seeds) > 1 else 0.0
    one = lambda v: _format_number(v, spec)  # noqa: E731
    spread = spread or "pm"
    if spread == "pm":
        return f"{one(mean)} ± {one(sd)}"
    if spread == "range":
        return f"{one(min(seeds))}–{one(max(seeds))}"
    if spread == "seeds":
        return ", ".join(one(v) for v in seeds)
    picked = {"mean": mean, "sd": sd, "min": min(seeds), "max": max(seeds)}[spread]
    return one(picked)


def _split_format(fmt: str | None) -> tuple[str | None, str | None]:
    words = (fmt or "").split()
    if len(words) > 2:
        raise ValueError(f"expected 'SPEC', 'SPREAD' or 'SPEC SPREAD', got {fmt!r}")
    if len(words) == 2:
        if words[1] not in SPREADS:
            raise ValueError(
                f"unknown spread {words[1]!r} in {fmt!r} (known: {', '.join(SPREADS)})"
            )
        return words[0], words[1]
    if words and words[0] in SPREADS:
        return None, words[0]
    return (words[0] if words else None), None


def _format_number(value: float | int, spec: str | None) -> str:
    if spec is None:
        return f"{value:,}" if isinstance(value, int) else f"{value:.3g}"
    return format(value, spec)


def value_title(target: str, value: float | int | list[float]) -> str:
    """The hover text of a quoted number: where it comes from, and each seed's value."""
    if not isinstance(value, list):
        return target
    seeds = ", ".join(f"{v:.4g}" for v in value)
    return f"{target}: mean of {len(value)} seeds ({seeds})"


@dataclass
class PageRenderer:
    """Replaces the directives of one page. Collects problems instead of raising."""

    page: str
    figures: Mapping[str, FigureView]
    url_to: Callable[[str], str]
    """Site path (e.g. 'superposition/#fig-x' or 'figures/x/data.json') -> URL relative to this page."""
    page_url: Callable[[str], str]
    """Source path of a page -> its site path (e.g. 'superposition.md' -> 'superposition/')."""
    problems: list[MarkupProblem] = field(default_factory=list)

    def render(self, text: str) -> str:
        out: list[str] = []
        last = 0
        for d in find_directives(text):
            out.append(text[last : d.start])
            out.append(self._replace(d))
            last = d.end
        out.append(text[last:])
        return "".join(out)

    # -- one directive -------------------------------------------------------------
    def _replace(self, d: Directive) -> str:
        try:
            if d.kind == "figure":
                return self._figure(d)
            if d.kind == "ref":
                return self._ref(d)
            if d.kind == "value":
                return self._value(d)
            return self._claim(d)
        except _Problem as p:
            if p.report:
                self.problems.append(MarkupProblem(self.page, d.line, str(p)))
            return _error_inline(str(p))

    def _view(self, name: str, d: Directive) -> FigureView:
        view = self.figures.get(name)
        if view is None:
            known = ", ".join(sorted(self.figures)) or "none"
            raise _Problem(
                f"unknown figure {name!r} in {{{{ {d.kind}: {d.target} }}}} (known: {known})"
            )
        return view

    def _split(self, d: Directive) -> tuple[FigureView, str]:
        figure, dot, item = d.target.partition(".")
        if not dot or not item:
            raise _Problem(f"{d.kind} needs FIGURE.NAME, got {d.target!r}")
        return self._view(figure, d), item

    def _figure(self, d: Directive) -> str:
        view = self._view(d.target, d)
        if view.error is not None:  # reported once, where the build failed
            raise _Problem(f"figure {view.name!r} failed to build:\n{view.error}", report=False)
        assert view.meta is not None and view.spec is not None
        return _figure_html(view, self.url_to)

    def _ref(self, d: Directive) -> str:
        view = self._view(d.target, d)
        if view.number is None or view.page is None:
            raise _Problem(
                f"ref to figure {d.target!r}, which no page embeds with {{{{ figure: ... }}}}"
            )
        href = self.url_to(f"{self.page_url(view.page)}#fig-{view.name}")
        title = html.escape((view.meta or {}).get("title", view.name))
        preview = ""
        if "figure.svg" in view.files:
            preview = (
                f'<span class="sym-ref-preview" aria-hidden="true">'
                f'<img src="{self.url_to(view.files["figure.svg"])}" alt="">'
                f"<span>{title}</span></span>"
            )
        return (
            f'<span class="sym-ref"><a href="{href}" title="{title}">Figure {view.number}</a>'
            f"{preview}</span>"
        )

    def _value(self, d: Directive) -> str:
        view, name = self._split(d)
        if view.error is not None:
            raise _Problem(
                f"value {d.target!r}: figure {view.name!r} failed to build", report=False
            )
        if name not in view.values:
            known = ", ".join(sorted(view.values)) or "none"
            raise _Problem(f"unknown value {name!r} of figure {view.name!r} (known: {known})")
        try:
            text = format_value(view.values[name], d.fmt)
        except (ValueError, TypeError) as e:
            raise _Problem(f"bad format {d.fmt!r} for value {d.target!r}: {e}") from None
        title = html.escape(value_title(d.target, view.values[name]))
        return f'<span class="sym-value" title="{title}">{html.escape(text)}</span>'

    def _claim(self, d: Directive) -> str:
        view, name = self._split(d)
        if view.error is not None:
            raise _Problem(
                f"claim {d.target!r}: figure {view.name!r} failed to build", report=False
            )
        claim = view.claims.get(name)
        if claim is None:
            known = ", ".join(sorted(view.claims)) or "none"
            raise _Problem(f"unknown claim {name!r} of figure {view.name!r} (known: {known})")
        verdict = claim["verdict"]
        status = {"holds": "holds", "fails": "fails", "cannot fail": "cannotfail"}[verdict]
        badge = {"holds": "checked", "fails": "FAILS", "cannot fail": "CANNOT FAIL"}[verdict]
        return (
            f'<span class="sym-claim sym-claim--{status}" '
            f'title="{html.escape(describe_claim(claim))}">'
            f'{html.escape(claim["statement"])} <span class="sym-claim-badge">{badge}</span></span>'
        )


class _Problem(Exception):
    """A directive that cannot be rendered. `report=False`: already reported elsewhere
    (a figure that failed to build), so the page only shows the error box."""

    def __init__(self, message: str, report: bool = True) -> None:
        super().__init__(message)
        self.report = report


def _error_inline(message: str) -> str:
    head, _, rest = message.partition("\n")
    if rest:  # a traceback: show it as a block
        return (
            f'\n<div class="sym-error" role="alert"><p><strong>Build error.</strong> '
            f"{html.escape(head)}</p><pre>{html.escape(rest)}</pre></div>\n"
        )
    return f'<span class="sym-error sym-error--inline" role="alert">{html.escape(head)}</span>'


def _figure_html(view: FigureView, url_to: Callable[[str], str]) -> str:
    meta = view.meta or {}
    caption = md.markdown(meta.get("caption", ""), extensions=["attr_list"])
    spec = html.escape(json.dumps(view.spec, separators=(",", ":")), quote=True)
    alt = html.escape(meta.get("alt", ""))
    svg = view.files.get("figure.svg")
    fallback = f'<noscript><img src="{url_to(svg)}" alt="{alt}"></noscript>' if svg else ""
    number = f"Figure {view.number}." if view.number else "Figure."
    # The blank lines keep Markdown from wrapping this block in a paragraph.
    return (
        f'\n\n<figure class="sym-figure" id="fig-{view.name}" data-figure="{view.name}">\n'
        f'<div class="sym-chart" role="img" aria-label="{alt}" data-spec="{spec}"></div>{fallback}\n'
        f'<figcaption><p class="sym-figure-title"><strong>{number}</strong> '
        f"{html.escape(meta.get('title', view.name))}</p>{caption}</figcaption>\n"
        f"{_provenance_html(view, url_to)}\n</figure>\n\n"
    )


def _provenance_html(view: FigureView, url_to: Callable[[str], str]) -> str:
    meta = view.meta or {}
    versions = ", ".join(f"{k} {v}" for k, v in sorted(meta.get("versions", {}).items()))
    rows = [
        ("Rebuild", f"<code>python -m symbiote_core.figures build {view.name} --force</code>"),
        ("Source", f"<code>figures_src/{view.name}.py</code>"),
        ("Cache key", f"<code>{html.escape(str(meta.get('key', '?'))[:16])}</code>"),
        ("Commit", f"<code>{html.escape(str(meta.get('git', 'unknown')))}</code>"),
        ("Seeds", html.escape(", ".join(str(s) for s in meta.get("seeds", [])) or "none")),
        ("Params", f"<code>{html.escape(json.dumps(meta.get('params', {})))}</code>"),
        ("Versions", html.escape(versions)),
        ("Compute time", f"{float(meta.get('compute_seconds', 0.0)):.1f} s"),
    ]
    downloads = " · ".join(
        f'<a href="{url_to(path)}" download>{html.escape(label)}</a>'
        for label, path in view.files.items()
    )
    if downloads:
        rows.append(("Download", downloads))
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return (
        f'<details class="sym-provenance"><summary>Provenance and data</summary>'
        f"<table>{body}</table></details>"
    )
