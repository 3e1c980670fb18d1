"""Tests for core.information_bottleneck.theory: mutual information, the noisy channel and the Gaussian IB closed
form."""

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score

from core.information_bottleneck.theory import (
    entropy,
    gaussian_channel_covariances,
    gaussian_ib_critical_betas,
    gaussian_ib_curve,
    gaussian_mutual_information,
    mutual_information,
    noisy_channel_joint,
    read_joint_table,
)


def random_joint(n_x, n_y, seed):
    p = np.random.default_rng(seed).random((n_x, n_y))
    return p / p.sum()


# --- mutual information -----------------------------------------------------------------------------------------


def test_mi_of_independent_variables_is_zero():
    rng = np.random.default_rng(0)
    px, py = rng.random(5), rng.random(7)
    p = np.outer(px / px.sum(), py / py.sum())
    assert mutual_information(p) == pytest.approx(0.0, abs=1e-12)


def test_mi_of_a_function_equals_the_entropy_of_its_output():
    rng = np.random.default_rng(1)
    px = rng.random(8)
    px /= px.sum()
    f = np.array([0, 1, 2, 0, 1, 2, 2, 0])  # y = f(x)
    p = np.zeros((8, 3))
    p[np.arange(8), f] = px
    h_y = entropy(np.bincount(f, weights=px))
    assert mutual_information(p) == pytest.approx(h_y, abs=1e-12)


def test_mi_textbook_values():
    assert mutual_information([[0.5, 0.0], [0.0, 0.5]]) == pytest.approx(1.0)
    eps = 0.1  # binary symmetric channel with uniform input: 1 - H(eps)
    bsc = 0.5 * np.array([[1 - eps, eps], [eps, 1 - eps]])
    assert mutual_information(bsc) == pytest.approx(1 + eps * np.log2(eps) + (1 - eps) * np.log2(1 - eps))
    assert entropy(np.full(8, 1 / 8)) == pytest.approx(3.0)


def test_mi_matches_sklearn_and_is_symmetric_and_bounded():
    p = random_joint(6, 4, seed=2)
    counts = np.round(p * 1e6)
    ours = mutual_information(counts / counts.sum())
    assert ours == pytest.approx(mutual_info_score(None, None, contingency=counts) / np.log(2), rel=1e-9)
    assert mutual_information(p.T) == pytest.approx(mutual_information(p))
    assert 0 <= mutual_information(p) <= min(entropy(p.sum(1)), entropy(p.sum(0)))


@pytest.mark.parametrize(
    ("table", "match"),
    [
        ([[0.5, -0.1], [0.3, 0.3]], "nonnegative"),
        ([[0.5, np.nan], [0.25, 0.25]], "NaN"),
        ([[0.2, 0.2], [0.2, 0.2]], "sum to 1"),
        ([0.5, 0.5], "2 dimension"),
    ],
)
def test_mi_bad_input_messages(table, match):
    with pytest.raises(ValueError, match=match):
        mutual_information(table)


def test_noisy_channel_and_table_reader():
    p = noisy_channel_joint(8, 6, noise=0.2)
    assert p.shape == (8, 6) and p.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(p.sum(axis=1), 1 / 8)
    table = read_joint_table(b"x,y0,y1\na,1,3\nb,2,2\n")
    np.testing.assert_allclose(table, np.array([[1, 3], [2, 2]]) / 8)
    with pytest.raises(ValueError, match="nonnegative"):
        read_joint_table(b"1,-2\n3,4\n")
    with pytest.raises(ValueError, match="must be a number"):
        read_joint_table(b"1,2\n3,oops\n")
    with pytest.raises(ValueError, match="between 2x2"):
        read_joint_table(b"1,2\n")


# --- Gaussian IB ------------------------------------------------------------------------------------------------


def test_gaussian_mi_matches_the_determinant_formula():
    cov_x, cov_xy, cov_y = gaussian_channel_covariances([4.0, 1.0, 0.25], seed=3)
    joint = np.block([[cov_x, cov_xy], [cov_xy.T, cov_y]])
    oracle = 0.5 * np.log2(np.linalg.det(cov_x) * np.linalg.det(cov_y) / np.linalg.det(joint))
    assert gaussian_mutual_information(cov_x, cov_xy, cov_y) == pytest.approx(oracle)
    assert oracle == pytest.approx(0.5 * np.log2([5.0, 2.0, 1.25]).sum())


def test_gaussian_critical_betas_are_one_over_one_minus_lambda_and_mixing_invariant():
    snr = np.array([4.0, 1.0, 0.25])
    for seed in (None, 0, 1):
        betas = gaussian_ib_critical_betas(*gaussian_channel_covariances(snr, seed=seed))
        np.testing.assert_allclose(betas, np.sort(1 + 1 / snr))


def test_gaussian_ib_slope_is_one_over_beta_and_curve_saturates():
    covs = gaussian_channel_covariances([9.0, 2.0, 0.5], seed=2)
    i_xy = gaussian_mutual_information(*covs)
    crit = gaussian_ib_critical_betas(*covs)
    for beta in (1.5 * crit[0], np.sqrt(crit[1] * crit[2]), 2 * crit[2]):
        db = 1e-5 * beta
        df = gaussian_ib_curve(*covs, [beta - db, beta + db])
        slope = np.diff(df["i_ty"])[0] / np.diff(df["i_tx"])[0]
        assert slope == pytest.approx(1 / beta, rel=1e-4)
    far = gaussian_ib_curve(*covs, [1e9])
    assert far["i_ty"].iloc[0] == pytest.approx(i_xy, rel=1e-6)
    assert far["n_active"].iloc[0] == 3


def test_gaussian_ib_curve_is_zero_below_the_first_critical_beta_and_continuous():
    covs = gaussian_channel_covariances([3.0, 0.5])
    crit = gaussian_ib_critical_betas(*covs)
    df = gaussian_ib_curve(*covs, [0.5, 1.0, crit[0] * 0.999, crit[0], crit[1] * (1 - 1e-9), crit[1] * (1 + 1e-9)])
    assert np.all(df["i_tx"].iloc[:4] == 0) and np.all(df["i_ty"].iloc[:4] == 0)
    assert df["i_tx"].iloc[5] == pytest.approx(df["i_tx"].iloc[4], abs=1e-6)
    assert df["n_active"].tolist()[-2:] == [1, 2]


def test_gaussian_bad_input_messages():
    with pytest.raises(ValueError, match="positive definite"):
        gaussian_mutual_information([[1.0]], [[1.0]], [[1.0]])  # y = x exactly
    with pytest.raises(ValueError, match="`cov_xy` must have shape"):
        gaussian_ib_curve(np.eye(2), np.zeros((3, 1)), np.eye(1), [2.0])
    with pytest.raises(ValueError, match="symmetric"):
        gaussian_ib_critical_betas([[1.0, 0.5], [0.0, 1.0]], np.zeros((2, 1)), [[1.0]])
    with pytest.raises(ValueError, match="`betas` must all be > 0"):
        gaussian_ib_curve(*gaussian_channel_covariances([1.0]), [-1.0])
    with pytest.raises(ValueError, match="`snrs` must all be > 0"):
        gaussian_channel_covariances([1.0, 0.0])
