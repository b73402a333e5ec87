"""Tuning run for `symbiosis_modadd`'s co-trained reader (issue 19), on the TUNING seeds.

Not part of the build. Co-trains the figure's coupled hosts that learn (couplings up to
the interior one) on seeds 0-4 with the figure's recipe, then gives the co-trained
dictionary its reader-only catch-up from several starting points, batched with a fresh
reader per host (the figure's `_grow_readers` recipe), and prints each variant's FVU
over the fresh reader's, per host:

- plain: the dictionary as co-training left it (the figure's recipe until this run);
- resample: its latents that fire on no pair of the frozen host restarted at the fresh
  reader's initial weights for those latents (encoder column, decoder row, bias);
- retie: its encoder reset to its decoder's transpose (the tied start of a fresh reader),
  encoder bias 0, decoder bias the frozen host's mean: the atoms are kept;
- recentre: only the decoder bias moved to the frozen host's mean;
- retie+resample: both;
- renorm: its encoder's columns scaled to unit norm (their biases with them), decoder
  bias the frozen host's mean: the encoder's directions are kept, its scale reset;
- renorm+resample: both.

Usage: .venv/bin/python bench/tune_symbiosis_reader.py OUT.json [VARIANT ...]
"""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

import torch

import figures_src.symbiosis_modadd as fig
from figures_src._lab.symbiosis_dense import DenseTopKSAE
from symbiote_core.cotrain import catch_up, normalised_error
from symbiote_core.runtime import make_deterministic, route_gemm_to_openblas
from symbiote_core.symbiotes.topk import TopKConfig

VARIANTS = ["plain", "resample", "retie", "recentre", "retie+resample", "renorm", "renorm+resample"]
TUNING = (0, 1, 2, 3, 4)


class _Done(Exception):
    pass


def _variants(acts: torch.Tensor, cotrained: Any, seeds: list[int], p: Any, _: Any = None) -> Any:
    d = acts.shape[-1]
    c = sum(1 for lv in p.couplings if lv <= fig.MID) * len(p.seeds)  # hosts that learn
    x = acts[:, :c]

    def dictionary(count: int, instance_seeds: Any = None) -> DenseTopKSAE:
        return DenseTopKSAE(
            TopKConfig(
                d_in=d, d_sae=p.symbiote_size, n_instances=count, k=p.symbiote_k,
                instance_seeds=instance_seeds,
            )
        )  # fmt: skip

    fresh = dictionary(c, seeds[:c])
    fresh.init_from_data(x)
    start = {k: v[:c].clone() for k, v in cotrained.state_dict().items()}
    with torch.no_grad():
        fires = (cotrained.encode(acts[:, : cotrained.n_instances]) > 0).any(0)[:c]  # (c, s)
    dead = ~fires
    mean = x.mean(0)  # (c, d)
    init = fresh.state_dict()

    def variant(name: str) -> dict[str, torch.Tensor]:
        s = {k: v.clone() for k, v in start.items()}
        if "retie" in name:
            s["W_enc"] = s["W_dec"].transpose(1, 2).contiguous()
            s["b_enc"] = torch.zeros_like(s["b_enc"])
        if name.startswith("renorm"):
            norm = s["W_enc"].norm(dim=1).clamp_min(1e-8)  # (c, d_sae)
            s["W_enc"] = s["W_enc"] / norm[:, None]
            s["b_enc"] = s["b_enc"] / norm
        if "retie" in name or "renorm" in name or name == "recentre":
            s["b_dec"] = mean.clone()
        if "resample" in name:
            s["W_enc"] = torch.where(dead[:, None, :], init["W_enc"], s["W_enc"])
            s["W_dec"] = torch.where(dead[:, :, None], init["W_dec"], s["W_dec"])
            s["b_enc"] = torch.where(dead, init["b_enc"], s["b_enc"])
        return s

    states = [init] + [variant(v) for v in VARIANTS]
    both = dictionary(c * len(states))
    both.load_state_dict({k: torch.cat([s[k] for s in states]) for k in init})
    data = x.repeat(1, len(states), 1)
    with torch.no_grad():
        before = normalised_error(data, both(data).recon).view(len(states), c)
    catch_up(
        both, data, p.reader_steps, p.reader_batch, p.reader_lr,
        seed=p.seeds[0] + 1, decay_from=p.reader_decay_from,
    )  # fmt: skip
    with torch.no_grad():
        after = normalised_error(data, both(data).recon).view(len(states), c)
    raise _Done(
        {
            "dead_at_start": dead.sum(-1).tolist(),
            "fresh": after[0].tolist(),
            "before": {v: before[i + 1].tolist() for i, v in enumerate(VARIANTS)},
            "after": {v: after[i + 1].tolist() for i, v in enumerate(VARIANTS)},
        }
    )


def main(out: str, variants: list[str]) -> None:
    if variants:
        VARIANTS[:] = variants
    p = dataclasses.replace(
        fig.PARAMS,
        seeds=TUNING,
        couplings=tuple(c for c in fig.PARAMS.couplings if c <= fig.MID),
        l1s=(),
        widths=(),
    )
    make_deterministic(p.seeds[0])
    route_gemm_to_openblas()  # as a figure worker does
    fig._grow_readers = _variants  # type: ignore[assignment]
    try:
        fig.compute(p)
    except _Done as done:
        result = done.args[0]
    result["hosts"] = [(s, c) for c in p.couplings for s in p.seeds]
    for v in VARIANTS:
        ratios = [a / f for a, f in zip(result["after"][v], result["fresh"], strict=True)]
        result.setdefault("ratio", {})[v] = ratios
        print(f"{v:15s} ratio after catch-up {min(ratios):.3f}-{max(ratios):.3f}")
    print("dead latents at catch-up start:", result["dead_at_start"])
    with open(out, "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
