"""Reading the induction circuit through a dictionary, and the path patching that grades it.

Not a figure (leading underscore); `figures_src/induction_symbiote_graph.py` imports it
inside `compute`. Every function works on all instances (seeds) of a batched host at
once, as `figures_src/_lab/induction.py` does.

The host (`symbiote_core.hosts.induction`) is attention-only with no normalisation, so
the residual stream after layer 0 is a sum of *sources*: the embedding (token plus
position) and the four layer-0 heads' outputs. A dictionary reads that stream:
`z = M * ((r0 - b_dec) @ W_enc + b_enc)` with `M` the TopK mask, so given the mask each
latent is linear in the sources, and `r0 = z @ W_dec + b_dec + error`. Given the
layer-1 attention pattern the logits are linear in `r0` (direct path, and each
layer-1 head's values), so the logit decomposes exactly into one term per source,
latent and path, plus the dictionary's bias, mean and error terms (`attribute`;
`tests/test_induction_attribution.py` checks the sum). Through a head's queries and
keys the logit depends on `r0` through the softmax; there the attribution is first
order: the exact gradient of the logit with respect to the attention scores at the
actual pattern, times each term's exact share of the scores (as in attribution
patching, Kramar et al. 2024).

Sources enter centred (minus their mean over the batch at the same position), so a
source's attribution is the linear estimate of what mean-ablating it would change,
the same baseline as the path patching that serves as ground truth (`patch_effects`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch

PARTS = "qkv"
TOKENS, LOGITS = "tokens", "logits"


def edge_list(n_heads: int) -> list[tuple[str, str, str]]:
    """Every edge of the head-level graph as (source, target, part); part is q, k, v or ""."""
    edges: list[tuple[str, str, str]] = [(TOKENS, f"L0 H{h}", "") for h in range(n_heads)]
    for j in range(n_heads):
        for part in PARTS:
            edges.extend((f"L0 H{h}", f"L1 H{j}", part) for h in range(n_heads))
            edges.append((TOKENS, f"L1 H{j}", part))
    edges += [(f"L1 H{j}", LOGITS, "") for j in range(n_heads)]
    edges += [(f"L0 H{h}", LOGITS, "") for h in range(n_heads)]
    edges.append((TOKENS, LOGITS, ""))
    return edges


class Forward(NamedTuple):
    """A float64 forward pass of a 2-layer host, kept in pieces."""

    sources: torch.Tensor
    """`(I, B, T, 1 + H, D)`: the embedding, then each layer-0 head's output (after W_O)."""
    resid_mid: torch.Tensor
    """`(I, B, T, D)` the residual stream after layer 0 (the sum of the sources)."""
    q: torch.Tensor
    """`(I, B, T, H, dh)` layer-1 queries (likewise `k`, `v`)."""
    k: torch.Tensor
    v: torch.Tensor
    pattern: torch.Tensor
    """`(I, B, H, q, k)` layer-1 attention."""
    head_out: torch.Tensor
    """`(I, B, T, H, D)` each layer-1 head's output (after W_O)."""
    logits: torch.Tensor
    """`(I, B, T, vocab)`."""


def _attend(x: torch.Tensor, W_QKV: torch.Tensor, W_O: torch.Tensor, n_heads: int) -> tuple:
    n_inst, B, T, D = x.shape
    dh = D // n_heads
    qkv = torch.einsum("ibtd,ide->ibte", x, W_QKV).view(n_inst, B, T, 3, n_heads, dh)
    q, k, v = qkv.unbind(dim=3)
    scores = torch.einsum("ibqhd,ibkhd->ibhqk", q, k) / math.sqrt(dh)
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    pattern = scores.masked_fill(~causal, float("-inf")).softmax(dim=-1)
    z = torch.einsum("ibhqk,ibkhd->ibqhd", pattern, v)  # (I, B, T, H, dh)
    out = torch.einsum("ibqhd,ihde->ibqhe", z, W_O.view(n_inst, n_heads, dh, D))
    return q, k, v, pattern, out


