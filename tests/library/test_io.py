"""Save/load round trips for every registered kind; no pickles anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from symbiote_core.io import load, save
from symbiote_core.symbiotes import (
    Dictionary,
    LinearProbe,
    ProbeConfig,
    TopKConfig,
    Transcoder,
    TranscoderConfig,
    registry,
)
from symbiote_core.train import TrainConfig, train

pytestmark = pytest.mark.usefixtures("seeded")


def build(kind: str, n_instances: int) -> tuple[torch.nn.Module, tuple[torch.Tensor, ...]]:
    """A symbiote of `kind`, a few steps trained (so no weight is at its init), and a batch."""
    lead = () if n_instances == 1 else (n_instances,)
    if kind == "probe":
        sym = LinearProbe(ProbeConfig(d_in=6, n_outputs=3))
        data = (torch.randn(64, 6), torch.randint(0, 3, (64,)))
    elif kind == "transcoder":
        inner = TopKConfig(
            d_in=6, d_sae=16, k=(2, 3) if n_instances == 2 else 2, n_instances=n_instances
        )
        sym = Transcoder(TranscoderConfig(dictionary=inner, d_out=4, skip=True))
        data = (torch.randn(64, *lead, 6), torch.randn(64, *lead, 4))
    else:
        cls = registry.config_class(kind)
        extra = {"k": 3} if issubclass(cls, TopKConfig) else {}
        sym = registry.make_dictionary(cls(d_in=6, d_sae=16, n_instances=n_instances, **extra))
        data = (torch.randn(64, *lead, 6),)
    train(
        sym, data if len(data) > 1 else data[0], TrainConfig(steps=5, batch_size=32, progress=False)
    )
    return sym.eval(), data


def kinds_and_instances() -> list[tuple[str, int]]:
    out = []
    for kind in registry.kinds():  # every built-in kind, its module imported
        out.append((kind, 1))
        if kind != "probe":
            out.append((kind, 2))
    return out


@pytest.mark.parametrize(("kind", "n_instances"), kinds_and_instances())
def test_round_trip_gives_identical_outputs(kind: str, n_instances: int, tmp_path: Path) -> None:
    sym, data = build(kind, n_instances)
    save(sym, tmp_path / kind)
    loaded = load(tmp_path / kind)
    assert type(loaded) is type(sym) and loaded.cfg == sym.cfg
    x = data[0]
    with torch.no_grad():
        before, after = sym(x), loaded(x)
    if isinstance(before, tuple):
        assert all(torch.equal(a, b) for a, b in zip(before, after, strict=True))
    else:
        assert torch.equal(before, after)
    saved = sym.state_dict()
    assert all(torch.equal(saved[k], v) for k, v in loaded.state_dict().items())


def test_folder_holds_json_and_safetensors_only(tmp_path: Path) -> None:
    sym, _ = build("topk", 2)
    save(sym, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cfg.json", "model.safetensors"]
    meta = json.loads((tmp_path / "cfg.json").read_text())
    assert (
        meta["kind"] == "topk" and meta["config"]["k"] == 3 and meta["config"]["n_instances"] == 2
    )
    assert set(load_file(str(tmp_path / "model.safetensors"))) == {
        "W_enc",
        "W_dec",
        "b_enc",
        "b_dec",
    }


def test_per_instance_tuples_survive_json(tmp_path: Path) -> None:
    sym, _ = build("transcoder", 2)
    save(sym, tmp_path)
    cfg = load(tmp_path).cfg
    assert cfg.dictionary.k == (2, 3) and isinstance(cfg.dictionary, TopKConfig)


def test_loaded_dictionary_is_a_dictionary(tmp_path: Path) -> None:
    sym, _ = build("relu", 1)
    save(sym, tmp_path)
    assert isinstance(load(tmp_path), Dictionary)


def test_unknown_kind_and_bad_weights_are_errors(tmp_path: Path) -> None:
    sym, _ = build("topk", 1)
    save(sym, tmp_path)
    meta = json.loads((tmp_path / "cfg.json").read_text())
    (tmp_path / "cfg.json").write_text(json.dumps({**meta, "kind": "nope"}))
    with pytest.raises(ValueError, match="unknown symbiote kind 'nope'"):
        load(tmp_path)
    (tmp_path / "cfg.json").write_text(json.dumps(meta))
    weights = load_file(str(tmp_path / "model.safetensors"))
    del weights["b_enc"]
    save_file(weights, str(tmp_path / "model.safetensors"))
    with pytest.raises(RuntimeError, match="b_enc"):
        load(tmp_path)
    with pytest.raises(ValueError, match=r"no cfg\.json"):
        load(tmp_path / "missing")


def test_save_refuses_a_module_without_config(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no symbiote config"):
        save(torch.nn.Linear(2, 2), tmp_path)
