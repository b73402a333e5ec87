"""Reading the modular-addition host's neurons: the compute helpers of `modadd_readers`.

Not a figure (leading underscore). Probes, the dictionary sweep and the unit scores of
section 4 (`modadd_readers`), and the unit rows `symbiosis_modadd` scores its fresh
readers with: in a module of their own, so that neither figure imports the other (a
figure module imported by another is part of that figure's data key, so an edit to one
figure's caption recomputed the other).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from figures_src.modadd_readers import Params

PROBE_KEY = "probes, key k"
PROBE_OTHER = "probes, other k"
NEURONS = "neurons"
DICTIONARY = "faithful dictionary"
SMALL_DICTIONARY = "neuron-sized dictionary"
RANDOM = "random directions"
UNTRAINED = "untrained neurons"
UNTRAINED_DICTIONARY = "its untrained twin"
READERS = (
    PROBE_KEY,
    PROBE_OTHER,
    NEURONS,
    DICTIONARY,
    SMALL_DICTIONARY,
    RANDOM,
    UNTRAINED,
    UNTRAINED_DICTIONARY,
)
UNTRAINED_RANDOM = "untrained random directions"
"""Random directions in the untrained host's neuron space: the null of the neuron
comparison. Scored like every reader, not drawn in the strip chart."""
DICTIONARY_READERS = (DICTIONARY, SMALL_DICTIONARY, UNTRAINED_DICTIONARY)
ANSWER_LATENT = "faithful dictionary: an answer latent"
"""Shown in the heat map only: the faithful dictionary's answer latent of median share."""
HOSTS = ("trained", "untrained")

R2_KINDS = ("key frequency", "double of a key frequency", "other frequency", "untrained host")


def r2_kind(row: dict[str, Any]) -> str:
    if row["key"]:
        return R2_KINDS[0]
    return R2_KINDS[1] if row["double"] else R2_KINDS[2]


