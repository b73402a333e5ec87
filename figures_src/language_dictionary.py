"""A faithful dictionary on the byte-level host, and which labels its single latents match.

TopK dictionaries (`_lab.language.DictionaryParams`) are grown on the residual stream after
attention (the MLP's input) of each trained host and of its random-init twin, at a few
sparsities. Faithfulness decides which one is read: spliced into the host (the site
replaced by its reconstruction), how many bits per byte does it cost on held-out fit
files; the sparsest that costs at most `max_splice_bits` is chosen, before any latent
is matched to a label.

Then every single unit is matched against every feature (`_lab.language.FEATURES`: one
class of one label): the unit's activation above a threshold predicts the feature, the
unit and threshold are chosen on fit files, and the Matthews correlation of prediction and
feature (`_lab.language.best_unit_mcc`) is measured on test files. Three
readers offer units, matched in count: the dictionary's latents, the host's MLP neurons
(a privileged basis), and random directions in the dictionary's space; each on the
trained host and on its twin.

The data also carries a feature browser (`symbiote_core.browser`) of the first seed's
chosen dictionary on the test files, which the site publishes at
`browser/language_dictionary/`.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

import altair as alt

from figures_src._lab.language import FEATURES, DictionaryParams, ReadParams
from figures_src._lab.language_host import HostParams
from figures_src._lab.values import n_seeds, stored
from symbiote_core.figures.authoring.inputs import Package
from symbiote_core.figures.authoring.spec import Claim, Figure, Null

READERS = ("latents", "neurons", "random")
READER_NAMES = {
    "latents": "dictionary latents",
    "neurons": "MLP neurons",
    "random": "random directions",
}
READER_ROLES = {
    "dictionary latents": "symbiote",
    "MLP neurons": "neuron",
    "random directions": "control",
}
HOSTS = ("trained", "twin")
CONTEXTUAL = (
    "in a string",
    "in a comment",
    "inside brackets",
    "depth 2 or more",
    "indented",
    "indent 2 or more",
    "identifier seen before",
)
"""Features set by bytes further back than the current token: the ones a reader of the
last few bytes cannot have. The rest (token kinds, first byte of a token) are lexical."""


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = (5, 6, 7, 8, 9)
    """Evaluation seeds: one host and one dictionary per seed (and per k while k is chosen)."""
    host: HostParams = field(default_factory=HostParams)
    read: ReadParams = field(default_factory=ReadParams)
    dictionary: DictionaryParams = field(default_factory=DictionaryParams)
    match_rows: int = 4096
    """Fit rows (a seeded sample) on which each unit's threshold and the best unit are chosen."""
    faith_windows: int = 128
    """Test windows the faithfulness of the dictionaries is measured on."""
    random_seed_offset: int = 7919
    """Random directions come from the generator `seed + random_seed_offset`."""
    browser_examples: int = 6
    """Strongest activations the feature browser shows per latent (first seed's host only)."""
    browser_context: tuple[int, int] = (16, 4)
    """Bytes shown before and after each of the browser's examples."""


