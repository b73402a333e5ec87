"""What a feature browser shows of each latent, computed from its activations.

Input: a dictionary's latents over a batch of contexts, `acts` of shape (contexts,
positions, latents), the tokens those positions hold (as display strings), and
optionally boolean labels per position (ground truth such as "inside a string", or a
planted feature). Output: one `Latent` per dictionary latent with its activation density,
its strongest examples (a window of tokens around each, with the activation at every
token so a page can highlight them) and the label it matches best by F1 of "fires"
against "label true" (Bricken et al. 2023 read latents by top examples; the F1 against an
exact label is the check a reader cannot do by eye).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from symbiote_core.browser.latents import Example, LabelMatch, Latent


def summarise(
    acts: torch.Tensor,
    tokens: Sequence[Sequence[str]],
    *,
    labels: Mapping[str, torch.Tensor] | None = None,
    top: int = 12,
    before: int = 12,
    after: int = 4,
    active_above: float = 0.0,
) -> list[Latent]:
    """One `Latent` per column of `acts` (contexts, positions, latents).

    `tokens[c][p]` is the display string of position p of context c. `labels` maps a
    name to a bool tensor (contexts, positions). Examples are the `top` strongest active
    positions (ties broken by position order, so the result is deterministic), each
    with `before` tokens of context before it and `after` after.
    """
    if acts.dim() != 3:
        raise ValueError(f"acts must be (contexts, positions, latents), got {tuple(acts.shape)}")
    n_ctx, n_pos, n_lat = acts.shape
    if len(tokens) != n_ctx or any(len(row) != n_pos for row in tokens):
        raise ValueError(f"tokens must be {n_ctx} rows of {n_pos} strings, one per position")
    flat = acts.detach().to(torch.float32).reshape(n_ctx * n_pos, n_lat)
    active = flat > active_above
    density = active.float().mean(0)
    count = active.sum(0)
    mean_active = torch.where(
        count > 0, (flat * active).sum(0) / count.clamp(min=1), torch.zeros_like(density)
    )
    k = min(top, flat.shape[0])
    # Stable order: sort descending by value, then by position (argsort is stable).
    order = torch.argsort(-flat, dim=0, stable=True)[:k]
    matches = _best_labels(active, labels, n_ctx * n_pos) if labels else [None] * n_lat
    latents = []
    for j in range(n_lat):
        examples = []
        for flat_index in order[:, j].tolist():
            if not bool(active[flat_index, j]):
                break
            c, p = divmod(flat_index, n_pos)
            lo, hi = max(0, p - before), min(n_pos, p + after + 1)
            examples.append(
                Example(
                    context=c,
                    position=p,
                    tokens=tuple(tokens[c][lo:hi]),
                    acts=tuple(round(float(a), 4) for a in acts[c, lo:hi, j]),
                    focus=p - lo,
                )
            )
        latents.append(
            Latent(
                index=j,
                density=float(density[j]),
                max_act=float(flat[:, j].max()),
                mean_active=float(mean_active[j]),
                examples=tuple(examples),
                match=matches[j],
            )
        )
    return latents


def _best_labels(
    active: torch.Tensor, labels: Mapping[str, torch.Tensor], n: int
) -> list[LabelMatch | None]:
    names = sorted(labels)
    truth = torch.stack([labels[name].reshape(n).bool() for name in names], 1).float()
    fired = active.float()
    hits = fired.T @ truth  # (latents, labels): positions where both are true
    precision = hits / fired.sum(0).clamp(min=1)[:, None]
    recall = hits / truth.sum(0).clamp(min=1)[None, :]
    f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    best = f1.argmax(1)  # first of equal maxima: names are sorted, so deterministic
    out: list[LabelMatch | None] = []
    for j, i in enumerate(best.tolist()):
        if fired[:, j].sum() == 0:
            out.append(None)
            continue
        out.append(
            LabelMatch(
                names[i], float(precision[j, i]), float(recall[j, i]), float(f1[j, i])
            )
        )
    return out
