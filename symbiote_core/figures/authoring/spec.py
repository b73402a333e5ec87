"""What a figure is: params, compute, render, text, values and claims.

This module imports neither torch nor MkDocs: the figure engine and the site
adapter use it, and a figure module imports it at top level.

A figure module in the figures package (`figures-package` in `[tool.symbiote.figures]`,
`engine/settings.py`) defines one module-level `FIGURE = Figure(...)`.
`compute(params)` runs the experiment (torch allowed, imported inside the module
that needs it) and returns plain JSON-serialisable data. `render(data)` turns that
data into an Altair chart and must not touch torch.

Seeds. An experiment's params carry `seeds: tuple[int, ...]`; compute runs every seed
(batched as instances where it can) and seeds each RNG it uses explicitly.

Values are named numbers read from the data that prose may quote. A value is either a
constant of the set-up (a number) or a measurement, one number per seed in params
order (a list). Prose shows a per-seed value as its mean and spread.

Claims are named comparisons between values that the build checks over seeds. Each
claim names its control, says where its threshold comes from, and declares a null:
the same comparison on values that the same compute produced, in the same run, where
the effect should be absent. A claim that also holds on its null could not have
failed, and the build reports it as "cannot fail".
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import operator
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from symbiote_core.figures.authoring.inputs import Input, Package

Data = dict[str, Any]
Value = float | int | list[float]
"""A constant (a number) or a measurement (one number per seed)."""
Comparison = Literal[">", ">=", "<", "<="]
Aggregate = Literal["every_seed", "mean_lower_bound"]
Verdict = Literal["holds", "fails", "cannot fail"]

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
AGGREGATES: dict[str, str] = {
    "every_seed": "holds on every seed",
    "mean_lower_bound": "the one-sided 95% lower confidence bound of the mean per-seed "
    "gap (Student's t over seeds) clears zero",
}
CONFIDENCE = 0.95


@dataclass(frozen=True, kw_only=True)
class Null:
    """Where the claimed effect should be absent: an untrained host, permuted labels,
    random directions. `values` maps the claim's value names to the values that the
    same compute code measured, in the same run, on that null."""

    description: str
    values: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class Claim:
    """A named comparison the build checks: `left op right + margin`, over seeds.

    `left` and `right` name values of the same figure; `right` may also be a
    constant. Keep the margin in the claim (not folded into a constant) so the
    appendix shows what was compared. Per seed, the gap is how far the comparison
    clears its threshold (positive when it holds); `aggregate` says how gaps over
    seeds decide the claim.
    """

    name: str
    statement: str
    """One sentence, in the essay's words, of what the comparison shows."""
    left: str
    op: Comparison
    right: str | float
    margin: float = 0.0
    control: str
    """What the left side is compared against, in words."""
    why: str
    """Where the threshold or margin comes from: the control, the seed spread, or a
    stated scientific criterion; never the measured value."""
    null: Null
    aggregate: Aggregate = "every_seed"

    def __post_init__(self) -> None:
        if self.op not in _OPERATORS:
            raise ValueError(f"claim {self.name!r}: unknown comparison {self.op!r}")
        # A NaN or infinite threshold cannot be compared, nor stored (strict JSON).
        for number in ("margin", *(("right",) if not isinstance(self.right, str) else ())):
            _finite_field(self.name, number, getattr(self, number))
        if self.aggregate not in AGGREGATES:
            known = ", ".join(AGGREGATES)
            raise ValueError(
                f"claim {self.name!r}: unknown aggregate {self.aggregate!r} (known: {known})"
            )
        for text in ("statement", "control", "why"):
            if not str(getattr(self, text)).strip():
                raise ValueError(f"claim {self.name!r}: {text} is empty")
        if not isinstance(self.null, Null):
            raise TypeError(f"claim {self.name!r}: null must be a Null, not {self.null!r}")
        compared = {self.left} | ({self.right} if isinstance(self.right, str) else set())
        if not self.null.values:
            raise ValueError(f"claim {self.name!r}: its null replaces no value")
        stray = sorted(set(self.null.values) - compared)
        if stray:
            raise ValueError(
                f"claim {self.name!r}: its null replaces {', '.join(stray)}, which the claim "
                f"does not compare (it compares {', '.join(sorted(compared))})"
            )

    def evaluate(self, values: Mapping[str, Value]) -> ClaimResult:
        """Test the claim, and the same comparison on its null; a missing name raises
        `KeyError` naming it."""
        real = self._test(values)
        null_values = dict(values)
        for name, replacement in self.null.values.items():
            null_values[name] = _lookup(values, replacement, self.name)
        null = self._test(null_values)
        verdict: Verdict = (
            "cannot fail" if real.holds and null.holds else ("holds" if real.holds else "fails")
        )
        return ClaimResult(
            name=self.name,
            statement=self.statement,
            control=self.control,
            why=self.why,
            left=self.left,
            op=self.op,
            right=self.right,
            margin=self.margin,
            aggregate=self.aggregate,
            real=real,
            null_description=self.null.description,
            null_values=dict(self.null.values),
            null=null,
            verdict=verdict,
        )

    def _test(self, values: Mapping[str, Value]) -> Evaluation:
        left = _lookup(values, self.left, self.name)
        right = (
            self.right
            if isinstance(self.right, int | float)
            else _lookup(values, self.right, self.name)
        )
        lefts, rights = _broadcast(left, right, self.name)
        sign = 1.0 if self.op in (">", ">=") else -1.0
        gaps = [sign * (a - (b + self.margin)) for a, b in zip(lefts, rights, strict=True)]
        seed_holds = [
            bool(_OPERATORS[self.op](a, b + self.margin))
            for a, b in zip(lefts, rights, strict=True)
        ]
        strict = self.op in (">", "<")
        if self.aggregate == "every_seed":
            statistic = min(gaps)
            holds = all(seed_holds)
        else:
            statistic = mean_lower_bound(gaps, self.name)
            holds = statistic > 0 if strict else statistic >= 0
        return Evaluation(lefts, rights, gaps, seed_holds, statistic, bool(holds))


