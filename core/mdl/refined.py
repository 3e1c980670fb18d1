"""Refined MDL codes for polynomial regression: the Bayesian mixture code and the prequential (online) code.

The crude two-part code (``core.mdl.two_part``) charges (k/2) log2 n bits per model whatever the data. Refined codes
send the
data in one part. The Bayesian mixture code uses the marginal density of y under a Gaussian prior on the weights,
``y ~ N(0, sigma^2 I + s^2 V V^T)`` (V: the Legendre features). The prequential code sends the data in blocks of
doubling size, each with the model fitted on the blocks before it (Voita & Titov 2020's online code; Rissanen 1984,
Dawid 1984): the first block under the prior, every later one under the plug-in MAP fit of the past. Every number
is sent at precision ``delta``, so a density p becomes ``-log2(p delta)`` bits. Information is in bits.

References: Grünwald (2007), *The Minimum Description Length Principle*, ch. 6 and 9; E. Voita, I. Titov (2020),
Information-theoretic probing with minimum description length, EMNLP.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from numpy.polynomial import legendre

from core._validation import check_array, check_int, check_positive
from core.mdl.two_part import polynomial_data, polynomial_description_lengths

_LN2 = np.log(2.0)


def _features(x: np.ndarray, degree: int) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    return legendre.legvander((2.0 * x - (lo + hi)) / (hi - lo), degree)  # (n, degree + 1)


def _check(x: object, y: object, degree: int, noise: float, prior_scale: float, precision: float):
    x, y = check_array(x, "x", ndim=1, min_len=2), check_array(y, "y", ndim=1, min_len=2)
    if x.shape != y.shape:
        raise ValueError(f"`x` and `y` must have the same length. Got {x.shape[0]} and {y.shape[0]} instead.")
    if np.ptp(x) <= 0:
        raise ValueError("`x` must take at least two distinct values.")
    degree = check_int(degree, "degree", low=0, high=60)
    return (
        x,
        y,
        degree,
        check_positive(noise, "noise"),
        check_positive(prior_scale, "prior_scale"),
        check_positive(precision, "precision"),
    )


def _gauss_block_bits(r: np.ndarray, V: np.ndarray, cov_w: np.ndarray | None, sigma2: float, log_delta: float):
    """-log2 density (times delta per number) of residuals r ~ N(0, sigma^2 I + V cov_w V^T), by Woodbury."""
    n = r.shape[0]
    if cov_w is None:
        quad, logdet = float(r @ r) / sigma2, n * np.log(sigma2)
    else:
        inner = np.linalg.inv(cov_w) + V.T @ V / sigma2  # (k, k)
        vr = V.T @ r / sigma2  # (k,)
        quad = float(r @ r) / sigma2 - float(vr @ np.linalg.solve(inner, vr))
        logdet = n * np.log(sigma2) + np.linalg.slogdet(inner)[1] + np.linalg.slogdet(cov_w)[1]
    return (0.5 * (quad + logdet + n * np.log(2 * np.pi))) / _LN2 - n * log_delta


def mixture_bits(
    x: object, y: object, *, degree: int, noise: float, prior_scale: float = 1.0, precision: float = 0.01
) -> float:
    r"""Bayesian mixture code length of y under a degree-``degree`` polynomial with a Gaussian prior, in bits.

    .. math:: L = -\log_2\big(\mathcal N(y;\, 0,\, \sigma^2 I + s^2 V V^\top)\,\delta^n\big)

    with V the Legendre features of x mapped to [-1, 1] (n, degree + 1), sigma = ``noise``, s = ``prior_scale``
    and delta = ``precision``.
    """
    x, y, degree, noise, s, delta = _check(x, y, degree, noise, prior_scale, precision)
    V = _features(x, degree)
    return _gauss_block_bits(y, V, s**2 * np.eye(degree + 1), noise**2, np.log2(delta))


def prequential_bits(
    x: object,
    y: object,
    *,
    degree: int,
    noise: float,
    prior_scale: float = 1.0,
    precision: float = 0.01,
    first_block: int = 2,
) -> float:
    """Prequential (online) code length in bits with doubling blocks and plug-in MAP predictions.

    The points are sent in their given order in blocks ending at ``first_block``, 2 ``first_block``, 4
    ``first_block``, ..., n. The first block is sent with the mixture code (the prior predictive); each later block
    with ``N(V w_past, sigma^2 I)``, where w_past is the MAP (ridge, lambda = sigma^2 / s^2) fit on every earlier
    point. Unlike the mixture code the plug-in ignores the uncertainty of w_past, so a model with many weights pays
    for each block it predicts badly from little data.
    """
    x, y, degree, noise, s, delta = _check(x, y, degree, noise, prior_scale, precision)
    first_block = check_int(first_block, "first_block", low=1)
    V = _features(x, degree)
    n, k, log_delta = y.shape[0], degree + 1, np.log2(delta)
    ends = [min(first_block, n)]
    while ends[-1] < n:
        ends.append(min(2 * ends[-1], n))
    bits = _gauss_block_bits(y[: ends[0]], V[: ends[0]], s**2 * np.eye(k), noise**2, log_delta)
    for start, end in itertools.pairwise(ends):
        Vp, yp = V[:start], y[:start]
        w = np.linalg.solve(Vp.T @ Vp + (noise / s) ** 2 * np.eye(k), Vp.T @ yp)  # (k,) MAP of the past
        bits += _gauss_block_bits(y[start:end] - V[start:end] @ w, V[start:end], None, noise**2, log_delta)
    return float(bits)


def refined_code_lengths(
    x: object,
    y: object,
    *,
    max_degree: int,
    noise: float,
    prior_scale: float = 1.0,
    precision: float = 0.01,
    seed: int = 0,
) -> pd.DataFrame:
    """Code lengths per degree under the crude two-part (BIC), Bayesian mixture and prequential codes.

    The prequential code sends the points in a seeded random order (its length depends on the order).

    Returns
    -------
    DataFrame
        Long format: degree, code ("two-part (BIC)", "Bayes mixture", "prequential"), bits, excess_bits (over that
        code's minimum), picked (bool). Only differences within one code mean anything.
    """
    max_degree = check_int(max_degree, "max_degree", low=0, high=60)
    x = check_array(x, "x", ndim=1, min_len=2)
    y = check_array(y, "y", ndim=1, min_len=2)
    order = np.random.default_rng(check_int(seed, "seed", low=0)).permutation(x.shape[0])  # (n,)
    two_part = polynomial_description_lengths(x, y, max_degree=max_degree)["total_bits"].to_numpy()
    kw = {"noise": noise, "prior_scale": prior_scale, "precision": precision}
    codes = {
        "two-part (BIC)": two_part,
        "Bayes mixture": np.array([mixture_bits(x, y, degree=d, **kw) for d in range(max_degree + 1)]),
        "prequential": np.array([prequential_bits(x[order], y[order], degree=d, **kw) for d in range(max_degree + 1)]),
    }
    frames = [
        pd.DataFrame(
            {
                "degree": np.arange(max_degree + 1),
                "code": name,
                "bits": b,
                "excess_bits": b - b.min(),
                "picked": np.arange(b.size) == int(np.argmin(b)),
            }
        )
        for name, b in codes.items()
    ]
    return pd.concat(frames, ignore_index=True)


def picks_over_seeds(
    *, degree: int, noise: float, n: int, max_degree: int, seeds: int = 20, prior_scale: float = 1.0
) -> pd.DataFrame:
    """How often each code picks each degree over ``seeds`` data sets of :func:`~core.mdl.two_part.polynomial_data`.

    Returns
    -------
    DataFrame
        code, degree, count (data sets on which that code picked that degree), share, true (degree == ``degree``).
    """
    seeds = check_int(seeds, "seeds", low=1, high=1000)
    rows = []
    for seed in range(seeds):
        d = polynomial_data(degree=degree, noise=noise, n=n, seed=seed)
        lengths = refined_code_lengths(d["x"].to_numpy(), d["y"].to_numpy(), max_degree=max_degree, noise=noise,
                                       prior_scale=prior_scale, seed=seed)  # fmt: skip
        rows += lengths[lengths["picked"]][["code", "degree"]].to_dict("records")
    out = pd.DataFrame(rows).value_counts(["code", "degree"]).rename("count").reset_index()
    out["share"] = out["count"] / seeds
    out["true"] = out["degree"] == degree
    return out.sort_values(["code", "degree"], ignore_index=True)
