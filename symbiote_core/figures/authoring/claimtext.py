"""How a checked claim reads in words: one source for the CLI, the build log and pages.

Works on the JSON form of a `ClaimResult` (what cache entries store), so readers need
not rebuild dataclasses. Entries written before nulls were plural are read through
`spec.upgrade_claim_json`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from symbiote_core.figures.authoring.spec import AGGREGATES, RULES, upgrade_claim_json

VERDICT_WORDS: dict[str, str] = {
    "holds": "holds",
    "fails": "fails",
    "cannot fail": "cannot fail (a null holds too)",
    "not separated": "not separated from its null",
}
"""The verdict in a few words, for marks and summaries."""


def comparison(claim: Mapping[str, Any]) -> str:
    """'atom_gain > random_gain + 0.3' in the claim's own terms."""
    right = claim["right"]
    right_text = right if isinstance(right, str) else f"{right:.4g}"
    margin = claim.get("margin") or 0.0
    margin_text = f" {'+' if margin > 0 else '−'} {abs(margin):.4g}" if margin else ""
    return f"{claim['left']} {claim['op']} {right_text}{margin_text}"


def evaluation_text(evaluation: Mapping[str, Any], aggregate: str) -> str:
    """'on 5 of 5 seeds; smallest gap 0.41' or 'mean gap 0.52, lower bound 0.31'."""
    seeds = evaluation["seed_holds"]
    held = f"on {sum(seeds)} of {len(seeds)} seed{'s' if len(seeds) != 1 else ''}"
    if aggregate == "every_seed":
        return f"{held}; smallest gap {evaluation['statistic']:.3g}"
    gaps = evaluation["gaps"]
    mean = sum(gaps) / len(gaps)
    return f"{held}; mean gap {mean:.3g}, 95% lower bound {evaluation['statistic']:.3g}"


def separation_text(claim: Mapping[str, Any]) -> str:
    """'weakest seed's gap 0.41 against the strongest null seed's −0.12: separated by 0.53'."""
    s = upgrade_claim_json(claim)["separation"]
    verb = "separated by" if s["gap"] > 0 else "not separated, short by"
    return (
        f"weakest seed's gap {s['weakest_real']:.3g} against the strongest null seed's "
        f"{s['strongest_null']:.3g}: {verb} {abs(s['gap']):.3g}"
    )


def verdict_text(claim: Mapping[str, Any]) -> str:
    """The verdict with what decided it and, for a claim stated as failed, whether the
    essay's statement agrees: 'fails (decided by the real comparison's aggregate), as the
    essay states'."""
    claim = upgrade_claim_json(claim)
    verdict = claim["verdict"]
    text = f"{VERDICT_WORDS[verdict]} (decided by {RULES[claim['decided_by']]})"
    if claim.get("stated", "holds") == "fails":
        agrees = verdict != "holds"
        text += ", as the essay states" if agrees else ", though the essay states it fails"
    return text


def describe_claim(claim: Mapping[str, Any]) -> str:
    """One line: the comparison, its verdict, and what the seeds and the nulls gave."""
    claim = upgrade_claim_json(claim)
    aggregate = claim["aggregate"]
    real = evaluation_text(claim["real"], aggregate)
    nulls = "; ".join(null_text(null, aggregate) for null in claim["nulls"])
    return (
        f"{comparison(claim)} ({AGGREGATES[aggregate]}): {verdict_text(claim)}; measured "
        f"{real}; {nulls}; {separation_text(claim)}"
    )


def null_text(null: Mapping[str, Any], aggregate: str) -> str:
    """'on its null (an untrained host) it fails on every seed; on 0 of 5 seeds; ...'."""
    held = sum(null["evaluation"]["seed_holds"])
    outcome = f"holds on {held} seed{'s' if held != 1 else ''}" if held else "fails on every seed"
    return (
        f"on its null ({null['description']}) it {outcome} "
        f"({evaluation_text(null['evaluation'], aggregate)})"
    )
