"""A host and the symbiotes the essay grows on it, drawn from the code objects it uses.

The host column is the toy model of superposition of sections 3, 6, 7 and 8, listed in
the order its sites fire during a forward pass (recorded through scoped hooks), with the
activation shape at each site. Every symbiote drawn is one the essay trains on this host,
at the site where it does its job: a dictionary reading the hidden layer (sections 3 and
8), a steerer writing into it along a dictionary atom (section 6), and a dictionary
co-trained with the host, whose reconstruction error the host's training feels through
that same layer (section 7). The sites each reads and writes come from their
`Intervention` objects and the library's site names, not from a hand-made picture.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import altair as alt

from symbiote_core.figures.authoring.spec import Figure

HOST_SITES = ("hook_hidden", "hook_out")
"""Candidate sites of the host column; the figure keeps the order they fire in."""
ROLES = {"hook_hidden": "h = W x", "hook_out": "ReLU(W^T h + b)"}
"""What each site holds, in the notation of section 3."""

# Layout, in data units: host boxes span x in [-HOST_HALF, HOST_HALF], symbiotes sit at x = 1.
HOST_HALF, SYMBIOTE_HALF, HALF_BOX = 0.42, 0.22, 0.25
HOST_EDGE, SYMBIOTE_EDGE = HOST_HALF, 1.0 - SYMBIOTE_HALF


@dataclass(frozen=True)
class Params:
    seed: int = 0
    """Seed of the untrained host, its inputs and the dictionaries drawn."""
    batch: int = 2
    """Inputs run through the host to record each site's tensor shape."""
    n_features: int = 256
    """Sparse input features of the drawn toy host."""
    d_hidden: int = 32
    """Width of the drawn host's hidden layer."""
    dictionary_k: int = 3
    """Active latents per input of the drawn TopK dictionaries."""


def compute(p: Params) -> dict[str, Any]:
    import torch

    from symbiote_core.hosts.toy import ToyConfig, ToyModel
    from symbiote_core.interventions import Intervention, steer_feature
    from symbiote_core.sites import hooks, parse_site
    from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE

    cfg = ToyConfig(n_features=p.n_features, d_hidden=p.d_hidden, seed=p.seed)
    host = ToyModel(cfg, generator=torch.Generator().manual_seed(p.seed))
    # Untrained: the drawing needs the host's structure and shapes only.
    x = host.sample_features(p.batch, torch.Generator().manual_seed(p.seed))

    fired: list[tuple[str, tuple[int, ...]]] = []

    def record(tensor: torch.Tensor, *, site: str) -> None:
        fired.append((site, tuple(tensor.shape)))

    with torch.no_grad(), hooks(host, [(site, record) for site in HOST_SITES]):
        host(x)
    site = "hook_hidden"
    dictionary = TopKSAE(
        TopKConfig(d_in=p.d_hidden, d_sae=p.n_features, k=p.dictionary_k, seed=p.seed)
    )
    co_trained = TopKSAE(
        TopKConfig(d_in=p.d_hidden, d_sae=p.n_features, k=p.dictionary_k, seed=p.seed + 1)
    )
    steer = Intervention(site, steer_feature(dictionary, 0, scale=1.0))

    symbiotes = [
        _symbiote(
            "dictionary",
            dictionary,
            reads=[site],
            writes=[],
            job="rebuilds the hidden layer from a few atoms (sections 3, 8)",
        ),
        _symbiote(
            "steerer",
            None,
            reads=[],
            writes=[steer.site],
            job="adds a dictionary atom to the hidden layer (section 6)",
        ),
        _symbiote(
            "co-trained",
            co_trained,
            reads=[site],
            writes=[site],
            job="trains with the host; its error reaches the host's training through "
            "the hidden layer (section 7)",
        ),
    ]
    host_nodes = [
        {
            "site": name,
            "module": parse_site(name).module,
            "shape": list(shape),
            "kind": type(host.get_submodule(parse_site(name).module)).__name__,
        }
        for name, shape in fired
    ]
    return {
        "host": host_nodes,
        "symbiotes": symbiotes,
        "host_parameters": sum(t.numel() for t in host.parameters()),
    }


def _symbiote(
    name: str, module: Any, *, reads: list[str], writes: list[str], job: str
) -> dict[str, Any]:
    from symbiote_core.sites import parse_site

    parameters = sum(t.numel() for t in module.parameters()) if module is not None else 0
    return {
        "name": name,
        "job": job,
        "parameters": parameters,
        "reads": [parse_site(s).name for s in reads],
        "writes": [parse_site(s).name for s in writes],
    }


