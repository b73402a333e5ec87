"""The language section's readers (`figures_src/_lab/language.py`): probes, unit matching,
the bytes control, labelled windows, and the corpus check."""

from __future__ import annotations

import math

import pytest
import torch

from figures_src._lab.language import (
    FEATURES,
    LABELS,
    _label_windows,
    balanced_accuracy,
    best_unit_mcc,
    context_codes,
    feature_targets,
    fit_lda,
    moments,
    onehot_moments,
)
from figures_src._lab.language_host import corpus_sha256, file_windows, split_held_out


def test_lda_separates_gaussian_classes_whatever_their_scale() -> None:
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (3000,), generator=g)
    centres = torch.tensor([[0.0, 0, 0], [3, 0, 0], [0, 3, 0]])
    x = centres[y] + torch.randn(3000, 3, generator=g)
    x = x * torch.tensor([1.0, 100.0, 0.01]) + 7  # standardisation makes scale irrelevant
    y[:5] = -1  # skipped rows
    probe = fit_lda(moments(x[None], y, 3))
    score = balanced_accuracy(probe.predict(x[None]), y, 3)
    assert score.shape == (1,) and score.item() > 0.85
    # A class absent from the fit rows is never predicted.
    probe = fit_lda(moments(x[None], torch.where(y == 2, 0, y), 3))
    assert not (probe.predict(x[None]) == 2).any()


def test_shared_moments_are_the_same_moments() -> None:
    g = torch.Generator().manual_seed(2)
    x = torch.randn(2, 200, 4, generator=g)
    a = torch.randint(0, 3, (200,), generator=g)
    b = torch.randint(0, 2, (200,), generator=g)
    alone = moments(x, b, 2)
    shared = moments(x, b, 2, moments(x, a, 3))
    for one, other in zip(alone, shared, strict=True):
        assert torch.equal(torch.as_tensor(one), torch.as_tensor(other))
    b[:10] = -1  # a label with skipped rows ignores the shared Gram matrix
    assert moments(x, b, 2, moments(x, a, 3)).n == 190
    torch.testing.assert_close(moments(x, b, 2, moments(x, a, 3)).gram, moments(x, b, 2).gram)


def test_onehot_moments_match_the_dense_ones() -> None:
    g = torch.Generator().manual_seed(1)
    codes = torch.stack(
        [torch.randint(0, 6, (500,), generator=g), 6 + torch.randint(0, 6, (500,), generator=g)], 1
    )
    y = (codes[:, 0] % 3).long()
    dense = torch.zeros(500, 12).scatter_(1, codes, 1.0)
    a, b = fit_lda(moments(dense[None], y, 3)), fit_lda(onehot_moments(codes, 12, y, 3))
    torch.testing.assert_close(a.W, b.W)
    assert torch.equal(a.predict(dense[None]), b.predict_onehot(codes))


def test_balanced_accuracy_weights_classes_equally() -> None:
    y = torch.tensor([0] * 90 + [1] * 10)
    always_zero = torch.zeros(1, 100, dtype=torch.long)
    assert balanced_accuracy(always_zero, y, 2).item() == pytest.approx(0.5)


def test_best_unit_mcc_finds_the_unit_and_threshold_on_fit_rows() -> None:
    # Unit 1 is above 0.65 exactly where the feature holds; unit 0 is noise. Row 6 is
    # undefined (NaN) and must not count, however high its activation.
    target = torch.tensor([1.0, 0, 1, 0, 1, 0, float("nan"), 0])
    good = torch.tensor([0.9, 0.1, 0.8, 0.2, 0.7, 0.3, 5.0, 0.4])
    noise = torch.tensor([0.5, 0.6, 0.1, 0.9, 0.2, 0.8, 0.0, 0.3])
    scores = torch.stack([noise, good], dim=-1)[None]  # (1, 8, 2)
    mcc, unit = best_unit_mcc(scores, target[:, None], scores, target[:, None])
    assert unit.item() == 1 and mcc.item() == pytest.approx(1.0)
    # On test rows the chosen cut (0.7, the lowest positive) misses row 2: TP 2, FN 1,
    # FP 0, TN 4 of the 7 defined rows.
    test_scores = scores.clone()
    test_scores[0, 2, 1] = 0.4
    mcc, _ = best_unit_mcc(scores, target[:, None], test_scores, target[:, None])
    expected = (2 * 4 - 0 * 1) / math.sqrt((2 + 0) * (2 + 1) * (4 + 0) * (4 + 1))
    assert mcc.item() == pytest.approx(expected)
    # A constant unit cannot score: its only cut predicts everything.
    constant = torch.ones(1, 8, 1)
    mcc, _ = best_unit_mcc(constant, target[:, None], constant, target[:, None])
    assert mcc.item() == 0.0


def test_context_codes_are_the_last_bytes() -> None:
    tokens = torch.arange(10)[None].long() + 40  # one window of 10 bytes: context 9
    codes = context_codes(tokens, 3, slice(5, 9))
    assert codes.shape == (1, 4, 3)
    assert codes[0, 0].tolist() == [45, 256 + 44, 512 + 43]
    with pytest.raises(ValueError):
        context_codes(tokens, 3, slice(1, 9))


def test_features_cover_their_labels() -> None:
    labels = {name: torch.tensor([[0, 1, -1]]) for name in LABELS}
    for feature in FEATURES:
        target = feature_targets(labels, feature)
        assert torch.isnan(target[0, 2])  # undefined stays undefined
        assert target[0, 1].item() == float(1 in feature.classes)


