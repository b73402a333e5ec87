"""Compute of the induction symbiote graph figure: the residual dictionary grown over the
hosts, its latents labelled, its graphs and their latent grain.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from figures_src.induction_symbiote_graph import Params


RANDOM_STREAM = 40_000
"""Added to each seed for the random latent sets of the causal test."""


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


def _splice_recovered(model: Any, batch: Any, sae: Any, index: Any) -> list[float]:
    """Per seed, `metrics.loss_recovered` of the host's loss on the induction targets when
    the dictionary's reconstruction replaces the residual stream at its site, against
    replacing it by its mean over the held-out sequences and positions."""
    from symbiote_core.hosts.induction import repeat_losses
    from symbiote_core.metrics import splice_loss_recovered_instances

    losses = splice_loss_recovered_instances(
        model,
        "blocks.0.hook_resid_post",
        sae,
        batch.tokens,
        lambda logits, tokens: repeat_losses(logits, batch),
        slots=index.tolist(),
        instance_dim=0,
    )
    return losses.recovered


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
    """Per instance: each latent's best-matching feature, its kind and its correlation,
    and each latent's correlation with its best feature of each kind.

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
    by_kind = torch.stack(
        [
            corr[..., :vocab].amax(-1),
            corr[..., vocab : 2 * vocab].amax(-1),
            corr[..., 2 * vocab :].amax(-1),
        ],
        dim=-1,
    )  # (I, L, kinds)
    return {
        "score": best * alive,
        "kind": kind,
        "feature": feature,
        "alive": alive,
        "by_kind": by_kind * alive[..., None],
    }


def _r2(weights: Any, truth: Any) -> list[float]:
    """Per instance, R^2 of `weights` as a prediction of `truth` (both `(I, E)`): one minus
    the residual over the truth's variance about its mean."""
    residual = (truth - weights).pow(2).sum(-1)
    total = (truth - truth.mean(-1, keepdim=True)).pow(2).sum(-1)
    return (1 - residual / total.clamp_min(1e-12)).tolist()


def _graphs(
    p: Params, graph: Any, model: Any, batch: Any, sae: Any, raw: Any, index: Any, host: str
) -> dict[str, Any]:
    """The head-level graph read three ways (the dictionary, the same dictionary at its
    initialisation, no dictionary), the dictionary's error node, and the truth."""
    fwd = graph.forward(model, batch.tokens)
    u = graph.readout(model, batch)
    n_heads = model.cfg.n_heads
    readers = {"dictionary": graph.dictionary_reader(sae, index.tolist(), fwd)}
    if host == "trained":  # on the untrained host there is nothing to find (truth empty)
        readers["untrained dictionary"] = graph.dictionary_reader(raw, index.tolist(), fwd)
        readers["no dictionary"] = graph.identity_reader(fwd)
    out: dict[str, Any] = {}
    weights = {}
    for name, reader in readers.items():
        a = graph.attribute(model, fwd, reader, u)
        qk = graph.recompute_qk(model, fwd, reader, u)
        weights[name] = graph.graph_weights(a["flows"], n_heads, qk)
        if name == "dictionary":
            weights["first order"] = graph.graph_weights(a["flows"], n_heads)
            out["exactness_error"] = (
                (a["exact"] - graph.logit_diff(fwd.logits, batch)).abs().tolist()
            )
    truth = graph.patch_effects(model, batch).double()
    lead = graph.logit_diff(fwd.logits, batch)
    *_, error = graph.latent_deltas(sae, index.tolist(), fwd)
    flows = graph.error_flows(model, fwd, error, u)  # (I, P)
    exact = [0] + [3 * j + 3 for j in range(n_heads)]  # direct and value paths
    # R^2 over the edges graded at the same grain as the truth: into a layer-1 head's
    # q, k or v, and straight to the logits (a summed edge, into a layer-0 head or out of a
    # layer-1 head, is a total the truth does not cut alike).
    graded = [
        e
        for e, (source, target, part) in enumerate(graph.edge_list(n_heads))
        if part or (target == graph.LOGITS and not source.startswith("L1"))
    ]
    out |= {
        "weights": {name: w.tolist() for name, w in weights.items()},
        "r2": {name: _r2(w[:, graded], truth[:, graded]) for name, w in weights.items()},
        "truth": truth.tolist(),
        "logit_diff": lead.tolist(),
        "error_flows": flows.tolist(),
        # The error node's share of the logit lead, through the paths where the
        # decomposition is exact (direct and values, given the pattern).
        "error_share": (flows[:, exact].sum(-1) / lead.abs().clamp_min(1e-12)).tolist(),
    }
    return out


