"""The essay's directives, turned into HTML. No MkDocs here: any site generator can call it.

Six directives, each inside double braces:

    {{ figure: NAME }}              the figure, numbered, with caption and provenance
    {{ ref: NAME }}                 "Figure N", a link with a hover preview
    {{ value: NAME.VALUE }}         a computed number; `| FORMAT` picks a Python format
    {{ value: NAME.VALUE | .0% }}   spec (default: 3 significant digits)
    {{ claim: NAME.CLAIM }}         the claim's statement with its checked status
    {{ param: NAME.field.sub }}     a param as the figure's build recorded it
    {{ code: module.Class.field }}  a literal setting in the project's code (methods
                                    paragraphs: a library default the figure relies on)

A quoted number shows where it comes from in a popover that opens on hover, on focus
and on tap (a button; site.js toggles it), never in a `title` only touch cannot reach.
A figure's alt text may quote its values and params too: the site fills them in, and
shows the values the alt text and claims quote as the figure's data summary.

Directives inside fenced code blocks and inline code are left alone, so the essay
can show them. A directive may span lines (the essay is hard-wrapped), but not a blank
line. Every `{{ word: ... }}` outside code is a directive: a kind that is not in the
handler table (`PageRenderer.HANDLERS`), miscased or misspelt, is a problem naming the
nearest known kind, never text printed as is. Every problem is a `MarkupProblem` naming
the file and line; a handler that fails in any other way (even `MemoryError`) is one too.

Everything that comes from a figure module or its data is escaped before it reaches the
page, and every handler's output is made inert to Markdown (`_inert`), so a title,
statement or param can neither open a tag nor a Markdown link. Captions are Markdown,
rendered and then sanitised by nh3 (no raw HTML, no `javascript:` links).
"""

from __future__ import annotations

import bisect
import difflib
import functools
import hashlib
import html
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import markdown as md
import nh3

from symbiote_core.figures.authoring.spec import upgrade_claim_json
from symbiote_core.figures.site.colourwords import caption_colour_problems, colour_html
from symbiote_core.figures.site.sections import Sections, section_link

# `{{ word:` opens a directive; its body runs to `}}` and may span lines but never a
# blank line (a paragraph break) nor another `{{`.
_DIRECTIVE = re.compile(
    r"\{\{[ \t]*\n?[ \t]*(?P<kind>[A-Za-z_][\w-]*)[ \t]*\n?[ \t]*:"
    r"(?P<body>(?:(?!\}\}|\{\{|\n[ \t]*\n).)*)(?P<close>\}\})?",
    re.S,
)
_FENCE = re.compile(r"^\s*(```+|~~~+)")
_INLINE_CODE = re.compile(r"(?<!`)(`+)(?!`)(?:(?!\n[ \t]*\n).)+?(?<!`)\1(?!`)", re.S)
_MAX_FORMAT_NUMBER = 100
"""Largest width or precision a value's format may ask for (a page, not a memory test)."""


@dataclass(frozen=True)
class Directive:
    kind: str
    """As written; `PageRenderer` reports kinds it has no handler for."""
    target: str
    fmt: str | None
    line: int
    """1-based line in the source file where the directive starts."""
    start: int
    end: int
    """Character span in the whole source text."""
    problem: str | None = None
    """Why the text cannot be a directive (it is never closed), if so."""

    @property
    def text(self) -> str:
        fmt = f" | {self.fmt}" if self.fmt else ""
        return f"{{{{ {self.kind}: {self.target}{fmt} }}}}"


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
    claim_pages: dict[str, str] = field(default_factory=dict)
    """Claim name -> source path of the first page that states it (`{{ claim: }}`)."""
    source: str = ""
    """The figure module's path under the root (from the engine's settings), for messages."""
    browser: str | None = None
    """Site path of the figure's feature browser, when its data carries one."""

    @property
    def module(self) -> str:
        return self.source or (self.meta or {}).get("module") or f"{self.name}.py"

    @property
    def values(self) -> Mapping[str, float | int | list[float]]:
        return (self.meta or {}).get("values", {})

    @property
    def claims(self) -> dict[str, Mapping[str, Any]]:
        return {c["name"]: c for c in (self.meta or {}).get("claims", [])}


def find_directives(text: str) -> list[Directive]:
    """Every directive outside code, in order (of any kind: the renderer checks kinds)."""
    masked = _mask_code(text)
    line_starts = [0] + [m.end() for m in re.finditer(r"\n", text)]
    found: list[Directive] = []
    for m in _DIRECTIVE.finditer(masked):
        body = " ".join(text[m.start("body") : m.end("body")].split())  # joins wrapped lines
        target, bar, fmt = body.partition("|")
        problem = None
        if m["close"] is None:
            problem = (
                f"directive {{{{ {m['kind']}: ... is not closed with '}}}}' before the "
                "paragraph ends"
            )
        found.append(
            Directive(
                kind=m["kind"],
                target=target.strip(),
                fmt=fmt.strip() if bar and fmt.strip() else None,
                line=bisect.bisect_right(line_starts, m.start()),
                start=m.start(),
                end=m.end(),
                problem=problem,
            )
        )
    return found


