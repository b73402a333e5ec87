"""Wording several figures share: measures' descriptions and host methods paragraphs.

A figure includes these rather than pastes them, so the essay says one thing one way.
The host paragraphs quote the figure's own params (`{{ param: NAME.host.steps }}`),
which the site fills in; numbers are never typed here.

Everything here is a function, not a module-level constant: a figure imports this module
at its top level, and module-level state of an imported module is part of the figure's
data key (`engine/deps.py`), while a function counts only where compute calls it. So
rewording a paragraph re-renders the figures that include it and recomputes none.
"""

from __future__ import annotations


def loss_recovered() -> str:
    """What a loss-recovered value is, in a value's description (`metrics.loss_recovered`)."""
    return (
        "the share of the loss mean-ablating the hidden layer costs that the dictionary wins "
        "back, spliced in its place"
    )


def output_recovered() -> str:
    """What an output-recovered value is (the measure for an untrained host)."""
    return (
        "the share of the squared distance to the host's own output that the dictionary wins "
        "back, spliced in its place"
    )


def loss_recovered_method() -> str:
    """How loss recovered is computed, for a methods paragraph's **Faithfulness.** part."""
    return (
        "loss recovered is (ablated - spliced) / (ablated - clean) of the host's loss, the "
        "ablated host given the layer's mean over those inputs"
    )


def toy_host(figure: str, *, probability: str | None = None) -> str:
    """The **Host.** paragraph of a figure whose params compose `hosts.ToyHost` as `host`.

    `probability` replaces the quoted feature probability (a figure that sweeps it)."""
    host = f"{figure}.host"
    probability = probability or f"{{{{ param: {host}.feature_probability }}}}"
    return (
        "**Host.** The toy model of superposition (`h = W x`, read back as "
        f"`x̂ = ReLU(Wᵀh + b)`), {{{{ param: {host}.n_features }}}} features in "
        f"{{{{ param: {host}.d_hidden }}}} dimensions, each active with probability "
        f"{probability}; one host per seed, trained with Adam (learning rate "
        f"{{{{ param: {host}.lr }}}}) for {{{{ param: {host}.steps }}}} steps on fresh "
        f"batches of {{{{ param: {host}.batch_size }}}}. "
    )


def modadd_host(figure: str) -> str:
    """The **Host.** paragraph of a figure whose params compose `_lab.modadd.HostParams`."""
    host = f"{figure}.host"
    return (
        "**Host.** The embedding + MLP of section 4 on (a + b) mod "
        f"{{{{ param: {host}.p }}}}: embedding width "
        "{{ code: symbiote_core.hosts.modadd.ModAddConfig.d_model }}, "
        "{{ code: symbiote_core.hosts.modadd.ModAddConfig.d_mlp }} ReLU neurons, trained "
        f"full-batch on {{{{ param: {host}.train_fraction | .0% }}}} of the pairs with AdamW "
        f"(learning rate {{{{ param: {host}.lr }}}}, constant for the first "
        f"{{{{ param: {host}.lr_decay_start | .0% }}}} of the steps, then a half cosine down "
        f"to {{{{ param: {host}.lr_final | .0% }}}} of it; weight decay "
        f"{{{{ param: {host}.weight_decay }}}}) for {{{{ param: {host}.steps }}}} steps, one "
        "host per seed. "
    )


def induction_host() -> str:
    """The **Host.** paragraph of the induction figures (the library's defaults, quoted)."""
    c = "symbiote_core.hosts.induction.InductionConfig"
    return (
        "**Host.** The attention-only induction transformer of section 5: "
        f"{{{{ code: {c}.n_layers }}}} layers of {{{{ code: {c}.n_heads }}}} "
        f"heads, width {{{{ code: {c}.d_model }}}}, {{{{ code: {c}.vocab_size }}}} "
        f"tokens, sequences of {{{{ code: {c}.seq_len }}}} whose second half repeats a "
        f"random span of {{{{ code: {c}.min_span }}}} to "
        f"{{{{ code: {c}.max_span }}}} tokens; trained with AdamW (learning rate "
        f"{{{{ code: {c}.lr }}}} after {{{{ code: {c}.warmup }}}} warm-up steps, "
        f"weight decay {{{{ code: {c}.weight_decay }}}}) for "
        f"{{{{ code: {c}.steps }}}} steps on batches of "
        f"{{{{ code: {c}.batch_size }}}} sequences, one host per seed. "
    )
