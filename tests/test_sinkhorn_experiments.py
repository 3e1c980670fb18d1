"""Tests for core/sinkhorn_experiments.py: the normalisation view, the timing sweep over n, the gradient flow."""

from __future__ import annotations

import numpy as np
import ot
import pandas as pd
import pytest

from core.data import point_cloud
from core.sinkhorn import sinkhorn, sinkhorn_steps
from core.sinkhorn_experiments import (
    FlowConfig,
    crossover,
    example_histograms,
    gradient_flow,
    growth_exponents,
    histograms,
    normalisation_view,
    timing_vs_n,
)

TINY = FlowConfig(n=30, steps=6, lr=0.1, eps=0.05)


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
    df = timing_vs_n((10, 20, 40), eps=0.05, callback=records.append)
    assert list(df.columns) == ["n", "solver", "seconds", "cost", "iterations"]
    assert df.groupby("n")["solver"].apply(list).tolist() == [["exact", "sinkhorn"]] * 3
    assert (df["seconds"] > 0).all()
    assert [r["progress"] for r in records] == pytest.approx([1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6, 1.0])
    costs = df.pivot(index="n", columns="solver", values="cost")
    assert (costs["sinkhorn"] >= costs["exact"] - 1e-9).all()  # the entropic plan never beats the LP
    assert df.loc[df.solver == "exact", "iterations"].isna().all()


def test_growth_exponents_recover_a_power_law():
    n = np.array([100, 200, 400, 800])
    df = pd.DataFrame({"n": np.tile(n, 2), "solver": np.repeat(["exact", "sinkhorn"], 4)})
    df["seconds"] = np.where(df.solver == "exact", 1e-9 * df.n**3.0, 1e-7 * df.n**2.0)
    out = growth_exponents(df)
    assert out["exact"] == pytest.approx(3.0) and out["sinkhorn"] == pytest.approx(2.0)
    assert crossover(df) == 200  # 1e-9 n^3 < 1e-7 n^2 for n < 100, equal at 100, larger after
    df.loc[df.solver == "sinkhorn", "seconds"] = 1.0
    assert crossover(df) is None


def test_flow_moves_the_cloud_onto_the_target():
    records = []
    res = gradient_flow(TINY, callback=records.append)
    hist = res.history
    assert len(hist) == TINY.steps + 1 and len(records) == TINY.steps
    assert records[-1]["progress"] == pytest.approx(1.0)
    assert (np.diff(hist["ot_cost"]) < 0).all()  # every step brings the cloud closer (exact W2^2)
    assert hist["ot_cost"].iloc[-1] < 0.2 * hist["ot_cost"].iloc[0]
    assert res.positions.shape == ((TINY.steps + 1) * TINY.n, 4)
    first = res.positions[res.positions.step == 0][["x", "y"]].to_numpy()
    np.testing.assert_allclose(first, point_cloud("gaussian", 30, seed=0, center=(-1.0, 0.0)))
    assert hist["converged"].all()


def test_flow_step_is_the_barycentric_move():
    """Without debiasing, one step moves x_i by 2 lr (T(x_i) - x_i), T the barycentric projection of the plan."""
    cfg = FlowConfig(n=25, steps=1, lr=0.1, eps=0.5, debias=False, tol=1e-10, max_iter=10_000)
    res = gradient_flow(cfg)
    x0 = res.positions[res.positions.step == 0][["x", "y"]].to_numpy()
    x1 = res.positions[res.positions.step == 1][["x", "y"]].to_numpy()
    y = res.target[["x", "y"]].to_numpy()
    w = np.full(25, 1 / 25)
    P = sinkhorn(w, w, ot.dist(x0, y), eps=0.5, tol=1e-10).plan
    np.testing.assert_allclose(x1, x0 + 2 * 0.1 * (P @ y / w[:, None] - x0), atol=1e-7)


def test_flow_is_seeded_and_debiasing_lands_closer():
    a, b = gradient_flow(TINY), gradient_flow(TINY)
    pd.testing.assert_frame_equal(a.positions, b.positions)
    biased = gradient_flow(FlowConfig(n=30, steps=30, lr=0.1, eps=0.1, debias=False))
    debiased = gradient_flow(FlowConfig(n=30, steps=30, lr=0.1, eps=0.1, debias=True))
    assert debiased.history["ot_cost"].iloc[-1] < biased.history["ot_cost"].iloc[-1]
    assert debiased.history["loss"].iloc[-1] < 1e-2 * debiased.history["loss"].iloc[0]


def test_flow_warns_when_sinkhorn_stops_early():
    with pytest.warns(UserWarning, match=r"increase `max_iter` or `eps`"):
        res = gradient_flow(FlowConfig(n=20, steps=2, eps=0.01, max_iter=3))
    assert not res.history["converged"].any()


@pytest.mark.parametrize(
    ("config", "match"),
    [
        (FlowConfig(source="blob"), r"`source` must be one of"),
        (FlowConfig(eps=0.0), r"`eps` must be > 0"),
        (FlowConfig(steps=0), r"`steps` must be >= 1"),
        (FlowConfig(n=1), r"`n` must be >= 2"),
    ],
)
def test_flow_bad_config_is_named(config, match):
    with pytest.raises(ValueError, match=match):
        gradient_flow(config)


def test_timing_bad_input_is_named():
    with pytest.raises(ValueError, match=r"`sizes` must be >= 2"):
        timing_vs_n((1, 10))
    with pytest.raises(ValueError, match=r"`eps` must be > 0"):
        timing_vs_n((10,), eps=-0.1)
