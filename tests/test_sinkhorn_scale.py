"""Tests of core.sinkhorn.scale: Sinkhorn on torch against POT's numpy ot.sinkhorn2, the LP against ot.emd2, bytes."""

from __future__ import annotations

import numpy as np
import ot
import pytest

from core.sinkhorn.scale import (
    LP_SOLVER,
    SINKHORN_SOLVER,
    ScaleConfig,
    _problem,
    matrix_bytes,
    scale_run,
    torch_sinkhorn,
)

SMALL = ScaleConfig(sizes=(40, 80, 120), lp_max=80, eps=0.05, seed=3)


def _numpy_problem(n: int, seed: int):
    x, y = _problem(n, seed)
    M = ot.dist(x, y)
    M /= M.max()
    w = np.full(n, 1.0 / n)
    return w, M


@pytest.mark.parametrize(("dtype", "rtol"), [("float64", 1e-7), ("float32", 1e-3)])
def test_torch_cost_agrees_with_pot_sinkhorn2_on_numpy(dtype, rtol):
    x, y = _problem(60, 1)
    got = torch_sinkhorn(x, y, eps=0.05, dtype=dtype, tol=1e-9 if dtype == "float64" else 1e-6, max_iter=5000)
    w, M = _numpy_problem(60, 1)
    want = float(ot.sinkhorn2(w, w, M, 0.05, numItermax=5000, stopThr=1e-12))
    assert got["cost"] == pytest.approx(want, rel=rtol)
    assert got["converged"]


def test_run_matches_independent_solvers_and_bytes():
    df = scale_run(SMALL)
    lp = df[df["solver"] == LP_SOLVER]
    sk = df[df["solver"] == SINKHORN_SOLVER]
    assert list(lp["n"]) == [40, 80]  # the LP only up to lp_max
    assert list(sk["n"]) == [40, 80, 120]
    for row in lp.itertuples():
        w, M = _numpy_problem(row.n, 3)
        assert row.cost == pytest.approx(float(ot.emd2(w, w, M)), rel=1e-9)
        assert row.cost_bytes == row.plan_bytes == row.n * row.n * 8 == matrix_bytes(row.n, "float64")
    for row in sk.itertuples():
        w, M = _numpy_problem(row.n, 3)
        assert row.cost == pytest.approx(float(ot.sinkhorn2(w, w, M, 0.05, stopThr=1e-12)), rel=1e-3)
        assert row.cost_bytes == row.plan_bytes == row.n * row.n * 4 == matrix_bytes(row.n, "float32")
    # the entropic plan costs more than the optimum, by at most eps log n (Peyre & Cuturi, Prop. 4.1)
    both = sk.set_index("n")["cost"].loc[[40, 80]].to_numpy() - lp["cost"].to_numpy()
    assert np.all(both > 0) and np.all(both <= 0.05 * np.log([40, 80]))
    assert np.all(lp["marginal_error"] < 1e-12)  # the LP's plan is exact
    # converged: ||.||_1 <= sqrt(n) ||.||_2 <= sqrt(n) tol (Cauchy-Schwarz), up to float32 round-off of the sums
    assert np.all(sk["marginal_error"] <= np.sqrt(sk["n"]) * SMALL.tol + 1e-5)
    assert np.allclose(df["memory_mb"], (df["cost_bytes"] + df["plan_bytes"]) / 1e6)


def test_callback_progress_is_monotone_and_ends_at_one():
    seen = []
    scale_run(SMALL, callback=seen.append)
    progress = [r["progress"] for r in seen]
    assert len(seen) == 5 and progress == sorted(progress) and progress[-1] == pytest.approx(1.0)


def test_matrix_bytes_closed_form():
    assert matrix_bytes(10_000, "float32") == 400_000_000
    assert matrix_bytes(3, "float64") == 72


@pytest.mark.parametrize(
    ("config", "match"),
    [
        (ScaleConfig(sizes=()), "sizes"),
        (ScaleConfig(sizes=(200, 100)), "increasing"),
        (ScaleConfig(sizes=(20_000,)), "sizes"),
        (ScaleConfig(sizes=(50,), dtype="float16"), "dtype"),
        (ScaleConfig(sizes=(50,), eps=0.0), "eps"),
    ],
)
def test_bad_config_messages(config, match):
    with pytest.raises(ValueError, match=match):
        scale_run(config)


def test_float32_overflow_names_the_knob():
    x, y = _problem(30, 0)
    with pytest.raises(ValueError, match=r"underflows.*raise `eps`"):
        torch_sinkhorn(x, y, eps=1e-3, dtype="float32", tol=1e-5, max_iter=50)


def test_unconverged_run_warns_with_knob():
    with pytest.warns(UserWarning, match="max_iter"):
        scale_run(ScaleConfig(sizes=(50,), lp_max=0, eps=0.005, dtype="float64", tol=1e-12, max_iter=3))


def test_lp_exponent_recovers_a_known_power():
    import pandas as pd

    from core.sinkhorn.scale import lp_exponent

    n = np.array([500, 1000, 2000, 4000])
    df = pd.DataFrame({"n": n, "solver": LP_SOLVER, "seconds": 1e-9 * n**2.7})
    assert lp_exponent(df) == pytest.approx(2.7)
    assert lp_exponent(df, min_n=4000) == pytest.approx(2.7)  # still the two largest
    assert np.isnan(lp_exponent(df.head(1)))