def _layout(data: dict[str, Any]) -> tuple[list[dict], list[dict], list[dict]]:
    """Host sites down the left, symbiotes on the right beside the sites they touch.

    An edge meets a host box at its top for an `:input` site and at its bottom for an
    `:output` site, so a transcoder's read and write stay apart.
    """
    row = {node["module"]: i for i, node in enumerate(data["host"])}
    hosts = [
        dict(
            node,
            x=0.0,
            y=float(row[node["module"]]),
            label=f"{node['module']}: {ROLES.get(node['module'], '')}".rstrip(": "),
            detail=" x ".join(map(str, node["shape"])),
        )
        for node in data["host"]
    ]

    def anchor(site: str) -> float:
        module, _, kind = site.partition(":")
        return row[module] + (-HALF_BOX if kind == "input" else HALF_BOX)

    placed: list[dict] = []
    for s in sorted(data["symbiotes"], key=lambda s: _mean(map(anchor, s["reads"] + s["writes"]))):
        wanted = _mean(map(anchor, s["reads"] + s["writes"]))
        # No two symbiote boxes may overlap: push a box down below the previous one.
        y = max(wanted, placed[-1]["y"] + 0.85) if placed else wanted
        size = f"{s['parameters']:,} parameters" if s["parameters"] else "no parameters of its own"
        placed.append(dict(s, x=1.0, y=y, label=s["name"], detail=size))
    edges = []
    for s in placed:
        edges += [
            {
                "symbiote": s["name"],
                "direction": "reads",
                "site": site,
                "x": HOST_EDGE,
                "y": anchor(site),
                "x2": SYMBIOTE_EDGE,
                "y2": s["y"] - (0.12 if s["writes"] else 0.0),  # keep read and write apart
            }
            for site in s["reads"]
        ]
        edges += [
            {
                "symbiote": s["name"],
                "direction": "writes",
                "site": site,
                "x": SYMBIOTE_EDGE,
                "y": s["y"] + (0.12 if s["reads"] else 0.0),
                "x2": HOST_EDGE,
                "y2": anchor(site),
            }
            for site in s["writes"]
        ]
    return hosts, placed, edges


def _mean(values: Any) -> float:
    values = list(values)
    return sum(values) / len(values)


def render(data: dict[str, Any]) -> alt.Chart:
    # Imported here, not at the top: a top-level import is part of the data key, and
    # colours must only re-render.
    from symbiote_core.figures.authoring import palette

    hosts, symbiotes, edges = _layout(data)
    n_rows = len(hosts)
    xs = alt.Scale(domain=[-HOST_HALF - 0.02, 1.0 + SYMBIOTE_HALF + 0.02])
    # Symbiotes stack below the host's last site when there are more of them.
    bottom = max([n_rows - 0.4] + [s["y"] + HALF_BOX + 0.15 for s in symbiotes])
    ys = alt.Scale(domain=[bottom, -0.6])  # first site at the top
    x = alt.X("x:Q", axis=None, scale=xs)
    y = alt.Y("y:Q", axis=None, scale=ys)
    hover = alt.selection_point(
        fields=["symbiote"], on="pointerover", empty=True, clear="pointerout"
    )
    host_color, symbiote_color = palette.color("muted"), palette.color("symbiote")
    colors = alt.Scale(**palette.scale({"reads": "symbiote", "writes": "neuron"}))

    host_boxes = (
        alt.Chart(alt.Data(values=hosts))
        .mark_rect(cornerRadius=4, color=host_color, opacity=0.18, stroke=host_color)
        .encode(
            x=alt.X("x0:Q", scale=xs, axis=None),
            x2="x1:Q",
            y=alt.Y("y0:Q", scale=ys, axis=None),
            y2="y1:Q",
            tooltip=[
                alt.Tooltip("site:N"),
                alt.Tooltip("kind:N", title="module"),
                alt.Tooltip("detail:N", title="activation shape"),
            ],
        )
        .transform_calculate(
            x0=f"datum.x - {HOST_HALF}",
            x1=f"datum.x + {HOST_HALF}",
            y0=f"datum.y - {HALF_BOX}",
            y1=f"datum.y + {HALF_BOX}",
        )
    )
    host_text = (
        alt.Chart(alt.Data(values=hosts)).mark_text(fontSize=11).encode(x=x, y=y, text="label:N")
    )
    flow = (
        alt.Chart(alt.Data(values=hosts[1:]))
        .mark_rule(color=host_color)
        .encode(
            x=x,
            y=alt.Y("top:Q", scale=ys, axis=None),
            y2="bottom:Q",
        )
        .transform_calculate(top=f"datum.y - {1 - HALF_BOX}", bottom=f"datum.y - {HALF_BOX}")
    )

    edge_lines = (
        alt.Chart(alt.Data(values=edges))
        .mark_rule(strokeWidth=2)
        .encode(
            x=x,
            y=y,
            x2="x2:Q",
            y2="y2:Q",
            color=alt.Color(
                "direction:N", scale=colors, title=None, legend=alt.Legend(orient="bottom")
            ),
            strokeDash=alt.StrokeDash(
                "direction:N",
                legend=None,
                scale=alt.Scale(domain=["reads", "writes"], range=[[1, 0], [5, 3]]),
            ),
            opacity=alt.condition(hover, alt.value(1.0), alt.value(0.15)),
            tooltip=["symbiote:N", "direction:N"],
        )
    )
    heads = (
        alt.Chart(alt.Data(values=edges))
        .mark_point(shape="triangle", filled=True, size=60)
        .encode(
            x=alt.X("x2:Q", scale=xs, axis=None),
            y=alt.Y("y2:Q", scale=ys, axis=None),
            angle=alt.Angle("angle:Q", scale=None),
            color=alt.Color("direction:N", scale=colors, legend=None),
            opacity=alt.condition(hover, alt.value(1.0), alt.value(0.15)),
        )
        .transform_calculate(
            # Vega's triangle points up; turn it along the edge (y grows downward on screen).
            angle="90 + atan2(datum.y2 - datum.y, datum.x2 - datum.x) * 180 / PI",
        )
    )
    symbiote_boxes = (
        alt.Chart(alt.Data(values=symbiotes))
        .mark_rect(cornerRadius=10, color=symbiote_color, opacity=0.12, stroke=symbiote_color)
        .encode(
            x=alt.X("x0:Q", scale=xs, axis=None),
            x2="x1:Q",
            y=alt.Y("y0:Q", scale=ys, axis=None),
            y2="y1:Q",
            opacity=alt.condition(hover, alt.value(0.3), alt.value(0.08)),
            tooltip=[
                alt.Tooltip("name:N", title="symbiote"),
                alt.Tooltip("job:N"),
                alt.Tooltip("detail:N", title="size"),
            ],
        )
        .transform_calculate(
            symbiote="datum.name",
            x0=f"datum.x - {SYMBIOTE_HALF}",
            x1=f"datum.x + {SYMBIOTE_HALF}",
            y0=f"datum.y - {HALF_BOX}",
            y1=f"datum.y + {HALF_BOX}",
        )
        .add_params(hover)
    )
    symbiote_text = (
        alt.Chart(alt.Data(values=symbiotes))
        .mark_text(fontSize=11, fontWeight="bold", color=symbiote_color)
        .encode(x=x, y=y, text="label:N")
    )

    return (
        alt.layer(host_boxes, flow, host_text, edge_lines, heads, symbiote_boxes, symbiote_text)
        .properties(
            width=340,
            height=round(48 * (bottom + 0.6)),
            description="Diagram: the toy host's sites in a column, with the three "
            "symbiotes the essay grows on it beside it and arrows for the sites each "
            "reads or writes.",
        )
        .configure_view(stroke=None)
    )


