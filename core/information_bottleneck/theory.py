"""The information bottleneck: mutual information, the iterative IB algorithm and the Gaussian IB closed form.

The IB problem (Tishby, Pereira & Bialek 1999) asks for a compressed representation T of X that keeps what X says
about Y: minimise ``L = I(X;T) - beta I(T;Y)`` over encoders p(t|x). For discrete tables the self-consistent
equations are solved by alternating updates (``core.information_bottleneck.iterative``, re-exported here); for jointly
Gaussian (X, Y) the optimum is known in closed form (Chechik, Globerson, Tishby & Weiss 2005, JMLR 6). The
information plane of a training network lives in ``core.information_bottleneck.info_plane`` and is re-exported here.
Information is in
bits throughout.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from scipy import linalg

from core._validation import check_array, check_int, check_real
from core.information_bottleneck.info_plane import (  # noqa: F401 (re-exported: the information plane is part of this topic's API)
    ESTIMATORS,
    InfoPlaneConfig,
    InfoPlaneResult,
    LayerReport,
    compression_summary,
    drift_diffusion,
    information_plane,
    layer_report,
    seed_band,
    twelve_bit_task,
)
from core.information_bottleneck.iterative import (  # noqa: F401 (re-exported: the discrete IB solver is part of this topic's API)
    IBResult,
    check_joint,
    ib_curve,
    ib_objective,
    iterative_ib,
    mi_bits,
)

_SUM_TOL = 1e-6  # a probability vector must sum to 1 within this tolerance
_LN2 = np.log(2.0)


def entropy(p: object) -> float:
    """Shannon entropy ``H(p) = -sum_i p_i log2 p_i`` (bits) of a probability vector of shape (n,)."""
    q = check_array(p, "p", ndim=1, nonnegative=True)
    if abs(float(q.sum()) - 1.0) > _SUM_TOL:
        raise ValueError(f"`p` must sum to 1. Got a total of {float(q.sum()):.6g} instead.")
    q = q[q > 0]
    return float(-(q * np.log2(q)).sum())


def mutual_information(p_xy: object) -> float:
    """Mutual information of a discrete joint distribution, in bits.

    ``I(X;Y) = sum_xy p(x,y) log2[p(x,y) / (p(x) p(y))]``.

    Parameters
    ----------
    p_xy : array_like of shape (n_x, n_y)
        Joint probability table: nonnegative, finite, summing to 1 (within 1e-6).

    Returns
    -------
    float
        I(X;Y) in bits, between 0 and min(H(X), H(Y)).

    Examples
    --------
    >>> round(mutual_information([[0.5, 0.0], [0.0, 0.5]]), 6)
    1.0
    """
    return mi_bits(check_joint(p_xy))


def noisy_channel_joint(n_x: int = 16, n_y: int = 16, *, noise: float = 0.1) -> np.ndarray:
    """A small joint table: X uniform on a circle of ``n_x`` points, Y = X + Gaussian noise, binned.

    ``p(y|x) ∝ exp(-d(x, y)^2 / (2 noise^2))`` with ``d`` the circular distance on [0, 1); the IB curve of this
    channel has several phase transitions as clusters of neighbouring x split.

    Parameters
    ----------
    n_x, n_y : int
        Sizes of the X and Y alphabets.
    noise : float
        Noise standard deviation as a fraction of the circle.

    Returns
    -------
    ndarray of shape (n_x, n_y)
        Joint probability table summing to 1.
    """
    n_x = check_int(n_x, "n_x", low=2, high=512)
    n_y = check_int(n_y, "n_y", low=2, high=512)
    noise = check_real(noise, "noise", low=1e-3, high=10.0)
    x = np.arange(n_x)[:, None] / n_x  # (n_x, 1)
    y = (np.arange(n_y)[None, :] + 0.5) / n_y  # (1, n_y)
    d = np.abs(x - y)
    d = np.minimum(d, 1.0 - d)  # (n_x, n_y) circular distance
    k = np.exp(-(d**2) / (2 * noise**2))
    p_y_x = k / k.sum(axis=1, keepdims=True)
    return p_y_x / n_x  # (n_x, n_y)


def read_joint_table(raw: bytes) -> np.ndarray:
    """Read a joint table from CSV bytes: rows are x, columns are y, entries are counts or probabilities.

    A header row and a first column of labels are allowed; every other cell must be a number >= 0. The table is
    normalised to sum to 1.

    Returns
    -------
    ndarray of shape (n_x, n_y)
    """
    try:
        df = pd.read_csv(io.BytesIO(raw), header=None)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"The file is not a readable CSV ({exc}). Save the table as comma-separated numbers."
        ) from None
    values = df.apply(pd.to_numeric, errors="coerce")
    if values.shape[0] > 1 and values.iloc[0].isna().all():
        values = values.iloc[1:]  # header row
    if values.shape[1] > 1 and values.iloc[:, 0].isna().all():
        values = values.iloc[:, 1:]  # label column
    table = values.to_numpy(dtype=float)
    if table.size == 0 or not np.all(np.isfinite(table)):
        raise ValueError("Every cell of the table (apart from one header row and one label column) must be a number.")
    if table.shape[0] < 2 or table.shape[1] < 2 or table.shape[0] * table.shape[1] > 250_000:
        raise ValueError(f"The table must be between 2x2 and 500x500. Got {table.shape[0]}x{table.shape[1]} instead.")
    if np.any(table < 0) or table.sum() <= 0:
        raise ValueError("The table must hold counts or probabilities: nonnegative, with a positive total.")
    return table / table.sum()


def _check_gaussian(cov_x: object, cov_xy: object, cov_y: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sx = np.atleast_2d(check_array(cov_x, "cov_x", ndim=(0, 1, 2)))
    sy = np.atleast_2d(check_array(cov_y, "cov_y", ndim=(0, 1, 2)))
    sxy = np.atleast_2d(check_array(cov_xy, "cov_xy", ndim=(0, 1, 2)))
    for name, m in (("cov_x", sx), ("cov_y", sy)):
        if m.shape[0] != m.shape[1] or not np.allclose(m, m.T, atol=1e-10 * max(1.0, np.abs(m).max())):
            raise ValueError(f"`{name}` must be a symmetric square matrix. Got shape {m.shape} instead.")
    if sxy.shape != (sx.shape[0], sy.shape[0]):
        raise ValueError(
            f"`cov_xy` must have shape ({sx.shape[0]}, {sy.shape[0]}) (dim x, dim y). Got {sxy.shape} instead."
        )
    joint = np.block([[sx, sxy], [sxy.T, sy]])
    if np.linalg.eigvalsh(joint).min() <= 1e-12 * max(1.0, np.abs(joint).max()):
        raise ValueError(
            "The joint covariance [[cov_x, cov_xy], [cov_xy^T, cov_y]] must be positive definite; otherwise some "
            "direction of X is determined exactly by Y and I(X;Y) is infinite. Add noise to Y."
        )
    return sx, sxy, sy


def _gaussian_lambdas(sx: np.ndarray, sxy: np.ndarray, sy: np.ndarray) -> np.ndarray:
    cond = sx - sxy @ np.linalg.solve(sy, sxy.T)  # (d_x, d_x) Sigma_{x|y}
    lam = linalg.eigh((cond + cond.T) / 2, sx, eigvals_only=True)  # eigenvalues of Sigma_{x|y} Sigma_x^{-1}
    return np.clip(np.sort(lam), 1e-300, 1.0)  # (d_x,) ascending: most informative direction first


def gaussian_mutual_information(cov_x: object, cov_xy: object, cov_y: object) -> float:
    """I(X;Y) of jointly Gaussian X, Y in bits: ``-1/2 log2 det(I - Sigma_x^-1 Sigma_xy Sigma_y^-1 Sigma_yx)``.

    Parameters
    ----------
    cov_x : array_like of shape (d_x, d_x)
    cov_xy : array_like of shape (d_x, d_y)
    cov_y : array_like of shape (d_y, d_y)

    Returns
    -------
    float
        Mutual information in bits.
    """
    sx, sxy, sy = _check_gaussian(cov_x, cov_xy, cov_y)
    m = np.eye(sx.shape[0]) - np.linalg.solve(sx, sxy) @ np.linalg.solve(sy, sxy.T)  # (d_x, d_x)
    _, logdet = np.linalg.slogdet(m)
    return float(-0.5 * logdet / _LN2)


def gaussian_ib_critical_betas(cov_x: object, cov_xy: object, cov_y: object) -> np.ndarray:
    """Critical betas of the Gaussian IB, ``beta_i = 1 / (1 - lambda_i)`` (Chechik et al. 2005).

    ``lambda_i`` are the eigenvalues of ``Sigma_{x|y} Sigma_x^{-1}`` in ascending order; at ``beta_i`` the i-th
    direction joins the representation. Directions with ``lambda_i = 1`` carry no information and never join
    (their critical beta is ``inf``).

    Returns
    -------
    ndarray of shape (d_x,)
        Ascending critical betas (>= 1).
    """
    lam = _gaussian_lambdas(*_check_gaussian(cov_x, cov_xy, cov_y))
    with np.errstate(divide="ignore"):
        return np.where(lam < 1.0 - 1e-12, 1.0 / (1.0 - lam), np.inf)


def gaussian_ib_curve(cov_x: object, cov_xy: object, cov_y: object, betas: object) -> pd.DataFrame:
    """The exact IB curve of jointly Gaussian (X, Y) (Chechik, Globerson, Tishby & Weiss 2005).

    With ``n(beta)`` directions active (those with ``beta > 1 / (1 - lambda_i)``):
    ``I(T;X) = 1/2 sum_i log2[(beta - 1)(1 - lambda_i) / lambda_i]`` and
    ``I(T;Y) = 1/2 sum_i log2[(1 - 1/beta) / lambda_i]``; along the curve ``dI(T;Y)/dI(T;X) = 1/beta`` and
    ``I(T;Y)`` rises to ``I(X;Y)`` as beta grows.

    Parameters
    ----------
    cov_x : array_like of shape (d_x, d_x)
    cov_xy : array_like of shape (d_x, d_y)
    cov_y : array_like of shape (d_y, d_y)
    betas : array_like of shape (k,)
        Trade-off values > 0.

    Returns
    -------
    DataFrame
        One row per beta (as given): ``beta``, ``i_tx``, ``i_ty`` (bits), ``n_active`` directions.
    """
    lam = _gaussian_lambdas(*_check_gaussian(cov_x, cov_xy, cov_y))  # (d,)
    b = check_array(betas, "betas", ndim=1)  # (k,)
    if np.any(b <= 0):
        raise ValueError(f"`betas` must all be > 0. Got minimum {b.min():.4g} instead.")
    active = lam[None, :] < 1.0 - 1.0 / b[:, None]  # (k, d)
    with np.errstate(divide="ignore", invalid="ignore"):
        tx = np.log2((b[:, None] - 1) * (1 - lam[None, :]) / lam[None, :])  # (k, d)
        ty = np.log2((1 - 1 / b[:, None]) / lam[None, :])  # (k, d)
    i_tx = 0.5 * np.where(active, tx, 0.0).sum(axis=1)
    i_ty = 0.5 * np.where(active, ty, 0.0).sum(axis=1)
    return pd.DataFrame({"beta": b, "i_tx": i_tx, "i_ty": i_ty, "n_active": active.sum(axis=1)})


def gaussian_channel_covariances(snrs: object, *, seed: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Covariances of ``x = M z``, ``y = z + noise`` with ``z ~ N(0, I)`` and noise variance ``1 / snr_i``.

    Each direction i has ``lambda_i = 1 / (1 + snr_i)``, critical beta ``1 + 1 / snr_i`` and carries
    ``1/2 log2(1 + snr_i)`` bits about Y. ``M`` is the identity, or a seeded random invertible mixing (which
    leaves the IB curve unchanged).

    Returns
    -------
    tuple of ndarray
        ``cov_x`` (d, d), ``cov_xy`` (d, d), ``cov_y`` (d, d).
    """
    s = check_array(snrs, "snrs", ndim=1)
    if np.any(s <= 0):
        raise ValueError(f"`snrs` must all be > 0. Got minimum {s.min():.4g} instead.")
    d = s.shape[0]
    if seed is None:
        m = np.eye(d)
    else:
        q, _ = np.linalg.qr(np.random.default_rng(check_int(seed, "seed", low=0)).normal(size=(d, d)))
        m = q @ np.diag(np.linspace(0.5, 2.0, d))  # (d, d) invertible
    return m @ m.T, m, np.eye(d) + np.diag(1.0 / s)
