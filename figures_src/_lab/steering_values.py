"""Values of the steering dose-response figure: per-seed summaries of each reader's
steering, read from the figure's rows.
"""

from __future__ import annotations

from typing import Any

from figures_src._lab.steering_runs import KINDS

HOST_KEYS = {
    "untrained": "untrained_host",
    "untrained, second draw": "second_untrained_host",
    "privileged basis": "privileged",
}
"""Value-name prefixes of the other hosts' values."""


def _per_seed_mean(
    data: dict[str, Any], kind: str, field: str, host: str = "trained"
) -> list[float]:
    """Per seed, the mean of `field` over targets at the headline dose, on one host."""
    out = []
    for seed in data["seeds"]:
        picked = [
            r[field]
            for r in data["rows"]
            if r["seed"] == seed
            and r["host"] == host
            and r["direction"] == kind
            and r["dose"] == data["headline_dose"]
        ]
        out.append(sum(picked) / len(picked))
    return out


def _per_gain(data: dict[str, Any], kind: str, host: str = "trained") -> list[float]:
    """Per seed, mean collateral over mean target gain: collateral per unit of gain.
    A direction that does not raise its target (mean gain <= 0) is divided by 1e-9, an
    enormous but finite number: it gives no control at all."""
    gains = _per_seed_mean(data, kind, "gain", host)
    collaterals = _per_seed_mean(data, kind, "collateral", host)
    return [c / max(g, 1e-9) for c, g in zip(collaterals, gains, strict=True)]


def _host_values() -> dict[str, Any]:
    """Gain and collateral per gain of every kind on the null hosts and the ReLU host,
    each a (description, getter) pair."""
    out: dict[str, Any] = {}
    short = {KINDS[0]: "atom", KINDS[1]: "neuron", KINDS[3]: "random", KINDS[4]: "oracle"}
    for host, key in HOST_KEYS.items():
        on = {
            "untrained": "on the untrained host",
            "untrained, second draw": "on a second untrained host",
            "privileged basis": "on the ReLU host (privileged basis)",
        }[host]
        for kind, word in short.items():
            out[f"{key}_{word}_gain"] = (
                f"the target output's rise when pushed along the {kind} direction, {on}",
                lambda d, k=kind, h=host: _per_seed_mean(d, k, "gain", h),
            )
            out[f"{key}_{word}_collateral_per_gain"] = (
                f"collateral per unit of target gain along the {kind} direction, {on}",
                lambda d, k=kind, h=host: _per_gain(d, k, h),
            )
        out[f"{key}_twice_random_gain"] = (
            f"twice the target gain of a random direction, {on}",
            lambda d, h=host: [2 * g for g in _per_seed_mean(d, KINDS[3], "gain", h)],
        )
        for kind, word in ((KINDS[3], "random"), (KINDS[0], "atom"), (KINDS[4], "oracle")):
            out[f"{key}_half_{word}_collateral_per_gain"] = (
                f"half the collateral per unit of gain along the {kind} direction, {on}",
                lambda d, h=host, k=kind: [r / 2 for r in _per_gain(d, k, h)],
            )
    out["shuffled_host_max_output"] = (
        "the largest output of the host trained on a shuffled task",
        lambda d: d["shuffled"]["max_output"],
    )
    out["shuffled_host_eligible_targets"] = (
        "features of the shuffled-task host that fire often enough to be a target",
        lambda d: d["shuffled"]["eligible_targets"],
    )
    return out


def _share_of_oracle(data: dict[str, Any], summary: str = "median") -> list[float]:
    """Per seed, the median (or `min`) over targets of the atom's gain over the oracle's."""
    import statistics

    pick = statistics.median if summary == "median" else min
    at = {
        (r["seed"], r["target"], r["direction"]): r["gain"]
        for r in data["rows"]
        if r["dose"] == data["headline_dose"] and r["host"] == "trained"
    }
    out = []
    for seed in data["seeds"]:
        targets = [t["target"] for t in data["targets"] if t["seed"] == seed]
        shares = [at[(seed, t, KINDS[0])] / at[(seed, t, KINDS[4])] for t in targets]
        out.append(pick(shares))
    return out


def _well_chosen(data: dict[str, Any], field: str) -> list[float]:
    """Per seed, the share of targets whose atom (chosen, or best available) has cosine
    >= `well_chosen_cosine` with the target's true direction."""
    out = []
    for seed in data["seeds"]:
        cosines = [t[field] for t in data["targets"] if t["seed"] == seed]
        out.append(sum(c >= data["well_chosen_cosine"] for c in cosines) / len(cosines))
    return out


def _picked_best(data: dict[str, Any]) -> list[float]:
    """Per seed, the share of targets whose chosen atom is the atom closest to the target's
    true direction (what a selection with ground truth would pick)."""
    out = []
    for seed in data["seeds"]:
        ts = [t for t in data["targets"] if t["seed"] == seed]
        out.append(sum(t["chosen_atom_cosine"] == t["best_atom_cosine"] for t in ts) / len(ts))
    return out


def _picked_when_available(data: dict[str, Any]) -> list[float]:
    """Per seed, among targets for which some atom has cosine >= `well_chosen_cosine`
    with the true direction, the share whose chosen atom is the closest one."""
    out = []
    for seed in data["seeds"]:
        ts = [
            t
            for t in data["targets"]
            if t["seed"] == seed and t["best_atom_cosine"] >= data["well_chosen_cosine"]
        ]
        out.append(sum(t["chosen_atom_cosine"] == t["best_atom_cosine"] for t in ts) / len(ts))
    return out


def _min_firings(data: dict[str, Any]) -> list[int]:
    return [min(t["firings"] for t in data["targets"] if t["seed"] == s) for s in data["seeds"]]


def _seed_curves(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Per seed, kind and dose: the mean gain and collateral over targets."""
    groups: dict[tuple[int, str, float], list[dict[str, Any]]] = {}
    for row in (r for r in data["rows"] if r["host"] == "trained"):
        groups.setdefault((row["seed"], row["direction"], row["dose"]), []).append(row)
    return [
        {
            "seed": seed,
            "direction": kind,
            "dose": dose,
            "gain": sum(r["gain"] for r in rows) / len(rows),
            "collateral": sum(r["collateral"] for r in rows) / len(rows),
        }
        for (seed, kind, dose), rows in sorted(groups.items())
    ]
