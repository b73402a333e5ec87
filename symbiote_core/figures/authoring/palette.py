"""The essay's colours: named roles, light and dark, and the Vega-Lite theme built on them.

Render-only: nothing here touches figure data, so changing a colour redraws figures
without recomputing them, as long as a figure imports this module inside `render`
(keys follow imports: one at the top of a figure module is part of its data key). Figure code uses the *light* value of a role (what the spec
and the static SVG carry); the site runtime (site.js) swaps every role colour for its
dark twin when the reader is in dark mode, and applies `vega_config(scheme)`.

    from symbiote_core.figures.authoring import palette
    alt.Color("method:N", scale=alt.Scale(**palette.scale({"dictionary": "symbiote",
                                                            "random": "control"})))
    alt.MarkDef(color=palette.color("neuron"))

Role colours were designed in CAM02-UCS (via `colorspacious`) as a lightness ladder:
each role sits at its own lightness (J' about 8 apart), so the roles stay apart in
greyscale and for colour-vision deficiencies; `tests/site/test_palette.py` simulates
deuteranopia, protanopia and tritanopia and checks the separations and the WCAG
contrast of every role and text colour against its background.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

Scheme = Literal["light", "dark"]


@dataclass(frozen=True)
class Role:
    light: str
    dark: str
    meaning: str


# In light mode darker means more prominent, so the symbiote (the method under test)
# is dark and its control the lightest grey; in dark mode the order runs the other way.
ROLES: dict[str, Role] = {
    "symbiote": Role(
        "#2857a8", "#a3c4f1", "the symbiote under test: dictionary, probe reading, steering atom"
    ),
    "control": Role(
        "#959291", "#7e7c7d", "the fair control: random directions, untrained host, shuffled labels"
    ),
    "neuron": Role("#c8572f", "#fad57a", "the host's own basis: single neurons, heads"),
    "oracle": Role(
        "#602574", "#bd7ab5", "an upper bound that knows the answer: true features, exact solution"
    ),
    "probe": Role(
        "#007f66", "#5bbea2", "a second reader compared with the first: probe, transcoder"
    ),
}
ALIASES = {"dictionary": "symbiote", "random": "control", "truth": "oracle", "head": "neuron"}

# Neutrals. Backgrounds are mkdocs-material's (default: white; slate: hsl(225, 15%, 14%)).
NEUTRALS: dict[str, Role] = {
    "background": Role("#ffffff", "#1e2129", "page and chart background"),
    "ink": Role("#1f2328", "#e3e5ea", "text: labels, titles, annotations"),
    "muted": Role("#57606a", "#aeb4bf", "secondary text: subtitles, notes"),
    "axis": Role("#6e7781", "#8b93a1", "axis lines and ticks"),
    "grid": Role("#8c959f", "#6b7280", "gridlines (drawn thin and dotted)"),
}
NAMES: dict[str, tuple[str, str]] = {
    "symbiote": ("blue", "light blue"),
    "control": ("grey", "grey"),
    "neuron": ("orange", "yellow"),
    "oracle": ("purple", "pink"),
    "probe": ("green", "green"),
    "ink": ("black", "white"),
    "muted": ("dark grey", "light grey"),
    "axis": ("grey", "grey"),
    "grid": ("grey", "grey"),
}
"""What a reader calls each colour, light and dark: captions say it with
`{{ colour: ROLE }}` (site/colourwords.py), so a caption's colour word is the one the
chart draws in the reader's theme."""
CATEGORY_ORDER = ("symbiote", "control", "neuron", "oracle", "probe")
SEQUENTIAL = "viridis"
"""Vega scheme for continuous values (perceptually uniform, colour-blind safe)."""
DIVERGING = "blueorange"
"""Vega scheme for signed values around zero."""
MIN_FONT_PX = 11
FONT = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, sans-serif"


def _role(name: str) -> Role:
    key = ALIASES.get(name, name)
    if key in ROLES:
        return ROLES[key]
    if key in NEUTRALS:
        return NEUTRALS[key]
    known = ", ".join([*ROLES, *NEUTRALS, *ALIASES])
    raise KeyError(f"unknown colour role {name!r} (known: {known})")


def color(role: str, scheme: Scheme = "light") -> str:
    """The hex colour of a role; figure specs use the light one (site.js swaps for dark)."""
    r = _role(role)
    return r.light if scheme == "light" else r.dark


def colour_name(role: str, scheme: Scheme = "light") -> str:
    """What a reader calls a role's colour in a scheme ("orange", "yellow")."""
    key = ALIASES.get(role, role)
    _role(key)  # an unknown role raises, naming the known ones
    if key not in NAMES:
        raise KeyError(f"colour role {role!r} has no name a caption may use")
    light, dark = NAMES[key]
    return light if scheme == "light" else dark


def scale(mapping: dict[str, str], scheme: Scheme = "light") -> dict[str, list[str]]:
    """`alt.Scale(**scale({"dictionary": "symbiote", "random": "control"}))`: category -> role."""
    return {
        "domain": list(mapping),
        "range": [color(role, scheme) for role in mapping.values()],
    }


def swaps() -> dict[str, str]:
    """Light hex -> dark hex for every role and neutral (site.js applies it in dark mode)."""
    return {r.light: r.dark for r in [*ROLES.values(), *NEUTRALS.values()]}


def vega_config(scheme: Scheme) -> dict[str, Any]:
    """The site-wide Vega-Lite config for one colour scheme."""
    c = lambda name: color(name, scheme)  # noqa: E731
    text = {"labelColor": c("ink"), "titleColor": c("ink"), "labelFont": FONT, "titleFont": FONT}
    sizes = {"labelFontSize": MIN_FONT_PX, "titleFontSize": 12}
    return {
        "background": c("background"),
        "font": FONT,
        # The chart is one image with the figure's alt text (site.js labels the SVG);
        # per-mark ARIA roles without names would be noise, and fail axe's svg-img-alt.
        "aria": False,
        "view": {"stroke": c("grid")},
        "axis": {
            **text,
            **sizes,
            "domainColor": c("axis"),
            "tickColor": c("axis"),
            "gridColor": c("grid"),
            "gridWidth": 0.5,
            "gridDash": [2, 3],
            "titleFontWeight": "normal",
        },
        # Keys of a legend without a colour channel (a dash or shape legend) are drawn
        # in these, which Vega would otherwise leave black in both schemes.
        "legend": {
            **text,
            **sizes,
            "titleFontWeight": "normal",
            "symbolBaseStrokeColor": c("ink"),
            "symbolBaseFillColor": c("muted"),
        },
        "header": {**text, **sizes},
        "title": {
            "color": c("ink"),
            "subtitleColor": c("muted"),
            "fontSize": 13,
            "subtitleFontSize": 11,
            "font": FONT,
        },
        "text": {"color": c("ink"), "fontSize": MIN_FONT_PX},
        "mark": {"color": c("symbiote"), "aria": False},
        "range": {"category": [c(r) for r in CATEGORY_ORDER]},
    }


def palette_script() -> str:
    """The JavaScript the site loads before site.js: configs, swaps and the minimum size."""
    payload = {
        "config": {"light": vega_config("light"), "dark": vega_config("dark")},
        "swaps": swaps(),
        "minFontPx": MIN_FONT_PX,
        "background": {s: color("background", s) for s in ("light", "dark")},
    }
    return (
        "// Generated by symbiote_core/figures/authoring/palette.py: edit that, not this.\n"
        f"window.symTheme = {json.dumps(payload, indent=1)};\n"
    )
