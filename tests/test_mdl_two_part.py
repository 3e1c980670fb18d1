import math
import warnings

import numpy as np
import pytest

from core.mdl.two_part import (
    CRITERIA,
    newton_coefficients,
    penalty_code_lengths,
    polynomial_data,
    polynomial_description_lengths,
    polynomial_fits,
    rule_with_exceptions,
    select_degree,
    selection_scores,
    thousand_numbers_code,
)


def _xy(degree=3, noise=0.1, n=200, seed=0):
    d = polynomial_data(degree=degree, noise=noise, n=n, seed=seed)
    return d["x"].to_numpy(), d["y"].to_numpy()


@pytest.mark.parametrize("degree", [0, 1, 2, 3, 5])
def test_mdl_finds_true_degree_on_clear_data(degree):
    x, y = _xy(degree=degree, noise=0.1, n=200, seed=degree)
    assert select_degree(x, y, max_degree=10, criterion="mdl") == degree


def test_model_bits_formula():
    x, y = _xy(n=64)
    dl = polynomial_description_lengths(x, y, max_degree=6)
    np.testing.assert_allclose(dl["model_bits"], (dl["degree"] + 1) / 2 * np.log2(64))
    np.testing.assert_allclose(dl["total_bits"], dl["model_bits"] + dl["data_bits"])


def test_data_bits_match_numpy_polyfit_residuals():
    # Oracle: RSS from numpy's own least-squares polynomial fit in the monomial basis.
    x, y = _xy(n=80, noise=0.3)
    dl = polynomial_description_lengths(x, y, max_degree=5)
    for d in range(6):
        rss = float(np.sum((y - np.polyval(np.polyfit(x, y, d), x)) ** 2))
        expected = 80 / 2 * np.log2(2 * np.pi * np.e * rss / 80)
        assert dl.loc[d, "data_bits"] == pytest.approx(expected, rel=1e-8)


