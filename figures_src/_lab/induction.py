"""What the induction figures share: the hosts, their evaluation data, head scores, knockouts.

Not a figure (the leading underscore keeps it out of the registry); the figure modules
import it inside `compute`, because it imports torch and `render` must not.

The hosts are trained once per build: `train_hosts` asks the engine's artifact cache
(`symbiote_core.figures.engine.artifacts`) for their weights, keyed on this module's source
closure and the seeds, so the first of the figures to need them trains them and the
others read them. The 2-layer hosts train in one run over the twenty seeds of the
recipe's success rate (`RATE_SEEDS`), which the evaluation seeds are among; the 1-layer
control and the null host (trained on shuffled repeats) train for the evaluation seeds.
Each figure's own key still covers this module; outside the build (a notebook, a test)
`train_hosts` trains them itself, to the same bits.

Seeds (`_lab.induction_seeds`, torch-free so that figure modules can import them at top
level): the recipe was developed on `TUNING_SEEDS`, the figures evaluate on `SEEDS`.

Every function works on all seeds at once: the hosts of `train_hosts` hold one instance
per seed (leading instance axis), and a knockout names its heads per instance, because
the previous-token head is a different head in each seed.

A knockout here is a *mean ablation*: a head's output (`blocks.{l}.attn.hook_z`, before
W_O) is replaced by its average over the evaluation batch at the same position. Why
the mean and not zero: zero is a value the head never outputs, so a zero ablation also
measures how the rest of the host copes with an input it never saw; the mean removes
what the head says about *this* sequence and keeps what it says about every sequence.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import torch

from figures_src._lab.induction_seeds import (  # re-exported: the seeds beside the hosts
    INDUCTION_CRITERION,
    RATE_SEEDS,
    SEEDS,  # noqa: F401
    TUNING_SEEDS,  # noqa: F401
)
from symbiote_core.hosts.induction import (
    Batch,
    InductionConfig,
    InductionModel,
    attention_patterns,
    induction_score,
    make_batch,
    previous_token_score,
    repeat_losses,
    seed_generators,
    train_induction,
)
from symbiote_core.interventions import Intervention, intervene, replace

EVALUATION_STREAM = 10_000
"""Added to each seed for the held-out evaluation data (training uses its own stream)."""
SELECTION_STREAM = 20_000
"""Added to each seed for the sequences that pick heads (previous-token heads, induction
heads): picking on the data that then score the pick would favour the pick."""


class Hosts(NamedTuple):
    """The hosts of section 5, one instance per seed each."""

    trained: InductionModel
    """The 2-layer host."""
    control: InductionModel
    """The 1-layer host: same data, steps and seeds; it cannot compose heads."""
    untrained: InductionModel
    """The 2-layer host at initialisation (the trained host's own starting point). It
    outputs a near-uniform distribution, so every knockout on it costs ln(vocab): no
    live null for a knockout."""
    untrained_control: InductionModel
    """The 1-layer host at initialisation."""
    shuffled: InductionModel
    """The null host: the 2-layer host trained with the same recipe on sequences whose
    second copy is shuffled (`InductionConfig.repeat`): it trains and works (it guesses
    among the span's unused tokens) but induction is of no use to it."""


def host_config(seeds: Sequence[int], n_layers: int, repeat: str = "copy") -> InductionConfig:
    """The host of section 5: the library's default recipe."""
    return InductionConfig(n_layers=n_layers, seeds=tuple(seeds), repeat=repeat)  # type: ignore[arg-type]


def train_hosts(seeds: Sequence[int]) -> Hosts:
    """Train the 2-layer host, the 1-layer control and the null host on every seed
    (batched); shared between figures through the artifact cache (module docstring).

    The 2-layer hosts come from one run over `RATE_SEEDS` when `seeds` are among them
    (the recipe's success rate needs those hosts anyway); the others train for `seeds`.
    """
    from symbiote_core.figures.engine import artifacts

    seeds = tuple(seeds)
    pool = RATE_SEEDS if set(seeds) <= set(RATE_SEEDS) else seeds
    trained = artifacts.cached("induction_trained_hosts", train_trained, pool)
    others = artifacts.cached("induction_control_hosts", train_controls, seeds)
    index = [pool.index(seed) for seed in seeds]
    models = []
    for state, n_layers, repeat in (
        (_slice(trained, index), 2, "copy"),
        (others["control"], 1, "copy"),
        (others["shuffled"], 2, "shuffled"),
    ):
        model = InductionModel(host_config(seeds, n_layers, repeat))
        model.load_state_dict(state)
        models.append(model.eval())
    return Hosts(
        models[0],
        models[1],
        InductionModel(host_config(seeds, 2)).eval(),
        InductionModel(host_config(seeds, 1)).eval(),
        models[2],
    )


def _slice(state: dict[str, torch.Tensor], index: Sequence[int]) -> dict[str, torch.Tensor]:
    """The instances `index` of a state dict (every weight has the instance axis first)."""
    return {name: tensor[list(index)] for name, tensor in state.items()}


def train_trained(seeds: tuple[int, ...]) -> dict[str, torch.Tensor]:
    """The 2-layer hosts' state dict (what `artifacts.cached` stores)."""
    return train_induction(host_config(seeds, 2))[0].state_dict()


def train_controls(seeds: tuple[int, ...]) -> dict[str, dict[str, torch.Tensor]]:
    """The 1-layer control's and the null host's state dicts."""
    control, _ = train_induction(host_config(seeds, 1))
    shuffled, _ = train_induction(host_config(seeds, 2, "shuffled"))
    return {"control": control.state_dict(), "shuffled": shuffled.state_dict()}


def recipe_rate(size: int) -> dict[str, list]:
    """The recipe's success over `RATE_SEEDS` (from the shared run): each 2-layer host's
    best layer-1 induction score and accuracy on `size` held-out sequences, and whether it
    meets `INDUCTION_CRITERION`."""
    from symbiote_core.figures.engine import artifacts

    model = InductionModel(host_config(RATE_SEEDS, 2))
    model.load_state_dict(artifacts.cached("induction_trained_hosts", train_trained, RATE_SEEDS))
    model.eval()
    batch = held_out(RATE_SEEDS, size, EVALUATION_STREAM)
    best = head_scores(model, batch).induction[:, 1].max(dim=-1).values  # (I,)
    return {
        "seeds": list(RATE_SEEDS),
        "criterion": INDUCTION_CRITERION,
        "best_induction": [round(v, 5) for v in best.tolist()],
        "accuracy": [round(v, 5) for v in accuracy(logits_under(model, batch), batch).tolist()],
        "formed": [v > INDUCTION_CRITERION for v in best.tolist()],
    }


def held_out(seeds: Sequence[int], size: int, stream: int) -> Batch:
    """`size` sequences per seed from the generator `seed + stream`, apart from training."""
    cfg = host_config(seeds, n_layers=2)  # the data do not depend on the layer count
    return make_batch(cfg, size, seed_generators(seeds, stream))


class HeadScores(NamedTuple):
    previous_token: torch.Tensor
    """`(I, layers, heads)` mean attention one token back."""
    induction: torch.Tensor
    """`(I, layers, heads)` mean attention to the induction key."""


def head_scores(model: InductionModel, batch: Batch) -> HeadScores:
    patterns = attention_patterns(model, batch.tokens)
    return HeadScores(
        torch.stack([previous_token_score(p) for p in patterns], dim=1),
        torch.stack([induction_score(p, batch) for p in patterns], dim=1),
    )


def uniform_previous_token_score(seq_len: int) -> float:
    """What a head that spreads its attention evenly over the past scores: mean 1/(q+1)."""
    return sum(1 / (q + 1) for q in range(1, seq_len)) / (seq_len - 1)


def head_outputs(model: InductionModel, batch: Batch) -> list[torch.Tensor]:
    """Each layer's per-head outputs `(I, B, T, heads, d_head)`, read at `hook_z`."""
    outputs: list[torch.Tensor] = []
    handles = [
        block.attn.hook_z.register_forward_hook(lambda m, i, out: outputs.append(out.detach()))
        for block in model.blocks
    ]
    try:
        with torch.no_grad():
            model(batch.tokens)
    finally:
        for handle in handles:
            handle.remove()
    return outputs


def knock_out(outputs: Sequence[torch.Tensor], layer: int, heads: torch.Tensor) -> Intervention:
    """Mean-ablate, in each instance, the heads of `layer` where `heads` `(I, H)` is True:
    their `hook_z` becomes the batch mean at each position.

    `outputs` are the clean run's per-head outputs (`head_outputs`) on the batch that
    the knockout will be evaluated on.
    """
    mean = outputs[layer].mean(dim=1, keepdim=True)  # (I, 1, T, H, dh)
    where = heads[:, None, None, :, None]  # (I, 1, 1, H, 1)
    return Intervention(
        f"blocks.{layer}.attn.hook_z", replace(lambda z: torch.where(where, mean, z))
    )


def one_head(n_heads: int, head: int, n_instances: int) -> torch.Tensor:
    """`(I, H)` mask of the same head in every instance."""
    index = torch.full((n_instances,), head)
    return torch.nn.functional.one_hot(index, n_heads).bool()


def remove_from_reads(
    model: InductionModel,
    outputs: Sequence[torch.Tensor],
    sources: torch.Tensor,
    readers: torch.Tensor,
    parts: str = "k",
) -> Intervention:
    """Path ablation: mean-ablate the layer-0 heads where `sources` `(I, H)` is True only
    where the layer-1 heads where `readers` `(I, H)` is True read them as query, key or
    value (`parts`, e.g. "k" or "qv"). `outputs` are the clean run's per-head outputs
    (`head_outputs`) on the batch the intervention will run on.

    The host is linear up to each softmax (no MLP, no LayerNorm), so the source heads'
    contribution to a reader's q, k or v is exactly `(z_h - mean z_h) W_O^h W_{q,k,v}`
    away from its mean; subtracting it at the reader's `hook_qkv` leaves every other
    path from the source heads (to other readers, to the logits) as it was.
    """
    attn, reader = model.blocks[0].attn, model.blocks[1].attn
    z = outputs[0]  # (I, B, T, H, dh)
    n_inst, n_batch, n_pos, n_heads, dh = z.shape
    D = n_heads * dh
    away = (z - z.mean(dim=1, keepdim=True)) * sources[:, None, None, :, None]
    delta = away.reshape(n_inst, n_batch * n_pos, D) @ attn.W_O.detach()  # (I, B*T, D)
    correction = (delta @ reader.W_QKV.detach()).view(n_inst, n_batch, n_pos, 3 * D)
    # Columns of hook_qkv: part * D + head * dh + i.
    columns = torch.zeros(n_inst, 3, n_heads, dh, dtype=torch.bool)
    for part in parts:
        columns[:, "qkv".index(part)] = readers[:, :, None]
    correction = correction * columns.view(n_inst, 1, 1, 3 * D)
    return Intervention("blocks.1.attn.hook_qkv", replace(lambda qkv: qkv - correction))


def heads_above(scores: torch.Tensor, threshold: float) -> torch.Tensor:
    """`(I, H)` bool: the heads scoring above `threshold`, or the best head of an instance
    where none does (so that every instance has at least one)."""
    above = scores > threshold
    best = torch.nn.functional.one_hot(scores.argmax(dim=-1), scores.shape[-1]).bool()
    return torch.where(above.any(dim=-1, keepdim=True), above, best)


def top_probability(logits: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Per instance `(I,)`: mean probability of the top prediction on the induction
    targets (how confident the host is, right or wrong)."""
    top = logits.softmax(dim=-1).max(dim=-1).values
    mask = batch.target_mask
    return (top * mask).sum(dim=(1, 2)) / mask.sum(dim=(1, 2))


@torch.no_grad()
def loss_under(
    model: InductionModel, batch: Batch, interventions: Iterable[Intervention] = ()
) -> torch.Tensor:
    """Loss per instance `(I,)` (nats, on the induction targets) under the interventions."""
    with intervene(model, interventions):
        return repeat_losses(model(batch.tokens), batch)


@torch.no_grad()
def logits_under(
    model: InductionModel, batch: Batch, interventions: Iterable[Intervention] = ()
) -> torch.Tensor:
    with intervene(model, interventions):
        return model(batch.tokens)


def accuracy(logits: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Top-1 accuracy per instance `(I,)` on the induction targets."""
    hit = (logits.argmax(dim=-1) == batch.tokens.roll(-1, dims=-1)) & batch.target_mask
    return hit.sum(dim=(1, 2)) / batch.target_mask.sum(dim=(1, 2))


def candidates(batch: Batch, vocab: int) -> torch.Tensor:
    """`(I, B, T, vocab)` bool: tokens that occurred exactly once up to each position.

    The answer on an induction target is always one of them; a host that cannot do
    induction can still rule out tokens that have not occurred and tokens that repeated.
    """
    counts = torch.nn.functional.one_hot(batch.tokens, vocab).cumsum(dim=2)
    return counts == 1


def guess_accuracy(batch: Batch, vocab: int) -> torch.Tensor:
    """Per instance `(I,)`: accuracy of a uniform guess among `candidates`."""
    n = candidates(batch, vocab).sum(-1).float()  # (I, B, T); >= 1 on every target
    mask = batch.target_mask
    chance = torch.where(mask, 1.0 / n.clamp_min(1.0), 0.0)
    return chance.sum(dim=(1, 2)) / mask.sum(dim=(1, 2))


def chance_in_candidates(batch: Batch, vocab: int) -> torch.Tensor:
    """Per instance `(I,)`: how often a uniform guess over the vocabulary is a candidate."""
    n = candidates(batch, vocab).sum(-1).float() / vocab  # (I, B, T)
    mask = batch.target_mask
    return (n * mask).sum(dim=(1, 2)) / mask.sum(dim=(1, 2))


def in_candidates(logits: torch.Tensor, batch: Batch) -> torch.Tensor:
    """Per instance `(I,)`: how often the top prediction is one of the `candidates`."""
    chosen = candidates(batch, logits.shape[-1]).gather(-1, logits.argmax(-1)[..., None])[..., 0]
    mask = batch.target_mask
    return (chosen & mask).sum(dim=(1, 2)) / mask.sum(dim=(1, 2))
