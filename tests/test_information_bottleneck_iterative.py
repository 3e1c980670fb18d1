"""Tests for core.information_bottleneck.iterative (re-exported by core.information_bottleneck.theory): iterative IB
and the IB curve."""

import numpy as np
import pytest
from scipy.stats import entropy as scipy_entropy

from core.information_bottleneck import iterative as bottleneck_iterative
from core.information_bottleneck.theory import (
    ib_curve,
    ib_objective,
    iterative_ib,
    mutual_information,
    noisy_channel_joint,
)


def random_joint(n_x, n_y, seed):
    p = np.random.default_rng(seed).random((n_x, n_y))
    return p / p.sum()


# --- iterative IB -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("beta", "seed"), [(1.5, 0), (4.0, 1), (20.0, 2), (200.0, 3)])
def test_iterative_ib_objective_never_increases(beta, seed):
    p = random_joint(10, 5, seed=seed)
    res = iterative_ib(p, beta=beta, n_clusters=4, seed=seed, max_iter=300)
    assert np.all(np.diff(res.history) <= 1e-10)
    assert res.objective == pytest.approx(res.i_tx - beta * res.i_ty)
    np.testing.assert_allclose(res.encoder.sum(axis=1), 1.0)
    assert res.encoder.shape == (10, 4)


def test_large_beta_with_enough_clusters_keeps_all_relevant_information():
    p = noisy_channel_joint(8, 8, noise=0.1)
    curve = ib_curve(p, np.geomspace(1, 1e4, 30), n_clusters=8, seed=0)  # annealed up to beta = 1e4
    assert curve["i_ty"].iloc[-1] == pytest.approx(mutual_information(p), abs=1e-3)
    res = iterative_ib(p, beta=1e4, n_clusters=10, init=np.eye(8, 10) + 0.01)  # started near the identity code
    assert res.converged
    assert res.i_ty == pytest.approx(mutual_information(p), abs=1e-6)


TEN_BY_THREE = np.random.default_rng(3).random((10, 3))  # 10 distinct rows p(y|x): every x carries its own bit share
TEN_BY_THREE /= TEN_BY_THREE.sum()


def identity_objective(p, beta):
    """I(X;T) - beta I(T;Y) of the encoder T = X, from scipy's entropies (not from our code)."""
    h_x = scipy_entropy(p.sum(axis=1), base=2)
    i_xy = h_x + scipy_entropy(p.sum(axis=0), base=2) - scipy_entropy(p.ravel(), base=2)
    return h_x - beta * i_xy, i_xy


def test_ten_by_three_at_beta_500_keeps_all_of_i_xy_and_beats_the_identity_encoder():
    # The audit's case: |T| = |X| = 10, beta = 500. A random start used to stall at a hard assignment with merged
    # clusters (I(T;Y) 5-15 % below I(X;Y)) and call it converged.
    ident, i_xy = identity_objective(TEN_BY_THREE, 500.0)
    res = iterative_ib(TEN_BY_THREE, beta=500.0, n_clusters=10, seed=0)
    assert res.converged
    assert res.i_ty == pytest.approx(i_xy, abs=1e-3)
    assert res.objective <= ident + 1e-6
    for seed in range(5):  # whichever start wins, never worse than the identity encoder
        assert iterative_ib(TEN_BY_THREE, beta=500.0, n_clusters=12, seed=seed).objective <= ident + 1e-6


def test_a_stuck_hard_assignment_is_escaped_not_called_converged():
    # Two clusters hold all ten x (the rest empty): every update leaves it unchanged, yet it is no optimum.
    ch = bottleneck_iterative._channel(TEN_BY_THREE)
    stuck = np.zeros((10, 10))
    stuck[:5, 0] = stuck[5:, 1] = 1.0
    for _ in range(50):
        stuck = bottleneck_iterative._step(stuck, ch, 500.0)
    assert np.sum(TEN_BY_THREE.sum(axis=1) @ stuck > 1e-12) == 2
    assert np.allclose(bottleneck_iterative._step(stuck, ch, 500.0), stuck)  # a fixed point of the updates
    res = bottleneck_iterative._run(stuck, ch, 500.0, 5000, 1e-8, "stuck")
    _, i_xy = identity_objective(TEN_BY_THREE, 500.0)
    assert res.n_escapes >= 8 and res.converged  # one split per x that shared a cluster
    assert res.i_ty == pytest.approx(i_xy, abs=1e-3)
    assert np.all(np.diff(res.history) <= 1e-10)