def test_total_bits_is_bic_over_2ln2_up_to_a_constant():
    x, y = _xy(n=150, noise=0.5, seed=3)
    dl = polynomial_description_lengths(x, y, max_degree=9)
    # An independent BIC: n ln(RSS/n) + k ln n (drops constants that do not depend on the degree).
    n = x.size
    rss = np.array([np.sum((y - np.polyval(np.polyfit(x, y, d), x)) ** 2) for d in range(10)])
    bic = n * np.log(rss / n) + (np.arange(10) + 1) * np.log(n)
    np.testing.assert_allclose(np.diff(dl["total_bits"]), np.diff(bic) / (2 * np.log(2)), rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(dl["total_bits"], dl["bic"] / (2 * np.log(2)))


def test_criteria_pick_sensible_degrees():
    x, y = _xy(degree=3, noise=0.2, n=100, seed=7)
    picks = {c: select_degree(x, y, max_degree=10, criterion=c, seed=0) for c in CRITERIA}
    assert picks["mdl"] == picks["bic"] == 3
    assert 3 <= picks["aic"] <= 6
    assert 3 <= picks["cv"] <= 6
    # A smaller penalty per parameter never picks a smaller model: AIC (2 per k) >= BIC (ln n per k) when n > e^2.
    for seed in range(5):
        x, y = _xy(degree=2, noise=1.0, n=30, seed=seed)
        assert select_degree(x, y, max_degree=8, criterion="aic") >= select_degree(x, y, max_degree=8, criterion="bic")


def test_selection_scores_agree_with_select_degree_and_are_seeded():
    x, y = _xy(degree=2, noise=0.5, n=60, seed=1)
    s = selection_scores(x, y, max_degree=8, seed=4)
    for c in CRITERIA:
        picked = s[(s["criterion"] == c) & s["picked"]]
        assert len(picked) == 1
        assert int(picked["degree"].iloc[0]) == select_degree(x, y, max_degree=8, criterion=c, seed=4)
        assert s.loc[s["criterion"] == c, "excess_bits"].min() == 0.0
    assert s.equals(selection_scores(x, y, max_degree=8, seed=4))


def test_fits_recover_an_exact_polynomial():
    x = np.linspace(-2.0, 3.0, 12)
    y = 1.0 - 2.0 * x + 0.5 * x**2
    fits = polynomial_fits(x, y, degrees=(1, 2), n_grid=7)
    assert len(fits) == 14
    quad = fits[fits["degree"] == 2]
    np.testing.assert_allclose(quad["y_hat"], 1.0 - 2.0 * quad["x"] + 0.5 * quad["x"] ** 2, atol=1e-9)
    np.testing.assert_allclose(quad["x"], np.linspace(-2.0, 3.0, 7))


def test_thousand_numbers_by_hand():
    v = rule_with_exceptions(n=1000, slope=3, intercept=7, n_exceptions=5, seed=0)
    assert np.sum(v != 3 * np.arange(1000) + 7) == 5
    bits = thousand_numbers_code(v).set_index("scheme")["bits"]
    assert bits["verbatim"] == 16_000
    # rule: a, b as signed 17-bit ints; count in ceil(log2 1001) = 10 bits; 5 x (10 position + 16 value)
    assert bits["rule + exceptions"] == 2 * 17 + 10 + 5 * (10 + 16) == 174
    assert bits["interpolating polynomial"] > bits["verbatim"]
    clean = thousand_numbers_code(rule_with_exceptions(n_exceptions=0)).set_index("scheme")["bits"]
    assert clean["rule + exceptions"] == 44
    # Without exceptions the interpolant is the line itself: coefficients 7, 3 then 998 zeros at 1 bit each.
    # 7 -> sign 1 + gamma(4) 5 + 3 magnitude = 9 bits; 3 -> 1 + gamma(3) 3 + 2 = 6 bits.
    assert clean["interpolating polynomial"] == 9 + 6 + 998


def test_tiny_sequence_by_hand():
    bits = thousand_numbers_code(np.array([7, 10, 13]), value_bits=16).set_index("scheme")["bits"]
    assert bits["verbatim"] == 48
    assert bits["rule + exceptions"] == 2 * 17 + 2  # count 0 in ceil(log2 4) = 2 bits
    assert bits["interpolating polynomial"] == 9 + 6 + 1
    assert bits["polynomial, values at the nodes"] == 48  # the Lagrange basis: the polynomial's values are the data


def test_newton_coefficients_reproduce_the_values():
    rng = np.random.default_rng(0)
    v = rng.integers(0, 2**16, 40)
    c = newton_coefficients(v)
    for i in range(40):
        assert sum(ck * math.comb(i, k) for k, ck in enumerate(c)) == v[i]


def test_map_fit_minimises_data_plus_weight_bits():
    x, y = _xy(degree=3, noise=0.3, n=60, seed=0)
    df = penalty_code_lengths(x, y, degree=10, noise=0.3, prior_scale=1.0, n_lambdas=15)
    for kind, tol in (("L2", 1e-9), ("L1", 1e-4)):
        part = df[df["penalty"] == kind].sort_values("lam")
        at_map = part.loc[part["is_map"], "total_bits"]
        assert len(at_map) == 1
        assert at_map.iloc[0] <= part["total_bits"].min() + tol
        # More shrinkage: weights cost fewer bits, data cost more.
        assert np.all(np.diff(part["weight_bits"]) <= 1e-6)
        assert np.all(np.diff(part["data_bits"]) >= -1e-6)
    lam_l2 = df.loc[(df["penalty"] == "L2") & df["is_map"], "lam"].iloc[0]
    assert lam_l2 == pytest.approx(0.3**2)


def test_bad_input_messages():
    x, y = _xy(n=20)
    with pytest.raises(ValueError, match="same length"):
        polynomial_description_lengths(x, y[:-1], max_degree=3)
    with pytest.raises(ValueError, match="distinct values"):
        polynomial_description_lengths(x[:5], y[:5], max_degree=4)
    y_nan = y.copy()
    y_nan[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        select_degree(x, y_nan, max_degree=3)
    with pytest.raises(ValueError, match="criterion"):
        select_degree(x, y, max_degree=3, criterion="mse")
    with pytest.raises(ValueError, match="training fold"):
        select_degree(x[:8], y[:8], max_degree=5, criterion="cv")
    with pytest.raises(ValueError, match="values"):
        thousand_numbers_code(np.array([1, 2, 70_000]))
    with pytest.raises(ValueError, match="noise"):
        penalty_code_lengths(x, y, degree=3, noise=0.0)


def test_l1_fits_match_sklearn_lasso_and_raise_no_warning():
    from numpy.polynomial import legendre
    from sklearn.linear_model import Lasso

    x, y = _xy(degree=3, noise=0.3, n=40, seed=1)
    with warnings.catch_warnings():  # a test may do this; core must not (and must not warn at these settings)
        warnings.simplefilter("error")
        df = penalty_code_lengths(x, y, degree=6, noise=0.3, prior_scale=1.0, precision=0.01, n_lambdas=5)
    X = legendre.legvander(2 * (x - x.min()) / (x.max() - x.min()) - 1, 6)  # (40, 7)
    sigma2, n, p = 0.3**2, x.size, 7
    const = 0.5 * n * np.log2(2 * np.pi * sigma2) - n * np.log2(0.01) + p * np.log2(2.0) - p * np.log2(0.01)
    for row in df[df["penalty"] == "L1"].itertuples():
        ref = Lasso(alpha=row.lam / (2 * n), fit_intercept=False, tol=1e-14, max_iter=1_000_000).fit(X, y)
        r = y - X @ ref.coef_
        # the weights are fitted at lam but always priced under the prior: |w|_1 / (s ln 2) bits with s = 1
        ref_bits = (r @ r) / (2 * sigma2 * np.log(2)) + np.abs(ref.coef_).sum() / np.log(2) + const
        assert row.total_bits == pytest.approx(ref_bits, abs=1e-6)
