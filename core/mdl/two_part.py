"""Minimum description length: the best model is the one that gives the shortest total message.

A two-part code first sends the model (its parameters at a precision of about 1/sqrt(n)), then the data with the
model's help (the residuals under a Gaussian noise model). For polynomial regression the crude two-part code is

    L(d) = (k/2) log2 n + (n/2) log2(2 pi e RSS_d / n)  bits,  k = d + 1,

which equals BIC / (2 ln 2). Also here: the chapter's "1000 numbers" example as three explicit codes, and weight
penalties (L2, L1) read as the code length of quantised weights under a Gaussian or Laplace prior.

Reference: Rissanen (1978), "Modeling by shortest data description", Automatica 14; Grünwald (2007), *The Minimum
Description Length Principle*, MIT Press, chapters 1 and 5.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from numpy.polynomial import legendre
from scipy.optimize import minimize
from sklearn.model_selection import KFold

from core._validation import check_array, check_choice, check_int, check_positive, check_real
from core.kolmogorov.compression import compressed_bits

CRITERIA = ("mdl", "bic", "aic", "cv")
LN2 = np.log(2.0)


def _check_xy(x: object, y: object, max_degree: int) -> tuple[np.ndarray, np.ndarray]:
    x = check_array(x, "x", ndim=1)
    y = check_array(y, "y", ndim=1)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"`x` and `y` must have the same length. Got {x.shape[0]} and {y.shape[0]} instead.")
    distinct = np.unique(x).size
    if distinct < max_degree + 2:
        raise ValueError(
            f"`x` must have at least max_degree + 2 = {max_degree + 2} distinct values (so that every degree up to "
            f"{max_degree} leaves a residual). Got {distinct} instead; lower `max_degree` or add points."
        )
    return x, y


def _scaled(x: np.ndarray, ref: np.ndarray | None = None) -> np.ndarray:
    """Map x affinely so that the reference sample spans [-1, 1] (keeps the Legendre basis well conditioned)."""
    ref = x if ref is None else ref
    lo, hi = float(ref.min()), float(ref.max())
    return (2.0 * x - (lo + hi)) / (hi - lo)


def _fit(xs: np.ndarray, y: np.ndarray, degree: int) -> np.ndarray:
    """Least-squares Legendre coefficients, shape (degree + 1,)."""
    V = legendre.legvander(xs, degree)  # (n, degree + 1)
    return np.linalg.lstsq(V, y, rcond=None)[0]


def _gauss_bits(rss: float, n: int, scale: float) -> float:
    """(n/2) log2(2 pi e RSS/n), with RSS/n floored at (1e-9 * scale)^2 so a perfect fit stays finite."""
    var = max(rss / n, (1e-9 * scale) ** 2, np.finfo(float).tiny)
    return 0.5 * n * np.log2(2 * np.pi * np.e * var)


def polynomial_description_lengths(x: np.ndarray, y: np.ndarray, *, max_degree: int) -> pd.DataFrame:
    r"""Crude two-part code length of polynomial fits of every degree 0..max_degree.

    .. math::
        L_{model}(d) = \tfrac{k}{2}\log_2 n, \quad L_{data}(d) = \tfrac{n}{2}\log_2(2\pi e\, RSS_d/n),
        \quad k = d + 1

    ``bic = n ln(2 pi e RSS/n) + k ln n`` and ``aic = n ln(2 pi e RSS/n) + 2k`` are -2 ln L + penalty in nats, so
    ``total_bits == bic / (2 ln 2)``. The fit is least squares in the Legendre basis on x mapped to [-1, 1].
    RSS/n is floored at (1e-9 std(y))^2: with continuous data only differences between models mean anything.

    Parameters
    ----------
    x, y : array, shape (n,)
        Inputs and targets (finite); x needs at least max_degree + 2 distinct values.
    max_degree : int
        Largest degree tried (>= 0).

    Returns
    -------
    DataFrame
        One row per degree: degree, k, rss, model_bits, data_bits, total_bits (bits), bic, aic (nats).
    """
    max_degree = check_int(max_degree, "max_degree", low=0, high=60)
    x, y = _check_xy(x, y, max_degree)
    n = x.shape[0]
    xs = _scaled(x)
    scale = float(np.std(y)) or 1.0
    rows = []
    for d in range(max_degree + 1):
        resid = y - legendre.legval(xs, _fit(xs, y, d))  # (n,)
        rss = float(resid @ resid)
        k = d + 1
        model_bits = 0.5 * k * np.log2(n)
        data_bits = _gauss_bits(rss, n, scale)
        nll2 = 2 * LN2 * data_bits  # -2 ln L at the ML variance, in nats
        rows.append(
            {
                "degree": d,
                "k": k,
                "rss": rss,
                "model_bits": model_bits,
                "data_bits": data_bits,
                "total_bits": model_bits + data_bits,
                "bic": nll2 + k * np.log(n),
                "aic": nll2 + 2 * k,
            }
        )
    return pd.DataFrame(rows)


def cv_bits(x: np.ndarray, y: np.ndarray, *, max_degree: int, n_folds: int = 5, seed: int = 0) -> pd.DataFrame:
    """K-fold cross-validation error per degree, also as held-out data bits.

    Shuffled ``sklearn.model_selection.KFold(n_folds, random_state=seed)``; each fold is fitted on the rest and
    scored on itself; ``mse`` pools the squared errors of all held-out points and ``cv_bits`` is
    (n/2) log2(2 pi e mse), the data bits the model would need for points it did not see.

    Returns
    -------
    DataFrame
        degree, mse, cv_bits (bits).
    """
    max_degree = check_int(max_degree, "max_degree", low=0, high=60)
    n_folds = check_int(n_folds, "n_folds", low=2)
    seed = check_int(seed, "seed", low=0)
    x, y = _check_xy(x, y, max_degree)
    n = x.shape[0]
    smallest_train = n - int(np.ceil(n / n_folds))
    if smallest_train < max_degree + 2:
        raise ValueError(
            f"Each training fold must have at least max_degree + 2 = {max_degree + 2} points. Got {smallest_train} "
            "instead; add points, lower `max_degree`, or use more folds."
        )
    folds = list(KFold(n_splits=n_folds, shuffle=True, random_state=seed).split(x))
    scale = float(np.std(y)) or 1.0
    rows = []
    for d in range(max_degree + 1):
        sq = 0.0
        for train, test in folds:
            xs_tr, xs_te = _scaled(x[train]), _scaled(x[test], ref=x[train])
            resid = y[test] - legendre.legval(xs_te, _fit(xs_tr, y[train], d))
            sq += float(resid @ resid)
        rows.append({"degree": d, "mse": sq / n, "cv_bits": _gauss_bits(sq, n, scale)})
    return pd.DataFrame(rows)


def selection_scores(x: np.ndarray, y: np.ndarray, *, max_degree: int, n_folds: int = 5, seed: int = 0) -> pd.DataFrame:
    """Every criterion's score per degree in bits, and its excess over that criterion's minimum.

    mdl = total_bits; bic and aic divided by 2 ln 2 (nats of -2 ln L to bits); cv = held-out data bits
    (:func:`cv_bits`). Each criterion picks the degree with zero ``excess_bits`` (the smallest degree on ties).

    Returns
    -------
    DataFrame
        Long format: degree, criterion, bits, excess_bits, picked (bool).
    """
    dl = polynomial_description_lengths(x, y, max_degree=max_degree)
    cv = cv_bits(x, y, max_degree=max_degree, n_folds=n_folds, seed=seed)
    scores = {
        "mdl": dl["total_bits"].to_numpy(),
        "bic": dl["bic"].to_numpy() / (2 * LN2),
        "aic": dl["aic"].to_numpy() / (2 * LN2),
        "cv": cv["cv_bits"].to_numpy(),
    }
    frames = []
    for name, bits in scores.items():
        frames.append(
            pd.DataFrame(
                {
                    "degree": dl["degree"],
                    "criterion": name,
                    "bits": bits,
                    "excess_bits": bits - bits.min(),
                    "picked": np.arange(bits.size) == int(np.argmin(bits)),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def select_degree(
    x: np.ndarray, y: np.ndarray, *, max_degree: int, criterion: str = "mdl", n_folds: int = 5, seed: int = 0
) -> int:
    """The degree in 0..max_degree that a criterion picks.

    ``"mdl"`` minimises the two-part code length, ``"bic"``/``"aic"`` the information criteria, ``"cv"`` the
    pooled squared error of shuffled ``n_folds``-fold cross-validation with ``seed`` (see :func:`cv_bits`).
    """
    check_choice(criterion, "criterion", CRITERIA)
    if criterion == "cv":
        return int(cv_bits(x, y, max_degree=max_degree, n_folds=n_folds, seed=seed)["cv_bits"].idxmin())
    dl = polynomial_description_lengths(x, y, max_degree=max_degree)
    column = {"mdl": "total_bits", "bic": "bic", "aic": "aic"}[criterion]
    return int(dl.loc[dl[column].idxmin(), "degree"])


def polynomial_fits(x: np.ndarray, y: np.ndarray, *, degrees: tuple[int, ...], n_grid: int = 200) -> pd.DataFrame:
    """Least-squares polynomial curves of the given degrees on a grid spanning x.

    Returns
    -------
    DataFrame
        Long format: degree, x, y_hat (``n_grid`` rows per degree).
    """
    degrees = tuple(check_int(d, "degrees", low=0, high=60) for d in degrees)
    n_grid = check_int(n_grid, "n_grid", low=2)
    x, y = _check_xy(x, y, max(degrees, default=0))
    grid = np.linspace(x.min(), x.max(), n_grid)  # (n_grid,)
    xs, gs = _scaled(x), _scaled(grid, ref=x)
    frames = [pd.DataFrame({"degree": d, "x": grid, "y_hat": legendre.legval(gs, _fit(xs, y, d))}) for d in degrees]
    return pd.concat(frames, ignore_index=True)


def polynomial_data(*, degree: int = 3, noise: float = 0.3, n: int = 60, seed: int = 0) -> pd.DataFrame:
    """Noisy samples of a random polynomial of a known degree.

    x ~ Uniform[-1, 1] (sorted); the truth is sum_j c_j P_j(x) in the Legendre basis with |c_j| ~ U[0.5, 1.5] and
    random signs, so every degree up to ``degree`` contributes visibly; y = truth + Normal(0, noise^2).

    Returns
    -------
    DataFrame
        x, y, y_true (n rows).
    """
    degree = check_int(degree, "degree", low=0, high=30)
    noise = check_real(noise, "noise", low=0.0)
    n = check_int(n, "n", low=2)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    x = np.sort(rng.uniform(-1.0, 1.0, n))  # (n,)
    coef = rng.choice([-1.0, 1.0], degree + 1) * rng.uniform(0.5, 1.5, degree + 1)  # (degree + 1,)
    y_true = legendre.legval(x, coef)
    return pd.DataFrame({"x": x, "y": y_true + noise * rng.standard_normal(n), "y_true": y_true})


def rule_with_exceptions(
    *, n: int = 1000, slope: int = 3, intercept: int = 7, n_exceptions: int = 5, value_bits: int = 16, seed: int = 0
) -> np.ndarray:
    """The chapter's 1000 numbers: x_i = slope * i + intercept, except at a few random positions.

    Exceptions sit at ``n_exceptions`` distinct random positions and take a random value in [0, 2^value_bits)
    that differs from the rule's. Returns an int64 array of shape (n,).
    """
    n = check_int(n, "n", low=2, high=100_000)
    n_exceptions = check_int(n_exceptions, "n_exceptions", low=0, high=n)
    value_bits = check_int(value_bits, "value_bits", low=2, high=62)
    slope, intercept = check_int(slope, "slope", low=0), check_int(intercept, "intercept", low=0)
    if slope * (n - 1) + intercept >= 2**value_bits:
        raise ValueError(
            f"`slope * (n - 1) + intercept` must be < 2^value_bits = {2**value_bits}. "
            f"Got {slope * (n - 1) + intercept} instead."
        )
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    values = slope * np.arange(n, dtype=np.int64) + intercept  # (n,)
    where = rng.choice(n, n_exceptions, replace=False)
    shift = rng.integers(1, 2**value_bits, n_exceptions)  # nonzero: an exception never equals the rule
    values[where] = (values[where] + shift) % 2**value_bits
    return values


def _gamma_bits(m: int) -> int:
    """Length of the Elias gamma code of a positive integer m: 2 floor(log2 m) + 1."""
    return 2 * (m.bit_length() - 1) + 1


def newton_coefficients(values: np.ndarray) -> list[int]:
    """Forward differences Delta^k v_0, k = 0..n-1: the exact integer coefficients of the interpolating polynomial.

    p(i) = sum_k Delta^k v_0 * C(i, k) passes through every (i, v_i); integers in, integers out (Python ints).
    """
    row = np.array([int(v) for v in values], dtype=object)  # (n,) Python ints: exact, no overflow
    coefs = []
    while row.size:
        coefs.append(int(row[0]))
        row = row[1:] - row[:-1]
    return coefs


def thousand_numbers_code(values: np.ndarray, *, value_bits: int = 16) -> pd.DataFrame:
    """Code lengths of a sequence of integers under explicit schemes (the chapter's 1000-number example).

    Both sides know n and ``value_bits``; all codes are prefix-free bit strings.

    - verbatim: n * value_bits.
    - rule + exceptions: rule x_i = a i + b with a = the most common step and b = the most common x_i - a i, each as
      a signed (value_bits + 1)-bit integer; then the exception count in ceil(log2(n + 1)) bits; then per exception
      its position in ceil(log2 n) bits and its value in value_bits bits.
    - interpolating polynomial: the degree-(n-1) polynomial through all n points in Newton form,
      p(i) = sum_k c_k C(i, k), whose coefficients c_k (forward differences) are exact integers. Each c_k is sent
      as a sign bit (omitted for 0), the Elias gamma code of bit_length(|c_k|) + 1, then its bit_length magnitude
      bits. The count depends on the basis the polynomial is written in:
    - polynomial, values at the nodes: the same polynomial in the Lagrange basis of the nodes i = 0..n-1, whose
      coefficients are its values p(i) = x_i, each in value_bits bits: n * value_bits, the raw data's length.
    - lzma: the values as big-endian value_bits/8-byte integers, compressed by lzma at maximum settings (headers
      included; :func:`core.kolmogorov.compression.compressed_bits`), as a general-purpose reference.

    Returns
    -------
    DataFrame
        scheme, bits, detail (a short description with the parts), one row per scheme.
    """
    value_bits = check_int(value_bits, "value_bits", low=2, high=62)
    v = check_array(values, "values", ndim=1, min_len=2, dtype=np.int64)
    if v.min() < 0 or v.max() >= 2**value_bits:
        raise ValueError(
            f"`values` must lie in [0, 2^value_bits) = [0, {2**value_bits}). Got range [{v.min()}, {v.max()}] instead."
        )
    n = v.size
    steps, step_counts = np.unique(np.diff(v), return_counts=True)
    a = int(steps[np.argmax(step_counts)])
    offsets, offset_counts = np.unique(v - a * np.arange(n), return_counts=True)
    b = int(offsets[np.argmax(offset_counts)])
    if abs(b) >= 2**value_bits:  # no real rule: fall back to a line through x_0 so b fits its value_bits + 1 bits
        b = int(v[0])
    m = int(np.sum(v != a * np.arange(n) + b))
    pos_bits, count_bits = int(np.ceil(np.log2(n))), int(np.ceil(np.log2(n + 1)))
    rule_bits = 2 * (value_bits + 1) + count_bits + m * (pos_bits + value_bits)
    coefs = newton_coefficients(v)
    poly_bits = sum(_gamma_bits(abs(c).bit_length() + 1) + abs(c).bit_length() + (c != 0) for c in coefs)
    degree = max((k for k, c in enumerate(coefs) if c != 0), default=0)
    n_bytes = (value_bits + 7) // 8
    raw = b"".join(int(x).to_bytes(n_bytes, "big") for x in v)
    lz = compressed_bits(raw, method="lzma")
    return pd.DataFrame(
        {
            "scheme": [
                "verbatim",
                "rule + exceptions",
                "interpolating polynomial",
                "polynomial, values at the nodes",
                "lzma",
            ],
            "bits": [n * value_bits, rule_bits, poly_bits, n * value_bits, lz],
            "detail": [
                f"{n} numbers x {value_bits} bits",
                f"rule x_i = {a} i + {b}: 2 x {value_bits + 1} bits; count {m}: {count_bits} bits; "
                f"{m} exceptions x ({pos_bits} position + {value_bits} value) bits",
                f"{n} integer Newton coefficients (polynomial degree {degree}); largest has "
                f"{max(abs(c).bit_length() for c in coefs)} bits",
                f"the same degree-{degree} polynomial in the Lagrange basis: {n} values p(i) x {value_bits} bits",
                f"{len(raw)} bytes compressed to {lz // 8} bytes",
            ],
        }
    )


def _lasso(X: np.ndarray, y: np.ndarray, lam: float, w0: np.ndarray) -> tuple[np.ndarray, float]:
    """Minimise ``|y - X w|^2 + lam |w|_1`` (w = u - v, u, v >= 0, by L-BFGS-B); return w and its duality gap.

    The gap bounds how far the objective is above its minimum: with r = y - X w and the dual-feasible point
    theta = r min(1, lam / (2 |X^T r|_inf)), gap = |r|^2 + lam |w|_1 - (|y|^2 - |y - theta|^2).
    """
    p = X.shape[1]

    def f(z: np.ndarray) -> tuple[float, np.ndarray]:
        r = y - X @ (z[:p] - z[p:])  # (n,)
        g = -2.0 * X.T @ r  # (p,)
        return float(r @ r + lam * z.sum()), np.concatenate([g + lam, -g + lam])

    z0 = np.concatenate([np.maximum(w0, 0.0), np.maximum(-w0, 0.0)])
    opt = minimize(f, z0, jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * (2 * p),
                   options={"maxiter": 20_000, "ftol": 1e-15, "gtol": 1e-12})  # fmt: skip
    w = opt.x[:p] - opt.x[p:]
    r = y - X @ w
    theta = r * min(1.0, lam / (2.0 * max(float(np.abs(X.T @ r).max()), 1e-300)))  # dual feasible: |X^T theta| <= lam/2
    dual = 2.0 * (y @ theta) - theta @ theta  # = |y|^2 - |y - theta|^2: the dual of 1/2 (primal) times 2
    return w, max(float(r @ r + lam * np.abs(w).sum() - dual), 0.0)


def penalty_code_lengths(
    x: np.ndarray,
    y: np.ndarray,
    *,
    degree: int,
    noise: float | None = None,
    prior_scale: float = 1.0,
    precision: float = 0.01,
    n_lambdas: int = 25,
) -> pd.DataFrame:
    r"""Weight penalties as code lengths: data bits + weight bits of L2 (ridge) and L1 (lasso) fits over lambda.

    Features are the Legendre polynomials P_0..P_degree of x mapped to [-1, 1]; every number (y_i and w_j) is sent
    quantised to ``precision`` delta. With noise sd sigma (``None``: sqrt(RSS/n) of the MDL-picked polynomial
    degree) and prior scale s:

    .. math::
        L_{data} = \sum_i -\log_2(\mathcal N(y_i; \hat y_i, \sigma^2)\,\delta), \quad
        L_{L2} = \sum_j -\log_2(\mathcal N(w_j; 0, s^2)\,\delta), \quad
        L_{L1} = \sum_j -\log_2(\tfrac{1}{2s} e^{-|w_j|/s}\,\delta)

    so data + weight bits = (RSS + lambda * penalty) / (2 sigma^2 ln 2) + const, minimised by ridge with
    lambda = sigma^2 / s^2 (penalty ||w||_2^2) and by lasso with lambda = 2 sigma^2 / s (penalty ||w||_1): the MAP
    fits. Lambda runs over the MAP value times 10^[-3, 3] (MAP included). The lasso is solved by scipy's L-BFGS-B
    on the split w = u - v (warm-started from large lambda); a warning names the knob if its duality gap exceeds
    0.01 bits.

    Returns
    -------
    DataFrame
        penalty ("L2"/"L1"), lam, lam_ratio (lam over its MAP value), data_bits, weight_bits, total_bits,
        excess_bits (total over the penalty's smallest total; all in bits), is_map (bool), noise (sigma used).
    """
    degree = check_int(degree, "degree", low=0, high=40)
    if noise is None:
        dl = polynomial_description_lengths(x, y, max_degree=degree)
        noise = float(np.sqrt(dl.loc[dl["total_bits"].idxmin(), "rss"] / np.size(x)))
    noise = check_positive(noise, "noise")
    prior_scale = check_positive(prior_scale, "prior_scale")
    precision = check_positive(precision, "precision")
    n_lambdas = check_int(n_lambdas, "n_lambdas", low=3, high=200)
    x, y = _check_xy(x, y, degree)
    n = x.shape[0]
    X = legendre.legvander(_scaled(x), degree)  # (n, degree + 1)
    log_delta = np.log2(precision)

    def data_bits(w: np.ndarray) -> float:
        r = y - X @ w
        return float((r @ r) / (2 * noise**2 * LN2) + 0.5 * n * np.log2(2 * np.pi * noise**2) - n * log_delta)

    def weight_bits(w: np.ndarray, kind: str) -> float:
        p = w.size
        if kind == "L2":
            bits = (w @ w) / (2 * prior_scale**2 * LN2) + 0.5 * p * np.log2(2 * np.pi * prior_scale**2)
        else:
            bits = np.abs(w).sum() / (prior_scale * LN2) + p * np.log2(2 * prior_scale)
        return float(bits - p * log_delta)

    rows = []
    grid = np.logspace(-3, 3, n_lambdas)
    for kind, lam_map in (("L2", noise**2 / prior_scale**2), ("L1", 2 * noise**2 / prior_scale)):
        lams = np.unique(np.append(lam_map * grid, lam_map))[::-1]  # large to small: the lasso path warm-starts
        if kind == "L2":
            W = [np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y) for lam in lams]
        else:
            W, gaps = [], []
            for lam in lams:  # large to small, each warm-started from the previous solution
                w, gap = _lasso(X, y, lam, W[-1] if W else np.zeros(X.shape[1]))
                W.append(w)
                gaps.append(gap)
            gap_bits = max(gaps) / (2 * noise**2 * LN2)  # the objective in bits is (RSS + lam |w|_1) / (2 s2 ln 2)
            if gap_bits > 0.01:
                warnings.warn(
                    f"The lasso fits are certified only to within {gap_bits:.2g} bits (duality gap). "
                    "Lower the polynomial `degree` or raise `prior_scale`.",
                    stacklevel=2,
                )
        for lam, w in zip(lams, W):
            wb, db = weight_bits(w, kind), data_bits(w)
            rows.append(
                {
                    "penalty": kind,
                    "lam": float(lam),
                    "data_bits": db,
                    "weight_bits": wb,
                    "total_bits": db + wb,
                    "lam_ratio": float(lam / lam_map),
                    "is_map": bool(np.isclose(lam, lam_map)),
                    "noise": noise,
                }
            )
    df = pd.DataFrame(rows)
    df["excess_bits"] = df["total_bits"] - df.groupby("penalty")["total_bits"].transform("min")
    return df
