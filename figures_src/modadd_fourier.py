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

from figures_src._modadd import HostParams
from symbiote_core.figures.spec import Claim, Figure

HOSTS = ("trained", "untrained")
KEY_COLORS = alt.Scale(
    domain=["key frequency", "other frequency", "untrained host"],
    range=["#00897b", "#80cbc4", "#757575"],
)


@dataclass(frozen=True)
class Params:
    seed: int = 0
    host: HostParams = field(default_factory=HostParams)


def compute(p: Params) -> dict[str, Any]:
    import torch

    from figures_src._modadd import key_frequencies, key_threshold, train_host
    from symbiote_core.fourier import frequency_spectrum

    host, untrained, _ = train_host(p.host, p.seed)
    P = p.host.p
    spectra: dict[str, list[float]] = {}
    planes: list[dict[str, Any]] = []
    for name, model in zip(HOSTS, (host, untrained), strict=True):
        W = model.W_E.detach().double()  # (p, d_model): row x is token x
        spectra[name] = frequency_spectrum(W, P).tolist()
        planes += _planes(W, P, name)
    return {
        "p": P,
        "spectra": spectra,
        "planes": planes,
        "key": key_frequencies(torch.tensor(spectra["trained"]), P),
        "threshold": key_threshold(P),
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


def _bars(data: dict[str, Any]) -> list[dict[str, Any]]:
    key = set(data["key"])
    return [
        {
            "k": k,
            "host": host,
            "share": share,
            "kind": "untrained host"
            if host == "untrained"
            else ("key frequency" if k in key else "other frequency"),
        }
        for host in HOSTS
        for k, share in enumerate(data["spectra"][host], start=1)
    ]


def _loops(planes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (host, frequency) holding its tokens' coordinates as arrays in token
    order, token 0 repeated at the end so the line through them closes. Arrays keep the
    page small: field names once per loop instead of once per point."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in planes:
        groups.setdefault((r["host"], r["k"]), []).append(r)
    loops = []
    for (host, k), rows in groups.items():
        rows = sorted(rows, key=lambda r: r["token"])
        rows.append(rows[0])
        loops.append(
            {"host": host, "k": k, "x": [r["x"] for r in rows], "y": [r["y"] for r in rows]}
        )
    return loops


def render(data: dict[str, Any]) -> alt.HConcatChart:
    P = data["p"]
    K = len(data["spectra"]["trained"])
    strongest = _strongest(data)
    pick = alt.selection_point(
        name="frequency",
        fields=["k"],
        value=[{"k": strongest}],
        on="click",
        clear=False,
        bind=alt.binding_range(min=1, max=K, step=1, name="frequency k "),
    )
    bars = alt.Chart(alt.Data(values=_bars(data)))
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
            color=alt.Color("kind:N", scale=KEY_COLORS, title=None),
            tooltip=[
                alt.Tooltip("k:O", title="frequency"),
                alt.Tooltip("share:Q", format=".1%", title="share (trained)"),
            ],
        )
        .add_params(pick)
    )
    # An orange marker above the picked bar: fading or outlining bars would blur the
    # key/other colours, and a dark outline vanishes in the dark scheme.
    marker = (
        bars.transform_filter(alt.datum.host == "trained")
        .transform_filter(pick)
        .mark_point(shape="triangle-down", size=70, filled=True, color="#ef6c00", opacity=1)
        .encode(x="k:O", y="share:Q", yOffset=alt.value(-8))
    )
    untrained_ticks = (
        bars.transform_filter(alt.datum.host == "untrained")
        .mark_tick(thickness=2, size=9)
        .encode(
            x="k:O",
            y="share:Q",
            color=alt.Color("kind:N", scale=KEY_COLORS),
            tooltip=[
                alt.Tooltip("k:O", title="frequency"),
                alt.Tooltip("share:Q", format=".1%", title="share (untrained)"),
            ],
        )
    )
    threshold_line = (
        alt.Chart(alt.Data(values=[{"threshold": data["threshold"]}]))
        .mark_rule(strokeDash=[4, 3], color="#888", strokeWidth=1.5)
        .encode(
            y="threshold:Q",
            tooltip=[alt.Tooltip("threshold:Q", format=".1%", title="key threshold")],
        )
    )
    spectrum = alt.layer(trained_bars, untrained_ticks, threshold_line, marker).properties(
        width=260, height=220, title="Embedding spectrum"
    )

    limit = max(max(abs(r["x"]), abs(r["y"])) for r in data["planes"]) * 1.05
    axis_scale = alt.Scale(domain=[-limit, limit], nice=False)
    plane = (
        alt.Chart(alt.Data(values=_loops(data["planes"])))
        .transform_filter(pick)
        .transform_flatten(["x", "y"])
        .transform_window(i="row_number()", groupby=["host", "k"])
        .transform_calculate(
            token=f"(datum.i - 1) % {P}",
            # Around the circle token x sits at position k x mod p; the repeat closes it.
            order=f"datum.i > {P} ? {P} : (datum.k * (datum.i - 1)) % {P}",
        )
    )
    host_colors = alt.Scale(domain=list(HOSTS), range=["#00897b", "#757575"])
    loops = plane.mark_line(strokeWidth=1, opacity=0.6).encode(
        x=alt.X("x:Q", scale=axis_scale, title=None, axis=alt.Axis(labels=False, ticks=False)),
        y=alt.Y("y:Q", scale=axis_scale, title=None, axis=alt.Axis(labels=False, ticks=False)),
        order="order:Q",
        color=alt.Color("host:N", scale=host_colors, title="host"),
        detail="host:N",
    )
    dots = plane.mark_circle(size=36, opacity=0.9).encode(
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
        .mark_text(align="left", baseline="top", x=4, y=4, fontSize=12, color="#808080")
        .encode(text="caption:N")
    )
    circle = alt.layer(loops, dots, label).properties(
        width=220, height=220, title="Embedding in frequency k's plane"
    )
    return (
        alt.hconcat(spectrum, circle)
        .resolve_scale(color="independent")
        .configure_legend(orient="bottom", direction="vertical")
        .properties(
            description=f"Left: share of the embedding's norm in each of the {K} "
            f"frequencies over Z_{P}, trained host as bars, untrained host as ticks. "
            "Right: the tokens' components in the selected frequency's plane."
        )
    )


