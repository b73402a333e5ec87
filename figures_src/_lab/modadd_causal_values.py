"""Values and chart rows of the modular-addition causal figure: per-seed scores of each
condition and edit, read from its data.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any

from figures_src._lab.values import each

if TYPE_CHECKING:
    pass


CONDITIONS = (
    ("clean", "clean host (held-out pairs)"),
    ("ablate_key", "key subspace mean-ablated"),
    ("ablate_neurons", "top neurons mean-ablated"),
    ("ablate_random", "random directions mean-ablated"),
    ("restricted_key", "restricted to key frequencies"),
    ("restricted_other", "restricted to other frequencies"),
    ("excluded_key", "key frequencies excluded (training pairs)"),
    ("excluded_other", "other frequencies excluded (training pairs)"),
)


def _condition_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    labels = dict(CONDITIONS)
    return [
        {
            "seed": e["seed"],
            "host": host,
            "condition": labels[name],
            "acc": e[host][name]["acc"],
            # Floor for the log axis: a loss of 0.0 (rounded) sits at its left edge.
            "loss": max(e[host][name]["loss"], 1e-6),
        }
        for e in data["seeds"]
        for host in ("trained", "untrained")
        for name in labels
    ]


def _curve_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for e in data["seeds"]:
        w = e["trained"]["write"]
        for edit, c in w["curves"].items():
            for delta in range(data["p"]):
                rows.append(
                    {
                        "seed": e["seed"],
                        "edit": edit,
                        "delta": delta,
                        "shift_acc": c["shift_acc"][delta],
                        "kl_target": max(c["kl_target"][delta], 1e-4),
                    }
                )
        for delta in range(data["p"]):
            rows.append(
                {
                    "seed": e["seed"],
                    "edit": "doing nothing",
                    "delta": delta,
                    "shift_acc": None,
                    "kl_target": max(w["kl_nothing"][delta], 1e-4),
                }
            )
    return rows


Seed = dict[str, Any]


def _score(host: str, condition: str, field: str) -> Any:
    return each(lambda e: e[host][condition][field])


def _over_shifts(host: str, edit: str, curve: str, reduce: Any = statistics.fmean) -> Any:
    """A curve over the shifts d = 1 .. p-1 (d = 0 is no edit), reduced to one number."""
    return each(lambda e: reduce(e[host]["write"]["curves"][edit][curve][1:]))


def _at_extreme(data: dict[str, Any], value: Any, pick: Any, field: str) -> float:
    """At the seed where the per-seed `value` (a value function) is smallest or largest
    (`pick`), that seed's number or its excluded-key accuracy (`field`)."""
    per_seed = value(data)
    index = per_seed.index(pick(per_seed))
    entry = data["seeds"][index]
    return entry["seed"] if field == "seed" else entry["trained"][field]["acc"]


def _nothing(e: Seed, host: str = "trained") -> float:
    return statistics.fmean(e[host]["write"]["kl_nothing"][1:])


def _ratio(edit: str, host: str = "trained") -> Any:
    """Mean KL to the intended output over the mean KL of doing nothing (d >= 1)."""
    return each(
        lambda e: (
            statistics.fmean(e[host]["write"]["curves"][edit]["kl_target"][1:]) / _nothing(e, host)
        )
    )
