"""Tests for core.optimal_transport.distances: oracles (scipy, POT, closed forms), invariants and bad-input messages."""

from __future__ import annotations

import math
import warnings
from types import SimpleNamespace

import numpy as np
import ot
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import jensenshannon

import core.optimal_transport.distances
from core.optimal_transport.distances import (
    cdf_comparison,
    divergences_vs_shift,
    exact_ot,
    gaussian_w2,
    plan_segments,
    project,
    wasserstein_1d,
)

RNG = np.random.default_rng(0)
samples = st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=30).map(np.array)


# ---------------------------------------------------------------- wasserstein_1d


def test_w1_matches_scipy_unweighted_and_weighted():
    u, v = RNG.normal(size=50), RNG.normal(1.0, 2.0, size=70)
    assert wasserstein_1d(u, v) == pytest.approx(stats.wasserstein_distance(u, v), rel=1e-10)
    a, b = RNG.random(50), RNG.random(70)
    a, b = a / a.sum(), b / b.sum()
    expected = stats.wasserstein_distance(u, v, a, b)
    assert wasserstein_1d(u, v, u_weights=a, v_weights=b) == pytest.approx(expected, rel=1e-10)
    # equal but non-unit masses are the normalised measures, as in scipy
    assert wasserstein_1d(u, v, u_weights=5 * a, v_weights=5 * b) == pytest.approx(expected, rel=1e-10)


def test_w2_matches_gaussian_closed_form_on_quantile_grid():
    q = (np.arange(20_000) + 0.5) / 20_000
    u, v = stats.norm.ppf(q, 0.0, 1.0), stats.norm.ppf(q, 1.5, 0.5)
    assert wasserstein_1d(u, v, p=2) == pytest.approx(math.hypot(1.5, 0.5), rel=1e-3)


def test_wp_is_the_pth_root_of_pots_cost():
    u, v = RNG.normal(size=40), RNG.exponential(size=40)
    assert wasserstein_1d(u, v, p=3) == pytest.approx(ot.wasserstein_1d(u, v, p=3) ** (1 / 3), rel=1e-10)


def test_textbook_diracs():
    assert wasserstein_1d([0.0], [2.5]) == pytest.approx(2.5)
    assert wasserstein_1d([0.0, 1.0], [0.0, 3.0], p=2) == pytest.approx(math.sqrt(2.0))


@settings(max_examples=40, deadline=None)
@given(samples, samples, st.floats(-50, 50, allow_nan=False))
def test_w1_properties(u, v, c):
    d = wasserstein_1d(u, v)
    assert d >= 0
    assert d == pytest.approx(wasserstein_1d(v, u), rel=1e-9, abs=1e-9)  # symmetric
    assert wasserstein_1d(u, u + c) == pytest.approx(abs(c), rel=1e-9, abs=1e-9)  # translation moves by |c|
    assert wasserstein_1d(u, v, p=2) >= d - 1e-9  # W1 <= W2 (Jensen)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"u_weights": -np.ones(3)}, "`u_weights` must be nonnegative"),
        ({"v_weights": [np.nan, 1.0, 1.0]}, "`v_weights` must be free of NaN"),
        ({"u_weights": np.ones(3), "v_weights": np.ones(3) / 3}, "same total mass"),
        ({"u_weights": np.ones(2)}, "`u_weights` must be of length 3"),
        ({"p": 0.5}, "`p` must be >= 1"),
    ],
)
def test_w1_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        wasserstein_1d([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], **kwargs)


def test_w1_bad_samples():
    with pytest.raises(ValueError, match="`u` must be free of NaN"):
        wasserstein_1d([0.0, np.nan], [1.0])
    with pytest.raises(ValueError, match="`v` must be an array with 1 dimension"):
        wasserstein_1d([0.0], [[1.0, 2.0]])


# ---------------------------------------------------------------- gaussian_w2


def test_gaussian_w2_1d_formula_with_scalars():
    assert gaussian_w2(0.0, 1.0, 3.0, 4.0) == pytest.approx(math.sqrt(9 + 1))  # variances 1 and 4 -> s = 1, 2
    assert gaussian_w2(2.0, 0.25, 2.0, 0.25) == pytest.approx(0.0, abs=1e-12)


def _spd(d):
    A = RNG.normal(size=(d, d))
    return A @ A.T + 0.1 * np.eye(d)


@pytest.mark.parametrize("d", [1, 2, 5])
def test_gaussian_w2_matches_pot(d):
    m1, m2, S1, S2 = RNG.normal(size=d), RNG.normal(size=d), _spd(d), _spd(d)
    expected = float(ot.gaussian.bures_wasserstein_distance(m1, m2, S1, S2))
    assert gaussian_w2(m1, S1, m2, S2) == pytest.approx(expected, rel=1e-6)
    assert gaussian_w2(m2, S2, m1, S1) == pytest.approx(expected, rel=1e-6)  # symmetric


