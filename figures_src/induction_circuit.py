"""The induction circuit as a graph, each edge weighted by what cutting it costs.

The 2-layer induction host of section 5 and its 1-layer control are retrained on every
seed (same seeds and recipe as the heads figure, so the same weights: training is
bit-reproducible). Every measurement is a mean ablation on held-out sequences (see
`figures_src/_lab/induction.py`), scored by the loss on the induction targets (nats), which
unlike accuracy does not saturate:

- knocking out single heads and groups of heads, including a control group (the
  layer-0 heads that are not the previous-token head, picked on separate sequences);
- a path ablation that removes the previous-token head only from what layer 1 reads
  as keys, and, as its control, only from what layer 1 reads as queries and values;
- the graph's edges: tokens -> layer-0 head (loss added when that head is knocked
  out), layer-0 head -> layer-1 head (loss added when the layer-0 head is cut from
  that layer-1 head's keys) and layer-1 head -> next token (loss that head removes
  alone). The layer-1 heads run in parallel and are redundant, so both layer-1 edges
  are measured with the other three layer-1 heads knocked out.

Every measurement is repeated on the null host: the same 2-layer recipe trained on
sequences whose second copy is shuffled (`_lab.induction.Hosts.shuffled`), which trains and
works but has no use for induction, so its knockouts cost something and can differ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import altair as alt

from figures_src._lab.induction_circuit_charts import NODE_SELECTION, _graph, _knockout_chart
from figures_src._lab.induction_circuit_measures import (
    VALUE_NAMES,
    _describe,
    _measure,
    _value,
)
from figures_src._lab.induction_seeds import SEEDS, TUNING_SEEDS
from figures_src._lab.values import n_seeds, stored
from figures_src._lab.words import induction_host
from symbiote_core.figures.authoring.spec import Claim, Control, Figure, Null

SEED_PARAM = "graph_seed"
NAT = 1.0
"""The margin of the knockout claims: one nat of loss on the induction targets, a quarter
of a uniform guess's loss over the vocabulary (ln 64 = 4.16)."""
NAT_WHY = (
    "one nat on the induction targets, a quarter of the loss of a uniform guess over the "
    "vocabulary (ln 64 = 4.16)"
)
NULL_HOST = (
    "the null host: the same 2-layer recipe trained on sequences whose second copy is "
    "shuffled (it works, but induction is of no use to it), its heads' roles picked by the "
    "same rule, same code and sequences"
)


@dataclass(frozen=True)
class Params:
    seeds: tuple[int, ...] = SEEDS
    """Every host is trained once per seed (batched); values are per seed in this order."""
    eval_sequences: int = 256
    """Held-out sequences per seed every loss is averaged over (and the ablation means)."""
    selection_sequences: int = 128
    """Separate held-out sequences per seed on which the heads' roles are picked."""
    head_threshold: float = 0.5
    """A layer-0 head is a previous-token head when over half its attention goes one
    token back; a layer-1 head is an induction head when over half goes to the
    induction key. The definitions of the heads figure."""


def compute(p: Params) -> dict[str, Any]:
    from figures_src._lab.induction import (
        EVALUATION_STREAM,
        SELECTION_STREAM,
        accuracy,
        head_outputs,
        head_scores,
        heads_above,
        held_out,
        in_candidates,
        knock_out,
        logits_under,
        loss_under,
        top_probability,
        train_hosts,
    )

    hosts = train_hosts(p.seeds)
    batch = held_out(p.seeds, p.eval_sequences, EVALUATION_STREAM)
    selection = held_out(p.seeds, p.selection_sequences, SELECTION_STREAM)
    out: dict[str, Any] = {"seeds": list(p.seeds), "eval_sequences": p.eval_sequences}
    roles = {}
    for name, model in (("trained", hosts.trained), ("shuffled", hosts.shuffled)):
        # Roles are picked on the selection sequences, scored on the evaluation sequences.
        scores = head_scores(model, selection)
        prev = heads_above(scores.previous_token[:, 0], p.head_threshold)  # (I, H)
        induction = heads_above(scores.induction[:, 1], p.head_threshold)  # (I, H)
        roles[name] = prev
        out[name] = _measure(model, batch, prev, induction)
    host = hosts.trained
    knocked = logits_under(host, batch, [knock_out(head_outputs(host, batch), 0, roles["trained"])])
    control = logits_under(hosts.control, batch)
    out["control_loss"] = loss_under(hosts.control, batch).tolist()
    out["chance_loss"] = math.log(host.cfg.vocab_size)
    # Why the knocked-out host can do worse than the control: how often it is right, how
    # often it still picks a token seen once (as the 1-layer control learned to), and
    # how sure it is of its pick.
    for name, logits in (("previous_token_knockout", knocked), ("control", control)):
        out[f"{name}_accuracy"] = accuracy(logits, batch).tolist()
        out[f"{name}_in_candidates"] = in_candidates(logits, batch).tolist()
        out[f"{name}_top_probability"] = top_probability(logits, batch).tolist()
    return out


