"""Tests of core/emergence.py: the metric identities, the sharp exact-match curve, and the computed addition example."""

from __future__ import annotations

import numpy as np
import pytest

from core.universality.emergence import (
    METRICS,
    AdditionConfig,
    addition_summary,
    exact_match,
    metric_curves,
    per_token_accuracy,
    per_token_accuracy_steady,
    rise_decades,
    sampled_metric_curves,
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


def test_steady_accuracy_is_a_line_in_log_size():
    N = np.array([1e7, 1e8, 10**9.5, 1e12, 1e13])
    p = per_token_accuracy_steady(N, scale_range=(1e7, 1e12), p_range=(0.5, 0.999))
    np.testing.assert_allclose(p, [0.5, 0.5 + 0.499 / 5, 0.5 + 0.499 / 2, 0.999, 0.999])  # clipped past N_1
    with pytest.raises(ValueError, match="`p_range` must be"):
        per_token_accuracy_steady(1e8, p_range=(0.9, 0.5))
    with pytest.raises(ValueError, match="`model` must be one of"):
        metric_curves(model="logistic")


def test_rise_decades_matches_the_closed_forms():
    # power-law loss: exact match exp(-L (N/c)^-alpha) goes 5% -> 95% over log10(ln 20 / ln(1/0.95)) / alpha
    # decades, whatever L (L only shifts it); per-token accuracy is the same curve with L = 1
    for L, alpha in ((10, 0.5), (50, 1.0)):
        curves = metric_curves(length=L, alpha=alpha, scale_range=(1e5, 1e14), n_points=3001)
        expected = np.log10(np.log(20) / -np.log(0.95)) / alpha
        assert rise_decades(curves, "exact match") == pytest.approx(expected, abs=0.01)
    # steady accuracy: p^L = q at p = q^(1/L); p linear in log10 N
    curves = metric_curves(length=20, model="steady accuracy", n_points=3001)
    expected = 5 * (0.95 ** (1 / 20) - 0.05 ** (1 / 20)) / 0.499
    assert rise_decades(curves, "exact match") == pytest.approx(expected, abs=0.01)
    short = metric_curves(length=50, model="steady accuracy", p_range=(0.5, 0.99))  # tops out at 0.99^50 = 0.61
    assert rise_decades(short, "exact match") is None
    with pytest.raises(ValueError, match="`metric` must be one of"):
        rise_decades(curves, "token edit distance")


def test_finite_test_sets_quantise_exact_match_and_average_to_p_to_the_L():
    df = sampled_metric_curves(length=20, n_tests=(10, 20_000), n_models=9, model="steady accuracy", seed=1)
    assert set(df.n_test) == {10, 20_000} and set(df.metric) == set(METRICS)
    em = df[df.metric == "exact match"]
    small = em[em.n_test == 10]
    assert np.allclose(small.value * 10, np.round(small.value * 10))  # resolution 1/n_test
    assert set(small.value[small.value > 0]) and small.value[small.value > 0].min() >= 0.1
    big = em[em.n_test == 20_000]
    sd = np.sqrt(big.expected * (1 - big.expected) / 20_000)
    assert np.all(np.abs(big.value - big.expected) <= 5 * sd + 1e-12)  # binomial error of 20,000 items
    np.testing.assert_allclose(big.expected, df[(df.metric == "per-token accuracy") & (df.n_test == 10)].expected ** 20)
    ed = df[(df.metric == "token edit distance") & (df.n_test == 20_000)]
    np.testing.assert_allclose(ed.value, ed.expected, rtol=0.05)
    # unbiased: the mean over many 10-item benchmarks is p^L
    means = np.mean(
        [sampled_metric_curves(length=20, n_tests=(10,), n_models=9, model="steady accuracy", seed=s)
         .query("metric == 'exact match'").value.to_numpy() for s in range(300)], axis=0
    )  # fmt: skip
    np.testing.assert_allclose(means, small.expected.to_numpy(), atol=0.03)
    with pytest.raises(ValueError, match="`n_tests` must list"):
        sampled_metric_curves(n_tests=())


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
