"""Why a WGAN generator gets a useful gradient: d/dtheta of Jensen-Shannon and of W1, by torch autograd.

A generator outputs theta + z with z ~ P, so its distribution Q_theta is the data distribution P shifted by
theta. When the supports of P and Q_theta are disjoint, JS is stuck at 1 bit and its gradient vanishes, while W1
= |theta| keeps pushing with gradient sign(theta). The companion of :mod:`core.optimal_transport.distances` (divergence
values).

Primary reference: Arjovsky, Chintala & Bottou (2017), "Wasserstein GAN", ICML, Section 2 and Example 1.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from scipy import stats

from core._validation import check_array, check_choice, check_int, check_real
from core.optimal_transport.distances import KINDS
from core.training import resolve_device


def _log_blurred_density(x: torch.Tensor, kind: str, h: float, width: float, sigma: float) -> torch.Tensor:
    """Log-density of the base distribution convolved with N(0, h^2), stable far into the tails."""
    if kind == "dirac":
        return -(x**2) / (2 * h**2) - 0.5 * math.log(2 * math.pi * h**2)
    if kind == "gaussian":
        var = sigma**2 + h**2
        return -(x**2) / (2 * var) - 0.5 * math.log(2 * math.pi * var)
    a, b = x / h, (x - width) / h  # density (Phi(a) - Phi(b)) / width, a > b; use the tail where log_ndtr is exact
    right = (a + b) > 0
    hi, lo = torch.where(right, -b, a), torch.where(right, -a, b)
    log_hi = torch.special.log_ndtr(hi)
    return log_hi + torch.log1p(-torch.exp(torch.special.log_ndtr(lo) - log_hi)) - math.log(width)


def generator_gradients(
    shifts: object,
    *,
    kind: str = "uniform",
    n: int = 500,
    bandwidth: float = 0.05,
    width: float = 1.0,
    sigma: float = 1.0,
    grid_size: int = 2000,
    device: str = "cpu",
) -> pd.DataFrame:
    r"""The gradient a generator's location parameter theta gets from JS and from W1, by torch autograd.

    The data distribution P sits at 0 (``kind`` as in :func:`core.optimal_transport.distances.divergences_vs_shift`);
    the
    generator outputs theta + z with z ~ P, so Q_theta is P shifted by theta. For each theta in ``shifts``:

    - W1 from sorted samples: n quantile points z_i of P, :math:`W_1 = \frac1n \sum_i |\theta + z_{(i)} - z_{(i)}|`;
    - JS between P and Q_theta, each blurred by a Gaussian kernel of width h (the JS of the raw Diracs or
      uniforms is flat or non-differentiable), :math:`\tfrac12 \int p \log_2 \tfrac{p}{m} + \tfrac12 \int q_\theta
      \log_2 \tfrac{q_\theta}{m}` with :math:`m = (p + q_\theta)/2`, by the trapezoid rule on ``grid_size``
      points, in log-space so nothing underflows to NaN;

    then ``torch.autograd`` gives d/dtheta. Once the supports are disjoint (gap >> h) only the blur's Gaussian tails
    still overlap, so the JS gradient is of order exp(-gap^2 / 8h^2) -- numerically zero (below 1e-20 for a gap of
    20 h) -- while W1's stays at sign(theta).

    Parameters
    ----------
    shifts : array-like of shape (k,)
        Values of theta, in units of x.
    kind : {"dirac", "uniform", "gaussian"}
        P is delta_0, U[0, width] or N(0, sigma^2).
    n : int
        Number of quantile samples for W1.
    bandwidth : float
        Blur h of the JS densities, in units of x.
    width, sigma : float
        Size of the uniform / Gaussian.
    grid_size : int
        Integration points for JS per theta.
    device : str
        Torch device.

    Returns
    -------
    DataFrame
        Long format: ``shift``, ``divergence`` ("JS" in bits or "W1" in units of x), ``value``, ``gradient``
        (d value / d theta).

    References
    ----------
    Arjovsky, Chintala & Bottou (2017), Wasserstein GAN, ICML, Section 2 and Example 1.
    """
    s = check_array(shifts, "shifts", ndim=1)  # (k,)
    kind = check_choice(kind, "kind", KINDS)
    n = check_int(n, "n", low=1, high=100_000)
    h = check_real(bandwidth, "bandwidth", low=0.0, low_inclusive=False)
    width, sigma = check_real(width, "width", low=0.0, low_inclusive=False), check_real(sigma, "sigma", low=1e-12)
    grid_size = check_int(grid_size, "grid_size", low=100, high=100_000)
    dev = resolve_device(device)
    q = (np.arange(n) + 0.5) / n  # (n,) quantile levels
    z_np = {"dirac": np.zeros(n), "uniform": q * width, "gaussian": stats.norm.ppf(q) * sigma}[kind]
    z = torch.as_tensor(z_np, dtype=torch.float64, device=dev)  # (n,) sorted samples of P
    left = (8 * sigma if kind == "gaussian" else 0.0) + 10 * h  # grid margin left of min(0, theta)
    right = {"dirac": 0.0, "uniform": width, "gaussian": 8 * sigma}[kind] + 10 * h  # and right of max(0, theta)
    out = np.empty((len(s), 4))  # js, w1, d js, d w1
    for k, shift in enumerate(s):  # one theta at a time: small tensors stay on one thread (fast on a shared CPU)
        theta = torch.tensor(float(shift), dtype=torch.float64, device=dev, requires_grad=True)
        w1 = (torch.sort(theta + z).values - z).abs().mean()  # sorted generator samples against sorted data
        lo, hi = min(0.0, shift) - left, max(0.0, shift) + right
        grid = torch.linspace(lo, hi, grid_size, dtype=torch.float64, device=dev)  # (G,)
        log_p = _log_blurred_density(grid, kind, h, width, sigma)  # (G,)
        log_q = _log_blurred_density(grid - theta, kind, h, width, sigma)  # (G,)
        log_m = torch.logaddexp(log_p, log_q) - math.log(2.0)
        integrand = 0.5 * (log_p.exp() * (log_p - log_m) + log_q.exp() * (log_q - log_m)) / math.log(2.0)
        js = torch.trapezoid(integrand, grid)  # bits
        g_js, g_w1 = torch.autograd.grad(js, theta)[0], torch.autograd.grad(w1, theta)[0]
        out[k] = [float(js.detach().clamp(0.0, 1.0)), float(w1.detach()), float(g_js), float(g_w1)]
    return pd.DataFrame(
        {
            "shift": np.repeat(s, 2),
            "divergence": np.tile(["JS", "W1"], len(s)),
            "value": out[:, :2].ravel(),
            "gradient": out[:, 2:].ravel(),
        }
    )