@torch.no_grad()
def forward(model: Any, tokens: torch.Tensor) -> Forward:
    """The host's forward pass in float64, split into sources and paths."""
    W = {name: p.detach().double() for name, p in model.named_parameters()}
    n_heads = model.cfg.n_heads
    n_inst, _, T = tokens.shape
    instance = torch.arange(n_inst)[:, None, None]
    embed = W["W_E"][instance, tokens] + W["W_pos"][:, None, :T]
    *_, heads0 = _attend(embed, W["blocks.0.attn.W_QKV"], W["blocks.0.attn.W_O"], n_heads)
    sources = torch.cat([embed[:, :, :, None], heads0], dim=3)
    mid = sources.sum(dim=3)
    q, k, v, pattern, out = _attend(mid, W["blocks.1.attn.W_QKV"], W["blocks.1.attn.W_O"], n_heads)
    logits = torch.einsum("ibtd,idv->ibtv", mid + out.sum(dim=3), W["W_U"])
    return Forward(sources, mid, q, k, v, pattern, out, logits)


def readout(model: Any, batch: Any) -> torch.Tensor:
    """`(I, B, T, D)` float64: the direction whose dot product with the final residual,
    summed over positions, is the metric `logit_diff`: on each induction target, the
    correct token's logit minus the mean logit, averaged over the targets."""
    W_U = model.W_U.detach().double()  # (I, D, V)
    centred = W_U - W_U.mean(dim=-1, keepdim=True)
    targets = batch.tokens.roll(-1, dims=-1)  # (I, B, T)
    u = torch.stack([centred[i].T[targets[i]] for i in range(len(W_U))])  # (I, B, T, D)
    weight = batch.target_mask.double() / batch.target_mask.sum(dim=(1, 2), keepdim=True)
    return u * weight[..., None]


def logit_diff(logits: torch.Tensor, batch: Any) -> torch.Tensor:
    """Per instance `(I,)`: correct logit minus mean logit, averaged over the targets."""
    logits = logits.double()
    targets = batch.tokens.roll(-1, dims=-1)
    lead = logits.gather(-1, targets[..., None])[..., 0] - logits.mean(dim=-1)
    mask = batch.target_mask
    return (lead * mask).sum(dim=(1, 2)) / mask.sum(dim=(1, 2))


@dataclass
class Reader:
    """What the attribution reads the residual stream through: latents `z = a @ W_dec`
    parts, one per source, plus the rest. A dictionary, or the identity (no dictionary)."""

    terms: torch.Tensor
    """`(I, B, T, S, L)`: each centred source's share of each latent's activation."""
    decoder: torch.Tensor
    """`(I, L, D)`."""
    rest: dict[str, torch.Tensor]
    """`(I, B, T, D)` each: what the latents' source terms leave of the residual stream
    (the dictionary's bias, the sources' means through the latents, its error)."""


def dictionary_reader(sae: Any, instances: Sequence[int], fwd: Forward) -> Reader:
    """Read `fwd.resid_mid` through instances `instances` of a batched TopK dictionary
    (one dictionary instance per host instance, in order)."""
    index = torch.tensor(list(instances))
    W_enc = sae.W_enc.detach().double()[index]  # (I, D, L)
    b_enc = sae.b_enc.detach().double()[index]
    W_dec = sae.W_dec.detach().double()[index]  # (I, L, D)
    b_dec = sae.b_dec.detach().double()[index]
    mid = fwd.resid_mid  # (I, B, T, D)
    with torch.no_grad():
        # The mask comes from the dictionary itself (float32, TopK), then float64 values.
        codes = sae.encode(_with_instances(mid.float(), sae.n_instances, index))
        mask = (codes[..., index, :] > 0).double()  # (B, T, I, L) -> below
    mask = mask.permute(2, 0, 1, 3)  # (I, B, T, L)
    centred = fwd.sources - fwd.sources.mean(dim=1, keepdim=True)
    terms = mask[:, :, :, None] * torch.einsum("ibtsd,idl->ibtsl", centred, W_enc)
    z = mask * (
        torch.einsum("ibtd,idl->ibtl", mid - b_dec[:, None, None], W_enc) + b_enc[:, None, None]
    )
    recon = torch.einsum("ibtl,ild->ibtd", z, W_dec) + b_dec[:, None, None]
    base = torch.einsum("ibtl,ild->ibtd", z - terms.sum(dim=3), W_dec)
    rest = {
        "dictionary bias": b_dec[:, None, None].expand_as(mid),
        "source means": base,
        "dictionary error": mid - recon,
    }
    return Reader(terms, W_dec, rest)


