"""Tests for core.mdl.refined: the Bayesian mixture and prequential codes against scipy and hand computations."""

import numpy as np
import pytest
from numpy.polynomial import legendre
from scipy.stats import multivariate_normal, norm

from core.mdl.refined import mixture_bits, picks_over_seeds, prequential_bits, refined_code_lengths
from core.mdl.two_part import polynomial_data, polynomial_description_lengths


def data(n=25, degree=2, noise=0.4, seed=0):
    d = polynomial_data(degree=degree, noise=noise, n=n, seed=seed)
    return d["x"].to_numpy(), d["y"].to_numpy()


def test_mixture_code_is_minus_log2_of_scipys_marginal_density():
    x, y = data()
    for degree, s in ((0, 1.0), (3, 0.5), (8, 2.0)):
        V = legendre.legvander(2 * (x - x.min()) / (x.max() - x.min()) - 1, degree)
        cov = 0.4**2 * np.eye(x.size) + s**2 * V @ V.T
        ref = -multivariate_normal(np.zeros(x.size), cov).logpdf(y) / np.log(2) - x.size * np.log2(0.01)
        assert mixture_bits(x, y, degree=degree, noise=0.4, prior_scale=s) == pytest.approx(ref, rel=1e-10)


def test_prequential_code_by_hand_for_a_constant_model():
    # degree 0, sigma = 1, s = 1, blocks [y1], [y2], [y3, y4]; the MAP constant of m points is sum / (m + 1)
    x, y = np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.5, 1.5, -0.2, 0.9])
    nats = -norm(0, np.sqrt(2.0)).logpdf(y[0])  # the prior predictive: N(0, sigma^2 + s^2)
    nats -= norm(y[0] / 2, 1.0).logpdf(y[1])
    nats -= norm(y[:2].sum() / 3, 1.0).logpdf(y[2:]).sum()
    ref = nats / np.log(2) - 4 * np.log2(0.01)
    assert prequential_bits(x, y, degree=0, noise=1.0, prior_scale=1.0, first_block=1) == pytest.approx(ref)


def test_one_block_prequential_is_the_mixture_code():
    x, y = data(n=12)
    assert prequential_bits(x, y, degree=3, noise=0.4, first_block=12) == pytest.approx(
        mixture_bits(x, y, degree=3, noise=0.4)
    )


def test_refined_codes_table_and_picks():
    x, y = data(n=60, degree=3, noise=0.1, seed=1)
    df = refined_code_lengths(x, y, max_degree=8, noise=0.1)
    assert set(df["code"]) == {"two-part (BIC)", "Bayes mixture", "prequential"}
    two = df[df["code"] == "two-part (BIC)"]["bits"].to_numpy()
    np.testing.assert_allclose(two, polynomial_description_lengths(x, y, max_degree=8)["total_bits"])
    picks = df[df["picked"]].set_index("code")["degree"]
    assert (picks == 3).all()  # clear data: every code finds the cubic
    assert (df.groupby("code")["excess_bits"].min() == 0).all()


def test_picks_over_seeds_count_every_data_set_once():
    out = picks_over_seeds(degree=2, noise=0.5, n=15, max_degree=5, seeds=4)
    assert (out.groupby("code")["count"].sum() == 4).all()
    assert out["share"].between(0, 1).all()


def test_bad_input_messages():
    x, y = data(n=10)
    with pytest.raises(ValueError, match="`noise` must be > 0"):
        mixture_bits(x, y, degree=2, noise=0.0)
    with pytest.raises(ValueError, match="same length"):
        prequential_bits(x, y[:-1], degree=2, noise=1.0)
    with pytest.raises(ValueError, match="`first_block` must be >= 1"):
        prequential_bits(x, y, degree=2, noise=1.0, first_block=0)
    with pytest.raises(ValueError, match="distinct values"):
        mixture_bits(np.ones(5), np.arange(5.0), degree=1, noise=1.0)
