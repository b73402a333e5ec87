"""The feature browser (`symbiote_core.browser`) on a Hugging Face model built from a
config: what each latent page says is checked against the activations it was made from,
and the pages work offline in a real browser, opened from disk."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from symbiote_core.browser import (
    decoder_rows,
    steering_effects,
    summarise,
    with_effect,
    write_browser,
)
from symbiote_core.runtime import make_deterministic
from symbiote_core.sites import collect
from symbiote_core.symbiotes import TopKConfig, TopKSAE

VOCAB, CONTEXTS, POSITIONS, SITE = 40, 6, 16, "transformer.h.0"


@pytest.fixture(scope="module")
def setting() -> dict:
    # imported here, not while collecting: transformers costs every xdist worker 2.5 s
    from transformers import GPT2Config, GPT2LMHeadModel

    make_deterministic(0)
    cfg = GPT2Config(n_layer=2, n_head=2, n_embd=32, n_positions=32, vocab_size=VOCAB)
    model = GPT2LMHeadModel(cfg).eval()
    ids = torch.randint(0, VOCAB, (CONTEXTS, POSITIONS), generator=torch.Generator().manual_seed(1))
    batch = {"input_ids": ids}
    with torch.no_grad():
        resid = collect(model, [SITE], batch)[SITE]
        sae = TopKSAE(TopKConfig(d_in=32, d_sae=24, k=3, seed=0))
        acts = sae.encode(resid)
    tokens = [[f"t{int(t)}" for t in row] for row in ids]
    even = ids % 2 == 0  # a label the test can grade against
    return {"model": model, "batch": batch, "sae": sae, "acts": acts, "tokens": tokens,
            "labels": {"even token": even, "first half": torch.arange(POSITIONS).expand(CONTEXTS, -1) < 8}}


def test_each_latent_summary_matches_its_activations(setting: dict) -> None:
    acts = setting["acts"]
    latents = summarise(acts, setting["tokens"], labels=setting["labels"], top=5, before=3, after=2)
    assert [latent.index for latent in latents] == list(range(acts.shape[-1]))
    flat = acts.reshape(-1, acts.shape[-1])
    for latent in latents:
        column = flat[:, latent.index]
        assert latent.density == pytest.approx(float((column > 0).float().mean()))
        assert latent.max_act == pytest.approx(float(column.max()))
        if not latent.examples:
            assert latent.density == 0
            continue
        first = latent.examples[0]
        # The strongest example is the latent's maximum, at the focus of its window.
        assert first.acts[first.focus] == pytest.approx(latent.max_act, abs=1e-4)
        assert first.tokens[first.focus] == setting["tokens"][first.context][first.position]
        strengths = [float(acts[e.context, e.position, latent.index]) for e in latent.examples]
        assert strengths == sorted(strengths, reverse=True)
        # Best label by F1, recomputed by hand.
        fired = column > 0
        best = max(
            sorted(setting["labels"]),
            key=lambda name: _f1(fired, setting["labels"][name].reshape(-1)),
        )
        assert latent.match is not None
        assert latent.match.f1 == pytest.approx(_f1(fired, setting["labels"][best].reshape(-1)))


def _f1(fired: torch.Tensor, truth: torch.Tensor) -> float:
    both = float((fired & truth).sum())
    if both == 0:
        return 0.0
    precision, recall = both / float(fired.sum()), both / float(truth.sum())
    return 2 * precision * recall / (precision + recall)


def test_a_planted_latent_is_matched_to_its_label() -> None:
    truth = torch.zeros(2, 10, dtype=torch.bool)
    truth[0, 3] = truth[1, 7] = True
    acts = torch.zeros(2, 10, 2)
    acts[..., 0] = truth.float() * 2.0  # fires exactly on the label
    acts[0, :, 1] = 1.0  # fires everywhere in context 0
    tokens = [[str(i) for i in range(10)]] * 2
    latents = summarise(acts, tokens, labels={"planted": truth})
    assert latents[0].match.f1 == 1.0 and latents[0].match.label == "planted"
    assert latents[1].match.precision == pytest.approx(0.1) and latents[1].match.recall == 0.5


def test_steering_effects_move_the_output_and_a_zero_push_does_not(setting: dict) -> None:
    rows = decoder_rows(setting["sae"])
    kwargs = dict(readout=lambda out: out.logits, token_names=lambda t: f"t{t}")
    pushed = steering_effects(setting["model"], SITE, rows, setting["batch"], [0, 1], scale=8.0, **kwargs)
    still = steering_effects(setting["model"], SITE, rows, setting["batch"], [0], scale=0.0, **kwargs)
    assert pushed[0]["kl"] > 1e-4 and pushed[1]["kl"] > 1e-4
    assert still[0]["kl"] == pytest.approx(0.0, abs=1e-7)
    assert len(pushed[0]["promoted"]) == 5 and pushed[0]["promoted"][0][1] > 0


def test_written_pages_are_deterministic_and_escape_model_text(tmp_path: Path, setting: dict) -> None:
    tokens = [row[:] for row in setting["tokens"]]
    tokens[0][0] = "</script><img src=x onerror=alert(1)>"
    latents = summarise(setting["acts"], tokens, labels=setting["labels"], top=4)
    effects = steering_effects(
        setting["model"], SITE, decoder_rows(setting["sae"]), setting["batch"], [0],
        scale=4.0, readout=lambda out: out.logits,
    )
    latents = [with_effect(latent, effects.get(latent.index)) for latent in latents]
    first = write_browser(latents, tmp_path / "a", title="GPT-2 (random) layer 0")
    write_browser(latents, tmp_path / "b", title="GPT-2 (random) layer 0")
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == 2 + 1 + len(latents)
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    page = first.read_text()
    rows = json.loads(re.search(r'<script type="application/json" id="rows">(.*?)</script>', page, re.S).group(1))
    assert [row["i"] for row in rows] == list(range(len(latents)))
    assert rows[0]["kl"] is not None and rows[1]["kl"] is None
    assert "<img" not in page
    for latent in latents:
        text = (tmp_path / "a" / "latents" / f"{latent.index:04d}.js").read_text()
        assert "</script" not in text
        payload = json.loads(re.fullmatch(r"SymbioteBrowser\.receive\(\d+, (.*)\);\n", text, re.S).group(1))
        assert len(payload["examples"]) == len(latent.examples)


@pytest.mark.browser
def test_the_browser_works_offline_from_disk(browser, tmp_path: Path, setting: dict) -> None:
    latents = summarise(setting["acts"], setting["tokens"], labels=setting["labels"], top=4)
    index = write_browser(latents, tmp_path / "site", title="offline")
    busiest = max(latents, key=lambda latent: latent.density)
    requests: list[str] = []
    context = browser.new_context()  # the session's chromium (tests/conftest.py)
    try:
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(index.as_uri())
        assert page.locator("#latents tbody tr").count() == len(latents)
        page.get_by_role("button", name="density").click()  # sort: densest first
        assert page.locator("#latents tbody tr th a").first.inner_text() == f"#{busiest.index}"
        page.locator("#latents tbody tr th a").first.click()
        page.wait_for_selector("#detail h2")
        assert page.locator("#detail h2").inner_text() == f"Latent #{busiest.index}"
        assert page.locator("#detail .examples li").count() == len(busiest.examples)
        page.fill("#filter", "no such label")
        assert page.locator("#latents tbody tr").count() == 0
    finally:
        context.close()
    assert not errors
    assert all(url.startswith("file://") for url in requests)


def test_publishing_a_browser_imports_no_torch() -> None:
    # The site publishes a figure's browser (`write`) in the MkDocs process, which must
    # not pay torch's import (2-3 s a build) for it.
    import subprocess
    import sys

    code = (
        "import sys; from symbiote_core.browser import Latent, from_payload, browser_files; "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