def split_pairs(p: Params, n_pairs: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per seed, the pairs that fit the readers and the held-out pairs that score them,
    `(seed, n_fit)` and `(seed, n_test)`: a seeded permutation, its first
    `probe_test_fraction` held out."""
    import torch

    n_test = round(p.probe_test_fraction * n_pairs)
    orders = [torch.randperm(n_pairs, generator=torch.Generator().manual_seed(s)) for s in p.seeds]
    return torch.stack([o[n_test:] for o in orders]), torch.stack([o[:n_test] for o in orders])


def default_unit_names(reader: str, n: int) -> list[str]:
    """Names shown in tooltips and above the heat map, e.g. "neuron 12"."""
    noun = {
        NEURONS: "neuron",
        RANDOM: "direction",
        UNTRAINED: "untrained neuron",
        UNTRAINED_RANDOM: "direction",
        DICTIONARY: "latent",
        SMALL_DICTIONARY: "latent",
        UNTRAINED_DICTIONARY: "twin latent",
    }[reader]
    return [f"{noun} {j}" for j in range(n)]


def probe_all(
    acts: torch.Tensor,
    untrained_acts: torch.Tensor,
    pairs: torch.Tensor,
    keys: list[list[int]],
    fit: torch.Tensor,
    test: torch.Tensor,
    p: Params,
) -> tuple[list[list[dict[str, Any]]], list[dict[str, Any]]]:
    """Probe every frequency on every seed's trained and untrained host: held-out R^2 per
    frequency, and each trained probe's read-out over all pairs (its unit function),
    split into key and other frequencies.

    Each probe is ordinary least squares on standardised neurons
    (`fit_regression_probes`), all seeds and both hosts in one batched solve. Fitting
    the 2K outputs (cos and sin of every frequency) together is exactly fitting 2K
    probes: each output is its own least-squares problem. Per seed the probes are fitted
    on `fit` and scored on `test`, the same pairs for the probe and its control.
    """
    import torch

    from symbiote_core.fourier import n_frequencies
    from symbiote_core.symbiotes.probe import fit_regression_probes

    P, K, n = p.host.p, n_frequencies(p.host.p), len(p.seeds)
    c = (pairs.sum(-1) % P).double()  # (p*p,) the answer (a + b) mod p
    angle = 2 * math.pi * c[:, None] * torch.arange(1, K + 1).double() / P  # (p*p, K)
    targets = torch.stack([angle.cos(), angle.sin()], dim=-1).flatten(1)  # (p*p, 2K)
    both = torch.cat([acts, untrained_acts]).double()  # (2 * seed, p*p, d_mlp)
    fit2, test2 = fit.repeat(2, 1), test.repeat(2, 1)
    rows = lambda x, idx: x.gather(1, idx[..., None].expand(-1, -1, x.shape[-1]))  # noqa: E731
    probes = fit_regression_probes(rows(both, fit2), targets[fit2])
    y = targets[test2]  # (2 * seed, n_test, 2K)
    pred = probes.predict(rows(both, test2))
    r2 = 1 - (y - pred).pow(2).sum(1) / (y - y.mean(1, keepdim=True)).pow(2).sum(1)  # (2s, 2K)
    r2 = r2.view(2, n, K, 2).mean(-1)  # cos and sin averaged per frequency
    readout = probes.readout(both)[:n]  # (seed, p*p, 2K): columns cos1, sin1, cos2, ...
    outputs = [(k, trig) for k in range(1, K + 1) for trig in ("cos", "sin")]
    names = [f"{trig} {k}(a+b)" for k, trig in outputs]
    r2_rows, units = [], []
    for i, key in enumerate(keys):
        is_key = torch.tensor([k in key for k, _ in outputs])
        doubles = {fold(2 * k, P) for k in key}  # a ReLU turns frequency k into 2k (and more)
        r2_rows.append(
            [
                {
                    "k": k,
                    "r2": round(r2[0, i, k - 1].item(), 5),
                    "control_r2": round(r2[1, i, k - 1].item(), 5),
                    "key": k in key,
                    "double": k in doubles and k not in key,
                }
                for k in range(1, K + 1)
            ]
        )
        units.append(
            {
                "key": readout[i][:, is_key].float(),
                "other": readout[i][:, ~is_key].float(),
                "key_names": [nm for nm, keep in zip(names, is_key.tolist(), strict=True) if keep],
                "other_names": [
                    nm for nm, keep in zip(names, is_key.tolist(), strict=True) if not keep
                ],
            }
        )
    return r2_rows, units


def fold(k: int, P: int) -> int:
    """Frequency k and p - k are the same frequency over Z_p; return the one <= (p-1)/2."""
    k %= P
    return min(k, P - k)


def dictionary_class(k: int, size: int) -> Any:
    """TopKSAE, or for a dense code the same dictionary trained with the dense formulas of
    `Dictionary.loss` (the same loss and gradients, rounded differently). The library's
    k-sparse step gathers k decoder rows per example: at k = 32 it ran 1.5-7x slower than
    the dense matmuls at every size of the sweep (128 to 1,024 latents, one thread), while
    at k = 4 it ran as fast at 128 latents and up to 2x faster above."""
    from symbiote_core.symbiotes.sae import Dictionary
    from symbiote_core.symbiotes.topk import TopKSAE

    if 32 * k < size:
        return TopKSAE
    return type("DenseTopKSAE", (TopKSAE,), {"loss": Dictionary.loss})


def dictionary_sweep(
    run: Any,
    acts: dict[str, torch.Tensor],
    keys: list[list[int]],
    fit: torch.Tensor,
    test: torch.Tensor,
    p: Params,
) -> tuple[list[dict[str, Any]], list[dict[str, torch.Tensor]]]:
    """Every (size, k) of the sweep on every seed's trained and untrained host.

    One batched TopK dictionary per (size, k), its instances the trained hosts then the
    untrained ones; a seed's two dictionaries start from the same weights (seeded by the
    seed), and the minibatch rows come from one generator seeded with the first seed.
    Each is fitted on its host's neurons at the `fit` pairs, scored for faithfulness at
    the `test` pairs (`reading.splice`), and its live latents over all pairs are scored
    as units. Returns one row per (size, k, host, seed), and per seed the latents over
    all pairs of the read dictionary, its twin and the neuron-sized sparse dictionary.
    """
    import torch

    from figures_src._lab import reading
    from symbiote_core.hosts.modadd import all_pairs, labels
    from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE
    from symbiote_core.train import TrainConfig, train

    n, P = len(p.seeds), p.host.p
    answers = labels(all_pairs(P), P)
    plan = [(host, i) for host in HOSTS for i in range(n)]
    models = {"trained": run.trained, "untrained": run.untrained}
    every = torch.stack([acts[h][i] for h, i in plan], dim=1)  # (p*p, 2n, d_mlp)
    fitted = torch.stack([acts[h][i][fit[i]] for h, i in plan], dim=1)  # (n_fit, 2n, d_mlp)
    d = every.shape[-1]
    rows: list[dict[str, Any]] = []
    latents: list[dict[str, torch.Tensor]] = [{} for _ in range(n)]
    small_k = min(p.dictionary_ks)
    for k, steps in zip(p.dictionary_ks, p.dictionary_steps, strict=True):
        for size in p.dictionary_sizes:
            cls = dictionary_class(k, size)
            sae = cls(TopKConfig(d_in=d, d_sae=size, n_instances=len(plan), k=k, aux_coeff=0.0))
            with torch.no_grad():
                for j, (_, i) in enumerate(plan):
                    start = TopKSAE(TopKConfig(d_in=d, d_sae=size, k=k, seed=p.seeds[i]))
                    for name, tensor in start.named_parameters():
                        getattr(sae, name)[j].copy_(tensor)
            train(
                sae,
                fitted,
                TrainConfig(
                    steps=steps,
                    batch_size=p.dictionary_batch,
                    lr=p.dictionary_lr,
                    seed=p.seeds[0],
                    progress=False,
                ),
            )
            sae.eval()
            n_answer = [0] * n  # answer latents of each seed's trained-host dictionary
            with torch.no_grad():
                out = sae(every)  # recon (p*p, 2n, d), latents (p*p, 2n, size)
            for j, (host, i) in enumerate(plan):
                z = out.latents[:, j]
                live = (z > 0).any(0)
                hidden = acts[host][i]
                unembed = models[host].unembed
                score = reading.splice(
                    hidden[test[i]],
                    out.recon[test[i], j],
                    hidden[fit[i]].mean(0),
                    unembed.W_U[i].detach(),
                    unembed.b_U[i].detach(),
                    answers[test[i]],
                )
                units = reading.unit_scores(z[:, live], P, tokens=True)
                arcs = reading.arcs(z[:, live], P, keys[i])
                answer = units["answer_share"] > p.single_threshold
                if host == "trained":
                    n_answer[i] = int(answer.sum())
                    matched = 0.0
                else:  # the twin's as many most answer-like latents: do they tile the circle?
                    top = units["answer_share"].argsort(descending=True)[: n_answer[i]]
                    matched = mean_share(arcs["support"][top][arcs["is_arc"][top]].any(0))
                rows.append(
                    {
                        "size": size,
                        "k": k,
                        "host": host,
                        "seed": p.seeds[i],
                        **{name: round(v, 5) for name, v in score.items()},
                        "live": int(live.sum()),
                        "token_share": mean_share(units["token_selectivity"] > p.single_threshold),
                        "single_share": mean_share(units["purity"] > p.single_threshold),
                        "purity_median": round(units["purity"].median().item(), 5),
                        "answer_units": int(answer.sum()),
                        "arc_units": int((answer & arcs["is_arc"]).sum()),
                        # Answers on which some arc latent is above half its peak.
                        "arc_coverage": mean_share(arcs["support"][answer & arcs["is_arc"]].any(0)),
                        "matched_arc_coverage": matched,
                        "answer_max": round(units["answer_share"].max().item(), 5),
                    }
                )
                if (size, k) == (p.read_size, p.read_k):
                    latents[i][DICTIONARY if host == "trained" else UNTRAINED_DICTIONARY] = z[
                        :, live
                    ]
                    if host == "trained":
                        rows[-1] |= other_seed(
                            sae, plan, j, hidden, fit[i], test[i], unembed, i, answers
                        )
                if (size, k) == (min(p.dictionary_sizes), small_k) and host == "trained":
                    latents[i][SMALL_DICTIONARY] = z[:, live]
    return rows, latents


def other_seed(
    sae: Any,
    plan: list[tuple[str, int]],
    j: int,
    hidden: torch.Tensor,
    fit: torch.Tensor,
    test: torch.Tensor,
    unembed: Any,
    i: int,
    answers: torch.Tensor,
) -> dict[str, float]:
    """The null of faithfulness: the next seed's dictionary (cyclically, same size and k,
    grown on its own trained host) spliced into this host."""
    import torch

    from figures_src._lab import reading

    n = sum(host == "trained" for host, _ in plan)
    other = sae.instance(plan.index(("trained", (i + 1) % n)))
    with torch.no_grad():
        recon = other(hidden[test]).recon
    score = reading.splice(
        hidden[test],
        recon,
        hidden[fit].mean(0),
        unembed.W_U[i].detach(),
        unembed.b_U[i].detach(),
        answers[test],
    )
    return {"other_recovered": round(score["recovered"], 5)}


def mean_share(mask: torch.Tensor) -> float:
    return round(mask.double().mean().item(), 5)


def unit_rows(
    functions: torch.Tensor,
    reader: str,
    P: int,
    key: list[int],
    names: list[str],
    *,
    tokens: bool = False,
) -> list[dict[str, Any]]:
    """One row per unit: its purity, best frequency, answer share and (for non-negative
    units) how much of its activation falls on a single value of a or of b."""
    from figures_src._lab import reading

    scores = reading.unit_scores(functions, P, tokens=tokens)
    selectivity = scores.get("token_selectivity")
    rows = []
    for j in range(functions.shape[-1]):
        frequency = int(scores["frequency"][j])
        rows.append(
            {
                "reader": reader,
                "unit": names[j],
                "index": j,
                "purity": round(scores["purity"][j].item(), 4),
                "frequency": frequency,
                "key": frequency in key,
                "answer_share": round(scores["answer_share"][j].item(), 4),
                "token_selectivity": None
                if selectivity is None
                else round(selectivity[j].item(), 4),
            }
        )
    return rows


def exemplars(
    units: list[dict[str, Any]], functions: dict[str, torch.Tensor], threshold: float
) -> list[dict]:
    """For each reader, the unit of median purity, as a heat map; for the faithful
    dictionary also its answer latent of median answer share.

    The median unit, not the best one, so the picture shows a typical unit. Values are
    centred and scaled to [-100, 100] (integers keep the page small).
    """
    out = []
    for reader, f in functions.items():
        if reader not in READERS:  # scored as a null, not drawn
            continue
        rows = sorted((r for r in units if r["reader"] == reader), key=lambda r: r["purity"])
        median = rows[(len(rows) - 1) // 2]
        out.append(heat(median, f, median["reader"]))
        if reader == DICTIONARY:  # and one of its answer latents, the one of median share
            answer = sorted(
                (r for r in rows if r["answer_share"] > threshold), key=lambda r: r["answer_share"]
            )
            if answer:
                out.append(heat(answer[(len(answer) - 1) // 2], f, ANSWER_LATENT))
    return out


def heat(unit: dict[str, Any], f: torch.Tensor, shown_as: str) -> dict[str, Any]:
    """One unit's heat map: centred, scaled to [-100, 100], rounded (a small page)."""
    values = f[:, unit["index"]].double()
    values = values - values.mean()
    values = values / values.abs().max().clamp_min(1e-12)
    return {
        **{name: unit[name] for name in ("unit", "purity", "frequency", "answer_share")},
        "reader": shown_as,
        "values": [round(v) for v in (100 * values).tolist()],
    }
