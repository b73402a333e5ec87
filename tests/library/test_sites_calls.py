"""Sites on models that are not plain `model(tensor) -> tensor`: keyword batches, output
objects, keyword inputs, and modules called several times in one forward pass."""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

import pytest
import torch
from torch import nn

from symbiote_core.interventions import Intervention, add, intervene
from symbiote_core.sites import collect, hooks, parse_site, stream
from symbiote_core.symbiotes import TopKConfig, Transcoder, TranscoderConfig, splice_transcoder

pytestmark = pytest.mark.usefixtures("seeded")


class Tied(nn.Module):
    """One shared layer applied `depth` times (a weight-tied / recurrent module)."""

    def __init__(self, d: int = 4, depth: int = 3) -> None:
        super().__init__()
        self.shared = nn.Linear(d, d)
        self.depth = depth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for _ in range(self.depth):
            x = torch.tanh(self.shared(x))
        return x

    def manual(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Each call's output of `shared` (before tanh), computed by hand."""
        outs = []
        for _ in range(self.depth):
            out = self.shared(x)
            outs.append(out)
            x = torch.tanh(out)
        return outs


class Recursive(nn.Module):
    """Calls itself: the calls nest, so call indices must follow call starts."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Linear(2, 2, bias=False)

    def forward(self, x: torch.Tensor, depth: int = 2) -> torch.Tensor:
        x = self.scale(x)
        return x if depth == 0 else self(x, depth - 1) + 1


class Out(NamedTuple):
    hidden: torch.Tensor
    extra: torch.Tensor


class KeywordModel(nn.Module):
    """Takes keyword arguments and returns an output object, like a Hugging Face model."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.block = KeywordBlock()
        self.pair = PairNamed()

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None
    ) -> OrderedDict[str, torch.Tensor | None]:
        h = self.embed(input_ids)
        if attention_mask is not None:
            h = h * attention_mask[..., None]
        h = self.block(hidden_states=h)  # passed by keyword, as HF blocks often are
        h = self.pair(h).hidden
        return OrderedDict(loss=None, last_hidden_state=h, pooled=h.mean(1))


class KeywordBlock(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(4, 4)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return hidden_states + self.proj(hidden_states)


class PairNamed(nn.Module):
    def forward(self, x: torch.Tensor) -> Out:
        return Out(2 * x, x.sum(-1))


def all_hooks_gone(model: nn.Module) -> bool:
    return all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())


# ----- call indices -----


def test_parse_call_index() -> None:
    site = parse_site("shared:output#2")
    assert (site.module, site.kind, site.call) == ("shared", "output", 2)
    assert parse_site("shared#1") == parse_site("shared:output#1")
    assert parse_site("shared:input#0").name == "shared:input#0"
    assert parse_site("shared").call is None
    with pytest.raises(ValueError, match=r"shared:output#x.*call index"):
        parse_site("shared:output#x")
    with pytest.raises(ValueError, match="call index"):
        parse_site("shared:output#-1")


def test_each_call_is_read_by_its_index() -> None:
    model = Tied()
    x = torch.randn(5, 4)
    sites = [f"shared:output#{i}" for i in range(3)] + ["shared:input#1"]
    acts = collect(model, sites, x)
    with torch.no_grad():
        manual = model.manual(x)
    for i in range(3):
        assert torch.equal(acts[f"shared:output#{i}"], manual[i])
    assert torch.equal(acts["shared:input#1"], torch.tanh(manual[0]))
    # the calls differ, so reading "the" output would have been ambiguous
    assert not torch.equal(manual[0], manual[1])
    assert all_hooks_gone(model)


def test_unindexed_read_of_a_module_called_thrice_is_an_error() -> None:
    with pytest.raises(RuntimeError, match=r"'shared:output' is ambiguous.*called 3 times.*#2"):
        collect(Tied(), "shared", torch.randn(2, 4))


def test_missing_call_index_names_site_and_count() -> None:
    with pytest.raises(RuntimeError, match=r"'shared:output#3'.*called 3 times.*#0 to #2"):
        collect(Tied(), "shared:output#3", torch.randn(2, 4))
    model = Tied()
    with (
        pytest.raises(RuntimeError, match=r"'shared:output#5'.*called 3 times"),
        intervene(model, [Intervention("shared:output#5", add(torch.ones(4)))]),
    ):
        model(torch.randn(2, 4))
    assert all_hooks_gone(model)


def test_writing_one_call_changes_only_that_call() -> None:
    model = Tied()
    x = torch.randn(5, 4)
    bump = torch.full((4,), 0.5)
    with torch.no_grad():
        outs = model.manual(x)
        # by hand: call 1's output gets + bump; calls 0 and 2 untouched
        h = torch.tanh(torch.tanh(outs[0]) @ model.shared.weight.T + model.shared.bias + bump)
        expected = torch.tanh(model.shared(h))
        with intervene(model, [Intervention("shared:output#1", add(bump))]):
            steered = model(x)
            # a second forward pass counts its calls from 0 again
            again = model(x)
        with intervene(model, [Intervention("shared", add(bump))]):
            every = model(x)
    torch.testing.assert_close(steered, expected, rtol=0, atol=1e-6)
    assert torch.equal(again, steered)
    assert not torch.allclose(every, steered)  # without an index every call is edited