def compute(p: Params) -> dict[str, Any]:
    import torch

    from figures_src._lab.language import (
        activations,
        best_unit_mcc,
        dictionaries,
        encode_site,
        feature_targets,
        mlp_site,
        window_sample,
        windows,
    )
    from figures_src._lab.language_host import train_hosts
    from symbiote_core.metrics import random_directions

    fit, test = windows(p.host, p.read)
    hosts = train_hosts(p.host, p.seeds)
    dicts = dictionaries(p.host, p.seeds, p.dictionary)
    k = dicts.k
    faith = window_sample(test, p.read, p.faith_windows)
    faithful = _faithfulness(p, hosts, dicts, test.tokens[faith], k)
    pos = slice(p.read.min_position, p.host.context)
    site = p.dictionary.site
    sample = torch.randperm(
        fit.tokens.shape[0] * (p.host.context - p.read.min_position),
        generator=torch.Generator().manual_seed(p.read.window_seed),
    )[: p.match_rows]
    targets = {
        part: torch.stack(
            [feature_targets(w.labels, f)[:, pos].reshape(-1) for f in FEATURES], dim=1
        )
        for part, w in (("fit", fit), ("test", test))
    }
    targets["fit"] = targets["fit"][sample]
    matches = []
    browser: dict[str, Any] = {}
    for host in HOSTS:
        model = getattr(hosts, host)
        sae = dicts.by(host, k)
        units: dict[str, dict[str, torch.Tensor]] = {}
        for part, w in (("fit", fit), ("test", test)):
            acts = activations(model, w.tokens, [site, mlp_site(p.host.n_layers)])
            x = acts[site][:, :, pos].flatten(1, 2)  # (I, N, d)
            directions = torch.stack(
                [
                    random_directions(
                        p.dictionary.d_sae,
                        x.shape[-1],
                        torch.Generator().manual_seed(seed + p.random_seed_offset),
                    )
                    for seed in p.seeds
                ]
            )  # (I, units, d)
            readers = {
                "latents": encode_site(sae, x),
                "neurons": acts[mlp_site(p.host.n_layers)][:, :, pos].flatten(1, 2),
                "random": x @ directions.transpose(1, 2),
            }
            for reader, scores in readers.items():
                units.setdefault(reader, {})[part] = scores[:, sample] if part == "fit" else scores
            if host == "trained" and part == "test":
                browser = _browser(p, encode_site(sae, acts[site])[0], w, k)
        for reader in READERS:
            mcc, chosen = best_unit_mcc(
                units[reader]["fit"], targets["fit"], units[reader]["test"], targets["test"]
            )
            for i, seed in enumerate(p.seeds):
                for j, feature in enumerate(FEATURES):
                    matches.append(
                        {
                            "host": host,
                            "reader": reader,
                            "seed": seed,
                            "feature": feature.name,
                            "mcc": round(mcc[i, j].item(), 5),
                            "unit": int(chosen[i, j]),
                        }
                    )
    base = {
        f.name: targets["test"][:, j][~targets["test"][:, j].isnan()].mean().item()
        for j, f in enumerate(FEATURES)
    }
    return {
        "seeds": list(p.seeds),
        "faithfulness": faithful,
        "k": k,
        "ks": list(p.dictionary.ks),
        "d_sae": p.dictionary.d_sae,
        "matches": matches,
        "base_rates": base,
        "max_splice_bits": p.dictionary.max_splice_bits,
        "feature_browser": browser,
    }


def _byte_text(byte: int) -> str:
    """How the feature browser shows one byte: printable ASCII as itself, a space as a
    no-break space, a newline and a tab as arrows, anything else as its hex code."""
    if byte == 10:
        return "\u21b5"
    if byte == 9:
        return "\u21e5"
    if byte == 32:
        return "\u00a0"
    return chr(byte) if 32 < byte < 127 else f"\\x{byte:02x}"


def _browser(p: Params, latents: Any, w: Any, k: int) -> dict[str, Any]:
    """The feature browser of the first seed's chosen dictionary: `latents` `(N, T,
    d_sae)` on the test windows `w`, labelled by every feature (`FEATURES`).

    Densities, strongest examples and label matches count the positions the readers use
    (`ReadParams.min_position` on, where the host has read enough of the window); each
    example then shows the bytes around it in its whole window, before that position too.
    """
    from figures_src._lab.language import feature_targets
    from symbiote_core.browser import summarise, to_payload

    start = p.read.min_position
    text = [[_byte_text(b) for b in row] for row in w.tokens[:, :-1].tolist()]
    labels = {f.name: feature_targets(w.labels, f)[:, start:] == 1 for f in FEATURES}
    before, after = p.browser_context
    summary = summarise(
        latents[:, start:],
        [row[start:] for row in text],
        labels=labels,
        top=p.browser_examples,
        before=before,
        after=after,
    )
    payload = to_payload(
        summary,
        title=f"Language host, seed {p.seeds[0]}: the {p.dictionary.d_sae} latents of its "
        f"chosen dictionary (k = {k})",
        description="A TopK dictionary on the residual stream after attention of the last "
        "block of the byte-level host, on held-out test files: each latent's strongest "
        "activations in context, and the label feature (from Python's tokenizer) it fires "
        "with best by F1. The figure matches latents by Matthews correlation instead, "
        "since F1 rewards a latent that fires almost everywhere on a common feature.",
    )
    T = latents.shape[1]
    for latent in payload["latents"]:
        for example in latent["examples"]:
            c, at = example["context"], example["position"] + start
            lo, hi = max(0, at - before), min(T, at + after + 1)
            example.update(
                position=at,
                focus=at - lo,
                tokens=text[c][lo:hi],
                acts=latents[c, lo:hi, latent["index"]].tolist(),
            )
    return _rounded(payload)


