"""The grokked host's embedding lives on a few Fourier frequencies; its initialisation does not.

Each of the p tokens has an embedding vector; read one coordinate across the tokens
and it is a function on Z_p, which the real Fourier basis splits into frequencies
k = 1 .. (p-1)/2 (`symbiote_core.fourier`). The spectrum is the share of the
embedding's non-constant squared norm in each frequency, summed over coordinates.
The control is the same host at step 0 (its random initialisation), computed in the
same run. For the selected frequency the figure also draws each token's component
in that frequency's 2-D plane: a key frequency puts the tokens on a circle (an
ellipse when its cos and sin parts differ in size), in the order k * x mod p.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import altair as alt

from figures_src._lab.modadd import SEEDS, TUNING_SEEDS, HostParams
from figures_src._lab.values import each_with_data, n_seeds, stored
from figures_src._lab.words import modadd_host
from symbiote_core.figures.authoring.spec import Claim, Control, Figure, Null

HOSTS = ("trained", "untrained")
CONTROLS = ("trained", "memorised", "untrained")
KEY_ROLES = {"key frequency": "symbiote", "other frequency": "muted", "untrained host": "control"}
"""Palette roles: the Fourier reading's key frequencies are what is under test; the
rest of the trained spectrum is a neutral grey, the untrained host the control's."""
HOST_ROLES = {"trained": "symbiote", "memorised": "muted", "untrained": "control"}
"""The trained host's reading against its two controls (both greys, apart in lightness)."""


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = SEEDS
    """Evaluation seeds (`_lab.modadd.SEEDS`); the recipe was tuned on `_lab.modadd.TUNING_SEEDS`."""
    host: HostParams = field(default_factory=HostParams)


def compute(p: Params) -> dict[str, Any]:
    import torch

    from figures_src._lab.modadd import key_frequencies, key_threshold, per_seed, train_hosts
    from symbiote_core.fourier import frequency_spectrum

    run = train_hosts(p.host, p.seeds)
    P = p.host.p
    models = {"trained": run.trained, "memorised": run.memorised, "untrained": run.untrained}
    seeds = []
    for i, seed in enumerate(p.seeds):
        spectra: dict[str, list[float]] = {}
        planes: list[dict[str, Any]] = []
        for name, model in models.items():
            W = model.W_E[i].detach().double()  # (p, d_model): row x is token x
            spectra[name] = [round(v, 6) for v in frequency_spectrum(W, P).tolist()]
            if name in HOSTS:
                planes += _compact(_planes(W, P, name))
        seeds.append(
            {
                "seed": seed,
                "spectra": spectra,
                "planes": planes,
                "key": key_frequencies(torch.tensor(spectra["trained"]), P),
            }
        )
    # Which step the memorised control is, and that it is a memoriser: its accuracies.
    at = run.log.steps.index(p.host.memorised_step)
    accuracy = {
        split: [acc[at] for acc in per_seed(run.log, f"{split}_acc", len(p.seeds))]
        for split in ("train", "test")
    }
    return {
        "p": P,
        "seeds": seeds,
        "threshold": key_threshold(P),
        "memorised_step": p.host.memorised_step,
        "memorised_train_acc": accuracy["train"],
        "memorised_test_acc": accuracy["test"],
    }


def _planes(W: Any, P: int, host: str) -> list[dict[str, Any]]:
    """Each token's embedding, projected onto the plane that frequency k spans.

    Frequency k's part of the embedding lives in the plane spanned by its cos_k and
    sin_k coefficient vectors. That part alone always traces an ellipse over the
    tokens (it is cos and sin of 2 pi k x / p), so drawing it would show a circle for
    any host. Projecting the *whole* (centred) embedding onto the plane instead shows
    whether the plane belongs to frequency k: a clean circle when the other frequencies
    stay out of it, a cloud when they do not. Coordinates are scaled so that a
    frequency alone in its plane has a mean squared radius equal to its spectral share.
    """
    import torch

    from symbiote_core.fourier import fourier_basis, n_frequencies

    basis = fourier_basis(P)[0].double()  # (p, p): rows const, cos1, sin1, cos2, ...
    coef = basis @ W  # (p, d_model): the embedding's coefficient on each basis row
    centred = W - W.mean(0)  # (p, d_model): the constant part removed, as in the spectrum
    scale = centred.norm() / math.sqrt(P)
    rows = []
    for k in range(1, n_frequencies(P) + 1):
        uv = coef[2 * k - 1 : 2 * k + 1]  # (2, d_model): cos_k and sin_k parts
        plane, _ = torch.linalg.qr(uv.T)  # (d_model, 2), orthonormal basis of that plane
        xy = centred @ plane / scale  # (p, 2)
        rows += [
            {
                "host": host,
                "k": k,
                "token": x,
                "order": (k * x) % P,  # where a pure frequency-k circle puts token x
                "x": round(xy[x, 0].item(), 3),
                "y": round(xy[x, 1].item(), 3),
            }
            for x in range(P)
        ]
    return rows