def _strongest(d: dict[str, Any]) -> int:
    spectrum = d["spectra"]["trained"]
    return max(range(len(spectrum)), key=spectrum.__getitem__) + 1


def _top_share(spectrum: list[float], n: int) -> float:
    return sum(sorted(spectrum, reverse=True)[:n])


def _key_share(d: dict[str, Any]) -> float:
    return sum(d["spectra"]["trained"][k - 1] for k in d["key"])


def _other_max(d: dict[str, Any]) -> float:
    spectrum = d["spectra"]["trained"]
    return max(s for k, s in enumerate(spectrum, start=1) if k not in d["key"])


PARAMS = Params()

FIGURE = Figure(
    title="A few frequencies hold almost all of the trained embedding; none stand out at initialisation",
    caption=(
        "The spectrum shows how the embedding's squared norm (its constant part removed) "
        f"spreads over the frequencies of Z<sub>{PARAMS.host.p}</sub>: bars for the trained "
        "host (dark bars are key frequencies, above the dashed line at twice a flat "
        "spectrum's share), grey ticks for the same host at initialisation. The plane "
        "shows the whole embedding, centred, projected onto the plane of the selected "
        "frequency's cosine and sine parts, for both hosts; lines join the tokens in the "
        "order k·x mod p, and the scale is set so that a frequency alone in its plane has "
        "a mean squared radius equal to its share. Click a bar or use the slider to pick "
        "a frequency (the orange marker shows which)."
    ),
    alt=(
        "Bar chart over 29 frequencies: a handful of tall bars, each holding around a "
        "tenth of the trained embedding's norm, and near-zero bars elsewhere; grey ticks "
        "for the untrained host sit low and even everywhere. Beside it, a scatter plot "
        "where, for a key frequency, the 59 trained tokens lie evenly spaced on a closed "
        "loop while the untrained host's tokens form a tangle; at other frequencies both "
        "are tangles near the centre."
    ),
    params=PARAMS,
    compute=compute,
    render=render,
    values={
        "p": lambda d: d["p"],
        "n_frequencies": lambda d: len(d["spectra"]["trained"]),
        "n_key": lambda d: len(d["key"]),
        "key_threshold": lambda d: d["threshold"],
        "flat_share": lambda d: 1 / len(d["spectra"]["trained"]),
        "key_share": _key_share,
        "strongest_frequency": _strongest,
        "strongest_share": lambda d: d["spectra"]["trained"][_strongest(d) - 1],
        "weakest_key_share": lambda d: min(d["spectra"]["trained"][k - 1] for k in d["key"]),
        "strongest_other_share": _other_max,
        "untrained_top_share": lambda d: _top_share(d["spectra"]["untrained"], len(d["key"])),
        "untrained_max_share": lambda d: max(d["spectra"]["untrained"]),
    },
    claims=(
        Claim(
            name="few_key_frequencies",
            statement="Only a handful of the frequencies are key.",
            left="n_key",
            op="<=",
            right=10,
        ),
        Claim(
            name="key_frequencies_hold_the_norm",
            statement="Those few frequencies hold most of the trained embedding's norm.",
            left="key_share",
            op=">",
            right=0.8,
        ),
        Claim(
            name="trained_beats_untrained",
            statement="The untrained host's strongest frequencies, as many of them, hold far less.",
            left="key_share",
            op=">",
            right="untrained_top_share",
            margin=0.4,
        ),
        Claim(
            name="untrained_has_no_key",
            statement="No frequency of the untrained host clears the key threshold.",
            left="untrained_max_share",
            op="<",
            right="key_threshold",
        ),
    ),
)