def _with_instances(x: torch.Tensor, n_instances: int, index: torch.Tensor) -> torch.Tensor:
    """`(I, B, T, D)` -> `(B, T, n_instances, D)`, the instances in `index` filled in."""
    out = x.new_zeros(*x.shape[1:3], n_instances, x.shape[-1])
    out[:, :, index] = x.permute(1, 2, 0, 3)
    return out


def identity_reader(fwd: Forward) -> Reader:
    """No dictionary: each source's centred output, read along the residual's own axes."""
    n_inst, _, _, _, D = fwd.sources.shape
    means = fwd.sources.mean(dim=1, keepdim=True)
    eye = torch.eye(D, dtype=torch.float64).expand(n_inst, D, D)
    return Reader(
        fwd.sources - means, eye, {"source means": means.sum(dim=3).expand_as(fwd.resid_mid)}
    )


def path_readouts(model: Any, fwd: Forward, u: torch.Tensor) -> list[torch.Tensor]:
    """For each path (direct, then head j's q, k, v for each j), `(I, B, T, D)`: the
    vector whose dot product with a residual-stream term at a position, summed over
    positions, is that term's contribution to the metric along the path. Exact for the
    direct and value paths given the pattern; first order for queries and keys."""
    W_QKV = model.blocks[1].attn.W_QKV.detach().double()  # (I, D, 3D)
    W_O = model.blocks[1].attn.W_O.detach().double()  # (I, D, D)
    n_inst, _B, _T, H, dh = fwd.q.shape
    D = H * dh
    W_Q, W_K, W_V = (W_QKV[:, :, p * D : (p + 1) * D].view(n_inst, D, H, dh) for p in range(3))
    W_Oh = W_O.view(n_inst, H, dh, D)
    paths = [u]
    for j in range(H):
        A = fwd.pattern[:, :, j]  # (I, B, q, k)
        # Value path: the term at key k reaches query q with weight A[q, k].
        gathered = torch.einsum("ibqk,ibqd->ibkd", A, u)  # (I, B, k, D)
        ov = torch.einsum("iaj,ijd->iad", W_V[:, :, j], W_Oh[:, j])  # (I, D, D)
        value = torch.einsum("ibkd,ied->ibke", gathered, ov)
        # d metric / d score[q, k] = A[q, k] * (value_k - output_q) . u_q
        vu = torch.einsum(
            "ibkd,ibqd->ibqk", torch.einsum("ibkj,ijd->ibkd", fwd.v[:, :, :, j], W_Oh[:, j]), u
        )
        yu = (fwd.head_out[:, :, :, j] * u).sum(-1)  # (I, B, q)
        G = A * (vu - yu[..., None]) / math.sqrt(dh)  # (I, B, q, k)
        key_eff = torch.einsum("ibqk,ibkc->ibqc", G, fwd.k[:, :, :, j])  # (I, B, q, dh)
        query_eff = torch.einsum("ibqk,ibqc->ibkc", G, fwd.q[:, :, :, j])  # (I, B, k, dh)
        query = torch.einsum("ibqc,idc->ibqd", key_eff, W_Q[:, :, j])
        key = torch.einsum("ibkc,idc->ibkd", query_eff, W_K[:, :, j])
        paths += [query, key, value]
    return paths


