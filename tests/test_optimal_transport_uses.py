"""Tests for core.optimal_transport.uses: POT's own DA results, the barycentre's quantiles, McCann's interpolant."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import ot
import pytest
from scipy import stats
from sklearn.svm import SVC

from core.data import point_cloud
from core.optimal_transport.uses import (
    DA_METHODS,
    DAConfig,
    FairnessConfig,
    da_samples,
    displacement_interpolation,
    domain_adaptation,
    fair_repair,
)

SMALL_DA = DAConfig(n=60)


def test_domain_adaptation_matches_pots_own_transports():
    records = []
    res = domain_adaptation(SMALL_DA, callback=records.append)
    assert [r["progress"] for r in records] == pytest.approx([1 / 3, 2 / 3, 1.0])
    xs, ys, xt, yt = da_samples(SMALL_DA)
    oracles = {
        DA_METHODS[0]: ot.da.EMDTransport(),
        DA_METHODS[1]: ot.da.SinkhornTransport(
            reg_e=0.05, norm="max", method="sinkhorn", max_iter=10_000, out_of_sample_map="ferradans"
        ),
        DA_METHODS[2]: ot.da.SinkhornLpl1Transport(reg_e=0.05, reg_cl=0.1, norm="max", tol=1e-6, max_inner_iter=2000),
    }
    acc = res.accuracy.set_index("method")["target_accuracy"]
    assert acc["no adaptation"] == pytest.approx(SVC(gamma=2.0).fit(xs, ys).score(xt, yt))
    for name, transport in oracles.items():
        mapped = transport.fit(Xs=xs, ys=ys, Xt=xt).transform(Xs=xs)
        ours = res.points[(res.points.method == name)][["x", "y"]].to_numpy()
        np.testing.assert_allclose(ours, mapped, atol=1e-10)
        assert acc[name] == pytest.approx(SVC(gamma=2.0).fit(mapped, ys).score(xt, yt))


def test_exact_mapping_of_equal_uniform_samples_is_a_permutation_onto_the_target():
    res = domain_adaptation(SMALL_DA)
    _, _, xt, _ = da_samples(SMALL_DA)
    mapped = res.points[res.points.method == DA_METHODS[0]][["x", "y"]].to_numpy()
    key = lambda p: np.lexsort(p.T[::-1])  # noqa: E731
    np.testing.assert_allclose(mapped[key(mapped)], xt[key(xt)], atol=1e-9)


def test_rotation_hurts_and_zero_rotation_does_not():
    base = domain_adaptation(replace(SMALL_DA, angle=0.0)).accuracy.set_index("method")["target_accuracy"]
    turned = domain_adaptation(DAConfig()).accuracy.set_index("method")["target_accuracy"]
    assert base["no adaptation"] > 0.95
    assert turned["no adaptation"] < 0.8 and turned[DA_METHODS[1]] > turned["no adaptation"] + 0.15


def test_domain_adaptation_bad_config_is_named():
    with pytest.raises(ValueError, match=r"`angle` must be <= 180"):
        domain_adaptation(DAConfig(angle=200.0))
    with pytest.raises(ValueError, match=r"`n` must be >= 10"):
        domain_adaptation(DAConfig(n=3))
    with pytest.raises(ValueError, match=r"`reg_e` must be >= 0.001"):
        domain_adaptation(DAConfig(reg_e=0.0))


def test_barycentre_quantiles_are_the_average_quantiles():
    cfg = FairnessConfig(n=500, gap=1.5)
    res = fair_repair(cfg, repair=1.0)
    orig = res.scores[res.scores.stage == "original"]
    q = (np.arange(500) + 0.5) / 500
    qa = np.quantile(orig[orig.group == "A"].score, q, method="inverted_cdf")
    qb = np.quantile(orig[orig.group == "B"].score, q, method="inverted_cdf")
    np.testing.assert_allclose(res.barycentre, 0.5 * (qa + qb), atol=1e-12)
    rep = res.scores[res.scores.stage == "repaired"]
    np.testing.assert_allclose(np.sort(rep[rep.group == "A"].score), np.sort(rep[rep.group == "B"].score))


def test_partial_repair_shrinks_w1_linearly_and_costs_accuracy():
    res = fair_repair(FairnessConfig(n=1000), repair=0.35)
    t = res.tradeoff.set_index("repair")
    orig = res.scores[res.scores.stage == "original"]
    w1 = stats.wasserstein_distance(orig[orig.group == "A"].score, orig[orig.group == "B"].score)
    assert t.loc[0.0, "w1"] == pytest.approx(w1, rel=1e-12)
    np.testing.assert_allclose(t["w1"], (1 - t.index.to_numpy()) * w1, rtol=1e-9, atol=1e-12)
    rep = res.scores[res.scores.stage == "repaired"]
    assert stats.wasserstein_distance(rep[rep.group == "A"].score, rep[rep.group == "B"].score) == pytest.approx(
        0.65 * w1, rel=1e-9
    )
    assert abs(t.loc[1.0, "parity_gap"]) <= 1 / 1000 and t.loc[0.0, "parity_gap"] > 0.2
    assert t.loc[1.0, "accuracy"] < t.loc[0.0, "accuracy"]  # fairness costs accuracy on calibrated scores


def test_fairness_bad_input_is_named():
    with pytest.raises(ValueError, match=r"`repair` must be <= 1"):
        fair_repair(FairnessConfig(), repair=1.5)
    with pytest.raises(ValueError, match=r"`n` must be >= 10"):
        fair_repair(FairnessConfig(n=2))


@pytest.mark.parametrize(("n", "m", "t"), [(30, 30, 0.3), (20, 35, 0.7)])
def test_interpolant_cost_is_t_squared_times_w2_squared(n, m, t):
    x, y = point_cloud("gaussian", n, seed=0), point_cloud("ring", m, seed=1, center=(2.0, 0.0))
    res = displacement_interpolation(x, y, t=t)
    w2_sq = ot.emd2(np.full(n, 1 / n), np.full(m, 1 / m), ot.dist(x, y))
    pts, mass = res.moved[["x", "y"]].to_numpy(), res.moved["mass"].to_numpy()
    w2_t = ot.emd2(np.full(n, 1 / n), mass / mass.sum(), ot.dist(x, pts))
    assert w2_t == pytest.approx(t**2 * w2_sq, rel=1e-7)
    assert res.w2 == pytest.approx(np.sqrt(w2_sq)) and res.w2_to_moved == pytest.approx(t * np.sqrt(w2_sq), rel=1e-6)
    assert res.mixture["mass"].sum() == pytest.approx(1.0) and res.moved["mass"].sum() == pytest.approx(1.0)
    assert set(res.plans["cost"]) == {"W1 plan", "W2 plan"}


def test_interpolant_ends_are_the_clouds():
    x, y = point_cloud("gaussian", 25, seed=0), point_cloud("moons", 25, seed=1)
    start, end = displacement_interpolation(x, y, t=0.0), displacement_interpolation(x, y, t=1.0)
    key = lambda p: np.lexsort(p.T[::-1])  # noqa: E731
    for res, cloud in ((start, x), (end, y)):
        pts = res.moved[["x", "y"]].to_numpy()
        np.testing.assert_allclose(pts[key(pts)], cloud[key(cloud)], atol=1e-12)
    with pytest.raises(ValueError, match=r"`t` must be <= 1"):
        displacement_interpolation(x, y, t=1.5)
