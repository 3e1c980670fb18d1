"""Tests for core.learnability: PAC sample bounds and sparse parity learned by SGD."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.learnability import (
    BOUND_NAMES,
    fit_exponents,
    pac_bound_curve,
    pac_sample_bound,
    parity_noise_curves,
    sparse_parity_run,
    steps_to_accuracy,
    steps_to_target,
)

# ---------------------------------------------------------------------------------------------------------------
# PAC bounds
# ---------------------------------------------------------------------------------------------------------------


def test_three_pac_numbers_by_hand() -> None:
    # |H| = 1000, eps = 0.1, delta = 0.05.
    # finite, realisable: (ln 1000 + ln 20) / 0.1 = (6.907755 + 2.995732) / 0.1 = 99.0349 -> 100
    assert pac_sample_bound(eps=0.1, delta=0.05, h_size=1000) == 100
    # finite, agnostic: (ln 1000 + ln 40) / (2 * 0.1^2) = (6.907755 + 3.688879) / 0.02 = 529.83 -> 530
    assert pac_sample_bound(eps=0.1, delta=0.05, h_size=1000, realizable=False) == 530
    # VC d = 10: (4 log2 40 + 8 * 10 * log2 130) / 0.1 = (4 * 5.321928 + 80 * 7.022368) / 0.1
    #          = (21.287712 + 561.789433) / 0.1 = 5830.77 -> 5831
    assert pac_sample_bound(eps=0.1, delta=0.05, vc_dim=10) == 5831


@pytest.mark.parametrize("h_size", [1, 2, 1000, 3.0**40])
@pytest.mark.parametrize("eps", [0.01, 0.1, 0.3])
@pytest.mark.parametrize("delta", [0.001, 0.05, 0.5])
def test_finite_bounds_are_the_smallest_m_of_the_union_bound(h_size: float, eps: float, delta: float) -> None:
    # Closed-form oracle: realisable m is the smallest integer with |H| exp(-eps m) <= delta,
    # agnostic m the smallest with 2 |H| exp(-2 m eps^2) <= delta (Hoeffding + union bound).
    m = pac_sample_bound(eps=eps, delta=delta, h_size=h_size)
    assert h_size * math.exp(-eps * m) <= delta * (1 + 1e-9)
    assert m == 0 or h_size * math.exp(-eps * (m - 1)) > delta
    m = pac_sample_bound(eps=eps, delta=delta, h_size=h_size, realizable=False)
    assert 2 * h_size * math.exp(-2 * m * eps**2) <= delta * (1 + 1e-9)
    assert 2 * h_size * math.exp(-2 * (m - 1) * eps**2) > delta


def test_bounds_shrink_with_eps_and_delta_and_grow_with_class_size() -> None:
    for kwargs in ({"h_size": 1e6}, {"h_size": 1e6, "realizable": False}, {"vc_dim": 20}):
        by_eps = [pac_sample_bound(eps=e, delta=0.05, **kwargs) for e in (0.01, 0.02, 0.05, 0.1, 0.3)]
        by_delta = [pac_sample_bound(eps=0.1, delta=d, **kwargs) for d in (0.001, 0.01, 0.05, 0.2, 0.5)]
        assert by_eps == sorted(by_eps, reverse=True) and by_eps[0] > by_eps[-1]
        assert by_delta == sorted(by_delta, reverse=True) and by_delta[0] > by_delta[-1]
    sizes = [pac_sample_bound(eps=0.1, delta=0.05, h_size=h) for h in (10, 1e3, 1e9)]
    dims = [pac_sample_bound(eps=0.1, delta=0.05, vc_dim=d) for d in (1, 10, 100)]
    assert sizes == sorted(sizes) and dims == sorted(dims)
    # the agnostic rate 1/eps^2 overtakes the realisable 1/eps: 100x more at eps = 0.01 vs 10x at eps = 0.1
    assert pac_sample_bound(eps=0.01, delta=0.05, h_size=1e6, realizable=False) > 50 * pac_sample_bound(
        eps=0.01, delta=0.05, h_size=1e6
    )


def test_bound_curve_is_long_format_and_matches_the_scalar_bound() -> None:
    df = pac_bound_curve(delta=0.05, h_size=1000, vc_dim=10, eps_min=0.05, eps_max=0.2, num=5)
    assert list(df.columns) == ["eps", "bound", "m"] and len(df) == 15
    assert set(df["bound"]) == set(BOUND_NAMES)
    row = df[(df["bound"] == "VC, realisable") & np.isclose(df["eps"], 0.1)]
    assert row["m"].item() == pac_sample_bound(eps=0.1, delta=0.05, vc_dim=10)
    for _, g in df.groupby("bound"):
        assert g["m"].is_monotonic_decreasing


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"eps": 0.1, "delta": 0.05}, "exactly one of `h_size`"),
        ({"eps": 0.1, "delta": 0.05, "h_size": 10, "vc_dim": 3}, "exactly one of `h_size`"),
        ({"eps": 0.0, "delta": 0.05, "h_size": 10}, "`eps` must be > 0"),
        ({"eps": 0.1, "delta": 1.0, "h_size": 10}, "`delta` must be < 1"),
        ({"eps": 0.1, "delta": 0.05, "h_size": 0.5}, "`h_size` must be >= 1"),
        ({"eps": 0.1, "delta": 0.05, "vc_dim": -1}, "`vc_dim` must be >= 0"),
        ({"eps": 0.1, "delta": 0.05, "vc_dim": 3, "realizable": False}, "finite classes only: pass `h_size`"),
    ],
)
def test_bad_pac_arguments_say_what_to_pass(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        pac_sample_bound(**kwargs)


# ---------------------------------------------------------------------------------------------------------------
# Sparse parity
# ---------------------------------------------------------------------------------------------------------------


def test_small_parity_is_learned_and_the_run_reports_progress() -> None:
    records: list[dict] = []
    df = sparse_parity_run(n_bits=10, k=2, width=64, steps=200, eval_every=20, seed=0, callback=records.append)
    assert list(df.columns) == ["step", "loss", "test_acc"]
    assert df["step"].tolist() == list(range(20, 201, 20))
    assert df["test_acc"].iloc[0] < 0.8  # chance level before learning
    assert df["test_acc"].iloc[-1] >= 0.95
    assert len(df.attrs["support"]) == 2 and all(0 <= i < 10 for i in df.attrs["support"])
    assert records and records[-1]["progress"] == 1.0
    assert all(0 <= r["progress"] <= 1 for r in records)


def test_same_seed_same_run() -> None:
    a = sparse_parity_run(n_bits=8, k=2, width=16, steps=40, eval_every=10, seed=3)
    b = sparse_parity_run(n_bits=8, k=2, width=16, steps=40, eval_every=10, seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs["support"] == b.attrs["support"]


def test_label_noise_slows_learning() -> None:
    curves = parity_noise_curves(n_bits=10, k=2, noise=0.45, steps=160, width=64, eval_every=20)
    assert set(curves["noise"]) == {0.0, 0.45}
    summary = steps_to_target(curves, target=0.95)
    clean, noisy = summary.set_index("noise")["steps_to_target"].loc[[0.0, 0.45]]
    assert clean <= 160
    assert np.isnan(noisy) or noisy > clean


def test_steps_grow_with_n_on_a_tiny_sweep() -> None:
    records: list[dict] = []
    sweep = steps_to_accuracy(ns=(6, 40), ks=(2,), width=64, max_steps=3000, callback=records.append)
    assert list(sweep.columns) == ["n", "k", "steps_to_99", "seconds", "final_acc"]
    assert sweep["steps_to_99"].notna().all()
    small, large = sweep.sort_values("n")["steps_to_99"]
    assert large > small
    assert {"progress", "series", "step", "test_acc"} <= set(records[-1])


def test_unreached_target_warns_with_the_knob_and_gives_nan() -> None:
    with pytest.warns(UserWarning, match="increase `max_steps`"):
        sweep = steps_to_accuracy(ns=(20,), ks=(3,), width=16, max_steps=10)
    assert sweep["steps_to_99"].isna().all()


def test_fit_exponents_recovers_a_known_power_law() -> None:
    n = np.array([10, 20, 40, 80])
    sweep = pd.DataFrame(
        {"n": np.r_[n, n, 160], "k": [2] * 4 + [3] * 5, "steps_to_99": np.r_[5 * n**2.0, 0.5 * n**3.0, np.nan]}
    )
    fits = fit_exponents(sweep).set_index("k")
    assert fits.loc[2, "exponent"] == pytest.approx(2.0)
    assert fits.loc[2, "prefactor"] == pytest.approx(5.0)
    assert fits.loc[3, "exponent"] == pytest.approx(3.0)
    assert fits.loc[3, "n_points"] == 4  # the NaN row (not reached) is left out


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_bits": 10, "k": 11}, "`k` must be <= 10"),
        ({"n_bits": 10, "k": 2, "noise": 0.5}, "`noise` must be < 0.5"),
        ({"n_bits": 10, "k": 2, "lr": 0.0}, "`lr` must be > 0"),
    ],
)
def test_bad_parity_arguments(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        sparse_parity_run(steps=1, **kwargs)


def test_sweep_rejects_k_larger_than_n() -> None:
    with pytest.raises(ValueError, match="Every k must be <= every n"):
        steps_to_accuracy(ns=(2, 10), ks=(3,))
