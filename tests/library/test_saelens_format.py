"""Dictionaries in SAELens's on-disk format, within this library: the files' layout, the
round trip, and the folds on import. (SAELens itself reads them in bench/.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from symbiote_core.io import load, save
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
    Transcoder,
    TranscoderConfig,
)
from symbiote_core.train import TrainConfig, train

D_IN, D_SAE = 12, 40


pytestmark = pytest.mark.usefixtures("seeded")


def data(n: int = 512, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, D_IN, generator=gen) * torch.linspace(0.5, 2, D_IN) + 1.0


def trained(sae: torch.nn.Module) -> torch.nn.Module:
    """A few steps, so biases, thresholds and the decoder are far from their init."""
    train(sae, data(), TrainConfig(steps=30, batch_size=128, lr=1e-2, progress=False))
    return sae.eval()


KINDS = {
    "relu": (lambda: ReLUSAE(ReLUConfig(d_in=D_IN, d_sae=D_SAE, l1_coeff=0.05)), "standard"),
    "topk": (lambda: TopKSAE(TopKConfig(d_in=D_IN, d_sae=D_SAE, k=5)), "topk"),
    "jumprelu": (
        lambda: JumpReLUSAE(JumpReLUConfig(d_in=D_IN, d_sae=D_SAE, threshold_init=0.1)),
        "jumprelu",
    ),
    "batchtopk": (lambda: BatchTopKSAE(BatchTopKConfig(d_in=D_IN, d_sae=D_SAE, k=5)), "jumprelu"),
    "matryoshka": (
        lambda: MatryoshkaSAE(MatryoshkaConfig(d_in=D_IN, d_sae=D_SAE, k=5, prefixes=(10, D_SAE))),
        "jumprelu",
    ),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_files_follow_saelens_layout(kind: str, tmp_path: Path) -> None:
    make, architecture = KINDS[kind]
    sae = trained(make())
    save_saelens(sae, tmp_path, hook_name="blocks.0:output", model_name="toy")
    cfg = json.loads((tmp_path / "cfg.json").read_text())
    weights = load_file(str(tmp_path / "sae_weights.safetensors"))
    assert cfg["architecture"] == architecture
    assert (cfg["d_in"], cfg["d_sae"], cfg["dtype"]) == (D_IN, D_SAE, "float32")
    assert cfg["apply_b_dec_to_input"] is True and cfg["normalize_activations"] == "none"
    assert cfg["metadata"]["hook_name"] == "blocks.0:output"
    assert cfg["metadata"]["sae_lens_version"].startswith("6.")  # read as the 6.x layout
    shapes = {name: tuple(t.shape) for name, t in weights.items()}
    expected = {"W_enc": (D_IN, D_SAE), "W_dec": (D_SAE, D_IN), "b_enc": (D_SAE,), "b_dec": (D_IN,)}
    if architecture == "jumprelu":
        expected["threshold"] = (D_SAE,)
    assert shapes == expected
    if architecture == "topk":
        assert cfg["k"] == 5 and cfg["rescale_acts_by_decoder_norm"] is False


@pytest.mark.parametrize("kind", list(KINDS))
def test_round_trip_keeps_encode_and_decode(kind: str, tmp_path: Path) -> None:
    make, architecture = KINDS[kind]
    sae = trained(make())
    back = load_saelens(save_saelens(sae, tmp_path))
    x = data(200, seed=1)
    with torch.no_grad():
        z, z_back = sae.encode(x), back.encode(x)
        assert (z > 0).float().sum(-1).mean() > 0  # not a dead dictionary
        if architecture == "jumprelu" and kind != "jumprelu":
            # BatchTopK's one threshold becomes one per latent: same map, float rounding apart
            torch.testing.assert_close(z_back, z, rtol=0, atol=1e-6)
            assert type(back) is JumpReLUSAE
        else:
            assert torch.equal(z_back, z)
            assert type(back) is type(sae) and back.cfg == sae.cfg  # hyper-parameters kept
        assert torch.equal(back.decode(z), sae.decode(z))
    assert not back.training


def test_batchtopk_before_training_exports_its_relu(tmp_path: Path) -> None:
    sae = BatchTopKSAE(BatchTopKConfig(d_in=D_IN, d_sae=D_SAE, k=5))  # threshold unset: a ReLU
    back = load_saelens(save_saelens(sae, tmp_path))
    x = data(50)
    assert torch.equal(back.encode(x), sae.encode(x))


def _write(folder: Path, cfg: dict, weights: dict[str, torch.Tensor]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    base = {"d_in": D_IN, "d_sae": D_SAE, "dtype": "float32", "device": "cpu",
            "apply_b_dec_to_input": True, "normalize_activations": "none",
            "reshape_activations": "none", "metadata": {"sae_lens_version": "6.54.12"}}  # fmt: skip
    (folder / "cfg.json").write_text(json.dumps(base | cfg))
    save_file(weights, str(folder / "sae_weights.safetensors"))
    return folder


def _weights(seed: int, scale_rows: bool = False) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    W_dec = torch.randn(D_SAE, D_IN, generator=gen)
    if scale_rows:  # SAELens does not keep decoder rows at unit norm
        W_dec = W_dec * torch.rand(D_SAE, 1, generator=gen).add(0.2)
    return {
        "W_enc": torch.randn(D_IN, D_SAE, generator=gen) * 0.3,
        "W_dec": W_dec,
        "b_enc": torch.randn(D_SAE, generator=gen) * 0.1,
        "b_dec": torch.randn(D_IN, generator=gen),
    }


def test_import_folds_an_unapplied_decoder_bias(tmp_path: Path) -> None:
    w = _weights(1)
    sae = load_saelens(_write(tmp_path, {"architecture": "standard",
                                         "apply_b_dec_to_input": False}, w))  # fmt: skip
    x = data(100)
    # SAELens with apply_b_dec_to_input=False: relu(x @ W_enc + b_enc) (no centring)
    reference = torch.relu(x @ w["W_enc"] + w["b_enc"])
    torch.testing.assert_close(sae.encode(x), reference, rtol=1e-5, atol=1e-5)
    assert type(sae) is ReLUSAE


def test_import_folds_topk_decoder_norm_rescaling(tmp_path: Path) -> None:
    w = _weights(2, scale_rows=True)
    sae = load_saelens(_write(tmp_path, {"architecture": "topk", "k": 4,
                                         "rescale_acts_by_decoder_norm": True}, w))  # fmt: skip
    x = data(100)
    norms = w["W_dec"].norm(dim=-1)
    # SAELens: top k of pre * |W_dec_i| (then ReLU), decoded as (z / |W_dec_i|) @ W_dec + b_dec
    pre = ((x - w["b_dec"]) @ w["W_enc"] + w["b_enc"]) * norms
    vals, idx = pre.topk(4, dim=-1)
    z = torch.zeros_like(pre).scatter(-1, idx, vals.relu())
    recon = (z / norms) @ w["W_dec"] + w["b_dec"]
    torch.testing.assert_close(sae.encode(x), z, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(sae.decode(sae.encode(x)), recon, rtol=1e-5, atol=1e-5)
    # without rescaling, non-unit decoder rows are kept exactly as they are
    plain = load_saelens(_write(tmp_path / "plain", {"architecture": "topk", "k": 4}, w))
    assert torch.equal(plain.W_dec, w["W_dec"]) and plain.cfg.k == 4


def test_import_of_jumprelu_thresholds(tmp_path: Path) -> None:
    w = _weights(3) | {"threshold": torch.rand(D_SAE, generator=torch.Generator().manual_seed(4))}
    w["threshold"][:5] = 0.0  # a zero threshold is a plain ReLU on that latent
    sae = load_saelens(_write(tmp_path / "a", {"architecture": "jumprelu"}, w))
    x = data(100)
    pre = (x - w["b_dec"]) @ w["W_enc"] + w["b_enc"]
    reference = pre.relu() * (pre > w["threshold"])
    torch.testing.assert_close(sae.encode(x), reference, rtol=0, atol=1e-6)
    w["threshold"][5:10] = -0.5  # below zero: the same as zero, since ReLU comes first
    negative = load_saelens(_write(tmp_path / "b", {"architecture": "jumprelu"}, w))
    reference = pre.relu() * (pre > w["threshold"])
    torch.testing.assert_close(negative.encode(x), reference, rtol=0, atol=1e-6)


def test_unsupported_files_and_symbiotes_are_refused(tmp_path: Path) -> None:
    w = _weights(5)
    with pytest.raises(ValueError, match=r"architecture 'gated' is not supported"):
        load_saelens(_write(tmp_path / "a", {"architecture": "gated"}, w))
    with pytest.raises(ValueError, match=r"normalize_activations='layer_norm'.*fold"):
        load_saelens(_write(tmp_path / "b", {"architecture": "standard",
                                             "normalize_activations": "layer_norm"}, w))  # fmt: skip
    bad = dict(w, W_enc=w["W_enc"].T.contiguous())
    with pytest.raises(
        ValueError, match=r"W_enc has shape \(40, 12\), cfg.json implies \(12, 40\)"
    ):
        load_saelens(_write(tmp_path / "c", {"architecture": "standard"}, bad))
    with pytest.raises(ValueError, match="missing \\['b_dec'\\]"):
        load_saelens(_write(tmp_path / "d", {"architecture": "standard"},
                            {k: v for k, v in w.items() if k != "b_dec"}))  # fmt: skip
    ours = TopKSAE(TopKConfig(d_in=D_IN, d_sae=D_SAE, k=3))
    with pytest.raises(ValueError, match="not a SAELens SAE"):
        load_saelens(save(ours, tmp_path / "ours"))  # this library's own format
    with pytest.raises(ValueError, match=r"is not a saved symbiote.*use load_saelens"):
        load(save_saelens(ours, tmp_path / "theirs"))
    with pytest.raises(ValueError, match="would be overwritten"):
        save_saelens(ours, tmp_path / "ours")
    with pytest.raises(ValueError, match=r"instance\(i\) of 2"):
        save_saelens(TopKSAE(TopKConfig(d_in=D_IN, d_sae=D_SAE, k=3, n_instances=2)), tmp_path)
    tc = Transcoder(TranscoderConfig(dictionary=TopKConfig(d_in=D_IN, d_sae=D_SAE, k=3), d_out=4))
    with pytest.raises(ValueError, match="takes a sparse autoencoder, got Transcoder"):
        save_saelens(tc, tmp_path / "tc")  # type: ignore[arg-type]
