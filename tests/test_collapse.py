"""Tests of core/collapse.py: the neural-collapse metrics, the simplex ETF and the geometry views."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import eigh
from scipy.stats import ortho_group

from core.collapse import (
    class_geometry,
    collapse_metrics,
    cosine_table,
    simplex_etf,
    simplex_view,
    subset_cosines,
)


def _whitened_noise(rng: np.random.Generator, n: int, p: int) -> np.ndarray:
    """n x p noise with zero mean and sample covariance exactly the identity."""
    Z = rng.normal(size=(n, p))
    Z -= Z.mean(0)
    evals, evecs = np.linalg.eigh(Z.T @ Z / n)
    return Z @ evecs @ np.diag(evals**-0.5) @ evecs.T


def _etf_data(C=5, p=8, n=40, r=2.0, s=0.0, seed=0, whiten=True):
    rng = np.random.default_rng(seed)
    E = simplex_etf(C, p, seed=seed)
    y = np.repeat(np.arange(C), n)
    noise = np.vstack([_whitened_noise(rng, n, p) if whiten else rng.normal(size=(n, p)) for _ in range(C)])
    return r * E[y] + s * noise, y, r * E


def test_exact_etf_with_matching_classifier_is_fully_collapsed():
    H, y, means = _etf_data(s=0.0)
    m = collapse_metrics(H, y, weights=means)
    assert m.nc1 == pytest.approx(0.0, abs=1e-20)
    assert m.equinorm == pytest.approx(0.0, abs=1e-12)
    assert m.equiangularity == pytest.approx(0.0, abs=1e-12)
    assert m.nc3 == pytest.approx(0.0, abs=1e-12)
    assert m.nc4 == 0.0
    assert (m.n_classes, m.n_samples) == (5, 200)


@pytest.mark.parametrize(("C", "p", "r", "s"), [(3, 4, 1.0, 0.1), (5, 8, 2.0, 0.3), (10, 12, 3.0, 1.0)])
def test_nc1_of_etf_plus_isotropic_noise_matches_closed_form(C, p, r, s):
    # Sigma_W = s^2 I and Sigma_B = r^2/(C-1) P (P the projector on the C-1 dim span), so
    # NC1 = Tr(s^2 (C-1)/r^2 P)/C = s^2 (C-1)^2 / (C r^2). Whitened noise makes it exact.
    H, y, _ = _etf_data(C=C, p=p, n=3 * p, r=r, s=s)
    assert collapse_metrics(H, y).nc1 == pytest.approx(s**2 * (C - 1) ** 2 / (C * r**2), rel=1e-9)


def test_nc1_closed_form_holds_for_a_large_gaussian_sample():
    C, p, r, s = 4, 6, 2.0, 0.3
    H, y, _ = _etf_data(C=C, p=p, n=20_000, r=r, s=s, whiten=False)
    assert collapse_metrics(H, y).nc1 == pytest.approx(s**2 * (C - 1) ** 2 / (C * r**2), rel=0.03)


def test_nc1_equals_plain_pseudo_inverse_for_balanced_classes():
    rng = np.random.default_rng(1)
    C, p, n = 6, 20, 30
    y = np.repeat(np.arange(C), n)
    H = rng.normal(size=(C, p))[y] * 2 + rng.normal(size=(C * n, p))
    mu = np.array([H[y == c].mean(0) for c in range(C)])
    Sw = (H - mu[y]).T @ (H - mu[y]) / len(y)
    M = mu - H.mean(0)
    Sb = M.T @ M / C  # rank C - 1 for balanced classes
    expected = np.trace(Sw @ np.linalg.pinv(Sb, rcond=1e-10)) / C
    assert collapse_metrics(H, y).nc1 == pytest.approx(expected, rel=1e-8)


def test_nc1_with_unbalanced_classes_matches_the_top_c_minus_1_eigendirections():
    rng = np.random.default_rng(2)
    C, p = 4, 10
    y = np.concatenate([np.full(k, c) for c, k in enumerate([5, 20, 40, 80])])
    H = rng.normal(size=(C, p))[y] * 3 + rng.normal(size=(len(y), p))
    mu = np.array([H[y == c].mean(0) for c in range(C)])
    Sw = (H - mu[y]).T @ (H - mu[y]) / len(y)
    M = mu - H.mean(0)
    evals, evecs = eigh(M.T @ M / C)  # ascending
    top_vals, top_vecs = evals[-(C - 1) :], evecs[:, -(C - 1) :]
    expected = np.trace(Sw @ top_vecs @ np.diag(1 / top_vals) @ top_vecs.T) / C
    assert collapse_metrics(H, y).nc1 == pytest.approx(expected, rel=1e-8)


def test_metrics_are_invariant_under_rotation_scaling_and_translation():
    rng = np.random.default_rng(3)
    C, p, n = 5, 7, 25
    y = np.repeat(np.arange(C), n)
    H = rng.normal(size=(C, p))[y] + 0.5 * rng.normal(size=(C * n, p))
    W = rng.normal(size=(C, p))
    Q = ortho_group.rvs(p, random_state=4)
    base = collapse_metrics(H, y, weights=W)
    moved = collapse_metrics(3.7 * H @ Q + 5.0, y, weights=W @ Q)
    assert moved.equinorm == pytest.approx(base.equinorm, rel=1e-9)
    assert moved.equiangularity == pytest.approx(base.equiangularity, rel=1e-9)
    assert moved.nc1 == pytest.approx(base.nc1, rel=1e-9)
    rotated = collapse_metrics(H @ Q, y, weights=2 * W @ Q)  # NC3 compares normalised matrices
    assert rotated.nc3 == pytest.approx(base.nc3, rel=1e-9)


def test_nc4_counts_disagreements_with_the_nearest_class_mean():
    H, y, means = _etf_data(C=4, p=5, n=10, s=0.1)
    assert collapse_metrics(H, y, weights=means).nc4 == 0.0
    bias = np.array([100.0, 0.0, 0.0, 0.0])  # the classifier says 0 for everything
    assert collapse_metrics(H, y, weights=means, bias=bias).nc4 == pytest.approx(3 / 4)


def test_metrics_without_weights_leave_nc3_and_nc4_empty():
    H, y, _ = _etf_data()
    m = collapse_metrics(H, y)
    assert m.nc3 is None and m.nc4 is None


def test_float32_input_gives_the_float64_result():
    H, y, means = _etf_data(C=10, p=64, n=70, r=1.0, s=1e-3, whiten=False)
    m64 = collapse_metrics(H, y, weights=means)
    m32 = collapse_metrics(H.astype(np.float32), y.astype(np.int32), weights=means.astype(np.float32))
    assert m32.nc1 == pytest.approx(m64.nc1, rel=1e-3)
    # The trap the C-1 restriction avoids: a plain float32 pinv inverts round-off directions of Sigma_B.
    H32 = H.astype(np.float32)
    mu = np.stack([H32[y == c].mean(0) for c in range(10)])
    M, D = mu - H32.mean(0), H32 - mu[y]
    naive = np.trace((D.T @ D / len(y)) @ np.linalg.pinv(M.T @ M / 10)) / 10
    assert not naive == pytest.approx(m64.nc1, rel=0.5)
    assert m32.equiangularity == pytest.approx(m64.equiangularity, rel=1e-2, abs=1e-6)
    assert m32.nc3 == pytest.approx(m64.nc3, rel=1e-2, abs=1e-9)


def test_simplex_etf_has_unit_rows_and_equal_negative_cosines():
    for C, dim in [(2, 1), (3, 2), (4, 10), (10, 9), (10, 256)]:
        E = simplex_etf(C, dim, seed=5)
        assert E.shape == (C, dim)
        gram = E @ E.T
        np.testing.assert_allclose(np.diag(gram), 1.0, atol=1e-12)
        np.testing.assert_allclose(gram[~np.eye(C, dtype=bool)], -1 / (C - 1), atol=1e-12)
        np.testing.assert_allclose(E.sum(0), 0.0, atol=1e-12)


def test_simplex_etf_is_seeded():
    np.testing.assert_array_equal(simplex_etf(5, 8, seed=1), simplex_etf(5, 8, seed=1))
    assert not np.allclose(simplex_etf(5, 8, seed=1), simplex_etf(5, 8, seed=2))


def test_class_geometry_returns_centred_means_and_cosines():
    H, y, means = _etf_data(C=6, p=6, s=0.2)
    geo = class_geometry(H, y)
    np.testing.assert_allclose(geo.means, means, atol=1e-12)
    np.testing.assert_allclose(geo.cosines, simplex_etf(6, 6) @ simplex_etf(6, 6).T, atol=1e-12)
    np.testing.assert_allclose(geo.norms, 2.0)


def test_simplex_view_of_an_exact_etf_matches_the_ideal():
    _, _, means = _etf_data(C=10, p=12)
    for classes in [(0, 1, 2), (3, 5, 8, 9)]:
        view = simplex_view(means, classes=classes)
        coords = [c for c in view.columns if c.startswith("x")]
        assert len(coords) == len(classes) - 1
        trained = view[view.kind == "trained"][coords].to_numpy()
        ideal = view[view.kind == "ideal ETF"][coords].to_numpy()
        np.testing.assert_allclose(trained, ideal, atol=1e-9)
        k = len(classes)
        cos = subset_cosines(means, classes=classes)
        np.testing.assert_allclose(cos[~np.eye(k, dtype=bool)], -1 / (k - 1), atol=1e-12)


def test_cosine_table_lists_the_off_diagonal_pairs():
    _, _, means = _etf_data(C=4, p=4)
    table = cosine_table(means)
    assert len(table) == 12 and set(table.columns) == {"class_a", "class_b", "cosine", "ideal"}
    np.testing.assert_allclose(table.cosine, -1 / 3, atol=1e-12)


@pytest.mark.parametrize(
    ("features", "labels", "kwargs", "match"),
    [
        (np.zeros((6, 3)), np.zeros(5), {}, "one entry per row"),
        (np.ones((6, 3)), np.zeros(6), {}, "at least 2 classes"),
        (np.random.default_rng(0).normal(size=(6, 3)), np.array([0, 0, 2, 2, 3, 3]), {}, "class\\(es\\) \\[1\\]"),
        (np.random.default_rng(0).normal(size=(6, 3)), np.array([0, 0, 1, 1, 1.5, 1]), {}, "integers"),
        (np.full((6, 3), np.nan), np.array([0, 0, 0, 1, 1, 1]), {}, "NaN"),
        (np.zeros(6), np.array([0, 0, 0, 1, 1, 1]), {}, "dimension"),
        (
            np.random.default_rng(0).normal(size=(6, 3)),
            np.array([0, 0, 0, 1, 1, 1]),
            {"weights": np.ones((2, 4))},
            "3 columns",
        ),
        (
            np.random.default_rng(0).normal(size=(6, 3)),
            np.array([0, 0, 0, 1, 1, 1]),
            {"weights": np.ones((3, 3))},
            "class\\(es\\) \\[2\\]",
        ),
        (
            np.random.default_rng(0).normal(size=(6, 3)),
            np.array([0, 0, 0, 1, 1, 1]),
            {"weights": np.ones((2, 3)), "bias": np.ones(3)},
            "2 entries",
        ),
    ],
)
def test_bad_input_names_the_problem(features, labels, kwargs, match):
    with pytest.raises(ValueError, match=match):
        collapse_metrics(features, labels, **kwargs)


def test_bad_etf_and_view_arguments():
    with pytest.raises(ValueError, match="`dim` must be >= 4"):
        simplex_etf(5, 3)
    with pytest.raises(ValueError, match="`n_classes` must be >= 2"):
        simplex_etf(1, 3)
    with pytest.raises(ValueError, match="at least 2 distinct classes"):
        simplex_view(np.eye(4), classes=(1, 1, 2))
    with pytest.raises(ValueError, match="at most 1000 classes"):
        collapse_metrics(np.ones((6, 3)), np.array([0, 0, 0, 1, 1, 5000]))
    with pytest.raises(ValueError, match="equals the global mean"):
        collapse_metrics(np.ones((6, 3)), np.array([0, 0, 0, 1, 1, 1]))
