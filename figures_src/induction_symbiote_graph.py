"""The induction circuit read through a dictionary, graded against path patching.

A TopK dictionary grows on the residual stream between the two layers of the induction
host (`blocks.0.hook_resid_post`), one instance per seed, and as controls on the same
site of the untrained 2-layer host and of the trained 1-layer host (all trained
together). Its latents are labelled by the feature of the input they best match
(Pearson correlation with "the current token is X", "the previous token was X" or "the
position is t") on held-out sequences.

The symbiote's graph: each source of the residual stream (the embedding and each
layer-0 head) is read through the latents, and its latent terms are followed through
the layer-1 heads' queries, keys and values to the metric (correct logit minus mean
logit on the induction targets); see `figures_src/_symbiote_graph.py`. The ground
truth: path patching of every edge (mean ablation), on the same sequences. An edge
counts when it moves the metric by more than `edge_threshold` logits; the graph's
precision and recall are measured against the truth at that same threshold (one
unit for both graphs), and the figure lets the reader move the symbiote's threshold.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

import altair as alt

from figures_src._induction_seeds import SEEDS, TUNING_SEEDS
from symbiote_core.figures.authoring.spec import Claim, Figure, Null

KINDS = ("current token", "previous token", "position")
HOSTS = ("trained", "untrained", "control")
"""Where dictionaries grow: the 2-layer host, the same host untrained, the 1-layer host."""
THRESHOLD_PARAM = "edge_threshold"
SEED_PARAM = "graph_seed"
DICTIONARY_STREAM = 30_000
"""Added to each seed for the sequences the dictionaries train on."""


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = SEEDS
    """Hosts and dictionaries per seed (batched); values are per seed in this order."""
    eval_sequences: int = 128
    """Held-out sequences per seed: labels, attribution and path patching all use them."""
    dictionary_sequences: int = 512
    """Sequences per seed the dictionaries train on (16 positions each)."""
    d_sae: int = 192
    """Latents: room for 64 current-token, 64 previous-token and 16 position features."""
    k: int = 4
    """Latents kept per position: one per feature a position carries, and one spare."""
    dictionary_steps: int = 1000
    label_threshold: float = 0.5
    """A latent is read as a feature when its activation correlates with that feature's
    indicator above this (a criterion fixed in advance: most of its variance shared)."""
    edge_threshold: float = 1.0
    """An edge counts when it moves the logit lead of the correct token by over one
    logit (a factor e in its odds against the average token); fixed in advance."""


def _residuals(model: Any, tokens: Any) -> Any:
    """`(I, B, T, D)` at `blocks.0.hook_resid_post`."""
    import torch

    store: list[Any] = []
    handle = model.blocks[0].hook_resid_post.register_forward_hook(
        lambda m, i, out: store.append(out.detach())
    )
    try:
        with torch.no_grad():
            model(tokens)
    finally:
        handle.remove()
    return store[0]


def _grow(p: Params, acts: Any, train_it: bool) -> Any:
    """A batched TopK dictionary on `acts` `(N, n, D)`; left at its initialisation
    (centred on the data) when `train_it` is False."""
    import torch

    from symbiote_core.symbiotes.topk import TopKConfig, TopKSAE
    from symbiote_core.train import TrainConfig, train

    # No AuxK loss: it doubled the training cost, and few latents die here.
    cfg = TopKConfig(
        d_in=acts.shape[-1],
        d_sae=p.d_sae,
        n_instances=acts.shape[1],
        k=p.k,
        aux_coeff=0.0,
        seed=p.seeds[0],
    )
    sae = TopKSAE(cfg)
    if train_it:
        train(
            sae,
            acts,
            TrainConfig(
                steps=p.dictionary_steps, batch_size=128, lr=3e-3, seed=p.seeds[0], progress=False
            ),
        )
    else:
        with torch.no_grad():
            sae.init_from_data(acts)
    return sae.eval()


def _labels(codes: Any, batch: Any, vocab: int) -> dict[str, Any]:
    """Per instance: each latent's best-matching feature, its kind and its correlation.

    `codes` `(I, B, T, L)`. Features: current token (vocab), previous token (vocab; none
    at position 0), position (T)."""
    import torch

    n_inst, B, T, L = codes.shape
    tokens = batch.tokens
    cur = torch.nn.functional.one_hot(tokens, vocab).double()
    prev = torch.zeros_like(cur)
    prev[:, :, 1:] = cur[:, :, :-1]
    pos = torch.eye(T, dtype=torch.float64).expand(n_inst, B, T, T)
    feats = torch.cat([cur, prev, pos], dim=-1).reshape(n_inst, B * T, -1)
    z = codes.double().reshape(n_inst, B * T, L)

    def standard(x: Any) -> Any:
        x = x - x.mean(dim=1, keepdim=True)
        return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)

    corr = torch.einsum("inl,inf->ilf", standard(z), standard(feats))  # (I, L, F)
    best, which = corr.max(dim=-1)
    kind = torch.where(which < vocab, 0, torch.where(which < 2 * vocab, 1, 2))
    feature = torch.where(
        which < vocab, which, torch.where(which < 2 * vocab, which - vocab, which - 2 * vocab)
    )
    alive = (codes > 0).reshape(n_inst, B * T, L).any(dim=1)
    return {"score": best * alive, "kind": kind, "feature": feature, "alive": alive}


def compute(p: Params) -> dict[str, Any]:
    import torch

    from figures_src import _symbiote_graph as graph
    from figures_src._induction import EVALUATION_STREAM, held_out, train_hosts

    hosts = train_hosts(p.seeds)
    models = {"trained": hosts.trained, "untrained": hosts.untrained, "control": hosts.control}
    n = len(p.seeds)
    vocab = hosts.trained.cfg.vocab_size
    n_heads = hosts.trained.cfg.n_heads
    train_batch = held_out(p.seeds, p.dictionary_sequences, DICTIONARY_STREAM)
    batch = held_out(p.seeds, p.eval_sequences, EVALUATION_STREAM)
    # One batched dictionary over the three hosts: instances [host * n + seed].
    acts = torch.cat([_residuals(models[h], train_batch.tokens) for h in HOSTS], dim=0)
    acts = acts.flatten(1, 2).transpose(0, 1).contiguous()  # (B*T, 3n, D)
    sae = _grow(p, acts, train_it=True)
    raw = _grow(p, acts, train_it=False)  # the untrained-dictionary null

    out: dict[str, Any] = {"seeds": list(p.seeds), "edges": graph.edge_list(n_heads)}
    for h, host in enumerate(HOSTS):
        mids = _residuals(models[host], batch.tokens)
        index = torch.arange(h * n, (h + 1) * n)
        with torch.no_grad():
            codes = sae.encode(graph._with_instances(mids, sae.n_instances, index))
            recon = sae.decode(codes)[:, :, index].permute(2, 0, 1, 3)
        codes = codes[:, :, index].permute(2, 0, 1, 3)
        fvu = (recon - mids).pow(2).sum(dim=(1, 2, 3)) / (
            mids - mids.mean(dim=(1, 2), keepdim=True)
        ).pow(2).sum(dim=(1, 2, 3))
        lab = _labels(codes, batch, vocab)
        good = lab["score"] > p.label_threshold
        out[host] = {
            "fvu": fvu.tolist(),
            "alive": lab["alive"].sum(-1).tolist(),
            "count": {
                kind: (good & (lab["kind"] == i)).sum(-1).tolist() for i, kind in enumerate(KINDS)
            },
            # Distinct features of each kind that some latent reads.
            "coverage": {
                kind: [
                    len(set(lab["feature"][s][good[s] & (lab["kind"][s] == i)].tolist()))
                    for s in range(n)
                ]
                for i, kind in enumerate(KINDS)
            },
            "scores": [
                [
                    [round(float(v), 4), KINDS[int(c)]]
                    for v, c, a in zip(
                        lab["score"][s], lab["kind"][s], lab["alive"][s], strict=True
                    )
                    if a
                ]
                for s in range(n)
            ],
        }
        if host == "control":
            continue
        model = models[host]
        fwd = graph.forward(model, batch.tokens)
        u = graph.readout(model, batch)
        readers = {"dictionary": graph.dictionary_reader(sae, index.tolist(), fwd)}
        if host == "trained":  # on the untrained host there is nothing to find (truth empty)
            readers["untrained dictionary"] = graph.dictionary_reader(raw, index.tolist(), fwd)
            readers["no dictionary"] = graph.identity_reader(fwd)
        weights = {}
        for name, reader in readers.items():
            a = graph.attribute(model, fwd, reader, u)
            qk = graph.recompute_qk(model, fwd, reader, u)
            weights[name] = graph.graph_weights(a["flows"], n_heads, qk).tolist()
            if name == "dictionary":
                weights["first order"] = graph.graph_weights(a["flows"], n_heads).tolist()
                out[host]["exactness_error"] = (
                    (a["exact"] - graph.logit_diff(fwd.logits, batch)).abs().tolist()
                )
                out[host]["error_share"] = [
                    float(v) for v in a["rest"]["dictionary error"].abs().sum(-1)
                ]
        out[host]["weights"] = weights
        out[host]["truth"] = graph.patch_effects(model, batch).tolist()
        out[host]["logit_diff"] = graph.logit_diff(fwd.logits, batch).tolist()
    return out


# ----- values -----


def _grade(weights: list[float], truth: list[float], threshold: float) -> dict[str, float]:
    found = [abs(w) > threshold for w in weights]
    real = [abs(t) > threshold for t in truth]
    hits = sum(f and r for f, r in zip(found, real, strict=True))
    n_found, n_real, n = sum(found), sum(real), len(real)
    return {
        # An empty graph has no false edges: precision 1 by convention is too kind, so 0.
        "precision": hits / n_found if n_found else 0.0,
        "recall": hits / n_real if n_real else 0.0,
        "n_found": n_found,
        "n_real": n_real,
        "random_precision": n_real / n,
        "random_recall": n_found / n,
    }


def _grades(data: dict[str, Any], host: str, reader: str) -> list[dict[str, float]]:
    threshold = PARAMS.edge_threshold
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


def _values(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for host in HOSTS:
        h = data[host]
        prefix = "" if host == "trained" else f"{host}_"
        out[f"{prefix}fvu"] = h["fvu"]
        out[f"{prefix}alive"] = h["alive"]
        for kind in KINDS:
            key = kind.replace(" ", "_")
            out[f"{prefix}n_{key}_latents"] = h["count"][kind]
            out[f"{prefix}{key}_coverage"] = h["coverage"][kind]
    for reader, tag in READERS.items():
        for key in GRADES:
            out[f"{tag}{key}"] = [g[key] for g in _grades(data, "trained", reader)]
    for host in ("trained", "untrained"):
        prefix = "" if host == "trained" else f"{host}_"
        h = data[host]
        out[f"{prefix}exactness_error"] = h["exactness_error"]
        out[f"{prefix}logit_diff"] = h["logit_diff"]
        out[f"{prefix}max_truth"] = [max(abs(t) for t in row) for row in h["truth"]]
        out[f"{prefix}max_symbiote_edge"] = [
            max(abs(w) for w in row) for row in h["weights"]["dictionary"]
        ]
    return out


def _value(name: str) -> Any:
    return lambda d: _values(d)[name]


# ----- render -----


def _edge_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    h = data["trained"]
    n_heads = 1 + max(int(e[1][-1]) for e in data["edges"] if e[1].startswith("L"))
    where = {"tokens": (0, (n_heads - 1) / 2), "logits": (3, (n_heads - 1) / 2)}
    for layer in (0, 1):
        for i in range(n_heads):
            where[f"L{layer} H{i}"] = (1 + layer, i)
    offset = {"q": -0.18, "k": 0.0, "v": 0.18, "": 0.0}
    rows = []
    for seed, weights, truth in zip(
        data["seeds"], h["weights"]["dictionary"], h["truth"], strict=True
    ):
        for (source, target, part), w, t in zip(data["edges"], weights, truth, strict=True):
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
                    "real": abs(t) > PARAMS.edge_threshold,
                }
            )
    return rows


def _curve(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Mean precision and recall over seeds as the symbiote's threshold moves."""
    h = data["trained"]
    rows = []
    for step in range(0, 61):
        threshold = 0.1 * step
        grades = [
            _grade_at(w, t, threshold)
            for w, t in zip(h["weights"]["dictionary"], h["truth"], strict=True)
        ]
        for key in ("precision", "recall"):
            rows.append(
                {
                    "threshold": round(threshold, 2),
                    "measure": key,
                    "value": statistics.fmean(g[key] for g in grades),
                }
            )
    return rows


