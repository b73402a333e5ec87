"""Render side of `modadd_readers`: its charts and the helpers its values use.

Not a figure (leading underscore). The figure imports this module at the top for its
values, so its module-level constants are part of the figure's data key; the charts
import the palette inside each function, so colours only re-render.
"""

from __future__ import annotations

import statistics
from typing import Any

import altair as alt

from figures_src._lab.modadd_reading import (
    ANSWER_LATENT,
    DICTIONARY,
    NEURONS,
    PROBE_KEY,
    PROBE_OTHER,
    R2_KINDS,
    RANDOM,
    READERS,
    SMALL_DICTIONARY,
    UNTRAINED,
    UNTRAINED_DICTIONARY,
    r2_kind,
)

READER_ROLES = {
    PROBE_KEY: "probe",
    PROBE_OTHER: "muted",
    NEURONS: "neuron",
    DICTIONARY: "symbiote",
    SMALL_DICTIONARY: "muted",
    RANDOM: "control",
    UNTRAINED: "control",
    UNTRAINED_DICTIONARY: "control",
}
"""Palette roles of the strip chart's rows. Every row is also named on the axis, so the
three controls share the control grey, and the probes of non-key frequencies and the
unfaithful neuron-sized dictionary take a neutral."""


R2_ROWS = (*R2_KINDS[:3], "untrained host, key k", "untrained host, other k")


def _r2_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (seed, frequency, host): its probe's held-out R^2 and its kind."""
    rows = []
    for e in data["seeds"]:
        for r in e["r2"]:
            rows.append({"seed": e["seed"], "k": r["k"], "r2": r["r2"], "kind": r2_kind(r)})
            kind = R2_ROWS[3] if r["key"] else R2_ROWS[4]
            rows.append({"seed": e["seed"], "k": r["k"], "r2": r["control_r2"], "kind": kind})
    return rows


def r2_chart(data: dict[str, Any]) -> alt.LayerChart:
    # Imported here, not at the top: a top-level import is part of the data key, and
    # colours must only re-render.
    from symbiote_core.figures.authoring import palette

    y = alt.Y("kind:N", sort=list(R2_ROWS), title=None, axis=alt.Axis(labelLimit=170))
    base = alt.Chart(alt.Data(values=_r2_rows(data)))
    dots = (
        base.transform_calculate(jitter="(datum.k * 0.618034) % 1")
        .mark_circle(size=22, opacity=0.75)
        .encode(
            x=alt.X("r2:Q", scale=alt.Scale(domain=[-0.2, 1], clamp=True), title="held-out R²"),
            y=y,
            yOffset=alt.YOffset("jitter:Q", scale=alt.Scale(domain=[-0.4, 1.4])),
            color=alt.Color(
                "kind:N",
                # Rows are named on the axis: the trained host's probes in the probe
                # colour (key frequencies) and neutrals, the untrained host's in grey.
                scale=alt.Scale(
                    **palette.scale(
                        dict(
                            zip(
                                R2_ROWS,
                                ("probe", "muted", "muted", "control", "control"),
                                strict=True,
                            )
                        )
                    )
                ),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("seed:N"),
                alt.Tooltip("k:O", title="frequency"),
                alt.Tooltip("kind:N"),
                alt.Tooltip("r2:Q", format=".2f", title="R²"),
            ],
        )
    )
    return alt.layer(dots).properties(
        width=220, height=150, title="Can a probe read cos, sin of k(a+b)? (every seed)"
    )


SWEEP_MEASURES = (
    ("faithfulness: loss recovered (twin: output KL)", "faithfulness"),
    ("unexplained variance, neurons (FVU)", "fvu"),
    ("unexplained variance, logits", "logit_fvu"),
    ("share of latents that detect one token", "token_share"),
    ("answer latents (count)", "answer_units"),
)
"""The sweep chart's menu: (label, row field). Faithfulness is loss recovered
on the trained host and the same share of the output's KL divergence on the untrained
one, where the task loss has no gap to recover."""


def _sweep_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for r in data["sweep"]:
        faithful = r["recovered"] if r["host"] == "trained" else r["kl_recovered"]
        for label, name in SWEEP_MEASURES:
            value = faithful if name == "faithfulness" else r[name]
            rows.append(
                {
                    "size": r["size"],
                    "k": f"k = {r['k']}",
                    "host": "trained host" if r["host"] == "trained" else "untrained twin",
                    "seed": r["seed"],
                    "measure": label,
                    "value": round(value, 4),
                }
            )
    return rows