def _rounded(node: Any) -> Any:
    """Floats to four significant digits, so the payload stays small."""
    if isinstance(node, float):
        return float(f"{node:.4g}")
    if isinstance(node, dict):
        return {key: _rounded(value) for key, value in node.items()}
    if isinstance(node, list | tuple):
        return [_rounded(value) for value in node]
    return node


def _faithfulness(p: Params, hosts: Any, dicts: Any, tokens: Any, k: int) -> list[dict[str, Any]]:
    """Per k and seed, on test windows `tokens`: the host's bits per byte clean, with the
    site mean-ablated (its mean over these bytes), and with its dictionary spliced in;
    for the chosen k also with the previous seed's dictionary spliced in (a dictionary
    of another host: the null)."""
    import torch

    from figures_src._lab.language import activations, splice
    from symbiote_core.hosts.bytelm import bits_per_byte
    from symbiote_core.interventions import Intervention, intervene, replace

    site = p.dictionary.site
    model = hosts.trained
    mean = activations(model, tokens, [site])[site].mean(dim=(1, 2), keepdim=True)
    clean = bits_per_byte(model, tokens)
    with intervene(model, [Intervention(site, replace(lambda a: mean.expand_as(a)))]):
        ablated = bits_per_byte(model, tokens)
    rows = []
    for kk in p.dictionary.ks:
        sae = dicts.by("trained", kk)
        with intervene(model, [Intervention(site, replace(splice(sae)))]):
            spliced = bits_per_byte(model, tokens)
        mismatched = torch.full_like(spliced, float("nan"))
        if kk == k:
            with torch.no_grad():
                for tensor in sae.parameters():
                    tensor.copy_(tensor.roll(1, dims=0))  # seed i gets seed i-1's dictionary
            with intervene(model, [Intervention(site, replace(splice(sae)))]):
                mismatched = bits_per_byte(model, tokens)
        for i, seed in enumerate(p.seeds):
            rows.append(
                {
                    "k": kk,
                    "seed": seed,
                    "clean": clean[i].item(),
                    "ablated": ablated[i].item(),
                    "spliced": spliced[i].item(),
                    "mismatched": mismatched[i].item() if kk == k else None,
                    "fit_cost": dicts.fit_costs[str(kk)][i],
                }
            )
    return rows


# ----- values -----


def _faith(d: dict[str, Any], field: str) -> list[float]:
    by_seed = {r["seed"]: r for r in d["faithfulness"] if r["k"] == d["k"]}
    return [by_seed[s][field] - by_seed[s]["clean"] for s in d["seeds"]]


def _recovered(d: dict[str, Any]) -> list[float]:
    by_seed = {r["seed"]: r for r in d["faithfulness"] if r["k"] == d["k"]}
    out = []
    for s in d["seeds"]:
        r = by_seed[s]
        out.append(1 - (r["spliced"] - r["clean"]) / (r["ablated"] - r["clean"]))
    return out


def _mean_mcc(
    d: dict[str, Any], host: str, reader: str, features: tuple[str, ...] | None
) -> list[float]:
    out = []
    for seed in d["seeds"]:
        scores = [
            m["mcc"]
            for m in d["matches"]
            if m["host"] == host
            and m["reader"] == reader
            and m["seed"] == seed
            and (features is None or m["feature"] in features)
        ]
        out.append(statistics.fmean(scores))
    return out