def render(data: dict[str, Any]) -> alt.HConcatChart:
    picked = alt.selection_point(name=NODE_SELECTION, fields=["node"], on="click", clear="dblclick")
    seed = alt.param(
        name=SEED_PARAM,
        value=data["seeds"][0],
        bind=alt.binding_radio(options=list(data["seeds"]), name="seed "),
    )
    return (
        alt.hconcat(_graph(data, picked, seed), _knockout_chart(data), center=True)
        # Independent legends stay with their own panel when the site stacks the panels.
        .resolve_legend(color="independent")
        .resolve_scale(color="independent")
        .configure_view(stroke=None)
        .properties(
            description="A node-link graph of the 2-layer host's heads for one seed (a radio "
            "button picks the seed), with edges weighted by the loss added when each is cut, "
            "and a chart of the loss under knockouts of single heads, groups of heads and "
            "paths, one mark per seed."
        )
    )


PARAMS = Params()

ALT = (
    "A graph from the tokens through the layer-0 and layer-1 heads to the next token, each edge "
    "weighted by the loss cutting it adds. A bar chart of induction-target losses (nats): the "
    "intact host {{ value: induction_circuit.intact_loss | .2f mean }}, knocking out the "
    "previous-token heads {{ value: induction_circuit.previous_token_knockout_loss | .2f mean }}, "
    "cutting them from the layer-1 keys {{ value: induction_circuit.key_cut_loss | .2f mean }} but "
    "from queries and values only {{ value: induction_circuit.query_value_cut_loss | .2f mean }}, "
    "every layer-1 head {{ value: induction_circuit.all_layer1_knockout_loss | .2f mean }}, "
    "against {{ value: induction_circuit.control_loss | .2f mean }} for the 1-layer host and "
    "{{ value: induction_circuit.chance_loss | .2f }} for chance. Means over "
    "{{ value: induction_circuit.n_seeds }} seeds."

)
"""Alt text: its numbers are the figure's values, filled in by the site."""

METHODS = (
    induction_host()
    + "The 2-layer host and its 1-layer control are retrained per seed with the recipe of the "
    "heads figure (the same weights: training is bit-reproducible). **Measurement.** Mean "
    "ablations on {{ param: induction_circuit.eval_sequences }} held-out sequences, scored by the "
    "loss on the induction targets: single heads and groups knocked out, and a path ablation that "
    "removes the previous-token heads only from what the layer-1 heads read as keys. Heads are "
    "named previous-token or induction at score {{ param: induction_circuit.head_threshold }}, on "
    "{{ param: induction_circuit.selection_sequences }} separate sequences. **Graph.** An edge "
    "from the tokens to a layer-0 head is that head's knockout; from a layer-0 to a layer-1 head, "
    "removing the first from what the second reads as keys; from a layer-1 head to the output, the "
    "loss that head removes on its own; the last two with the other layer-1 heads knocked out. "
    "**Controls.** The "
    "layer-0 heads that are not the previous-token head; the same heads cut from the layer-1 "
    "queries and values instead of the keys; the 1-layer host. **Null.** Every measurement "
    "repeated on the null host: the 2-layer recipe trained on sequences whose second copy is "
    "shuffled, its heads' roles picked by the same rule. **Seeds.** "
    "{{ value: induction_circuit.n_seeds }} ({{ param: induction_circuit.seeds }})."

)
"""The methods appendix's paragraph (see `Figure.methods`)."""

