"""Claims over seeds: per-seed gaps, aggregation, live nulls, controls, separation and the
verdicts; evaluation seeds disjoint from tuning seeds."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from symbiote_core.figures.authoring.claimtext import describe_claim, verdict_text
from symbiote_core.figures.authoring.spec import (
    Claim,
    ClaimResult,
    Control,
    DeadNullError,
    Figure,
    Null,
    Value,
    mean_lower_bound,
    upgrade_claim_json,
)


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
    assert result.verdict == "holds" and result.holds and result.decided_by == "all"
    assert result.real.seed_holds == [True, True, True]
    assert result.real.gaps == pytest.approx([0.4, 0.2, 0.4])
    assert result.real.statistic == pytest.approx(0.2)
    (null,) = result.nulls
    assert not null.evaluation.holds and null.evaluation.left == VALUES["dictionary_null"]
    # Separation: weakest real gap 0.2 (seed 1) against the strongest null gap, -0.05
    # (seed 0: 0.45 against 0.4 + 0.1).
    assert result.separation.weakest_real == pytest.approx(0.2)
    assert result.separation.strongest_null == pytest.approx(-0.05)
    assert result.separation.gap == pytest.approx(0.25)
    assert (result.separation.weakest_seed, result.separation.strongest_seed) == (1, 0)


def test_one_failing_seed_fails_every_seed_aggregate() -> None:
    values = {**VALUES, "dictionary": [0.9, 0.55, 0.95]}
    result = claim().evaluate(values)
    assert result.verdict == "fails" and result.real.seed_holds == [True, False, True]


def test_a_claim_whose_null_holds_on_one_seed_cannot_fail() -> None:
    # The old rule let a null count as failed once any seed broke it; now one seed where
    # the null holds is enough to show the effect appears where it should be absent.
    values = {**VALUES, "dictionary_null": [0.45, 0.7, 0.42]}
    result = claim().evaluate(values)
    assert result.real.holds and not result.nulls[0].evaluation.holds
    assert result.nulls[0].evaluation.seed_holds == [False, True, False]
    assert result.verdict == "cannot fail" and result.decided_by == "null"
    assert not result.holds
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
                      render=dict, values={"v": lambda data: value}, tuning_seeds=(10,))
    assert figure([1, 2.5, 3]).evaluate_values({}) == {"v": [1, 2.5, 3]}
    assert figure(4).evaluate_values({}) == {"v": 4}
    with pytest.raises(TypeError, match="one per seed"):
        figure([1, 2]).evaluate_values({})
    with pytest.raises(ValueError, match="finite"):
        figure([1, float("nan"), 3]).evaluate_values({})
    with pytest.raises(TypeError, match="tuple of distinct ints"):
        Figure(title="t", caption="c", alt="a", params=Params(seeds=(1, 1)), compute=dict,
               render=dict, tuning_seeds=(10,))


# -- live nulls --------------------------------------------------------------------


def test_a_null_whose_two_sides_are_equal_on_every_seed_is_refused() -> None:
    # An untrained host that outputs a uniform distribution: every knockout costs ln 64,
    # up to float noise, so the two sides of the comparison cannot differ.
    values = {
        "knockout": [6.2, 8.4, 5.2],
        "other": [0.1, 0.13, 0.14],
        "knockout_null": [4.1588831, 4.1588830, 4.1588832],
        "other_null": [4.1588830, 4.1588831, 4.1588830],
    }
    dead = claim(
        left="knockout",
        right="other",
        margin=1.0,
        null=Null(description="the untrained host",
                  values={"knockout": "knockout_null", "other": "other_null"}),
    )
    with pytest.raises(DeadNullError, match=r"'beats'.*equal on every seed"):
        dead.evaluate(values)


def test_a_null_side_pinned_to_one_value_while_the_real_side_varies_is_refused() -> None:
    # The memorised host has no key frequency: its share is 0 on every seed.
    values = {"share": [0.81, 0.87, 0.77], "memorised": [0.0, 0.0, 0.0]}
    dead = claim(left="share", right=0.5, margin=0.0,
                 null=Null(description="memorised host", values={"share": "memorised"}))
    with pytest.raises(DeadNullError, match=r"left side .*'memorised'.* every seed"):
        dead.evaluate(values)
    # A constant real side and a constant null side are no contradiction.
    assert dead.evaluate({"share": [0.9, 0.9, 0.9], "memorised": [0.1, 0.1, 0.1]}).holds


def test_a_live_null_that_moves_is_accepted_even_near_the_threshold() -> None:
    values = {**VALUES, "dictionary_null": [0.5, 0.52, 0.49]}
    assert claim().evaluate(values).verdict == "holds"


def test_every_null_must_fail_on_every_seed() -> None:
    two = claim(null=(
        Null(description="untrained host", values={"dictionary": "dictionary_null"}),
        Null(description="shuffled-task host", values={"dictionary": "shuffled"}),
    ))
    ok = two.evaluate({**VALUES, "shuffled": [0.5, 0.6, 0.5]})
    assert ok.verdict == "holds" and len(ok.nulls) == 2
    assert ok.separation.strongest_null_index == 1  # 0.6 - 0.6 = 0 on seed 1
    bad = two.evaluate({**VALUES, "shuffled": [0.5, 0.75, 0.5]})
    assert bad.verdict == "cannot fail" and bad.decided_by == "null"


def test_a_claim_needs_a_null() -> None:
    with pytest.raises(ValueError, match="at least one null"):
        claim(null=())


# -- separation --------------------------------------------------------------------


def test_separation_decides_when_the_mean_holds_but_a_weak_seed_sinks_below_the_null() -> None:
    # By its mean the claim holds and the null fails on every seed, but the weakest
    # real seed (gap -0.05) does not clear the strongest null seed (gap -0.02).
    values = {
        "dictionary": [1.0, 1.0, 1.0, 1.0, 0.5],
        "random": [0.4] * 5,
        "dictionary_null": [0.45, 0.47, 0.48, 0.4, 0.42],
    }
    result = claim(aggregate="mean_lower_bound").evaluate(values)
    assert result.real.holds and not any(result.nulls[0].evaluation.seed_holds)
    assert result.separation.weakest_real == pytest.approx(-0.0)
    assert result.separation.strongest_null == pytest.approx(-0.02)
    assert result.verdict == "holds"  # 0 - (-0.02) > 0: separated, barely
    values["dictionary"][4] = 0.45
    result = claim(aggregate="mean_lower_bound").evaluate(values)
    assert result.real.holds
    assert result.separation.gap == pytest.approx(-0.05 + 0.02)
    assert result.verdict == "not separated" and result.decided_by == "separation"
    assert "not separated" in verdict_text(result.to_json())


# -- controls ----------------------------------------------------------------------


def test_controls_are_evaluated_and_reported_but_never_decide() -> None:
    with_control = claim(controls=Control(
        description="the final accuracy instead", values={"dictionary": "final"}))
    values = {**VALUES, "final": [0.99, 0.98, 0.97]}
    result = with_control.evaluate(values)
    (control,) = result.controls
    assert control.description == "the final accuracy instead"
    assert control.evaluation.left == [0.99, 0.98, 0.97] and control.evaluation.holds
    assert result.verdict == "holds"  # a control that holds is no null that holds
    data = result.to_json()
    assert data["controls"][0]["values"] == {"dictionary": "final"}
    assert ClaimResult.from_json(data) == result
    with pytest.raises(ValueError, match="control replaces other"):
        claim(controls=(Control(description="x", values={"other": "y"}),))
    with pytest.raises(TypeError, match="must be a Control"):
        claim(controls=(Null(description="x", values={"dictionary": "y"}),))


# -- stated failures ---------------------------------------------------------------


def test_a_claim_stated_as_failed_agrees_with_any_verdict_but_holds() -> None:
    failing = {**VALUES, "dictionary": [0.9, 0.5, 0.95]}
    stated = claim(stated="fails")
    result = stated.evaluate(failing)
    assert result.verdict == "fails" and result.agrees and not result.holds
    assert "as the essay states" in verdict_text(result.to_json())
    flipped = stated.evaluate(VALUES)
    assert flipped.verdict == "holds" and not flipped.agrees
    assert "though the essay states it fails" in verdict_text(flipped.to_json())
    assert claim().evaluate(failing).agrees is False
    with pytest.raises(ValueError, match="stated"):
        claim(stated="maybe")


def test_an_entry_written_before_nulls_were_plural_is_read() -> None:
    old = claim().evaluate(VALUES).to_json()
    null = old.pop("nulls")[0]
    for key in ("controls", "separation", "decided_by", "stated", "agrees"):
        old.pop(key)
    old.update(null=null["evaluation"], null_description=null["description"],
               null_values=null["values"])
    result = ClaimResult.from_json(old)
    assert result.verdict == "holds" and result.nulls[0].description == "an untrained host"
    assert result.separation.gap > 0 and upgrade_claim_json(old)["controls"] == []


# -- tuning seeds ------------------------------------------------------------------


def _figure(**overrides) -> Figure:
    fields = dict(title="Toy", caption="c", alt="a", params=Params(seeds=(5, 6, 7)),
                  compute=dict, render=dict)
    return Figure(**{**fields, **overrides})


def test_evaluation_seeds_must_be_disjoint_from_tuning_seeds() -> None:
    assert _figure(tuning_seeds=(0, 1, 2, 3, 4)).tuning_seeds == (0, 1, 2, 3, 4)
    with pytest.raises(ValueError, match=r"figure 'Toy'.*overlap.*\(both hold 5, 7\)"):
        _figure(tuning_seeds=(0, 5, 7))


def test_tuning_seeds_are_required_with_seeds_and_an_empty_set_needs_a_reason() -> None:
    undeclared = _figure()  # importing it works; the build refuses it
    with pytest.raises(ValueError, match="figure 'Toy': declare the seeds its recipe"):
        undeclared.require_tuning_seeds()
    _figure(params=Params(seeds=None)).require_tuning_seeds()  # no seeds, nothing to declare
    with pytest.raises(ValueError, match="tuning_note"):
        _figure(tuning_seeds=())
    untuned = _figure(tuning_seeds=(), tuning_note="the recipe of the paper, unchanged")
    assert untuned.tuning_seeds == ()
    with pytest.raises(TypeError, match="tuple of ints"):
        _figure(tuning_seeds=[0, 1])


def test_a_value_needs_a_description_which_the_build_requires() -> None:
    """Importing a figure with an undescribed value works (tools read modules being
    updated); the build's check names the figure and every undescribed value."""
    figure = _figure(tuning_seeds=(0,), values={
        "fine": Value("the share of atoms that match a parent.", lambda d: 1.0),
        "pair": ("the same, as a plain pair", lambda d: 1.5),
        "bare": lambda d: 2.0,
        "blank": Value(" ", lambda d: 3.0),
        "named": Value("named", lambda d: 4.0),
    })
    assert figure.evaluate_values({}) == {
        "fine": 1.0, "pair": 1.5, "bare": 2.0, "blank": 3.0, "named": 4.0
    }
    with pytest.raises(ValueError, match="figure 'Toy'") as raised:
        figure.require_value_descriptions()
    message = str(raised.value)
    assert "value 'bare' has no description" in message
    assert "value 'blank' has an empty description" in message
    assert "value 'named': its description repeats its name" in message
    assert "'fine'" not in message and "'pair'" not in message
    # Stored without the final full stop: the popover goes on after it.
    assert figure.value_descriptions() == {
        "fine": "the share of atoms that match a parent", "pair": "the same, as a plain pair"
    }
    _figure(tuning_seeds=(0,), values={"ok": Value("one", lambda d: 1)}).require_value_descriptions()
