"""Tests for core.learnability.pac: PAC sample bounds against hand computations and their definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.learnability.pac import BOUND_NAMES, pac_bound_curve, pac_sample_bound

# ---------------------------------------------------------------------------------------------------------------
# PAC bounds
# ---------------------------------------------------------------------------------------------------------------


def test_pac_numbers_by_hand() -> None:
    # |H| = 1000, eps = 0.1, delta = 0.05.
    # finite, realisable: (ln 1000 + ln 20) / 0.1 = (6.907755 + 2.995732) / 0.1 = 99.0349 -> 100
    assert pac_sample_bound(eps=0.1, delta=0.05, h_size=1000) == 100
    # agnostic, ERM within eps of the best in H (Shalev-Shwartz & Ben-David, Cor. 4.6):
    # 2 ln(2 * 1000 / 0.05) / 0.1^2 = 2 * ln 40000 / 0.01 = 2 * 10.596635 / 0.01 = 2119.33 -> 2120
    assert pac_sample_bound(eps=0.1, delta=0.05, h_size=1000, realizable=False) == 2120
    # agnostic, uniform convergence only: (ln 1000 + ln 40) / (2 * 0.1^2) = 10.596635 / 0.02 = 529.83 -> 530
    assert pac_sample_bound(eps=0.1, delta=0.05, h_size=1000, realizable=False, uniform=True) == 530
    # VC d = 10, Blumer et al. Thm 2.1(ii)(b): max(4 log2 40 / 0.1, 8 * 10 * log2 130 / 0.1)
    #          = max(4 * 5.321928 / 0.1, 80 * 7.022368 / 0.1) = max(212.88, 5617.89) -> 5618
    assert pac_sample_bound(eps=0.1, delta=0.05, vc_dim=10) == 5618
    # the textbook sum of the two terms (Mitchell 1997, eq. 7.7): 212.877 + 5617.895 = 5830.77 -> 5831
    assert pac_sample_bound(eps=0.1, delta=0.05, vc_dim=10, vc_form="sum") == 5831
    # small d: the confidence term wins the max. d = 0: max(4 log2 40 / 0.1, 0) = 212.88 -> 213
    assert pac_sample_bound(eps=0.1, delta=0.05, vc_dim=0) == 213


@pytest.mark.parametrize("h_size", [1, 2, 1000, 3.0**40])
@pytest.mark.parametrize("eps", [0.01, 0.1, 0.3])
@pytest.mark.parametrize("delta", [0.001, 0.05, 0.5])
def test_finite_bounds_are_the_smallest_m_of_the_union_bound(h_size: float, eps: float, delta: float) -> None:
    # Closed-form oracle: realisable m is the smallest integer with |H| exp(-eps m) <= delta; uniform
    # convergence the smallest with 2 |H| exp(-2 m eps^2) <= delta (Hoeffding + union bound); ERM within eps of
    # the best needs eps/2-uniform convergence: the smallest m with 2 |H| exp(-2 m (eps/2)^2) <= delta.
    m = pac_sample_bound(eps=eps, delta=delta, h_size=h_size)
    assert h_size * math.exp(-eps * m) <= delta * (1 + 1e-9)
    assert m == 0 or h_size * math.exp(-eps * (m - 1)) > delta
    m = pac_sample_bound(eps=eps, delta=delta, h_size=h_size, realizable=False, uniform=True)
    assert 2 * h_size * math.exp(-2 * m * eps**2) <= delta * (1 + 1e-9)
    assert 2 * h_size * math.exp(-2 * (m - 1) * eps**2) > delta
    m_erm = pac_sample_bound(eps=eps, delta=delta, h_size=h_size, realizable=False)
    assert 2 * h_size * math.exp(-2 * m_erm * (eps / 2) ** 2) <= delta * (1 + 1e-9)
    assert 2 * h_size * math.exp(-2 * (m_erm - 1) * (eps / 2) ** 2) > delta
    assert 4 * m - 4 <= m_erm <= 4 * m  # four times the uniform-convergence size, up to rounding


@pytest.mark.parametrize("d", [0, 1, 3, 10, 100])
@pytest.mark.parametrize("eps", [0.01, 0.1, 0.4])
def test_vc_bound_is_blumers_max_and_the_sum_at_most_twice_it(d: int, eps: float) -> None:
    first, second = 4 / eps * math.log2(2 / 0.05), 8 * d / eps * math.log2(13 / eps)  # the theorem's two terms
    m_max = pac_sample_bound(eps=eps, delta=0.05, vc_dim=d)
    m_sum = pac_sample_bound(eps=eps, delta=0.05, vc_dim=d, vc_form="sum")
    assert m_max == math.ceil(max(first, second) - 1e-9)
    assert m_sum == math.ceil(first + second - 1e-9)
    assert m_max <= m_sum <= 2 * m_max


def test_bounds_shrink_with_eps_and_delta_and_grow_with_class_size() -> None:
    agnostic = {"h_size": 1e6, "realizable": False}
    # the max form of the VC bound ignores delta while the d-term dominates, so use the sum form here
    for kwargs in ({"h_size": 1e6}, agnostic, {**agnostic, "uniform": True}, {"vc_dim": 20, "vc_form": "sum"}):
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
    assert list(df.columns) == ["eps", "bound", "m"] and len(df) == 20
    assert set(df["bound"]) == set(BOUND_NAMES)
    at = df[np.isclose(df["eps"], 0.1)].set_index("bound")["m"]
    assert at["VC, realisable"] == pac_sample_bound(eps=0.1, delta=0.05, vc_dim=10)
    assert at["finite, agnostic (ERM)"] == pac_sample_bound(eps=0.1, delta=0.05, h_size=1000, realizable=False)
    assert at["finite, uniform convergence"] == pac_sample_bound(
        eps=0.1, delta=0.05, h_size=1000, realizable=False, uniform=True
    )
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
        ({"eps": 0.1, "delta": 0.05, "h_size": 10, "uniform": True}, "pass realizable=False with it"),
        ({"eps": 0.1, "delta": 0.05, "vc_dim": 3, "vc_form": "mean"}, "`vc_form` must be one of 'max', 'sum'"),
    ],
)
def test_bad_pac_arguments_say_what_to_pass(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        pac_sample_bound(**kwargs)
