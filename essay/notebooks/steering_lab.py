# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab: steer a host through its symbiote
#
# This notebook repeats the experiment of [Influencing the host](../../steering/) for one
# seed and one target, with the public API of `symbiote_core`: grow a dictionary on a
# toy host, choose the atom that tracks one feature on one set of inputs, then push the
# host along it on other inputs and measure what moves. It runs when the site is built.
# [Download it as a notebook](../steering_lab.ipynb) to change it and run it yourself.

# %%
import altair as alt
import torch

import symbiote_core as sc

N_FEATURES, D_HIDDEN, PROBABILITY, SEED = 128, 16, 0.02, 0
DOSES = [0.0, 0.25, 0.5, 1.0, 1.5, 2.0]

# %% [markdown]
# ## 1. A host and its dictionary
#
# The same recipe as the lab on superposition, smaller: a toy host squeezes sparse
# features into a narrow hidden layer, and a TopK dictionary learns to rebuild that
# layer from a few atoms.

# %%
sc.make_deterministic(SEED)  # one thread, deterministic kernels, seeded RNGs
config = sc.ToyConfig(
    n_features=N_FEATURES,
    d_hidden=D_HIDDEN,
    feature_probability=PROBABILITY,
    steps=1000,
    batch_size=256,
    lr=3e-3,
    seed=SEED,
)
host, _ = sc.train_toy(config)
features = host.sample_features(10_000, torch.Generator().manual_seed(SEED + 1))
acts = host.hidden(features)[:, 0].detach()
k = max(1, round(N_FEATURES * PROBABILITY))
dictionary = sc.make_dictionary(sc.TopKConfig(d_in=D_HIDDEN, d_sae=N_FEATURES, k=k, seed=SEED))
training = sc.TrainConfig(steps=1000, batch_size=256, lr=3e-3, seed=SEED, progress=False)
result = sc.train_symbiote(dictionary, acts, training)
print(f"dictionary trained for {result.steps} steps; final loss {result.final_loss:.4f}")

# %% [markdown]
# ## 2. Choose a direction, without the answer key
#
# On a first set of inputs (the *selection* set), pick the atom whose latent
# correlates best with the target output. A random unit direction is the control. The
# true feature direction is known here only because the host is a toy; it is kept out
# of the choice.

# %%
TARGET = 3
with torch.no_grad():
    selection = host.sample_features(4_000, torch.Generator().manual_seed(SEED + 2))
    target_out = host(selection)[:, 0, TARGET]
    latents = dictionary.encode(host.hidden(selection)[:, 0])


def correlation(columns: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of every column with `out`."""
    c = columns - columns.mean(0)
    o = out - out.mean()
    return (c.T @ o) / (c.norm(dim=0) * o.norm()).clamp_min(1e-12)


atom = int(correlation(latents, target_out).argmax())
true_dirs, _ = host.true_directions()
cosine = torch.cosine_similarity(dictionary.W_dec[atom], true_dirs[0, TARGET], dim=0)
print(f"chosen atom {atom}: cosine {cosine:.3f} with the target's true direction")
generator = torch.Generator().manual_seed(SEED + 3)
directions = {
    "dictionary atom": dictionary.W_dec[atom].detach(),
    "random direction": sc.random_directions(1, D_HIDDEN, generator)[0],
}

# %% [markdown]
# ## 3. Push, on inputs the choice never saw
#
# `sc.add(direction, dose)` is an intervention: data that names what to add at which
# site. Inside `sc.intervene` the host runs with it; outside, the host is untouched.

# %%
evaluation = host.sample_features(2_000, torch.Generator().manual_seed(SEED + 4))
with torch.no_grad():
    clean = host(evaluation)[:, 0]
others = torch.arange(N_FEATURES) != TARGET
rows = []
for name, direction in directions.items():
    for dose in DOSES:
        push = sc.Intervention("hook_hidden", sc.add(direction, dose))
        with torch.no_grad(), sc.intervene(host, [push]):
            change = host(evaluation)[:, 0] - clean
        rows.append(
            {
                "direction": name,
                "dose": dose,
                "target": change[:, TARGET].mean().item(),
                "others": change[:, others].abs().mean().item(),
            }
        )
for row in (rows[len(DOSES) - 1], rows[-1]):
    print(
        f"{row['direction']:>17} at dose {row['dose']}: target "
        f"{row['target']:+.3f}, others {row['others']:.4f}"
    )

# %%
long = [
    {"direction": r["direction"], "dose": r["dose"], "output": part, "change": r[part]}
    for r in rows
    for part in ("target", "others")
]
alt.Chart(alt.Data(values=long)).mark_line(point=True).encode(
    x=alt.X("dose:Q", title="dose (length of the added vector)"),
    y=alt.Y("change:Q", title="mean change"),
    color=alt.Color("direction:N", title="pushed along"),
    # Solid for the target, dashed for the rest, as the caption says.
    strokeDash=alt.StrokeDash(
        "output:N", title="output",
        scale=alt.Scale(domain=["target", "others"], range=[[1, 0], [5, 4]]),
    ),
).properties(
    width=420,
    height=240,
    description="Line chart against dose of the change of the target output and the "
    "mean absolute change of the other outputs, for the chosen atom and a random direction",
    usermeta={
        "caption": f"Pushing the host along the chosen atom moves target feature {TARGET}; "
        "a random direction of the same length is the control. Solid: the target; "
        "dashed: the mean absolute change of every other output. One seed."
    },
)
