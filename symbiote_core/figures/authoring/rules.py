"""The authoring rules: what a figure module must do, stated in one place.

Each rule is a pure function of what a figure says (its alt text, methods paragraph,
value and claim names, params, source), so this module imports nothing of the engine or
the site. `symbiote_core/figures/check.py` gathers those facts from a figure's source
and its cache entry and applies the rules: `python -m symbiote_core.figures check`,
`figures new` on the module it writes, `figures build` (as warnings), and
tests/essay/test_real_figure_rules.py on every real figure.

- `alt-values`: the alt text quotes at least one value, and every number in it is a
  directive of this figure (`{{ value: NAME.VALUE }}` of a value it defines, or
  `{{ param: NAME.field }}`); digits left are names ("layer-0", "2-D"), never typed.
- `methods`: a methods paragraph, readable from source, that quotes a param or a value,
  uses only param, value, code and ref directives, and quotes code settings that exist.
- `params-rows`: every param (nested dataclasses expanded) has a row in the methods
  table, and every row says what its param is: the docstring under the field (for a
  nested one, under the field of its own class, as `host.width` under `HostParams.width`)
  is not empty (checked once the figure is built: the params are those the build
  recorded).
- `palette`: no hex colour or CSS colour name in a string literal, no named Vega
  `scheme=`, no literal font size below `palette.MIN_FONT_PX`, in the module or in a
  helper module of the figures package it imports: site.js swaps only palette colours
  for dark mode (use `palette.color`, `palette.scale`, `SEQUENTIAL`, `DIVERGING`).
- `identifiers`: value and claim names are Python identifiers (directives name them as
  `FIGURE.NAME`).
- `null-names`: `NULL_NAMING`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

from symbiote_core.figures.authoring import palette

RULES = ("alt-values", "methods", "params-rows", "palette", "identifiers", "null-names")

NULL_NAMING = (
    "a null value is named after the value it replaces, prefixed by the null's setting: "
    "`<setting>_<value>`, as `untrained_dictionary_mmcs` replaces `dictionary_mmcs` "
    "(`untrained_`, `shuffled_`, `random_host_`, ...), so a reader sees, from its name "
    "alone, which measurement it stands in for and under which setting"
)
"""The one naming rule for null values (`Null(values={VALUE: NULL_VALUE})`)."""

METHODS_KINDS = frozenset({"param", "value", "code", "ref"})
ALT_KINDS = frozenset({"value", "param"})
_TYPED_NUMBER = re.compile(r"(?<![\w-])\d+(?:\.\d+)?%?(?![\w-])")
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b")
_FONT_KEYWORDS = frozenset({"fontSize", "labelFontSize", "titleFontSize", "subtitleFontSize"})
# CSS Color Module Level 4 named colours (the ones Vega accepts as colour strings).
_CSS_NAMES = """aliceblue antiquewhite aqua aquamarine azure beige bisque black blanchedalmond blue
    blueviolet brown burlywood cadetblue chartreuse chocolate coral cornflowerblue cornsilk
    crimson cyan darkblue darkcyan darkgoldenrod darkgray darkgreen darkgrey darkkhaki
    darkmagenta darkolivegreen darkorange darkorchid darkred darksalmon darkseagreen
    darkslateblue darkslategray darkslategrey darkturquoise darkviolet deeppink deepskyblue
    dimgray dimgrey dodgerblue firebrick floralwhite forestgreen fuchsia gainsboro
    ghostwhite gold goldenrod gray green greenyellow grey honeydew hotpink indianred indigo
    ivory khaki lavender lavenderblush lawngreen lemonchiffon lightblue lightcoral
    lightcyan lightgoldenrodyellow lightgray lightgreen lightgrey lightpink lightsalmon
    lightseagreen lightskyblue lightslategray lightslategrey lightsteelblue lightyellow
    lime limegreen linen magenta maroon mediumaquamarine mediumblue mediumorchid
    mediumpurple mediumseagreen mediumslateblue mediumspringgreen mediumturquoise
    mediumvioletred midnightblue mintcream mistyrose moccasin navajowhite navy oldlace
    olive olivedrab orange orangered orchid palegoldenrod palegreen paleturquoise
    palevioletred papayawhip peachpuff peru pink plum powderblue purple rebeccapurple red
    rosybrown royalblue saddlebrown salmon sandybrown seagreen seashell sienna silver
    skyblue slateblue slategray slategrey snow springgreen steelblue tan teal thistle
    tomato turquoise violet wheat white whitesmoke yellow yellowgreen"""
CSS_NAMES = frozenset(_CSS_NAMES.split())


class Directive(Protocol):
    """A parsed `{{ kind: target | fmt }}` (the site's parser, `markup.find_directives`)."""

    kind: str
    target: str
    start: int
    end: int

    @property
    def text(self) -> str: ...


def alt_problems(figure: str, alt: str, directives: Sequence[Directive],
                 values: Iterable[str] | None) -> list[str]:
    """`alt-values`: what is wrong with alt text `alt` of `figure` (its `directives`
    parsed); `values`, the figure's value names, when known."""
    known = None if values is None else set(values)
    out = []
    if not any(d.kind == "value" for d in directives):
        out.append("the alt text quotes no value: say what the chart shows with "
                   f"{{{{ value: {figure}.VALUE }}}}")
    for d in directives:
        if d.kind not in ALT_KINDS:
            out.append(f"{d.text}: the alt text quotes only values and params")
        elif d.target.split(".")[0] != figure:
            out.append(f"{d.text}: the alt text quotes this figure ({figure}) only")
        elif d.kind == "value" and known is not None and d.target.split(".", 1)[1] not in known:
            out.append(f"{d.text}: no value of that name")
    text = alt
    for d in sorted(directives, key=lambda d: d.start, reverse=True):
        text = text[: d.start] + "#" + text[d.end :]
    typed = _TYPED_NUMBER.findall(text)
    if typed:
        out.append(f"numbers typed into the alt text: {typed}; quote them with "
                   "{{ value: }} or {{ param: }}")
    return out


def methods_problems(methods: str, directives: Sequence[Directive],
                     setting_problem: Callable[[str], str | None]) -> list[str]:
    """`methods`: what is wrong with a methods paragraph; `setting_problem(path)` says
    why a `{{ code: path }}` setting cannot be read from the code (None when it can)."""
    if not methods.strip():
        return ["Figure(methods=...) is missing: the methods appendix needs a paragraph on "
                "host, symbiote, control, null and seeds"]
    out = []
    if not {d.kind for d in directives} & {"param", "value"}:
        out.append("the methods paragraph quotes no param or value")
    for d in directives:
        if d.kind not in METHODS_KINDS:
            out.append(f"{d.text}: methods quote only {', '.join(sorted(METHODS_KINDS))}")
        elif d.kind == "code":
            problem = setting_problem(d.target)
            if problem:
                out.append(f"{d.text}: {problem}")
    return out


def params_rows_problems(rows: Mapping[str, str], params: Sequence[str]) -> list[str]:
    """`params-rows`: the methods table's rows (path: docstring) against every param's
    path (nested dataclasses expanded: `host.width`); a row whose docstring is empty says
    nothing of what its param is."""
    shown, wanted = sorted(rows), sorted(params)
    out = []
    if shown != wanted:
        missing = sorted(set(wanted) - set(shown))
        stray = sorted(set(shown) - set(wanted))
        out.append(f"the methods table's rows {shown} are not the params {wanted} "
                   f"(missing {missing}, not params {stray})")
    out += [f"param {path!r} has no docstring: write one line under its field saying "
            f"what it is (the methods table's 'what it is')"
            for path, doc in rows.items() if not doc.strip()]
    return out


def identifier_problems(values: Iterable[str], claims: Iterable[str]) -> list[str]:
    """`identifiers`: value and claim names that directives could not name."""
    return [f"{what} name {name!r} is not a Python identifier"
            for what, names in (("value", values), ("claim", claims))
            for name in names if not name.isidentifier()]


def null_name_problem(real: str, null: str) -> str | None:
    """`null-names`: why `null` is not a proper name for the null of value `real`."""
    prefix = null[: -len(real) - 1] if null.endswith("_" + real) else ""
    if prefix and prefix.isidentifier() and not prefix.endswith("_"):
        return None
    return (f"null value {null!r} replaces {real!r}: name it <setting>_{real}, as "
            f"untrained_{real} (rules.NULL_NAMING)")


def off_palette(source: str | ast.Module) -> list[tuple[int, str]]:
    """`palette`: (line, problem) for each colour or font size in `source` that bypasses
    the palette: a hex colour or CSS colour name in any string literal, a named Vega
    `scheme=`, a literal font size below `palette.MIN_FONT_PX`."""
    tree = ast.parse(source) if isinstance(source, str) else source
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.strip().lower()
            if (len(text) < 40 and _HEX_COLOUR.search(text)) or text in CSS_NAMES:
                problems.append((node.lineno, f"colour {node.value!r}: use palette.color(ROLE) "
                                              "or palette.scale({...})"))
        if isinstance(node, ast.keyword) and isinstance(node.value, ast.Constant):
            value = node.value.value
            if node.arg == "scheme" and isinstance(value, str):
                problems.append((node.lineno, f"scheme={value!r}: use palette.SEQUENTIAL or "
                                              "palette.DIVERGING"))
            small = isinstance(value, int | float) and value < palette.MIN_FONT_PX
            if node.arg in _FONT_KEYWORDS and small:
                problems.append((node.lineno, f"{node.arg}={value}: below "
                                              f"palette.MIN_FONT_PX ({palette.MIN_FONT_PX})"))
    return problems
