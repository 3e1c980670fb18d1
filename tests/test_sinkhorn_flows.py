"""Tests for core/sinkhorn/flows.py: entropic OT, the Sinkhorn divergence, MMD, and the three gradient flows."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import ot
import pandas as pd
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import energy_distance
from sklearn.metrics.pairwise import rbf_kernel

from core.data import point_cloud
from core.sinkhorn.flows import (
    LOSSES,
    LossFlowConfig,
    entropic_ot,
    loss_flows,
    mmd,
    sinkhorn_divergence,
)

TIGHT = {"tol": 1e-9, "max_iter": 20_000}
TINY = LossFlowConfig(n=30, steps=6, eps=0.3)


def _clouds(n: int = 9, m: int = 12, seed: int = 0, shift: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Jittered grids, points >= 0.35 apart: near-duplicate points (closer than sqrt(eps)) make the self-transport
    problem OT_eps(x, x) converge very slowly in alternating Sinkhorn, which is not what these tests are about."""
    rng = np.random.default_rng(seed)

    def grid(k: int, spacing: float) -> np.ndarray:
        i = np.arange(k)
        pts = np.c_[i % 3, i // 3] * spacing  # (k, 2)
        return pts + rng.uniform(-0.05, 0.05, size=(k, 2))

    return grid(n, 0.5), grid(m, 0.45) + np.array([shift, 0.1])  # (n, 2), (m, 2)


def _ot_eps_reference(x, y, a, b, eps: float) -> float:
    """An independent log-domain Sinkhorn (numpy + scipy): the dual value <f, a> + <g, b> at convergence."""
    C = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)  # (n, m)
    f, g = np.zeros(len(a)), np.zeros(len(b))
    for _ in range(100_000):
        g_new = -eps * logsumexp((f[:, None] - C) / eps + np.log(a)[:, None], axis=0)
        f_new = -eps * logsumexp((g_new[None, :] - C) / eps + np.log(b)[None, :], axis=1)
        done = max(np.abs(f_new - f).max(), np.abs(g_new - g).max()) < 1e-13
        f, g = f_new, g_new
        if done:
            break
    return float(f @ a + g @ b)


def test_entropic_ot_matches_an_independent_solver_and_pot_solve():
    x, y = _clouds()
    a = np.full(9, 1 / 9)
    b = np.random.default_rng(3).uniform(0.5, 1.5, 12)
    b /= b.sum()
    for eps in (1.0, 0.1, 0.02):
        ours = float(entropic_ot(x, y, eps=eps, a=a, b=b, **TIGHT))
        assert ours == pytest.approx(_ot_eps_reference(x, y, a, b, eps), rel=1e-8)
        pot = ot.solve(
            torch.tensor(ot.dist(x, y)), torch.tensor(a), torch.tensor(b), reg=eps, tol=1e-11, max_iter=10**5
        )
        assert ours == pytest.approx(float(pot.value), rel=1e-8)
        assert ours >= ot.emd2(a, b, ot.dist(x, y))  # <P, C> >= OT and KL >= 0


def test_divergence_of_a_cloud_with_itself_is_zero_and_positive_otherwise():
    x, _ = _clouds()
    a = np.random.default_rng(1).uniform(0.2, 1.0, 9)
    a /= a.sum()
    for eps in (0.1, 1.0, 10.0):
        assert abs(float(sinkhorn_divergence(x, x, eps=eps, a=a, b=a, **TIGHT))) < 1e-12
        for seed, shift in ((0, 0.5), (1, 0.0), (2, 2.0)):
            x2, y2 = _clouds(seed=seed, shift=shift)
            assert float(sinkhorn_divergence(x2, y2, eps=eps, **TIGHT)) > 0
    biased = float(entropic_ot(x, x, eps=0.1, a=a, b=a, **TIGHT))
    assert biased > 0.01  # the bias the divergence removes: OT_eps(alpha, alpha) > 0


def test_divergence_tends_to_w2_squared_and_to_the_means_at_the_two_ends():
    x, y = _clouds(n=6, m=7, shift=0.3)
    w2 = ot.emd2(np.full(6, 1 / 6), np.full(7, 1 / 7), ot.dist(x, y))  # exact W2^2 by the network simplex
    for eps in (0.1, 0.01, 0.002):  # for discrete clouds both errors shrink like eps; debiasing cuts the constant
        debiased = abs(float(sinkhorn_divergence(x, y, eps=eps, **TIGHT)) - w2)
        biased = abs(float(entropic_ot(x, y, eps=eps, **TIGHT)) - w2)
        assert debiased < 0.5 * biased and debiased < 0.5 * eps
    assert debiased < 0.01 * w2  # measured: 0.8% of W2^2 at eps = 0.002
    means = float(((x.mean(0) - y.mean(0)) ** 2).sum())  # eps -> infinity: |mean x - mean y|^2 (squared cost)
    assert float(sinkhorn_divergence(x, y, eps=1e4, **TIGHT)) == pytest.approx(means, rel=1e-3)