def test_labelled_windows_line_up_with_their_bytes() -> None:
    src = b'x = "ab"\nfoo(bar, foo)\n' * 4
    windows = _label_windows({"a.py": src}, context=16, n=100, seed=0)
    starts = [s for _, s in file_windows({"a.py": src}, 16)]
    assert windows.tokens.shape == (len(starts), 17)
    for row, start in enumerate(starts):
        assert bytes(windows.tokens[row].tolist()) == src[start : start + 17]
        for t in range(16):
            # Per 23-byte period: the opening quote, a and b are inside "ab" (offsets 4-6).
            expected = (start + t) % 23 in (4, 5, 6)
            assert windows.labels["string"][row, t].item() == expected
    # The second `foo` of a line is seen only when the first lies in the same window.
    seen = windows.labels["seen"]
    assert set(seen.unique().tolist()) <= {-1, 0, 1} and (seen == 1).any()


def test_corpus_hash_names_paths_and_bytes() -> None:
    a = corpus_sha256({"x.py": b"1", "y.py": b"2"})
    assert a == corpus_sha256({"y.py": b"2", "x.py": b"1"})  # order of reading is irrelevant
    assert a != corpus_sha256({"x.py": b"12", "y.py": b""})  # length-prefixed parts
    assert a != corpus_sha256({"z.py": b"1", "y.py": b"2"})
    fit, test = split_held_out({f"f{i}.py": b"" for i in range(40)})
    assert fit and test and not set(fit) & set(test)


def _brute_best_unit(fit, y, test, yt):
    """For one problem: the unit and threshold (a fit value) of best fit MCC, scored on test."""

    def mcc(pred, target):
        keep = ~target.isnan()
        p, t = pred[keep].double(), target[keep].double()
        tp, fp = (p * t).sum(), (p * (1 - t)).sum()
        fn, tn = ((1 - p) * t).sum(), ((1 - p) * (1 - t)).sum()
        den = ((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn)).sqrt()
        return 0.0 if den == 0 else float((tp * tn - fp * fn) / den)

    best = (-2.0, None, None)
    for u in range(fit.shape[1]):
        for threshold in fit[:, u].unique():
            score = mcc(fit[:, u] >= threshold, y)
            if score > best[0] + 1e-9:
                best = (score, u, threshold)
    _, unit, threshold = best
    return unit, mcc(test[:, unit] >= threshold, yt)


def test_best_unit_mcc_matches_a_brute_force_search_with_undefined_rows() -> None:
    g = torch.Generator().manual_seed(3)
    fit = torch.randn(2, 60, 5, generator=g)
    test = torch.randn(2, 80, 5, generator=g)
    y = (torch.rand(60, 2, generator=g) < 0.4).float()
    yt = (torch.rand(80, 2, generator=g) < 0.4).float()
    fit[:, :, 2] += 1.5 * y[:, 0]  # unit 2 reads feature 0
    test[:, :, 2] += 1.5 * yt[:, 0]
    y[::4, 1] = torch.nan  # feature 1 undefined on some rows
    yt[::3, 1] = torch.nan
    mcc, unit = best_unit_mcc(fit, y, test, yt)
    for p in range(2):
        for f in range(2):
            want_unit, want_mcc = _brute_best_unit(fit[p], y[:, f], test[p], yt[:, f])
            assert unit[p, f].item() == want_unit
            assert mcc[p, f].item() == pytest.approx(want_mcc, abs=1e-6)


def test_feature_browser_payload_shows_each_example_byte_in_context() -> None:
    from figures_src._lab.language import Windows
    from figures_src.language_dictionary import PARAMS, _browser, _byte_text, _rounded

    assert [_byte_text(b) for b in b"a \n\t\x00"] == ["a", "\u00a0", "\u21b5", "\u21e5", "\\x00"]
    assert _rounded({"a": [0.123456, (2, 1 / 3)], "b": "x"}) == {
        "a": [0.1235, [2, 0.3333]],
        "b": "x",
    }
    g = torch.Generator().manual_seed(0)
    start, T = PARAMS.read.min_position, PARAMS.read.min_position + 8
    tokens = torch.randint(32, 127, (3, T + 1), generator=g)
    labels = {name: torch.randint(0, len(c), (3, T), generator=g) for name, c in LABELS.items()}
    latents = torch.rand(3, T, 4, generator=g) * (torch.rand(3, T, 4, generator=g) > 0.5)
    latents[:, :start] = 100.0  # positions the readers skip are never examples
    payload = _browser(PARAMS, latents, Windows(tokens, labels), k=2)
    assert len(payload["latents"]) == 4
    before, _ = PARAMS.browser_context
    for latent in payload["latents"]:
        assert len(latent["examples"]) <= PARAMS.browser_examples
        assert latent["match"] is None or latent["match"]["label"] in {f.name for f in FEATURES}
        assert latent["max_act"] < 100
        for example in latent["examples"]:
            c, at, focus = example["context"], example["position"], example["focus"]
            assert at >= start and focus == before  # the bytes before the read positions too
            assert example["tokens"][focus] == _byte_text(tokens[c, at].item())
            assert example["acts"][focus] == pytest.approx(
                latents[c, at, latent["index"]].item(), rel=1e-3
            )