def _compact(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The plane rows of one host as one row per frequency holding the tokens'
    coordinates as arrays in token order: field names once per frequency keep the data
    small."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["host"], r["k"]), []).append(r)
    out = []
    for (host, k), members in groups.items():
        members = sorted(members, key=lambda r: r["token"])
        out.append(
            {"host": host, "k": k, "x": [r["x"] for r in members], "y": [r["y"] for r in members]}
        )
    return out


def _bars(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for entry in data["seeds"]:
        key = set(entry["key"])
        for host in HOSTS:
            for k, share in enumerate(entry["spectra"][host], start=1):
                kind = (
                    "untrained host"
                    if host == "untrained"
                    else ("key frequency" if k in key else "other frequency")
                )
                rows.append(
                    {"seed": entry["seed"], "k": k, "host": host, "share": share, "kind": kind}
                )
    return rows


def _loops(data: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per (seed, host, frequency) holding its tokens' coordinates in token
    order, token 0 repeated at the end so the line through them closes."""
    return [
        {
            **loop,
            "seed": entry["seed"],
            "x": loop["x"] + loop["x"][:1],
            "y": loop["y"] + loop["y"][:1],
        }
        for entry in data["seeds"]
        for loop in entry["planes"]
    ]


def _shares(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Per seed and host: the share of the norm in that host's own key frequencies."""
    return [
        {"seed": entry["seed"], "host": host, "share": _own_key_share(entry, host, data)}
        for entry in data["seeds"]
        for host in CONTROLS
    ]


def render(data: dict[str, Any]) -> alt.HConcatChart:
    # Imported here, not at the top: a top-level import is part of the data key, and
    # colours must only re-render.
    from symbiote_core.figures.authoring import palette

    key_colors = alt.Scale(**palette.scale(KEY_ROLES))
    P = data["p"]
    first = data["seeds"][0]
    K = len(first["spectra"]["trained"])
    seeds = [e["seed"] for e in data["seeds"]]
    seed = alt.param(
        name="seed",
        value=seeds[0],
        bind=alt.binding_radio(options=seeds, name="seed "),
    )
    pick = alt.selection_point(
        name="frequency",
        fields=["k"],
        value=[{"k": _strongest(first)}],
        on="click",
        clear=False,
        bind=alt.binding_range(min=1, max=K, step=1, name="frequency k "),
    )
    bars = alt.Chart(alt.Data(values=_bars(data))).transform_filter(alt.datum.seed == seed)
    trained_bars = (
        bars.transform_filter(alt.datum.host == "trained")
        .mark_bar()
        .encode(
            x=alt.X(
                "k:O",
                axis=alt.Axis(values=[1, 5, 10, 15, 20, 25, K], labelAngle=0),
                title="frequency k",
            ),
            y=alt.Y("share:Q", axis=alt.Axis(format="%"), title="share of embedding norm"),
            color=alt.Color(
                "kind:N", scale=key_colors, title=None, legend=alt.Legend(labelLimit=200)
            ),
            tooltip=[
                alt.Tooltip("seed:N"),
                alt.Tooltip("k:O", title="frequency"),
                alt.Tooltip("share:Q", format=".1%", title="share (trained)"),
            ],
        )
        .add_params(pick)
    )
    # A marker above the picked bar: fading or outlining bars would blur the key/other
    # colours. Ink, which the site swaps for its light twin in the dark scheme.
    marker = (
        bars.transform_filter(alt.datum.host == "trained")
        .transform_filter(pick)
        .mark_point(
            shape="triangle-down", size=70, filled=True, color=palette.color("ink"), opacity=1
        )
        .encode(x="k:O", y="share:Q", yOffset=alt.value(-8))
    )
    untrained_ticks = (
        bars.transform_filter(alt.datum.host == "untrained")
        .mark_tick(thickness=2, size=9)
        .encode(
            x="k:O",
            y="share:Q",
            color=alt.Color("kind:N", scale=key_colors),
            tooltip=[
                alt.Tooltip("k:O", title="frequency"),
                alt.Tooltip("share:Q", format=".1%", title="share (untrained)"),
            ],
        )
    )
    threshold_line = (
        alt.Chart(alt.Data(values=[{"threshold": data["threshold"]}]))
        .mark_rule(strokeDash=[4, 3], color=palette.color("axis"), strokeWidth=1.5)
        .encode(
            y="threshold:Q",
            tooltip=[alt.Tooltip("threshold:Q", format=".1%", title="key threshold")],
        )
    )
    spectrum = (
        alt.layer(trained_bars, untrained_ticks, threshold_line, marker)
        .add_params(seed)
        .properties(width=250, height=220, title="Embedding spectrum of one seed")
    )

    limit = max(max(map(abs, r["x"] + r["y"])) for e in data["seeds"] for r in e["planes"]) * 1.05
    axis_scale = alt.Scale(domain=[-limit, limit], nice=False)
    plane = (
        alt.Chart(alt.Data(values=_loops(data)))
        .transform_filter(alt.datum.seed == seed)
        .transform_filter(pick)
        .transform_flatten(["x", "y"])
        .transform_window(i="row_number()", groupby=["host", "k"])
        .transform_calculate(
            token=f"(datum.i - 1) % {P}",
            # Around the circle token x sits at position k x mod p; the repeat closes it.
            order=f"datum.i > {P} ? {P} : (datum.k * (datum.i - 1)) % {P}",
        )
    )
    host_colors = alt.Scale(**palette.scale({host: HOST_ROLES[host] for host in HOSTS}))
    loops = plane.mark_line(strokeWidth=1, opacity=0.6).encode(
        x=alt.X("x:Q", scale=axis_scale, title=None, axis=alt.Axis(labels=False, ticks=False)),
        y=alt.Y("y:Q", scale=axis_scale, title=None, axis=alt.Axis(labels=False, ticks=False)),
        order="order:Q",
        color=alt.Color("host:N", scale=host_colors, title="host"),
        detail="host:N",
    )
    dots = plane.mark_circle(size=30, opacity=0.9).encode(
        x="x:Q",
        y="y:Q",
        color=alt.Color("host:N", scale=host_colors),
        tooltip=[
            alt.Tooltip("host:N"),
            alt.Tooltip("token:Q"),
            alt.Tooltip("k:Q", title="frequency"),
        ],
    )
    label = (
        plane.transform_filter((alt.datum.host == "trained") & (alt.datum.i == 1))
        .transform_calculate(caption="'frequency k = ' + datum.k")
        .mark_text(
            align="left", baseline="top", x=4, y=4, fontSize=12, color=palette.color("muted")
        )
        .encode(text="caption:N")
    )
    circle = alt.layer(loops, dots, label).properties(
        width=200, height=200, title="Embedding in frequency k's plane"
    )
    # Every seed at once: the claim's quantity on the trained host and its two controls.
    spread = (
        alt.Chart(alt.Data(values=_shares(data)))
        .mark_point(filled=True, size=50, opacity=0.85)
        .encode(
            x=alt.X(
                "share:Q",
                scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%"),
                title="share in its own key frequencies",
            ),
            y=alt.Y("host:N", sort=list(CONTROLS), title=None),
            color=alt.Color(
                "host:N",
                scale=alt.Scale(**palette.scale({h: HOST_ROLES[h] for h in CONTROLS})),
                legend=None,
            ),
            # The shape legend draws black symbols unless told, and site.js swaps only
            # colours under color/fill/stroke keys, not a legend's symbolFillColor: so a
            # neutral that is >= 3:1 against both backgrounds unswapped (axis grey).
            shape=alt.Shape(
                "seed:N",
                title="seed",
                legend=alt.Legend(
                    symbolFillColor=palette.color("axis"), symbolStrokeColor=palette.color("axis")
                ),
            ),
            tooltip=[
                alt.Tooltip("seed:N"),
                alt.Tooltip("host:N"),
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
        .properties(width=200, height=90, title="Every seed")
    )
    return (
        alt.hconcat(
            spectrum,
            alt.vconcat(circle, spread).resolve_scale(color="independent", shape="independent"),
        )
        .resolve_scale(color="independent", shape="independent")
        .configure_legend(orient="bottom", direction="vertical")
        .properties(
            description=f"Left: share of one seed's embedding norm in each of the {K} "
            f"frequencies over Z_{P}, trained host as bars, untrained host as ticks. "
            "Right: the tokens' components in the selected frequency's plane, and for "
            "every seed the share held by the key frequencies of the trained, memorised "
            "and untrained hosts."
        )
    )


def _strongest(entry: dict[str, Any]) -> int:
    spectrum = entry["spectra"]["trained"]
    return max(range(len(spectrum)), key=spectrum.__getitem__) + 1


def _own_key(spectrum: list[float], threshold: float) -> list[int]:
    return [k for k, s in enumerate(spectrum, start=1) if s > threshold]


def _own_key_share(entry: dict[str, Any], host: str, d: dict[str, Any]) -> float:
    """Share of a host's norm in the frequencies above the key threshold *in that host*."""
    spectrum = entry["spectra"][host]
    return sum(spectrum[k - 1] for k in _own_key(spectrum, d["threshold"]))


def _top_share(spectrum: list[float], n: int) -> float:
    return sum(sorted(spectrum, reverse=True)[:n])


def _other_max(entry: dict[str, Any]) -> float:
    spectrum = entry["spectra"]["trained"]
    return max(s for k, s in enumerate(spectrum, start=1) if k not in entry["key"])


PARAMS = Params()

ALT = (
    "Bar chart over the {{ value: modadd_fourier.n_frequencies }} frequencies for one seed: "
    "{{ value: modadd_fourier.n_key | .0f mean }} key frequencies each hold more than "
    "{{ value: modadd_fourier.key_threshold | .0% }} of the trained embedding's norm (the "
    "strongest {{ value: modadd_fourier.strongest_share | .0% mean }}), the strongest other "
    "frequency {{ value: modadd_fourier.strongest_other_share | .0% mean }}; the untrained host's "
    "largest share is {{ value: modadd_fourier.untrained_max_share | .0% mean }}. Beside it, the "
    "tokens in one frequency's plane: a closed loop for a key frequency of the trained host, a "
    "tangle for the untrained host. Below, one dot per seed and host: the key frequencies hold "
    "{{ value: modadd_fourier.key_share | .0% mean }} of the trained embedding, against "
    "{{ value: modadd_fourier.memorised_key_share | .0% mean }} for the memorised host and "
    "{{ value: modadd_fourier.untrained_key_share | .0% mean }} for the untrained one. Means over "
    "{{ value: modadd_fourier.n_seeds }} seeds."

)
"""Alt text: its numbers are the figure's values, filled in by the site."""

METHODS = (
    modadd_host("modadd_fourier")
    + "**Symbiote.** The real Fourier basis on Z_p read off the embedding: "
    "each frequency's share of the embedding's non-constant squared norm, summed over coordinates; "
    "a frequency is key above twice a flat spectrum's share ({{ value: "
    "modadd_fourier.key_threshold | .0% }}). **Controls.** The same host at step 0 (its "
    "initialisation) and at step {{ param: modadd_fourier.host.memorised_step }}, when it has "
    "memorised its training pairs ({{ value: modadd_fourier.memorised_train_acc | .0% mean }} "
    "right) but not generalised ({{ value: modadd_fourier.memorised_test_acc | .0% mean }} held "
    "out), from the same run. **Plane view.** The centred embedding projected on a frequency's cosine "
    "and sine parts, scaled so that a frequency alone in its plane has a mean squared radius "
    "equal to its share. **Seeds.** {{ value: modadd_fourier.n_seeds }} ({{ param: "
    "modadd_fourier.seeds }})."

)
"""The methods appendix's paragraph (see `Figure.methods`)."""

FIGURE = Figure(
    title="A few frequencies hold most of the trained embedding; none stand out before "
    "the host generalises",
    caption=(
        "The spectrum: how the embedding's squared norm spreads over the frequencies mod "
        f"{PARAMS.host.p} for the seed picked with the buttons, bars for the trained host "
        "({{ colour: symbiote }} bars are key frequencies, above the dashed line at twice a "
        "flat spectrum's share), grey ticks at initialisation. The plane: the embedding "
        "projected on the selected frequency's plane, tokens joined in the order k·x mod p. "
        "Click a bar or use the slider to pick a frequency (the {{ colour: ink }} marker "
        f"shows which). Bottom: all {len(PARAMS.seeds)} seeds, the share of the norm in each "
        "host's own key frequencies, trained, at the memorising step and at initialisation."
    ),
    alt=ALT,
    methods=METHODS,
    params=PARAMS,
    tuning_seeds=TUNING_SEEDS,
    tuning_note="the host recipe (_lab.modadd.HostParams) was tuned until these seeds generalised",
    compute=compute,
    render=render,
    values={
        "p": ("the modulus p", stored("p")),
        "n_seeds": n_seeds(),
        "n_frequencies": ("frequencies in the embedding's spectrum", lambda d: len(d["seeds"][0]["spectra"]["trained"])),
        "key_threshold": ("the share of the embedding's norm a frequency needs to count as key", stored("threshold")),
        "flat_share": ("each frequency's share in a flat spectrum", lambda d: 1 / len(d["seeds"][0]["spectra"]["trained"])),
        "memorised_step": ("the training step of the memorised host", stored("memorised_step")),
        "memorised_train_acc": ("the memorised host's training accuracy", stored("memorised_train_acc")),
        "memorised_test_acc": ("the memorised host's held-out accuracy", stored("memorised_test_acc")),
        "n_key": ("key frequencies of the trained host's embedding", each_with_data(lambda d, e: len(e["key"]))),
        "key_share": ("the share of the embedding's norm in its key frequencies, trained host", each_with_data(lambda d, e: _own_key_share(e, "trained", d))),
        "memorised_key_share": ("the share of the embedding's norm in its own key frequencies, memorised host", each_with_data(lambda d, e: _own_key_share(e, "memorised", d))),
        "untrained_key_share": ("the share of the embedding's norm in its own key frequencies, untrained host", each_with_data(lambda d, e: _own_key_share(e, "untrained", d))),
        "n_key_memorised": ("frequencies above the key threshold, memorised host", each_with_data(
            lambda d, e: len(_own_key(e["spectra"]["memorised"], d["threshold"]))
        )),
        "n_key_untrained": ("frequencies above the key threshold, untrained host", each_with_data(
            lambda d, e: len(_own_key(e["spectra"]["untrained"], d["threshold"]))
        )),
        "strongest_share": ("the strongest frequency's share of the embedding's norm, trained host", each_with_data(lambda d, e: e["spectra"]["trained"][_strongest(e) - 1])),
        "weakest_key_share": ("the weakest key frequency's share of the embedding's norm, trained host", each_with_data(
            lambda d, e: min((e["spectra"]["trained"][k - 1] for k in e["key"]), default=0.0)
        )),
        "strongest_other_share": ("the strongest non-key frequency's share of the embedding's norm, trained host", each_with_data(lambda d, e: _other_max(e))),
        "untrained_top_key_share": ("the share of the untrained embedding's norm in as many top frequencies as the trained host has key ones", each_with_data(
            lambda d, e: _top_share(e["spectra"]["untrained"], len(e["key"]))
        )),
        "memorised_top_key_share": ("the share of the memorised embedding's norm in as many top frequencies as the trained host has key ones", each_with_data(
            lambda d, e: _top_share(e["spectra"]["memorised"], len(e["key"]))
        )),
        "untrained_max_share": ("the untrained embedding's strongest frequency share", each_with_data(lambda d, e: max(e["spectra"]["untrained"]))),
        "memorised_max_share": ("the memorised embedding's strongest frequency share", each_with_data(lambda d, e: max(e["spectra"]["memorised"]))),
        # How much the seeds agree on which frequencies are key: the largest number of
        # seeds that share one key frequency.
        "most_shared_key": ("the most seeds that share one key frequency", lambda d: max(
            sum(k in e["key"] for e in d["seeds"])
            for k in range(1, len(d["seeds"][0]["spectra"]["trained"]) + 1)
        )),
    },
    claims=(
        Claim(
            name="key_frequencies_hold_the_norm",
            statement="On every seed, the few frequencies above the key threshold hold "
            "most of the trained embedding's norm.",
            left="key_share",
            op=">",
            right=0.5,
            control="half the norm; the key frequencies are fewer than half the frequencies",
            why="'Most' stated as more than half. Fewer than half the frequencies can clear a "
            "threshold of twice the flat share, so the claim says a minority of frequencies "
            "holds the majority of the norm. The first version of this claim asked for 0.8 "
            "and was lowered to 0.5 after seeds 0-4 had run (the history below); it is kept "
            "at 0.5, set before seeds 5-9 were run.",
            null=(
                Null(
                    description="the memorised host (same seeds, same run, step "
                    f"{PARAMS.host.memorised_step}: it has fitted its training pairs and not "
                    "generalised): the share held by its own strongest frequencies, as many "
                    "as the trained host's key frequencies",
                    values={"key_share": "memorised_top_key_share"},
                ),
                Null(
                    description="the untrained host (the same seeds' initial weights): the "
                    "share held by its strongest frequencies, as many as the trained host's "
                    "key frequencies",
                    values={"key_share": "untrained_top_key_share"},
                ),
            ),
            controls=Control(
                description="the memorised host's share in its own above-threshold "
                "frequencies (it has none on most seeds, so this is mostly zero)",
                values={"key_share": "memorised_key_share"},
            ),
        ),
    ),
)