def test_gaussian_w2_commuting_covariances():
    # diagonal covariances: W2^2 = |dm|^2 + sum (sqrt(s1) - sqrt(s2))^2
    s1, s2 = np.array([1.0, 4.0]), np.array([9.0, 1.0])
    expected = math.sqrt(1.0 + (1 - 3) ** 2 + (2 - 1) ** 2)
    assert gaussian_w2([0, 0], np.diag(s1), [1, 0], np.diag(s2)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((0.0, -1.0, 0.0, 1.0), "`cov1` must be positive semi-definite"),
        (([0, 0], [[1, 0.5], [0, 1]], [0, 0], np.eye(2)), "`cov1` must be symmetric"),
        (([0, 0], np.eye(3), [0, 0], np.eye(2)), r"`cov1` must have shape \(2, 2\)"),
        (([0, 0], np.eye(2), 0.0, 1.0), "same dimension"),
    ],
)
def test_gaussian_w2_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        gaussian_w2(*args)


# ---------------------------------------------------------------- exact_ot


def test_exact_ot_uniform_square_is_the_assignment():
    x, y = RNG.normal(size=(25, 2)), RNG.normal(size=(25, 2)) + np.array([1.0, 0.0])
    res = exact_ot(x, y)
    M = ot.dist(x, y)
    rows, cols = linear_sum_assignment(M)
    assert res.cost == pytest.approx(M[rows, cols].mean(), rel=1e-10)
    assert res.converged and res.message == ""
    perm = np.zeros((25, 25))
    perm[rows, cols] = 1 / 25
    np.testing.assert_allclose(res.plan, perm, atol=1e-12)  # generic points: the optimum is unique
    assert res.distance == pytest.approx(math.sqrt(res.cost)) and res.distance_name == "W2"


def test_exact_ot_marginals_and_pot_oracle():
    x, y = RNG.normal(size=(30, 2)), RNG.uniform(size=(45, 2))
    a, b = RNG.random(30), RNG.random(45)
    a, b = a / a.sum(), b / b.sum()
    for metric in ("sqeuclidean", "euclidean"):
        res = exact_ot(x, y, a=a, b=b, metric=metric)
        np.testing.assert_allclose(res.plan.sum(axis=1), a, atol=1e-12)
        np.testing.assert_allclose(res.plan.sum(axis=0), b, atol=1e-12)
        assert res.marginal_error < 1e-12 and (res.plan >= 0).all()
        assert res.cost == pytest.approx(ot.emd2(a, b, ot.dist(x, y, metric=metric)), rel=1e-10)


def test_exact_ot_distances_agree_with_1d_oracles():
    u, v = RNG.normal(size=40), RNG.normal(2.0, 0.5, size=40)
    w1 = exact_ot(u, v, metric="euclidean")
    assert w1.distance_name == "W1"
    assert w1.distance == pytest.approx(stats.wasserstein_distance(u, v), rel=1e-9)
    assert exact_ot(u, v).distance == pytest.approx(wasserstein_1d(u, v, p=2), rel=1e-9)


def test_exact_ot_not_converged_warns_with_the_knob(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("warnings.catch_warnings is process-wide and not thread-safe: do not use it in core")

    # core/transport.py must judge convergence from POT's log, never by capturing warnings
    monkeypatch.setattr(
        core.optimal_transport.distances, "warnings", SimpleNamespace(warn=warnings.warn, catch_warnings=boom)
    )
    x, y = RNG.normal(size=(60, 2)), RNG.normal(size=(60, 2))
    with pytest.warns(UserWarning, match="Increase `max_iter`"):
        res = exact_ot(x, y, max_iter=2)
    assert not res.converged and "numItermax" in res.message
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a converged solve warns nothing
        assert exact_ot(x, y).converged


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"a": np.full(4, 0.25), "b": np.full(3, 0.5)}, "same total mass"),
        ({"a": [0.5, 0.5, 0.5, -0.5]}, "`a` must be nonnegative"),
        ({"b": [np.nan, 0.5, 0.5]}, "`b` must be free of NaN"),
        ({"metric": "cosine"}, "`metric` must be one of"),
    ],
)
def test_exact_ot_bad_weights(kwargs, match):
    with pytest.raises(ValueError, match=match):
        exact_ot(RNG.normal(size=(4, 2)), RNG.normal(size=(3, 2)), **kwargs)


def test_exact_ot_bad_shapes_and_overflow():
    with pytest.raises(ValueError, match="same number of columns"):
        exact_ot(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="overflowed"):
        exact_ot(np.array([[0.0, 0.0], [1e200, 0.0]]), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="too large for the exact solver"):
        exact_ot(np.zeros((2000, 1)), np.zeros((2000, 1)))


