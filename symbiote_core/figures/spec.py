"""What a figure is: params, compute, render, text, values and claims.

This module imports neither torch nor MkDocs: the figure engine and the site
adapter use it, and a figure module imports it at top level.

A figure module in `figures_src/` defines one module-level `FIGURE = Figure(...)`.
`compute(params)` runs the experiment (torch allowed, imported inside the module
that needs it) and returns plain JSON-serialisable data. `render(data)` turns that
data into an Altair chart and must not touch torch. Values are named numbers read
from the data that prose may quote; claims are named comparisons between values
(or a value and a constant) that the build checks.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Data = dict[str, Any]
Comparison = Literal[">", ">=", "<", "<="]

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


@dataclass(frozen=True)
class Claim:
    """A named comparison the build checks: `left op right (+ margin)`.

    `left` and `right` name values of the same figure; `right` may also be a
    constant. The claim holds when `left op right + margin`; keep the margin in the
    claim (not folded into a constant) so the appendix shows what was compared.
    """

    name: str
    statement: str
    """One sentence, in the essay's words, of what the comparison shows."""
    left: str
    op: Comparison
    right: str | float
    margin: float = 0.0

    def __post_init__(self) -> None:
        if self.op not in _OPERATORS:
            raise ValueError(f"claim {self.name!r}: unknown comparison {self.op!r}")

    def evaluate(self, values: Mapping[str, float]) -> ClaimResult:
        """Compare the named values; a missing name raises `KeyError` naming it."""
        left = _lookup(values, self.left, self.name)
        right = (
            self.right
            if isinstance(self.right, int | float)
            else _lookup(values, self.right, self.name)
        )
        threshold = float(right) + self.margin
        holds = bool(_OPERATORS[self.op](float(left), threshold))
        return ClaimResult(
            self.name,
            self.statement,
            self.left,
            self.op,
            self.right,
            self.margin,
            float(left),
            threshold,
            holds,
        )


@dataclass(frozen=True)
class ClaimResult:
    name: str
    statement: str
    left: str
    op: str
    right: str | float
    margin: float
    measured: float
    threshold: float
    holds: bool

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _lookup(values: Mapping[str, float], name: str, claim: str) -> float:
    try:
        return values[name]
    except KeyError:
        raise KeyError(
            f"claim {claim!r} names value {name!r}, which the figure does not define "
            f"(known: {', '.join(sorted(values))})"
        ) from None


@dataclass(frozen=True)
class Figure:
    """One figure: how to compute it, how to draw it, and what it lets prose say."""

    title: str
    caption: str
    """Markdown, shown under the chart."""
    alt: str
    """Alt text: what the chart shows, for a reader who cannot see it."""
    params: Any
    """A frozen dataclass instance; part of the cache key."""
    compute: Callable[[Any], Data]
    render: Callable[[Data], Any]
    """data -> altair.Chart (or any object with `to_dict()` giving a Vega-Lite spec)."""
    values: Mapping[str, Callable[[Data], float | int]] = field(default_factory=dict)
    claims: tuple[Claim, ...] = ()

    def __post_init__(self) -> None:
        if not dataclasses.is_dataclass(self.params) or isinstance(self.params, type):
            raise TypeError("Figure.params must be a dataclass instance")
        if not type(self.params).__dataclass_params__.frozen:
            raise TypeError("Figure.params must be a frozen dataclass")
        names = [c.name for c in self.claims]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate claim names: {names}")

    def seed(self) -> int | None:
        return getattr(self.params, "seed", None)

    def evaluate_values(self, data: Data) -> dict[str, float | int]:
        """Every named value, checked to be a plain number (so prose can format it)."""
        out: dict[str, float | int] = {}
        for name, fn in self.values.items():
            value = fn(data)
            if hasattr(value, "item"):  # a numpy or torch scalar
                value = value.item()
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"value {name!r} is {type(value).__name__}, not a number")
            out[name] = value
        return out
