"""Tests for core/sinkhorn/experiments.py: the normalisation view, the timing sweep over n, the frontier."""

from __future__ import annotations

import numpy as np
import ot
import pandas as pd
import pytest

from core.data import point_cloud
from core.sinkhorn.experiments import (
    FrontierConfig,
    TimingConfig,
    crossover,
    example_histograms,
    frontier,
    growth_exponents,
    histograms,
    normalisation_view,
    timing_vs_n,
)
from core.sinkhorn.solver import sinkhorn_steps


def test_view_lays_out_both_plans_and_steps_converge():
    h = example_histograms(30)
    one, many = sinkhorn_steps(h.a, h.b, h.M, eps=0.01, k=1), sinkhorn_steps(h.a, h.b, h.M, eps=0.01, k=500)
    assert one.marginal_error > 0.1 and not one.converged
    assert many.converged and many.marginal_error < 1e-6
    view = normalisation_view(h, eps=0.01, k=3)
    assert len(view.plans) == 2 * 30 * 30
    assert view.plans.groupby("plan")["mass"].sum().to_numpy() == pytest.approx([1.0, 1.0])
    assert view.exact_cost == pytest.approx(ot.emd2(h.a, h.b, h.M))
    assert (view.plans["source_end"] > view.plans["source"]).all()


def test_histograms_normalise_and_scale():
    h = histograms([1, 2, 1], [0, 2, 2], x=[10.0, 20.0, 40.0])
    np.testing.assert_allclose(h.x, [0.0, 1 / 3, 1.0])
    assert h.a.sum() == pytest.approx(1) and h.b.sum() == pytest.approx(1)
    assert h.M.max() == pytest.approx(1.0)


def test_histograms_bad_input_is_named():
    with pytest.raises(ValueError, match=r"`x` must be 3 strictly increasing"):
        histograms([1, 1, 1], [1, 1, 1], x=[0.0, 2.0, 1.0])
    with pytest.raises(ValueError, match=r"`b` must be of length 3"):
        histograms([1, 1, 1], [1, 1])
    with pytest.raises(ValueError, match=r"number of bins` must be <= 2000"):
        histograms(np.ones(2001), np.ones(2001))


def test_timing_table_is_long_and_reports_progress():
    records = []
    df = timing_vs_n(TimingConfig(sizes=(10, 20, 40), eps=0.05, repeats=2), callback=records.append)
    cols = ["n", "solver", "seconds", "seconds_min", "seconds_max", "repeats", "cost", "iterations"]
    assert list(df.columns) == cols
    assert df.groupby("n")["solver"].apply(list).tolist() == [["exact", "sinkhorn"]] * 3
    assert (df["seconds"] > 0).all() and (df["repeats"] == 2).all()
    assert ((df["seconds_min"] <= df["seconds"]) & (df["seconds"] <= df["seconds_max"])).all()
    assert len(records) == 12  # every timed run reports: 3 sizes x 2 solvers x 2 repeats
    assert [r["progress"] for r in records] == pytest.approx(np.arange(1, 13) / 12)
    costs = df.pivot(index="n", columns="solver", values="cost")
    for n in (10, 20, 40):  # the LP's cost is POT's exact cost on the same clouds
        x, y = point_cloud("moons", n, seed=0), point_cloud("ring", n, seed=1)
        M = ot.dist(x, y)
        w = np.full(n, 1 / n)
        assert costs.loc[n, "exact"] == pytest.approx(ot.emd2(w, w, M / M.max()), rel=1e-9)
    assert (costs["sinkhorn"] >= costs["exact"] - 1e-9).all()  # the entropic plan never beats the LP
    assert df.loc[df.solver == "exact", "iterations"].isna().all()


