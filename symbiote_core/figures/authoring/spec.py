"""What a figure is: params, compute, render, text, values and claims.

This module imports neither torch nor MkDocs: the figure engine and the site
adapter use it, and a figure module imports it at top level.

A figure module in the figures package (`figures-package` in `[tool.symbiote.figures]`,
`engine/settings.py`) defines one module-level `FIGURE = Figure(...)`.
`compute(params)` runs the experiment (torch allowed, imported inside the module
that needs it) and returns plain JSON-serialisable data. `render(data)` turns that
data into an Altair chart and must not touch torch.

Seeds. An experiment's params carry `seeds: tuple[int, ...]`, the *evaluation* seeds;
compute runs every seed (batched as instances where it can) and seeds each RNG it uses
explicitly. The figure also declares `tuning_seeds`, the seeds its recipe was developed
on (looked at while choosing settings); the two sets must be disjoint, so that claims
are judged on seeds nobody tuned on.

Values are named numbers read from the data that prose may quote. A value is either a
constant of the set-up (a number) or a measurement, one number per seed in params
order (a list). Prose shows a per-seed value as its mean and spread. Each is declared
as a pair `(description, fn)` (`Value`): the description says in a phrase what the number is ("the
share of atoms that match a parent"), and is what a reader sees when they open a quoted
number; the build refuses a value without one (`Figure.require_value_descriptions`).

Claims are named comparisons between values that the build checks over seeds. Each
claim says what it is compared with, where its threshold comes from, and declares at
least one *null*: the same comparison on values that the same compute produced, in the
same run, in a live setting where the effect should be absent but could appear (an
untrained host that still computes, a host trained without the structure). A null must
be able to move: the build rejects one whose two sides are equal on every seed, or whose
side is constant across seeds where the real run's side varies (`DeadNullError`). A
*control* is the same comparison with a different quantity put in (the final accuracy
instead of the accuracy at fit): evaluated and reported, never deciding the verdict.

The verdict (`VERDICTS`): a claim holds only if (1) the real comparison holds by its
aggregate, (2) every null fails on every seed, and (3) the weakest real seed's gap
clears the strongest null seed's gap (separation). The first rule broken names the
verdict: "fails", "cannot fail", "not separated". A claim the essay states as failed
(`stated="fails"`, kept on the record after it failed) agrees with any verdict but
"holds"; the build flags every claim whose verdict disagrees with what the essay states.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import operator
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from symbiote_core.figures.authoring.inputs import Input, Package

Data = dict[str, Any]
Quantity = float | int | list[float]
"""A constant (a number) or a measurement (one number per seed)."""
Comparison = Literal[">", ">=", "<", "<="]
Aggregate = Literal["every_seed", "mean_lower_bound"]
Verdict = Literal["holds", "fails", "cannot fail", "not separated"]
Stated = Literal["holds", "fails"]

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
VERDICTS: dict[str, str] = {
    "holds": "the comparison holds by its aggregate, every null fails on every seed, and "
    "the weakest seed clears the strongest null seed",
    "fails": "the comparison does not hold by its aggregate",
    "cannot fail": "the comparison holds, but so does a null on at least one seed: the "
    "effect appears where it should be absent",
    "not separated": "the comparison holds and every null fails, but the weakest seed's gap "
    "does not clear the strongest null seed's gap",
}
"""Every verdict, in the order the rules are applied, with what it means."""
RULES: dict[str, str] = {
    "aggregate": "the real comparison's aggregate",
    "null": "the null on every seed",
    "separation": "separation of the weakest real seed from the strongest null seed",
    "all": "all three rules",
}
"""What decided a verdict (`ClaimResult.decided_by`): the first rule broken, or all."""
EQUAL_TOLERANCE = 1e-5
"""Two numbers count as equal, for the liveness check of a null, when they differ by less
than this fraction of the largest magnitude the real comparison takes (float32 noise)."""


class DeadNullError(ValueError):
    """A null that cannot move: it could not have shown that the claim might fail."""


@dataclass(frozen=True, kw_only=True)
class Null:
    """A live setting where the claimed effect should be absent but could appear: an
    untrained host that still computes, a host trained without the structure, shuffled
    labels. `values` maps the claim's value names to the values that the same compute
    code measured, in the same run, on that setting."""

    description: str
    values: Mapping[str, str]


@dataclass(frozen=True, kw_only=True)
class Control:
    """The same comparison with a different quantity put in (the final accuracy instead
    of the accuracy at fit, another head's score): evaluated and reported beside the
    claim, labelled as a control, never deciding its verdict. `values` maps the claim's
    value names to the values put in their place."""

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
    """What the left side is compared with, in words (the right side)."""
    why: str
    """Where the threshold or margin comes from: the control, the seed spread, or a
    stated scientific criterion; never the measured value. Say "fixed before the runs"
    only where the git history shows it (the claims appendix checks)."""
    null: Null | tuple[Null, ...]
    """One null or several; every one must fail on every seed."""
    controls: Control | tuple[Control, ...] = ()
    """Comparisons with other quantities, reported beside the claim (`Control`)."""
    aggregate: Aggregate = "every_seed"
    stated: Stated = "holds"
    """What the essay states: "holds", or "fails" for a claim kept on the record after it
    failed (the prose says so). The build flags a verdict that disagrees."""

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
        if self.stated not in ("holds", "fails"):
            raise ValueError(
                f"claim {self.name!r}: stated must be 'holds' or 'fails', not {self.stated!r}"
            )
        for text in ("statement", "control", "why"):
            if not str(getattr(self, text)).strip():
                raise ValueError(f"claim {self.name!r}: {text} is empty")
        if not self.nulls:
            raise ValueError(f"claim {self.name!r}: a claim needs at least one null")
        for null in self.nulls:
            if not isinstance(null, Null):
                raise TypeError(f"claim {self.name!r}: a null must be a Null, not {null!r}")
            self._check_replacement(null, "null")
        for control in self.control_list:
            if not isinstance(control, Control):
                raise TypeError(
                    f"claim {self.name!r}: a control must be a Control, not {control!r}"
                )
            self._check_replacement(control, "control")

    @property
    def nulls(self) -> tuple[Null, ...]:
        return self.null if isinstance(self.null, tuple) else (self.null,)

    @property
    def control_list(self) -> tuple[Control, ...]:
        return self.controls if isinstance(self.controls, tuple) else (self.controls,)

    def _check_replacement(self, other: Null | Control, kind: str) -> None:
        compared = {self.left} | ({self.right} if isinstance(self.right, str) else set())
        if not str(other.description).strip():
            raise ValueError(f"claim {self.name!r}: a {kind}'s description is empty")
        if not other.values:
            raise ValueError(f"claim {self.name!r}: its {kind} replaces no value")
        stray = sorted(set(other.values) - compared)
        if stray:
            raise ValueError(
                f"claim {self.name!r}: its {kind} replaces {', '.join(stray)}, which the claim "
                f"does not compare (it compares {', '.join(sorted(compared))})"
            )

    def evaluate(self, values: Mapping[str, Quantity]) -> ClaimResult:
        """Test the claim, its nulls and its controls, and decide the verdict.

        A missing name raises `KeyError` naming it; a dead null raises `DeadNullError`.
        """
        real = self._test(values)
        nulls = []
        for null in self.nulls:
            evaluation = self._test(self._replaced(values, null.values))
            self._check_live(null, real, evaluation)
            nulls.append(Contrast(null.description, dict(null.values), evaluation))
        controls = [
            Contrast(c.description, dict(c.values), self._test(self._replaced(values, c.values)))
            for c in self.control_list
        ]
        separation = Separation.of(real, [n.evaluation for n in nulls])
        if not real.holds:
            verdict, rule = "fails", "aggregate"
        elif any(any(n.evaluation.seed_holds) for n in nulls):
            verdict, rule = "cannot fail", "null"
        elif separation.gap <= 0:
            verdict, rule = "not separated", "separation"
        else:
            verdict, rule = "holds", "all"
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
            stated=self.stated,
            real=real,
            nulls=tuple(nulls),
            controls=tuple(controls),
            separation=separation,
            verdict=verdict,  # type: ignore[arg-type]
            decided_by=rule,
        )

    def _replaced(self, values: Mapping[str, Quantity], replace: Mapping[str, str]) -> dict:
        out = dict(values)
        for name, replacement in replace.items():
            out[name] = _lookup(values, replacement, self.name)
        return out

    def _check_live(self, null: Null, real: Evaluation, evaluation: Evaluation) -> None:
        """Refuse a null that cannot move (`DeadNullError`, naming the claim)."""
        scale = max((abs(v) for v in (*real.left, *real.right)), default=0.0)
        tolerance = EQUAL_TOLERANCE * max(scale, 1e-12)

        def same(a: float, b: float) -> bool:
            return abs(a - b) <= tolerance

        where = f"claim {self.name!r}: its null ({null.description})"
        if all(same(a, b) for a, b in zip(evaluation.left, evaluation.right, strict=True)):
            raise DeadNullError(
                f"{where} is dead: its two sides are equal on every seed "
                f"({_numbers(evaluation.left)}), so the comparison could not differ there. "
                "Use a live null: a setting where the effect is absent but the quantities "
                "still move (a host trained without the structure, not one that outputs a "
                "constant)."
            )
        if len(real.left) < 2:
            return
        for side, name in (("left", self.left), ("right", self.right)):
            if not isinstance(name, str) or name not in null.values:
                continue
            ours, theirs = getattr(evaluation, side), getattr(real, side)
            if all(same(v, ours[0]) for v in ours) and not all(same(v, theirs[0]) for v in theirs):
                raise DeadNullError(
                    f"{where} is dead: its {side} side ({null.values[name]!r}) is "
                    f"{ours[0]:.4g} on every seed while the real run's ({name!r}) varies "
                    f"({_numbers(theirs)}): a null pinned to one value cannot show that the "
                    "claim might fail. Use a setting where that quantity can move."
                )

    def _test(self, values: Mapping[str, Quantity]) -> Evaluation:
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


def _numbers(values: Sequence[float]) -> str:
    return ", ".join(f"{v:.4g}" for v in values)


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


@dataclass(frozen=True)
class Contrast:
    """The claim's comparison with some values replaced: a null or a control."""

    description: str
    values: dict[str, str]
    """Claim value name -> the value put in its place."""
    evaluation: Evaluation


@dataclass(frozen=True)
class Separation:
    """How far the weakest real seed clears the strongest null seed, on gaps."""

    weakest_real: float
    """The smallest per-seed gap of the real comparison."""
    strongest_null: float
    """The largest per-seed gap over every null (negative when every null fails)."""
    gap: float
    """`weakest_real - strongest_null`: positive when they are separated."""
    weakest_seed: int
    """Index (params order) of the weakest real seed."""
    strongest_seed: int
    """Index of the strongest null seed."""
    strongest_null_index: int
    """Which null (in the claim's order) holds the strongest null seed."""

    @classmethod
    def of(cls, real: Evaluation, nulls: Sequence[Evaluation]) -> Separation:
        weakest = min(range(len(real.gaps)), key=real.gaps.__getitem__)
        best = max(
            ((n, i) for n, null in enumerate(nulls) for i in range(len(null.gaps))),
            key=lambda ni: nulls[ni[0]].gaps[ni[1]],
        )
        strongest = nulls[best[0]].gaps[best[1]]
        return cls(
            weakest_real=real.gaps[weakest],
            strongest_null=strongest,
            gap=real.gaps[weakest] - strongest,
            weakest_seed=weakest,
            strongest_seed=best[1],
            strongest_null_index=best[0],
        )


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
    stated: str
    real: Evaluation
    nulls: tuple[Contrast, ...]
    controls: tuple[Contrast, ...]
    separation: Separation
    verdict: Verdict
    decided_by: str
    """The rule that decided the verdict (`RULES`): the first one broken, or "all"."""

    @property
    def holds(self) -> bool:
        return self.verdict == "holds"

    @property
    def agrees(self) -> bool:
        """Whether the verdict is what the essay states (a stated failure agrees with any
        verdict but "holds")."""
        return self.holds == (self.stated == "holds")

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
        out["nulls"] = list(out["nulls"])
        out["controls"] = list(out["controls"])
        out["holds"] = self.holds  # readers that only need the verdict
        out["agrees"] = self.agrees
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClaimResult:
        """From `to_json`'s form, or from an entry written before nulls were plural
        (one `null` with `null_description` and `null_values`, no separation)."""
        data = upgrade_claim_json(data)
        fields = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in fields}
        kwargs["real"] = Evaluation(**data["real"])
        for kind in ("nulls", "controls"):
            kwargs[kind] = tuple(
                Contrast(c["description"], dict(c["values"]), Evaluation(**c["evaluation"]))
                for c in data[kind]
            )
        kwargs["separation"] = Separation(**data["separation"])
        return cls(**kwargs)


