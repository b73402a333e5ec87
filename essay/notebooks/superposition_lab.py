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
# # Lab: grow a dictionary on a toy host
#
# This notebook repeats the experiment of [Seeing superposition](../../superposition/)
# at a smaller scale, with the public API of `symbiote_core`. It runs when the site is
# built, so every number below was computed for this page. Change the parameters and
# run it yourself: [download it as a notebook](../superposition_lab.ipynb), or convert
# the source with `jupytext --to notebook essay/notebooks/superposition_lab.py`.

# %%
import altair as alt
import torch

import symbiote_core as sc

N_FEATURES, D_HIDDEN, PROBABILITY, SEED = 256, 32, 0.01, 0

# %% [markdown]
# ## 1. The host
#
# A toy model of superposition: sparse features squeezed into fewer dimensions and read
# back through a ReLU. `true_directions()` returns what no real network offers: the
# direction of every feature in the hidden layer, and its length.

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
host, log = sc.train_toy(config)
directions, norms = host.true_directions()
true = directions[0][norms[0] > 0.5]
print(f"{len(true)} of {N_FEATURES} features are written with length > 0.5")

# %% [markdown]
# ## 2. The symbiote
#
# A TopK dictionary reads the hidden layer (site `hook_hidden`) through a scoped hook and
# learns to rebuild it from a few of its atoms. It never sees the features.

# %%
generator = torch.Generator().manual_seed(SEED + 1)
features = host.sample_features(10_000, generator)
site = "hook_hidden"
acts = sc.collect(host, [site], features, batch_size=2_000)[site][:, 0]
k = max(1, round(N_FEATURES * PROBABILITY))
dictionary = sc.make_dictionary(sc.TopKConfig(d_in=D_HIDDEN, d_sae=N_FEATURES, k=k, seed=SEED))
training = sc.TrainConfig(steps=1000, batch_size=256, lr=3e-3, seed=SEED, progress=False)
result = sc.train_symbiote(dictionary, acts, training)
print(f"trained {result.steps} steps; final loss {result.final_loss:.4f}")

# %% [markdown]
# ## 3. Scored against the truth, next to its control

# %%
generator = torch.Generator().manual_seed(SEED + 2)
random = sc.random_directions(N_FEATURES, D_HIDDEN, generator)
scores = {
    "dictionary": sc.mean_max_cosine(dictionary.W_dec.detach(), true),
    "random directions": sc.mean_max_cosine(random, true),
}
for reader, score in scores.items():
    print(f"{reader:>18}: mean max cosine {score:.3f}")

# %%
readers = {"dictionary": dictionary.W_dec.detach(), "random directions": random}
rows = [
    {"reader": reader, "cosine": c}
    for reader, atoms in readers.items()
    for c in sc.cosine_matrix(atoms, true).max(0).values.tolist()
]
bins = alt.Bin(extent=[0, 1], step=0.025)
alt.Chart(alt.Data(values=rows)).mark_bar(opacity=0.75, binSpacing=0).encode(
    x=alt.X("cosine:Q", bin=bins, title="best cosine per true feature"),
    y=alt.Y("count():Q", stack=None, title="true features"),
    color=alt.Color("reader:N", title="reader"),
).properties(
    width=420,
    height=220,
    description="Histogram of each true feature's best cosine with the dictionary's "
    "atoms and with random directions",
    usermeta={
        "caption": "For every true feature, its best cosine with any atom of the "
        "dictionary, and with any of as many random directions: one seed, this page's run."
    },
)
