"""Byte n-gram baselines (`symbiote_core.ngram.KneserNey`)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from symbiote_core.ngram import KneserNey

TEXT = np.frombuffer(b"the cat sat on the mat; the hat sat on the cat. " * 3, dtype=np.uint8)


def distribution(model: KneserNey, context: bytes) -> np.ndarray:
    """P(next byte | context) for all 256 bytes, read off `log_probs`."""
    rows = [np.frombuffer(context + bytes([b]), dtype=np.uint8) for b in range(256)]
    return np.exp([model.log_probs(row)[-1] for row in rows])


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("context", [b"th", b"t ", b"zq", b"e"])
def test_every_context_gets_a_distribution(order: int, context: bytes) -> None:
    probs = distribution(KneserNey(TEXT, order), context)
    assert probs.min() > 0  # smoothing leaves no byte impossible
    assert math.isclose(probs.sum(), 1.0, rel_tol=1e-9)


def test_unigram_by_hand() -> None:
    data = np.frombuffer(b"aab", dtype=np.uint8)
    model = KneserNey(data, 1, discount=0.5)
    # counts a: 2, b: 1 of 3; two types free 2 * 0.5 of mass, spread uniformly.
    uniform = 1 / 256
    expect_a = (2 - 0.5 + 0.5 * 2 * uniform) / 3
    expect_c = (0.5 * 2 * uniform) / 3
    probs = distribution(model, b"")
    assert math.isclose(probs[ord("a")], expect_a) and math.isclose(probs[ord("c")], expect_c)


def test_bigram_backs_off_to_continuation_counts() -> None:
    # "xa", "ya", "za", "xb", "xb": a follows 3 distinct bytes, b one.
    data = np.frombuffer(b"xayazaxbxb", dtype=np.uint8)
    model = KneserNey(data, 2, discount=0.5)
    probs = distribution(model, b"q")  # unseen context: the lower order alone
    lower = KneserNey(data, 2, discount=0.5).orders[0]
    assert lower.counts[list(lower.codes).index(ord("a"))] == 3  # a continues 3 contexts
    assert probs[ord("a")] > probs[ord("b")]  # b is frequent but continues one context
    # After "x" (seen: a once, b twice) the counts lead.
    after_x = distribution(model, b"x")
    assert after_x[ord("b")] > after_x[ord("a")] > after_x[ord("q")]


def test_longer_context_fits_repetitive_text_better() -> None:
    bits = [KneserNey(TEXT, n).bits_per_byte(TEXT) for n in (1, 2, 3)]
    assert bits[0] > bits[1] > bits[2]
    mask = np.zeros(len(TEXT), dtype=bool)
    mask[10:20] = True
    assert KneserNey(TEXT, 3).bits_per_byte(TEXT, mask) != bits[2]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="order"):
        KneserNey(TEXT, 0)
    with pytest.raises(ValueError, match="discount"):
        KneserNey(TEXT, 2, discount=1.0)
