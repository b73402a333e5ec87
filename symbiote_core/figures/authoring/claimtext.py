"""How a checked claim reads in words: one source for the CLI, the build log and pages.

Works on the JSON form of a `ClaimResult` (what cache entries store), so readers need
not rebuild dataclasses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from symbiote_core.figures.authoring.spec import AGGREGATES


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


def describe_claim(claim: Mapping[str, Any]) -> str:
    """One line: the comparison, its verdict, and what the seeds and the null gave."""
    verdict = claim["verdict"]
    real = evaluation_text(claim["real"], claim["aggregate"])
    null = evaluation_text(claim["null"], claim["aggregate"])
    null_verdict = "holds too" if claim["null"]["holds"] else "does not hold"
    return (
        f"{comparison(claim)} ({AGGREGATES[claim['aggregate']]}): {verdict}; measured "
        f"{real}; on its null ({claim['null_description']}) it {null_verdict}, {null}"
    )
