"""Three symbiotes read the same hidden layer of the grokked host and see different things.

All readers look at the host's MLP neurons (site `mlp.hidden`) over every pair
(a, b). Each offers *units*: directions or latents whose activation is a function
of (a, b), scored by frequency purity (`symbiote_core.fourier.frequency_purity`:
the share of a unit's variance in its single best frequency).

- Linear probes, trained to output cos and sin of 2 pi k (a + b) / p for every
  frequency k, scored by held-out R^2. Probes at non-key frequencies and the same
  probes on the untrained host's neurons are the controls.
- The neurons themselves.
- TopK dictionaries (unsupervised) with several sparsities k, trained on the same
  activations; their latents are the units.
- Controls for purity: random unit directions in the neuron space, and the neurons
  of the same host before training.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import altair as alt

from figures_src._modadd import HostParams
from symbiote_core.figures.spec import Claim, Figure

if TYPE_CHECKING:
    import torch

PROBE_KEY = "probes, key k"
PROBE_OTHER = "probes, other k"
NEURONS = "neurons"
DICTIONARY = "dictionary latents"
RANDOM = "random directions"
UNTRAINED = "untrained neurons"
READERS = (PROBE_KEY, PROBE_OTHER, NEURONS, DICTIONARY, RANDOM, UNTRAINED)
COLORS = alt.Scale(
    domain=list(READERS),
    range=["#3949ab", "#9fa8da", "#ef6c00", "#00897b", "#9e9e9e", "#bdbdbd"],
)


R2_KINDS = ("key frequency", "double of a key frequency", "other frequency", "untrained host")


@dataclass(frozen=True)
class Params:
    seed: int = 0
    host: HostParams = field(default_factory=HostParams)
    site: str = "mlp.hidden"
    probe_steps: int = 1000
    probe_batch: int = 256
    probe_lr: float = 1e-2
    probe_test_fraction: float = 0.25
    """Pairs held out to score the probes (the same pairs for every probe and control)."""
    dictionary_size: int = 128
    """Latents per dictionary: as many as the host has neurons."""
    dictionary_ks: tuple[int, ...] = (2, 4, 8, 16, 32)
    """TopK sparsities, one dictionary each, trained together as instances."""
    dictionary_steps: int = 1000
    dictionary_batch: int = 256
    dictionary_lr: float = 3e-3
    headline_k: int = 4
    """The dictionary the figure opens on and the prose quotes first."""
    n_random: int = 128
    single_threshold: float = 0.5
    """A unit counts as single-frequency when its best frequency holds more than this
    share of its variance."""


def compute(p: Params) -> dict[str, Any]:
    import torch

    from figures_src._modadd import key_frequencies, train_host
    from symbiote_core.fourier import frequency_spectrum
    from symbiote_core.hosts.modadd import all_pairs
    from symbiote_core.metrics import random_directions
    from symbiote_core.sites import collect

    host, untrained, _ = train_host(p.host, p.seed)
    P = p.host.p
    pairs = all_pairs(P)  # (p*p, 2), row a*p + b
    acts = collect(host, p.site, pairs)[p.site]  # (p*p, d_mlp)
    untrained_acts = collect(untrained, p.site, pairs)[p.site]
    key = key_frequencies(frequency_spectrum(host.W_E.detach(), P), P)

    r2, probe_units = _probes(acts, untrained_acts, pairs, key, p)
    random = random_directions(p.n_random, acts.shape[1], torch.Generator().manual_seed(p.seed + 2))
    dictionaries, latents = _dictionaries(acts, p)
    alive = acts.var(0) > 1e-8  # a dead neuron has no frequency at all

    # Every reader's units as functions of the pair, (p*p, units); dictionaries per k.
    functions: dict[Any, torch.Tensor] = {
        PROBE_KEY: probe_units["key"],
        PROBE_OTHER: probe_units["other"],
        NEURONS: acts[:, alive],
        RANDOM: acts @ random.T,  # a direction's read-out is a projection of the neurons
        UNTRAINED: untrained_acts,
        **{(DICTIONARY, k): z for k, z in latents.items()},
    }
    probe_names = {PROBE_KEY: probe_units["key_names"], PROBE_OTHER: probe_units["other_names"]}
    units = []
    for group, f in functions.items():
        reader, k = group if isinstance(group, tuple) else (group, None)
        names = probe_names.get(reader) or _unit_names(reader, k, f.shape[1])
        # Token selectivity only means something for non-negative units.
        tokens = reader in (NEURONS, DICTIONARY)
        units += _units(f, reader, P, key, names, tokens=tokens, k=k)
    return {
        "p": P,
        "key": key,
        "d_mlp": int(acts.shape[1]),
        "dead_neurons": int((~alive).sum()),
        "r2": r2,
        "units": units,
        "dictionaries": dictionaries,
        "exemplars": _exemplars(units, functions),
        "ks": list(p.dictionary_ks),
        "headline_k": p.headline_k,
        "single_threshold": p.single_threshold,
        "dictionary_size": p.dictionary_size,
        "probe_test_fraction": p.probe_test_fraction,
    }


def _unit_names(reader: str, k: int | None, n: int) -> list[str]:
    """Names shown in tooltips and above the heat map, e.g. "neuron 12"."""
    if reader == DICTIONARY:
        return [f"latent {j} ({k} active)" for j in range(n)]
    noun = {NEURONS: "neuron", RANDOM: "direction", UNTRAINED: "untrained neuron"}[reader]
    return [f"{noun} {j}" for j in range(n)]


def _probes(
    acts: torch.Tensor, untrained_acts: torch.Tensor, pairs: torch.Tensor, key: list[int], p: Params
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Probe every frequency on both hosts: held-out R^2 per frequency, and each probe's
    read-out over all pairs (its unit function), split into key and other frequencies.

    One regression probe with 2K outputs (cos and sin of every frequency) is exactly
    2K independent probes: the squared error is a sum over outputs and Adam updates
    each weight on its own gradient, so no output can help another.
    """
    import torch

    from symbiote_core.fourier import n_frequencies
    from symbiote_core.symbiotes.probe import LinearProbe, ProbeConfig
    from symbiote_core.train import TrainConfig, train

    P, K = p.host.p, n_frequencies(p.host.p)
    c = (pairs.sum(-1) % P).double()  # (p*p,) the answer (a + b) mod p
    angle = 2 * math.pi * c[:, None] * torch.arange(1, K + 1).double() / P  # (p*p, K)
    targets = torch.stack([angle.cos(), angle.sin()], dim=-1).flatten(1).float()  # (p*p, 2K)
    order = torch.randperm(len(c), generator=torch.Generator().manual_seed(p.seed))
    n_test = round(p.probe_test_fraction * len(c))
    test, fit = order[:n_test], order[n_test:]
    cfg = ProbeConfig(d_in=acts.shape[1], n_outputs=2 * K, task="regression")
    train_cfg = TrainConfig(
        steps=p.probe_steps, batch_size=p.probe_batch, lr=p.probe_lr, seed=p.seed, progress=False
    )

    def fit_and_score(x: torch.Tensor) -> tuple[LinearProbe, torch.Tensor]:
        probe = LinearProbe(cfg)
        train(probe, (x[fit], targets[fit]), train_cfg)
        probe.eval()
        with torch.no_grad():
            y, pred = targets[test], probe(x[test])
        r2 = 1 - (y - pred).pow(2).sum(0) / (y - y.mean(0)).pow(2).sum(0)  # (2K,)
        return probe, r2.view(K, 2).mean(-1)  # cos and sin averaged per frequency

    probe, r2 = fit_and_score(acts)
    _, control_r2 = fit_and_score(untrained_acts)
    with torch.no_grad():  # each output's direction in neuron space, as a function of (a, b)
        readout = ((acts - probe.mean) / probe.std) @ probe.W  # (p*p, 2K), columns cos1, sin1, ...
    outputs = [(k, trig) for k in range(1, K + 1) for trig in ("cos", "sin")]
    is_key = torch.tensor([k in key for k, _ in outputs])
    names = [f"{trig} {k}(a+b)" for k, trig in outputs]
    doubles = {_fold(2 * k, P) for k in key}  # a ReLU turns frequency k into 2k (and more)
    rows = [
        {
            "k": k,
            "r2": r2[k - 1].item(),
            "control_r2": control_r2[k - 1].item(),
            "key": k in key,
            "double": k in doubles and k not in key,
        }
        for k in range(1, K + 1)
    ]
    return rows, {
        "key": readout[:, is_key],
        "other": readout[:, ~is_key],
        "key_names": [n for n, keep in zip(names, is_key.tolist(), strict=True) if keep],
        "other_names": [n for n, keep in zip(names, is_key.tolist(), strict=True) if not keep],
    }


