"""Tests of core/collapse.py: the neural-collapse metrics, the simplex ETF and the geometry views."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.linalg import eigh, orth
from scipy.stats import ortho_group

from core.neural_collapse.metrics import (
    class_geometry,
    collapse_metrics,
    cosine_table,
    simplex_clouds,
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


# --- independent re-implementations on tiny arrays (the formulas of Papyan et al.'s code and rhubarbwu/neural-collapse,
# written out with explicit loops) ------------------------------------------------------------------------------------
TINY_H = np.array([[0.0, 0.0], [2.0, 0.5], [5.0, 1.0], [7.0, 0.0], [1.0, 6.0], [0.0, 8.0], [2.0, 7.5]])
TINY_Y = np.array([0, 0, 1, 1, 2, 2, 2])


def _loop_stats(H, y):
    C = y.max() + 1
    mu = [sum(H[i] for i in range(len(y)) if y[i] == c) / sum(y == c) for c in range(C)]
    mu_G = sum(H) / len(H)
    var = [sum(float(np.dot(H[i] - mu[c], H[i] - mu[c])) for i in range(len(y)) if y[i] == c) / sum(y == c)
           for c in range(C)]  # fmt: skip
    return C, mu, mu_G, var


def test_cdnv_matches_a_hand_computation():
    # two classes on a line: {0, 2} (mean 1, variance 1) and {5, 9} (mean 7, variance 4): (1 + 4) / (2 * 36)
    m = collapse_metrics(np.array([[0.0], [2.0], [5.0], [9.0]]), np.array([0, 0, 1, 1]))
    assert m.cdnv == pytest.approx(5 / 72, rel=1e-12)
    C, mu, _, var = _loop_stats(TINY_H, TINY_Y)
    pairs = [(i, j) for i in range(C) for j in range(i + 1, C)]
    expected = np.mean([(var[i] + var[j]) / (2 * float(np.dot(mu[i] - mu[j], mu[i] - mu[j]))) for i, j in pairs])
    assert collapse_metrics(TINY_H, TINY_Y).cdnv == pytest.approx(expected, rel=1e-12)


def test_equinorm_conventions_population_and_papyan_sample_std():
    C, mu, mu_G, _ = _loop_stats(TINY_H, TINY_Y)
    norms = [float(np.sqrt(np.dot(m - mu_G, m - mu_G))) for m in mu]
    mean = sum(norms) / C
    pop = np.sqrt(sum((v - mean) ** 2 for v in norms) / C) / mean
    assert collapse_metrics(TINY_H, TINY_Y).equinorm == pytest.approx(pop, rel=1e-12)
    papyan = torch.std(torch.tensor(norms)) / torch.mean(torch.tensor(norms))  # torch.std: n - 1, as in their code
    assert collapse_metrics(TINY_H, TINY_Y, equinorm_ddof=1).equinorm == pytest.approx(float(papyan), rel=1e-6)
    assert pop * np.sqrt(C / (C - 1)) == pytest.approx(float(papyan), rel=1e-6)


def test_nc1_equiangularity_and_nc3_match_loops_on_a_tiny_array():
    C, mu, mu_G, _ = _loop_stats(TINY_H, TINY_Y)
    Sw = sum(np.outer(TINY_H[i] - mu[TINY_Y[i]], TINY_H[i] - mu[TINY_Y[i]]) for i in range(len(TINY_Y))) / len(TINY_Y)
    Sb = sum(np.outer(m - mu_G, m - mu_G) for m in mu) / C
    nc1 = np.trace(Sw @ np.linalg.pinv(Sb)) / C  # Sigma_B has rank C - 1 = 2 = p here: a plain inverse
    cos = [
        float(np.dot(mu[a] - mu_G, mu[b] - mu_G) / np.linalg.norm(mu[a] - mu_G) / np.linalg.norm(mu[b] - mu_G))
        for a in range(C)
        for b in range(C)
        if a != b
    ]
    W = np.array([[1.0, 0.0], [0.5, 2.0], [-1.0, 1.0]])
    M = np.array([m - mu_G for m in mu])
    nc3 = sum((W[c, j] / np.linalg.norm(W) - M[c, j] / np.linalg.norm(M)) ** 2 for c in range(C) for j in range(2))
    m = collapse_metrics(TINY_H, TINY_Y, weights=W)
    assert m.nc1 == pytest.approx(nc1, rel=1e-10)
    assert m.equiangularity == pytest.approx(np.mean([abs(c + 1 / (C - 1)) for c in cos]), rel=1e-12)
    assert m.nc3 == pytest.approx(nc3, rel=1e-12)


def test_cdnv_of_etf_plus_isotropic_noise_matches_closed_form():
    # var_c = s^2 p (whitened noise), |mu_c - mu_c'|^2 = 2 r^2 C / (C - 1) for an ETF of radius r
    C, p, r, s = 5, 8, 2.0, 0.3
    H, y, _ = _etf_data(C=C, p=p, n=3 * p, r=r, s=s)
    assert collapse_metrics(H, y).cdnv == pytest.approx(s**2 * p / (2 * r**2 * C / (C - 1)), rel=1e-9)


def test_simplex_clouds_keep_the_in_span_length_of_each_deviation():
    rng = np.random.default_rng(7)
    C, p, n = 5, 6, 40
    y = np.repeat(np.arange(C), n)
    H = 3 * rng.normal(size=(C, p))[y] + rng.normal(size=(C * n, p))
    classes = (1, 3, 4)
    view = simplex_clouds(H, y, classes=classes, per_class=n)
    mu = np.stack([H[y == c].mean(0) for c in range(C)])
    sub = mu[list(classes)] - mu[list(classes)].mean(0)
    P = orth(sub.T)  # (p, 2) an orthonormal basis of the span, computed independently
    trained = view[view.kind == "trained"].set_index("class")[["x1", "x2"]]
    scale = np.linalg.norm(sub @ P, axis=1).mean()
    for c in classes:
        pts = view[(view.kind == "sample") & (view["class"] == c)][["x1", "x2"]].to_numpy()
        assert len(pts) == n
        got = np.linalg.norm(pts - trained.loc[c].to_numpy(), axis=1) * scale
        want = np.linalg.norm((H[y == c] - mu[c]) @ P, axis=1)
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(pts.mean(0), trained.loc[c].to_numpy(), atol=1e-12)  # the cloud centres on its mean
    np.testing.assert_allclose(
        trained.to_numpy(), simplex_view(mu, classes=classes).query("kind == 'trained'")[["x1", "x2"]], atol=1e-12
    )


def test_simplex_clouds_subsample_and_collapse_onto_the_means():
    H, y, _ = _etf_data(C=4, p=5, n=30, s=0.0)
    view = simplex_clouds(H, y, classes=(0, 1, 2), per_class=7, seed=3)
    samples = view[view.kind == "sample"]
    assert samples.groupby("class").size().tolist() == [7, 7, 7]
    ideal = view[view.kind == "ideal ETF"].set_index("class")[["x1", "x2"]]
    for c, part in samples.groupby("class"):
        np.testing.assert_allclose(part[["x1", "x2"]].to_numpy(), np.tile(ideal.loc[c], (7, 1)), atol=1e-9)
    again = simplex_clouds(H, y, classes=(0, 1, 2), per_class=7, seed=3)
    pd_equal = again.equals(view)
    assert pd_equal
    with pytest.raises(ValueError, match="`per_class` must be >= 1"):
        simplex_clouds(H, y, classes=(0, 1, 2), per_class=0)


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
    with pytest.raises(ValueError, match="`equinorm_ddof` must be <= 1"):
        collapse_metrics(TINY_H, TINY_Y, equinorm_ddof=2)
