"""Claims over seeds: per-seed gaps, aggregation, the null, and the verdicts."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from symbiote_core.figures.authoring.claimtext import describe_claim
from symbiote_core.figures.authoring.spec import Claim, ClaimResult, Figure, Null, mean_lower_bound


def claim(**overrides) -> Claim:
    fields = dict(
        name="beats",
        statement="The dictionary beats random directions.",
        left="dictionary",
        op=">",
        right="random",
        margin=0.1,
        control="random directions, as many as atoms",
        why="0.1 is a tenth of the metric's range",
        null=Null(description="an untrained host", values={"dictionary": "dictionary_null"}),
    )
    return Claim(**{**fields, **overrides})


VALUES = {
    "dictionary": [0.9, 0.8, 0.95],
    "random": [0.4, 0.5, 0.45],
    "dictionary_null": [0.45, 0.5, 0.42],
}


def test_holds_on_every_seed_and_not_on_its_null() -> None:
    result = claim().evaluate(VALUES)
    assert result.verdict == "holds" and result.holds
    assert result.real.seed_holds == [True, True, True]
    assert result.real.gaps == pytest.approx([0.4, 0.2, 0.4])
    assert result.real.statistic == pytest.approx(0.2)
    assert not result.null.holds and result.null.left == VALUES["dictionary_null"]


def test_one_failing_seed_fails_every_seed_aggregate() -> None:
    values = {**VALUES, "dictionary": [0.9, 0.55, 0.95]}
    result = claim().evaluate(values)
    assert result.verdict == "fails" and result.real.seed_holds == [True, False, True]


def test_a_claim_that_holds_on_its_null_cannot_fail() -> None:
    values = {**VALUES, "dictionary_null": [0.9, 0.9, 0.9]}
    result = claim().evaluate(values)
    assert result.real.holds and result.null.holds
    assert result.verdict == "cannot fail" and not result.holds
    assert "cannot fail" in describe_claim(result.to_json())


def test_mean_lower_bound_uses_students_t() -> None:
    gaps = [0.3, 0.1, 0.2, 0.25, 0.15]
    # mean 0.2, sd 0.0791, t(0.95, 4) = 2.1318
    assert mean_lower_bound(gaps) == pytest.approx(0.2 - 2.1318 * 0.0791 / 5**0.5, abs=1e-4)
    noisy = {**VALUES, "dictionary": [0.9, 0.45, 1.4]}  # every seed but one clears it
    assert not claim(aggregate="mean_lower_bound").evaluate(noisy).real.holds
    with pytest.raises(ValueError, match="at least 2 seeds"):
        mean_lower_bound([0.3], "c")


def test_less_than_flips_the_gap_and_constants_broadcast() -> None:
    result = claim(op="<", right=0.5, margin=0.0, null=Null(
        description="x", values={"dictionary": "random"})).evaluate(
        {"dictionary": [0.2, 0.3], "random": [0.6, 0.7]})
    assert result.real.gaps == pytest.approx([0.3, 0.2]) and result.real.right == [0.5, 0.5]
    assert result.verdict == "holds"


def test_json_round_trip() -> None:
    result = claim().evaluate(VALUES)
    assert ClaimResult.from_json(result.to_json()) == result


@pytest.mark.parametrize(("overrides", "message"), [
    ({"op": "=="}, "unknown comparison"),
    ({"aggregate": "most_seeds"}, "unknown aggregate"),
    ({"why": " "}, "why is empty"),
    ({"null": Null(description="x", values={})}, "replaces no value"),
    ({"null": Null(description="x", values={"other": "y"})}, "does not compare"),
])
def test_bad_claims_are_refused(overrides: dict, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        claim(**overrides)


def test_missing_null_value_and_mismatched_seeds_are_named() -> None:
    with pytest.raises(KeyError, match="dictionary_null"):
        claim().evaluate({"dictionary": [1.0], "random": [0.0]})
    with pytest.raises(ValueError, match="3 and 2 seeds"):
        claim().evaluate({**VALUES, "random": [0.1, 0.2]})


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = (0, 1, 2)


def test_per_seed_values_need_one_number_per_seed() -> None:
    def figure(value) -> Figure:
        return Figure(title="t", caption="c", alt="a", params=Params(), compute=dict,
                      render=dict, values={"v": lambda data: value})
    assert figure([1, 2.5, 3]).evaluate_values({}) == {"v": [1, 2.5, 3]}
    assert figure(4).evaluate_values({}) == {"v": 4}
    with pytest.raises(TypeError, match="one per seed"):
        figure([1, 2]).evaluate_values({})
    with pytest.raises(ValueError, match="finite"):
        figure([1, float("nan"), 3]).evaluate_values({})
    with pytest.raises(TypeError, match="tuple of distinct ints"):
        Figure(title="t", caption="c", alt="a", params=Params(seeds=(1, 1)), compute=dict,
               render=dict)