def _fold(k: int, P: int) -> int:
    """Frequency k and p - k are the same frequency over Z_p; return the one <= (p-1)/2."""
    k %= P
    return min(k, P - k)


def _dictionaries(
    acts: torch.Tensor, p: Params
) -> tuple[list[dict[str, Any]], dict[int, torch.Tensor]]:
    """TopK dictionaries, one per k, trained together on the neurons of every pair.

    Returns a summary row per dictionary (fraction of variance unexplained, live
    latents) and each dictionary's live latents over all pairs, `(p*p, live)`.
    """
    import torch

    from symbiote_core.metrics import fvu
    from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE
    from symbiote_core.train import TrainConfig, train

    ks = p.dictionary_ks
    sae = TopKSAE(
        TopKConfig(
            d_in=acts.shape[1], d_sae=p.dictionary_size, n_instances=len(ks), k=ks, seed=p.seed
        )
    )
    batch = acts.unsqueeze(1).expand(-1, len(ks), -1)  # (p*p, n, d_mlp): same input for each
    train(
        sae,
        batch,
        TrainConfig(
            steps=p.dictionary_steps,
            batch_size=p.dictionary_batch,
            lr=p.dictionary_lr,
            seed=p.seed,
            progress=False,
        ),
    )
    sae.eval()
    with torch.no_grad():
        out = sae(batch)  # recon (p*p, n, d_mlp), latents (p*p, n, d_sae)
    summary, latents = [], {}
    for i, k in enumerate(ks):
        z = out.latents[:, i]
        live = (z > 0).any(0)
        latents[k] = z[:, live]
        summary.append({"k": k, "fvu": fvu(acts, out.recon[:, i]).item(), "live": int(live.sum())})
    return summary, latents