FIGURE = Figure(
    title="Knockouts trace the path from the previous-token head to the induction heads",
    caption=(
        "The graph shows one seed's heads (radio buttons pick the seed). A head's colour is "
        "the loss added when it alone is knocked out (replaced by its mean output); an edge's "
        "width, the loss added when that edge alone is cut (into a layer-1 head: from its "
        "keys only, with the other layer-1 heads knocked out, since they back each other "
        "up). Right: the loss after each knockout or cut, one dot per seed (and head), "
        "against the 1-layer host's loss; the last rows give the null host. Click a head to "
        "pick out its edges; double-click to clear."
    ),
    alt=ALT,
    methods=METHODS,
    params=PARAMS,
    tuning_seeds=TUNING_SEEDS,
    tuning_note="the recipe of the heads figure (InductionConfig's defaults), chosen comparing "
    "recipes on seeds 0-9 and measured on seeds 0-19",
    compute=compute,
    render=render,
    values={
        "n_seeds": n_seeds(),
        "eval_sequences": ("held-out sequences per seed", stored("eval_sequences")),
        "chance_loss": ("the loss of a uniform guess over the vocabulary (nats)", stored("chance_loss")),
        "margin_nats": ("the margin the knockout claims demand (nats)", lambda d: NAT),
        **{name: (_describe(name), _value(name)) for name in VALUE_NAMES},
    },
    claims=(
        Claim(
            name="previous_token_head_needed",
            statement="Knocking out the previous-token heads costs far more than knocking "
            "out all the other layer-0 heads together.",
            left="previous_token_knockout_loss",
            op=">",
            right="other_layer0_knockout_loss",
            margin=NAT,
            control="the other three layer-0 heads knocked out together",
            why=NAT_WHY,
            null=Null(
                description=NULL_HOST,
                values={
                    "previous_token_knockout_loss": "shuffled_previous_token_knockout_loss",
                    "other_layer0_knockout_loss": "shuffled_other_layer0_knockout_loss",
                },
            ),
        ),
        Claim(
            name="previous_token_knockout_below_control",
            statement="Without its previous-token heads the 2-layer host does worse than "
            "the 1-layer host.",
            left="previous_token_knockout_loss",
            op=">",
            right="control_loss",
            control="the 1-layer host trained with the same data, steps and seeds",
            why="no margin: the question is only whether the knocked-out host is worse "
            "than the control at all, and every seed must agree",
            null=Null(
                description=NULL_HOST,
                values={"previous_token_knockout_loss": "shuffled_previous_token_knockout_loss"},
            ),
            controls=Control(
                description="the other layer-0 heads knocked out together instead (same host, "
                "same run)",
                values={"previous_token_knockout_loss": "other_layer0_knockout_loss"},
            ),
            stated="fails",
        ),
        Claim(
            name="read_as_keys",
            statement="The previous-token heads matter as keys: cut from what layer 1 "
            "reads as keys they cost far more than cut from queries and values.",
            left="key_cut_loss",
            op=">",
            right="query_value_cut_loss",
            margin=NAT,
            control="the same heads cut from layer 1's queries and values instead",
            why=NAT_WHY,
            null=Null(
                description=NULL_HOST,
                values={
                    "key_cut_loss": "shuffled_key_cut_loss",
                    "query_value_cut_loss": "shuffled_query_value_cut_loss",
                },
            ),
        ),
        Claim(
            name="layer1_needed",
            statement="Without its layer-1 heads the host loses its induction.",
            left="all_layer1_knockout_loss",
            op=">",
            right="intact_loss",
            margin=NAT,
            control="the intact host",
            why=NAT_WHY,
            null=Null(
                description=NULL_HOST,
                values={
                    "all_layer1_knockout_loss": "shuffled_all_layer1_knockout_loss",
                    "intact_loss": "shuffled_intact_loss",
                },
            ),
        ),
        Claim(
            name="layer1_heads_redundant",
            statement="Knocking out all layer-1 heads costs far more than the four single "
            "knockouts added up: the heads run in parallel and each can stand in for the "
            "others (redundancy).",
            left="all_layer1_increase",
            op=">",
            right="single_layer1_increase_sum",
            margin=NAT,
            control="the sum of the loss added by knocking out each layer-1 head alone",
            why=NAT_WHY + "; heads whose effects simply added up would give a gap near zero",
            null=Null(
                description=NULL_HOST,
                values={
                    "all_layer1_increase": "shuffled_all_layer1_increase",
                    "single_layer1_increase_sum": "shuffled_single_layer1_increase_sum",
                },
            ),
        ),
        Claim(
            name="induction_heads_key_on_previous_token_heads",
            statement="Every induction head, left alone in layer 1, loses far more when the "
            "previous-token heads are cut from its keys than when the other layer-0 heads are.",
            left="key_source_margin",
            op=">",
            right=0.0,
            margin=NAT,
            control="the other layer-0 heads cut from the same head's keys",
            why=NAT_WHY,
            null=Null(
                description=NULL_HOST,
                values={"key_source_margin": "shuffled_key_source_margin"},
            ),
            stated="fails",
        ),
    ),
)
