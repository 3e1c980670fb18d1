"""Double descent: test error against the number of features, and its closed form for isotropic regression.

A min-norm (ridgeless) least-squares fit on ``p`` random features of ``n`` training points interpolates as soon as
``p >= n``. At ``p = n`` the interpolating solution is unique and wildly sensitive to label noise, so the test error
peaks; past it the min-norm solution gets smoother as ``p`` grows and the test error descends a second time. A small
ridge penalty removes the peak. For isotropic Gaussian features the whole curve has a closed form.

References: M. Belkin, D. Hsu, S. Ma, S. Mandal, *Reconciling modern machine-learning practice and the classical
bias-variance trade-off*, PNAS 116 (2019); T. Hastie, A. Montanari, S. Rosset, R. J. Tibshirani, *Surprises in
high-dimensional ridgeless least squares interpolation*, Ann. Statist. 50 (2022), arXiv:1903.08560;
S. Mei, A. Montanari, *The generalization error of random features regression*, CPAM 75 (2022).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core._validation import check_array, check_int, check_real

INPUT_DIM = 10  # d of the random-features recipe in SCIENCE.md
QUANTILES = (0.25, 0.75)  # the spread band over trials
CHUNK = 5  # trials computed together (vectorised)
MAX_CELLS = 5_000_000  # (train + test points) x features per trial: with CHUNK, at most ~200 MB of features


def feature_grid(n_train: int, *, max_ratio: float = 10.0) -> tuple[int, ...]:
    """Numbers of features ``p`` for a double-descent sweep: log-spaced, dense around ``p = n``.

    Parameters
    ----------
    n_train : int
        Number of training points ``n`` (>= 4).
    max_ratio : float
        The largest ``p`` is ``max_ratio * n`` (> 1).

    Returns
    -------
    tuple of int
        Sorted distinct ``p`` from about ``n / 20`` to ``max_ratio * n``, always containing ``n - 1``, ``n`` and
        ``n + 1`` and ten more points within 20% of ``n``.
    """
    n = check_int(n_train, "n_train", low=4)
    top = check_real(max_ratio, "max_ratio", low=1.0, low_inclusive=False)
    coarse = np.geomspace(max(1.0, n / 20), top * n, 16)  # (16,) log-spaced
    near = n * (1 + np.array([-0.2, -0.1, -0.05, -0.02, 0.02, 0.05, 0.1, 0.2]))  # (8,) around the peak
    grid = np.concatenate([coarse, near, [n - 1, n, n + 1]])
    return tuple(int(p) for p in np.unique(np.clip(np.rint(grid), 1, None)))


def ridgeless_risk(gamma: float | Sequence[float] | np.ndarray, *, signal: float, noise: float) -> np.ndarray:
    r"""Asymptotic excess test risk of min-norm least squares on isotropic features (Hastie et al. 2019).

    With :math:`\gamma = p / n`, :math:`r = \|\beta\|` and noise standard deviation :math:`\sigma`,

    .. math::

        R(\gamma) = \sigma^2 \frac{\gamma}{1 - \gamma} \quad (\gamma < 1), \qquad
        R(\gamma) = r^2 \Big(1 - \frac{1}{\gamma}\Big) + \frac{\sigma^2}{\gamma - 1} \quad (\gamma > 1),

    and :math:`R(1) = \infty`. Below the threshold the fit is unbiased and only the noise is amplified; above
    it the min-norm solution misses a fraction :math:`1 - 1/\gamma` of the signal (bias) but the variance falls.

    Parameters
    ----------
    gamma : float or array of shape (k,)
        Ratios ``p / n`` (> 0).
    signal : float
        The signal strength ``r = |beta|`` (>= 0).
    noise : float
        The label-noise standard deviation ``sigma`` (>= 0).

    Returns
    -------
    ndarray of shape (k,) (or 0-d for a scalar)
        Excess risk E[(x . (beta_hat - beta))^2] in squared output units; ``inf`` at ``gamma = 1``.

    Examples
    --------
    >>> ridgeless_risk([0.5, 2.0], signal=1.0, noise=0.5).round(3).tolist()
    [0.25, 0.75]
    """
    g = check_array(gamma, "gamma", ndim=(0, 1))
    if np.any(g <= 0):
        raise ValueError(f"`gamma` must be > 0 (gamma = p / n). Got minimum {g.min():.3g} instead.")
    r2 = check_real(signal, "signal", low=0.0) ** 2
    s2 = check_real(noise, "noise", low=0.0) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        under = s2 * g / (1 - g)
        over = r2 * (1 - 1 / g) + s2 / (g - 1)
    return np.where(g < 1, under, np.where(g > 1, over, np.inf))


def _min_norm_fit(F: np.ndarray, y: np.ndarray, ridge: float) -> np.ndarray:
    """Coefficients ``a`` minimising ``|F a - y|^2 + ridge |a|^2`` (the min-norm least-squares fit if ridge = 0).

    ``F`` has shape (T, n, p) (T independent problems) and ``y`` shape (T, n). Solves the smaller normal equations:
    ``(F^T F + ridge I) a = F^T y`` when ``p < n``, else ``a = F^T (F F^T + ridge I)^{-1} y`` (for ``ridge = 0``
    this is ``pinv(F) y`` whenever ``F`` has full rank). A problem that is exactly singular (e.g. a ReLU feature that
    is zero on every training point) falls back to ``np.linalg.lstsq``, whose solution is min-norm in any case.
    """
    T, n, p = F.shape
    Ft = np.swapaxes(F, 1, 2)  # (T, p, n)
    primal = p < n
    A = Ft @ F if primal else F @ Ft  # (T, p, p) or (T, n, n)
    A += ridge * np.eye(A.shape[-1])
    rhs = (Ft @ y[:, :, None]) if primal else y[:, :, None]  # (T, p, 1) or (T, n, 1)
    try:
        sol = np.linalg.solve(A, rhs)[..., 0]  # (T, p) or (T, n)
    except np.linalg.LinAlgError:  # only possible for ridge = 0: with ridge > 0 the system is positive definite
        return np.stack([np.linalg.lstsq(F[t], y[t], rcond=None)[0] for t in range(T)])  # (T, p)
    return sol if primal else (Ft @ sol[:, :, None])[..., 0]  # (T, p)


def _target(X: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The target (u.x + ((v.x)^2 - 1) / sqrt 2) / sqrt 2 per trial: unit variance, half linear, half quadratic.

    ``X`` has shape (T, n, d), ``u`` and ``v`` shape (T, d); returns shape (T, n).
    """
    ux, vx = np.einsum("tnd,td->tn", X, u), np.einsum("tnd,td->tn", X, v)  # (T, n) each
    return (ux + (vx**2 - 1) / np.sqrt(2)) / np.sqrt(2)