@dataclass(frozen=True)
class Evaluation:
    """One evaluation of a claim's comparison: per seed, then aggregated."""

    left: list[float]
    right: list[float]
    gaps: list[float]
    """Per seed: how far the comparison clears its threshold (> 0 when it holds)."""
    seed_holds: list[bool]
    statistic: float
    """The aggregate gap: the smallest gap, or the lower confidence bound of the mean."""
    holds: bool


@dataclass(frozen=True, kw_only=True)
class ClaimResult:
    name: str
    statement: str
    control: str
    why: str
    left: str
    op: str
    right: str | float
    margin: float
    aggregate: str
    real: Evaluation
    null_description: str
    null_values: dict[str, str]
    null: Evaluation
    verdict: Verdict

    @property
    def holds(self) -> bool:
        return self.verdict == "holds"

    @property
    def measured(self) -> float:
        """The left side's mean over seeds."""
        return statistics.fmean(self.real.left)

    @property
    def threshold(self) -> float:
        """What the left side's mean is compared with: the right side's mean + margin."""
        return statistics.fmean(self.real.right) + self.margin

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["holds"] = self.holds  # readers that only need the verdict
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClaimResult:
        fields = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in fields}
        kwargs["real"] = Evaluation(**data["real"])
        kwargs["null"] = Evaluation(**data["null"])
        return cls(**kwargs)


def _finite_field(claim: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"claim {claim!r}: {name} must be a number{' or a value name' if name == 'right' else ''}"
            f", got {type(value).__name__} {value!r}"
        )
    if not math.isfinite(value):
        raise ValueError(f"claim {claim!r}: {name} is {value}, not a finite number")


def mean_lower_bound(gaps: Sequence[float], claim: str = "?") -> float:
    """One-sided lower confidence bound (level `CONFIDENCE`) of the mean of `gaps`."""
    if len(gaps) < 2:
        raise ValueError(
            f"claim {claim!r}: aggregate 'mean_lower_bound' needs at least 2 seeds, got {len(gaps)}"
        )
    from scipy.stats import t  # lazily: only workers evaluate claims

    spread = statistics.stdev(gaps) / math.sqrt(len(gaps))
    return statistics.fmean(gaps) - float(t.ppf(CONFIDENCE, len(gaps) - 1)) * spread