def upgrade_claim_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """A claim's JSON in the current form; older entries (one null, no separation, no
    controls) are converted, so `figures diff` can compare builds across the change."""
    out = dict(data)
    if "nulls" not in out:
        null = {
            "description": out.pop("null_description", ""),
            "values": out.pop("null_values", {}),
            "evaluation": out.pop("null"),
        }
        out["nulls"] = [null]
        out.setdefault("controls", [])
        out.setdefault("stated", "holds")
        real = Evaluation(**out["real"])
        out["separation"] = dataclasses.asdict(
            Separation.of(real, [Evaluation(**null["evaluation"])])
        )
        out.setdefault(
            "decided_by",
            "all"
            if out.get("verdict") == "holds"
            else ("aggregate" if out.get("verdict") == "fails" else "null"),
        )
    return out


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


def _broadcast(left: Quantity, right: Quantity, claim: str) -> tuple[list[float], list[float]]:
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


def _lookup(values: Mapping[str, Quantity], name: str, claim: str) -> Quantity:
    try:
        return values[name]
    except KeyError:
        raise KeyError(
            f"claim {claim!r} names value {name!r}, which the figure does not define "
            f"(known: {', '.join(sorted(values))})"
        ) from None


class Value(NamedTuple):
    """A named number of a figure: what it is, in words, and how to read it from the data.

    Written as a plain pair, `"name": ("what it is", fn)` (a `Value` is that same tuple,
    with names): a figure module needs no import for it, and its import lines, which
    its data key hashes, stay as they are. `description` is a short phrase, lower case,
    no final full stop, saying what the number is to a reader who has not seen the code
    ("the share of atoms that match a parent", "the hosts' hidden width"); a quoted
    number's popover shows it, then the seeds and the figure. Values generated in a
    comprehension get an f-string description naming what varies. `fn(data)` returns a
    number, or one number per seed.
    """

    description: str
    fn: Callable[[Data], Quantity]