def test_plan_segments_and_projection():
    x, y = RNG.normal(size=(12, 2)), RNG.normal(size=(12, 2))
    seg = plan_segments(x, y, exact_ot(x, y).plan)
    assert len(seg) == 12 and seg["mass"].sum() == pytest.approx(1.0) and seg["share"].max() == 1.0
    np.testing.assert_allclose(seg[["x", "y"]].to_numpy(), x[seg["source"]])
    with pytest.raises(ValueError, match=r"`plan` must have shape \(12, 12\)"):
        plan_segments(x, y, np.ones((3, 3)))
    pts = np.array([[1.0, 2.0], [3.0, -1.0]])
    np.testing.assert_allclose(project(pts, angle=0), [1.0, 3.0])
    np.testing.assert_allclose(project(pts, angle=90), [2.0, -1.0], atol=1e-12)


def test_cdf_area_is_w1():
    u, v = RNG.normal(size=60), RNG.uniform(1, 3, size=45)
    comp = cdf_comparison(u, v, bins=20)
    assert comp.w1 == pytest.approx(stats.wasserstein_distance(u, v), rel=1e-10)
    assert set(comp.cdf.columns) == {"x", "source", "target", "gap"}
    assert comp.cdf["source"].iloc[-1] == 1.0 and comp.cdf["target"].is_monotonic_increasing
    for _, h in comp.hist.groupby("sample"):  # densities integrate to 1
        assert float(((h["right"] - h["left"]) * h["density"]).sum()) == pytest.approx(1.0)


# ---------------------------------------------------------------- divergences_vs_shift


def test_diracs_wgan_example_1():
    df = divergences_vs_shift([-2.0, -0.1, 0.0, 0.5, 3.0], kind="dirac")
    moved = df["shift"] != 0
    assert np.isinf(df.loc[moved, "kl"]).all() and (df.loc[~moved, "kl"] == 0).all()
    np.testing.assert_allclose(df.loc[moved, "js"], 1.0)  # log 2 = 1 bit
    np.testing.assert_allclose(df["w1"], np.abs(df["shift"]))


def test_uniforms_closed_form_against_a_fine_grid():
    shifts = np.array([0.0, 0.25, 0.5, 0.9, 1.0, 2.0])
    df = divergences_vs_shift(shifts, kind="uniform", width=1.0)
    np.testing.assert_allclose(df["js"], np.minimum(1.0, shifts))
    assert np.isinf(df["kl"].iloc[1:]).all()  # Q puts mass where P has none as soon as s != 0
    x = np.linspace(-1, 4, 500_001)
    p = ((x >= 0) & (x < 1)).astype(float)
    for s, js in zip(shifts, df["js"], strict=True):
        q = ((x >= s) & (x < s + 1)).astype(float)
        assert jensenshannon(p, q, base=2) ** 2 == pytest.approx(js, abs=1e-4)
    assert wasserstein_1d(np.linspace(0, 1, 1001), np.linspace(0.5, 1.5, 1001)) == pytest.approx(df["w1"].iloc[2])


def test_gaussians_against_quadrature():
    sigma = 0.7
    df = divergences_vs_shift([0.3, 1.0, 2.5], kind="gaussian", sigma=sigma)
    for s, kl, js in df[["shift", "kl", "js"]].itertuples(index=False):
        p, q = stats.norm(0, sigma), stats.norm(s, sigma)
        m = lambda t, p=p, q=q: 0.5 * (p.pdf(t) + q.pdf(t))  # noqa: E731
        kl_quad = integrate.quad(lambda t, p=p, q=q: q.pdf(t) * (q.logpdf(t) - p.logpdf(t)), -15, 15)[0]
        js_quad = 0.5 * integrate.quad(lambda t, p=p, m=m: p.pdf(t) * np.log(p.pdf(t) / m(t)), -15, 15)[0]
        js_quad += 0.5 * integrate.quad(lambda t, q=q, m=m: q.pdf(t) * np.log(q.pdf(t) / m(t)), -15, 15)[0]
        assert kl == pytest.approx(s**2 / (2 * sigma**2 * math.log(2)), rel=1e-12)
        assert kl == pytest.approx(kl_quad / math.log(2), rel=1e-6)
        assert js == pytest.approx(js_quad / math.log(2), rel=1e-6)


def test_gaussian_js_invariants():
    s = np.linspace(-6, 6, 49)
    df = divergences_vs_shift(s, kind="gaussian")
    js = df["js"].to_numpy()
    assert ((js >= 0) & (js <= 1)).all()
    np.testing.assert_allclose(js, js[::-1], atol=1e-12)  # symmetric in the shift
    assert (np.diff(js[24:]) > 0).all()  # grows with |shift|
    small = divergences_vs_shift([0.01], kind="gaussian")
    assert small["js"].iloc[0] == pytest.approx(small["kl"].iloc[0] / 4, rel=1e-3)  # JS ~ KL / 4 near 0


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ([0.0, 1.0], {"kind": "cauchy"}, "`kind` must be one of"),
        ([0.0, np.nan], {}, "`shifts` must be free of NaN"),
        ([0.0], {"kind": "uniform", "width": 0.0}, "`width` must be > 0"),
    ],
)
def test_divergences_bad_input(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        divergences_vs_shift(args, **kwargs)
