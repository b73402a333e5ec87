"""Sites, scoped hooks, collection and interventions, on a tiny hand-built host."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from symbiote_core.interventions import (
    Intervention,
    ablate,
    ablate_all,
    ablate_feature,
    add,
    clamp,
    clamp_feature,
    intervene,
    replace,
    splice,
    steer_feature,
)
from symbiote_core.sites import collect, hooks, parse_site, resolve, stream
from symbiote_core.symbiotes import ReLUConfig, ReLUSAE

pytestmark = pytest.mark.usefixtures("seeded")


class Block(nn.Module):
    def __init__(self, d: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.ReLU(), nn.Linear(2 * d, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.mlp(x)


class PairOut(nn.Module):
    """Returns a tuple, like attention modules that also return weights."""

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return 2 * x, x.sum(-1)


class Host(nn.Module):
    def __init__(self, d: int = 4) -> None:
        super().__init__()
        self.embed = nn.Linear(3, d)
        self.blocks = nn.ModuleList([Block(d), Block(d)])
        self.pair = PairOut()
        self.unembed = nn.Linear(d, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x)
        for block in self.blocks:
            h = block(h)
        h, _ = self.pair(h)
        return self.unembed(h)


def all_hooks_gone(model: nn.Module) -> bool:
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


# ----- site names -----


def test_parse_site_defaults_to_output_and_names_root() -> None:
    assert parse_site("blocks.0.mlp") == parse_site("blocks.0.mlp:output")
    assert parse_site("blocks.1:input").kind == "input"
    assert parse_site(":output").module == ""
    assert parse_site("").name == ":output"


def test_bad_kind_names_the_site() -> None:
    with pytest.raises(ValueError, match=r"blocks\.0:inptu"):
        parse_site("blocks.0:inptu")


def test_unknown_module_lists_close_names() -> None:
    with pytest.raises(ValueError, match=r"blocks\.0\.mpl.*blocks\.0\.mlp"):
        resolve(Host(), "blocks.0.mpl:output")


def test_bad_site_registers_nothing() -> None:
    host = Host()
    keep = lambda t, *, site: None  # noqa: E731
    with pytest.raises(ValueError), hooks(host, [("embed", keep), ("nope", keep)]):
        pass
    assert all_hooks_gone(host)


# ----- reading -----


def test_collect_matches_manual_forward() -> None:
    host = Host()
    x = torch.randn(10, 3)
    acts = collect(host, ["embed", "blocks.1:input", "blocks.0.mlp.1", "pair"], x)
    with torch.no_grad():
        h0 = host.embed(x)
        h1 = host.blocks[0](h0)
        relu = torch.relu(host.blocks[0].mlp[0](h0))
        h2 = host.blocks[1](h1)
    torch.testing.assert_close(acts["embed"], h0, rtol=0, atol=0)
    torch.testing.assert_close(acts["blocks.1:input"], h1, rtol=0, atol=0)
    torch.testing.assert_close(acts["blocks.0.mlp.1"], relu, rtol=0, atol=0)
    # a tuple output: the site is element 0
    torch.testing.assert_close(acts["pair"], 2 * h2, rtol=0, atol=0)
    assert all_hooks_gone(host)


def test_collect_batches_agree_and_keep_no_graph() -> None:
    host = Host()
    x = torch.randn(10, 3)
    whole = collect(host, "blocks.1", x)["blocks.1"]
    chunked = collect(host, "blocks.1", x, batch_size=3)["blocks.1"]
    listed = collect(host, "blocks.1", [x[:4], x[4:]])["blocks.1"]
    assert whole.shape == (10, 4) and not whole.requires_grad
    torch.testing.assert_close(chunked, whole)
    torch.testing.assert_close(listed, whole)


def test_stream_yields_per_batch_with_no_hooks_between() -> None:
    host = Host()
    sizes = []
    for store in stream(host, ["embed", "unembed"], torch.randn(7, 3), batch_size=3):
        assert all_hooks_gone(host)
        sizes.append((store["embed"].shape[0], store["unembed"].shape))
    assert sizes == [(3, (3, 2)), (3, (3, 2)), (1, (1, 2))]


# ----- hooks -----


def test_hook_returning_none_keeps_and_tensor_replaces() -> None:
    host = Host()
    x = torch.randn(5, 3)
    with torch.no_grad():
        clean = host(x)
        with hooks(host, {"blocks.0": lambda t, *, site: None}):
            same = host(x)
        with hooks(host, {"blocks.1:input": lambda t, *, site: torch.zeros_like(t)}):
            zeroed = host(x)
            expected = host.unembed(2 * host.blocks[1](torch.zeros(5, 4)))
    assert torch.equal(same, clean)
    torch.testing.assert_close(zeroed, expected)


def test_hook_fn_gets_canonical_site_name() -> None:
    host = Host()
    seen = []
    with hooks(host, [("blocks.0", lambda t, *, site: seen.append(site))]):
        host(torch.randn(2, 3))
    assert seen == ["blocks.0:output"]


def test_tuple_output_hook_edits_element_zero_only() -> None:
    pair = PairOut()
    x = torch.randn(3, 4)
    with hooks(pair, {"": lambda t, *, site: t + 1}):
        first, second = pair(x)
    assert torch.equal(first, 2 * x + 1)
    assert torch.equal(second, x.sum(-1))


def test_hooks_removed_after_exception() -> None:
    host = Host()
    fn = lambda t, *, site: t  # noqa: E731
    with (
        pytest.raises(RuntimeError, match="boom"),
        hooks(host, [("embed", fn), ("blocks.0:input", fn)]),
    ):
        assert host.embed._forward_hooks and host.blocks[0]._forward_pre_hooks
        raise RuntimeError("boom")
    assert not host.embed._forward_hooks
    assert not host.blocks[0]._forward_pre_hooks
    assert all_hooks_gone(host)


def test_hooks_removed_when_the_forward_raises() -> None:
    host = Host()

    def explode(t: torch.Tensor, *, site: str) -> torch.Tensor:
        raise RuntimeError("inside the hook")

    with pytest.raises(RuntimeError, match="inside the hook"), hooks(host, {"embed": explode}):
        host(torch.randn(2, 3))
    assert all_hooks_gone(host)


# ----- interventions -----


class Identity(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.site = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.site(x)


def test_intervention_is_frozen_data() -> None:
    iv = Intervention("site", add(torch.ones(3)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        iv.site = "other"  # type: ignore[misc]


def test_steering_adds_exactly_scale_times_direction() -> None:
    model, x, d = Identity(), torch.randn(6, 5), torch.randn(5)
    with intervene(model, [Intervention("site", add(d, 2.5))]):
        out = model(x)
    assert torch.equal(out, x + 2.5 * d)
    assert all_hooks_gone(model)


def test_clamp_sets_the_component_and_keeps_the_rest() -> None:
    model, x = Identity(), torch.randn(6, 5)
    d = torch.tensor([3.0, 4.0, 0.0, 0.0, 0.0])  # not unit: clamp normalises it
    u = d / 5
    with intervene(model, [Intervention("site", clamp(d, 7.0))]):
        out = model(x)
    torch.testing.assert_close(out @ u, torch.full((6,), 7.0))
    rest = lambda t: t - (t @ u)[:, None] * u  # noqa: E731
    torch.testing.assert_close(rest(out), rest(x))


def test_ablate_direction_zero_and_mean() -> None:
    model, x, u = Identity(), torch.randn(6, 5), torch.eye(5)[1]
    with intervene(model, [Intervention("site", ablate(u))]):
        zeroed = model(x)
    with intervene(model, [Intervention("site", ablate(u, "mean", mean=torch.arange(5.0)))]):
        meaned = model(x)
    expected = x.clone()
    expected[:, 1] = 0
    torch.testing.assert_close(zeroed, expected)
    expected[:, 1] = 1.0  # the mean activation's component along e_1
    torch.testing.assert_close(meaned, expected)
    with pytest.raises(ValueError, match="mean"):
        ablate(u, "mean")


def test_ablate_all_and_replace() -> None:
    model, x = Identity(), torch.randn(4, 3)
    mean = torch.tensor([1.0, 2.0, 3.0])
    with intervene(model, [Intervention("site", ablate_all())]):
        assert torch.equal(model(x), torch.zeros(4, 3))
    with intervene(model, [Intervention("site", ablate_all("mean", mean))]):
        assert torch.equal(model(x), mean.expand(4, 3))
    with intervene(model, [Intervention("site", replace(lambda t: -t))]):
        assert torch.equal(model(x), -x)


def test_interventions_compose_in_order() -> None:
    model, x = Identity(), torch.randn(4, 3)
    ivs = [
        Intervention("site", add(torch.ones(3), 1.0)),
        Intervention("site", replace(lambda t: 2 * t)),
    ]
    with intervene(model, ivs):
        assert torch.equal(model(x), 2 * (x + 1))


def _hand_sae() -> ReLUSAE:
    sae = ReLUSAE(ReLUConfig(d_in=3, d_sae=4))
    with torch.no_grad():
        sae.W_dec.copy_(torch.nn.functional.normalize(torch.randn(4, 3), dim=1))
        sae.W_enc.copy_(sae.W_dec.T)
        sae.b_enc.fill_(0.1)
        sae.b_dec.copy_(torch.tensor([0.2, -0.1, 0.0]))
    return sae


def test_feature_ablation_changes_only_that_feature() -> None:
    sae, model = _hand_sae(), Identity()
    x = torch.randn(50, 3)
    with torch.no_grad():
        z = sae.encode(x)
        with intervene(model, [Intervention("site", ablate_feature(sae, 2))]):
            out = model(x)
        edited = z.clone()
        edited[:, 2] = 0
        error = x - sae.decode(z)
    assert (z[:, 2] > 0).any()  # the test means something only if feature 2 fires
    # the change is feature 2's contribution, nothing else
    torch.testing.assert_close(out - x, -z[:, 2:3] * sae.W_dec[2])
    # ... which is decode(edited latents) plus the dictionary's error
    torch.testing.assert_close(out, sae.decode(edited) + error)


def test_clamp_and_steer_feature() -> None:
    sae, model = _hand_sae(), Identity()
    x = torch.randn(20, 3)
    with torch.no_grad():
        z = sae.encode(x)
        with intervene(model, [Intervention("site", clamp_feature(sae, 1, 3.0))]):
            clamped = model(x)
        with intervene(model, [Intervention("site", steer_feature(sae, 1, 3.0))]):
            steered = model(x)
    torch.testing.assert_close(clamped, x + (3.0 - z[:, 1:2]) * sae.W_dec[1])
    torch.testing.assert_close(steered, x + 3.0 * sae.W_dec[1])


def test_splice_replaces_site_by_reconstruction() -> None:
    sae, model = _hand_sae(), Identity()
    x = torch.randn(8, 3)
    with torch.no_grad(), intervene(model, [Intervention("site", splice(sae))]):
        out = model(x)
    assert torch.equal(out, sae(x).recon.detach())