def _units(
    functions: torch.Tensor,
    reader: str,
    P: int,
    key: list[int],
    names: list[str],
    *,
    tokens: bool = False,
    k: int | None = None,
) -> list[dict[str, Any]]:
    """One row per unit: its purity, best frequency, and (for non-negative units) how
    much of its activation falls on a single value of a or of b."""
    from symbiote_core.fourier import frequency_purity

    grid = functions.double().reshape(P, P, -1)  # (a, b, unit)
    purity = frequency_purity(grid, P)
    answer = _answer_share(grid)
    selectivity = _token_selectivity(grid) if tokens else None
    rows = []
    for j in range(grid.shape[-1]):
        frequency = int(purity.frequency[j])
        rows.append(
            {
                "reader": reader,
                "k": k,
                "unit": names[j],
                "index": j,
                "purity": round(purity.purity[j].item(), 4),
                "frequency": frequency,
                "key": frequency in key,
                "answer_share": round(answer[j].item(), 4),
                "token_selectivity": None
                if selectivity is None
                else round(selectivity[j].item(), 4),
            }
        )
    return rows


def _answer_share(grid: torch.Tensor) -> torch.Tensor:
    """Share of each unit's variance explained by the answer c = (a + b) mod p alone,
    `(units,)`: 1 for any function of a + b, near 0 for a function of a alone."""
    import torch

    P = grid.shape[0]
    centred = grid - grid.mean(dim=(0, 1))  # (a, b, unit)
    a, b = torch.meshgrid(torch.arange(P), torch.arange(P), indexing="ij")
    by_answer = torch.zeros(P, grid.shape[-1], dtype=grid.dtype)
    by_answer.index_add_(0, ((a + b) % P).flatten(), centred.reshape(P * P, -1))
    by_answer /= P  # (c, unit): the unit's mean over the p pairs with answer c
    variance = centred.pow(2).mean(dim=(0, 1)).clamp_min(1e-12)
    return by_answer.pow(2).mean(0) / variance


def _token_selectivity(grid: torch.Tensor) -> torch.Tensor:
    """Share of a non-negative unit's total activation on its best single value of a or
    of b, `(units,)`: 1 for a detector of one input token, about 1/p for a unit spread
    evenly over the inputs."""
    mass = grid.sum(dim=(0, 1)).clamp_min(1e-12)
    by_a = grid.sum(dim=1).max(dim=0).values  # best row a = x
    by_b = grid.sum(dim=0).max(dim=0).values  # best column b = y
    return by_a.maximum(by_b) / mass


