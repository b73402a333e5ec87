"""symbiote_core on real Hugging Face `transformers` models, built from a config (random
weights, nothing downloaded): keyword batches, output objects, patching, and ALBERT's
shared layer read and written call by call, each checked against the model's own
`output_hidden_states`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import torch

from symbiote_core.interventions import Intervention, add, intervene, replace
from symbiote_core.runtime import make_deterministic
from symbiote_core.sites import collect

VOCAB = 50
ALBERT_LAYER = "encoder.albert_layer_groups.0.albert_layers.0"

# The fixtures import transformers: at module level it cost every xdist worker 2.5 s of
# collection, whichever worker runs these tests.
if TYPE_CHECKING:
    from transformers import AlbertModel, GPT2LMHeadModel


@pytest.fixture(scope="module")
def gpt2() -> GPT2LMHeadModel:
    from transformers import GPT2Config, GPT2LMHeadModel

    make_deterministic(0)
    cfg = GPT2Config(
        n_layer=2, n_head=2, n_embd=32, n_positions=32, vocab_size=VOCAB,
        bos_token_id=0, eos_token_id=0,
    )  # fmt: skip
    return GPT2LMHeadModel(cfg).eval()


@pytest.fixture(scope="module")
def albert() -> AlbertModel:
    from transformers import AlbertConfig, AlbertModel

    make_deterministic(0)
    cfg = AlbertConfig(
        vocab_size=VOCAB, embedding_size=16, hidden_size=32, num_hidden_layers=3,
        num_attention_heads=2, intermediate_size=64, max_position_embeddings=32,
    )  # fmt: skip
    return AlbertModel(cfg).eval()


def tokens(seed: int, n: int = 4, t: int = 8) -> dict[str, torch.Tensor]:
    ids = torch.randint(0, VOCAB, (n, t), generator=torch.Generator().manual_seed(seed))
    mask = torch.ones(n, t, dtype=torch.long)
    mask[0, -3:] = 0  # one padded row
    return {"input_ids": ids, "attention_mask": mask}


def hook_ids(model: torch.nn.Module) -> list[tuple[int, ...]]:
    """Every module's forward hook ids: transformers registers some of its own."""
    return [(*m._forward_hooks, *m._forward_pre_hooks) for m in model.modules()]


def test_gpt2_sites_match_its_own_hidden_states(gpt2: GPT2LMHeadModel) -> None:
    batch = tokens(1)
    with torch.no_grad():
        out = gpt2(**batch, output_hidden_states=True)
    before = hook_ids(gpt2)  # after a first call: transformers adds hooks of its own then
    sites = ["transformer.h.0", "transformer.ln_f", ":output"]
    whole = collect(gpt2, sites, batch)
    split = collect(gpt2, sites, batch, batch_size=3)  # a dict of tensors is split by rows
    assert torch.equal(whole["transformer.h.0"], out.hidden_states[1])
    assert torch.equal(whole["transformer.ln_f"], out.hidden_states[2])
    assert torch.equal(whole[":output"], out.logits)  # a ModelOutput: its first tensor
    for site in sites:
        torch.testing.assert_close(split[site], whole[site], rtol=1e-5, atol=1e-6)
    assert hook_ids(gpt2) == before


def test_gpt2_forward_callable(gpt2: GPT2LMHeadModel) -> None:
    batch = tokens(2)
    ids = batch["input_ids"][1:]  # the unpadded rows

    def forward(model: torch.nn.Module, chunk: torch.Tensor) -> object:
        return model(input_ids=chunk, use_cache=False)

    via_forward = collect(gpt2, "transformer.h.1.mlp", [ids[:2], ids[2:]], forward=forward)
    via_dict = collect(gpt2, "transformer.h.1.mlp", {"input_ids": ids})
    torch.testing.assert_close(
        via_forward["transformer.h.1.mlp"], via_dict["transformer.h.1.mlp"], rtol=1e-5, atol=1e-6
    )


def test_gpt2_patching_a_block_input_gives_the_other_run(gpt2: GPT2LMHeadModel) -> None:
    gpt2(**tokens(0), output_hidden_states=True)  # transformers' own hooks, added on first use
    before = hook_ids(gpt2)
    a, b = tokens(3), tokens(4)
    b["attention_mask"] = a["attention_mask"]  # same mask: block 1's input decides the rest
    b_in = collect(gpt2, "transformer.h.1:input", b)["transformer.h.1:input"]
    with torch.no_grad():
        b_logits = gpt2(**b).logits
        clean = gpt2(**a).logits
        with intervene(gpt2, [Intervention("transformer.h.1:input", replace(b_in))]):
            patched = gpt2(**a).logits
    assert not torch.allclose(clean, b_logits)
    torch.testing.assert_close(patched, b_logits, rtol=0, atol=1e-5)
    assert hook_ids(gpt2) == before


def test_albert_shared_layer_is_read_call_by_call(albert: AlbertModel) -> None:
    batch = tokens(5)
    with torch.no_grad():
        hidden = albert(**batch, output_hidden_states=True).hidden_states  # (embeddings, 3 layers)
    before = hook_ids(albert)
    sites = [f"{ALBERT_LAYER}:output#{i}" for i in range(3)]
    acts = collect(albert, sites, batch)
    for i, site in enumerate(sites):
        assert torch.equal(acts[site], hidden[i + 1])
    with pytest.raises(RuntimeError, match=r"ambiguous.*called 3 times"):
        collect(albert, ALBERT_LAYER, batch)
    with pytest.raises(RuntimeError, match=rf"'{ALBERT_LAYER}:output#3'.*called 3 times"):
        collect(albert, f"{ALBERT_LAYER}:output#3", batch)
    assert hook_ids(albert) == before


def test_albert_shared_layer_is_written_at_one_call(albert: AlbertModel) -> None:
    batch = tokens(6)
    shift = torch.linspace(-1, 1, 32)
    sites = [f"{ALBERT_LAYER}:output#{i}" for i in range(3)]
    clean = collect(albert, sites, batch)
    before = hook_ids(albert)
    with intervene(albert, [Intervention(sites[1], add(shift))]):
        # collect's hooks come after the intervention's, so they read the edited calls
        edited = collect(albert, [*sites, ":output"], batch)
    assert torch.equal(edited[sites[0]], clean[sites[0]])  # call 0 untouched
    assert torch.equal(edited[sites[1]], clean[sites[1]] + shift)  # call 1 shifted
    assert not torch.allclose(edited[sites[2]], clean[sites[2]])  # call 2 sees the edit
    assert torch.equal(edited[":output"], edited[sites[2]])  # last_hidden_state
    assert hook_ids(albert) == before
