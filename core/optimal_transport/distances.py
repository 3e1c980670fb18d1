"""Optimal transport and the Wasserstein distance, on top of POT's exact solvers.

The Wasserstein distance of order p between probability measures mu and nu on a metric space is

    W_p(mu, nu) = ( inf_{P in Pi(mu, nu)} integral d(x, y)^p dP(x, y) )^(1/p),

the cheapest way to move the mass of mu onto nu when moving a unit of mass by d costs d^p. Unlike KL and
Jensen-Shannon it keeps measuring when the supports do not overlap, which is why a generator trained on W1 gets
a useful gradient (Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN", Example 1).

Primary reference: Peyre & Cuturi (2019), "Computational Optimal Transport", Foundations and Trends in ML.
Distances are returned as distances (W_p, not W_p^p); information (KL, JS) in bits.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import ot
import pandas as pd
from scipy import stats
from scipy.integrate import trapezoid

from core._validation import check_array, check_choice, check_int, check_real, check_same_mass, check_weights

METRICS = ("sqeuclidean", "euclidean")
KINDS = ("dirac", "uniform", "gaussian")
MAX_PLAN_ENTRIES = 2_000_000  # n * m above this is too slow for the exact LP on a shared CPU (about 1400 x 1400)


def _points(value: object, name: str) -> np.ndarray:
    """Points as an (n, d) array; a 1-D array is n points on the line."""
    arr = check_array(value, name, ndim=(1, 2))
    return arr[:, None] if arr.ndim == 1 else arr  # (n, d)


def wasserstein_1d(u: object, v: object, *, p: float = 1, u_weights: object = None, v_weights: object = None) -> float:
    r"""Wasserstein distance W_p between two weighted samples on the real line.

    .. math:: W_p(\mu, \nu) = \Big(\int_0^1 |F_\mu^{-1}(q) - F_\nu^{-1}(q)|^p \, dq\Big)^{1/p}

    POT's ``ot.wasserstein_1d`` returns :math:`W_p^p`; this takes the p-th root.

    Parameters
    ----------
    u, v : array-like of shape (n,) and (m,)
        Sample positions.
    p : float
        Order, >= 1.
    u_weights, v_weights : array-like of shape (n,) and (m,), optional
        Nonnegative weights with equal total mass (uniform when omitted); the distance is that of the
        normalised measures, as in ``scipy.stats.wasserstein_distance``.

    Returns
    -------
    float
        W_p, in the units of ``u``.

    References
    ----------
    Peyre & Cuturi (2019), Computational Optimal Transport, Remark 2.30.
    """
    p = check_real(p, "p", low=1.0)
    u_arr, v_arr = check_array(u, "u", ndim=1), check_array(v, "v", ndim=1)
    a = check_weights(u_weights, "u_weights", len(u_arr))
    b = check_weights(v_weights, "v_weights", len(v_arr))
    if abs(a.sum() - b.sum()) > 1e-6 * max(a.sum(), b.sum()):
        raise ValueError(
            f"`u_weights` and `v_weights` must have the same total mass. Got {a.sum():.6g} and {b.sum():.6g} "
            "instead; normalise both to sum to 1."
        )
    cost = float(ot.wasserstein_1d(u_arr, v_arr, a / a.sum(), b / b.sum(), p=p))  # W_p^p, normalised measures
    return max(cost, 0.0) ** (1.0 / p)


def _psd_sqrt(S: np.ndarray) -> np.ndarray:
    w, V = np.linalg.eigh(S)
    return (V * np.sqrt(np.clip(w, 0.0, None))) @ V.T


def _gaussian_params(m: object, cov: object, tag: str) -> tuple[np.ndarray, np.ndarray]:
    mean = np.atleast_1d(check_array(m, f"m{tag}", ndim=(0, 1)))  # (d,)
    d = mean.shape[0]
    S = check_array(cov, f"cov{tag}", ndim=(0, 2))
    S = S.reshape(1, 1) if S.ndim == 0 else S  # (d, d)
    if S.shape != (d, d):
        raise ValueError(f"`cov{tag}` must have shape ({d}, {d}) to match `m{tag}`. Got shape {S.shape} instead.")
    if not np.allclose(S, S.T, rtol=1e-8, atol=1e-12):
        raise ValueError(
            f"`cov{tag}` must be symmetric. Got a matrix with max |S - S^T| = {np.abs(S - S.T).max():.3g}."
        )
    low = float(np.linalg.eigvalsh(S).min())
    if low < -1e-10 * max(1.0, float(np.abs(S).max())):
        raise ValueError(
            f"`cov{tag}` must be positive semi-definite (a variance or covariance). Got smallest eigenvalue "
            f"{low:.3g} instead."
        )
    return mean, S


def gaussian_w2(m1: object, cov1: object, m2: object, cov2: object) -> float:
    r"""Closed-form W2 between two Gaussians N(m1, cov1) and N(m2, cov2), any dimension.

    .. math:: W_2^2 = \|m_1 - m_2\|^2 + \mathrm{Tr}\big(S_1 + S_2 - 2 (S_1^{1/2} S_2 S_1^{1/2})^{1/2}\big)

    In 1-D this is :math:`\sqrt{(m_1 - m_2)^2 + (s_1 - s_2)^2}` with standard deviations :math:`s_i`.

    Parameters
    ----------
    m1, m2 : float or array-like of shape (d,)
        Means; scalars mean d = 1.
    cov1, cov2 : float or array-like of shape (d, d)
        Covariances (symmetric, positive semi-definite); in 1-D a scalar is the variance.

    Returns
    -------
    float
        W2, in the units of the means.

    References
    ----------
    Dowson & Landau (1982); Givens & Shortt (1984); Peyre & Cuturi (2019), Remark 2.31.
    """
    mean1, S1 = _gaussian_params(m1, cov1, "1")
    mean2, S2 = _gaussian_params(m2, cov2, "2")
    if mean1.shape != mean2.shape:
        raise ValueError(f"`m1` and `m2` must have the same dimension. Got {mean1.shape[0]} and {mean2.shape[0]}.")
    root1 = _psd_sqrt(S1)
    cross = _psd_sqrt(root1 @ S2 @ root1)  # (d, d)
    w2_sq = float(np.sum((mean1 - mean2) ** 2) + np.trace(S1) + np.trace(S2) - 2.0 * np.trace(cross))
    return math.sqrt(max(w2_sq, 0.0))


@dataclass(frozen=True)
class OTResult:
    """An exact optimal transport plan between two weighted point clouds."""

    plan: np.ndarray  # (n, m) optimal coupling P: rows sum to a, columns to b
    cost: float  # <P, M>, in units of the ground cost (squared distance for "sqeuclidean")
    M: np.ndarray  # (n, m) ground cost matrix
    metric: str  # "sqeuclidean" or "euclidean"
    converged: bool  # the LP reached optimality
    message: str  # the solver's message when it did not ("" when optimal)
    marginal_error: float  # max deviation of the plan's row and column sums from a and b
    mass: float  # total mass moved (1 for probability weights)

    @property
    def distance(self) -> float:
        """W2 = sqrt(cost / mass) for "sqeuclidean", W1 = cost / mass for "euclidean" (normalised measures)."""
        per_unit = max(self.cost, 0.0) / self.mass
        return math.sqrt(per_unit) if self.metric == "sqeuclidean" else per_unit

    @property
    def distance_name(self) -> str:
        """``"W2"`` or ``"W1"``."""
        return "W2" if self.metric == "sqeuclidean" else "W1"


def exact_ot(
    x: object,
    y: object,
    *,
    a: object = None,
    b: object = None,
    metric: str = "sqeuclidean",
    max_iter: int = 100_000,
) -> OTResult:
    r"""Exact optimal transport between two point clouds with POT's network simplex (``ot.emd``).

    .. math:: P^\star = \arg\min_{P \ge 0,\; P 1 = a,\; P^\top 1 = b} \langle P, M \rangle, \qquad
              M_{ij} = \|x_i - y_j\|^q

    with q = 2 for ``"sqeuclidean"`` (then ``.distance`` is W2 = sqrt(cost)) and q = 1 for ``"euclidean"``
    (then ``.distance`` is W1 = cost); for weights of total mass c != 1, the cost is divided by c first.

    Parameters
    ----------
    x, y : array-like of shape (n, d) and (m, d)
        Source and target points (1-D arrays are points on the line).
    a, b : array-like of shape (n,) and (m,), optional
        Nonnegative masses with equal totals (uniform when omitted).
    metric : {"sqeuclidean", "euclidean"}
        Ground cost.
    max_iter : int
        Iteration cap of the network simplex; if it is hit the result has ``converged=False`` and a warning
        says to increase ``max_iter``.

    Returns
    -------
    OTResult
        ``.plan`` (n, m), ``.cost`` = <P, M>, ``.M``, ``.distance`` (W2 or W1), ``.converged``.

    References
    ----------
    Bonneel, van de Panne, Paris & Heidrich (2011), Displacement interpolation using Lagrangian mass transport.
    """
    metric = check_choice(metric, "metric", METRICS)
    max_iter = check_int(max_iter, "max_iter", low=1)
    xs, ys = _points(x, "x"), _points(y, "y")
    if xs.shape[1] != ys.shape[1]:
        raise ValueError(
            f"`x` and `y` must have the same number of columns (coordinates). Got {xs.shape[1]} and {ys.shape[1]}."
        )
    n, m = len(xs), len(ys)
    if n * m > MAX_PLAN_ENTRIES:
        raise ValueError(
            f"`x` and `y` are too large for the exact solver: {n} x {m} plan entries (limit {MAX_PLAN_ENTRIES:,}). "
            "Subsample the points or use an entropic (Sinkhorn) solver."
        )
    wa, wb = check_weights(a, "a", n), check_weights(b, "b", m)
    check_same_mass(wa, wb)
    with np.errstate(over="ignore", invalid="ignore"):
        M = ot.dist(xs, ys, metric=metric)  # (n, m)
    if not np.all(np.isfinite(M)):
        raise ValueError("The cost matrix overflowed (points too far apart). Rescale `x` and `y`, e.g. standardise.")
    plan, log = ot.emd(wa, wb, M, numItermax=max_iter, log=True)  # (n, m); POT warns itself if not optimal
    message = log["warning"] or ""
    converged = int(log["result_code"]) == 1  # judged from the solver's status code, not from a warning
    if not converged:
        warnings.warn(
            f"The exact OT solver stopped before optimality ({message}). Increase `max_iter` (now {max_iter}).",
            stacklevel=2,
        )
    err = max(np.abs(plan.sum(axis=1) - wa).max(), np.abs(plan.sum(axis=0) - wb).max())
    return OTResult(plan, float(np.sum(plan * M)), M, metric, converged, message, float(err), float(wa.sum()))


def plan_segments(x: object, y: object, plan: object, *, min_share: float = 1e-6) -> pd.DataFrame:
    """The edges of a transport plan between 2-D clouds, for drawing: one row per (i, j) that moves mass.

    Parameters
    ----------
    x, y : array-like of shape (n, 2) and (m, 2)
        Source and target points.
    plan : array-like of shape (n, m)
        A coupling (e.g. ``exact_ot(x, y).plan``).
    min_share : float
        Edges carrying less than this fraction of the total mass are dropped (numerical zeros).

    Returns
    -------
    DataFrame
        Columns ``source``, ``target`` (indices), ``x``, ``y`` (start), ``x2``, ``y2`` (end), ``mass`` and
        ``share`` (mass / largest edge mass, in (0, 1]).
    """
    xs, ys = check_array(x, "x", ndim=2), check_array(y, "y", ndim=2)
    P = check_array(plan, "plan", ndim=2, nonnegative=True)
    if P.shape != (len(xs), len(ys)):
        raise ValueError(f"`plan` must have shape ({len(xs)}, {len(ys)}). Got shape {P.shape} instead.")
    min_share = check_real(min_share, "min_share", low=0.0, high=1.0)
    i, j = np.nonzero(min_share * P.sum() < P)
    mass = P[i, j]
    return pd.DataFrame(
        {"source": i, "target": j, "x": xs[i, 0], "y": xs[i, 1], "x2": ys[j, 0], "y2": ys[j, 1], "mass": mass}
    ).assign(share=mass / mass.max() if len(mass) else mass)


def project(points: object, *, angle: float = 0.0) -> np.ndarray:
    """Project 2-D points onto the unit direction at ``angle`` degrees: x cos(angle) + y sin(angle), shape (n,)."""
    pts = check_array(points, "points", ndim=2)
    if pts.shape[1] != 2:
        raise ValueError(f"`points` must have 2 columns (x, y). Got {pts.shape[1]} instead.")
    t = math.radians(check_real(angle, "angle"))
    return pts @ np.array([math.cos(t), math.sin(t)])  # (n,)


@dataclass(frozen=True)
class CDFComparison:
    """Two 1-D samples side by side: histograms, CDFs, and W1 as the area between the CDFs."""

    hist: pd.DataFrame  # columns left, right, sample ("source"/"target"), density: shared bins
    cdf: pd.DataFrame  # columns x, source, target, gap = |F - G|, as right-continuous steps at each x
    w1: float  # integral |F - G| dx, in the units of x


def cdf_comparison(u: object, v: object, *, bins: int = 30) -> CDFComparison:
    r"""Histograms and empirical CDFs of two samples, and W1 as the area between the CDFs.

    .. math:: W_1(\mu, \nu) = \int_{\mathbb{R}} |F_\mu(t) - F_\nu(t)| \, dt

    Parameters
    ----------
    u, v : array-like of shape (n,) and (m,)
        The two samples (uniform weights).
    bins : int
        Number of shared histogram bins.

    Returns
    -------
    CDFComparison
        ``.hist`` and ``.cdf`` DataFrames for charts, and ``.w1`` (equals ``wasserstein_1d(u, v)``).
    """
    u_arr, v_arr = check_array(u, "u", ndim=1), check_array(v, "v", ndim=1)
    bins = check_int(bins, "bins", low=1, high=500)
    t = np.unique(np.concatenate([u_arr, v_arr]))  # (k,) every jump of either CDF
    F = np.searchsorted(np.sort(u_arr), t, side="right") / len(u_arr)  # (k,)
    G = np.searchsorted(np.sort(v_arr), t, side="right") / len(v_arr)  # (k,)
    w1 = float(np.sum(np.abs(F - G)[:-1] * np.diff(t)))
    edges = np.histogram_bin_edges(np.concatenate([u_arr, v_arr]), bins=bins)  # (bins + 1,)
    hist = pd.concat(
        pd.DataFrame(
            {"left": edges[:-1], "right": edges[1:], "sample": name, "density": np.histogram(s, edges, density=True)[0]}
        )
        for name, s in (("source", u_arr), ("target", v_arr))
    )
    cdf = pd.DataFrame({"x": t, "source": F, "target": G, "gap": np.abs(F - G)})
    return CDFComparison(hist.reset_index(drop=True), cdf, w1)


def _gaussian_js_bits(shift: float, sigma: float, grid_size: int = 20_001) -> float:
    x = np.linspace(min(0.0, shift) - 12 * sigma, max(0.0, shift) + 12 * sigma, grid_size)  # (grid_size,)
    log_p, log_q = stats.norm.logpdf(x, 0.0, sigma), stats.norm.logpdf(x, shift, sigma)
    log_m = np.logaddexp(log_p, log_q) - math.log(2.0)
    integrand = 0.5 * (np.exp(log_p) * (log_p - log_m) + np.exp(log_q) * (log_q - log_m))
    return float(max(trapezoid(integrand, x), 0.0) / math.log(2.0))


def divergences_vs_shift(
    shifts: object, *, kind: str = "dirac", width: float = 1.0, sigma: float = 1.0
) -> pd.DataFrame:
    r"""KL, Jensen-Shannon and W1 between a distribution P at 0 and its copy Q shifted by each ``shift``.

    - ``"dirac"``: P = delta_0, Q = delta_s. KL = inf and JS = 1 bit for every s != 0; W1 = |s| (WGAN, Ex. 1).
    - ``"uniform"``: P = U[0, w], Q = U[s, s + w]. With overlap o = max(0, 1 - |s|/w): KL = inf for s != 0
      (Q puts mass where P has none), JS = 1 - o bits (so 1 bit once the supports are disjoint), W1 = |s|.
    - ``"gaussian"``: P = N(0, sigma^2), Q = N(s, sigma^2). KL = s^2 / (2 sigma^2 ln 2) bits, W1 = |s|, both in
      closed form; JS has none and is integrated numerically on a 20 001-point grid over +-12 sigma.

    All values are exact closed forms except the Gaussian JS. KL is KL(Q || P).

    Parameters
    ----------
    shifts : array-like of shape (k,)
        Shifts s of Q, in units of x.
    kind : {"dirac", "uniform", "gaussian"}
        The pair of distributions.
    width : float
        Width w of the uniforms (``"uniform"`` only).
    sigma : float
        Standard deviation of the Gaussians (``"gaussian"`` only).

    Returns
    -------
    DataFrame
        Columns ``shift``, ``kl`` (bits, inf where undefined), ``js`` (bits, in [0, 1]), ``w1`` (units of x).

    References
    ----------
    Arjovsky, Chintala & Bottou (2017), Wasserstein GAN, ICML, Example 1.
    """
    s = check_array(shifts, "shifts", ndim=1)  # (k,)
    kind = check_choice(kind, "kind", KINDS)
    width, sigma = check_real(width, "width", low=0.0, low_inclusive=False), check_real(sigma, "sigma", low=1e-12)
    moved = s != 0
    if kind == "gaussian":
        kl = s**2 / (2 * sigma**2 * math.log(2.0))
        js = np.array([_gaussian_js_bits(float(v), sigma) for v in s])
    else:
        kl = np.where(moved, np.inf, 0.0)
        js = np.where(moved, 1.0, 0.0) if kind == "dirac" else np.minimum(1.0, np.abs(s) / width)
    return pd.DataFrame({"shift": s, "kl": kl, "js": js, "w1": np.abs(s)})