def path_names(n_heads: int) -> list[str]:
    return ["direct"] + [f"L1 H{j} {part}" for j in range(n_heads) for part in PARTS]


def attribute(
    model: Any, fwd: Forward, reader: Reader, u: torch.Tensor, per_latent: bool = False
) -> dict[str, Any]:
    """Contributions to the metric: `flows` `(I, S, P)` per source and path (summed over
    latents), `latent` `(I, S, L, P)` per latent too when `per_latent`; `rest`
    `{name: (I, P)}` for the reader's other terms; and `exact`, the metric recomputed
    from the direct and value paths alone (it equals the host's)."""
    paths = path_readouts(model, fwd, u)
    shares = torch.einsum("ibtsl,ild->ibtsd", reader.terms, reader.decoder)  # (I, B, T, S, D)
    flows, latent = [], []
    rest: dict[str, list[torch.Tensor]] = {name: [] for name in reader.rest}
    for path in paths:
        flows.append(torch.einsum("ibtsd,ibtd->is", shares, path))
        if per_latent:
            back = torch.einsum("ibtd,ild->ibtl", path, reader.decoder)  # (I, B, T, L)
            latent.append(torch.einsum("ibtsl,ibtl->isl", reader.terms, back))
        for name, term in reader.rest.items():
            rest[name].append((term * path).sum(dim=(1, 2, 3)))
    out_flows = torch.stack(flows, dim=-1)  # (I, S, P)
    out_rest = {name: torch.stack(v, dim=-1) for name, v in rest.items()}
    exact = [0] + [3 * j + 3 for j in range(fwd.q.shape[3])]  # direct and value paths
    total = out_flows[..., exact].sum(dim=(1, 2)) + sum(
        v[:, exact].sum(-1) for v in out_rest.values()
    )
    out: dict[str, Any] = {"flows": out_flows, "rest": out_rest, "exact": total}
    if per_latent:
        out["latent"] = torch.stack(latent, dim=-1)
    return out


def recompute_qk(model: Any, fwd: Forward, reader: Reader, u: torch.Tensor) -> torch.Tensor:
    """`(I, S, H, 2)`: for each source, layer-1 head and part (query, key), how much the
    metric falls when that source's latent terms (summed over latents) are removed from
    the head's queries or keys and its pattern is recomputed exactly (the softmax is
    not linearised: the "QK fix" of Kramar et al. 2024). Exact for one edge at a time:
    a layer-1 head's output reaches only the logits."""
    shares = torch.einsum("ibtsl,ild->ibtsd", reader.terms, reader.decoder)  # (I, B, T, S, D)
    return qk_effects(model, fwd, shares, u)