def _unit(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """Rows uniform on the unit sphere."""
    g = rng.normal(size=shape)
    return g / np.linalg.norm(g, axis=-1, keepdims=True)


def _check_grid(n_features: Sequence[int], *, max_p: int) -> tuple[int, ...]:
    ps = check_array(n_features, "n_features", ndim=1)
    if np.any(ps < 1) or np.any(ps != np.rint(ps)):
        raise ValueError(f"`n_features` must hold positive integers (numbers of features). Got {ps.tolist()} instead.")
    if ps.max() > max_p:
        raise ValueError(f"`n_features` must be <= {max_p} at this n (memory). Got maximum {int(ps.max())} instead.")
    return tuple(int(p) for p in np.unique(ps))


def _rf_trials(
    rng: np.random.Generator, T: int, n: int, m: int, ps: tuple[int, ...], sigma: float, lam: float
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test MSE, shape (T, len(ps)) each, of ``T`` independent random-features trials at once."""
    d, pmax = INPUT_DIM, ps[-1]
    u, v = _unit(rng, (T, d)), _unit(rng, (T, d))  # (T, d) target directions, one pair per trial
    X, Xt = rng.normal(size=(T, n, d)), rng.normal(size=(T, m, d))  # (T, n, d), (T, m, d)
    y = _target(X, u, v) + sigma * rng.normal(size=(T, n))  # (T, n) noisy labels
    f_test = _target(Xt, u, v)  # (T, m) noise-free
    W = rng.normal(size=(T, d, pmax))  # (T, d, pmax) frozen first-layer weights
    Z = np.maximum(X @ W / np.sqrt(d), 0.0)  # (T, n, pmax) unscaled features
    Zt = np.maximum(Xt @ W / np.sqrt(d), 0.0)  # (T, m, pmax)
    train, test = np.empty((T, len(ps))), np.empty((T, len(ps)))
    for j, p in enumerate(ps):
        F = Z[:, :, :p] / np.sqrt(p)  # (T, n, p) scaled features
        a = _min_norm_fit(F, y, lam)[:, :, None] / np.sqrt(p)  # (T, p, 1), scaled so that F a = Z a'
        train[:, j] = np.mean(((Z[:, :, :p] @ a)[..., 0] - y) ** 2, axis=1)
        test[:, j] = np.mean(((Zt[:, :, :p] @ a)[..., 0] - f_test) ** 2, axis=1)
    return train, test


def random_features_curve(
    *,
    n_train: int = 100,
    n_features: Sequence[int] | None = None,
    noise: float = 0.2,
    ridge: float = 0.0,
    n_trials: int = 10,
    n_test: int = 500,
    seed: int = 0,
) -> pd.DataFrame:
    r"""Train and test error of min-norm least squares on ``p`` random ReLU features, for each ``p``.

    Inputs :math:`x \sim N(0, I_{10})`, target :math:`f(x) = (u \cdot x + ((v \cdot x)^2 - 1)/\sqrt 2)/\sqrt 2`
    with fixed unit vectors ``u, v`` (unit variance), labels :math:`y = f(x) + \sigma \varepsilon`. Features
    :math:`\phi_j(x) = \mathrm{ReLU}(w_j \cdot x / \sqrt{10}) / \sqrt p` with frozen Gaussian :math:`w_j`; the
    fit minimises :math:`\|\Phi a - y\|^2 + \lambda \|a\|^2`, and for :math:`\lambda = 0` takes the min-norm
    least-squares solution :math:`a = \Phi^+ y`. Each trial draws new ``u, v``, data and features (the features
    are nested: the first ``p`` of one pool of ``max(n_features)``).

    Parameters
    ----------
    n_train : int
        Training points ``n`` (the peak sits at ``p = n``).
    n_features : sequence of int, optional
        The numbers of features ``p`` to fit; default :func:`feature_grid` of ``n_train``.
    noise : float
        Label-noise standard deviation ``sigma`` (>= 0).
    ridge : float
        The ridge penalty ``lambda`` on the summed squared error (>= 0; 0 is the min-norm interpolator).
    n_trials : int
        Independent repetitions; the curve is their median.
    n_test : int
        Test points per trial.
    seed : int
        Seed of all randomness.

    Returns
    -------
    DataFrame
        One row per ``p``: ``n_features``, ``gamma`` (= p / n), ``train_mse`` and ``test_mse`` (medians over trials;
        train against the noisy labels, test against the noise-free target, i.e. the excess risk),
        ``test_q25`` and ``test_q75`` (quartiles over trials), ``ridge`` (the ``lambda`` used).

    References
    ----------
    Belkin et al., PNAS 2019; Mei & Montanari, CPAM 2022.
    """
    n = check_int(n_train, "n_train", low=4, high=2000)
    m = check_int(n_test, "n_test", low=10, high=20_000)
    ps = _check_grid(feature_grid(n) if n_features is None else n_features, max_p=MAX_CELLS // (n + m))
    sigma = check_real(noise, "noise", low=0.0, high=10.0)
    lam = check_real(ridge, "ridge", low=0.0)
    trials = check_int(n_trials, "n_trials", low=1, high=200)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    chunks = [_rf_trials(rng, min(CHUNK, trials - t), n, m, ps, sigma, lam) for t in range(0, trials, CHUNK)]
    train, test = (np.concatenate(parts) for parts in zip(*chunks))  # (trials, len(ps)) each
    q_lo, q_hi = np.quantile(test, QUANTILES, axis=0)
    return pd.DataFrame(
        {
            "n_features": ps,
            "gamma": np.asarray(ps) / n,
            "train_mse": np.median(train, axis=0),
            "test_mse": np.median(test, axis=0),
            "test_q25": q_lo,
            "test_q75": q_hi,
            "ridge": lam,
        }
    )


def stack_curves(*curves: pd.DataFrame) -> pd.DataFrame:
    """Stack :func:`random_features_curve` outputs (e.g. ridgeless and with a ridge) into one long table.

    Curves with the same ``ridge`` appear once (the first one is kept); the ``ridge`` column tells them apart.
    """
    if not curves or not all(isinstance(c, pd.DataFrame) and "ridge" in c.columns for c in curves):
        raise ValueError("`curves` must be one or more outputs of random_features_curve (with a ridge column).")
    seen: dict[float, pd.DataFrame] = {}
    for c in curves:
        seen.setdefault(float(c.ridge.iloc[0]), c)
    return pd.concat(list(seen.values()), ignore_index=True)


def _iso_trials(rng: np.random.Generator, T: int, n: int, ps: tuple[int, ...], r: float, sigma: float) -> np.ndarray:
    """Excess risk |beta_hat - beta|^2, shape (T, len(ps)), of ``T`` isotropic min-norm regressions at once."""
    X = rng.normal(size=(T, n, ps[-1]))  # (T, n, pmax) nested isotropic features
    g = rng.normal(size=(T, ps[-1]))  # (T, pmax) direction of beta, renormalised for each p
    eps = sigma * rng.normal(size=(T, n))  # (T, n)
    risk = np.empty((T, len(ps)))
    for j, p in enumerate(ps):
        beta = r * g[:, :p] / np.linalg.norm(g[:, :p], axis=1, keepdims=True)  # (T, p), |beta| = r
        y = np.einsum("tnp,tp->tn", X[:, :, :p], beta) + eps  # (T, n)
        risk[:, j] = np.sum((_min_norm_fit(X[:, :, :p], y, 0.0) - beta) ** 2, axis=1)
    return risk


def isotropic_risk_curve(
    *,
    n_train: int = 100,
    n_features: Sequence[int] | None = None,
    signal: float = 1.0,
    noise: float = 0.2,
    n_trials: int = 10,
    seed: int = 0,
) -> pd.DataFrame:
    r"""Simulated excess risk of min-norm least squares on isotropic Gaussian features, beside its closed form.

    For each ``p``: :math:`x \sim N(0, I_p)`, :math:`\beta` uniform on the sphere of radius ``signal``,
    :math:`y = x \cdot \beta + \sigma \varepsilon`, :math:`\hat\beta = X^+ y`. The excess risk
    :math:`E_x[(x \cdot (\hat\beta - \beta))^2] = \|\hat\beta - \beta\|^2` is exact for isotropic ``x``, so no test
    set is needed. Its mean over trials should match :func:`ridgeless_risk` at ``gamma = p / n`` (up to finite-``n``
    corrections, e.g. the exact mean :math:`\sigma^2 p / (n - p - 1)` below the threshold).

    Parameters
    ----------
    n_train : int
        Training points ``n``.
    n_features : sequence of int, optional
        Dimensions ``p``; default :func:`feature_grid` of ``n_train`` without ``p = n`` (where the risk is infinite).
    signal : float
        ``|beta|`` (>= 0).
    noise : float
        Label-noise standard deviation (>= 0).
    n_trials : int
        Repetitions averaged per ``p``.
    seed : int
        Seed of all randomness.

    Returns
    -------
    DataFrame
        One row per ``p``: ``n_features``, ``gamma``, ``simulated`` (mean over trials), ``simulated_median`` and
        ``theory`` (:func:`ridgeless_risk`), all excess risks in squared output units.
    """
    n = check_int(n_train, "n_train", low=4, high=2000)
    grid = [p for p in feature_grid(n) if p != n] if n_features is None else n_features
    ps = _check_grid(grid, max_p=MAX_CELLS // n)
    r = check_real(signal, "signal", low=0.0, high=100.0)
    sigma = check_real(noise, "noise", low=0.0, high=10.0)
    trials = check_int(n_trials, "n_trials", low=1, high=500)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    risk = np.concatenate([_iso_trials(rng, min(CHUNK, trials - t), n, ps, r, sigma) for t in range(0, trials, CHUNK)])
    gammas = np.asarray(ps) / n
    return pd.DataFrame(
        {
            "n_features": ps,
            "gamma": gammas,
            "simulated": risk.mean(axis=0),
            "simulated_median": np.median(risk, axis=0),
            "theory": ridgeless_risk(gammas, signal=r, noise=sigma),
        }
    )


def ridgeless_risk_curve(
    *, signal: float = 1.0, noise: float = 0.2, gamma_range: tuple[float, float] = (0.05, 10.0), n_points: int = 400
) -> pd.DataFrame:
    """:func:`ridgeless_risk` on a log-spaced grid of ``gamma`` (skipping ``gamma = 1``), for a smooth theory line.

    Returns
    -------
    DataFrame
        Columns ``gamma`` and ``theory`` (excess risk, squared output units).
    """
    lo, hi = (check_real(g, "gamma_range", low=0.0, low_inclusive=False) for g in gamma_range)
    if hi <= lo:
        raise ValueError(f"`gamma_range` must be (smallest, largest) with smallest < largest. Got {gamma_range}.")
    g = np.geomspace(lo, hi, check_int(n_points, "n_points", low=2, high=100_000))  # (n_points,)
    g = g[np.abs(g - 1) > 1e-9]
    return pd.DataFrame({"gamma": g, "theory": ridgeless_risk(g, signal=signal, noise=noise)})


def isotropic_agreement(curve: pd.DataFrame, *, margin: float = 0.2) -> float:
    """Largest relative gap between simulation and theory in :func:`isotropic_risk_curve`, away from ``gamma = 1``.

    Parameters
    ----------
    curve : DataFrame
        The output of :func:`isotropic_risk_curve`.
    margin : float
        Leave out ``|gamma - 1| <= margin``, where the finite-``n`` mean diverges before the limit does.

    Returns
    -------
    float
        ``max |simulated - theory| / theory`` over the remaining rows with ``theory > 0`` (``nan`` if none).
    """
    m = check_real(margin, "margin", low=0.0)
    if not {"gamma", "simulated", "theory"} <= set(curve.columns):
        raise ValueError("`curve` must be the output of isotropic_risk_curve (columns gamma, simulated, theory).")
    rows = curve[(np.abs(curve.gamma - 1) > m) & (curve.theory > 0)]
    return float((np.abs(rows.simulated - rows.theory) / rows.theory).max()) if len(rows) else float("nan")


@dataclass(frozen=True)
class PeakSummary:
    """Where a double-descent curve peaked, and its lowest test error on either side of ``p = n`` (squared units)."""

    n_train: int  # training points n
    peak_p: int  # p with the largest median test error
    peak_mse: float
    at_n_mse: float  # median test error at the p closest to n
    under_p: int  # p < n with the smallest test error (the classical sweet spot); -1 if none was swept
    under_mse: float
    over_p: int  # p > n with the smallest test error (the bottom of the second descent); -1 if none was swept
    over_mse: float

    @property
    def second_descent_wins(self) -> bool:
        """Whether the overparameterised side gets below the classical sweet spot."""
        return self.over_mse < self.under_mse


def peak_summary(curve: pd.DataFrame, n_train: int, *, ridge: float = 0.0) -> PeakSummary:
    """Read the peak and the best test error below and above ``p = n`` from :func:`random_features_curve`.

    Parameters
    ----------
    curve : DataFrame
        With columns ``n_features`` and ``test_mse`` (one row per ``p``), e.g. from :func:`random_features_curve`
        or :func:`stack_curves`.
    n_train : int
        The ``n`` the curve was computed with.
    ridge : float
        When ``curve`` has a ``ridge`` column, summarise the rows with this ``lambda``.

    Returns
    -------
    PeakSummary
        Sides with no swept ``p`` get ``p = -1`` and an infinite error.
    """
    n = check_int(n_train, "n_train", low=1)
    if not {"n_features", "test_mse"} <= set(curve.columns) or len(curve) == 0:
        raise ValueError("`curve` must be the output of random_features_curve (columns n_features, test_mse).")
    if "ridge" in curve.columns:
        curve = curve[curve.ridge == check_real(ridge, "ridge", low=0.0)]
        if curve.empty:
            raise ValueError(f"`ridge` must be one of the curve's ridges. Got {ridge} instead.")
    p = curve.n_features.to_numpy()
    mse = curve.test_mse.to_numpy(dtype=float)

    def best(mask: np.ndarray) -> tuple[int, float]:
        if not mask.any():
            return -1, float("inf")
        k = np.flatnonzero(mask)[np.argmin(mse[mask])]
        return int(p[k]), float(mse[k])

    i = int(np.argmax(mse))
    return PeakSummary(
        n_train=n,
        peak_p=int(p[i]),
        peak_mse=float(mse[i]),
        at_n_mse=float(mse[np.argmin(np.abs(p - n))]),
        under_p=best(p < n)[0],
        under_mse=best(p < n)[1],
        over_p=best(p > n)[0],
        over_mse=best(p > n)[1],
    )


# ---------------------------------------------------------------------------------------------------------------
# Why the peak: the fitted function, bias and variance, and the sample-wise view


def fit_along_line(
    *,
    n_train: int = 100,
    n_features: Sequence[int] = (40, 100, 1000),
    noise: float = 0.2,
    ridge: float = 0.0,
    seed: int = 0,
    n_grid: int = 201,
) -> pd.DataFrame:
    r"""The fitted functions of :func:`random_features_curve`'s recipe along one line through input space.

    One trial (target, ``n_train`` noisy points in 10 dimensions, one pool of frozen ReLU features); for each
    ``p`` the min-norm (or ridge) fit on the first ``p`` features. Predictions and the target are evaluated on
    :math:`x(t) = t\,(u + v)/\|u + v\|`, :math:`t \in [-3, 3]`, a line through the origin along which the
    target has both its linear and its quadratic part. Near ``p = n`` the one interpolating fit swings far
    from the target; below it the fit is too rigid, far above it the smallest-norm interpolant is calm.

    Returns
    -------
    DataFrame
        Long format: ``t`` (position on the line), ``series`` ("target" or "p = ..."), ``n_features`` (0 for the
        target), ``y``.
    """
    n = check_int(n_train, "n_train", low=4, high=2000)
    ps = _check_grid(n_features, max_p=MAX_CELLS // n)
    sigma = check_real(noise, "noise", low=0.0, high=10.0)
    lam = check_real(ridge, "ridge", low=0.0)
    t = np.linspace(-3, 3, check_int(n_grid, "n_grid", low=2, high=100_000))  # (G,)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    d = INPUT_DIM
    u, v = _unit(rng, (1, d)), _unit(rng, (1, d))  # (1, d) each
    X = rng.normal(size=(1, n, d))  # (1, n, d)
    y = _target(X, u, v) + sigma * rng.normal(size=(1, n))  # (1, n)
    direction = (u + v) / np.linalg.norm(u + v)  # (1, d)
    line = t[None, :, None] * direction[:, None, :]  # (1, G, d)
    W = rng.normal(size=(1, d, ps[-1]))  # (1, d, pmax)
    Z, Zl = (np.maximum(A @ W / np.sqrt(d), 0.0) for A in (X, line))  # (1, n, pmax), (1, G, pmax)
    frames = [pd.DataFrame({"t": t, "series": "target", "n_features": 0, "y": _target(line, u, v)[0]})]
    for p in ps:
        a = _min_norm_fit(Z[:, :, :p] / np.sqrt(p), y, lam)[:, :, None] / np.sqrt(p)  # (1, p, 1)
        frames.append(pd.DataFrame({"t": t, "series": f"p = {p}", "n_features": p, "y": (Zl[:, :, :p] @ a)[0, :, 0]}))
    return pd.concat(frames, ignore_index=True)


def _rf_predictions(
    rng: np.random.Generator, T: int, n: int, Xt: np.ndarray, u: np.ndarray, v: np.ndarray, ps: tuple, sigma: float,
    lam: float,
) -> np.ndarray:  # fmt: skip
    """Test predictions, shape (T, len(ps), m), of ``T`` trials with new data and features but one fixed target."""
    d, pmax, m = INPUT_DIM, ps[-1], len(Xt)
    X = rng.normal(size=(T, n, d))  # (T, n, d)
    y = _target(X, np.broadcast_to(u, (T, d)), np.broadcast_to(v, (T, d))) + sigma * rng.normal(size=(T, n))
    W = rng.normal(size=(T, d, pmax))  # (T, d, pmax)
    Z = np.maximum(X @ W / np.sqrt(d), 0.0)  # (T, n, pmax)
    Zt = np.maximum(np.broadcast_to(Xt, (T, m, d)) @ W / np.sqrt(d), 0.0)  # (T, m, pmax)
    out = np.empty((T, len(ps), m))
    for j, p in enumerate(ps):
        a = _min_norm_fit(Z[:, :, :p] / np.sqrt(p), y, lam)[:, :, None] / np.sqrt(p)  # (T, p, 1)
        out[:, j] = (Zt[:, :, :p] @ a)[..., 0]
    return out


def bias_variance_curve(
    *,
    n_train: int = 100,
    n_features: Sequence[int] | None = None,
    noise: float = 0.2,
    ridge: float = 0.0,
    n_trials: int = 20,
    n_test: int = 300,
    seed: int = 0,
) -> pd.DataFrame:
    r"""The test error of the random-features fit split into squared bias and variance over trials.

    One target (:func:`random_features_curve`'s, with fixed ``u, v``) and one set of test inputs; every trial
    draws new training data, label noise and features. With :math:`\bar f(x)` the mean prediction over trials,
    :math:`\text{bias}^2 = \text{mean}_x (\bar f(x) - f(x))^2`, :math:`\text{variance} = \text{mean}_x
    \text{mean}_t (\hat f_t(x) - \bar f(x))^2`, and their sum is exactly the mean test error over trials. The
    peak at ``p = n`` is variance: the interpolant depends wildly on the sample.

    Returns
    -------
    DataFrame
        Long format: ``n_features``, ``gamma`` (p / n), ``part`` ("bias²", "variance", "test error"), ``value``
        (squared output units), ``ridge``.
    """
    n = check_int(n_train, "n_train", low=4, high=2000)
    m = check_int(n_test, "n_test", low=10, high=20_000)
    ps = _check_grid(feature_grid(n) if n_features is None else n_features, max_p=MAX_CELLS // (n + m))
    sigma = check_real(noise, "noise", low=0.0, high=10.0)
    lam = check_real(ridge, "ridge", low=0.0)
    trials = check_int(n_trials, "n_trials", low=2, high=500)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    u, v = _unit(rng, (1, INPUT_DIM))[0], _unit(rng, (1, INPUT_DIM))[0]  # (d,) each: the one target
    Xt = rng.normal(size=(m, INPUT_DIM))  # (m, d)
    f_test = _target(Xt[None], u[None], v[None])[0]  # (m,)
    pred = np.concatenate(
        [_rf_predictions(rng, min(CHUNK, trials - t), n, Xt, u, v, ps, sigma, lam) for t in range(0, trials, CHUNK)]
    )  # (trials, len(ps), m)
    mean = pred.mean(axis=0)  # (len(ps), m)
    parts = {
        "bias²": np.mean((mean - f_test) ** 2, axis=1),
        "variance": np.mean((pred - mean) ** 2, axis=(0, 2)),
        "test error": np.mean((pred - f_test) ** 2, axis=(0, 2)),
    }
    return pd.concat(
        [pd.DataFrame({"n_features": ps, "gamma": np.asarray(ps) / n, "part": k, "value": v_, "ridge": lam})
         for k, v_ in parts.items()],
        ignore_index=True,
    )  # fmt: skip


def samplewise_curve(
    *,
    n_features: int = 100,
    n_trains: Sequence[int] | None = None,
    noise: float = 0.2,
    ridge: float = 0.0,
    n_trials: int = 10,
    n_test: int = 500,
    seed: int = 0,
) -> pd.DataFrame:
    """Sample-wise double descent: test error against the number of training points ``n`` at a fixed ``p``.

    Each ``n`` is one :func:`random_features_curve` at ``n_features=[p]`` (median over trials); by default ``n``
    runs over :func:`feature_grid` of ``p`` (up to ``4 p``, dense around ``n = p``, at least 4). More data can
    hurt: the error peaks where ``n = p``, the same interpolation threshold seen from the other side.

    Returns
    -------
    DataFrame
        One row per ``n``: ``n_train``, ``n_features``, ``train_mse``, ``test_mse``, ``test_q25``, ``test_q75``,
        ``ridge``.
    """
    p = check_int(n_features, "n_features", low=1, high=5000)
    default = [n for n in feature_grid(max(p, 4), max_ratio=4.0) if n >= 4]  # the p-grid's shape, n >= 4
    grid = sorted({int(n) for n in (default if n_trains is None else n_trains)})
    if not grid or grid[0] < 4:
        raise ValueError(f"`n_trains` must list numbers of training points >= 4. Got {grid} instead.")
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    seeds = rng.integers(0, 2**31, len(grid))
    rows = [
        random_features_curve(n_train=n, n_features=[p], noise=noise, ridge=ridge, n_trials=n_trials, n_test=n_test,
                              seed=int(s)).assign(n_train=n)
        for n, s in zip(grid, seeds, strict=True)
    ]  # fmt: skip
    out = pd.concat(rows, ignore_index=True)
    return out[["n_train", "n_features", "train_mse", "test_mse", "test_q25", "test_q75", "ridge"]]
