"""Tests for core/sinkhorn.py: exact limits, the entropic gap bound, marginals, POT agreement, stability, errors."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import ot
import pytest
from scipy.special import logsumexp

import core.sinkhorn.solver
from core.sinkhorn.solver import epsilon_sweep, exact_plan, sinkhorn, sinkhorn_steps


def _clouds(n: int, m: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n, 2)), rng.normal(size=(m or n, 2)) + np.array([1.0, 0.0])
    M = ot.dist(x, y)
    return np.full(n, 1 / n), np.full(m or n, 1 / (m or n)), M / M.max()


def _random_weights(n: int, seed: int) -> np.ndarray:
    w = np.random.default_rng(seed).uniform(0.2, 1.0, size=n)
    return w / w.sum()


def test_textbook_two_points_moves_nothing():
    res = sinkhorn([0.5, 0.5], [0.5, 0.5], [[0.0, 1.0], [1.0, 0.0]], eps=0.01)
    assert res.converged
    assert res.cost == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(res.plan, np.diag([0.5, 0.5]), atol=1e-12)


def test_low_eps_recovers_the_exact_assignment_on_a_uniform_problem():
    a, b, M = _clouds(15, seed=1)
    P_star, exact = exact_plan(a, b, M)  # a permutation matrix / n
    res = sinkhorn(a, b, M, eps=1e-4, max_iter=100_000)
    assert res.converged
    assert 0 <= res.cost - exact <= 1e-4 * np.log(15)
    np.testing.assert_array_equal(res.plan.argmax(1), P_star.argmax(1))
    assert np.sum(res.plan[P_star > 0]) > 0.95  # nearly all the mass sits on the optimal permutation


def test_cost_approaches_the_exact_cost_as_eps_falls():
    a, b, M = _clouds(40, seed=2)
    _, exact = exact_plan(a, b, M)
    gaps = [sinkhorn(a, b, M, eps=e, max_iter=100_000).cost - exact for e in (0.1, 0.01, 1e-3)]
    assert gaps[0] > gaps[1] > gaps[2] >= -1e-6
    assert gaps[2] < 1e-3 * np.log(40)


def test_entropic_gap_bound_holds_for_several_eps():
    _, _, M = _clouds(30, 25, seed=3)
    a, b = _random_weights(30, 4), _random_weights(25, 5)
    eps = [1.0, 0.3, 0.1, 0.03, 0.01, 3e-3, 1e-3]
    df = epsilon_sweep(a, b, M, epsilons=eps, tol=1e-9, max_iter=200_000)
    assert df["converged"].all()
    assert (df["gap"] >= -1e-8).all()
    assert (df["gap"] <= df["entropy_bound"] + 1e-8).all()
    assert (df["entropy_bound"] <= df["bound"]).all()
    np.testing.assert_allclose(df["bound"], np.array(eps) * np.log(25))
    assert df["exact_cost"].nunique() == 1 and df["exact_cost"].iloc[0] == pytest.approx(ot.emd2(a, b, M))
    assert (df["iterations"].diff().dropna() >= 0).all()  # smaller eps, more iterations


@pytest.mark.parametrize("eps", [0.5, 0.05, 2e-3])  # plain and stabilised methods
def test_marginals_match_within_tol_when_converged(eps):
    _, _, M = _clouds(20, 30, seed=6)
    a, b = _random_weights(20, 7), _random_weights(30, 8)
    res = sinkhorn(a, b, M, eps=eps, tol=1e-8, max_iter=100_000)
    assert res.converged
    assert np.linalg.norm(res.plan.sum(0) - b) <= 1e-8
    np.testing.assert_allclose(res.plan.sum(1), a, atol=1e-12)
    assert (res.plan >= 0).all()
    assert res.cost == pytest.approx(float(np.sum(res.plan * M)))


def test_agrees_with_pot_sinkhorn_at_moderate_eps():
    _, _, M = _clouds(25, 20, seed=9)
    a, b = _random_weights(25, 10), _random_weights(20, 11)
    res = sinkhorn(a, b, M, eps=0.05, tol=1e-10, max_iter=100_000)
    P = ot.sinkhorn(a, b, M, 0.05, stopThr=1e-10, numItermax=100_000)
    np.testing.assert_allclose(res.plan, P, atol=1e-10)
    assert res.cost == pytest.approx(float(ot.sinkhorn2(a, b, M, 0.05, stopThr=1e-10, numItermax=100_000)), rel=1e-8)
    assert res.method == "sinkhorn"


def test_no_nan_at_eps_1e4_times_max_cost():
    a, b, M = _clouds(30, seed=12)
    M = 50.0 * M  # max(M) = 50: eps = 5e-3 is 1e-4 of it
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no POT or numpy warning leaks out
        res = sinkhorn(a, b, M, eps=1e-4 * M.max(), max_iter=200_000)
    assert np.isfinite(res.plan).all() and np.isfinite(res.cost)
    assert res.converged and res.method != "sinkhorn"
    _, exact = exact_plan(a, b, M)
    assert 0 <= res.cost - exact <= 1e-4 * M.max() * np.log(30) + 1e-9


def test_small_eps_at_n_1000_converges():
    """POT's stabilized solver with its fixed tau = 1e3 re-absorbs every iteration once n >= 1000 and stalls."""
    rng = np.random.default_rng(19)
    M = ot.dist(rng.uniform(size=(1000, 2)), rng.uniform(size=(1000, 2)) + np.array([0.5, 0.0]))
    M /= M.max()
    w = np.full(1000, 1e-3)
    res = sinkhorn(w, w, M, eps=1e-3)
    assert res.converged and res.method == "epsilon_scaling"
    assert 0 <= res.cost - ot.emd2(w, w, M, numItermax=10_000_000) <= 1e-3 * np.log(1000)