LEXICAL = tuple(f.name for f in FEATURES if f.name not in CONTEXTUAL)
MARGIN = 0.05
"""Matthews correlation by which the best latents must beat another reader's best units:
a twentieth of its scale, fixed before the evaluation seeds ran."""


def _mcc(d: dict[str, Any], host: str, reader: str, feature: str) -> list[float]:
    by_seed = {
        m["seed"]: m["mcc"]
        for m in d["matches"]
        if m["host"] == host and m["reader"] == reader and m["feature"] == feature
    }
    return [by_seed[s] for s in d["seeds"]]


# ----- chart -----


def render(data: dict[str, Any]) -> alt.HConcatChart:
    return alt.hconcat(_faith_chart(data), _match_chart(data)).properties(
        description="Left: bits per byte the host loses when each candidate dictionary is "
        "spliced in, per sparsity and seed. Right: for each label feature, the Matthews "
        "correlation of the best "
        "single dictionary latent, MLP neuron and random direction, on the trained host and "
        "its random-init twin, one mark per seed."
    )


def _faith_chart(data: dict[str, Any]) -> alt.LayerChart:
    from symbiote_core.figures.authoring import palette

    rows = [
        {
            "k": r["k"],
            "seed": r["seed"],
            "cost": r["spliced"] - r["clean"],
            "what": "own dictionary",
        }
        for r in data["faithfulness"]
    ]
    x = alt.X("k:O", title="latents kept per byte (k)")
    points = (
        alt.Chart(alt.Data(values=rows))
        .mark_point(filled=True, size=40, color=palette.color("symbiote"), opacity=0.8)
        .encode(
            x=x,
            y=alt.Y(
                "cost:Q",
                scale=alt.Scale(type="log"),
                title="bits per byte lost when spliced in (test files)",
            ),
            tooltip=["k:O", "seed:O", alt.Tooltip("cost:Q", format=".3f")],
        )
    )
    limit = (
        alt.Chart(alt.Data(values=[{"cost": data["max_splice_bits"]}]))
        .mark_rule(color=palette.color("axis"), strokeDash=[4, 3])
        .encode(y="cost:Q", tooltip=[alt.Tooltip("cost:Q", title="most a chosen splice may cost")])
    )
    return (points + limit).properties(
        width=140,
        height=260,
        title=alt.Title("Faithfulness", subtitle=f"chosen: k = {data['k']}"),
    )


def _match_chart(data: dict[str, Any]) -> alt.FacetChart:
    from symbiote_core.figures.authoring import palette

    rows = [
        {
            "feature": m["feature"],
            "reader": READER_NAMES[m["reader"]],
            "host": "trained host" if m["host"] == "trained" else "random-init twin",
            "seed": m["seed"],
            "mcc": m["mcc"],
        }
        for m in data["matches"]
    ]
    order = [f.name for f in FEATURES]
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_point(filled=True, size=30, opacity=0.7)
        .encode(
            y=alt.Y("feature:N", sort=order, title=None, axis=alt.Axis(labelLimit=160)),
            x=alt.X(
                "mcc:Q",
                scale=alt.Scale(domain=[-0.1, 1]),
                title="best single unit (MCC, test files)",
            ),
            yOffset=alt.YOffset("reader:N", sort=list(READER_ROLES)),
            color=alt.Color(
                "reader:N",
                scale=alt.Scale(**palette.scale(READER_ROLES)),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            shape=alt.Shape("reader:N", sort=list(READER_ROLES), legend=None),
            tooltip=[
                "feature:N",
                "reader:N",
                "host:N",
                "seed:O",
                alt.Tooltip("mcc:Q", format=".3f", title="MCC"),
            ],
        )
        .properties(width=220, height=380)
        .facet(column=alt.Column("host:N", title=None, sort=["trained host", "random-init twin"]))
    )


PARAMS = Params()