def test_timing_repeats_every_size_and_reports_the_median(monkeypatch):
    """The audit saw fitted exponents flip between runs timed once each: every size must be timed `repeats` times."""
    ticks = iter(np.arange(0.0, 1e4, 1.0) ** 1.5)  # a fake clock: each run takes longer than the one before
    monkeypatch.setattr("core.sinkhorn.experiments.time.perf_counter", lambda: float(next(ticks)))
    df = timing_vs_n(TimingConfig(sizes=(10, 20), repeats=3, eps=0.1))
    assert (df["repeats"] == 3).all()
    assert (df["seconds_min"] < df["seconds"]).all() and (df["seconds"] < df["seconds_max"]).all()


def test_growth_exponents_recover_a_power_law():
    n = np.array([100, 200, 400, 800])
    df = pd.DataFrame({"n": np.tile(n, 2), "solver": np.repeat(["exact", "sinkhorn"], 4)})
    df["seconds"] = np.where(df.solver == "exact", 1e-9 * df.n**3.0, 1e-7 * df.n**2.0)
    out = growth_exponents(df)
    assert out["exact"] == pytest.approx(3.0) and out["sinkhorn"] == pytest.approx(2.0)
    df.loc[(df.n == 100) & (df.solver == "exact"), "seconds"] = 1.0  # a warm-up outlier below min_n
    assert growth_exponents(df, min_n=200)["exact"] == pytest.approx(3.0)
    assert growth_exponents(df, min_n=100)["exact"] < 2.0  # ...which a fit from n = 100 would include
    df.loc[(df.n == 100) & (df.solver == "exact"), "seconds"] = 1e-9 * 100**3.0
    assert crossover(df) == 200  # 1e-9 n^3 < 1e-7 n^2 for n < 100, equal at 100, larger after
    df.loc[df.solver == "sinkhorn", "seconds"] = 1.0
    assert crossover(df) is None


def test_timing_bad_input_is_named():
    with pytest.raises(ValueError, match=r"`sizes` must be >= 2"):
        timing_vs_n(TimingConfig(sizes=(1, 10)))
    with pytest.raises(ValueError, match=r"`eps` must be > 0"):
        timing_vs_n(TimingConfig(sizes=(10,), eps=-0.1))
    with pytest.raises(ValueError, match=r"`sizes` must list at least one"):
        timing_vs_n(TimingConfig(sizes=()))
    with pytest.raises(ValueError, match=r"`repeats` must be >= 1"):
        timing_vs_n(TimingConfig(sizes=(10,), repeats=0))


def test_frontier_gaps_against_pot_and_the_entropic_bound():
    cfg = FrontierConfig(n=60, epsilons=(0.3, 0.03, 0.003), repeats=2)
    records = []
    df = frontier(cfg, callback=records.append)
    assert len(records) == 8 and records[-1]["progress"] == pytest.approx(1.0)
    assert list(df["solver"]) == ["exact", "sinkhorn", "sinkhorn", "sinkhorn"]
    x, y = point_cloud("moons", 60, seed=0), point_cloud("ring", 60, seed=1)
    M = ot.dist(x, y)
    M /= M.max()
    w = np.full(60, 1 / 60)
    exact = ot.emd2(w, w, M)
    sk = df[df.solver == "sinkhorn"].set_index("eps")
    for eps in cfg.epsilons:
        pot = ot.sinkhorn(w, w, M, eps, stopThr=1e-6, numItermax=100_000, method="sinkhorn_log")
        assert sk.loc[eps, "gap"] == pytest.approx(np.sum(pot * M) - exact, abs=1e-5)
        assert -1e-9 <= sk.loc[eps, "gap"] <= eps * np.log(60)  # 0 <= gap <= eps log n
    assert (np.diff(sk["gap"].to_numpy()) < 0).all()  # sharper blur, smaller gap
    assert df.loc[0, "gap"] == 0 and (df["seconds"] > 0).all()
    with pytest.raises(ValueError, match=r"`epsilons` must list at least one"):
        frontier(FrontierConfig(epsilons=()))
