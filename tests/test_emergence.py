"""Tests of core/emergence.py: the metric identities, the sharp exact-match curve, and the computed addition example."""

from __future__ import annotations

import numpy as np
import pytest

from core.emergence import (
    METRICS,
    AdditionConfig,
    addition_summary,
    exact_match,
    metric_curves,
    per_token_accuracy,
    scale_at,
    token_edit_distance,
    train_addition_models,
)

TINY = AdditionConfig(digits=3, widths=(4, 128), steps=300, batch=128, n_test=1000, seed=0)


@pytest.fixture(scope="module")
def addition():
    records = []
    result = train_addition_models(TINY, callback=records.append)
    return result.pivot(index="width", columns="metric", values="value"), records


def test_per_token_accuracy_is_exp_minus_a_power_law():
    assert per_token_accuracy(1e7, c=1e7, alpha=0.3) == pytest.approx(np.exp(-1))  # loss 1 nat at N = c
    N = np.geomspace(1e5, 1e13, 50)
    p = per_token_accuracy(N, c=1e7, alpha=0.3)
    assert np.all(np.diff(p) > 0) and np.all((p > 0) & (p < 1))
    loss = -np.log(p)
    np.testing.assert_allclose(np.diff(np.log(loss)) / np.diff(np.log(N)), -0.3)  # slope -alpha on log-log


def test_exact_match_and_edit_distance_identities():
    p = np.array([0.0, 0.5, 0.9, 1.0])
    np.testing.assert_allclose(exact_match(p, 1), p)
    np.testing.assert_allclose(exact_match(p, 3), p**3)
    assert exact_match(0.9, 10) == pytest.approx(0.3486784401)
    np.testing.assert_allclose(token_edit_distance(p, 4), [4.0, 2.0, 0.4, 0.0])
    # longer targets: exact match can only fall, edit distance only grow
    assert np.all(np.diff([exact_match(0.8, L) for L in range(1, 20)]) < 0)
    assert np.all(np.diff([token_edit_distance(0.8, L) for L in range(1, 20)]) > 0)


def test_metric_curves_long_format_and_the_mirage():
    df = metric_curves(length=10, n_points=201)
    assert set(df.metric) == set(METRICS) and len(df) == 3 * 201
    wide = df.pivot(index="scale", columns="metric", values="value")
    np.testing.assert_allclose(wide["exact match"], wide["per-token accuracy"] ** 10)
    assert np.all(np.diff(wide["token edit distance"]) < 0)  # smooth, monotone improvement
    # the same models: per-token accuracy passes 50% decades before exact match does
    half_token, half_exact = scale_at(df, "per-token accuracy", 0.5), scale_at(df, "exact match", 0.5)
    # p = 1/2 at x = ln 2 and p^10 = 1/2 at x = ln 2 / 10, with x = (N/c)^-alpha: a factor 10^(1/alpha) in N
    assert half_exact / half_token == pytest.approx(10 ** (1 / 0.5), rel=0.1)
    # where per-token accuracy is already 70%, exact match still reads ~3%
    at = wide[wide["per-token accuracy"] >= 0.7].iloc[0]
    assert at["exact match"] < 0.03


def test_the_computed_addition_example(addition):
    wide, records = addition
    small, big = wide.loc[4], wide.loc[128]
    assert big["per-digit accuracy"] > small["per-digit accuracy"] + 0.2
    assert big["exact match"] > small["exact match"]
    L = TINY.digits + 1
    for row in (small, big):
        assert row["exact match"] <= row["per-digit accuracy"]
        # the mean number of wrong digits is exactly L (1 - mean per-digit accuracy)
        assert row["digit edit distance"] == pytest.approx(L * (1 - row["per-digit accuracy"]), abs=1e-5)
        assert row["p^L"] == pytest.approx(row["per-digit accuracy"] ** L)
    assert records[-1]["progress"] == 1.0 and {"width", "n_params", "step", "loss"} <= set(records[0])
    assert [r["progress"] for r in records] == sorted(r["progress"] for r in records)


def test_addition_summary_reads_the_story(addition):
    wide, _ = addition
    long = wide.reset_index().melt(id_vars="width", var_name="metric", value_name="value")
    s = addition_summary(long)
    assert (s.smallest, s.largest) == (4, 128)
    assert s.digit_acc == pytest.approx((wide.loc[4, "per-digit accuracy"], wide.loc[128, "per-digit accuracy"]))
    assert s.max_gap_independent == pytest.approx((wide["exact match"] - wide["p^L"]).abs().max())
    if s.last_flat_width is not None:
        assert wide.loc[s.last_flat_width, "exact match"] < 0.05
    with pytest.raises(ValueError, match="`result` must be the output of train_addition_models"):
        addition_summary(long.drop(columns="metric"))


def test_addition_is_deterministic_with_its_seed(addition):
    again = train_addition_models(TINY).pivot(index="width", columns="metric", values="value")
    np.testing.assert_allclose(again.to_numpy(), addition[0].to_numpy())


def test_bad_inputs_give_clear_messages():
    with pytest.raises(ValueError, match="`scale` must be > 0"):
        per_token_accuracy([1e6, 0.0])
    with pytest.raises(ValueError, match="`per_token` must be accuracies in"):
        exact_match([0.5, 1.2], 3)
    with pytest.raises(ValueError, match="`length` must be >= 1"):
        token_edit_distance(0.5, 0)
    with pytest.raises(ValueError, match="`alpha` must be > 0"):
        metric_curves(alpha=0.0)
    with pytest.raises(ValueError, match="`widths` must list"):
        train_addition_models(AdditionConfig(widths=()))
    with pytest.raises(TypeError, match="`config` must be an AdditionConfig"):
        train_addition_models({"digits": 3})