def test_mmd_matches_sklearn_and_scipy():
    x, y = _clouds()
    a = np.random.default_rng(4).uniform(0.2, 1.0, 9)
    a /= a.sum()
    b = np.full(12, 1 / 12)
    for sigma in (0.2, 1.0):
        gamma = 1 / (2 * sigma**2)
        kxx, kyy, kxy = rbf_kernel(x, x, gamma=gamma), rbf_kernel(y, y, gamma=gamma), rbf_kernel(x, y, gamma=gamma)
        ref = a @ kxx @ a + b @ kyy @ b - 2 * a @ kxy @ b
        assert float(mmd(x, y, sigma=sigma, a=a, b=b)) == pytest.approx(ref, rel=1e-12)
    u, v = x[:, :1], y[:, :1]  # 1-D: scipy's energy distance is sqrt(2 E|X - Y| - E|X - X'| - E|Y - Y'|)
    ref = energy_distance(u[:, 0], v[:, 0], u_weights=a, v_weights=b) ** 2
    assert float(mmd(u, v, kernel="energy", a=a, b=b)) == pytest.approx(ref, rel=1e-10)
    assert abs(float(mmd(x, x, sigma=0.5))) < 1e-15 and float(mmd(x, y, kernel="energy")) > 0


@pytest.mark.parametrize(
    "loss",
    [
        lambda x, y: entropic_ot(x, y, eps=0.3, **TIGHT),
        lambda x, y: sinkhorn_divergence(x, y, eps=0.3, **TIGHT),
        lambda x, y: mmd(x, y, sigma=0.4),
        lambda x, y: mmd(x, y, kernel="energy"),
    ],
    ids=["entropic OT", "Sinkhorn divergence", "MMD gaussian", "MMD energy"],
)
def test_gradient_matches_finite_differences(loss):
    x_np, y = _clouds(n=5, m=6)
    x = torch.tensor(x_np, requires_grad=True)
    (grad,) = torch.autograd.grad(loss(x, y), x)  # (5, 2)
    h, fd = 1e-5, np.zeros_like(x_np)
    for i in range(5):
        for d in range(2):
            e = np.zeros_like(x_np)
            e[i, d] = h
            fd[i, d] = (float(loss(x_np + e, y)) - float(loss(x_np - e, y))) / (2 * h)
    np.testing.assert_allclose(grad.numpy(), fd, rtol=1e-5, atol=1e-8)


def test_one_entropic_step_is_the_barycentric_move():
    """x_i - lr n grad_i OT_eps = x_i + 2 lr (T(x_i) - x_i), T the barycentric projection of POT's plan."""
    cfg = LossFlowConfig(n=25, steps=1, lr=0.1, eps=0.5, tol=1e-11, max_iter=100_000)
    res = loss_flows(cfg)
    pos = res.positions[res.positions["loss"] == "entropic OT"]
    x0, x1 = (pos[pos.step == s][["x", "y"]].to_numpy() for s in (0, 1))
    y = res.target[["x", "y"]].to_numpy()
    w = np.full(25, 1 / 25)
    P = ot.sinkhorn(w, w, ot.dist(x0, y), 0.5, stopThr=1e-12, numItermax=100_000)  # (25, 25) plain POT
    np.testing.assert_allclose(x1, x0 + 2 * 0.1 * (P @ y / w[:, None] - x0), atol=1e-8)
    np.testing.assert_allclose(x0, point_cloud("gaussian", 25, seed=0, center=(-0.75, 0.0)))


def test_flows_reduce_their_losses_and_report_progress():
    records = []
    res = loss_flows(TINY, callback=records.append)
    hist = res.history
    assert len(hist) == 3 * (TINY.steps + 1) and len(records) == 3 * TINY.steps
    assert records[-1]["progress"] == pytest.approx(1.0)
    for name, g in hist.groupby("loss"):
        assert g["value"].iloc[-1] < g["value"].iloc[0], name
        assert g["relative"].iloc[0] == 1.0
    w = np.full(30, 1 / 30)
    last = res.positions[(res.positions.step == TINY.steps) & (res.positions["loss"] == "MMD")][["x", "y"]]
    y = res.target[["x", "y"]].to_numpy()
    w2 = np.sqrt(ot.emd2(w, w, ot.dist(last.to_numpy(), y)))
    assert res.final().set_index("loss").loc["MMD", "w2"] == pytest.approx(w2)
    assert list(res.final()["loss"]) == list(LOSSES) and hist["converged"].all()
    assert res.positions.shape == (3 * (TINY.steps + 1) * 30, 5)


