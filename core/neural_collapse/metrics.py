"""Neural collapse: the last-layer geometry of networks trained past zero training error.

In the terminal phase of training the penultimate features of each class shrink to their class mean (NC1), the
centred class means become equinormed and equiangular, a simplex equiangular tight frame (NC2), the classifier
rows line up with the means (NC3) and the network classifies by the nearest class mean (NC4). The class-distance
normalised variance (CDNV, Galanti, Gyorgy & Hutter 2022) is a per-pair version of NC1 that needs no pseudo-inverse.
Reference: V. Papyan, X. Y. Han, D. L. Donoho, "Prevalence of neural collapse during the terminal phase of deep
learning training", PNAS 117 (2020); the unconstrained-features model: Z. Zhu et al., "A geometric analysis of
neural collapse with unconstrained features", NeurIPS 2021.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.linalg import helmert, orthogonal_procrustes

from core._validation import check_array, check_int, check_positive

METRICS = ("NC1", "equinorm", "equiangularity", "NC3", "NC4", "CDNV")
MAX_CLASSES = 1000  # the C x C cosine matrix stays small (ImageNet has 1000 classes)
_CHUNK = 8192  # rows per block when classifying, so N x C never materialises


@dataclass(frozen=True)
class CollapseMetrics:
    """The neural-collapse metrics of one set of features (all dimensionless; 0 means full collapse)."""

    nc1: float  # Tr(Sigma_W Sigma_B^+) / C: within-class variability relative to between-class spread
    equinorm: float  # std / mean of the centred class-mean norms
    equiangularity: float  # mean |cos(mu_c, mu_c') + 1/(C-1)| over pairs c != c'
    nc3: float | None  # || W/||W|| - M/||M|| ||_F^2 (None without classifier weights)
    nc4: float | None  # share of samples where the classifier and the nearest class mean disagree (None without W)
    n_classes: int
    n_samples: int
    cdnv: float = math.nan  # mean over class pairs of (var_c + var_c') / (2 |mu_c - mu_c'|^2) (Galanti et al. 2022)


@dataclass(frozen=True)
class ClassGeometry:
    """Class means and the cosines between their centred versions."""

    means: np.ndarray  # (C, p) centred class means mu_c - mu_G
    global_mean: np.ndarray  # (p,) mu_G
    norms: np.ndarray  # (C,) |mu_c - mu_G|
    cosines: np.ndarray  # (C, C) cos(mu_c - mu_G, mu_c' - mu_G)


def _check_features(features: object, labels: object) -> tuple[np.ndarray, np.ndarray]:
    H = check_array(features, "features", ndim=2, min_len=2)  # (N, p) float64
    y = check_array(labels, "labels", ndim=1, min_len=2)  # (N,) float64
    if y.shape[0] != H.shape[0]:
        raise ValueError(
            f"`labels` must have one entry per row of `features` ({H.shape[0]}). Got {y.shape[0]} instead."
        )
    if np.any(y != np.round(y)) or y.min() < 0:
        raise ValueError(f"`labels` must be integers 0..C-1. Got values such as {y[(y != np.round(y)) | (y < 0)][0]}.")
    return H, y.astype(np.int64)


def _class_counts(y: np.ndarray, n_classes: int) -> np.ndarray:
    counts = np.bincount(y, minlength=n_classes)  # (C,)
    missing = np.flatnonzero(counts == 0)
    if missing.size:
        raise ValueError(
            f"`labels` must contain every class 0..{n_classes - 1} at least once. Got no samples of class(es) "
            f"{missing[:5].tolist()} instead; relabel with np.unique(labels, return_inverse=True)[1]."
        )
    return counts


def class_geometry(features: np.ndarray, labels: np.ndarray, *, n_classes: int | None = None) -> ClassGeometry:
    r"""Centred class means, their norms and their pairwise cosines.

    .. math:: \mu_G = \tfrac1N \sum_i h_i, \quad \cos_{cc'} = \frac{\langle \mu_c - \mu_G,
              \mu_{c'} - \mu_G\rangle}{|\mu_c - \mu_G|\,|\mu_{c'} - \mu_G|}

    Parameters
    ----------
    features : array of shape (N, p)
        Penultimate features, one row per sample (any float dtype; computed in float64).
    labels : array of shape (N,)
        Integer classes 0..C-1, every class present.
    n_classes : int, optional
        C (default: ``labels.max() + 1``).

    Returns
    -------
    ClassGeometry
        ``means`` (C, p) centred, ``global_mean`` (p,), ``norms`` (C,), ``cosines`` (C, C).
    """
    H, y = _check_features(features, labels)
    C = int(y.max()) + 1 if n_classes is None else check_int(n_classes, "n_classes", low=2)
    if C < 2:
        raise ValueError("`labels` must contain at least 2 classes. Got only class 0 instead.")
    if C > MAX_CLASSES:
        raise ValueError(f"`labels` must have at most {MAX_CLASSES} classes. Got {C} instead.")
    if y.max() >= C:
        raise ValueError(f"`labels` must be < {C} (one row of `weights` per class). Got {int(y.max())} instead.")
    counts = _class_counts(y, C)
    mu_G = H.mean(axis=0)  # (p,)
    onehot = sparse.csr_matrix((np.ones(len(y)), (y, np.arange(len(y)))), shape=(C, len(y)))  # (C, N)
    M = (onehot @ H) / counts[:, None] - mu_G  # (C, p)
    norms = np.linalg.norm(M, axis=1)  # (C,)
    if np.any(norms <= 1e-12 * max(float(np.abs(H).max()), 1e-300)):
        raise ValueError("`features` must separate the classes: some class mean equals the global mean.")
    U = M / norms[:, None]
    return ClassGeometry(M, mu_G, norms, np.clip(U @ U.T, -1.0, 1.0))


def collapse_metrics(
    features: np.ndarray,
    labels: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    bias: np.ndarray | None = None,
    equinorm_ddof: int = 0,
) -> CollapseMetrics:
    r"""The neural-collapse metrics NC1-NC4 and the CDNV of penultimate features (Papyan, Han & Donoho 2020).

    .. math::
        \Sigma_W = \tfrac1N \sum_i (h_i - \mu_{y_i})(h_i - \mu_{y_i})^\top, \quad
        \Sigma_B = \tfrac1C \sum_c (\mu_c - \mu_G)(\mu_c - \mu_G)^\top, \quad
        \mathrm{NC1} = \tfrac1C \operatorname{Tr}(\Sigma_W \Sigma_B^+), \quad
        \mathrm{CDNV} = \frac{2}{C(C-1)} \sum_{c < c'} \frac{\sigma_c^2 + \sigma_{c'}^2}{2 |\mu_c - \mu_{c'}|^2}

    with :math:`\Sigma_B^+` the pseudo-inverse on the C - 1 leading eigen-directions, computed in float64 from the
    SVD of the centred means (never a float32 ``pinv``), and :math:`\sigma_c^2 = \tfrac{1}{N_c}\sum_{y_i = c}
    |h_i - \mu_c|^2` (Galanti, Gyorgy & Hutter 2022). Equinorm = std/mean of :math:`|\mu_c - \mu_G|`; the std is
    the population one (ddof = 0, the convention of SCIENCE.md) unless ``equinorm_ddof=1``, the sample std that
    Papyan et al.'s published code uses (``torch.std``); the two differ by the factor sqrt(C / (C - 1)), 5% at
    C = 10. Equiangularity = mean over c != c' of :math:`|\cos_{cc'} + 1/(C-1)|`;
    NC3 = :math:`\| W/\|W\|_F - M/\|M\|_F \|_F^2`; NC4 = share of samples where
    :math:`\arg\max_c (W h + b)_c` differs from the nearest class mean.

    Parameters
    ----------
    features : array of shape (N, p)
        Penultimate features (float32 is fine).
    labels : array of shape (N,)
        Integer classes 0..C-1, every class present.
    weights : array of shape (C, p), optional
        Last-layer classifier; needed for NC3 and NC4.
    bias : array of shape (C,), optional
        Last-layer bias, used by the classifier in NC4.
    equinorm_ddof : {0, 1}
        Delta degrees of freedom of the std in the equinorm metric (0: population std; 1: Papyan et al.'s code).

    Returns
    -------
    CollapseMetrics
        Dimensionless metrics; ``nc3`` and ``nc4`` are None without ``weights``.

    References
    ----------
    Papyan, Han & Donoho (2020), PNAS; Galanti, Gyorgy & Hutter (2022), On the role of neural collapse in
    transfer learning, ICLR.
    """
    H, y = _check_features(features, labels)
    ddof = check_int(equinorm_ddof, "equinorm_ddof", low=0, high=1)
    W = None
    if weights is not None:
        W = check_array(weights, "weights", ndim=2, min_len=2)  # (C, p)
        if W.shape[1] != H.shape[1]:
            raise ValueError(f"`weights` must have {H.shape[1]} columns (one per feature). Got {W.shape[1]} instead.")
    geo = class_geometry(H, y, n_classes=None if W is None else W.shape[0])
    M, C = geo.means, geo.means.shape[0]
    mu = M + geo.global_mean  # (C, p) uncentred means
    # Sigma_B = M^T M / C = V diag(S^2 / C) V^T; keep the C - 1 leading directions.
    _, S, Vt = np.linalg.svd(M, full_matrices=False)  # S (r,), Vt (r, p)
    keep = min(C - 1, int(np.sum(S > 1e-10 * S[0])))
    proj = (H - mu[y]) @ Vt[:keep].T  # (N, keep) within-class deviations along the between-class directions
    nc1 = float(np.sum(np.mean(proj**2, axis=0) * C / S[:keep] ** 2) / C)
    off = ~np.eye(C, dtype=bool)
    equinorm = float(geo.norms.std(ddof=ddof) / geo.norms.mean())
    var = np.bincount(y, weights=np.sum((H - mu[y]) ** 2, axis=1), minlength=C) / np.bincount(y, minlength=C)  # (C,)
    ia, ib = np.triu_indices(C, k=1)
    gaps = np.sum((M[ia] - M[ib]) ** 2, axis=1)  # (C(C-1)/2,) squared distances between class means
    cdnv = float(np.mean((var[ia] + var[ib]) / (2 * gaps)))
    equiangularity = float(np.mean(np.abs(geo.cosines[off] + 1.0 / (C - 1))))
    nc3 = nc4 = None
    if W is not None:
        nc3 = float(np.sum((W / np.linalg.norm(W) - M / np.linalg.norm(M)) ** 2))
        b = np.zeros(C) if bias is None else check_array(bias, "bias", ndim=1, min_len=C)
        if b.shape[0] != C:
            raise ValueError(f"`bias` must have {C} entries (one per class). Got {b.shape[0]} instead.")
        disagree = 0
        for start in range(0, H.shape[0], _CHUNK):  # chunks keep the (rows, C) matrices small
            h = H[start : start + _CHUNK]  # (n, p)
            dist = -2 * h @ mu.T + (mu**2).sum(1)  # (n, C) squared distances minus |h|^2
            disagree += int(np.sum((h @ W.T + b).argmax(1) != dist.argmin(1)))
        nc4 = disagree / H.shape[0]
    return CollapseMetrics(nc1, equinorm, equiangularity, nc3, nc4, C, H.shape[0], cdnv)


def _etf_coords(n_classes: int) -> np.ndarray:
    """The canonical simplex ETF in its own C - 1 coordinates: (C, C-1), unit rows."""
    return math.sqrt(n_classes / (n_classes - 1)) * helmert(n_classes).T  # (C, C-1)


def simplex_etf(n_classes: int, dim: int, *, seed: int = 0) -> np.ndarray:
    r"""A simplex equiangular tight frame: C unit vectors with pairwise cosine -1/(C-1).

    .. math:: E = \sqrt{\tfrac{C}{C-1}}\, \big(I_C - \tfrac1C \mathbf{1}\mathbf{1}^\top\big) U^\top

    realised in C - 1 coordinates and embedded in ``dim`` dimensions by a random orthonormal map.

    Parameters
    ----------
    n_classes : int
        C >= 2.
    dim : int
        Ambient dimension, >= C - 1.
    seed : int
        Seed of the random embedding.

    Returns
    -------
    ndarray of shape (C, dim)
        Rows of unit norm summing to zero, with Gram matrix :math:`\tfrac{C}{C-1}(I - \tfrac1C 11^\top)`.
    """
    C = check_int(n_classes, "n_classes", low=2, high=10_000)
    dim = check_int(dim, "dim", low=C - 1, high=100_000)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    Q, _ = np.linalg.qr(rng.normal(size=(dim, C - 1)))  # (dim, C-1) orthonormal columns
    return _etf_coords(C) @ Q.T  # (C, dim)


def _subset(means: object, classes: Sequence[int] | None) -> tuple[np.ndarray, list[int]]:
    M = check_array(means, "means", ndim=2, min_len=2)  # (C, p)
    idx = list(range(M.shape[0])) if classes is None else [int(c) for c in classes]
    if len(set(idx)) != len(idx) or len(idx) < 2 or not set(idx) <= set(range(M.shape[0])):
        raise ValueError(f"`classes` must list at least 2 distinct classes 0..{M.shape[0] - 1}. Got {idx} instead.")
    if M.shape[1] < len(idx) - 1:
        raise ValueError(f"`means` must have at least {len(idx) - 1} columns for {len(idx)} classes.")
    sub = M[idx]
    return sub - sub.mean(0), idx  # (k, p) centred at their own average


def subset_cosines(means: np.ndarray, *, classes: Sequence[int] | None = None) -> np.ndarray:
    """Pairwise cosines of some class means after centring them at their own average.

    Any k vertices of a simplex ETF, so centred, form a k-vertex simplex ETF, with cosines -1/(k-1).

    Parameters
    ----------
    means : array of shape (C, p)
        Class means.
    classes : sequence of int, optional
        Rows to keep (default: all).

    Returns
    -------
    ndarray of shape (k, k)
    """
    sub, _ = _subset(means, classes)
    U = sub / np.maximum(np.linalg.norm(sub, axis=1, keepdims=True), 1e-300)
    return np.clip(U @ U.T, -1.0, 1.0)


def _simplex_frame(sub: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """The map of :func:`simplex_view`: basis (k-1, p) of the span, the unit (average norm) and the rotation R."""
    k = sub.shape[0]
    U, S, Vt = np.linalg.svd(sub, full_matrices=False)
    Y = U[:, : k - 1] * S[: k - 1]  # (k, k-1) coordinates in the span, = sub @ Vt[:k-1].T
    scale = max(float(np.linalg.norm(Y, axis=1).mean()), 1e-300)
    R, _ = orthogonal_procrustes(Y / scale, _etf_coords(k))  # (k-1, k-1)
    return Vt[: k - 1], scale, R


def simplex_view(means: np.ndarray, *, classes: Sequence[int] | None = None) -> pd.DataFrame:
    """Class means in their own (k-1)-dim span, rotated onto the canonical simplex ETF, for drawing.

    The chosen means are centred at their own average (k vertices of an ETF then form a k-vertex ETF), scaled to
    unit average norm and aligned with the ideal ETF by orthogonal Procrustes; only rotation and reflection are
    removed, not shape. For k = 3 this is exact in 2-D, for k = 4 in 3-D. Beware: any k centred points span a
    (k-1)-simplex, so this view alone cannot tell a random start from collapse; compare all C means with
    :func:`cosine_table` and draw the samples with :func:`simplex_clouds`.

    Parameters
    ----------
    means : array of shape (C, p)
        Class means (centred or not).
    classes : sequence of int, optional
        The k rows to draw (default: all); k - 1 <= p.

    Returns
    -------
    DataFrame
        Columns ``class``, ``x1``..``x{k-1}`` (unit: average mean norm) and ``kind`` ("trained" or "ideal ETF").
    """
    sub, idx = _subset(means, classes)
    k = len(idx)
    basis, scale, R = _simplex_frame(sub)
    cols = [f"x{j + 1}" for j in range(k - 1)]
    trained = sub @ basis.T / scale @ R  # (k, k-1)
    parts = [
        pd.DataFrame(Z, columns=cols).assign(kind=kind)
        for Z, kind in ((trained, "trained"), (_etf_coords(k), "ideal ETF"))
    ]
    out = pd.concat(parts, ignore_index=True)
    out.insert(0, "class", np.tile(idx, 2))
    return out


def simplex_clouds(
    features: np.ndarray,
    labels: np.ndarray,
    *,
    classes: Sequence[int],
    per_class: int = 60,
    seed: int = 0,
) -> pd.DataFrame:
    r"""The samples of k classes drawn in the frame of :func:`simplex_view`: the within-class spread NC1 measures.

    Each sample's feature h is mapped like its class mean: :math:`z = R^\top`-rotated coordinates of
    :math:`h - \bar\mu` in the span of the k centred class means (:math:`\bar\mu` their average), in units of
    the average centred-mean norm. Only the part of :math:`h - \mu_c` inside that span shows; its length is kept.

    Parameters
    ----------
    features : array of shape (N, p)
        Features, one row per sample.
    labels : array of shape (N,)
        Integer classes 0..C-1, every class present.
    classes : sequence of int
        The k >= 2 classes to draw.
    per_class : int
        Samples drawn per class (1 .. 1000), at random without replacement (all of them when a class has fewer).
    seed : int
        Seed of that choice.

    Returns
    -------
    DataFrame
        The :func:`simplex_view` rows of the k means (kind "trained" and "ideal ETF"), then one row per drawn
        sample with kind "sample": ``class``, ``x1``..``x{k-1}``, ``kind``.
    """
    H, y = _check_features(features, labels)
    per_class = check_int(per_class, "per_class", low=1, high=1000)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    C = int(y.max()) + 1
    counts = _class_counts(y, C)
    mu = np.stack([H[y == c].mean(0) for c in range(C)])  # (C, p) class means
    view = simplex_view(mu, classes=classes)
    idx = [int(c) for c in classes]
    basis, scale, R = _simplex_frame(mu[idx] - mu[idx].mean(0))
    cols = [f"x{j + 1}" for j in range(len(idx) - 1)]
    parts = [view]
    for c in idx:
        rows = np.flatnonzero(y == c)
        pick = rows if counts[c] <= per_class else np.sort(rng.choice(rows, per_class, replace=False))
        Z = (H[pick] - mu[idx].mean(0)) @ basis.T / scale @ R  # (n_c, k-1)
        parts.append(pd.DataFrame(Z, columns=cols).assign(kind="sample").assign(**{"class": c})[view.columns])
    return pd.concat(parts, ignore_index=True)


def cosine_table(means: np.ndarray) -> pd.DataFrame:
    """Off-diagonal cosines between centred class means, in long format for a heatmap.

    Parameters
    ----------
    means : array of shape (C, p)
        Centred class means (``ClassGeometry.means``).

    Returns
    -------
    DataFrame
        Columns ``class_a``, ``class_b``, ``cosine`` and ``ideal`` (= -1/(C-1)); C (C - 1) rows.
    """
    M = check_array(means, "means", ndim=2, min_len=2)  # (C, p)
    U = M / np.maximum(np.linalg.norm(M, axis=1, keepdims=True), 1e-300)
    C = M.shape[0]
    a, b = np.nonzero(~np.eye(C, dtype=bool))
    cos = np.clip(U @ U.T, -1.0, 1.0)[a, b]
    return pd.DataFrame({"class_a": a, "class_b": b, "cosine": cos, "ideal": -1.0 / (C - 1)})


def terminal_summary(history: pd.DataFrame, terminal_epoch: int | None) -> pd.DataFrame:
    """Each metric at the onset of the terminal phase and at the end, and the factor it fell by.

    Parameters
    ----------
    history : DataFrame
        Output of :func:`core.neural_collapse.training.collapse_run` (columns ``epoch``, ``metric``, ``value``).
    terminal_epoch : int or None
        First epoch with 100% training accuracy; None (never reached) measures from epoch 0.

    Returns
    -------
    DataFrame
        Columns ``metric``, ``start_epoch``, ``start``, ``end_epoch``, ``end``, ``factor`` (start / end; inf
        when the metric reached exactly 0, NaN when it started at 0).
    """
    if not {"epoch", "metric", "value"} <= set(history.columns) or history.empty:
        raise ValueError("`history` must be the non-empty output of collapse_run (columns epoch, metric, value).")
    start_epoch = 0 if terminal_epoch is None else int(terminal_epoch)
    wide = history.pivot_table(index="epoch", columns="metric", values="value")
    wide = wide[wide.index >= start_epoch]
    if wide.empty:
        raise ValueError(f"`terminal_epoch` must be <= the last epoch {history.epoch.max()}. Got {start_epoch}.")
    rows = []
    for m in (m for m in METRICS if m in wide):
        start, end = float(wide[m].iloc[0]), float(wide[m].iloc[-1])
        factor = math.nan if start == 0 else (math.inf if end == 0 else start / end)
        rows.append(
            {
                "metric": m,
                "start_epoch": wide.index[0],
                "start": start,
                "end_epoch": wide.index[-1],
                "end": end,
                "factor": factor,
            }
        )
    return pd.DataFrame(rows)


def ufm_milestones(sweep: pd.DataFrame, *, nc1: float = 1e-3, equiangularity: float = 1e-2) -> pd.DataFrame:
    """The first checkpoint at which NC1 and equiangularity fall below thresholds, per weight decay.

    Parameters
    ----------
    sweep : DataFrame
        Output of :func:`core.neural_collapse.training.ufm_sweep` (columns ``step``, ``metric``, ``value``,
        ``weight_decay``).
    nc1, equiangularity : float
        Thresholds (dimensionless).

    Returns
    -------
    DataFrame
        Columns ``weight_decay``, ``nc1_step``, ``equiangularity_step`` (NaN: not reached within the run).
    """
    if not {"step", "metric", "value", "weight_decay"} <= set(sweep.columns):
        raise ValueError("`sweep` must be the output of ufm_sweep (columns step, metric, value, weight_decay).")
    thresholds = {"NC1": check_positive(nc1, "nc1"), "equiangularity": check_positive(equiangularity, "equiangularity")}
    rows = []
    for lam, part in sweep.groupby("weight_decay", sort=True):
        row = {"weight_decay": lam}
        for metric, limit in thresholds.items():
            hit = part[(part.metric == metric) & (part.value < limit)].step
            row[f"{metric.lower()}_step"] = float(hit.min()) if len(hit) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)
