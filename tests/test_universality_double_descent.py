"""Tests of core/double_descent.py: the peak at p = n, ridge removing it, and the Hastie et al. closed form."""

from __future__ import annotations

import numpy as np
import pytest

from core.universality.double_descent import (
    _min_norm_fit,
    bias_variance_curve,
    feature_grid,
    fit_along_line,
    isotropic_agreement,
    isotropic_risk_curve,
    peak_summary,
    random_features_curve,
    ridgeless_risk,
    ridgeless_risk_curve,
    samplewise_curve,
    stack_curves,
)

N = 40
GRID = (4, 10, 20, 30, 36, 38, 39, 40, 41, 42, 44, 50, 60, 80, 120, 200, 400)


@pytest.fixture(scope="module")
def ridgeless():
    return random_features_curve(n_train=N, n_features=GRID, n_trials=8, seed=3)


def test_ridgeless_risk_closed_form_at_hand_computed_gammas():
    # gamma < 1: sigma^2 gamma / (1 - gamma); gamma > 1: r^2 (1 - 1/gamma) + sigma^2 / (gamma - 1)
    got = ridgeless_risk([0.25, 0.5, 0.8, 1.0, 1.25, 2.0, 4.0], signal=2.0, noise=0.5)
    want = [0.25 / 3, 0.25, 1.0, np.inf, 4 * 0.2 + 0.25 / 0.25, 4 * 0.5 + 0.25, 4 * 0.75 + 0.25 / 3]
    np.testing.assert_allclose(got, want)
    assert ridgeless_risk(3.0, signal=1.0, noise=0.0) == pytest.approx(2 / 3)  # pure bias: r^2 (1 - 1/gamma)


def test_ridgeless_risk_invariants():
    g = np.linspace(1.05, 50, 200)
    no_noise = ridgeless_risk(g, signal=1.0, noise=0.0)
    assert np.all(np.diff(no_noise) > 0) and no_noise[-1] < 1  # bias grows towards the null risk r^2
    assert np.all(ridgeless_risk(np.linspace(0.01, 0.99, 50), signal=5.0, noise=0.0) == 0)  # unbiased below 1
    below = ridgeless_risk(np.linspace(0.01, 0.99, 50), signal=1.0, noise=1.0)
    assert np.all(np.diff(below) > 0)  # noise amplification blows up towards gamma = 1


def test_min_norm_fit_matches_lstsq_on_both_sides_of_the_threshold():
    rng = np.random.default_rng(0)
    Z, y = np.maximum(rng.normal(size=(3, 30, 90)), 0), rng.normal(size=(3, 30))
    for p in (5, 29, 30, 31, 90):
        got = _min_norm_fit(Z[:, :, :p], y, 0.0)
        want = np.stack([np.linalg.lstsq(Z[t, :, :p], y[t], rcond=None)[0] for t in range(3)])
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8 * np.abs(want).max())


def test_min_norm_fit_handles_an_all_zero_feature_and_ridge():
    rng = np.random.default_rng(1)
    F, y = rng.normal(size=(1, 12, 5)), rng.normal(size=(1, 12))
    F[0, :, 2] = 0.0  # a ReLU feature that never fires: singular normal equations
    got = _min_norm_fit(F, y, 0.0)[0]
    np.testing.assert_allclose(got, np.linalg.lstsq(F[0], y[0], rcond=None)[0], atol=1e-10)
    assert got[2] == pytest.approx(0.0, abs=1e-12)
    lam = 0.3
    ridge = _min_norm_fit(F, y, lam)[0]
    np.testing.assert_allclose(ridge, np.linalg.solve(F[0].T @ F[0] + lam * np.eye(5), F[0].T @ y[0]), atol=1e-10)


def test_the_peak_sits_at_p_equal_n(ridgeless):
    s = peak_summary(ridgeless, N)
    assert abs(s.peak_p - N) <= 2
    assert s.peak_mse > 5 * s.under_mse  # a real peak, not noise
    assert s.second_descent_wins  # the target is easy enough for the second descent to win
    # train error: positive below n, zero (interpolation) from p = n on
    train = ridgeless.set_index("n_features").train_mse
    assert train[20] > 0.05 and train.loc[N:].max() < 1e-8