def sweep_chart(data: dict[str, Any], measure: alt.Parameter) -> alt.LayerChart:
    from symbiote_core.figures.authoring import palette  # here, not at the top: see r2_chart

    ks = [f"k = {k}" for k in data["ks"]]
    base = alt.Chart(alt.Data(values=_sweep_rows(data))).transform_filter(
        alt.datum.measure == measure
    )
    x = alt.X(
        "size:Q",
        scale=alt.Scale(
            type="log", base=2, domain=[min(data["sizes"]) / 1.3, max(data["sizes"]) * 1.3]
        ),
        axis=alt.Axis(values=data["sizes"], format="d"),
        title="latents",
    )
    y = alt.Y("value:Q", title=None, scale=alt.Scale(zero=False))
    color = alt.Color(
        "k:N",
        sort=ks,
        scale=alt.Scale(range=[palette.color("symbiote"), palette.color("neuron")]),
        legend=alt.Legend(title=None, orient="bottom"),
    )
    dash = alt.StrokeDash(
        "host:N",
        sort=["trained host", "untrained twin"],
        scale=alt.Scale(range=[[1, 0], [4, 3]]),
        legend=alt.Legend(title=None, orient="bottom"),
    )
    lines = base.mark_line().encode(x=x, y="mean(value):Q", color=color, strokeDash=dash)
    dots = base.mark_circle(size=18, opacity=0.6).encode(
        x=x,
        y=y,
        color=color,
        tooltip=[
            alt.Tooltip("size:Q", title="latents"),
            "k:N",
            "host:N",
            "seed:N",
            alt.Tooltip("value:Q", format=".3f"),
        ],
    )
    criterion = (
        alt.Chart(alt.Data(values=[{"value": data["faithful_recovered"]}]))
        .transform_filter(measure == SWEEP_MEASURES[0][0])
        .mark_rule(strokeDash=[2, 2], color=palette.color("axis"))
        .encode(y="value:Q", tooltip=[alt.Tooltip("value:Q", title="faithfulness criterion")])
    )
    return alt.layer(criterion, lines, dots).properties(
        width=236,
        height=190,
        title=alt.Title(
            "The dictionary sweep (every seed)",
            subtitle=f"read: {data['read_size']} latents, k = {data['read_k']}",
        ),
    )


UNIT_FIELDS = ("index", "purity", "frequency", "key", "token_selectivity", "answer_share")
PROBE_READERS = (PROBE_KEY, PROBE_OTHER)