ALT = (
    "Left, a dot plot of the bits per byte the host loses with each candidate dictionary spliced "
    "in; the chosen one (k = {{ value: language_dictionary.k }}) costs "
    "{{ value: language_dictionary.splice_bits | .3f mean }} bits per byte, against "
    "{{ value: language_dictionary.mismatched_splice_bits | .2f mean }} for another seed's dictionary. "
    "Right, for each of {{ value: language_dictionary.n_features }} label features, the Matthews "
    "correlation of the "
    "best single unit of three readers on the trained host and its twin. Over the contextual "
    "features the best latent averages {{ value: language_dictionary.latents_contextual | .2f mean }}, "
    "the best neuron {{ value: language_dictionary.neurons_contextual | .2f mean }} and the best "
    "random direction {{ value: language_dictionary.random_contextual | .2f mean }}; on the twin "
    "{{ value: language_dictionary.twin_latents_contextual | .2f mean }}, "
    "{{ value: language_dictionary.twin_neurons_contextual | .2f mean }} and "
    "{{ value: language_dictionary.twin_random_contextual | .2f mean }}."
)

METHODS = (
    "**Host.** The byte-level host of the language section and its random-init twin. "
    "**Dictionaries.** TopK, {{ param: language_dictionary.dictionary.d_sae }} latents on the "
    "residual stream after attention, k in {{ param: language_dictionary.dictionary.ks }}, "
    "trained with Adam (learning rate {{ param: language_dictionary.dictionary.lr }}, "
    "{{ param: language_dictionary.dictionary.steps }} steps of "
    "{{ param: language_dictionary.dictionary.batch_size }} bytes) on the activations of "
    "{{ param: language_dictionary.dictionary.train_windows }} random windows of the training "
    "files; one per host, k and seed, all as instances of one set of tensors. **Choice.** The "
    "sparsest whose splice costs at most {{ param: language_dictionary.dictionary.max_splice_bits "
    "}} bits per byte on every seed on the held-out fit files. **Matching.** Each unit's "
    "threshold and the best unit per feature are chosen on "
    "{{ param: language_dictionary.match_rows }} bytes of the fit files; the Matthews correlation "
    "(phi) of detection and feature is measured on the "
    "test files. **Controls.** The host's {{ param: language_dictionary.host.d_mlp }} MLP neurons; "
    "as many random unit directions. **Nulls.** The twin's dictionary, neurons and directions; "
    "for faithfulness, another seed's dictionary. **Seeds.** "
    "{{ value: language_dictionary.n_seeds }} ({{ param: language_dictionary.seeds }})."
)