def test_ridge_lowers_and_then_removes_the_peak(ridgeless):
    at_n = {0.0: peak_summary(ridgeless, N).at_n_mse}
    for lam in (1e-3, 1e-2):
        ridged = random_features_curve(n_train=N, n_features=GRID, n_trials=8, seed=3, ridge=lam).set_index(
            "n_features"
        )
        at_n[lam] = ridged.test_mse[N]
        assert ridged.train_mse[N] > 1e-3  # ridge no longer interpolates at p = n
    assert at_n[0.0] > 5 * at_n[1e-3] > 5 * at_n[1e-2] / 5
    assert at_n[1e-2] < ridged.test_mse[20] and at_n[1e-2] < ridged.test_mse[30]  # no bump left at p = n


def test_same_seed_same_curve_and_columns(ridgeless):
    again = random_features_curve(n_train=N, n_features=GRID, n_trials=8, seed=3)
    assert again.equals(ridgeless)
    assert list(again.columns) == ["n_features", "gamma", "train_mse", "test_mse", "test_q25", "test_q75", "ridge"]
    assert (again.test_q25 <= again.test_mse).all() and (again.test_mse <= again.test_q75).all()


def test_simulated_isotropic_regression_matches_the_closed_form():
    n = 100
    sim = isotropic_risk_curve(n_train=n, n_features=(25, 50, 200, 400), signal=1.0, noise=0.5, n_trials=200, seed=0)
    # finite-n exact means below the threshold: sigma^2 p / (n - p - 1)
    exact = 0.25 * np.array([25, 50]) / (n - np.array([25, 50]) - 1)
    np.testing.assert_allclose(sim.simulated[:2], exact, rtol=0.1)
    np.testing.assert_allclose(sim.simulated, sim.theory, rtol=0.12)


def test_stacked_curves_and_per_ridge_summaries(ridgeless):
    ridged = random_features_curve(n_train=N, n_features=GRID, n_trials=8, seed=3, ridge=1e-2)
    both = stack_curves(ridgeless, ridged, ridgeless)
    assert len(both) == 2 * len(GRID) and set(both.ridge) == {0.0, 1e-2}
    assert peak_summary(both, N) == peak_summary(ridgeless, N)
    assert peak_summary(both, N, ridge=1e-2).at_n_mse == pytest.approx(ridged.test_mse[ridged.n_features == N].item())
    with pytest.raises(ValueError, match="`ridge` must be one of the curve's ridges"):
        peak_summary(both, N, ridge=0.5)


def test_theory_curve_and_agreement_readout():
    theory = ridgeless_risk_curve(signal=1.0, noise=0.5, gamma_range=(0.1, 10.0), n_points=101)
    assert not np.isinf(theory.theory).any() and (theory.gamma != 1).all()
    np.testing.assert_allclose(theory.theory, ridgeless_risk(theory.gamma, signal=1.0, noise=0.5))
    exact = theory.assign(simulated=theory.theory)
    assert isotropic_agreement(exact) == 0.0
    off = exact.assign(simulated=exact.theory * np.where(np.abs(exact.gamma - 1) > 0.2, 1.1, 5.0))
    assert isotropic_agreement(off) == pytest.approx(0.1)  # the points near gamma = 1 are left out


def test_feature_grid_is_dense_around_n():
    grid = feature_grid(100)
    assert {99, 100, 101} <= set(grid) and grid == tuple(sorted(set(grid)))
    assert grid[-1] == 1000 and sum(80 <= p <= 120 for p in grid) >= 10