def _mask_code(text: str) -> str:
    """`text` with fenced blocks and inline code blanked out (newlines kept, so offsets
    and line numbers stay those of `text`)."""
    chars = list(text)

    def blank(start: int, end: int) -> None:
        for i in range(start, end):
            if chars[i] != "\n":
                chars[i] = " "

    offset = 0
    fence: str | None = None
    fence_start = 0
    for line in text.splitlines(keepends=True):
        marker = _FENCE.match(line)
        if fence is not None:
            if marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence):
                blank(fence_start, offset + len(line))
                fence = None
        elif marker:
            fence, fence_start = marker.group(1), offset
        offset += len(line)
    if fence is not None:  # an unclosed fence runs to the end, as in Markdown
        blank(fence_start, len(text))
    outside = "".join(chars)
    for m in _INLINE_CODE.finditer(outside):
        blank(*m.span())
    return "".join(chars)


def claim_places(pages: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(figure, claim) -> the first page, in reading order, whose prose states it."""
    places: dict[tuple[str, str], str] = {}
    for page, text in pages:
        for d in find_directives(text):
            figure, _, claim = d.target.partition(".")
            if d.kind == "claim" and claim:
                places.setdefault((figure, claim), page)
    return places


def claim_anchor(figure: str, claim: str) -> str:
    """The id of a claim's row in the appendix; its sentence in the prose adds `-text`."""
    return f"claim-{figure}-{claim}"


CLAIMS_PAGE = "claims.md"

_CLAIM_MARKS = {
    "holds": ("holds", "✓ checked", "Checked claim: it holds"),
    "fails": ("fails", "✗ FAILS", "Checked claim: it FAILS"),
    "cannot fail": (
        "cannotfail",
        "✗ CANNOT FAIL",
        "Checked claim: it CANNOT FAIL (a null holds too)",
    ),
    "not separated": (
        "notseparated",
        "✗ NOT SEPARATED",
        "Checked claim: NOT SEPARATED (its weakest seed does not clear its strongest null seed)",
    ),
}
_REPORTED_MARKS = {
    "fails": ("reported", "✗ fails, as stated", "Checked claim: it fails, as the text says"),
    "cannot fail": (
        "reported",
        "✗ cannot fail, as stated",
        "Checked claim: it cannot fail (a null holds too), as the text says",
    ),
    "not separated": (
        "reported",
        "✗ not separated, as stated",
        "Checked claim: it is not separated (its weakest seed does not clear its strongest "
        "null seed), as the text says",
    ),
}
"""A claim the text states as failed, marked quietly with the verdict it got: the text
says it does not hold, the mark says why."""
_HOLDS_AGAINST_TEXT = (
    "fails",
    "✗ HOLDS, against the text",
    "Checked claim: it HOLDS, though the text states that it fails",
)


def claim_mark(claim: Mapping[str, Any]) -> tuple[str, str, str]:
    """(CSS status, mark, words) of a claim: what the verdict says, and whether the text
    states it (a claim stated as failed is marked quietly when it fails, loudly if not)."""
    if claim.get("stated", "holds") == "fails":
        if claim["verdict"] == "holds":
            return _HOLDS_AGAINST_TEXT
        return _REPORTED_MARKS[claim["verdict"]]
    return _CLAIM_MARKS[claim["verdict"]]


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
        low, high = one(min(seeds)), one(max(seeds))
        return low if low == high else f"{low}–{high}"  # every seed alike: one number
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


_MISSING = object()


def param_value(params: Mapping[str, Any], path: str) -> Any:
    """`params["a"]["b"]` for path `a.b` (`ks.0`: the first item of a list);
    `_MISSING` when there is none."""
    node: Any = params
    for part in path.split("."):
        if isinstance(node, list | tuple) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return _MISSING
    return _MISSING if isinstance(node, Mapping) else node


def param_paths(params: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Every leaf path of a (nested) params record."""
    out: list[str] = []
    for key, value in params.items():
        if isinstance(value, Mapping):
            out += param_paths(value, f"{prefix}{key}.")
        else:
            out.append(f"{prefix}{key}")
    return out


def format_setting(value: Any, fmt: str | None) -> str:
    """A param or code setting: a number with a Python format spec (default as values),
    a list or tuple item by item, anything else as text."""
    if isinstance(value, list | tuple):
        return ", ".join(format_setting(v, fmt) for v in value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        if fmt:
            raise ValueError(f"format {fmt!r} given for {value!r}, which is not a number")
        return str(value)
    return _format_number(value, fmt)


def value_title(target: str, value: float | int | list[float], description: str = "") -> str:
    """What a quoted number is, in words, and each seed's value: "the share of atoms that
    match a parent, mean of 5 seeds (0.61, ...)". An entry written before values were
    described (`Value`) has no description: the value's name stands in."""
    what = " ".join(description.split()).rstrip(".") or target
    if not isinstance(value, list):
        return f"{what}, the same on every seed"
    seeds = ", ".join(f"{v:.4g}" for v in value)
    return f"{what}, mean of {len(value)} seeds ({seeds})"


def param_words(path: str, doc: str) -> str:
    """What a quoted param is: the first sentence of its docstring, code marks dropped
    ("Target features per seed, a setting of the experiment"); its path when it has no
    docstring."""
    first = re.split(r"(?<=[.;:])\s", " ".join(doc.split()), maxsplit=1)[0].rstrip(".;:")
    # An aside naming code ("(`_lab.modadd.SEEDS`)", "(see `lr_final`)") says nothing to a reader.
    first = re.sub(r"\s*\([^()]*`[^()]*\)", "", first).replace("`", "")
    return f"{first or 'the setting ' + path}, a setting of the experiment"


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
    deferred: dict[str, str] | None = None
    """When a dict, what a reader sees but neither Markdown nor the search index needs
    stays out of the page's Markdown: each figure's chart spec (its `data-spec`
    attribute holds a token), and, as an HTML comment holding a token, each number's
    source popover, each reference's preview, each claim's mark, each figure's data
    summary and provenance table. The fragments are stored here under their tokens,
    for the caller to put into the finished HTML with `fill_deferred`. A spec holds the
    figure's data (hundreds of KB), and the rest is most of a page's HTML: Markdown and
    the search index would otherwise parse all of it on every build, and index words
    (seed lists, cache keys, params) no reader searches for."""
    token_prefix: str = "sym-spec"
    """Starts every token; the site adds a random nonce (one per process), so no text
    in a page can pose as one. Tokens never reach the finished page (`fill_deferred`)."""
    settings: Callable[[str], Any] | None = None
    """`{{ code: PATH }}` -> a `sourcetext.Setting` (the site's `SourceIndex.setting`)."""
    sections: Sections | None = None
    """The essay's numbered sections, for `{{ section: PAGE }}`."""
    param_doc: Callable[[str, str], str] | None = None
    """(figure, param path) -> what the param is, from the docstring under its field
    (the site's source index), for a quoted param's popover; "" when it has none."""
    _tips: dict[str, int] = field(default_factory=dict)
    """How often each popover text was used so far on the page (its ids must differ)."""

    HANDLERS: ClassVar[dict[str, Callable[[PageRenderer, Directive], str]]]
    """Directive kind -> handler; the only place a kind is known (set below the class)."""

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
            if d.problem is not None:
                raise _Problem(d.problem)
            handler = self.HANDLERS.get(d.kind)
            if handler is None:
                raise _Problem(unknown_kind_message(d.kind, d.text))
            return _inert(handler(self, d))
        except _Problem as p:
            problem = p
        except Exception as error:  # anything else a handler hits still names its source
            problem = _Problem(f"{d.text} could not be rendered: {type(error).__name__}: {error}")
        if problem.report:
            self.problems.append(MarkupProblem(self.page, d.line, str(problem)))
        return _error_inline(str(problem))

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
        spec = _spec_attribute(view.spec, (view.meta.get("sha256") or {}).get("spec.json"))
        if self.deferred is not None:
            token = f"{self.token_prefix}-{len(self.deferred)}"
            self.deferred[token] = spec
            spec = token
        alt = self._alt_text(view)
        return _figure_html(
            view,
            self.url_to,
            spec,
            self._caption(view, d),
            alt,
            self.defer(self._summary_html(view, alt)),
            self.defer(_provenance_html(view, self.url_to)),
        )

    CAPTION_KINDS: ClassVar[tuple[str, ...]] = ("colour", "section", "panel")
    """Directives a caption may hold; any other is shown as written."""

    def _caption(self, view: FigureView, d: Directive) -> str:
        """The caption as HTML, its `{{ colour: ROLE }}` directives filled in
        (`colourwords`), and its colour words checked against its chart: a caption that
        names a colour the chart does not draw is a problem at the figure's line."""
        caption = str((view.meta or {}).get("caption", ""))
        parts, fills, roles, last = [], [], [], 0
        for c in find_directives(caption):
            if c.kind not in self.CAPTION_KINDS:
                continue
            parts.append(caption[last : c.start])
            last = c.end
            try:
                if c.kind == "section":
                    fills.append(self._section(c))
                elif c.kind == "panel":
                    fills.append(panel_html(c.target, c.fmt))
                else:
                    fills.append(colour_html(c.target, c.fmt))
                    roles.append(c.target)
            except (KeyError, ValueError, _Problem) as e:
                message = e.args[0] if e.args else str(e)
                self.problems.append(MarkupProblem(
                    self.page, d.line, f"caption of figure {view.name!r} ({view.module}): "
                    f"{c.text}: {message}"))
                fills.append(html.escape(c.target))
            parts.append(f"SYMCAPTION{len(fills) - 1}X")
        parts.append(caption[last:])
        text = "".join(parts)
        for problem in caption_colour_problems(text, roles, view.spec or {}):
            self.problems.append(MarkupProblem(
                self.page, d.line, f"caption of figure {view.name!r} ({view.module}) {problem}"))
        rendered = caption_html(text)
        for i, fill in enumerate(fills):
            rendered = rendered.replace(f"SYMCAPTION{i}X", fill)
        return rendered

    def defer(self, fragment: str) -> str:
        """`fragment`, or an HTML comment holding the token it is stored under (see
        `deferred`). Stored inert, as `_replace` would have made it, so the finished
        page is byte for byte the one without deferral."""
        if self.deferred is None:
            return fragment
        token = f"<!--{self.token_prefix}-f{len(self.deferred)}-->"
        self.deferred[token] = _inert(fragment)
        return token

    def _alt_text(self, view: FigureView) -> str:
        """The figure's alt text with its `{{ value: }}` and `{{ param: }}` filled in:
        plain text, for an attribute."""
        alt = str((view.meta or {}).get("alt", ""))
        out, last = [], 0
        for d in find_directives(alt):
            out.append(alt[last : d.start])
            last = d.end
            where = f"alt text of figure {view.name!r} ({view.module})"
            try:
                if d.problem is not None:
                    raise _Problem(d.problem)
                if d.kind == "value":
                    other, name = self._split(d)
                    if name not in other.values:
                        raise _Problem(f"unknown value {name!r} of figure {other.name!r}")
                    _check_format(d)
                    out.append(format_value(other.values[name], d.fmt))
                elif d.kind == "param":
                    other, path = self._split(d)
                    out.append(self._param_text(other, path, d))
                else:
                    raise _Problem(f"{d.text}: alt text may quote only value and param")
            except _Problem as p:
                raise _Problem(f"{where}: {p}") from None
            except Exception as e:
                raise _Problem(f"{where}: {d.text}: {type(e).__name__}: {e}") from None
        out.append(alt[last:])
        return " ".join("".join(out).split())

    def _summary_html(self, view: FigureView, alt: str) -> str:
        """The figure's data summary: its alt text, and a table of the values that the
        alt text and the claims quote (mean ± sd, range and seeds of each)."""
        meta = view.meta or {}
        names: list[str] = []
        for d in find_directives(str(meta.get("alt", ""))):
            figure, _, name = d.target.partition(".")
            if d.kind == "value" and figure == view.name:
                names.append(name)
        for claim in meta.get("claims", []):
            names += [n for n in (claim.get("left"), claim.get("right")) if isinstance(n, str)]
        rows = []
        for name in dict.fromkeys(n for n in names if n in view.values):
            value = view.values[name]
            if isinstance(value, list):
                cells = (format_value(value, "pm"), format_value(value, "range"), str(len(value)))
            else:
                cells = (format_value(value, None), "", "constant")
            rows.append(
                f"<tr><th><code>{escape(name)}</code></th>"
                + "".join(f"<td>{escape(c)}</td>" for c in cells)
                + "</tr>"
            )
        table = (
            '<table><thead><tr><th scope="col">value</th><th scope="col">mean ± sd</th>'
            '<th scope="col">range</th><th scope="col">seeds</th></tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>"
            if rows
            else ""
        )
        return (
            '<details class="sym-summary"><summary>Data summary</summary>'
            f"<p>{escape(alt)}</p>{table}</details>"
        )

    def _ref(self, d: Directive) -> str:
        view = self._view(d.target, d)
        if view.number is None or view.page is None:
            raise _Problem(
                f"ref to figure {d.target!r}, which no page embeds with {{{{ figure: ... }}}}"
            )
        href = self.url_to(f"{self.page_url(view.page)}#fig-{view.name}")
        title = html.escape(str((view.meta or {}).get("title", view.name)))
        preview = ""
        if "figure.svg" in view.files:
            preview = self.defer(
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
        _check_format(d)
        try:
            text = format_value(view.values[name], d.fmt)
        except Exception as e:  # ValueError, TypeError, OverflowError, MemoryError...
            raise _Problem(
                f"bad format {d.fmt!r} for value {d.target!r}: {type(e).__name__}: {e}"
            ) from None
        description = str((view.meta or {}).get("value_descriptions", {}).get(name, ""))
        return self._number(text, value_title(d.target, view.values[name], description), view)

    def _param(self, d: Directive) -> str:
        view, path = self._split(d)
        if view.error is not None:
            raise _Problem(
                f"param {d.target!r}: figure {view.name!r} failed to build", report=False
            )
        text = self._param_text(view, path, d)
        return self._number(text, param_words(path, self._param_doc(view.name, path)), view)

    def _param_doc(self, figure: str, path: str) -> str:
        if self.param_doc is None:
            return ""
        try:
            return self.param_doc(figure, path)
        except Exception:  # the methods appendix reports unreadable source, at its line
            return ""

    def _from_figure(self, view: FigureView) -> tuple[str, str]:
        """"From Figure 7: its title.", as HTML (the figure's number a link to it, when a
        page embeds it) and as text (for the popover's id)."""
        title = str((view.meta or {}).get("title", "")).strip()
        where = f"Figure {view.number}" if view.number else f"figure {view.name}"
        text = f"From {where}" + (f": {title}" if title else "") + "."
        link = html.escape(where)
        if view.number is not None and view.page is not None:
            href = self.url_to(f"{self.page_url(view.page)}#fig-{view.name}")
            link = f'<a href="{html.escape(href)}">{link}</a>'
        return f"From {link}" + (f": {html.escape(title)}" if title else "") + ".", text

    def _param_text(self, view: FigureView, path: str, d: Directive) -> str:
        value = param_value((view.meta or {}).get("params", {}), path)
        if value is _MISSING:
            known = ", ".join(param_paths((view.meta or {}).get("params", {}))) or "none"
            raise _Problem(f"unknown param {path!r} of figure {view.name!r} (known: {known})")
        _check_format(d)
        try:
            return format_setting(value, d.fmt)
        except Exception as e:
            raise _Problem(
                f"bad format {d.fmt!r} for param {d.target!r}: {type(e).__name__}: {e}"
            ) from None

    def _code(self, d: Directive) -> str:
        if self.settings is None:
            raise _Problem("{{ code: }} needs the project's source, which this page has not")
        try:
            setting = self.settings(d.target)
        except Exception as e:  # sourcetext.SourceTextError names the file and line
            raise _Problem(str(e)) from None
        _check_format(d)
        try:
            text = format_setting(setting.value, d.fmt)
        except Exception as e:
            raise _Problem(
                f"bad format {d.fmt!r} for code setting {d.target!r}: {type(e).__name__}: {e}"
            ) from None
        return self._number(text, f"{d.target}, set in {setting.where}")

    def _hero(self, d: Directive) -> str:
        """A figure shown on the title page as a still image (no chart runtime there),
        linking to where it is numbered and drawn."""
        view = self._view(d.target, d)
        if view.error is not None or "figure.svg" not in view.files:
            raise _Problem(f"hero figure {view.name!r} failed to build", report=False)
        if view.number is None or view.page is None:
            raise _Problem(f"hero figure {view.name!r} is embedded on no page")
        href = self.url_to(f"{self.page_url(view.page)}#fig-{view.name}")
        title = html.escape(str((view.meta or {}).get("title", view.name)))
        return (
            f'\n\n<figure class="sym-hero"><a href="{href}">'
            f'<img src="{self.url_to(view.files["figure.svg"])}" loading="eager" '
            f'alt="{html.escape(self._alt_text(view))}"></a>'
            f'<figcaption><a href="{href}">Figure {view.number}</a>. {title}</figcaption>'
            "</figure>\n\n"
        )

    def _section(self, d: Directive) -> str:
        """'section 3', a link to the page that is section 3 (`sections.py`)."""
        if self.sections is None:
            raise _Problem("{{ section: }} needs the essay's numbered sections, which this page has not")
        try:
            label = self.sections.label(d.target, d.fmt)
        except (KeyError, ValueError) as e:
            raise _Problem(f"{d.text}: {e.args[0] if e.args else e}") from None
        return section_link(label, self.url_to(self.page_url(d.target)))

    def _tip_id(self, source: str, text: str) -> str:
        """A popover's id from what it says (and how often the page said it before), not
        from the process or the position: two builds of one commit give the same bytes,
        and an edit elsewhere on the page leaves this id as it was."""
        said = f"{source}\0{text}"
        seen = self._tips.get(said, 0)
        self._tips[said] = seen + 1
        return "sym-popover-" + hashlib.sha256(f"{said}\0{seen}".encode()).hexdigest()[:16]

    def _number(self, text: str, source: str, view: FigureView | None = None) -> str:
        """A quoted number with its source in a popover: a button, so that a tap, a
        click and the keyboard all reach it (site.js toggles it); hover shows it too.
        `source` says in words what the number is; with `view`, the popover ends with the
        figure it comes from, linked."""
        words, said = html.escape(source), source
        if view is not None:
            where_html, where_text = self._from_figure(view)
            words, said = f"{words.rstrip('.')}. {where_html}", f"{source.rstrip('.')}. {where_text}"
        tip = self._tip_id(said, text)
        popover = self.defer(f'<span class="sym-tip" role="tooltip" id="{tip}">{words}</span>')
        return (
            f'<span class="sym-value"><button type="button" class="sym-value-number" '
            f'aria-describedby="{tip}" aria-expanded="false">{html.escape(text)}</button>'
            f"{popover}</span>"
        )

    def _claim(self, d: Directive) -> str:
        view, name, claim = self._claim_of(d)
        status = claim_mark(claim)[0]
        anchor = claim_anchor(view.name, name)
        # The id stays in the Markdown: MkDocs checks links to it (the appendix's).
        return (
            f'<span class="sym-claim sym-claim--{status}" id="{anchor}-text">'
            f"{html.escape(claim['statement'])}{self._claim_mark(view, name, claim)}</span>"
        )

    def _check(self, d: Directive) -> str:
        """The mark of a claim stated elsewhere: what was checked and how it came out."""
        view, name, claim = self._claim_of(d)
        # In a span: a line that began with the deferred mark (an HTML comment until the
        # page is finished) would start a raw HTML block and break a list in two.
        return f'<span class="sym-check-wrap">{self._claim_mark(view, name, claim)}</span>'


    def _claim_of(self, d: Directive) -> tuple[FigureView, str, Mapping[str, Any]]:
        view, name = self._split(d)
        if view.error is not None:
            raise _Problem(
                f"{d.kind} {d.target!r}: figure {view.name!r} failed to build", report=False
            )
        claim = view.claims.get(name)
        if claim is None:
            known = ", ".join(sorted(view.claims)) or "none"
            raise _Problem(f"unknown claim {name!r} of figure {view.name!r} (known: {known})")
        return view, name, claim

    def _claim_mark(self, view: FigureView, name: str, claim: Mapping[str, Any]) -> str:
        """A visible mark after a claim: a button (tap, click, keyboard) whose popover says
        in words what the build checked and how it came out, and links to its test."""
        status, mark, _ = claim_mark(claim)
        href = self.url_to(f"{self.page_url(CLAIMS_PAGE)}#{claim_anchor(view.name, name)}")
        words = claim_in_words(claim)
        tip = self._tip_id(words, f"{view.name}.{name}")
        return self.defer(
            f'<span class="sym-value sym-check sym-check--{status}">'
            f'<button type="button" class="sym-value-number sym-claim-mark" '
            f'aria-describedby="{tip}" aria-expanded="false">{mark}</button>'
            f'<span class="sym-tip sym-check-tip" role="tooltip" id="{tip}">'
            f'{html.escape(words)} <a href="{href}">Its test, seed by seed</a></span></span>'
        )


_STACKED = {"left": "top", "right": "bottom"}
"""Where a side-by-side panel goes when a narrow screen stacks it (site.js)."""


def panel_html(side: str, fmt: str | None = None) -> str:
    """'Left' on a wide screen and 'Top' on a narrow one, where the panels are stacked
    (`{{ panel: left | capital }}` in a caption)."""
    side = side.strip().lower()
    if side not in _STACKED:
        raise ValueError(f"unknown panel {side!r} (known: {', '.join(_STACKED)})")
    if fmt not in (None, "capital"):
        raise ValueError(f"unknown panel format {fmt!r} (known: capital)")
    wide, narrow = side, _STACKED[side]
    if fmt == "capital":
        wide, narrow = wide.capitalize(), narrow.capitalize()
    return (
        f'<span class="sym-panel-wide">{wide}</span>'
        f'<span class="sym-panel-narrow">{narrow}</span>'
    )


def claim_in_words(claim: Mapping[str, Any]) -> str:
    """What the build checked for a claim and how it came out, in a reader's words:
    the verdict, on how many seeds, against what, and what its nulls gave."""
    claim = upgrade_claim_json(claim)
    seeds = len(claim["real"]["seed_holds"])
    held = sum(bool(h) for h in claim["real"]["seed_holds"])
    words = claim_mark(claim)[2]
    control = str(claim.get("control", "")).rstrip(".")
    nulls = "; ".join(
        f"on its null ({str(null['description']).rstrip('.')}) the same test holds on "
        f"{sum(bool(h) for h in null['evaluation']['seed_holds'])} of {seeds} seeds"
        for null in claim["nulls"]
    )
    return (
        f"{words}. The comparison holds on {held} of {seeds} seeds. Compared with: "
        f"{control}. {nulls[:1].upper()}{nulls[1:]}."
    )


PageRenderer.HANDLERS = {
    "figure": PageRenderer._figure,
    "ref": PageRenderer._ref,
    "value": PageRenderer._value,
    "claim": PageRenderer._claim,
    "param": PageRenderer._param,
    "code": PageRenderer._code,
    "section": PageRenderer._section,
    "check": PageRenderer._check,
    "hero": PageRenderer._hero,
}
KINDS = tuple(PageRenderer.HANDLERS)


def unknown_kind_message(kind: str, text: str) -> str:
    """'unknown directive kind ...' with the nearest known kind."""
    close = difflib.get_close_matches(kind.lower(), KINDS, n=1, cutoff=0.5)
    if close and close[0] == kind.lower():
        hint = f"; kinds are lower case: {close[0]!r}"
    elif close:
        hint = f"; did you mean {close[0]!r}?"
    else:
        hint = ""
    return f"unknown directive kind {kind!r} in {text}{hint} (known: {', '.join(KINDS)})"


def _check_format(d: Directive) -> None:
    """Refuse formats whose width or precision would blow up the page (or the memory)."""
    for number in re.findall(r"\d+", d.fmt or ""):
        if int(number) > _MAX_FORMAT_NUMBER:
            raise _Problem(
                f"bad format {d.fmt!r} for value {d.target!r}: width or precision {number} "
                f"is larger than {_MAX_FORMAT_NUMBER}"
            )


# Links (`[`, `]`), code spans that could swallow our tags (a backtick), table cells
# (`|`) and attr_list's `{ ... }`, which after an emphasis (`*a*{ onclick=x }`) would
# make the rest of the text attributes of the `<em>`. Emphasis, `_` and `$` stay: they
# cannot run anything, and `$x_1$` in a statement must still reach the math extension
# (math in figure text groups without braces).
_MARKDOWN_ACTIVE = tuple((c, f"&#{ord(c)};") for c in "[]`|{")


def _as_references(text: str) -> str:
    """`text` with the characters of `_MARKDOWN_ACTIVE` as character references. A chain
    of `str.replace` (a memchr scan each): `str.translate` with a table of strings costs
    a dict lookup per character, and every directive and fragment of a page passes here."""
    for char, reference in _MARKDOWN_ACTIVE:
        if char in text:
            text = text.replace(char, reference)
    return text


def _inert(fragment: str) -> str:
    """An HTML fragment that Markdown (which runs on the page after us) cannot turn into
    links or code, nor split across table cells.

    Markdown keeps inline tags but still parses the text around them, and its link
    pattern runs before its HTML pattern, so `[x](javascript:...)` becomes a link even
    inside an attribute value. Those characters are written as character references
    everywhere in the fragment (our own tags and attribute names never use them; in
    text and attribute values browsers decode them back). Inline fragments also get
    their newlines as references, so a statement cannot end a table row.
    """
    inert = _as_references(fragment)
    if fragment.startswith("\n\n"):  # a block (a figure): Markdown leaves it alone
        return inert
    return inert.replace("\n", "&#10;")


def markdown_literal(text: str) -> str:
    """`text` as literal Markdown text: no tag, link, code span, table cell or directive
    can start inside it. Identifiers come out unchanged."""
    # Math characters ($, backslash, _, braces) stay, so `$x_1$` in a title still
    # reaches KaTeX.
    escaped = html.escape(text, quote=True)
    return _as_references(escaped).replace("\n", " ").replace("{{", "&#123;{")


def escape(text: Any) -> str:
    """Text from a figure module or its data, safe in HTML text and attribute values."""
    return html.escape(str(text), quote=True)


class _Problem(Exception):
    """A directive that cannot be rendered. `report=False`: already reported elsewhere
    (a figure that failed to build), so the page only shows the error box."""

    def __init__(self, message: str, report: bool = True) -> None:
        super().__init__(message)
        self.report = report


def _error_inline(message: str) -> str:
    head, _, rest = message.partition("\n")
    if rest:  # a traceback: show it as a block
        # Blank lines around: a block, so Markdown neither wraps nor parses it.
        return (
            f'\n\n<div class="sym-error" role="alert"><p><strong>Build error.</strong> '
            f"{html.escape(head)}</p><pre>{html.escape(rest)}</pre></div>\n\n"
        )
    return f'<span class="sym-error sym-error--inline" role="alert">{html.escape(head)}</span>'


@functools.lru_cache(maxsize=4096)  # a pure function of the text; every rebuild asks again
def caption_html(caption: str) -> str:
    """A caption's Markdown as HTML, safely: raw HTML is shown as text (every `<` is
    escaped before Markdown runs, as markdown-it's `html: false` does), and the result
    is sanitised by nh3 (the Ammonia sanitiser), which drops `javascript:` links and
    any attribute that could run code (attr_list's `{: onclick=... }`)."""
    source = str(caption).replace("<", "&lt;")
    return nh3.clean(md.markdown(source, extensions=["attr_list"]))


def _spec_attribute(spec: Mapping[str, Any], digest: str | None = None) -> str:
    """The chart spec as an HTML attribute value. Memoised on `digest`, the sha256 of the
    entry's spec.json (content-addressed: the same digest is the same spec), because a
    spec carries the figure's data and every rebuild would encode it again."""
    if digest is None:
        # Inert already (see `_inert`), so a deferred spec is byte for byte the inline one.
        escaped = html.escape(json.dumps(spec, separators=(",", ":")), quote=True)
        return _as_references(escaped)
    attribute = _SPEC_ATTRIBUTES.pop(digest, None)
    if attribute is None:
        attribute = _spec_attribute(spec)
        # Bounded by size, not count: a count below the number of figures would evict
        # every spec before the next rebuild asks for it again.
        while _SPEC_ATTRIBUTES and _spec_bytes() + len(attribute) > _SPEC_MEMO_BYTES:
            _SPEC_ATTRIBUTES.pop(next(iter(_SPEC_ATTRIBUTES)))
    _SPEC_ATTRIBUTES[digest] = attribute  # most recently used last
    return attribute


def _spec_bytes() -> int:
    return sum(len(a) for a in _SPEC_ATTRIBUTES.values())


_SPEC_ATTRIBUTES: dict[str, str] = {}  # sha256 of spec.json -> its attribute value
_SPEC_MEMO_BYTES = 512 * 2**20


def fill_deferred(output: str, deferred: Mapping[str, str], prefix: str) -> tuple[str, list[str]]:
    """`output` with every token of `PageRenderer.deferred` replaced by its fragment, and
    the tokens that were not found (a page whose HTML lost one misses that fragment).

    `prefix`: the renderer's `token_prefix`. The page is scanned for that one literal,
    not for an alternation of all its tokens (hundreds on a page, each tried at every
    character)."""
    if not deferred:
        return output, []
    pattern = _tokens_of(prefix)
    found: set[str] = set()

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token not in deferred:
            return token
        found.add(token)
        return deferred[token]

    filled = pattern.sub(fill, output)
    return filled, sorted(set(deferred) - found)


@functools.lru_cache(maxsize=16)
def _tokens_of(prefix: str) -> re.Pattern[str]:
    """The two shapes `PageRenderer` gives tokens: `PREFIX-N` (a spec) and
    `<!--PREFIX-fN-->` (a fragment)."""
    p = re.escape(prefix)
    return re.compile(rf"<!--{p}-f\d+-->|{p}-\d+(?!\d)")


def _figure_html(
    view: FigureView,
    url_to: Callable[[str], str],
    spec: str,
    caption: str,
    alt_text: str,
    summary: str,
    provenance: str,
) -> str:
    """The figure block; `spec` is the escaped `data-spec` value (or a deferred token),
    `caption` its HTML, `summary` and `provenance` their blocks (or deferred tokens)."""
    meta = view.meta or {}
    alt = html.escape(alt_text)
    svg = view.files.get("figure.svg")
    fallback = f'<noscript><img src="{url_to(svg)}" alt="{alt}"></noscript>' if svg else ""
    if svg:  # what print shows: the figure as built, static and light (site.css @media print)
        # Its src is set when the reader prints (site.js), not before: a lazy image that
        # is not displayed still loads as the reader scrolls past it.
        fallback += f'<img class="sym-print-figure" data-print-src="{url_to(svg)}" alt="">'

    number = f"Figure {view.number}." if view.number else "Figure."
    if view.browser:
        caption += (
            f'<p class="sym-browser-link"><a href="{url_to(view.browser)}">'
            "Browse every latent of this dictionary</a> (top examples, matched label, "
            "steering effect).</p>"
        )
    # The blank lines keep Markdown from wrapping this block in a paragraph.
    return (
        f'\n\n<figure class="sym-figure" id="fig-{view.name}" data-figure="{view.name}">\n'
        f'<div class="sym-chart" role="img" aria-label="{alt}" data-spec="{spec}"></div>{fallback}\n'
        f'<figcaption><p class="sym-figure-title"><strong>{number}</strong> '
        f"{html.escape(str(meta.get('title', view.name)))}</p>{caption}</figcaption>\n"
        f"{summary}{provenance}\n</figure>\n\n"
    )


def _provenance_html(view: FigureView, url_to: Callable[[str], str]) -> str:
    meta = view.meta or {}
    versions = ", ".join(f"{k} {v}" for k, v in sorted(meta.get("versions", {}).items()))
    rows = [
        ("Rebuild", f"<code>python -m symbiote_core.figures build {view.name} --force</code>"),
        ("Source", f"<code>{escape(view.module)}</code>"),
        ("Cache key", f"<code>{html.escape(str(meta.get('key', '?'))[:16])}</code>"),
        ("Commit", f"<code>{html.escape(str(meta.get('git', 'unknown')))}</code>"),
        ("Seeds", html.escape(", ".join(str(s) for s in meta.get("seeds", [])) or "none")),
        ("Params", f"<code>{html.escape(json.dumps(meta.get('params', {}), default=str))}</code>"),
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