def _unit_columns(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The units grouped by seed and reader, each field an array: field
    names once per group instead of once per unit keeps the page small. The chart
    flattens them back into one row per unit. Only probes carry unit names (e.g.
    "cos 3(a+b)"); the chart names the others by reader and index."""
    groups: dict[tuple[int, str], dict[str, Any]] = {}
    for e in data["seeds"]:
        for u in e["units"]:
            if u["reader"] not in READERS:
                continue
            fields = UNIT_FIELDS + (("unit",) if u["reader"] in PROBE_READERS else ())
            # Every group has a `unit` array (empty when unnamed): Vega's flatten reads
            # the length of each flattened field.
            group = groups.setdefault(
                (e["seed"], u["reader"]),
                {
                    "seed": e["seed"],
                    "reader": u["reader"],
                    "unit": [],
                    **{f: [] for f in fields},
                },
            )
            for f in fields:
                value = u[f]
                group[f].append(round(value, 3) if isinstance(value, float) else value)
    return list(groups.values())


def strip_chart(data: dict[str, Any]) -> alt.LayerChart:
    from symbiote_core.figures.authoring import palette  # here, not at the top: see r2_chart

    # No data here: the layer below holds the units once for both dots and medians.
    units = (
        alt.Chart()
        .transform_flatten([*UNIT_FIELDS, "unit"])
        .transform_calculate(
            name="isValid(datum.unit) ? datum.unit : datum.reader + ' #' + datum.index"
        )
    )
    y = alt.Y("reader:N", sort=list(READERS), title=None, axis=alt.Axis(labelLimit=170))
    # Deterministic jitter (a golden-ratio sequence over unit and seed) spreads the dots.
    dots = (
        units.transform_calculate(jitter="((datum.index + 0.37 * datum.seed) * 0.618034) % 1")
        .mark_circle(size=10, opacity=0.5)
        .encode(
            x=alt.X(
                "purity:Q",
                scale=alt.Scale(domain=[0, 1]),
                title=["frequency purity", "(variance share of best frequency)"],
            ),
            y=y,
            yOffset=alt.YOffset("jitter:Q", scale=alt.Scale(domain=[-0.4, 1.4])),
            color=alt.Color(
                "reader:N", scale=alt.Scale(**palette.scale(READER_ROLES)), legend=None
            ),
            tooltip=[
                alt.Tooltip("seed:N"),
                alt.Tooltip("reader:N"),
                alt.Tooltip("name:N", title="unit"),
                alt.Tooltip("purity:Q", format=".2f"),
                alt.Tooltip("frequency:Q", title="best frequency"),
                alt.Tooltip("key:N", title="a key frequency?"),
                alt.Tooltip("token_selectivity:Q", format=".2f", title="share on one token"),
                alt.Tooltip("answer_share:Q", format=".2f", title="variance from a+b alone"),
            ],
        )
    )
    medians = (
        units.transform_aggregate(median="median(purity)", groupby=["reader", "seed"])
        .mark_tick(color=palette.color("ink"), thickness=2, size=20)
        .encode(
            x="median:Q",
            y=y,
            tooltip=[
                alt.Tooltip("reader:N"),
                alt.Tooltip("seed:N"),
                alt.Tooltip("median:Q", format=".2f", title="median purity"),
            ],
        )
    )
    threshold = (
        alt.Chart(alt.Data(values=[{"threshold": data["single_threshold"]}]))
        .mark_rule(strokeDash=[4, 3], color=palette.color("axis"))
        .encode(
            x="threshold:Q",
            tooltip=[alt.Tooltip("threshold:Q", title="single-frequency threshold")],
        )
    )
    return alt.layer(
        threshold, dots, medians, data=alt.Data(values=_unit_columns(data))
    ).properties(width=220, height=260, title="How single-frequency is each unit?")


def heatmap(data: dict[str, Any], shown: alt.Parameter) -> alt.LayerChart:
    from symbiote_core.figures.authoring import palette  # here, not at the top: see r2_chart

    P = data["p"]
    ticks = list(range(0, P, 10))
    chosen = alt.Chart(alt.Data(values=data["seeds"][0]["exemplars"])).transform_filter(
        alt.datum.reader == shown
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
                # Diverging through the page background: a named Vega scheme keeps its
                # light middle in dark mode (a bright panel), but palette hex colours
                # are swapped by site.js, so zero stays the page's colour in both themes.
                # Blue against orange stays apart for every colour-vision deficiency.
                scale=alt.Scale(
                    domain=[-100, 0, 100],
                    range=[
                        palette.color("symbiote"),
                        palette.color("background"),
                        palette.color("neuron"),
                    ],
                    interpolate="lab",
                ),
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
        .mark_text(
            align="left", baseline="bottom", x=0, y=-6, fontSize=11, color=palette.color("muted")
        )
        .encode(text="caption:N")
    )
    return alt.layer(cells, label).properties(
        width=236,
        height=236,
        title=alt.TitleParams(
            f"One typical unit over every input (seed {data['seeds'][0]['seed']})", offset=22
        ),
    )


# ----- values: one number per seed, in params order -----


Seed = dict[str, Any]


def each_seed(fn: Any) -> Any:
    """A per-seed value: `fn(data, seed_entry)` for every seed."""
    return lambda d: [fn(d, e) for e in d["seeds"]]


def summary(e: Seed, reader: str) -> list[dict[str, Any]]:
    return [u for u in e["units"] if u["reader"] == reader]


def median(e: Seed, reader: str, field: str = "purity") -> float:
    return statistics.median(u[field] for u in summary(e, reader))


def share(d: dict[str, Any], e: Seed, reader: str, field: str = "purity") -> float:
    """Share of a reader's units above the single-frequency threshold (on `field`)."""
    units = summary(e, reader)
    return sum(u[field] > d["single_threshold"] for u in units) / len(units)


def r2_values(e: Seed, kinds: tuple[str, ...], field: str = "r2") -> list[float]:
    return [r[field] for r in e["r2"] if r2_kind(r) in kinds]


def r2_median(e: Seed, kinds: tuple[str, ...], field: str = "r2") -> float:
    """Median R^2 over the frequencies of these kinds; 0 when a seed has none (a seed whose
    doubles are all key frequencies), which makes a comparison on it fail, not pass."""
    values = r2_values(e, kinds, field)
    return statistics.median(values) if values else 0.0


KEY, DOUBLE, OTHER = (R2_KINDS[0],), (R2_KINDS[1],), (R2_KINDS[2],)
NOT_KEY = DOUBLE + OTHER


def point(
    field: str, size: str | int = "read_size", k: str | int = "read_k", host: str = "trained"
) -> Any:
    """Per seed, `field` of one sweep point (size and k given, or named by a data key)."""

    def value(d: dict[str, Any]) -> list[Any]:
        where = (
            d[size] if isinstance(size, str) else size,
            d[k] if isinstance(k, str) else k,
            host,
        )
        rows = {r["seed"]: r[field] for r in d["sweep"] if (r["size"], r["k"], r["host"]) == where}
        return [rows[e["seed"]] for e in d["seeds"]]

    return value


def criterion(d: dict[str, Any]) -> tuple[int, int]:
    """The point the faithfulness criterion picks on these seeds: the sparsest, then
    the smallest, whose loss recovered clears the threshold on every seed; (0, 0) if none."""
    for k in sorted(d["ks"]):
        for size in sorted(d["sizes"]):
            worst = min(point("recovered", size, k)(d))
            if worst >= d["faithful_recovered"]:
                return size, k
    return 0, 0


def sweep_max(field: str, host: str = "trained") -> Any:
    """Per seed, the largest `field` over every point of the sweep on one host."""

    def value(d: dict[str, Any]) -> list[float]:
        return [
            max(r[field] for r in d["sweep"] if r["seed"] == e["seed"] and r["host"] == host)
            for e in d["seeds"]
        ]

    return value


def answer_purity_max(d: dict[str, Any], e: Seed) -> float:
    """The purest answer latent of the faithful dictionary (0 if it has none)."""
    units = summary(e, DICTIONARY)
    return max([u["purity"] for u in units if u["answer_share"] > d["single_threshold"]] or [0.0])


def readers_chart(data: dict[str, Any]) -> alt.HConcatChart:
    """The figure: probes' R^2 and the units' purity (left), the sweep and a heat map (right)."""
    shown = alt.param(
        name="shown",
        value=DICTIONARY,
        bind=alt.binding_select(options=[*READERS, ANSWER_LATENT], name="heat map of "),
    )
    measure = alt.param(
        name="sweep_measure",
        value=SWEEP_MEASURES[0][0],
        bind=alt.binding_select(options=[m for m, *_ in SWEEP_MEASURES], name="sweep: "),
    )
    left = alt.vconcat(r2_chart(data), strip_chart(data)).resolve_scale(color="independent")
    right = alt.vconcat(
        sweep_chart(data, measure).add_params(measure), heatmap(data, shown).add_params(shown)
    ).resolve_scale(color="independent")
    return (
        alt.hconcat(left, right)
        .resolve_scale(color="independent")
        .configure_legend(orient="bottom")
        .properties(
            description="Top left: held-out R squared of linear probes for each frequency "
            "and seed, on the trained and the untrained host. Bottom left: frequency purity "
            "of every unit of each reader, all seeds pooled, with each seed's median. Top "
            "right: the dictionary sweep, one measure at a time (loss recovered by default), "
            "against the number of latents, for each sparsity, on the trained host and its "
            "untrained twin. Bottom right: one typical unit's activation over all input pairs "
            "(first seed)."
        )
    )


_SWEEP_WORDS = {
    "recovered": "the share of the mean-ablation's loss recovered when spliced in",
    "kl_recovered": "the share of the mean-ablation's KL divergence recovered when spliced in",
    "fvu": "the neurons' variance left unexplained",
    "logit_fvu": "the logits' variance left unexplained when spliced in",
    "token_share": "the share of latents that detect one token",
    "answer_units": "latents that read the answer",
}


def point_values(sizes: tuple[int, ...], ks: tuple[int, ...]) -> dict[str, Any]:
    """Every sweep point's faithfulness on the trained host, e.g. `recovered_256_k4`, and
    its twin's, e.g. `twin_kl_recovered_256_k4`."""
    out = {}
    for size in sizes:
        for k in ks:
            tag = f"{size}_k{k}"
            which = f"the dictionary of {size} latents, {k} active"
            for name in ("recovered", "fvu", "logit_fvu", "token_share", "answer_units"):
                out[f"{name}_{tag}"] = (f"{_SWEEP_WORDS[name]}, {which}", point(name, size, k))
            for name in ("kl_recovered", "fvu", "logit_fvu", "token_share"):
                out[f"twin_{name}_{tag}"] = (
                    f"{_SWEEP_WORDS[name]}, {which}, on the untrained host",
                    point(name, size, k, "untrained"),
                )
    return out