def qk_effects(
    model: Any,
    fwd: Forward,
    deltas: torch.Tensor,
    u: torch.Tensor,
    chunk: int = 32,
    decoder: torch.Tensor | None = None,
) -> torch.Tensor:
    """`(I, X, H, 2)`: how much the metric falls when each of X terms of the residual
    stream, `deltas` `(I, B, T, X, D)`, is removed from one layer-1 head's queries or
    keys alone, its pattern recomputed exactly and everything else left as it was.

    With `decoder` `(I, X, D)`, `deltas` `(I, B, T, X)` are the coefficients of rank-one
    terms `coef[..., x] * decoder[:, x]` (a latent's activation times its decoder row),
    never built at full size: their projections onto q or k are the coefficients times
    the decoder row's projection. Terms are taken `chunk` at a time (the recomputed
    scores are `(I, B, T, x, T)`); the metric's fall is the clean pattern minus the
    recomputed one, dotted with the value path's readout (one matrix product)."""
    W_QKV = model.blocks[1].attn.W_QKV.detach().double()
    W_O = model.blocks[1].attn.W_O.detach().double()
    n_inst, B, T, H, dh = fwd.q.shape
    D = H * dh
    hidden = ~torch.ones(T, T, dtype=torch.bool).tril()[:, None]  # (q, 1, k)
    out = torch.zeros(n_inst, deltas.shape[3], H, 2, dtype=torch.float64)
    for j in range(H):
        cols = [slice(p * D + j * dh, p * D + (j + 1) * dh) for p in range(2)]
        vu = torch.einsum(
            "ibkd,ibqd->ibqk",
            torch.einsum("ibkc,icd->ibkd", fwd.v[:, :, :, j], W_O[:, j * dh : (j + 1) * dh]),
            u,
        ).reshape(n_inst, B, T, T, 1)
        A = fwd.pattern[:, :, j, :, None]  # (I, B, q, 1, k)
        q, k = fwd.q[:, :, :, j], fwd.k[:, :, :, j]  # (I, B, T, dh)
        projected = (
            [torch.einsum("ixd,idc->ixc", decoder, W_QKV[:, :, c]) for c in cols]
            if decoder is not None
            else None
        )
        for start in range(0, deltas.shape[3], chunk):
            part = deltas[:, :, :, start : start + chunk]
            for p in range(2):
                if projected is None:  # (I, B, T, x, dh)
                    delta = torch.einsum("ibtsd,idc->ibtsc", part, W_QKV[:, :, cols[p]])
                else:
                    delta = part[..., None] * projected[p][:, None, None, start : start + chunk]
                x = delta.shape[3]
                # Scores laid out (I, B, q, x, k), so that one product per (instance,
                # sequence) gives every term's scores and the softmax runs along k.
                if p == 0:
                    qs = (q[:, :, :, None] - delta).reshape(n_inst, B, T * x, dh)
                    scores = (qs @ k.transpose(-1, -2)).view(n_inst, B, T, x, T)
                else:
                    ks = (k[:, :, :, None] - delta).transpose(2, 3).reshape(n_inst, B, x * T, dh)
                    scores = (q @ ks.transpose(-1, -2)).view(n_inst, B, T, x, T)
                scores.div_(math.sqrt(dh))
                patched = scores.masked_fill_(hidden, float("-inf")).softmax(dim=-1)
                fall = (A - patched) @ vu  # (I, B, q, x, 1)
                out[:, start : start + chunk, j, p] = fall.sum(dim=(1, 2, 4))
    return out


def latent_deltas(sae: Any, instances: Sequence[int], fwd: Forward) -> tuple[torch.Tensor, ...]:
    """What mean-ablating each latent removes from the residual stream: `(z_l - mean z_l)
    W_dec[l]` with the mean over the batch at the same position. Returns the centred
    codes `(I, B, T, L)`, the decoder `(I, L, D)` and the dictionary's error
    `(I, B, T, D)` (the stream minus its reconstruction), all float64."""
    index = torch.tensor(list(instances))
    with torch.no_grad():
        codes = sae.encode(_with_instances(fwd.resid_mid.float(), sae.n_instances, index))
        recon = sae.decode(codes)[:, :, index].permute(2, 0, 1, 3).double()
    z = codes[:, :, index].permute(2, 0, 1, 3).double()  # (I, B, T, L)
    centred = z - z.mean(dim=1, keepdim=True)
    return centred, sae.W_dec.detach().double()[index], fwd.resid_mid - recon