def test_bad_inputs_give_clear_messages():
    with pytest.raises(ValueError, match="`gamma` must be > 0"):
        ridgeless_risk([0.5, -1.0], signal=1.0, noise=1.0)
    with pytest.raises(ValueError, match="`noise` must be >= 0"):
        ridgeless_risk(0.5, signal=1.0, noise=-1.0)
    with pytest.raises(ValueError, match="`n_features` must hold positive integers"):
        random_features_curve(n_train=20, n_features=(10, 0, 30))
    with pytest.raises(ValueError, match="`ridge` must be >= 0"):
        random_features_curve(n_train=20, n_features=(10, 20), ridge=-1.0)
    with pytest.raises(ValueError, match="`n_features` must be <= 2000 at this n"):
        random_features_curve(n_train=2000, n_test=500, n_features=(10, 5000))
    with pytest.raises(ValueError, match="`n_train` must be >= 4"):
        random_features_curve(n_train=2)
    with pytest.raises(TypeError, match="`n_trials` must be an integer"):
        random_features_curve(n_train=20, n_features=(10,), n_trials=2.5)
    with pytest.raises(ValueError, match="`curve` must be the output"):
        peak_summary(isotropic_risk_curve(n_train=20, n_features=(5,), n_trials=1), 20)


def _rms_to_target(df, series):
    target = df[df.series == "target"].y.to_numpy()
    return float(np.sqrt(np.mean((df[df.series == series].y.to_numpy() - target) ** 2)))


def test_the_interpolant_at_p_equals_n_swings_far_from_the_target():
    # one draw can happen to be calm, so compare medians over six draws (n = 100, p = 40 / 100 / 1000)
    rms = np.array(
        [[_rms_to_target(df, f"p = {p}") for p in (40, 100, 1000)]
         for df in (fit_along_line(n_features=(40, 100, 1000), seed=s, n_grid=101) for s in range(6))]
    )  # fmt: skip
    under, at_n, over = np.median(rms, axis=0)
    assert at_n > 3 * under and at_n > 3 * over
    df = fit_along_line(n_features=(100,), seed=0, n_grid=101)
    assert set(df.series) == {"target", "p = 100"} and len(df) == 2 * 101
    calm = fit_along_line(n_features=(100,), seed=0, ridge=1e-2, n_grid=101)
    assert _rms_to_target(calm, "p = 100") < _rms_to_target(df, "p = 100") / 2  # a ridge tames the same fit


def test_bias_variance_split_adds_up_and_the_peak_is_variance():
    grid = (10, 30, 38, 40, 42, 60, 200)
    df = bias_variance_curve(n_train=N, n_features=grid, n_trials=30, n_test=200, seed=0)
    w = df.pivot(index="n_features", columns="part", values="value")
    # the decomposition is exact with population (1/T) variances: mean error = bias^2 + variance
    np.testing.assert_allclose(w["bias²"] + w["variance"], w["test error"], rtol=1e-10)
    assert w["variance"].idxmax() == N and w["test error"].idxmax() == N
    assert w.loc[N, "variance"] > 5 * w.loc[N, "bias²"]  # the peak is variance, not bias
    assert w.loc[200, "variance"] < w.loc[N, "variance"] / 5
    # test error of the same recipe, independently: random_features_curve's mean over trials at p = n is the
    # same order of magnitude (different targets per trial there, one target here)
    ridge = bias_variance_curve(n_train=N, n_features=(N,), n_trials=30, n_test=200, seed=0, ridge=1e-2)
    assert ridge.set_index("part").loc["variance", "value"] < w.loc[N, "variance"] / 5
    with pytest.raises(ValueError, match="`n_trials` must be >= 2"):
        bias_variance_curve(n_trials=1)


def test_samplewise_double_descent_peaks_at_n_equals_p():
    p = 30
    df = samplewise_curve(n_features=p, n_trains=(8, 15, 24, 28, 30, 32, 36, 60, 120), n_trials=10, seed=0)
    assert list(df.columns) == ["n_train", "n_features", "train_mse", "test_mse", "test_q25", "test_q75", "ridge"]
    err = df.set_index("n_train")["test_mse"]
    assert err.idxmax() in (28, 30, 32)
    assert err[30] > 3 * err[120] and err[30] > err[15]  # more data first hurts, then helps
    assert (df[df.n_train <= p].train_mse < 1e-6).all()  # interpolating while n <= p
    with pytest.raises(ValueError, match="`n_trains` must list numbers of training points >= 4"):
        samplewise_curve(n_trains=(2, 10))