def _broadcast(left: Value, right: Value, claim: str) -> tuple[list[float], list[float]]:
    lefts = [float(v) for v in left] if isinstance(left, list) else None
    rights = [float(v) for v in right] if isinstance(right, list) else None
    if lefts is None and rights is None:
        return [float(left)], [float(right)]  # type: ignore[arg-type]
    if lefts is None:
        lefts = [float(left)] * len(rights)  # type: ignore[arg-type]
    if rights is None:
        rights = [float(right)] * len(lefts)  # type: ignore[arg-type]
    if len(lefts) != len(rights):
        raise ValueError(f"claim {claim!r}: its sides have {len(lefts)} and {len(rights)} seeds")
    return lefts, rights


def _lookup(values: Mapping[str, Value], name: str, claim: str) -> Value:
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
    """Alt text: what the chart shows, for a reader who cannot see it. Its numbers come
    from the data: `{{ value: NAME.VALUE | FORMAT }}` and `{{ param: NAME.field }}`
    directives, filled by the site (markup.py), which also shows the values the alt text
    and the claims quote as the figure's data summary."""
    params: Any
    """A frozen dataclass instance; part of the cache key."""
    compute: Callable[[Any], Data]
    render: Callable[[Data], Any]
    """data -> altair.Chart (or any object with `to_dict()` giving a Vega-Lite spec)."""
    values: Mapping[str, Callable[[Data], Value]] = field(default_factory=dict)
    claims: tuple[Claim, ...] = ()
    methods: str = ""
    """Markdown for the methods appendix: what host, what symbiote, what control, what
    null, how many seeds. Numbers are never typed: `{{ param: NAME.field.sub }}` quotes a
    param, `{{ value: NAME.VALUE }}` a value, `{{ code: module.Class.field }}` a literal
    setting in the project's code (a dataclass default, or a keyword of a call inside a
    function). The site reads it from the module's source without importing it, so it
    must be a string literal or a module-level string constant; like the caption, it
    never changes the data (`sides.NOT_DATA`)."""
    inputs: tuple[Input, ...] = ()
    """Files compute reads (a data set, a corpus): paths under the repository root or
    installed packages' files (`inputs.py`). Their bytes enter the data key; reading a
    file that is not declared fails the build. Written literally: the build reads it
    from the source."""

    def __post_init__(self) -> None:
        if not dataclasses.is_dataclass(self.params) or isinstance(self.params, type):
            raise TypeError("Figure.params must be a dataclass instance")
        if not type(self.params).__dataclass_params__.frozen:
            raise TypeError("Figure.params must be a frozen dataclass")
        names = [c.name for c in self.claims]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate claim names: {names}")
        seeds = getattr(self.params, "seeds", None)
        if seeds is not None and (
            not isinstance(seeds, tuple)
            or not seeds
            or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)
            or len(set(seeds)) != len(seeds)
        ):
            raise TypeError(f"Figure.params.seeds must be a tuple of distinct ints, got {seeds!r}")
        if not isinstance(self.inputs, tuple) or not all(
            isinstance(entry, str | Package) for entry in self.inputs
        ):
            raise TypeError(
                f"Figure.inputs must be a tuple of paths and Package(...)s, got {self.inputs!r}"
            )

    def seeds(self) -> tuple[int, ...]:
        """The seeds the experiment runs, in the order per-seed values follow.

        The worker seeds the process from the first one. This module is in no data key
        (`Engine.render_only`): a change here that changes seeding needs a bump of
        `keys.ENGINE_FORMAT`."""
        seeds = getattr(self.params, "seeds", None)
        if seeds is not None:
            return tuple(seeds)
        seed = getattr(self.params, "seed", None)
        return (seed,) if seed is not None else ()

    def evaluate_values(self, data: Data) -> dict[str, Value]:
        """Every named value, checked to be a number or one number per seed."""
        n_seeds = len(self.seeds())
        out: dict[str, Value] = {}
        for name, fn in self.values.items():
            out[name] = _plain_value(name, fn(data), n_seeds)
        return out


def _plain_value(name: str, value: Any, n_seeds: int) -> Value:
    if hasattr(value, "tolist"):  # a numpy or torch scalar or array
        value = value.tolist()
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, list):
        if len(value) != n_seeds:
            raise TypeError(
                f"value {name!r} has {len(value)} entries; a per-seed value needs one per "
                f"seed ({n_seeds})"
            )
        return [_number(name, v) for v in value]
    return _number(name, value)


def _number(name: str, value: Any) -> float | int:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"value {name!r} is {type(value).__name__}, not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"value {name!r} is {value}, not a finite number")
    return value