def latent_truth(
    model: Any, fwd: Forward, centred: torch.Tensor, decoder: torch.Tensor, u: torch.Tensor
) -> torch.Tensor:
    """`(I, L, P)` in `path_names` order: path patching at the grain of latents. For each
    latent and path (direct, then each layer-1 head's q, k, v), how much the metric falls
    when that latent is mean-ablated in that path's input alone. Exact: the direct and
    value paths are linear given the pattern, which values do not change; queries and
    keys are recomputed through the softmax (`qk_effects`)."""
    paths = path_readouts(model, fwd, u)  # first order for q and k: only v and direct used
    H = fwd.q.shape[3]
    # Each path's readout projected on the atoms first (one product), then weighted by
    # the codes: torch contracts a three-operand einsum left to right, through an
    # (I, B, T, L, D) intermediate that cost 60 times as much.
    linear = {
        p: (centred * torch.einsum("ibtd,ild->ibtl", paths[p], decoder)).sum(dim=(1, 2))
        for p in [0] + [3 * j + 3 for j in range(H)]
    }
    qk = qk_effects(model, fwd, centred, u, decoder=decoder)  # (I, L, H, 2)
    columns = [linear[0]]
    for j in range(H):
        columns += [qk[:, :, j, 0], qk[:, :, j, 1], linear[3 * j + 3]]
    return torch.stack(columns, dim=-1)


