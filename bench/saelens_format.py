"""Check the SAELens format against SAELens itself: both directions, every supported kind.

Run through `bench/run.sh` (or `make bench`), which provides a venv holding both
libraries. Export: each of this library's dictionary kinds is trained for a few
steps (so biases, thresholds and decoder rows are far from their init), written with
`save_saelens`, loaded with SAELens's `SAE.load_from_disk`, and both libraries
encode, decode and reconstruct the same inputs. Import: SAEs built by SAELens (its
own init, then random biases, thresholds and decoder row norms), saved with its
`save_model`, are read with `load_saelens` and compared the same way, including the
two options folded on import (`apply_b_dec_to_input=False`, TopK's
`rescale_acts_by_decoder_norm=True`). Exits 1 if any difference exceeds the tolerance.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch
from sae_lens import SAE
from sae_lens.saes import JumpReLUSAE as TheirJumpReLU
from sae_lens.saes import JumpReLUSAEConfig, StandardSAEConfig, TopKSAEConfig
from sae_lens.saes import StandardSAE as TheirStandard
from sae_lens.saes import TopKSAE as TheirTopK

from symbiote_core.runtime import make_deterministic
from symbiote_core.saelens import load_saelens, save_saelens
from symbiote_core.symbiotes import (
    BatchTopKConfig,
    BatchTopKSAE,
    JumpReLUConfig,
    JumpReLUSAE,
    MatryoshkaConfig,
    MatryoshkaSAE,
    ReLUConfig,
    ReLUSAE,
    TopKConfig,
    TopKSAE,
)
from symbiote_core.train import TrainConfig, train


def inputs(n: int, d_in: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    scale = torch.linspace(0.5, 2.0, d_in)
    return torch.randn(n, d_in, generator=gen) * scale + 0.5


def ours_kinds(d_in: int, d_sae: int, k: int) -> dict[str, Callable[[], torch.nn.Module]]:
    return {
        "relu": lambda: ReLUSAE(ReLUConfig(d_in=d_in, d_sae=d_sae, l1_coeff=0.05)),
        "topk": lambda: TopKSAE(TopKConfig(d_in=d_in, d_sae=d_sae, k=k)),
        "jumprelu": lambda: JumpReLUSAE(
            JumpReLUConfig(d_in=d_in, d_sae=d_sae, threshold_init=0.05, l0_coeff=1e-3)
        ),
        "batchtopk": lambda: BatchTopKSAE(BatchTopKConfig(d_in=d_in, d_sae=d_sae, k=k)),
        "matryoshka": lambda: MatryoshkaSAE(
            MatryoshkaConfig(d_in=d_in, d_sae=d_sae, k=k, prefixes=(d_sae // 4, d_sae))
        ),
    }


def errors(
    ours: torch.nn.Module, theirs: SAE, x: torch.Tensor
) -> tuple[float, float, float, float]:
    """Max abs differences of encode, decode (of the same latents), forward; and mean L0."""
    with torch.no_grad():
        z_ours, z_theirs = ours.encode(x), theirs.encode(x)
        enc = (z_ours - z_theirs).abs().max().item()
        dec = (ours.decode(z_ours) - theirs.decode(z_ours)).abs().max().item()
        fwd = (ours(x).recon - theirs(x)).abs().max().item()
        l0 = (z_ours > 0).float().sum(-1).mean().item()
        top = z_theirs.abs().max().item()
    return enc, dec, fwd, l0, top


def their_sae(architecture: str, d_in: int, d_sae: int, k: int, seed: int, **options: bool) -> SAE:
    """A SAELens SAE with its own init, then random biases, thresholds and row norms."""
    torch.manual_seed(seed)
    if architecture == "standard":
        sae: SAE = TheirStandard(StandardSAEConfig(d_in=d_in, d_sae=d_sae, **options))
    elif architecture == "topk":
        sae = TheirTopK(TopKSAEConfig(d_in=d_in, d_sae=d_sae, k=k, **options))
    else:
        sae = TheirJumpReLU(JumpReLUSAEConfig(d_in=d_in, d_sae=d_sae, **options))
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        sae.W_dec.mul_(torch.rand(d_sae, 1, generator=gen) + 0.5)  # rows of norm != 1
        sae.b_enc.copy_(torch.randn(d_sae, generator=gen) * 0.1)
        sae.b_dec.copy_(torch.randn(d_in, generator=gen) * 0.3)
        if architecture == "jumprelu":
            sae.threshold.copy_(torch.rand(d_sae, generator=gen) * 0.2)
    return sae.eval()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d-in", type=int, default=64)
    parser.add_argument("--d-sae", type=int, default=256)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--examples", type=int, default=4096)
    parser.add_argument("--tolerance", type=float, default=1e-5)
    args = parser.parse_args()
    make_deterministic(0)
    d_in, d_sae, k = args.d_in, args.d_sae, args.k
    x = inputs(args.examples, d_in, seed=1)
    rows: list[tuple[str, str, tuple[float, float, float, float, float]]] = []

    with tempfile.TemporaryDirectory() as tmp:
        for i, (kind, make) in enumerate(ours_kinds(d_in, d_sae, k).items()):
            ours = make()
            cfg = TrainConfig(steps=50, batch_size=256, lr=3e-3, seed=i, progress=False)
            train(ours, inputs(4096, d_in, seed=100 + i), cfg)
            ours.eval()
            folder = save_saelens(ours, Path(tmp) / f"export-{kind}", hook_name="bench")
            theirs = SAE.load_from_disk(folder)
            rows.append((f"export {kind}", type(theirs).__name__, errors(ours, theirs, x)))

        variants = [
            ("standard", {}),
            ("standard", {"apply_b_dec_to_input": False}),
            ("topk", {}),
            ("topk", {"rescale_acts_by_decoder_norm": True}),
            ("jumprelu", {}),
        ]
        for i, (architecture, options) in enumerate(variants):
            theirs = their_sae(architecture, d_in, d_sae, k, seed=10 + i, **options)
            folder = Path(tmp) / f"import-{i}"
            theirs.save_model(folder)
            ours = load_saelens(folder)
            label = f"import {architecture}" + "".join(f" {o}={v}" for o, v in options.items())
            rows.append((label, type(ours).__name__, errors(ours, theirs, x)))

    worst = max(max(e[:3]) for _, _, e in rows)
    print(f"SAELens format round trip: d_in {d_in}, d_sae {d_sae}, k {k}, {args.examples} inputs")
    print("max abs differences, symbiote_core vs SAELens, on the same inputs:")
    head = f"{'case':<50} {'loaded as':<12} {'encode':>9} {'decode':>9} {'forward':>9}"
    print(f"{head} {'L0':>6} {'max |z|':>8}")
    for label, loaded, (enc, dec, fwd, l0, top) in rows:
        line = f"{label:<50} {loaded:<12} {enc:9.2e} {dec:9.2e} {fwd:9.2e}"
        print(f"{line} {l0:6.1f} {top:8.2f}")
    verdict = "PASS" if worst <= args.tolerance else "FAIL"
    print(f"max abs error {worst:.2e} (tolerance {args.tolerance:g}): {verdict}")
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