def test_unconverged_run_warns_with_the_knob_and_flags_it():
    a, b, M = _clouds(30, seed=13)
    with pytest.warns(UserWarning, match=r"increase `max_iter` or `eps`") as caught:
        res = sinkhorn(a, b, M, eps=1e-3, max_iter=5)
    assert len(caught) == 1  # POT's own warning is replaced by ours
    assert not res.converged and res.n_iter == 5
    assert np.isfinite(res.plan).all()


def test_errors_history_decreases_to_below_tol():
    a, b, M = _clouds(30, seed=14)
    res = sinkhorn(a, b, M, eps=0.01, tol=1e-9)
    assert res.errors[-1] <= 1e-9 < res.errors[0]
    assert len(res.errors) == pytest.approx(res.n_iter / res.error_every, abs=1)


def test_zero_weights_and_a_cost_shift_change_nothing():
    _, _, M = _clouds(6, seed=15)
    a = np.array([0.0, 0.3, 0.2, 0.0, 0.4, 0.1])
    b = np.full(6, 1 / 6)
    res = sinkhorn(a, b, M, eps=0.05)
    assert np.isfinite(res.plan).all() and res.plan[[0, 3]].sum() == 0
    shifted = sinkhorn(a, b, M + 1000.0, eps=0.05)  # exp(-M / eps) would underflow without the shift
    np.testing.assert_allclose(shifted.plan, res.plan, atol=1e-12)
    assert shifted.cost == pytest.approx(res.cost + 1000.0)


def _log_domain_iterate(a, b, M, eps, k):
    """The textbook iterate after k (column, row) rescalings from u = 1/n, in the log domain."""
    f = np.full(len(a), np.log(1 / len(a)))
    for _ in range(k):
        g = np.log(b) - logsumexp(-M / eps + f[:, None], axis=0)
        f = np.log(a) - logsumexp(-M / eps + g[None, :], axis=1)
    return np.exp(-M / eps + f[:, None] + g[None, :])


@pytest.mark.parametrize(("eps", "k"), [(0.1, 1), (0.02, 3), (1e-3, 7), (1e-3, 40)])
def test_steps_match_the_textbook_iterate(eps, k):
    _, _, M = _clouds(12, 9, seed=16)
    a, b = _random_weights(12, 17), _random_weights(9, 18)
    res = sinkhorn_steps(a, b, M, eps=eps, k=k)
    np.testing.assert_allclose(res.plan, _log_domain_iterate(a, b, M, eps, k), atol=1e-10)
    assert res.n_iter == k
    np.testing.assert_allclose(res.plan.sum(1), a, atol=1e-12)  # rows exact after each iteration


