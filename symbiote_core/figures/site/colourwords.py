"""Colour words in captions: said from the palette, and checked against the chart.

A caption names a colour with `{{ colour: ROLE }}` (`| capital` starts a sentence):
the page shows the role's name in the reader's theme ("orange" in light, "yellow" in
dark, from `palette.NAMES`) beside a swatch of it. A colour word written out ("grey
ticks") must be true in both themes.

`caption_colour_problems` is what the build checks: every role a caption names must be
drawn by its chart (the role's colour is in the spec), and every colour word written out
must name a hue the chart draws in light *and* in dark (after the site's dark swaps).
Only hue words are checked ("red", "teal", "grey"...): "dark" and "light" alone are
lightness, not colours, and a caption should not lean on them.
"""

from __future__ import annotations

import colorsys
import html
import re
from collections.abc import Iterable, Mapping
from typing import Any

from symbiote_core.figures.authoring import palette

_WORDS = {
    # word -> the hue families it may truthfully name
    "red": {"red", "orange"},
    "orange": {"orange", "red"},
    "brown": {"orange", "red"},
    "yellow": {"yellow"},
    "green": {"green", "teal"},
    "teal": {"teal", "green"},
    "cyan": {"teal", "blue"},
    "blue": {"blue"},
    "purple": {"purple", "pink"},
    "violet": {"purple"},
    "pink": {"pink", "purple"},
    "magenta": {"pink", "purple"},
    "grey": {"grey", "black", "white"},
    "gray": {"grey", "black", "white"},
    "black": {"black"},
    "white": {"white"},
}
COLOUR_WORD = re.compile(r"\b(" + "|".join(_WORDS) + r")\b", re.I)
_HEX = re.compile(r"^#([0-9a-f]{3}|[0-9a-f]{6})$", re.I)
_CSS_NAMES = {
    "black": "#000000", "white": "#ffffff", "grey": "#808080", "gray": "#808080",
    "lightgray": "#d3d3d3", "lightgrey": "#d3d3d3", "darkgray": "#a9a9a9",
    "darkgrey": "#a9a9a9", "silver": "#c0c0c0", "red": "#ff0000", "orange": "#ffa500",
    "yellow": "#ffff00", "green": "#008000", "teal": "#008080", "blue": "#0000ff",
    "steelblue": "#4682b4", "purple": "#800080", "pink": "#ffc0cb", "brown": "#a52a2a",
}
_SCHEMES = {  # Vega colour schemes: the hue families along each
    "viridis": {"purple", "blue", "teal", "green", "yellow"},
    "blueorange": {"blue", "orange", "white", "grey"},
    "redblue": {"red", "blue", "white", "grey"},
    "greys": {"grey", "black", "white"},
    "blues": {"blue", "white"},
}
_COLOUR_KEYS = {"color", "fill", "stroke"}


def family(hex_colour: str) -> str:
    """The hue family a reader would name a colour by ("blue", "grey", "orange"...)."""
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    r, g, b = (int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))
    hue, light, sat = colorsys.rgb_to_hls(r, g, b)
    if sat < 0.15 or light < 0.1 or light > 0.95:
        return "black" if light < 0.2 else "white" if light > 0.9 else "grey"
    degrees = hue * 360
    for upper, name in ((12, "red"), (40, "orange"), (70, "yellow"), (160, "green"),
                        (195, "teal"), (255, "blue"), (290, "purple"), (340, "pink")):
        if degrees < upper:
            return name
    return "red"


def _colours(node: Any, in_colour: bool, out: set[str], schemes: set[str]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in ("data", "datasets", "usermeta", "description"):
                continue
            colour_key = in_colour or key in _COLOUR_KEYS or key.endswith("Color")
            if key == "scheme" and isinstance(value, str):
                schemes.add(value.lower())
            _colours(value, colour_key, out, schemes)
    elif isinstance(node, list | tuple):
        for value in node:
            _colours(value, in_colour, out, schemes)
    elif in_colour and isinstance(node, str):
        colour = node.strip().lower()
        if _HEX.match(colour):
            out.add(colour)
        elif colour in _CSS_NAMES:
            out.add(_CSS_NAMES[colour])


def drawn_colours(spec: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """(colours, scheme names) the spec draws, light theme; the site's default mark
    colour (the symbiote's) and text colour (ink) included."""
    colours: set[str] = {palette.color("symbiote"), palette.color("ink")}
    schemes: set[str] = set()
    _colours(spec, False, colours, schemes)
    return colours, schemes


def drawn_families(spec: Mapping[str, Any], scheme: palette.Scheme) -> set[str]:
    """The hue families the chart shows in a theme (dark: the site's swaps applied)."""
    colours, schemes = drawn_colours(spec)
    if scheme == "dark":
        swaps = {k.lower(): v.lower() for k, v in palette.swaps().items()}
        colours = {swaps.get(c, c) for c in colours}
    families = {family(c) for c in colours}
    for name in schemes:
        families |= _SCHEMES.get(name, set())
    return families


def caption_colour_problems(caption: str, roles: Iterable[str],
                            spec: Mapping[str, Any]) -> list[str]:
    """What a caption says about colour that its chart does not draw. `caption` is its
    text without its `{{ colour: }}` directives; `roles`, the roles those name."""
    problems = []
    colours, _ = drawn_colours(spec)
    for role in dict.fromkeys(roles):
        if palette.color(role).lower() not in colours:
            problems.append(
                f"names the colour of role {role!r} ({palette.colour_name(role)}), "
                "which its chart does not draw"
            )
    light, dark = drawn_families(spec, "light"), drawn_families(spec, "dark")
    for word in dict.fromkeys(m.group(1).lower() for m in COLOUR_WORD.finditer(caption)):
        for scheme, families in (("light", light), ("dark", dark)):
            if not _WORDS[word] & families:
                problems.append(
                    f"says {word!r}, which its chart does not draw in the {scheme} theme "
                    f"(it draws {', '.join(sorted(families))}); name a palette role's colour "
                    "with {{ colour: ROLE }}"
                )
                break
    return problems


def colour_html(role: str, fmt: str | None = None) -> str:
    """The role's colour as a reader names it, in whichever theme is showing, after a
    swatch of it (site.css shows one name per theme)."""
    if fmt not in (None, "capital"):
        raise ValueError(f"unknown colour format {fmt!r} (known: capital)")
    names = []
    for scheme in ("light", "dark"):
        name = palette.colour_name(role, scheme)
        names.append(name[:1].upper() + name[1:] if fmt == "capital" else name)
    light, dark = palette.color(role, "light"), palette.color(role, "dark")
    return (
        f'<span class="sym-colour" style="--sym-colour-light:{light};--sym-colour-dark:{dark}">'
        '<span class="sym-swatch" aria-hidden="true"></span>'
        f'<span class="sym-colour-name sym-colour-name--light">{html.escape(names[0])}</span>'
        f'<span class="sym-colour-name sym-colour-name--dark">{html.escape(names[1])}</span>'
        "</span>"
    )
