"""The information bottleneck: mutual information, the iterative IB algorithm and the Gaussian IB closed form.

The IB problem (Tishby, Pereira & Bialek 1999) asks for a compressed representation T of X that keeps what X says
about Y: minimise ``L = I(X;T) - beta I(T;Y)`` over encoders p(t|x). For discrete tables the self-consistent
equations are solved by alternating updates; for jointly Gaussian (X, Y) the optimum is known in closed form
(Chechik, Globerson, Tishby & Weiss 2005, JMLR 6). The information plane of a training network lives in
``core.info_plane`` and is re-exported here. Information is in bits throughout.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg
from scipy.special import logsumexp

from core._validation import check_array, check_int, check_positive, check_real
from core.info_plane import (  # noqa: F401 (re-exported: the information plane is part of this topic's API)
    ESTIMATORS,
    InfoPlaneConfig,
    compression_summary,
    information_plane,
    layer_report,
)

_SUM_TOL = 1e-6  # a joint table must sum to 1 within this tolerance
_LN2 = np.log(2.0)


def _check_joint(p_xy: object, name: str = "p_xy") -> np.ndarray:
    p = check_array(p_xy, name, ndim=2, nonnegative=True)
    total = float(p.sum())
    if abs(total - 1.0) > _SUM_TOL:
        raise ValueError(
            f"`{name}` must sum to 1 (a joint probability table). Got a total of {total:.6g} instead; "
            "divide the counts by their sum."
        )
    return p / total


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
    return _mi_bits(_check_joint(p_xy))


def _mi_bits(p: np.ndarray) -> float:
    px, py = p.sum(axis=1, keepdims=True), p.sum(axis=0, keepdims=True)  # (n_x, 1), (1, n_y)
    mask = p > 0
    return max(float((p[mask] * np.log2(p[mask] / (px @ py)[mask])).sum()), 0.0)


@dataclass(frozen=True)
class IBResult:
    """The outcome of the iterative IB algorithm at one beta."""

    encoder: np.ndarray  # (n_x, n_clusters) p(t|x), rows sum to 1
    decoder: np.ndarray  # (n_clusters, n_y) p(y|t)
    p_t: np.ndarray  # (n_clusters,) cluster marginal p(t)
    i_tx: float  # I(X;T) in bits
    i_ty: float  # I(T;Y) in bits
    beta: float
    history: np.ndarray  # (n_iter,) objective I(X;T) - beta I(T;Y) in bits after each update
    converged: bool
    n_iter: int

    @property
    def objective(self) -> float:
        """Final value of ``I(X;T) - beta I(T;Y)`` in bits."""
        return float(self.history[-1])


def _ib_step(enc: np.ndarray, p_x: np.ndarray, p_y_x: np.ndarray, log_p_y_x: np.ndarray, beta: float):
    """One self-consistent update; returns the new encoder and the marginals it was computed from."""
    p_t = p_x @ enc  # (n_t,)
    joint_ty = enc.T @ (p_x[:, None] * p_y_x)  # (n_t, n_y) p(t, y)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_y_t = np.where(p_t[:, None] > 0, joint_ty / p_t[:, None], 1.0 / p_y_x.shape[1])  # (n_t, n_y)
        log_p_y_t = np.log(np.maximum(p_y_t, 1e-300))
        kl = np.sum(p_y_x * log_p_y_x, axis=1)[:, None] - p_y_x @ log_p_y_t.T  # (n_x, n_t) KL in nats
        logits = np.log(p_t)[None, :] - beta * kl  # (n_x, n_t)
    new = np.exp(logits - logsumexp(logits, axis=1, keepdims=True))
    return new, p_t, p_y_t


def _ib_information(enc: np.ndarray, p_x: np.ndarray, p_y_x: np.ndarray) -> tuple[float, float]:
    p_xt = p_x[:, None] * enc  # (n_x, n_t)
    p_ty = enc.T @ (p_x[:, None] * p_y_x)  # (n_t, n_y)
    return _mi_bits(p_xt), _mi_bits(p_ty)


def iterative_ib(
    p_xy: object,
    *,
    beta: float,
    n_clusters: int,
    max_iter: int = 5000,
    tol: float = 1e-8,
    seed: int = 0,
    init: np.ndarray | None = None,
) -> IBResult:
    """Solve the IB self-consistent equations by alternating updates (Tishby, Pereira & Bialek 1999).

    Repeats ``p(t) = sum_x p(x) p(t|x)``, ``p(y|t) = sum_x p(y|x) p(t|x) p(x) / p(t)`` and
    ``p(t|x) ∝ p(t) exp(-beta KL[p(y|x) || p(y|t)])``. Each cycle minimises the IB functional over one block of
    variables, so the objective ``I(X;T) - beta I(T;Y)`` never increases; the fixed point is a local optimum.

    Parameters
    ----------
    p_xy : array_like of shape (n_x, n_y)
        Joint probability table (sums to 1).
    beta : float
        Trade-off > 0; larger keeps more information about Y.
    n_clusters : int
        Size of the representation alphabet T (>= 1).
    max_iter : int
        Maximum number of updates.
    tol : float
        Stop when one update lowers the objective by less than ``tol`` bits (the encoder itself may keep drifting
        along flat, symmetric directions that change neither I(X;T) nor I(T;Y)).
    seed : int
        Seed of the random initial encoder (ignored when ``init`` is given).
    init : ndarray of shape (n_x, n_clusters), optional
        Initial encoder (rows are normalised), e.g. the solution at a nearby beta.

    Returns
    -------
    IBResult
        Encoder p(t|x), I(X;T) and I(T;Y) in bits, objective history (bits), ``converged`` and ``n_iter``.
    """
    p = _check_joint(p_xy)
    beta = check_positive(beta, "beta")
    n_t = check_int(n_clusters, "n_clusters", low=1, high=1000)
    max_iter = check_int(max_iter, "max_iter", low=1)
    tol = check_positive(tol, "tol")
    seed = check_int(seed, "seed", low=0)
    p_x = p.sum(axis=1)  # (n_x,)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_y_x = np.where(p_x[:, None] > 0, p / p_x[:, None], p.sum(axis=0)[None, :])  # (n_x, n_y)
        log_p_y_x = np.where(p_y_x > 0, np.log(np.maximum(p_y_x, 1e-300)), 0.0)  # 0 log 0 = 0
    if init is None:
        enc = np.random.default_rng(seed).random((p.shape[0], n_t)) + 0.1  # (n_x, n_t)
    else:
        enc = check_array(init, "init", ndim=2, nonnegative=True)
        if enc.shape != (p.shape[0], n_t) or np.any(enc.sum(axis=1) <= 0):
            raise ValueError(
                f"`init` must be a nonnegative ({p.shape[0]}, {n_t}) table with positive rows. "
                f"Got shape {enc.shape} instead."
            )
    enc = enc / enc.sum(axis=1, keepdims=True)
    history, converged = [], False
    for _ in range(max_iter):
        enc, _, _ = _ib_step(enc, p_x, p_y_x, log_p_y_x, beta)
        i_tx, i_ty = _ib_information(enc, p_x, p_y_x)
        history.append(i_tx - beta * i_ty)
        if len(history) > 1 and history[-2] - history[-1] < tol:
            converged = True
            break
    if not converged:
        warnings.warn(
            f"Iterative IB did not converge in {max_iter} updates at beta = {beta:.4g}; increase `max_iter` "
            "or `tol` (updates slow down near a phase transition).",
            stacklevel=2,
        )
    _, p_t, p_y_t = _ib_step(enc, p_x, p_y_x, log_p_y_x, beta)
    return IBResult(
        encoder=enc,
        decoder=p_y_t,
        p_t=p_t,
        i_tx=i_tx,
        i_ty=i_ty,
        beta=beta,
        history=np.asarray(history),
        converged=converged,
        n_iter=len(history),
    )


def ib_curve(
    p_xy: object, betas: object, *, n_clusters: int, seed: int = 0, max_iter: int = 5000, tol: float = 1e-8
) -> pd.DataFrame:
    """The IB curve: iterative IB solutions over a range of beta, annealed from small to large beta.

    Deterministic annealing: each beta starts from the previous solution with every distinct cluster copied into
    the spare slots and perturbed (seeded), so a cluster can split when beta passes its critical value. This
    follows the optimal branch far better than independent random starts, which get stuck with merged clusters.

    Parameters
    ----------
    p_xy : array_like of shape (n_x, n_y)
        Joint probability table.
    betas : array_like of shape (k,)
        Trade-off values > 0 (any order; computed in ascending order).
    n_clusters : int
        Size of the representation alphabet.
    seed : int
        Seed of the initial encoder and of the perturbations.
    max_iter, tol : int, float
        Passed to :func:`iterative_ib`.

    Returns
    -------
    DataFrame
        One row per beta (ascending): ``beta``, ``i_tx`` and ``i_ty`` (bits), ``objective`` (bits),
        ``n_iter``, ``converged``.
    """
    p = _check_joint(p_xy)
    b = np.sort(check_array(betas, "betas", ndim=1))  # (k,)
    if np.any(b <= 0):
        raise ValueError(f"`betas` must all be > 0. Got minimum {b.min():.4g} instead.")
    n_t = check_int(n_clusters, "n_clusters", low=1, high=1000)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    p_x = p.sum(axis=1)  # (n_x,)
    rows, enc = [], None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for beta in b:
            init = None if enc is None else _split_clusters(enc, p_x, rng)
            res = iterative_ib(p, beta=float(beta), n_clusters=n_t, max_iter=max_iter, tol=tol, seed=seed, init=init)
            enc = res.encoder
            rows.append((float(beta), res.i_tx, res.i_ty, res.objective, res.n_iter, res.converged))
    n_bad = sum(not r[-1] for r in rows)
    if caught and n_bad:
        warnings.warn(
            f"Iterative IB did not converge at {n_bad} of {len(rows)} betas; increase `max_iter` or `tol`.",
            stacklevel=2,
        )
    return pd.DataFrame(rows, columns=["beta", "i_tx", "i_ty", "objective", "n_iter", "converged"])


def _split_clusters(enc: np.ndarray, p_x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Warm start for the next beta: merge duplicate clusters, share all slots among the distinct ones, perturb.

    Deterministic annealing: a cluster can only split when it has a perturbed copy to split into, so every
    distinct cluster keeps at least one slot and the heaviest get the spare ones.
    """
    n_t = enc.shape[1]
    p_t = p_x @ enc  # (n_t,)
    q = (p_x[:, None] * enc) / np.maximum(p_t, 1e-300)  # (n_x, n_t) p(x|t)
    groups: list[list[int]] = []
    for t in np.argsort(-p_t):
        if p_t[t] < 1e-10:
            continue
        for g in groups:
            if np.abs(q[:, g[0]] - q[:, t]).sum() < 1e-3:
                g.append(int(t))
                break
        else:
            groups.append([int(t)])
    merged = np.stack([enc[:, g].sum(axis=1) for g in groups], axis=1)  # (n_x, k) distinct clusters
    copies = np.ones(len(groups), dtype=int)
    for i in range(n_t - len(groups)):
        copies[i % len(groups)] += 1
    cols = np.repeat(merged / copies, copies, axis=1)  # (n_x, n_t)
    cols = cols * (1.0 + 0.2 * (rng.random(cols.shape) - 0.5)) + 1e-12
    return cols / cols.sum(axis=1, keepdims=True)


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