def _exemplars(units: list[dict[str, Any]], functions: dict[Any, torch.Tensor]) -> list[dict]:
    """For each reader (and each dictionary), the unit of median purity, as a heat map.

    The median unit, not the best one, so the picture shows a typical unit. Values are
    centred and scaled to [-100, 100] (integers keep the page small).
    """
    out = []
    for group, f in functions.items():
        reader, k = group if isinstance(group, tuple) else (group, None)
        rows = sorted(
            (r for r in units if r["reader"] == reader and r["k"] == k),
            key=lambda r: r["purity"],
        )
        median = rows[(len(rows) - 1) // 2]
        values = f[:, median["index"]].double()
        values = values - values.mean()
        values = values / values.abs().max().clamp_min(1e-12)
        out.append(
            {
                **{name: median[name] for name in ("reader", "k", "unit", "purity", "frequency")},
                "values": [round(v) for v in (100 * values).tolist()],
            }
        )
    return out


def render(data: dict[str, Any]) -> alt.HConcatChart:
    dict_k = alt.param(
        name="dictionary_k",
        value=data["headline_k"],
        bind=alt.binding_radio(options=data["ks"], name="dictionary: active latents per input "),
    )
    shown = alt.param(
        name="shown",
        value=DICTIONARY,
        bind=alt.binding_select(options=list(READERS), name="heat map of "),
    )
    left = alt.vconcat(_r2_chart(data), _strip_chart(data, dict_k)).resolve_scale(
        color="independent"
    )
    return (
        alt.hconcat(left, _heatmap(data, dict_k, shown).add_params(shown))
        .resolve_scale(color="independent")
        .configure_legend(orient="bottom")
        .properties(
            description="Top left: held-out R squared of linear probes for each frequency, "
            "trained host and untrained host. Bottom left: frequency purity of every unit "
            "of each reader. Right: one typical unit's activation over all input pairs."
        )
    )


def _r2_chart(data: dict[str, Any]) -> alt.LayerChart:
    K = len(data["r2"])
    rows = [{**r, "kind": _kind(r)} for r in data["r2"]]
    base = alt.Chart(alt.Data(values=rows)).encode(
        x=alt.X(
            "k:O",
            axis=alt.Axis(values=[1, 5, 10, 15, 20, 25, K], labelAngle=0),
            title="frequency k of the probe's target",
        )
    )
    tooltip = [
        alt.Tooltip("k:O", title="frequency"),
        alt.Tooltip("r2:Q", format=".2f", title="R² (trained host)"),
        alt.Tooltip("control_r2:Q", format=".2f", title="R² (untrained host)"),
    ]
    bars = base.mark_bar().encode(
        y=alt.Y("r2:Q", scale=alt.Scale(domain=[-0.2, 1]), title="held-out R²"),
        color=alt.Color(
            "kind:N",
            scale=alt.Scale(
                domain=list(R2_KINDS), range=["#3949ab", "#7986cb", "#c5cae9", "#757575"]
            ),
            title=None,
            legend=alt.Legend(columns=2),
        ),
        tooltip=tooltip,
    )
    ticks = base.mark_tick(thickness=2, size=9, color="#757575").encode(
        y="control_r2:Q", tooltip=tooltip
    )
    return alt.layer(bars, ticks).properties(
        width=270, height=140, title="Can a probe read cos, sin of k(a+b)?"
    )


UNIT_FIELDS = ("index", "unit", "purity", "frequency", "key", "token_selectivity", "answer_share")


def _unit_columns(units: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The units grouped by reader (and dictionary), each field an array: field names
    once per group instead of once per unit keeps the page small. The chart flattens
    them back into one row per unit."""
    groups: dict[tuple[str, int | None], dict[str, Any]] = {}
    for u in units:
        group = groups.setdefault(
            (u["reader"], u["k"]),
            {"reader": u["reader"], "k": u["k"], **{f: [] for f in UNIT_FIELDS}},
        )
        for f in UNIT_FIELDS:
            group[f].append(u[f])
    return list(groups.values())


def _kind(row: dict[str, Any]) -> str:
    if row["key"]:
        return R2_KINDS[0]
    return R2_KINDS[1] if row["double"] else R2_KINDS[2]


def _strip_chart(data: dict[str, Any], dict_k: alt.Parameter) -> alt.LayerChart:
    # No data here: the layer below holds the units once for both dots and medians.
    units = (
        alt.Chart()
        .transform_filter((alt.datum.reader != DICTIONARY) | (alt.datum.k == dict_k))
        .transform_flatten(list(UNIT_FIELDS))
    )
    y = alt.Y(
        "reader:N",
        sort=list(READERS),
        title=None,
        axis=alt.Axis(labelLimit=130),
    )
    # Deterministic jitter (a golden-ratio sequence over the unit index) spreads the dots.
    dots = (
        units.transform_calculate(jitter="(datum.index * 0.618034) % 1")
        .mark_circle(size=18, opacity=0.7)
        .encode(
            x=alt.X(
                "purity:Q",
                scale=alt.Scale(domain=[0, 1]),
                title=["frequency purity", "(variance share of best frequency)"],
            ),
            y=y,
            yOffset=alt.YOffset("jitter:Q", scale=alt.Scale(domain=[-0.4, 1.4])),
            color=alt.Color("reader:N", scale=COLORS, legend=None),
            tooltip=[
                alt.Tooltip("reader:N"),
                alt.Tooltip("unit:N"),
                alt.Tooltip("purity:Q", format=".2f"),
                alt.Tooltip("frequency:Q", title="best frequency"),
                alt.Tooltip("key:N", title="a key frequency?"),
                alt.Tooltip("token_selectivity:Q", format=".2f", title="share on one token"),
                alt.Tooltip("answer_share:Q", format=".2f", title="variance from a+b alone"),
            ],
        )
    )
    medians = (
        units.transform_aggregate(median="median(purity)", groupby=["reader"])
        .mark_tick(color="#757575", thickness=3, size=24)  # visible on both schemes
        .encode(
            x="median:Q",
            y=y,
            tooltip=[alt.Tooltip("reader:N"), alt.Tooltip("median:Q", format=".2f")],
        )
    )
    threshold = (
        alt.Chart(alt.Data(values=[{"threshold": data["single_threshold"]}]))
        .mark_rule(strokeDash=[4, 3], color="#888")
        .encode(
            x="threshold:Q",
            tooltip=[alt.Tooltip("threshold:Q", title="single-frequency threshold")],
        )
    )
    return (
        alt.layer(threshold, dots, medians, data=alt.Data(values=_unit_columns(data["units"])))
        .add_params(dict_k)
        .properties(width=180, height=220, title="How single-frequency is each unit?")
    )


def _heatmap(data: dict[str, Any], dict_k: alt.Parameter, shown: alt.Parameter) -> alt.LayerChart:
    P = data["p"]
    ticks = list(range(0, P, 10))
    chosen = (
        alt.Chart(alt.Data(values=data["exemplars"]))
        .transform_filter(alt.datum.reader == shown)
        .transform_filter((alt.datum.reader != DICTIONARY) | (alt.datum.k == dict_k))
    )
    cells = (
        chosen.transform_flatten(["values"], as_=["value"])
        .transform_window(index="row_number()")
        .transform_calculate(
            a=f"floor((datum.index - 1) / {P})",
            b=f"(datum.index - 1) % {P}",
        )
        .mark_rect()
        .encode(
            x=alt.X("b:O", axis=alt.Axis(values=ticks, labelAngle=0), title="b"),
            y=alt.Y("a:O", axis=alt.Axis(values=ticks), title="a"),
            color=alt.Color(
                "value:Q",
                scale=alt.Scale(scheme="blueorange", domain=[-100, 100]),
                title="activation (centred, % of max)",
                legend=alt.Legend(gradientLength=180, direction="horizontal"),
            ),
            tooltip=["a:O", "b:O", alt.Tooltip("value:Q", title="activation (%)")],
        )
    )
    label = (
        chosen.transform_calculate(
            caption="datum.unit + ': purity ' + format(datum.purity, '.2f') + ', frequency '"
            " + datum.frequency"
        )
        # Mid grey: the theme does not recolour text marks, and this reads on both schemes.
        .mark_text(align="left", baseline="bottom", x=0, y=-6, fontSize=11, color="#808080")
        .encode(text="caption:N")
    )
    return alt.layer(cells, label).properties(
        width=236, height=236, title=alt.TitleParams("One typical unit over every input", offset=22)
    )


def _summary(d: dict[str, Any], reader: str, k: int | None = None) -> list[dict[str, Any]]:
    return [u for u in d["units"] if u["reader"] == reader and u["k"] == k]


def _median(d: dict[str, Any], reader: str, field: str = "purity", k: int | None = None) -> float:
    return statistics.median(u[field] for u in _summary(d, reader, k))


def _share(d: dict[str, Any], reader: str, k: int | None = None, field: str = "purity") -> float:
    """Share of a reader's units above the single-frequency threshold (on `field`)."""
    units = _summary(d, reader, k)
    return sum(u[field] > d["single_threshold"] for u in units) / len(units)


def _r2(d: dict[str, Any], kinds: tuple[str, ...], field: str = "r2") -> list[float]:
    return [r[field] for r in d["r2"] if _kind(r) in kinds]


KEY, DOUBLE, OTHER = (R2_KINDS[0],), (R2_KINDS[1],), (R2_KINDS[2],)
NOT_KEY = DOUBLE + OTHER


def _dictionary(d: dict[str, Any], k: int) -> dict[str, Any]:
    (row,) = [r for r in d["dictionaries"] if r["k"] == k]
    return row


PARAMS = Params()

FIGURE = Figure(
    title="Probes, neurons and a dictionary read the same layer and report different units",
    caption=(
        f"All readers look at the host's {PARAMS.site} activations over every pair (a, b). "
        "The bar chart gives the held-out R² of a linear probe trained to output cos and "
        "sin of 2πk(a+b)/p, for every frequency k (dark bars at the embedding's key "
        "frequencies), and of the same probe on the untrained host (grey ticks). The "
        "strip chart gives the frequency purity of every unit each reader offers (a "
        "probe's read-out, a neuron, a dictionary latent, a random direction in neuron "
        "space, a neuron of the untrained host); grey ticks are medians, the dashed line "
        f"is the single-frequency threshold of {PARAMS.single_threshold}. The buttons set "
        f"how many of its {PARAMS.dictionary_size} latents the TopK dictionary keeps "
        "active per input. The heat map shows the unit of median purity of the reader "
        "picked in the menu, over a (rows) and b (columns)."
    ),
    alt=(
        "Bar chart: probe R² is above 0.9 at the key frequencies and near zero at most "
        "others, and near zero everywhere on the untrained host. Strip chart: the probes' "
        "and the neurons' units sit near purity 1, random directions near a quarter, the "
        "sparse dictionaries' latents near zero. Heat map: a typical neuron is a lattice of "
        "blobs, a typical sparse dictionary latent is a single row or column (one value "
        "of a or b), a probe's read-out is a set of diagonal stripes."
    ),
    params=PARAMS,
    compute=compute,
    render=render,
    values={
        "n_key": lambda d: len(d["key"]),
        "d_mlp": lambda d: d["d_mlp"],
        "dead_neurons": lambda d: d["dead_neurons"],
        "dictionary_size": lambda d: d["dictionary_size"],
        "headline_k": lambda d: d["headline_k"],
        "n_dictionaries": lambda d: len(d["ks"]),
        "probe_fit_fraction": lambda d: 1 - d["probe_test_fraction"],
        "smallest_k": lambda d: min(d["ks"]),
        "largest_k": lambda d: max(d["ks"]),
        "single_threshold": lambda d: d["single_threshold"],
        "flat_purity": lambda d: 1 / len(d["r2"]),
        "probe_key_r2_min": lambda d: min(_r2(d, KEY)),
        "probe_key_r2_mean": lambda d: statistics.mean(_r2(d, KEY)),
        "probe_other_r2_median": lambda d: statistics.median(_r2(d, NOT_KEY)),
        "probe_other_r2_max": lambda d: max(_r2(d, NOT_KEY)),
        "n_doubles": lambda d: len(_r2(d, DOUBLE)),
        "probe_double_r2_max": lambda d: max(_r2(d, DOUBLE)),
        "probe_double_r2_median": lambda d: statistics.median(_r2(d, DOUBLE)),
        "probe_nondouble_r2_max": lambda d: max(_r2(d, OTHER)),
        "probe_nondouble_r2_median": lambda d: statistics.median(_r2(d, OTHER)),
        "control_key_r2_max": lambda d: max(_r2(d, KEY, "control_r2")),
        "control_r2_max": lambda d: max(_r2(d, R2_KINDS, "control_r2")),
        "probe_key_purity_median": lambda d: _median(d, PROBE_KEY),
        "neuron_purity_median": lambda d: _median(d, NEURONS),
        "neuron_single_share": lambda d: _share(d, NEURONS),
        "neuron_in_key_share": lambda d: statistics.mean(u["key"] for u in _summary(d, NEURONS)),
        "neuron_token_selectivity_median": lambda d: _median(d, NEURONS, "token_selectivity"),
        "random_purity_median": lambda d: _median(d, RANDOM),
        "random_purity_max": lambda d: max(u["purity"] for u in _summary(d, RANDOM)),
        "random_single_share": lambda d: _share(d, RANDOM),
        "untrained_purity_median": lambda d: _median(d, UNTRAINED),
        "dictionary_purity_median": lambda d: _median(d, DICTIONARY, k=d["headline_k"]),
        "dictionary_single_share": lambda d: _share(d, DICTIONARY, d["headline_k"]),
        "dictionary_token_share": lambda d: _share(
            d, DICTIONARY, d["headline_k"], "token_selectivity"
        ),
        "dictionary_answer_median": lambda d: _median(
            d, DICTIONARY, "answer_share", d["headline_k"]
        ),
        "densest_answer_median": lambda d: _median(d, DICTIONARY, "answer_share", max(d["ks"])),
        "dictionary_answer_max": lambda d: max(
            u["answer_share"] for u in d["units"] if u["reader"] == DICTIONARY
        ),
        "probe_key_answer_median": lambda d: _median(d, PROBE_KEY, "answer_share"),
        "neuron_answer_median": lambda d: _median(d, NEURONS, "answer_share"),
        "dictionary_fvu": lambda d: _dictionary(d, d["headline_k"])["fvu"],
        "sparsest_token_share": lambda d: _share(d, DICTIONARY, min(d["ks"]), "token_selectivity"),
        "sparsest_fvu": lambda d: _dictionary(d, min(d["ks"]))["fvu"],
        "sparsest_single_share": lambda d: _share(d, DICTIONARY, min(d["ks"])),
        "densest_fvu": lambda d: _dictionary(d, max(d["ks"]))["fvu"],
        "densest_single_share": lambda d: _share(d, DICTIONARY, max(d["ks"])),
        "densest_purity_median": lambda d: _median(d, DICTIONARY, k=max(d["ks"])),
        "densest_token_share": lambda d: _share(d, DICTIONARY, max(d["ks"]), "token_selectivity"),
        "dictionary_purity_median_max": lambda d: max(_median(d, DICTIONARY, k=k) for k in d["ks"]),
    },
    claims=(
        Claim(
            name="probes_read_key_frequencies",
            statement="Probes aimed at the key frequencies read them almost perfectly from "
            "held-out pairs.",
            left="probe_key_r2_min",
            op=">",
            right=0.85,
        ),
        Claim(
            name="probes_fail_on_untrained_host",
            statement="The same probes on the untrained host read nothing.",
            left="probe_key_r2_mean",
            op=">",
            right="control_key_r2_max",
            margin=0.8,
        ),
        Claim(
            name="other_frequencies_mostly_absent",
            statement="At the typical frequency outside the key set, a probe reads nothing.",
            left="probe_other_r2_median",
            op="<",
            right=0.1,
        ),
        Claim(
            name="doubles_partly_readable",
            statement="What probes do read outside the key set sits mostly at doubles of "
            "key frequencies.",
            left="probe_double_r2_median",
            op=">",
            right="probe_nondouble_r2_median",
            margin=0.2,
        ),
        Claim(
            name="neurons_single_frequency",
            statement="The typical neuron is far purer in frequency than a random "
            "direction in the same space.",
            left="neuron_purity_median",
            op=">",
            right="random_purity_median",
            margin=0.5,
        ),
        Claim(
            name="most_neurons_single_frequency",
            statement="Most neurons put more than half their variance in one frequency.",
            left="neuron_single_share",
            op=">",
            right=0.75,
        ),
        Claim(
            name="dictionary_not_single_frequency",
            statement="At every sparsity tried, the typical dictionary latent is far "
            "less pure in frequency than the typical neuron.",
            left="neuron_purity_median",
            op=">",
            right="dictionary_purity_median_max",
            margin=0.5,
        ),
        Claim(
            name="sparse_dictionary_finds_tokens",
            statement="The sparse dictionary's latents are, for the most part, detectors "
            "of a single input token.",
            left="dictionary_token_share",
            op=">",
            right=0.75,
        ),
        Claim(
            name="denser_dictionary_finds_some_frequencies",
            statement="A denser dictionary turns some of its latents into single-frequency "
            "units, which the sparsest one has almost none of.",
            left="densest_single_share",
            op=">",
            right="sparsest_single_share",
            margin=0.15,
        ),
    ),
)
