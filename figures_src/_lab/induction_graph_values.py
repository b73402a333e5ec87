"""Values of the induction symbiote graph figure: each reader's graph graded against the
causal truth, the rows the charts draw, and what each value is in words.
"""

from __future__ import annotations

import statistics
from typing import Any

from figures_src._lab.induction_graph_charts import (
    ERROR,
    ERROR_AT,
    LOGITS_NODE,
)
from figures_src._lab.induction_graph_compute import (
    _grade,
)

KINDS = ("current token", "previous token", "position")


HOSTS = ("trained", "untrained", "control", "shuffled")
"""Where dictionaries grow: the 2-layer host, the same host untrained, the 1-layer host,
the null host (trained on shuffled repeats)."""


def _grades(
    data: dict[str, Any], host: str, reader: str, edge_threshold: float
) -> list[dict[str, float]]:
    threshold = edge_threshold
    h = data[host]
    return [_grade(w, t, threshold) for w, t in zip(h["weights"][reader], h["truth"], strict=True)]


READERS = {
    "dictionary": "",
    "untrained dictionary": "raw_",
    "no dictionary": "plain_",
    "first order": "first_order_",
}
"""How the graph is read (value-name prefix): the trained dictionary; the same
dictionary at its initialisation; no dictionary (the sources themselves); the trained
dictionary with queries and keys linearised through the softmax."""


GRADES = ("precision", "recall", "n_found", "n_real", "random_precision", "random_recall")


NULL_NAMES = {"cur_k_share": "cur_latents_prev_k_share"}
"""Names the parts would give that a null renames (`rules.NULL_NAMING`): the current-token
latents' share is the null of the previous-token latents' share."""