def _latent_grain(
    p: Params, graph: Any, model: Any, batch: Any, sae: Any, index: Any, lab: dict[str, Any]
) -> dict[str, Any]:
    """Attribution per latent against path patching per latent, and the causal test of
    the previous-token latents in layer 1's key input (module docstring)."""
    import torch

    fwd = graph.forward(model, batch.tokens)
    u = graph.readout(model, batch)
    reader = graph.dictionary_reader(sae, index.tolist(), fwd)
    first = graph.attribute(model, fwd, reader, u, per_latent=True)["latent"].sum(1)  # (I, L, P)
    # The same attribution with queries and keys recomputed through the softmax, latent by
    # latent (the QK fix the head-level graph uses).
    # A latent's term is its activation's source shares, summed, times its decoder row.
    coef = reader.terms.sum(3)  # (I, B, T, L)
    qk = graph.qk_effects(model, fwd, coef, u, decoder=reader.decoder)  # (I, L, H, 2)
    fixed = first.clone()
    for j in range(model.cfg.n_heads):
        fixed[..., 1 + 3 * j], fixed[..., 2 + 3 * j] = qk[:, :, j, 0], qk[:, :, j, 1]
    centred, decoder, error = graph.latent_deltas(sae, index.tolist(), fwd)
    truth = graph.latent_truth(model, fwd, centred, decoder, u)  # (I, L, P)
    alive = lab["alive"]  # (I, L)
    n, _L, P = truth.shape
    qk_paths = [1 + 3 * j + part for j in range(model.cfg.n_heads) for part in (0, 1)]

    def r2(estimate: Any, paths: list[int] | None = None) -> list[float]:
        cols = list(range(P)) if paths is None else paths
        return [
            _r2(
                estimate[i][alive[i]][:, cols].flatten()[None],
                truth[i][alive[i]][:, cols].flatten()[None],
            )[0]
            for i in range(n)
        ]

    grain = {
        "latent_r2": r2(fixed),
        "latent_qk_r2": r2(fixed, qk_paths),
        "first_order_latent_r2": r2(first),
        "first_order_latent_qk_r2": r2(first, qk_paths),
        # Edges of the latent graph (latent -> path) that move the metric by more than a
        # twentieth of a logit in either reading, rounded, to keep the page small.
        "latent_edges": [
            [
                [round(a, 2), round(t, 2), int(path)]
                for (a, t, path) in zip(
                    fixed[i][alive[i]].flatten().tolist(),
                    truth[i][alive[i]].flatten().tolist(),
                    torch.arange(P).repeat(int(alive[i].sum())).tolist(),
                    strict=True,
                )
                if max(abs(a), abs(t)) > 0.05
            ]
            for i in range(n)
        ],
    }
    # The causal test: which latents, removed from the key input (or, as the null, the
    # query input) of layer 1, cost the induction targets most.
    good = lab["score"] > p.label_threshold
    prev = good & (lab["kind"] == 1)  # (I, L)
    cur_scores = torch.where(
        good & (lab["kind"] == 0), lab["score"], torch.zeros_like(lab["score"])
    )
    sizes = prev.sum(-1)  # (I,)
    cur = torch.zeros_like(prev)
    for i in range(n):  # as many current-token latents, the best-matching first
        cur[i, cur_scores[i].argsort(descending=True)[: int(sizes[i])]] = True
        cur[i] &= cur_scores[i] > 0
    clean_loss = _loss(model, batch)
    cut = {
        part: graph.ablate_in_part(model, batch, graph.part_mean_delta(fwd), part) for part in "qk"
    }

    def delta(mask: Any) -> Any:
        return torch.einsum("ibtl,il,ild->ibtd", centred, mask.double(), decoder)

    def share(part: str, d: Any) -> tuple[list[float], list[float]]:
        loss, _ = graph.ablate_in_part(model, batch, d, part)
        whole = cut[part][0] - clean_loss
        return loss.tolist(), ((loss - clean_loss) / whole).tolist()

    results: dict[str, Any] = {}
    for part in "qk":
        results[f"prev_{part}"] = share(part, delta(prev))
        results[f"cur_{part}"] = share(part, delta(cur))
        results[f"error_{part}"] = share(part, error)
        draws = []
        for r in range(p.random_sets):
            mask = torch.zeros_like(prev)
            for i, seed in enumerate(p.seeds):
                gen = torch.Generator().manual_seed(seed + RANDOM_STREAM + 1000 * r)
                live = alive[i].nonzero().squeeze(-1)
                pick = live[torch.randperm(len(live), generator=gen)[: int(sizes[i])]]
                mask[i, pick] = True
            draws.append(share(part, delta(mask)))
        results[f"random_{part}"] = (
            [statistics.fmean(d[0][i] for d in draws) for i in range(n)],
            [statistics.fmean(d[1][i] for d in draws) for i in range(n)],
        )
    grain["causal"] = {
        "clean_loss": clean_loss.tolist(),
        "cut_loss": {part: cut[part][0].tolist() for part in "qk"},
        "n_ablated": sizes.tolist(),
        **{name: {"loss": v[0], "share": v[1]} for name, v in results.items()},
    }
    return grain


def _loss(model: Any, batch: Any) -> Any:
    import torch

    from symbiote_core.hosts.induction import repeat_losses

    with torch.no_grad():
        return repeat_losses(model(batch.tokens), batch)


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