@pytest.mark.parametrize(
    ("a", "b", "M", "eps", "match"),
    [
        ([0.5, -0.5], [0.5, 0.5], np.ones((2, 2)), 0.1, r"`a` must be nonnegative"),
        ([0.5, np.nan], [0.5, 0.5], np.ones((2, 2)), 0.1, r"`a` must be free of NaN"),
        ([0.5, 0.5], [0.5, 0.6], np.ones((2, 2)), 0.1, r"same total mass"),
        ([0.5, 0.5], [0.5, 0.5], np.ones((2, 3)), 0.1, r"`b` must be of length 3"),
        ([1 / 3] * 3, [0.5, 0.5], np.ones((2, 2)), 0.1, r"`a` must be of length 2"),
        ([0.5, 0.5], [0.5, 0.5], np.ones(4), 0.1, r"`M` must be an array with 2 dimension"),
        ([0.5, 0.5], [0.5, 0.5], np.ones((2, 2)), 0.0, r"`eps` must be > 0"),
        ([0.5, 0.5], [0.5, 0.5], np.ones((2, 2)), -1.0, r"`eps` must be > 0"),
        ([0.5, 0.5], [0.5, 0.5], np.ones((2, 2)), np.nan, r"`eps` must be finite"),
        ([0.0, 0.0], [0.0, 0.0], np.ones((2, 2)), 0.1, r"positive total mass"),
    ],
)
def test_bad_input_is_named(a, b, M, eps, match):
    with pytest.raises(ValueError, match=match):
        sinkhorn(a, b, M, eps=eps)


def test_bad_knobs_are_named():
    a, b, M = _clouds(4)
    with pytest.raises(ValueError, match=r"`max_iter` must be >= 1"):
        sinkhorn(a, b, M, eps=0.1, max_iter=0)
    with pytest.raises(ValueError, match=r"`k` must be >= 1"):
        sinkhorn_steps(a, b, M, eps=0.1, k=0)
    with pytest.raises(ValueError, match=r"`epsilons` must be > 0"):
        epsilon_sweep(a, b, M, epsilons=[0.1, 0.0])
    with pytest.raises(ValueError, match=r"`tol` must be > 0"):
        sinkhorn(a, b, M, eps=0.1, tol=0.0)


def _forbid_catch_warnings(monkeypatch, module):
    """Give ``module`` a ``warnings`` whose ``catch_warnings`` fails (pytest's own use of it stays intact)."""

    def boom(*args, **kwargs):
        raise AssertionError("warnings.catch_warnings is process-wide and not thread-safe: do not use it in core")

    monkeypatch.setattr(module, "warnings", SimpleNamespace(warn=warnings.warn, catch_warnings=boom))


@pytest.mark.parametrize("eps", [0.05, 1e-3])  # the plain route and the epsilon-scaling route
def test_no_route_touches_the_process_wide_warning_filters(monkeypatch, eps):
    a, b, M = _clouds(30, seed=20)
    _forbid_catch_warnings(monkeypatch, core.sinkhorn.solver)
    assert sinkhorn(a, b, M, eps=eps, max_iter=100_000).converged
    with pytest.warns(UserWarning, match=r"increase `max_iter` or `eps`"):  # non-convergence still names the knob
        assert not sinkhorn(a, b, M, eps=eps, max_iter=2).converged
    assert sinkhorn_steps(a, b, M, eps=eps, k=3).n_iter == 3
    assert epsilon_sweep(a, b, M, epsilons=[eps], max_iter=100_000).shape[0] == 1


def test_plain_route_is_pot_itself_with_no_copy_of_the_cost(monkeypatch):
    """Where plain POT converges, ours must be plain POT: one call, on M itself, the plan as POT returned it."""
    a, b, M = _clouds(200, seed=21)
    calls = []
    real = ot.sinkhorn

    def spy(*args, **kwargs):
        calls.append(args[2])
        return real(*args, **kwargs)

    monkeypatch.setattr(ot, "sinkhorn", spy)
    res = sinkhorn(a, b, M, eps=0.03, tol=1e-9)
    assert len(calls) == 1 and calls[0] is M  # no shifted copy M - min(M)
    P = real(a, b, M, 0.03, stopThr=1e-9, numItermax=10_000)
    np.testing.assert_array_equal(res.plan, P)
    assert res.method == "sinkhorn" and res.converged


def test_wrapper_allocates_no_cost_sized_array_beyond_pot():
    """The audit measured ours 1.65x slower than ot.sinkhorn at n = 1600: the wrapper copied and rescaled (n, m)
    arrays. Its peak memory beyond plain POT's must stay under one (n, m) float array."""
    import tracemalloc

    a, b, M = _clouds(400, seed=22)
    peaks = {}
    for name, call in (
        ("pot", lambda: ot.sinkhorn(a, b, M, 0.05, stopThr=1e-6, numItermax=10_000, log=True, warn=False)),
        ("ours", lambda: sinkhorn(a, b, M, eps=0.05)),
    ):
        tracemalloc.start()
        call()
        peaks[name] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peaks["ours"] - peaks["pot"] < 0.5 * M.nbytes