def value_description_problem(name: str, entry: Any) -> str | None:
    """Why `entry` (a `Figure.values` entry) is not a described value, or None."""
    if not (isinstance(entry, tuple) and len(entry) == 2 and callable(entry[1])):
        return (
            f"value {name!r} has no description: declare it as a pair "
            f"(\"what the number is, in a phrase\", fn), not {type(entry).__name__} {entry!r}"
        )
    description = entry[0]
    if not isinstance(description, str) or not description.strip():
        return f"value {name!r} has an empty description: say in a phrase what the number is"
    if "\n" in description.strip():
        return f"value {name!r}: its description is one phrase, on one line"
    if description.strip() == name:
        return f"value {name!r}: its description repeats its name; say in words what it is"
    return None


def _value_fn(entry: Any) -> Callable[[Data], Any]:
    """The getter of a values entry: a (description, fn) pair, or (refused by the build,
    still read by tools while a module is updated) a bare function."""
    return entry[1] if isinstance(entry, tuple) and len(entry) == 2 else entry


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
    values: Mapping[str, Value] = field(default_factory=dict)
    """Name -> `(description, fn)` (a `Value`): the numbers prose may quote, each with a
    phrase saying what it is (required by the build: `require_value_descriptions`)."""
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
    tuning_seeds: tuple[int, ...] | None = None
    """The seeds the recipe was developed on: every seed whose results were looked at
    while choosing its settings. Required when params has `seeds`, and disjoint from
    them (claims are judged on seeds nobody tuned on). An empty tuple needs
    `tuning_note` to say why nothing was tuned (e.g. a recipe taken unchanged)."""
    tuning_note: str = ""
    """What was tuned on `tuning_seeds`, or why nothing was; shown in the methods."""

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
        self._check_tuning_seeds(seeds)

    def require_tuning_seeds(self) -> None:
        """Refuse (`ValueError`) a figure whose params have `seeds` but which declares no
        tuning seeds. The build calls this before computing; importing the figure does
        not, so tools that only read a module keep working while it is being updated."""
        seeds = getattr(self.params, "seeds", None)
        if self.tuning_seeds is None and seeds is not None:
            raise ValueError(
                f"figure {self.title!r}: declare the seeds its recipe was tuned on, "
                "Figure(tuning_seeds=(...)), disjoint from its evaluation seeds "
                f"params.seeds = {seeds} (an empty tuple with a tuning_note if the "
                "recipe was never tuned)"
            )

    def require_value_descriptions(self) -> None:
        """Refuse (`ValueError`, naming the figure and the value) a value declared without
        a description (a bare function, not a `(description, fn)` pair). Like `require_tuning_seeds`, the build calls this;
        importing the figure does not, so a module being updated still loads in tools."""
        problems = [
            problem
            for name, entry in self.values.items()
            if (problem := value_description_problem(name, entry)) is not None
        ]
        if problems:
            raise ValueError(f"figure {self.title!r}: " + "; ".join(problems))

    def value_descriptions(self) -> dict[str, str]:
        """Name -> description of every described value (what the entry stores)."""
        return {
            name: " ".join(entry[0].split()).rstrip(".")
            for name, entry in self.values.items()
            if value_description_problem(name, entry) is None
        }

    def _check_tuning_seeds(self, seeds: tuple[int, ...] | None) -> None:
        where = f"figure {self.title!r}"
        tuning = self.tuning_seeds
        if tuning is None:
            return
        if not isinstance(tuning, tuple) or not all(
            isinstance(s, int) and not isinstance(s, bool) for s in tuning
        ):
            raise TypeError(f"{where}: tuning_seeds must be a tuple of ints, got {tuning!r}")
        if not tuning and not self.tuning_note.strip():
            raise ValueError(
                f"{where}: tuning_seeds is empty; say why in tuning_note (which recipe was "
                "used unchanged, and from where)"
            )
        overlap = sorted(set(tuning) & set(self.seeds()))
        if overlap:
            raise ValueError(
                f"{where}: its evaluation seeds {self.seeds()} overlap the seeds its recipe "
                f"was tuned on {tuning} (both hold {', '.join(map(str, overlap))}); evaluate "
                "on seeds nobody tuned on"
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

    def evaluate_values(self, data: Data) -> dict[str, Quantity]:
        """Every named value, checked to be a number or one number per seed."""
        n_seeds = len(self.seeds())
        out: dict[str, Quantity] = {}
        for name, entry in self.values.items():
            out[name] = _plain_value(name, _value_fn(entry)(data), n_seeds)
        return out


def _plain_value(name: str, value: Any, n_seeds: int) -> Quantity:
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