def test_an_uploaded_table_with_enough_clusters_reaches_i_xy_at_large_beta():
    for seed in range(4):
        p = random_joint(7, 4, seed=10 + seed)
        curve = ib_curve(p, [0.5, 5.0, 50.0, 1000.0], n_clusters=9, seed=seed)
        assert curve["i_ty"].iloc[-1] == pytest.approx(mutual_information(p), abs=2e-3)
        assert curve["converged"].all()


def test_iterative_ib_beta_below_one_gives_the_trivial_solution():
    # I(T;Y) <= I(X;T), so for beta < 1 the objective is >= 0 and T independent of X is optimal.
    res = iterative_ib(random_joint(6, 3, seed=4), beta=0.5, n_clusters=3, seed=0)
    assert res.i_tx == pytest.approx(0.0, abs=1e-6)


def test_iterative_ib_is_seeded():
    p = random_joint(6, 3, seed=5)
    a = iterative_ib(p, beta=5.0, n_clusters=3, seed=7)
    b = iterative_ib(p, beta=5.0, n_clusters=3, seed=7)
    np.testing.assert_array_equal(a.encoder, b.encoder)


def test_iterative_ib_warns_and_flags_non_convergence():
    with pytest.warns(UserWarning, match="max_iter"):
        res = iterative_ib(random_joint(6, 3, seed=6), beta=5.0, n_clusters=3, max_iter=2)
    assert not res.converged


def test_iterative_ib_bad_input_messages():
    p = random_joint(4, 3, seed=0)
    with pytest.raises(ValueError, match="`beta` must be > 0"):
        iterative_ib(p, beta=0.0, n_clusters=2)
    with pytest.raises(ValueError, match="`n_clusters` must be >= 1"):
        iterative_ib(p, beta=1.0, n_clusters=0)
    with pytest.raises(ValueError, match="`init` must be"):
        iterative_ib(p, beta=1.0, n_clusters=2, init=np.ones((3, 2)))
    with pytest.raises(ValueError, match="`n_restarts` must be >= 0"):
        iterative_ib(p, beta=1.0, n_clusters=2, n_restarts=-1)


@pytest.mark.parametrize(("seed", "n_clusters"), [(0, 3), (1, 5), (2, 8)])
def test_ib_curve_is_monotone_on_random_tables(seed, n_clusters):
    p = random_joint(8, 4, seed=20 + seed)
    df = ib_curve(p, np.geomspace(0.8, 100, 16), n_clusters=n_clusters, seed=seed)
    assert np.all(np.diff(df["i_ty"]) >= -1e-5) and np.all(np.diff(df["i_tx"]) >= -1e-4)


def test_ib_objective_matches_the_identity_closed_form_and_checks_its_input():
    ident, _ = identity_objective(TEN_BY_THREE, 7.0)
    assert ib_objective(np.eye(10), TEN_BY_THREE, 7.0) == pytest.approx(ident, abs=1e-9)
    assert ib_objective(np.full((10, 1), 1.0), TEN_BY_THREE, 7.0) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="each summing to 1"):
        ib_objective(np.ones((10, 2)), TEN_BY_THREE, 7.0)


def test_ib_curve_is_monotone_and_obeys_data_processing():
    p = noisy_channel_joint(12, 12, noise=0.08)
    df = ib_curve(p, np.geomspace(0.5, 300, 25), n_clusters=12, seed=0)
    assert list(df.columns[:3]) == ["beta", "i_tx", "i_ty"]
    assert df["beta"].is_monotonic_increasing
    assert np.all(np.diff(df["i_ty"]) >= -1e-4)
    assert np.all(df["i_ty"] <= df["i_tx"] + 1e-9)
    assert df["i_ty"].iloc[-1] == pytest.approx(mutual_information(p), abs=0.02)
    assert df["i_tx"].iloc[0] == pytest.approx(0.0, abs=1e-6)