def test_iteration_count_is_what_pot_ran():
    """POT checks the tolerance every 10 iterations, so a converged plain run stops after 10 k + 1 iterations."""
    a, b, M = _clouds(50, seed=23)
    res = sinkhorn(a, b, M, eps=0.02, tol=1e-9)
    _, log = ot.sinkhorn(a, b, M, 0.02, stopThr=1e-9, numItermax=10_000, log=True)
    assert res.n_iter == log["niter"] + 1 and res.n_iter % res.error_every == 1
    np.testing.assert_array_equal(res.plan, sinkhorn_steps(a, b, M, eps=0.02, k=res.n_iter).plan)


@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (33, 3), (5, 40)])
def test_one_pass_bounds_and_report_match_numpy(monkeypatch, shape):
    """The fused reductions must equal numpy's: bounds on any layout, the report on any split of rows into blocks."""
    rng = np.random.default_rng(30)
    M, P = rng.normal(size=shape), rng.uniform(size=shape)
    read_only = M.copy()
    read_only.flags.writeable = False
    for view in (M, M.T, read_only, M[:, ::-1]):
        assert core.sinkhorn.solver._bounds(view) == (view.min(), view.max())
    for block_bytes in (8 * shape[1], 8 * shape[1] * 3, 1 << 19):  # 1 row, 3 rows, all rows per block
        monkeypatch.setattr(core.sinkhorn.solver, "BLOCK_BYTES", block_bytes)
        cost, rows, cols = core.sinkhorn.solver._cost_and_marginals(P, M)
        assert cost == pytest.approx(float(np.sum(P * M)), rel=1e-12)
        np.testing.assert_allclose(rows, P.sum(1), rtol=1e-12)
        np.testing.assert_allclose(cols, P.sum(0), rtol=1e-12)
    for value, check in ((np.nan, lambda lo, hi: np.isnan(lo) and np.isnan(hi)), (-np.inf, lambda lo, hi: lo < -1e308)):
        bad = M.copy()
        bad[-1, -1] = value
        assert check(*core.sinkhorn.solver._bounds(bad))


def test_where_pot_converges_the_wrapper_reads_the_cost_once_and_the_plan_never(monkeypatch):
    """Its overhead over plain POT is one pass over M (bounds, which also catch NaN and inf); cost and marginal
    error are computed when read, and they are right."""
    a, b, M = _clouds(60, seed=31)
    module = core.sinkhorn.solver
    calls = []
    for name in ("_col_sums", "_row_sums", "_cost_and_marginals"):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *args, _real=real, _name=name: calls.append(_name) or _real(*args))
    res = sinkhorn(a, b, M, eps=0.05, tol=1e-9)
    assert res.method == "sinkhorn" and calls == []
    assert res.converged == (np.linalg.norm(res.plan.sum(0) - b) <= 1e-9)
    assert res.cost == pytest.approx(float(np.sum(res.plan * M)), rel=1e-12)
    marginal = np.abs(res.plan.sum(1) - a).sum() + np.abs(res.plan.sum(0) - b).sum()
    assert res.marginal_error == pytest.approx(marginal, abs=1e-15)
    assert res.cost == pytest.approx(float(np.sum(res.plan * M)), rel=1e-12) and calls == ["_cost_and_marginals"]


@pytest.mark.parametrize("max_iter", [1, 5, 11, 40, 10_000])
def test_converged_is_the_returned_plans_column_error_however_pot_stopped(max_iter):
    """``converged`` comes from POT's last error when POT stopped on it, else from the plan's column sums: both
    must agree with the plan itself, also when the budget ends on or between POT's checks."""
    _, _, M = _clouds(40, 30, seed=32)
    a, b = _random_weights(40, 33), _random_weights(30, 34)
    for tol in (1e-3, 1e-6, 1e-9):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the unconverged runs warn; their flag is what is tested
            res = sinkhorn(a, b, M, eps=0.02, tol=tol, max_iter=max_iter)
        error = np.linalg.norm(res.plan.sum(0) - b)
        assert res.converged == (error <= tol) or abs(error - tol) < 1e-15


def test_a_result_survives_a_pickle_round_trip_as_streamlit_caches_it():
    """st.cache_data pickles results: before and after the lazy cost is computed."""
    import pickle

    a, b, M = _clouds(20, seed=35)
    res = sinkhorn(a, b, M, eps=0.05)
    before = pickle.loads(pickle.dumps(res))  # cost not computed yet
    expected = float(np.sum(res.plan * M))
    assert res.cost == pytest.approx(expected, rel=1e-12)
    after = pickle.loads(pickle.dumps(res))  # carries the computed cost
    for copy in (before, after):
        assert copy.cost == pytest.approx(expected, rel=1e-12) and copy.converged == res.converged
        np.testing.assert_array_equal(copy.plan, res.plan)
