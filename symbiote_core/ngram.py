"""Byte n-gram models with interpolated Kneser-Ney smoothing: the baselines a byte-level
language host must beat.

An order-n model predicts a byte from the n - 1 bytes before it. Interpolated
Kneser-Ney (Chen & Goodman 1998) discounts every seen count by a fixed `discount` and
gives the mass it frees to the next lower order, whose counts are *continuation*
counts (in how many distinct contexts a shorter n-gram was seen), down to the uniform
distribution over the 256 bytes; so no byte ever has probability zero. The discount
is the textbook 0.75, not fitted to the data scored.

Everything is counted with numpy over integer-coded n-grams (byte values in base 256),
so a model of a few megabytes of text is built and scored in about a second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

VOCAB = 256


@dataclass(frozen=True)
class _Order:
    """The counts of one order k: every seen k-gram, sorted by code, with its count."""

    codes: np.ndarray
    """Sorted codes of the seen k-grams (context * 256 + byte)."""
    counts: np.ndarray
    """Raw counts (highest order) or continuation counts (lower orders)."""
    context_codes: np.ndarray
    """Sorted codes of the seen (k - 1)-byte contexts."""
    context_totals: np.ndarray
    """Per context: the sum of `counts` over the bytes that followed it."""
    context_types: np.ndarray
    """Per context: how many distinct bytes followed it."""


class KneserNey:
    """An interpolated Kneser-Ney byte model of order `order`, counted on `train`."""

    def __init__(self, train: np.ndarray, order: int, discount: float = 0.75) -> None:
        if order < 1:
            raise ValueError(f"KneserNey.order must be >= 1, got {order}")
        if not 0 < discount < 1:
            raise ValueError(f"KneserNey.discount must be in (0, 1), got {discount}")
        data = np.asarray(train, dtype=np.int64)
        if data.ndim != 1 or len(data) < order:
            raise ValueError(f"KneserNey needs a 1-D byte array of at least {order} bytes")
        self.order, self.discount = order, discount
        self.orders: list[_Order] = []
        for k in range(1, order + 1):
            if k == order:
                codes, counts = np.unique(_grams(data, k), return_counts=True)
            else:
                # Continuation count of a k-gram: distinct bytes seen just before it.
                longer = np.unique(_grams(data, k + 1))
                codes, counts = np.unique(longer % VOCAB**k, return_counts=True)
            contexts = codes // VOCAB
            context_codes, first = np.unique(contexts, return_index=True)
            totals = np.add.reduceat(counts, first)
            types = np.diff(np.append(first, len(codes)))
            self.orders.append(_Order(codes, counts, context_codes, totals, types))

    def log_probs(self, data: np.ndarray) -> np.ndarray:
        """Natural-log probability of every byte of `data` given the bytes before it in
        `data` (the first bytes use the shorter contexts they have)."""
        data = np.asarray(data, dtype=np.int64)
        n = len(data)
        prob = np.full(n, 1.0 / VOCAB)
        for k, table in enumerate(self.orders, start=1):
            # Order k needs k - 1 bytes of context: positions k - 1 onwards.
            grams = _grams(data, k) if n >= k else np.zeros(0, dtype=np.int64)
            count = _lookup(table.codes, table.counts, grams)
            where = _position(table.context_codes, grams // VOCAB)
            seen = where >= 0
            total = np.where(seen, table.context_totals[where.clip(0)], 0).astype(np.float64)
            types = np.where(seen, table.context_types[where.clip(0)], 0)
            lower = prob[k - 1 :]
            mixed = (np.maximum(count - self.discount, 0) + self.discount * types * lower) / (
                np.maximum(total, 1)
            )
            prob[k - 1 :] = np.where(seen, mixed, lower)
        return np.log(prob)

    def bits_per_byte(self, data: np.ndarray, mask: np.ndarray | None = None) -> float:
        """Mean -log2 probability of the bytes of `data` (where `mask` is True)."""
        logp = self.log_probs(data)
        if mask is not None:
            logp = logp[np.asarray(mask, dtype=bool)]
        return float(-logp.mean() / math.log(2))


def _grams(data: np.ndarray, k: int) -> np.ndarray:
    """Codes of every k-gram of `data`: sum of byte * 256^(k - 1 - j), `(len - k + 1,)`."""
    n = len(data) - k + 1
    codes = np.zeros(n, dtype=np.int64)
    for j in range(k):
        codes = codes * VOCAB + data[j : j + n]
    return codes


def _position(sorted_codes: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Index of each query in `sorted_codes`, -1 where absent."""
    at = np.searchsorted(sorted_codes, queries).clip(0, max(len(sorted_codes) - 1, 0))
    found = len(sorted_codes) > 0
    hit = (sorted_codes[at] == queries) if found else np.zeros(len(queries), dtype=bool)
    return np.where(hit, at, -1)


def _lookup(sorted_codes: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    where = _position(sorted_codes, queries)
    return np.where(where >= 0, values[where.clip(0)], 0)