def _values(data: dict[str, Any], edge_threshold: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for host in HOSTS:
        h = data[host]
        prefix = "" if host == "trained" else f"{host}_"
        out[f"{prefix}fvu"] = h["fvu"]
        out[f"{prefix}recovered"] = h["recovered"]
        out[f"{prefix}alive"] = h["alive"]
        for kind in KINDS:
            key = kind.replace(" ", "_")
            out[f"{prefix}n_{key}_latents"] = h["count"][kind]
            out[f"{prefix}{key}_coverage"] = h["coverage"][kind]
            out[f"{prefix}best_{key}"] = h["best"][kind]
    h = data["trained"]
    out["raw_recovered"] = h["untrained_recovered"]
    for reader, tag in READERS.items():
        for key in GRADES:
            out[f"{tag}{key}"] = [g[key] for g in _grades(data, "trained", reader, edge_threshold)]
        out[f"{tag}r2"] = h["r2"][reader]
    out["error_share"] = h["error_share"]
    for name in ("latent_r2", "latent_qk_r2", "first_order_latent_r2", "first_order_latent_qk_r2"):
        out[name] = h[name]
    causal = h["causal"]
    out["n_ablated"] = causal["n_ablated"]
    out["clean_loss"] = causal["clean_loss"]
    for part in "qk":
        out[f"cut_{part}_loss"] = causal["cut_loss"][part]
        for name in ("prev", "cur", "random", "error"):
            out[f"{name}_{part}_loss"] = causal[f"{name}_{part}"]["loss"]
            out[f"{name}_{part}_share"] = causal[f"{name}_{part}"]["share"]
    for host in ("trained", "untrained"):
        prefix = "" if host == "trained" else f"{host}_"
        h = data[host]
        out[f"{prefix}exactness_error"] = h["exactness_error"]
        out[f"{prefix}logit_diff"] = h["logit_diff"]
        out[f"{prefix}max_truth"] = [max(abs(t) for t in row) for row in h["truth"]]
        out[f"{prefix}max_symbiote_edge"] = [
            max(abs(w) for w in row) for row in h["weights"]["dictionary"]
        ]
    for old, new in NULL_NAMES.items():
        out[new] = out.pop(old)
    return out


def _edge_rows(data: dict[str, Any], edge_threshold: float) -> list[dict[str, Any]]:
    h = data["trained"]
    n_heads = 1 + max(int(e[1][-1]) for e in data["edges"] if e[1].startswith("L"))
    where = {"tokens": (0, (n_heads - 1) / 2), "logits": (3, (n_heads - 1) / 2)}
    for layer in (0, 1):
        for i in range(n_heads):
            where[f"L{layer} H{i}"] = (1 + layer, i)
    where[ERROR] = ERROR_AT
    offset = {"q": -0.18, "k": 0.0, "v": 0.18, "": 0.0}
    rows = []
    for seed, weights, truth, flows in zip(
        data["seeds"], h["weights"]["dictionary"], h["truth"], h["error_flows"], strict=True
    ):
        error_edges = [(ERROR, LOGITS_NODE, "")] + [
            (ERROR, f"L1 H{j}", part) for j in range(n_heads) for part in "qkv"
        ]
        # The error node's edges have no truth (path patching cuts the host, not the
        # dictionary): drawn in their own colour, never graded.
        edges = [*zip(data["edges"], weights, truth, strict=True)] + [
            (edge, w, None) for edge, w in zip(error_edges, flows, strict=True)
        ]
        for (source, target, part), w, t in edges:
            x, y = where[source]
            x2, y2 = where[target]
            rows.append(
                {
                    "seed": seed,
                    "edge": f"{source} → {target}" + (f" ({part})" if part else ""),
                    "part": part or "—",
                    "x": x,
                    "y": y,
                    "x2": x2,
                    "y2": y2 + offset[part],
                    "weight": abs(w),
                    "signed": w,
                    "truth": t,
                    "real": t is not None and abs(t) > edge_threshold,
                    "error": t is None,
                }
            )
    return rows


def _curve(data: dict[str, Any], edge_threshold: float) -> list[dict[str, Any]]:
    """Precision and recall of each seed's graph as the symbiote's threshold moves, and
    their means (seed "mean")."""
    h = data["trained"]
    rows = []
    for step in range(0, 61):
        threshold = 0.1 * step
        grades = [
            _grade_at(w, t, threshold, edge_threshold)
            for w, t in zip(h["weights"]["dictionary"], h["truth"], strict=True)
        ]
        for key in ("precision", "recall"):
            values = [g[key] for g in grades]
            for seed, value in [
                *zip(data["seeds"], values, strict=True),
                ("mean", statistics.fmean(values)),
            ]:
                rows.append(
                    {
                        "threshold": round(threshold, 2),
                        "measure": key,
                        "seed": str(seed),
                        "value": round(value, 4),
                    }
                )
    return rows


def _grade_at(
    weights: list[float], truth: list[float], threshold: float, edge_threshold: float
) -> dict[str, float]:
    """Symbiote edges above `threshold`; truth edges above the fixed `edge_threshold`."""
    found = [abs(w) > threshold for w in weights]
    real = [abs(t) > edge_threshold for t in truth]
    hits = sum(f and r for f, r in zip(found, real, strict=True))
    return {
        "precision": hits / sum(found) if any(found) else 0.0,
        "recall": hits / sum(real) if any(real) else 0.0,
    }


_READ_AS = {
    "": "the graph read through the trained dictionary",
    "raw_": "the graph read through the dictionary at its initialisation",
    "plain_": "the graph read with no dictionary (the sources themselves)",
    "first_order_": "the graph read through the dictionary, queries and keys linearised",
}


_GRADE_WORDS = {
    "precision": "the share of its edges that path patching confirms",
    "recall": "the share of path patching's edges it finds",
    "n_found": "the edges it finds",
    "n_real": "the edges path patching finds",
    "random_precision": "the precision of as many edges picked at random",
    "random_recall": "the recall of as many edges picked at random",
    "r2": "R² of its edge weights against path patching",
}


_ON_HOST = {
    "": "on the trained 2-layer host",
    "untrained_": "on the untrained 2-layer host",
    "control_": "on the 1-layer host",
    "shuffled_": "on the null host (trained on shuffled repeats)",
}


_HOST_WORDS = {
    "fvu": "the dictionary's fraction of variance unexplained",
    "alive": "the dictionary's latents that ever fire",
    "recovered": "the share of the loss mean-ablating the stream costs that the dictionary "
    "wins back, spliced in its place",
    "exactness_error": "the largest gap between the graph's summed terms and the metric",
    "logit_diff": "the metric (correct logit minus mean logit on induction targets)",
    "max_truth": "the largest edge effect path patching measures",
    "max_symbiote_edge": "the largest edge weight the symbiote's graph gives",
}


_CUT = {
    "prev": "the previous-token latents",
    "cur": "as many current-token latents",
    "random": "as many random latents",
    "error": "the dictionary's error",
}


_OTHER = {
    "error_share": "the share of the metric that flows through the dictionary's error",
    "raw_recovered": "the loss recovered by the untrained 2-layer host's dictionary, spliced "
    "in place of its stream",
    "n_ablated": "latents read as 'the previous token was X' that are removed",
    "clean_loss": "the host's loss on the induction targets, nothing removed",
    "latent_r2": "R² of each latent's path attribution against patching that latent",
    "latent_qk_r2": "R² of latent attributions through queries and keys against patching",
    "first_order_latent_r2": "R² of linearised latent attributions against patching",
    "first_order_latent_qk_r2": "R² of linearised latent attributions through queries and "
    "keys against patching",
}


def _describe(name: str) -> str:
    """A value's name in words (the names are built from the same parts, `VALUE_NAMES`)."""
    if name in _OTHER:
        return _OTHER[name]
    renamed = {new: old for old, new in NULL_NAMES.items()}
    if name in renamed:
        return _describe(renamed[name])
    for prefix in sorted(_READ_AS, key=len, reverse=True):
        rest = name[len(prefix) :]
        if name.startswith(prefix) and rest in _GRADE_WORDS:
            return f"{_GRADE_WORDS[rest]}, {_READ_AS[prefix]}"
    if name.startswith("cut_"):
        part = "keys" if name[4] == "k" else "queries"
        return f"the loss with layer 1's whole {part} input cut"
    head, _, what = name.rpartition("_")
    if head.split("_")[0] in _CUT and head.split("_")[1] in "qk":
        cut, part = head.split("_")
        where = "keys" if part == "k" else "queries"
        return (
            f"the loss with {_CUT[cut]} removed from layer 1's {where}"
            if what == "loss"
            else f"the share of cutting layer 1's whole {where} input that removing "
            f"{_CUT[cut]} costs"
        )
    prefix = next(p for p in sorted(_ON_HOST, key=len, reverse=True) if name.startswith(p))
    rest = name[len(prefix) :]
    if rest in _HOST_WORDS:
        return f"{_HOST_WORDS[rest]}, {_ON_HOST[prefix]}"
    for kind in KINDS:
        key = kind.replace(" ", "_")
        words = {
            f"n_{key}_latents": f"latents labelled {kind}",
            f"{key}_coverage": f"the share of {kind} features some latent matches",
            f"best_{key}": f"the best correlation of a latent with a {kind} feature",
        }
        if rest in words:
            return f"{words[rest]}, {_ON_HOST[prefix]}"
    raise KeyError(f"no words for value {name!r}")


VALUE_NAMES = tuple(
    [f"{tag}{key}" for tag in READERS.values() for key in (*GRADES, "r2")]
    + [
        f"{prefix}{name}"
        for prefix in ("", "untrained_", "control_", "shuffled_")
        for name in (
            "fvu",
            "recovered",
            "alive",
            *tuple(f"n_{k.replace(' ', '_')}_latents" for k in KINDS),
            *tuple(f"{k.replace(' ', '_')}_coverage" for k in KINDS),
            *tuple(f"best_{k.replace(' ', '_')}" for k in KINDS),
        )
    ]
    + [
        f"{prefix}{name}"
        for prefix in ("", "untrained_")
        for name in ("exactness_error", "logit_diff", "max_truth", "max_symbiote_edge")
    ]
    + ["raw_recovered", "error_share", "n_ablated", "clean_loss", "latent_r2", "latent_qk_r2"]
    + ["first_order_latent_r2", "first_order_latent_qk_r2"]
    + [f"cut_{part}_loss" for part in "qk"]
    + [
        f"{name}_{part}_{what}"
        for name in ("prev", "cur", "random", "error")
        for part in "qk"
        for what in ("loss", "share")
    ]
)
VALUE_NAMES = tuple(NULL_NAMES.get(name, name) for name in VALUE_NAMES)
