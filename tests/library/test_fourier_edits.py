"""The linear algebra of reading and writing the answer in its Fourier planes
(`symbiote_core.fourier_edits`), on hand-set hosts whose answer to check is known."""

from __future__ import annotations

import torch

from symbiote_core.fourier_edits import (
    answer_features,
    exclude,
    fit_answer_map,
    loss_and_accuracy,
    mean_ablate,
    orthonormal_basis,
    restrict,
    rotate_answer,
    rotate_planes,
    shift_rotation,
    shifted_log_probs,
)

P = 13
KEY = [2, 5]
OTHER = [3]


def _pure_fourier_host() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Hidden = T(s) exactly (s = a + b over every pair), unembedding W_U = T(c)^T, so
    logit(c) = sum_k cos(w_k (s - c)): the argmax is s and nothing else."""
    a = torch.arange(P).repeat_interleave(P)
    b = torch.arange(P).repeat(P)
    s = (a + b) % P
    hidden = answer_features(s, P, KEY)  # (p*p, 2K)
    W_U = answer_features(torch.arange(P), P, KEY).T  # (2K, p)
    return s, hidden, W_U


def test_shift_rotation_moves_the_features_by_delta() -> None:
    s = torch.arange(P)
    for delta in range(P):
        rotated = answer_features(s, P, KEY) @ shift_rotation(P, KEY, delta)
        torch.testing.assert_close(rotated, answer_features(s + delta, P, KEY))


def test_rotating_by_delta_moves_the_argmax_by_exactly_delta() -> None:
    s, hidden, W_U = _pure_fourier_host()
    assert torch.equal((hidden @ W_U).argmax(-1), s)
    amap = fit_answer_map(hidden, hidden)  # the write map of a pure host is the identity
    torch.testing.assert_close(amap.write, torch.eye(2 * len(KEY), dtype=torch.float64))
    for delta in range(P):
        rotation = shift_rotation(P, KEY, delta)
        edited = hidden + rotate_answer(hidden, amap.write, rotation)
        assert torch.equal((edited @ W_U).argmax(-1), (s + delta) % P), delta
        # In orthonormal planes through the origin, the plane rotation is the same edit.
        planes = torch.eye(2 * len(KEY), dtype=torch.float64)
        zero = torch.zeros(2 * len(KEY), dtype=torch.float64)
        torch.testing.assert_close(hidden + rotate_planes(hidden, planes, rotation, zero), edited)


def test_a_wrong_angle_does_not_move_the_argmax_by_delta() -> None:
    """The test above can fail: rotating by the angle of delta + 1 lands on s + delta + 1."""
    s, hidden, W_U = _pure_fourier_host()
    edited = hidden + rotate_answer(
        hidden, torch.eye(4, dtype=torch.float64), shift_rotation(P, KEY, 4)
    )
    assert not torch.equal((edited @ W_U).argmax(-1), (s + 3) % P)


def test_figure_batched_edits_match_the_library() -> None:
    from figures_src.modadd_causal import _key_change, _plane_change

    gen = torch.Generator().manual_seed(0)
    n, d, m = 7, 9, 2 * len(KEY)
    h = torch.randn(n, d, generator=gen, dtype=torch.float64)
    read = torch.randn(n, m, generator=gen, dtype=torch.float64)
    write = torch.randn(m, d, generator=gen, dtype=torch.float64)
    mean = torch.randn(d, generator=gen, dtype=torch.float64)
    planes = orthonormal_basis(torch.randn(m, d, generator=gen, dtype=torch.float64))
    turn = torch.stack([shift_rotation(P, KEY, t) for t in range(P)]) - torch.eye(m)
    moved, size = _key_change(read, write, turn)
    steps = _plane_change(h, mean, planes, turn, size) @ planes.T
    for delta in (1, 6):
        rotation = shift_rotation(P, KEY, delta)
        expected = rotate_answer(read, write, rotation)
        torch.testing.assert_close(moved[delta] @ write, expected)
        torch.testing.assert_close(size[delta], expected.norm(dim=1))
        push = rotate_planes(h, planes, rotation, mean)
        torch.testing.assert_close(steps[delta], push * (size[delta] / push.norm(dim=1))[:, None])


def test_restricted_and_excluded_split_hand_set_logits() -> None:
    """Hidden = mean + T_key(s) U + T_other(s) V: fitted over every pair (where the
    frequencies are orthogonal), restriction keeps exactly the key part and exclusion
    exactly the rest; fitted on a subset, the map is exact when nothing else is there."""
    s, _, _ = _pure_fourier_host()
    gen = torch.Generator().manual_seed(1)
    d = 6
    mean = torch.randn(d, generator=gen, dtype=torch.float64)
    U = torch.randn(2 * len(KEY), d, generator=gen, dtype=torch.float64)
    V = torch.randn(2 * len(OTHER), d, generator=gen, dtype=torch.float64)
    key, other = answer_features(s, P, KEY), answer_features(s, P, OTHER)
    hidden = mean + key @ U + other @ V
    train = torch.randperm(len(s), generator=gen)[: len(s) // 2]
    subset = fit_answer_map((mean + key @ U)[train], key[train])
    torch.testing.assert_close(subset.write, U)
    torch.testing.assert_close(subset.mean, mean)
    amap = fit_answer_map(hidden, key)
    torch.testing.assert_close(amap.write, U)
    torch.testing.assert_close(restrict(key, amap), mean + key @ U)
    torch.testing.assert_close(exclude(hidden, key, amap), mean + other @ V)
    # Logits that read only the key frequencies: restricted is perfect, excluded is blind.
    W_U = torch.linalg.pinv(U) @ answer_features(torch.arange(P), P, KEY).T  # (d, p)
    restricted_loss, restricted_acc = loss_and_accuracy(restrict(key, amap) @ W_U * 10, s)
    assert restricted_acc == 1.0
    excluded = exclude(hidden, key, amap) @ W_U
    _, excluded_acc = loss_and_accuracy(excluded, s)
    assert excluded_acc < 0.5
    assert restricted_loss < loss_and_accuracy(excluded, s)[0]


def test_mean_ablation_and_shifted_distribution() -> None:
    gen = torch.Generator().manual_seed(2)
    h = torch.randn(20, 8, generator=gen, dtype=torch.float64)
    q = orthonormal_basis(torch.randn(3, 8, generator=gen, dtype=torch.float64))
    mean = h.mean(0)
    ablated = mean_ablate(h, q, mean)
    torch.testing.assert_close(ablated @ q, (mean @ q).expand(20, -1))
    outside = torch.eye(8, dtype=torch.float64) - q @ q.T
    torch.testing.assert_close(ablated @ outside, h @ outside)
    log_p = torch.log_softmax(torch.randn(4, P, generator=gen), -1)
    moved = shifted_log_probs(log_p, 3)
    torch.testing.assert_close(moved[:, 3:], log_p[:, :-3])