def _grade_at(weights: list[float], truth: list[float], threshold: float) -> dict[str, float]:
    """Symbiote edges above `threshold`; truth edges above the fixed `edge_threshold`."""
    found = [abs(w) > threshold for w in weights]
    real = [abs(t) > PARAMS.edge_threshold for t in truth]
    hits = sum(f and r for f, r in zip(found, real, strict=True))
    return {
        "precision": hits / sum(found) if any(found) else 0.0,
        "recall": hits / sum(real) if any(real) else 0.0,
    }


def render(data: dict[str, Any]) -> alt.HConcatChart:
    from symbiote_core.figures.authoring import palette  # render-only: keeps the data key

    threshold = alt.param(
        name=THRESHOLD_PARAM,
        value=PARAMS.edge_threshold,
        bind=alt.binding_range(
            min=0.0, max=6.0, step=0.1, name="symbiote's edge threshold (logits) "
        ),
    )
    seed = alt.param(
        name=SEED_PARAM,
        value=data["seeds"][0],
        bind=alt.binding_radio(options=list(data["seeds"]), name="seed "),
    )
    rows = _edge_rows(data)
    this_seed = alt.datum.seed == seed
    shown = f"datum.weight > {THRESHOLD_PARAM}"
    xs = alt.Scale(domain=[-0.3, 3.3], nice=False, zero=False)
    ys = alt.Scale(domain=[-0.9, 4.2], nice=False, zero=False, reverse=True)
    x, y = alt.X("x:Q", scale=xs, axis=None), alt.Y("y:Q", scale=ys, axis=None)
    status = (
        f"({shown}) && datum.real ? 'found, real' : ({shown}) ? 'found, not real' : "
        "datum.real ? 'missed' : 'absent'"
    )
    base = (
        alt.Chart(alt.Data(values=rows))
        .transform_filter(this_seed)
        .transform_calculate(status=status)
    )
    lines = (
        base.transform_filter("datum.status != 'absent'")
        .mark_rule(strokeCap="round")
        .encode(
            x=x,
            y=y,
            x2="x2:Q",
            y2="y2:Q",
            strokeWidth=alt.StrokeWidth(
                "weight:Q", scale=alt.Scale(domain=[0, 8], range=[0.5, 9]), legend=None
            ),
            strokeDash=alt.condition(
                "datum.status == 'missed'", alt.value([3, 3]), alt.value([1, 0])
            ),
            color=alt.Color(
                "status:N",
                scale=alt.Scale(
                    domain=["found, real", "found, not real", "missed"],
                    range=[palette.color(r) for r in ("symbiote", "neuron", "control")],
                ),
                legend=alt.Legend(title="edge", orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("edge:N"),
                alt.Tooltip("signed:Q", format=".2f", title="symbiote (logits)"),
                alt.Tooltip("truth:Q", format=".2f", title="path patching (logits)"),
                alt.Tooltip("status:N"),
            ],
        )
    )
    nodes = []
    for i in range(4):
        nodes += [{"x": 1, "y": i, "name": f"L0 H{i}"}, {"x": 2, "y": i, "name": f"L1 H{i}"}]
    nodes += [{"x": 0, "y": 1.5, "name": "tokens"}, {"x": 3, "y": 1.5, "name": "logits"}]
    dots = (
        alt.Chart(alt.Data(values=nodes))
        .mark_circle(
            size=1500, color=palette.color("background"), stroke=palette.color("axis"), opacity=1
        )
        .encode(x=x, y=y)
    )
    names = (
        alt.Chart(alt.Data(values=nodes))
        .mark_text(fontSize=11, color=palette.color("ink"))
        .encode(x=x, y=y, text="name:N")
    )
    score = (
        base.transform_calculate(
            found=f"{shown} ? 1 : 0",
            hit=f"({shown}) && datum.real ? 1 : 0",
            truthy="datum.real ? 1 : 0",
        )
        .transform_aggregate(found="sum(found)", hit="sum(hit)", real="sum(truthy)")
        .transform_calculate(
            text="'precision ' + format(datum.found ? datum.hit / datum.found : 0, '.2f') + "
            "'   recall ' + format(datum.real ? datum.hit / datum.real : 0, '.2f')"
        )
        .mark_text(fontSize=12, color=palette.color("muted"), align="left")
        .encode(x=alt.datum(-0.25, scale=xs), y=alt.datum(3.9, scale=ys), text="text:N")
    )
    graph = (
        (lines + dots + names + score)
        .add_params(threshold, seed)
        .properties(
            width=300,
            height=280,
            title=alt.Title(
                "The symbiote's graph against path patching",
                subtitle="q, k, v edges fan into a layer-1 head top to bottom",
            ),
        )
    )
    curve = (
        alt.Chart(alt.Data(values=_curve(data)))
        .mark_line()
        .encode(
            x=alt.X("threshold:Q", title="symbiote's threshold (logits)"),
            y=alt.Y("value:Q", title="mean over seeds", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color(
                "measure:N",
                scale=alt.Scale(range=[palette.color("symbiote"), palette.color("oracle")]),
                legend=alt.Legend(orient="bottom"),
            ),
        )
    )
    rule = (
        alt.Chart(alt.Data(values=[{}]))
        .mark_rule(color=palette.color("axis"), strokeDash=[3, 3])
        .encode(x=alt.datum(alt.expr(THRESHOLD_PARAM), type="quantitative"))
    )
    return (
        alt.hconcat(
            graph,
            alt.vconcat(
                (curve + rule).properties(width=180, height=150, title="Precision and recall"),
                _latent_chart(data),
            )
            .resolve_scale(color="independent")
            .resolve_legend(color="independent"),
        )
        .resolve_scale(color="independent")
        .resolve_legend(color="independent")
        .configure_view(stroke=None)
    )


HOST_NAMES = {"trained": "2-layer host", "untrained": "untrained host", "control": "1-layer host"}


def _latent_chart(data: dict[str, Any]) -> alt.Chart:
    """Latents read as each kind of feature, per host, one dot per seed."""
    from symbiote_core.figures.authoring import palette  # render-only: keeps the data key

    rows = [
        {"host": HOST_NAMES[host], "kind": kind, "seed": seed, "latents": count}
        for host in HOSTS
        for kind in KINDS
        for seed, count in zip(data["seeds"], data[host]["count"][kind], strict=True)
    ]
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_point(filled=True, size=28, opacity=0.8)
        .encode(
            x=alt.X("latents:Q", title=f"latents (correlation > {PARAMS.label_threshold:g})"),
            y=alt.Y("kind:N", sort=list(KINDS), title=None),
            yOffset=alt.YOffset("host:N", sort=list(HOST_NAMES.values())),
            color=alt.Color(
                "host:N",
                sort=list(HOST_NAMES.values()),
                scale=alt.Scale(range=[palette.color(r) for r in ("symbiote", "control", "muted")]),
                legend=alt.Legend(orient="bottom", title=None, columns=1),
            ),
            tooltip=["host:N", "kind:N", "seed:O", "latents:Q"],
        )
        .properties(width=180, height=110, title="What the latents read")
    )


PARAMS = Params()
UNTRAINED_DICTIONARY = (
    "the same dictionary left at its initialisation (centred on the data), read by the same "
    "attribution on the same host and sequences"
)
MOST = "a generic criterion: most (over half), on every seed"
VALUE_NAMES = tuple(
    [f"{tag}{key}" for tag in READERS.values() for key in GRADES]
    + [
        f"{prefix}{name}"
        for prefix in ("", "untrained_", "control_")
        for name in (
            "fvu",
            "alive",
            *tuple(f"n_{k.replace(' ', '_')}_latents" for k in KINDS),
            *tuple(f"{k.replace(' ', '_')}_coverage" for k in KINDS),
        )
    ]
    + [
        f"{prefix}{name}"
        for prefix in ("", "untrained_")
        for name in ("exactness_error", "logit_diff", "max_truth", "max_symbiote_edge")
    ]
)

ALT = (
    "A graph with four columns (tokens, layer-0 heads, layer-1 heads, logits): the dictionary's "
    "edges, thick where they move the metric most (up to "
    "{{ value: induction_symbiote_graph.max_symbiote_edge | .1f mean }} logits), against path "
    "patching's {{ value: induction_symbiote_graph.n_real | .0f mean }} real edges. At the "
    "threshold of {{ value: induction_symbiote_graph.edge_threshold }} logit the symbiote's graph "
    "has precision {{ value: induction_symbiote_graph.precision | .2f mean }} and recall "
    "{{ value: induction_symbiote_graph.recall | .2f mean }}, random edge weights "
    "{{ value: induction_symbiote_graph.random_precision | .2f mean }} and "
    "{{ value: induction_symbiote_graph.random_recall | .2f mean }}. Dots count each kind of "
    "latent: {{ value: induction_symbiote_graph.n_previous_token_latents | .0f mean }} "
    "previous-token latents on the trained 2-layer host, "
    "{{ value: induction_symbiote_graph.untrained_n_previous_token_latents | .0f mean }} on the "
    "untrained one and "
    "{{ value: induction_symbiote_graph.control_n_previous_token_latents | .0f mean }} on the "
    "1-layer host. Means over {{ value: induction_symbiote_graph.n_seeds }} seeds."

)
"""Alt text: its numbers are the figure's values, filled in by the site."""

METHODS = (
    "**Host.** The attention-only induction transformer of section 5: "
    "{{ code: symbiote_core.hosts.induction.InductionConfig.n_layers }} layers of "
    "{{ code: symbiote_core.hosts.induction.InductionConfig.n_heads }} heads, width "
    "{{ code: symbiote_core.hosts.induction.InductionConfig.d_model }}, "
    "{{ code: symbiote_core.hosts.induction.InductionConfig.vocab_size }} tokens, sequences of "
    "{{ code: symbiote_core.hosts.induction.InductionConfig.seq_len }} whose second half repeats a "
    "random span of {{ code: symbiote_core.hosts.induction.InductionConfig.min_span }} to "
    "{{ code: symbiote_core.hosts.induction.InductionConfig.max_span }} tokens; trained with AdamW "
    "(learning rate {{ code: symbiote_core.hosts.induction.InductionConfig.lr }} after "
    "{{ code: symbiote_core.hosts.induction.InductionConfig.warmup }} warm-up steps, weight decay "
    "{{ code: symbiote_core.hosts.induction.InductionConfig.weight_decay }}) for "
    "{{ code: symbiote_core.hosts.induction.InductionConfig.steps }} steps on batches of "
    "{{ code: symbiote_core.hosts.induction.InductionConfig.batch_size }} sequences, one host per "
    "seed. **Symbiote.** A TopK dictionary of {{ param: induction_symbiote_graph.d_sae }} latents "
    "(k = {{ param: induction_symbiote_graph.k }}, no AuxK loss) on the residual stream between "
    "the two layers, one per seed, grown on "
    "{{ param: induction_symbiote_graph.dictionary_sequences }} sequences with Adam (learning rate "
    "{{ code: figures_src.induction_symbiote_graph._grow.lr }}, batches of "
    "{{ code: figures_src.induction_symbiote_graph._grow.batch_size }}, "
    "{{ param: induction_symbiote_graph.dictionary_steps }} steps). Latents are labelled by the "
    "input feature they correlate with best (current token, previous token, position) at "
    "correlation above {{ param: induction_symbiote_graph.label_threshold }}. The graph follows "
    "each residual source through the latents and the layer-1 heads' queries, keys and values to "
    "the correct logit minus the mean logit. **Ground truth.** Path patching of every edge (mean "
    "ablation) on the same {{ param: induction_symbiote_graph.eval_sequences }} sequences; an edge "
    "counts above {{ param: induction_symbiote_graph.edge_threshold }} logit, for both graphs. "
    "**Controls.** Random edge weights; the same dictionary on the untrained 2-layer host and on "
    "the 1-layer host. **Seeds.** {{ value: induction_symbiote_graph.n_seeds }} ({{ param: "
    "induction_symbiote_graph.seeds }})."

)
"""The methods appendix's paragraph (see `Figure.methods`)."""

FIGURE = Figure(
    title="A dictionary between the layers reads the induction circuit; path patching grades it",
    caption=(
        "{{ panel: left | capital }}: the head-level graph of the 2-layer host for one seed (the radio buttons pick "
        "it), read through a TopK dictionary of "
        f"{PARAMS.d_sae} latents grown on the residual stream between the layers. Each "
        "source of that stream (the embedding, each layer-0 head) is followed through the "
        "latents into each layer-1 head's queries, keys and values (the three edges into a "
        "head, top to bottom) and on to the logits; an edge's width is its effect on the "
        "correct token's logit lead over the average token. {{ colour: symbiote | capital }}: the symbiote's edge is "
        "also an edge of the ground truth, path patching by mean ablation on the same "
        f"{PARAMS.eval_sequences} held-out sequences per seed with a fixed threshold of "
        f"{PARAMS.edge_threshold:g} logit; {{{{ colour: neuron }}}}: the symbiote's edge is not in the truth; "
        "dashed grey: a true edge the symbiote misses. The slider moves the symbiote's "
        "threshold; precision and recall under the graph follow it. {{ panel: right | capital }}: precision and "
        "recall, mean over seeds, as the threshold moves (dashed: the slider); below, how "
        "many latents read the current token, the previous token or the position, on the "
        "2-layer host, the same host untrained and the 1-layer host (one dot per seed)."
    ),
    alt=ALT,
    methods=METHODS,
    params=PARAMS,
    tuning_seeds=TUNING_SEEDS,  # the induction recipe's (figures_src/_induction_seeds.py)
    compute=compute,
    render=render,
    values={
        "n_seeds": lambda d: len(d["seeds"]),
        "n_edges": lambda d: len(d["edges"]),
        "d_sae": lambda d: PARAMS.d_sae,
        "k": lambda d: PARAMS.k,
        "label_threshold": lambda d: PARAMS.label_threshold,
        "edge_threshold": lambda d: PARAMS.edge_threshold,
        "eval_sequences": lambda d: PARAMS.eval_sequences,
        **{name: _value(name) for name in VALUE_NAMES},
    },
    # Reported, not claimed (issue 17): the previous-token counts of the untrained and
    # the 1-layer host were 0 on every seed (a constant null side), and the untrained
    # dictionary compared with itself cannot differ: none of those nulls could fail.
    claims=(
        Claim(
            name="graph_precision",
            statement="Most of the edges the symbiote reads are edges of the ground truth.",
            left="precision",
            op=">",
            right=0.5,
            control="a graph of as many edges drawn at random; the same dictionary at "
            "initialisation is reported beside it",
            why=MOST,
            null=Null(
                description="a graph of as many edges drawn at random (expected precision: "
                "the share of true edges among all edges)",
                values={"precision": "random_precision"},
            ),
        ),
        Claim(
            name="graph_recall",
            statement="The symbiote's graph finds most of the true edges.",
            left="recall",
            op=">",
            right=0.5,
            control="a graph of as many edges drawn at random (its recall is its share of "
            "all edges)",
            why=MOST,
            null=Null(
                description=UNTRAINED_DICTIONARY,
                values={"recall": "raw_recall"},
            ),
        ),
    ),
)