FIGURE = Figure(
    title="A faithful dictionary on the byte-level host, and the labels its latents match",
    caption=(
        "Left: each candidate TopK dictionary spliced into its host in place of the residual "
        "stream, and the bits per byte the host loses on held-out files (log scale, one point "
        "per seed); dashed: the most a dictionary may cost to be chosen. Right: for each "
        "feature (one class of one tokenizer label), the Matthews correlation of the single "
        "unit that detects it best, for the dictionary's latents, the MLP neurons and random "
        "directions, on the trained host and its random-init twin."
    ),
    alt=ALT,
    methods=METHODS,
    params=PARAMS,
    inputs=(Package("torch", "torch/fx/*.py"),),
    tuning_seeds=(0, 1, 2),
    tuning_note="the site, the candidate sparsities, the training budget, the matching "
    "score (Matthews correlation, after F1 rewarded constant units) and the margins were "
    "chosen on seeds 0-1 of the two-layer host",
    compute=compute,
    render=render,
    values={
        "n_seeds": n_seeds(),
        "n_features": ("features of the bytes the units are matched against", lambda d: len(FEATURES)),
        "n_contextual": ("contextual features (in a string, in a comment, inside brackets)", lambda d: len(CONTEXTUAL)),
        "k": ("latents active per byte in the chosen dictionary (TopK)", stored("k")),
        "splice_bits": ("bits per byte the loss rises by with the dictionary spliced in", lambda d: _faith(d, "spliced")),
        "mismatched_splice_bits": ("bits per byte the loss rises by with another seed's dictionary spliced in", lambda d: _faith(d, "mismatched")),
        "ablated_bits": ("bits per byte the loss rises by with the MLP input mean-ablated", lambda d: _faith(d, "ablated")),
        "loss_recovered": ("the share of the mean-ablation's loss the spliced dictionary recovers", _recovered),
        "max_splice_bits": ("the most bits per byte a chosen dictionary may cost when spliced in", stored("max_splice_bits")),
        "margin": ("the Matthews correlation by which the latents must beat another reader", lambda d: MARGIN),
        **{
            f"{prefix}{reader}_{group}": (
                f"the mean best Matthews correlation of {READER_NAMES[reader]} with the {group} features, {'trained host' if host == 'trained' else 'random-init twin'}", lambda d, host=host, reader=reader, features=features: _mean_mcc(
                    d, host, reader, features
                )
            )
            for prefix, host in (("", "trained"), ("twin_", "twin"))
            for reader in READERS
            for group, features in (("contextual", CONTEXTUAL), ("lexical", LEXICAL))
        },
        **{
            f"{prefix}latents_minus_{reader}_contextual": (
                f"how much the latents beat {READER_NAMES[reader]} on the contextual features (Matthews correlation), {'trained host' if host == 'trained' else 'random-init twin'}", lambda d, host=host, reader=reader: [
                    a - b
                    for a, b in zip(
                        _mean_mcc(d, host, "latents", CONTEXTUAL),
                        _mean_mcc(d, host, reader, CONTEXTUAL),
                        strict=True,
                    )
                ]
            )
            for prefix, host in (("", "trained"), ("twin_", "twin"))
            for reader in ("neurons", "random")
        },
        **{
            f"{prefix}{reader}_{name}": (
                f"the best Matthews correlation of {READER_NAMES[reader]} with '{feature}', {'trained host' if host == 'trained' else 'random-init twin'}", lambda d, host=host, reader=reader, feature=feature: _mcc(d, host, reader, feature)
            )
            for prefix, host in (("", "trained"), ("twin_", "twin"))
            for reader in READERS
            for name, feature in (
                ("string", "in a string"),
                ("comment", "in a comment"),
                ("brackets", "inside brackets"),
            )
        },
    },
    claims=(
        Claim(
            name="dictionary_is_faithful",
            statement="Spliced into its host, the chosen dictionary costs at most a tenth of a "
            "bit per byte on held-out files.",
            left="splice_bits",
            op="<",
            right="max_splice_bits",
            control="the criterion that chose it (on other held-out files)",
            why="The choice rule's own bound, fixed before any dictionary was trained.",
            null=Null(
                description="another seed's dictionary spliced in (trained the same way on "
                "another host): reconstruction that is not of this host",
                values={"splice_bits": "mismatched_splice_bits"},
            ),
        ),
        Claim(
            name="latents_beat_random_directions",
            statement="On contextual labels, the best single latent matches better than the "
            "best of as many random directions.",
            left="latents_contextual",
            op=">",
            right="random_contextual",
            margin=MARGIN,
            control="as many random unit directions in the same space",
            why="A twentieth of the scale of the Matthews correlation, fixed before the evaluation "
            "seeds ran.",
            null=Null(
                description="the random-init twin: its own dictionary against random directions "
                "in its own residual stream",
                values={
                    "latents_contextual": "twin_latents_contextual",
                    "random_contextual": "twin_random_contextual",
                },
            ),
            stated="fails",
        ),
        Claim(
            name="latents_beat_neurons",
            statement="On contextual labels, the best single latent matches better than the "
            "best MLP neuron.",
            left="latents_contextual",
            op=">",
            right="neurons_contextual",
            margin=MARGIN,
            control="the host's MLP neurons, as many as there are latents",
            why="A twentieth of the scale of the Matthews correlation, fixed before the evaluation "
            "seeds ran.",
            null=Null(
                description="the random-init twin: its own dictionary against its own neurons",
                values={
                    "latents_contextual": "twin_latents_contextual",
                    "neurons_contextual": "twin_neurons_contextual",
                },
            ),
            stated="fails",
        ),
    ),
)