def test_same_seed_same_flows_other_seed_other_clouds():
    a, b = loss_flows(TINY), loss_flows(TINY)
    pd.testing.assert_frame_equal(a.positions, b.positions)
    pd.testing.assert_frame_equal(a.history, b.history)
    assert not np.allclose(loss_flows(replace(TINY, seed=1)).target[["x", "y"]], a.target[["x", "y"]])


def test_the_three_losses_fail_in_their_own_ways():
    """Entropic OT shrinks the cloud, MMD leaves points behind, the Sinkhorn divergence lands on the target."""
    final = loss_flows(LossFlowConfig(n=60, steps=40)).final().set_index("loss")
    s, biased, kernel = (final.loc[k] for k in ("Sinkhorn divergence", "entropic OT", "MMD"))
    assert biased.spread < 0.9 < s.spread  # shrinks onto the blurred target
    assert kernel.stragglers > 2 * s.stragglers  # stalls where the kernel's pull vanishes (measured 32 vs 12)
    assert s.w2 < biased.w2 < kernel.w2 and kernel.w2 > 5 * s.w2


def test_warns_when_sinkhorn_stops_early():
    x, y = _clouds()
    with pytest.warns(UserWarning, match=r"increase `max_iter` or `eps`"):
        entropic_ot(x, y, eps=0.001, max_iter=2)
    with pytest.warns(UserWarning, match=r"a term of S_eps"):
        sinkhorn_divergence(x, y, eps=0.001, max_iter=2)
    with pytest.warns(UserWarning, match=r"steps of entropic OT, Sinkhorn divergence"):
        res = loss_flows(replace(TINY, steps=2, eps=0.01, max_iter=3))
    assert res.history.loc[res.history["loss"] == "MMD", "converged"].all()


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: entropic_ot(np.zeros(3), np.zeros((3, 2)), eps=1.0), ValueError, r"`x` must be an array with 2"),
        (lambda: entropic_ot(np.zeros((3, 2)), np.zeros((3, 3)), eps=1.0), ValueError, r"same dimension d"),
        (lambda: entropic_ot([[np.nan, 0.0]], [[0.0, 0.0]], eps=1.0), ValueError, r"`x` must be free of NaN"),
        (lambda: entropic_ot(torch.full((2, 2), np.inf), np.zeros((2, 2)), eps=1.0), ValueError, r"free of NaN"),
        (lambda: sinkhorn_divergence(np.zeros((3, 2)), np.ones((3, 2)), eps=0.0), ValueError, r"`eps` must be > 0"),
        (lambda: mmd(np.zeros((3, 2)), np.ones((3, 2)), sigma=-1.0), ValueError, r"`sigma` must be > 0"),
        (lambda: mmd(np.zeros((3, 2)), np.ones((3, 2)), kernel="laplace"), ValueError, r"`kernel` must be one of"),
        (lambda: mmd(np.zeros((2, 2)), np.ones((2, 2)), a=[0.5, 0.5], b=[1.0, 1.0]), ValueError, r"same total mass"),
        (lambda: mmd(np.zeros((2, 2)), np.ones((2, 2)), a=[1.0]), ValueError, r"`a` must be of length 2"),
        (lambda: entropic_ot("xy", np.ones((2, 2)), eps=1.0), TypeError, r"`x` must be an array of numbers"),
        (lambda: loss_flows(LossFlowConfig(source="blob")), ValueError, r"`source` must be one of"),
        (lambda: loss_flows(LossFlowConfig(kernel="laplace")), ValueError, r"`kernel` must be one of"),
        (lambda: loss_flows(LossFlowConfig(eps=0.0)), ValueError, r"`eps` must be > 0"),
        (lambda: loss_flows(LossFlowConfig(steps=0)), ValueError, r"`steps` must be >= 1"),
        (lambda: loss_flows(LossFlowConfig(n=1)), ValueError, r"`n` must be >= 2"),
        (lambda: loss_flows(LossFlowConfig(offset=-1.0)), ValueError, r"`offset` must be >= 0"),
    ],
)
def test_bad_input_is_named(call, error, match):
    with pytest.raises(error, match=match):
        call()
