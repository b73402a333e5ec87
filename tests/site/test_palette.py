"""The palette: WCAG contrast in both schemes, and roles that stay apart for
colour-vision deficiencies (simulated with colorspacious, Machado et al. 2009).

Criteria, stated before the colours were picked:
- every role colour, and the axis and grid colours, >= 3:1 against its background
  (WCAG 2.1, 1.4.11 non-text contrast); text colours >= 4.5:1 (1.4.3);
- roles distinct in lightness: every pair >= 7 apart in CAM02-UCS J' (a greyscale
  print or a monochromat still tells them apart);
- under full deuteranopia, protanopia and tritanopia, every pair >= 10 apart in
  CAM02-UCS (about ten times a just-noticeable difference).

That figure modules draw only with the palette is the rulebook's `palette` rule
(authoring/rules.py; engine/test_rules.py, essay/test_real_figure_rules.py).
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from colorspacious import cspace_convert

from symbiote_core.figures.authoring import palette

SCHEMES = ("light", "dark")
CVD = ("deuteranomaly", "protanomaly", "tritanomaly")


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])


def luminance(hex_colour: str) -> float:
    c = _rgb(hex_colour)
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2])


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _ucs(rgb: np.ndarray) -> np.ndarray:
    return cspace_convert(rgb, "sRGB1", "CAM02-UCS")


def _simulated(hex_colour: str, kind: str) -> np.ndarray:
    cvd = {"name": "sRGB1+CVD", "cvd_type": kind, "severity": 100}
    return np.clip(cspace_convert(_rgb(hex_colour), cvd, "sRGB1"), 0, 1)


def test_contrast_helper_matches_wcag_reference_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_colour_meets_wcag_contrast_against_its_background(scheme: str) -> None:
    bg = palette.color("background", scheme)
    for role in palette.ROLES:
        assert contrast(palette.color(role, scheme), bg) >= 3.0, (scheme, role)
    for neutral in ("axis", "grid"):
        assert contrast(palette.color(neutral, scheme), bg) >= 3.0, (scheme, neutral)
    for text in ("ink", "muted"):
        assert contrast(palette.color(text, scheme), bg) >= 4.5, (scheme, text)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_roles_are_distinct_in_lightness(scheme: str) -> None:
    j = {r: _ucs(_rgb(palette.color(r, scheme)))[0] for r in palette.ROLES}
    for a, b in itertools.combinations(j, 2):
        assert abs(j[a] - j[b]) >= 7, f"{scheme}: {a} and {b} differ by {abs(j[a] - j[b]):.1f} J'"


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("kind", CVD)
def test_roles_stay_apart_under_colour_vision_deficiency(scheme: str, kind: str) -> None:
    seen = {r: _ucs(_simulated(palette.color(r, scheme), kind)) for r in palette.ROLES}
    for a, b in itertools.combinations(seen, 2):
        distance = float(np.linalg.norm(seen[a] - seen[b]))
        assert distance >= 10, f"{scheme}, {kind}: {a} vs {b} only {distance:.1f} apart"


def test_the_simulation_can_fail() -> None:
    # Red and green of equal lightness: apart for normal vision, merged for deuteranopes.
    red, green = "#c0392b", "#5f8f00"
    normal = np.linalg.norm(_ucs(_rgb(red)) - _ucs(_rgb(green)))
    merged = np.linalg.norm(
        _ucs(_simulated(red, "deuteranomaly")) - _ucs(_simulated(green, "deuteranomaly"))
    )
    assert normal > 30 and merged < 10


def test_config_and_site_script_carry_both_schemes() -> None:
    for scheme in SCHEMES:
        config = palette.vega_config(scheme)
        assert config["background"] == palette.color("background", scheme)
        assert config["axis"]["labelColor"] == palette.color("ink", scheme)
        assert config["axis"]["labelFontSize"] >= palette.MIN_FONT_PX
    script = palette.palette_script()
    payload = json.loads(script.split("=", 1)[1].rstrip().rstrip(";"))
    assert payload["swaps"][palette.color("symbiote")] == palette.color("symbiote", "dark")
    assert set(payload["config"]) == set(SCHEMES)


def test_roles_aliases_and_scale() -> None:
    assert palette.color("dictionary") == palette.color("symbiote")
    assert palette.scale({"dictionary": "symbiote", "random": "control"}) == {
        "domain": ["dictionary", "random"],
        "range": [palette.color("symbiote"), palette.color("control")],
    }
    with pytest.raises(KeyError, match="unknown colour role 'teal'"):
        palette.color("teal")