def test_nested_calls_are_numbered_by_their_start() -> None:
    model = Recursive()
    x = torch.randn(3, 2)
    seen: list[tuple[str, torch.Tensor]] = []
    with (
        torch.no_grad(),
        hooks(
            model, [(f":input#{i}", lambda t, *, site: seen.append((site, t))) for i in range(3)]
        ),
    ):
        model(x)
    assert [s for s, _ in seen] == [":input#0", ":input#1", ":input#2"]
    with torch.no_grad():
        assert torch.equal(seen[1][1], model.scale(x))
        assert torch.equal(seen[2][1], model.scale(model.scale(x)))
    acts = collect(model, ["scale#0", "scale#2", ":output#1", ":output#0"], x)
    with torch.no_grad():
        s1 = model.scale(x)
        s3 = model.scale(model.scale(s1))
    assert torch.equal(acts["scale#0"], s1)
    assert torch.equal(acts["scale#2"], s3)
    assert torch.equal(acts[":output#1"], s3 + 1)  # call 1 returns call 2's output + 1
    assert torch.equal(acts[":output#0"], (s3 + 1) + 1)


# ----- keyword batches and output objects -----


def test_mapping_batches_are_keyword_arguments_and_split() -> None:
    model = KeywordModel()
    ids = torch.randint(0, 10, (6, 5))
    mask = torch.ones(6, 5)
    mask[:, -2:] = 0
    batch = {"input_ids": ids, "attention_mask": mask}
    whole = collect(model, ["embed", ":output"], batch)
    split = collect(model, ["embed", ":output"], batch, batch_size=4)
    listed = collect(model, ":output", [{"input_ids": ids[:2]}, {"input_ids": ids[2:]}])
    with torch.no_grad():
        expected = model(**batch)["last_hidden_state"]
        unmasked = model(input_ids=ids)["last_hidden_state"]
    # ":output" of a mapping is its first non-None value
    assert torch.equal(whole[":output"], expected)
    torch.testing.assert_close(split[":output"], expected, rtol=0, atol=0)
    assert torch.equal(listed[":output"], unmasked)
    assert [s["embed"].shape[0] for s in stream(model, "embed", batch, batch_size=4)] == [4, 2]


def test_forward_callable_arranges_the_call() -> None:
    model = KeywordModel()
    ids = torch.randint(0, 10, (3, 5))
    calls = []

    def forward(m: nn.Module, batch: torch.Tensor) -> object:
        calls.append(batch.shape)
        return m(input_ids=batch, attention_mask=torch.ones_like(batch, dtype=torch.float))

    acts = collect(model, "block", [ids, ids[:1]], forward=forward)
    assert calls == [(3, 5), (1, 5)]
    assert acts["block"].shape == (4, 5, 4)


def test_input_passed_by_keyword_is_read_and_written() -> None:
    model = KeywordModel()
    ids = torch.randint(0, 10, (2, 3))
    acts = collect(model, ["block:input", "embed"], {"input_ids": ids})
    assert torch.equal(acts["block:input"], acts["embed"])
    with torch.no_grad(), hooks(model, {"block:input": lambda t, *, site: torch.zeros_like(t)}):
        out = model(input_ids=ids)["last_hidden_state"]
    with torch.no_grad():
        expected = 2 * model.block.proj(torch.zeros(2, 3, 4))
    assert torch.equal(out, expected)


def test_output_objects_are_edited_at_their_first_tensor() -> None:
    model = KeywordModel()
    ids = torch.randint(0, 10, (2, 3))
    with torch.no_grad():
        clean = model(input_ids=ids)
        with hooks(model, {":output": lambda t, *, site: t + 1, "pair": lambda t, *, site: -t}):
            edited = model(input_ids=ids)
    # the namedtuple's element 0 was negated, the mapping's first tensor got + 1
    assert torch.equal(edited["last_hidden_state"], -clean["last_hidden_state"] + 1)
    assert torch.equal(edited["pooled"], -clean["pooled"])  # computed before the root's hook
    assert edited["loss"] is None


def test_unsupported_output_names_the_site() -> None:
    class Strange(nn.Module):
        def forward(self, x: torch.Tensor) -> str:
            return "text"

    with pytest.raises(TypeError, match=r"site ':output'.*returned str"):
        collect(Strange(), ":output", torch.zeros(1))


def test_collect_names_batches_of_different_lengths() -> None:
    model = KeywordModel()
    batches = [{"input_ids": torch.randint(0, 10, (2, t))} for t in (5, 7)]
    with pytest.raises(ValueError, match=r"site 'embed'.*\(5, 4\), \(7, 4\).*write_activations"):
        collect(model, "embed", batches)


def test_a_transcoder_is_spliced_into_one_call() -> None:
    model = Tied()
    tc = Transcoder(TranscoderConfig(dictionary=TopKConfig(d_in=4, d_sae=8, k=2))).eval()
    x = torch.randn(5, 4)
    with torch.no_grad():
        outs = model.manual(x)
        # by hand: call 1's output is the transcoder's prediction from call 1's input
        h = torch.tanh(tc(torch.tanh(outs[0])).recon)
        expected = torch.tanh(model.shared(h))
        with intervene(model, splice_transcoder(tc, "shared#1")):
            spliced = model(x)
    torch.testing.assert_close(spliced, expected, rtol=0, atol=1e-6)
    assert all_hooks_gone(model)