def error_flows(model: Any, fwd: Forward, error: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """`(I, P)` in `path_names` order: the dictionary's error node's edges. Through the
    direct and value paths its attribution (exact given the pattern); through queries and
    keys, the metric's fall when it is removed there and the pattern recomputed."""
    paths = path_readouts(model, fwd, u)
    flows = torch.stack([(error * path).sum(dim=(1, 2, 3)) for path in paths], dim=-1)
    qk = qk_effects(model, fwd, error[:, :, :, None], u)[:, 0]  # (I, H, 2)
    for j in range(qk.shape[1]):
        flows[:, 1 + 3 * j] = qk[:, j, 0]
        flows[:, 2 + 3 * j] = qk[:, j, 1]
    return flows


def graph_weights(
    flows: torch.Tensor, n_heads: int, qk: torch.Tensor | None = None
) -> torch.Tensor:
    """`(I, edges)` in `edge_list` order, from `attribute(...)["flows"]` `(I, S, P)`
    (summed over latents); a node's edge from upstream is everything that flows through it.
    With `qk` (`recompute_qk`), the query and key paths take its exact effects instead
    of the first-order ones."""
    # Source 0 is the embedding, source 1 + h layer-0 head h.
    if qk is not None:
        flows = flows.clone()
        for j in range(n_heads):
            flows[:, :, 1 + 3 * j] = qk[:, :, j, 0]
            flows[:, :, 2 + 3 * j] = qk[:, :, j, 1]
    columns = []
    for h in range(n_heads):
        columns.append(flows[:, 1 + h].sum(-1))  # tokens -> L0 h: all of h's flow
    for j in range(n_heads):
        for p, _ in enumerate(PARTS):
            path = 1 + 3 * j + p
            columns.extend(flows[:, 1 + h, path] for h in range(n_heads))
            columns.append(flows[:, 0, path])
    for j in range(n_heads):
        columns.append(flows[:, :, 1 + 3 * j : 4 + 3 * j].sum(dim=(1, 2)))
    columns.extend(flows[:, 1 + h, 0] for h in range(n_heads))
    columns.append(flows[:, 0, 0])
    return torch.stack(columns, dim=-1)


# ----- ground truth: path patching with mean ablation -----


def patch_effects(model: Any, batch: Any) -> torch.Tensor:
    """`(I, edges)` in `edge_list` order: how much the metric falls when that one edge
    is mean-ablated (the sender's contribution to the receiver replaced by its mean over
    the batch at the same position), every other path left as it was."""
    from symbiote_core.interventions import Intervention, intervene, replace

    n_heads = model.cfg.n_heads
    fwd = forward(model, batch.tokens)
    centred = (fwd.sources - fwd.sources.mean(dim=1, keepdim=True)).float()  # (I, B, T, S, D)
    _n_inst, _B, _T, _, D = centred.shape
    dh = D // n_heads

    def metric(interventions: list[Any]) -> torch.Tensor:
        with torch.no_grad(), intervene(model, interventions):
            return logit_diff(model(batch.tokens), batch)

    clean = metric([])

    def columns(part: str, head: int) -> slice:
        start = PARTS.index(part) * D + head * dh
        return slice(start, start + dh)

    def layer0_input(h: int) -> Any:  # the head sees the mean embedding: its q, k, v are means
        def fn(qkv: torch.Tensor) -> torch.Tensor:
            out = qkv.clone()
            for part in PARTS:
                c = columns(part, h)
                out[..., c] = qkv[..., c].mean(dim=1, keepdim=True).expand_as(qkv[..., c])
            return out

        return Intervention("blocks.0.attn.hook_qkv", replace(fn))

    W_QKV = model.blocks[1].attn.W_QKV.detach()

    def into_layer1(source: int, j: int, part: str) -> Any:
        c = columns(part, j)
        delta = torch.einsum("ibtd,ide->ibte", centred[:, :, :, source], W_QKV[:, :, c])

        def fn(qkv: torch.Tensor) -> torch.Tensor:
            out = qkv.clone()
            out[..., c] = qkv[..., c] - delta
            return out

        return Intervention("blocks.1.attn.hook_qkv", replace(fn))

    W_U = model.W_U.detach()

    def into_logits(source: int) -> Any:
        delta = torch.einsum("ibtd,idv->ibtv", centred[:, :, :, source], W_U)
        return Intervention("hook_logits", replace(lambda logits: logits - delta))

    def layer1_head(j: int) -> Any:
        def fn(z: torch.Tensor) -> torch.Tensor:
            out = z.clone()
            out[..., j, :] = z[..., j, :].mean(dim=1, keepdim=True).expand_as(z[..., j, :])
            return out

        return Intervention("blocks.1.attn.hook_z", replace(fn))

    patches: list[Callable[[], Any]] = [lambda h=h: layer0_input(h) for h in range(n_heads)]
    for j in range(n_heads):
        for part in PARTS:
            patches += [
                lambda h=h, j=j, part=part: into_layer1(1 + h, j, part) for h in range(n_heads)
            ]
            patches.append(lambda j=j, part=part: into_layer1(0, j, part))
    patches += [lambda j=j: layer1_head(j) for j in range(n_heads)]
    patches += [lambda h=h: into_logits(1 + h) for h in range(n_heads)]
    patches.append(lambda: into_logits(0))
    return torch.stack([clean - metric([make()]) for make in patches], dim=-1)


# ----- the causal test of a set of latents, in one part of layer 1's input -----


def ablate_in_part(
    model: Any, batch: Any, delta: torch.Tensor, part: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per instance `(I,)`: the induction loss and the metric when `delta` `(I, B, T, D)`
    is removed from the input of layer 1's queries or keys only (`part` "q" or "k", every
    head), every other read of the residual stream left as it was."""
    from symbiote_core.hosts.induction import repeat_losses
    from symbiote_core.interventions import Intervention, intervene, replace

    D = model.cfg.d_model
    c = slice(PARTS.index(part) * D, (PARTS.index(part) + 1) * D)
    W = model.blocks[1].attn.W_QKV.detach()[:, :, c]
    shift = torch.einsum("ibtd,ide->ibte", delta.float(), W)

    def fn(qkv: torch.Tensor) -> torch.Tensor:
        out = qkv.clone()
        out[..., c] = qkv[..., c] - shift
        return out

    with torch.no_grad(), intervene(model, [Intervention("blocks.1.attn.hook_qkv", replace(fn))]):
        logits = model(batch.tokens)
    return repeat_losses(logits, batch), logit_diff(logits, batch)


def part_mean_delta(fwd: Forward) -> torch.Tensor:
    """`(I, B, T, D)`: what cutting a whole path's input removes: the residual stream's
    deviation from its batch mean at each position (mean ablation of that input)."""
    return fwd.resid_mid - fwd.resid_mid.mean(dim=1, keepdim=True)