ALT = (
    "Two host sites in a column, the hidden layer and the output, of a host with "
    "{{ value: symbiote_diagram.host_parameters }} parameters. To the right, three boxes: a "
    "dictionary with an arrow from the hidden layer, a steerer with an arrow into it, and a "
    "co-trained dictionary with arrows both ways."

)
"""Alt text: its numbers are the figure's values, filled in by the site."""

METHODS = (
    "**What is drawn.** Not an experiment: the toy host ({{ param: symbiote_diagram.n_features }} "
    "features in {{ param: symbiote_diagram.d_hidden }} dimensions, seed "
    "{{ param: symbiote_diagram.seed }}, untrained: the drawing needs only its structure) is run "
    "once on a batch of {{ param: symbiote_diagram.batch }} inputs through scoped hooks, which "
    "record its sites in the order they fire and the activation shape at each. The symbiotes are "
    "the essay's own objects on this host (a TopK dictionary with k = "
    "{{ param: symbiote_diagram.dictionary_k }}, a steerer along one of its atoms, a co-trained "
    "dictionary), and the arrows are the sites their `Intervention` objects read and write. No "
    "seeds and no claim."

)
"""The methods appendix's paragraph (see `Figure.methods`)."""

FIGURE = Figure(
    title="A host and the three symbiotes the essay grows on it",
    caption=(
        "{{ panel: left | capital }}: the sites of the toy host of sections 3, 6, 7 and 8, in the order they fire "
        "in a forward pass; hover one for its activation shape. {{ panel: right | capital }}: symbiotes built "
        "for those sites by the same library calls the experiments use, each one the "
        "essay trains on this host. Solid arrows are reads, dashed arrows writes; hover a "
        "symbiote to isolate its arrows. The dictionary only reads; the steerer only "
        "writes; the co-trained dictionary reads the hidden layer and, through the "
        "coupling in the host's loss, shapes what the host writes there."
    ),
    alt=ALT,
    methods=METHODS,
    params=Params(),
    compute=compute,
    render=render,
    values={"host_parameters": ("the parameters of the host drawn", lambda d: d["host_parameters"])},
)
