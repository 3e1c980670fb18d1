"""Scaling law theory: the parametric loss L(N, D) = E + A / N^alpha + B / D^beta and compute-optimal allocation.

Primary reference: Hoffmann et al. 2022, "Training Compute-Optimal Large Language Models" (Chinchilla). Its three
approaches disagree: Approaches 1 and 2 (Table 2: N_opt ~ C^0.50 and C^0.49; Table 3: 67B parameters on 1.5T
tokens at 5.76e23 FLOPs, about 20 tokens per parameter) and Approach 3, the fitted law L(N, D), whose optimum at
the same budget is ~40B parameters on ~2.4T tokens (~59 tokens per parameter, N_opt ~ C^0.46). Besiroglu et al.
2024 ("Chinchilla Scaling: A replication attempt", Epoch AI) refit Approach 3 on the paper's data and get
N_opt ~ C^0.51 and about 20 tokens per parameter, in line with Approaches 1 and 2. Kaplan et al. 2020 ("Scaling
Laws for Neural Language Models") count non-embedding parameters and give N_opt and D_opt in PF-days of C_min.
Training compute is C = 6 N D FLOPs (N parameters, D tokens) unless a law says otherwise.
"""

from __future__ import annotations

import io
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import logsumexp

from core._validation import check_array, check_int, check_positive, check_probability

PF_DAY = 8.64e19  # FLOPs in one petaflop/s-day


@dataclass(frozen=True)
class ScalingLaw:
    r"""The Chinchilla form :math:`L(N, D) = E + A N^{-\alpha} + B D^{-\beta}` (loss in nats per token).

    ``compute_optimal`` minimises L under the constraint C = 6 N D in closed form:
    :math:`N_{opt} = G (C/6)^{a}`, :math:`D_{opt} = G^{-1} (C/6)^{b}` with
    :math:`G = (\alpha A / (\beta B))^{1/(\alpha+\beta)}`, :math:`a = \beta/(\alpha+\beta)`, :math:`b = 1 - a`.
    The optimum exists only for alpha, beta, A, B > 0; a degenerate law (see :func:`degeneracy`) raises
    ``ValueError`` there instead of dividing by zero.
    """

    E: float
    A: float
    B: float
    alpha: float
    beta: float

    def loss(self, N: np.ndarray | float, D: np.ndarray | float) -> np.ndarray | float:
        """Predicted loss (nats/token) of a model with N parameters trained on D tokens."""
        return self.E + self.A / np.power(N, self.alpha) + self.B / np.power(D, self.beta)

    @property
    def a(self) -> float:
        """Exponent of N_opt in C: N_opt grows like C^a (NaN when alpha + beta <= 0)."""
        total = self.alpha + self.beta
        return self.beta / total if total > 0 else float("nan")

    @property
    def b(self) -> float:
        """Exponent of D_opt in C: D_opt grows like C^b (a + b = 1; NaN when alpha + beta <= 0)."""
        total = self.alpha + self.beta
        return self.alpha / total if total > 0 else float("nan")

    def compute_optimal(self, flops: np.ndarray | float) -> tuple[np.ndarray | float, np.ndarray | float]:
        """Return (N_opt, D_opt) for a compute budget of ``flops`` FLOPs under C = 6 N D.

        Raises ``ValueError`` for a law without an optimum (alpha, beta, A or B not > 0).
        """
        bad = [name for name in ("A", "B", "alpha", "beta") if not getattr(self, name) > 0]
        if bad:
            raise ValueError(
                f"This law has no compute-optimal allocation: {', '.join(bad)} must be > 0 (got "
                f"{', '.join(f'{n} = {getattr(self, n):.3g}' for n in bad)}). A fit that lands there is "
                "degenerate; add runs that vary N and D more widely."
            )
        with np.errstate(over="ignore", under="ignore", divide="ignore"):
            g = (self.alpha * self.A / (self.beta * self.B)) ** (1.0 / (self.alpha + self.beta))
            c6 = np.asarray(flops, dtype=float) / 6.0
            n_opt, d_opt = g * c6**self.a, c6**self.b / g
        if not (np.all(np.isfinite(n_opt)) and np.all(n_opt > 0) and np.all(np.isfinite(d_opt))):
            raise ValueError(
                f"The optimum of this law overflows (alpha = {self.alpha:.3g}, beta = {self.beta:.3g}): "
                "the fit is degenerate. Add runs that vary N and D more widely."
            )
        return (float(n_opt), float(d_opt)) if np.ndim(flops) == 0 else (n_opt, d_opt)

    def tokens_per_parameter(self, flops: np.ndarray | float) -> np.ndarray | float:
        """D_opt / N_opt at a compute budget (~59 for Chinchilla's Approach 3 at 5.76e23 FLOPs, ~20 for Epoch's)."""
        n_opt, d_opt = self.compute_optimal(flops)
        return d_opt / n_opt


def degeneracy(
    law: ScalingLaw,
    *,
    loss_scale: float = 1.0,
    n_min: float | None = None,
    d_min: float | None = None,
    tol: float = 1e-3,
) -> tuple[str, ...]:
    """Why a fitted law is degenerate: a parameter at its bound, where its compute optimum is meaningless.

    Checks alpha <= tol or beta <= tol (loss does not fall with N or D; the optimum divides by zero), E <=
    tol * loss_scale (the floor at its bound 0), non-finite parameters, and, given the runs' smallest N and D,
    a term A / N^alpha or B / D^beta below tol * loss_scale on every run (the term vanished, so its exponent is
    not identified by the data).

    Parameters
    ----------
    law : ScalingLaw
    loss_scale : float
        A typical loss of the runs (e.g. the smallest), so that "at 0" is relative to the data.
    n_min, d_min : float, optional
        The smallest N and D of the runs.
    tol : float
        Relative tolerance for "at its bound".

    Returns
    -------
    tuple of str
        Empty for a regular law, else one short reason per problem (e.g. "β at 0").
    """
    values = np.array([law.E, law.A, law.B, law.alpha, law.beta], dtype=float)
    if not np.all(np.isfinite(values)):
        return ("non-finite parameter",)
    reasons = []
    if law.alpha <= tol:
        reasons.append("α at 0")
    if law.beta <= tol:
        reasons.append("β at 0")
    if law.E <= tol * loss_scale:
        reasons.append("E at 0")
    with np.errstate(over="ignore", under="ignore", divide="ignore"):
        if n_min is not None and law.alpha > tol and law.A * n_min**-law.alpha <= tol * loss_scale:
            reasons.append("A/N^α vanishes")
        if d_min is not None and law.beta > tol and law.B * d_min**-law.beta <= tol * loss_scale:
            reasons.append("B/D^β vanishes")
    return tuple(reasons)


@dataclass(frozen=True)
class PowerLawAllocation:
    r"""A published compute-optimal allocation without a loss law.

    :math:`N_{opt} = N_0 (C/C_0)^a` and :math:`D_{opt} = D_0 (C/C_0)^{1-a}`. Chinchilla's Approaches 1 and 2
    (Hoffmann et al. 2022) publish the exponent a (Table 2: 0.50 and 0.49) and Table 3's projections (Approach
    1), e.g. 67B parameters on 1.5T tokens at 5.76e23 FLOPs, used as the anchor (N_0, D_0, C_0). Table 3 counts
    FLOPs in detail (their Appendix F), so 6 N D is ~5% above its FLOPs column.
    """

    n0: float
    d0: float
    c0: float
    a: float

    @property
    def b(self) -> float:
        """Exponent of D_opt in C (1 - a)."""
        return 1.0 - self.a

    def compute_optimal(self, flops: np.ndarray | float) -> tuple[np.ndarray | float, np.ndarray | float]:
        """Return (N_opt, D_opt) at ``flops`` FLOPs."""
        ratio = np.asarray(flops, dtype=float) / self.c0
        n_opt, d_opt = self.n0 * ratio**self.a, self.d0 * ratio**self.b
        return (float(n_opt), float(d_opt)) if np.ndim(flops) == 0 else (n_opt, d_opt)

    def tokens_per_parameter(self, flops: np.ndarray | float) -> np.ndarray | float:
        """D_opt / N_opt at a compute budget (22.4 at the anchor for Table 3's 67B / 1.5T)."""
        n_opt, d_opt = self.compute_optimal(flops)
        return d_opt / n_opt


@dataclass(frozen=True)
class KaplanLaw:
    r"""Kaplan et al. 2020: :math:`L(N, D) = [(N_c/N)^{\alpha_N/\alpha_D} + D_c/D]^{\alpha_D}` (their eq. 1.5).

    The compute-efficient frontier (their Table 6) is :math:`N_{opt} = 1.3\times10^9\, C_{min}^{0.73}` and
    :math:`D_{opt} = 2\times10^{10}\, C_{min}^{0.27}` tokens, with :math:`C_{min}` in PF-days (8.64e19 FLOPs) and N
    counting non-embedding parameters only. :math:`C_{min}` is the compute at small batch; training at the critical
    batch size costs :math:`C \approx 2 C_{min}` (their section 5.1: 2 S_min steps on 2 E_min examples), so
    ``compute_optimal(C)`` uses :math:`C_{min} = C / 2` and 6 N D is then 0.9 C, not C. Their loss is on another
    data set and tokenizer, so only the allocation, not the loss level, is comparable with Chinchilla's.
    """

    N_c: float = 8.8e13
    D_c: float = 5.4e13
    alpha_N: float = 0.076
    alpha_D: float = 0.095
    n0: float = 1.3e9  # N_opt (non-embedding parameters) at C_min = 1 PF-day, Table 6
    a: float = 0.73
    d0: float = 2e10  # D_opt (tokens) at C_min = 1 PF-day, Table 6
    b: float = 0.27
    c_over_cmin: float = 2.0  # C / C_min when training at the critical batch size

    def loss(self, N: np.ndarray | float, D: np.ndarray | float) -> np.ndarray | float:
        """Predicted loss (nats/token, Kaplan's data) of N parameters trained on D tokens."""
        return ((self.N_c / np.asarray(N)) ** (self.alpha_N / self.alpha_D) + self.D_c / np.asarray(D)) ** self.alpha_D

    def compute_optimal(self, flops: np.ndarray | float) -> tuple[np.ndarray | float, np.ndarray | float]:
        """Return (N_opt, D_opt) for ``flops`` FLOPs spent at the critical batch size (Table 6, C_min = C / 2)."""
        c_min = np.asarray(flops, dtype=float) / (self.c_over_cmin * PF_DAY)  # PF-days
        n_opt, d_opt = self.n0 * c_min**self.a, self.d0 * c_min**self.b
        return (float(n_opt), float(d_opt)) if np.ndim(flops) == 0 else (n_opt, d_opt)

    def tokens_per_parameter(self, flops: np.ndarray | float) -> np.ndarray | float:
        """D_opt / N_opt on Kaplan's frontier (falls as compute grows)."""
        n_opt, d_opt = self.compute_optimal(flops)
        return d_opt / n_opt


Law = ScalingLaw | PowerLawAllocation | KaplanLaw

# Chinchilla Approach 3 with the unrounded values of the paper's source: 5.76e23 FLOPs -> ~40B parameters on
# ~2.4T tokens (~59 tokens per parameter), not the "about 20" of Approaches 1 and 2.
CHINCHILLA = ScalingLaw(
    E=float(np.exp(0.5267228)),
    A=float(np.exp(6.0073404)),
    B=float(np.exp(6.0179186)),
    alpha=0.33917084,
    beta=0.2849083,
)
# The values as printed in the paper (eq. 10); rounding the exponents moves the optimum at 5.76e23 to ~32B.
CHINCHILLA_ROUNDED = ScalingLaw(E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
# Approaches 1 and 2: Table 2's exponents, anchored at Table 3's 67B parameters on 1.5T tokens at 5.76e23 FLOPs.
CHINCHILLA_APPROACH_1 = PowerLawAllocation(n0=67e9, d0=1.5e12, c0=5.76e23, a=0.50)
CHINCHILLA_APPROACH_2 = PowerLawAllocation(n0=67e9, d0=1.5e12, c0=5.76e23, a=0.49)
# Besiroglu et al. 2024 (Epoch AI) refit of Approach 3 on data digitised from the paper: ~20 tokens per parameter.
EPOCH_2024 = ScalingLaw(E=1.817, A=482.0, B=2085.4, alpha=0.348, beta=0.366)
KAPLAN = KaplanLaw()
PRESETS: dict[str, Law] = {
    "Chinchilla A1": CHINCHILLA_APPROACH_1,
    "Chinchilla A2": CHINCHILLA_APPROACH_2,
    "Chinchilla A3": CHINCHILLA,
    "Chinchilla A3 (rounded)": CHINCHILLA_ROUNDED,
    "Epoch 2024": EPOCH_2024,
    "Kaplan": KAPLAN,
}


@dataclass(frozen=True)
class ScalingFit:
    """Result of :func:`fit_scaling_law`."""

    law: ScalingLaw
    objective: float  # summed Huber loss of the log-loss residuals at the optimum
    converged: bool  # L-BFGS reported success from the best start
    n_starts: int  # grid starts scored; the best ones were refined by L-BFGS
    seconds: float
    degenerate: tuple[str, ...] = ()  # reasons from :func:`degeneracy`; empty for a usable fit
    compute_range: tuple[float, float] = (float("nan"), float("nan"))  # min and max 6 N D of the runs (FLOPs)


# Chinchilla's grid of initialisations (a = ln A, b = ln B, e = ln E).
_GRID = np.array(
    list(
        product(
            np.arange(0, 26, 5.0),
            np.arange(0, 26, 5.0),
            np.arange(-2.0, 1.6, 0.5),
            np.arange(0, 2.1, 0.5),
            np.arange(0, 2.1, 0.5),
        )
    )
)  # (7200, 5) columns a, b, e, alpha, beta


def _huber(r: np.ndarray, delta: float) -> np.ndarray:
    """Huber loss: r^2 / 2 inside [-delta, delta], linear outside (scipy.special.huber, without its overhead)."""
    abs_r = np.abs(r)
    return np.where(abs_r <= delta, 0.5 * r * r, delta * (abs_r - 0.5 * delta))


def _objective(
    theta: np.ndarray, log_n: np.ndarray, log_d: np.ndarray, log_l: np.ndarray, delta: float
) -> tuple[float, np.ndarray]:
    a, b, e, alpha, beta = theta
    t1, t2 = a - alpha * log_n, b - beta * log_d  # (n,), (n,)
    m = np.maximum(np.maximum(t1, t2), e)  # stable log-sum-exp of (t1, t2, e)
    x1, x2, x3 = np.exp(t1 - m), np.exp(t2 - m), np.exp(e - m)
    total = x1 + x2 + x3
    r = m + np.log(total) - log_l  # (n,) log residuals
    dr = np.clip(r, -delta, delta) / total  # d huber / d r, times the softmax normaliser
    w1, w2 = dr * x1, dr * x2
    grad = np.array([w1.sum(), w2.sum(), (dr * x3).sum(), -(w1 @ log_n), -(w2 @ log_d)])
    return float(_huber(r, delta).sum()), grad


def _grid_scores(log_n: np.ndarray, log_d: np.ndarray, log_l: np.ndarray, delta: float) -> np.ndarray:
    g = _GRID
    t1 = g[:, [0]] - g[:, [3]] * log_n  # (starts, n)
    t2 = g[:, [1]] - g[:, [4]] * log_d
    t3 = np.broadcast_to(g[:, [2]], t1.shape)
    r = logsumexp(np.stack([t1, t2, t3]), axis=0) - log_l
    return _huber(r, delta).sum(axis=1)  # (starts,)


def _check_runs(N: object, D: object, loss: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = check_array(N, "N", ndim=1, min_len=5)
    d = check_array(D, "D", ndim=1, min_len=5)
    ell = check_array(loss, "loss", ndim=1, min_len=5)
    if not n.shape == d.shape == ell.shape:
        raise ValueError(f"`N`, `D` and `loss` must have the same length. Got {n.size}, {d.size} and {ell.size}.")
    for name, arr in (("N", n), ("D", d), ("loss", ell)):
        if np.any(arr <= 0):
            raise ValueError(f"`{name}` must be > 0 everywhere (it enters a logarithm). Got min {arr.min():.3g}.")
    return n, d, ell


def _refine(
    starts: np.ndarray, log_n: np.ndarray, log_d: np.ndarray, log_l: np.ndarray, delta: float
) -> tuple[np.ndarray, float, bool]:
    best_x, best_f, best_ok = starts[0], np.inf, False
    for x0 in starts:
        res = minimize(
            _objective,
            x0,
            args=(log_n, log_d, log_l, delta),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-10},
        )
        if res.fun < best_f:
            best_x, best_f, best_ok = res.x, float(res.fun), bool(res.success)
    return best_x, best_f, best_ok


def _law(theta: np.ndarray) -> ScalingLaw:
    a, b, e, alpha, beta = theta
    return ScalingLaw(E=float(np.exp(e)), A=float(np.exp(a)), B=float(np.exp(b)), alpha=float(alpha), beta=float(beta))


def fit_scaling_law(
    N: np.ndarray, D: np.ndarray, loss: np.ndarray, *, delta: float = 1e-3, n_refine: int = 10, seed: int = 0
) -> ScalingFit:
    r"""Fit :math:`L = E + A/N^\alpha + B/D^\beta` by Chinchilla's Approach 3.

    Minimises :math:`\sum_i \mathrm{Huber}_\delta(\mathrm{LSE}(a - \alpha \ln N_i, b - \beta \ln D_i, e) - \ln L_i)`
    over (a, b, e, alpha, beta) with A = e^a, B = e^b, E = e^e. The full grid of 7200 starts (a, b in 0..25,
    e in -2..1.5, alpha, beta in 0..2) is scored at once in numpy and L-BFGS (analytic gradient) runs from the
    best ``n_refine``: the same optimum as L-BFGS from every start, in about a second.

    Parameters
    ----------
    N, D, loss : array of shape (n,)
        Parameters, training tokens and final loss (nats/token) of n runs; all > 0, n >= 5.
    delta : float
        Huber threshold on log-loss residuals (1e-3 in the paper).
    n_refine : int
        Number of best grid starts refined by L-BFGS.
    seed : int
        Breaks ties between equally scored starts (the fit is otherwise deterministic).

    Returns
    -------
    ScalingFit
        With ``degenerate`` naming any parameter at its bound (alpha or beta at 0, E at 0): such a fit has no
        meaningful compute optimum.
    """
    n, d, ell = _check_runs(N, D, loss)
    delta = check_positive(delta, "delta")
    n_refine = check_int(n_refine, "n_refine", low=1, high=len(_GRID))
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    t0 = time.perf_counter()
    log_n, log_d, log_l = np.log(n), np.log(d), np.log(ell)
    scores = _grid_scores(log_n, log_d, log_l, delta) + rng.uniform(0, 1e-12, len(_GRID))
    starts = _GRID[np.argsort(scores)[:n_refine]]
    theta, f, ok = _refine(starts, log_n, log_d, log_l, delta)
    if not ok:
        warnings.warn(
            "The scaling-law fit did not converge: L-BFGS stopped early. Add runs that vary N and D "
            "more widely, or increase `n_refine`.",
            RuntimeWarning,
            stacklevel=2,
        )
    law = _law(theta)
    return ScalingFit(
        law=law,
        objective=f,
        converged=ok,
        n_starts=len(_GRID),
        seconds=time.perf_counter() - t0,
        degenerate=degeneracy(law, loss_scale=float(ell.min()), n_min=float(n.min()), d_min=float(d.min())),
        compute_range=(float((6 * n * d).min()), float((6 * n * d).max())),
    )


def bootstrap_scaling_law(
    N: np.ndarray,
    D: np.ndarray,
    loss: np.ndarray,
    *,
    n_boot: int = 100,
    delta: float = 1e-3,
    seed: int = 0,
    callback: Callable[[dict], None] | None = None,
) -> pd.DataFrame:
    """Refit the law on ``n_boot`` resamples of the runs (with replacement), for confidence bands.

    Each resample is refined by L-BFGS from the full-data optimum and the best grid start of the full data.
    A refit can land on a bound (e.g. beta = 0 when a resample repeats few data sizes); such replicates are kept
    and flagged in ``degenerate`` so that bands and intervals can leave them out and count them.

    Returns
    -------
    DataFrame
        One row per replicate: replicate, E, A, B, alpha, beta, a (the N_opt exponent, NaN if undefined),
        objective, degenerate (reasons joined by ", "; empty for a usable refit).
    """
    n, d, ell = _check_runs(N, D, loss)
    n_boot = check_int(n_boot, "n_boot", low=2, high=5000)
    delta = check_positive(delta, "delta")
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    full = fit_scaling_law(n, d, ell, delta=delta)
    x_full = np.array([np.log(full.law.A), np.log(full.law.B), np.log(full.law.E), full.law.alpha, full.law.beta])
    log_n, log_d, log_l = np.log(n), np.log(d), np.log(ell)
    starts = np.vstack([x_full, _GRID[np.argmin(_grid_scores(log_n, log_d, log_l, delta))]])  # (2, 5)
    rows = []
    for i in range(n_boot):
        idx = rng.integers(0, n.size, n.size)
        theta, f, _ = _refine(starts, log_n[idx], log_d[idx], log_l[idx], delta)
        law = _law(theta)
        rows.append(
            {
                "replicate": i,
                "E": law.E,
                "A": law.A,
                "B": law.B,
                "alpha": law.alpha,
                "beta": law.beta,
                "a": law.a,
                "objective": f,
                "degenerate": ", ".join(
                    degeneracy(law, loss_scale=float(ell.min()), n_min=float(n.min()), d_min=float(d.min()))
                ),
            }
        )
        if callback is not None:
            callback({"progress": (i + 1) / n_boot, **rows[-1]})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class BootstrapConfig:
    """The bootstrap of a scaling-law fit as one run: the runs (N, D, loss) as tuples, and the resampling knobs."""

    N: tuple[float, ...]  # model sizes of the runs
    D: tuple[float, ...]  # data sizes of the runs
    loss: tuple[float, ...]  # final losses of the runs
    n_boot: int = 40  # enough refits for a 90% band on a page; 100+ for a paper
    delta: float = 1e-3  # Huber threshold of the Chinchilla objective (Hoffmann et al.)
    seed: int = 0  # resampling seed


def bootstrap_run(config: BootstrapConfig, *, callback: Callable[[dict], None] | None = None) -> pd.DataFrame:
    """``bootstrap_scaling_law`` as a run of the experiment contract ``fn(config, *, callback)``."""
    if not isinstance(config, BootstrapConfig):
        raise TypeError(f"`config` must be a BootstrapConfig. Got {type(config).__name__} instead.")
    return bootstrap_scaling_law(
        np.asarray(config.N, dtype=float),
        np.asarray(config.D, dtype=float),
        np.asarray(config.loss, dtype=float),
        n_boot=config.n_boot,
        delta=config.delta,
        seed=config.seed,
        callback=callback,
    )


def frontier(
    laws: dict[str, Law],
    flops: np.ndarray,
    *,
    measured: dict[str, tuple[float, float]] | None = None,
) -> pd.DataFrame:
    """Compute-optimal allocation of each law over a range of budgets.

    Parameters
    ----------
    laws : dict of name -> law
    flops : array of shape (m,)
        Compute budgets in FLOPs, all > 0.
    measured : dict of name -> (low, high), optional
        The compute range a fitted law was measured on; outside it the row is NaN and ``in_range`` False, so a
        small experiment's law is never applied at budgets it has not seen.

    Returns
    -------
    DataFrame
        Long format: law, flops, n_opt, d_opt, tokens_per_param, loss (NaN for laws without a loss on our data:
        Kaplan's is on another data set, Approaches 1 and 2 publish only the allocation), in_range.
    """
    c = check_array(flops, "flops", ndim=1, nonnegative=True)
    if np.any(c <= 0):
        raise ValueError("`flops` must be > 0.")
    measured = measured or {}
    frames = []
    for name, law in laws.items():
        lo, hi = measured.get(name, (0.0, np.inf))
        inside = (c >= lo * (1 - 1e-9)) & (c <= hi * (1 + 1e-9))  # (m,)
        n_opt, d_opt = (np.full_like(c, np.nan) for _ in range(2))
        if inside.any():
            n_in, d_in = law.compute_optimal(c[inside])
            n_opt[inside], d_opt[inside] = n_in, d_in
        loss = law.loss(n_opt, d_opt) if isinstance(law, ScalingLaw) else np.full_like(c, np.nan)
        frames.append(
            pd.DataFrame(
                {
                    "law": name,
                    "flops": c,
                    "n_opt": n_opt,
                    "d_opt": d_opt,
                    "tokens_per_param": d_opt / n_opt,
                    "loss": loss,
                    "in_range": inside,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def isoflop_curves(law: ScalingLaw, budgets: np.ndarray, *, n_points: int = 60, span: float = 30.0) -> pd.DataFrame:
    """Loss against model size at fixed compute (IsoFLOP profiles), D = C / (6 N).

    N ranges over a factor ``span`` either side of each budget's N_opt.

    Returns
    -------
    DataFrame
        flops, N, D, loss, is_optimum (True on the closed-form N_opt row appended per budget).
    """
    c = check_array(budgets, "budgets", ndim=1)
    if np.any(c <= 0):
        raise ValueError("`budgets` must be > 0.")
    frames = []
    for flops in c:
        n_opt, d_opt = law.compute_optimal(float(flops))
        n = np.geomspace(n_opt / span, n_opt * span, check_int(n_points, "n_points", low=3))  # (n_points,)
        d = flops / (6.0 * n)
        frames.append(pd.DataFrame({"flops": flops, "N": n, "D": d, "loss": law.loss(n, d), "is_optimum": False}))
        frames.append(
            pd.DataFrame(
                {"flops": [flops], "N": [n_opt], "D": [d_opt], "loss": [law.loss(n_opt, d_opt)], "is_optimum": [True]}
            )
        )
    return pd.concat(frames, ignore_index=True)


def read_runs_csv(file: str | Path | bytes | io.IOBase) -> pd.DataFrame:
    """Read training runs from a CSV: columns N, D, loss; or Epoch AI's "Model Size", "Training FLOP", "loss".

    For Epoch AI's format the tokens are D = C / (6 N). Rows must be positive, finite numbers.

    Returns
    -------
    DataFrame
        Columns N, D, loss (floats), one row per run.
    """
    source = io.BytesIO(file) if isinstance(file, bytes) else file
    try:
        raw = pd.read_csv(source)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"The runs file is not a readable CSV ({exc}). Save it as comma-separated text.") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    if {"N", "D", "loss"} <= set(raw.columns):
        runs = raw[["N", "D", "loss"]]
    elif {"Model Size", "Training FLOP", "loss"} <= set(raw.columns):
        runs = pd.DataFrame({"N": raw["Model Size"], "C": raw["Training FLOP"], "loss": raw["loss"]})
    else:
        raise ValueError(
            f"The runs CSV needs columns N, D, loss (or Epoch AI's 'Model Size', 'Training FLOP', "
            f"'loss'). Got {', '.join(raw.columns)}."
        )
    runs = runs.apply(pd.to_numeric, errors="coerce").astype(float)
    bad = ~np.isfinite(runs.to_numpy()).all(axis=1) | (runs.to_numpy() <= 0).any(axis=1)
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} row(s) have missing, non-numeric or non-positive values (first at row "
            f"{int(np.argmax(bad)) + 2} of the file). Fix or remove them."
        )
    if len(runs) < 5:
        raise ValueError(f"A fit needs at least 5 runs. Got {len(runs)}.")
    if "C" in runs:
        runs = pd.DataFrame({"N": runs["N"], "D": runs["C"] / (6.0 * runs["N"]), "loss": runs["loss"]})
    return runs.reset_index(drop=True)


def residuals(law: ScalingLaw, N: np.ndarray, D: np.ndarray, loss: np.ndarray) -> pd.DataFrame:
    """The runs with the law's prediction and the log residual ln L - ln L_hat (relative error for small values).

    Returns
    -------
    DataFrame
        N, D, loss, predicted, log_residual.
    """
    n, d, ell = _check_runs(N, D, loss)
    pred = law.loss(n, d)
    return pd.DataFrame({"N": n, "D": d, "loss": ell, "predicted": pred, "log_residual": np.log(ell / pred)})


def law_curves(
    law: ScalingLaw, n_range: tuple[float, float], data_sizes: np.ndarray, *, n_points: int = 50
) -> pd.DataFrame:
    """The law's loss against N for each data size D, over ``n_range`` (for drawing fitted lines).

    Returns
    -------
    DataFrame
        N, D, loss.
    """
    lo, hi = check_positive(n_range[0], "n_range[0]"), check_positive(n_range[1], "n_range[1]")
    n = np.geomspace(lo, hi, check_int(n_points, "n_points", low=2))  # (n_points,)
    sizes = check_array(data_sizes, "data_sizes", ndim=1)
    return pd.DataFrame([{"N": x, "D": d, "loss": law.loss(x, d)} for d in sizes for x in n])


def _usable(boots: pd.DataFrame) -> np.ndarray:
    """Mask of bootstrap rows that are not degenerate (flag from the bootstrap, or a parameter at a bound)."""
    missing = {"E", "A", "B", "alpha", "beta"} - set(boots.columns)
    if missing:
        raise ValueError(f"`boots` must come from bootstrap_scaling_law; it lacks {sorted(missing)}.")
    flagged = boots["degenerate"].fillna("").astype(str).to_numpy() != "" if "degenerate" in boots else False
    at_bound = np.array(
        [bool(degeneracy(ScalingLaw(r.E, r.A, r.B, r.alpha, r.beta), loss_scale=0.0)) for r in boots.itertuples()],
        dtype=bool,
    )  # (replicates,)
    return ~(flagged | at_bound)


def frontier_band(boots: pd.DataFrame, flops: np.ndarray, *, level: float = 0.9) -> pd.DataFrame:
    """Bootstrap band of the compute-optimal model size: quantiles of N_opt(C) over the usable replicates.

    Degenerate replicates (alpha or beta at 0, E at its bound; see :func:`degeneracy`) have no meaningful
    optimum: they are left out and counted in ``n_excluded``.

    Returns
    -------
    DataFrame
        flops, n_low, n_mid, n_high (the (1-level)/2, 0.5 and (1+level)/2 quantiles), n_used, n_excluded.
    """
    c = check_array(flops, "flops", ndim=1)
    level = check_probability(level, "level")
    ok = _usable(boots)
    if not ok.any():
        raise ValueError(
            f"All {len(boots)} bootstrap refits are degenerate (a parameter at its bound), so there is no band. "
            "Fit runs that vary N and D more widely."
        )
    n_opt = np.stack(
        [ScalingLaw(r.E, r.A, r.B, r.alpha, r.beta).compute_optimal(c)[0] for r in boots[ok].itertuples()]
    )  # (usable replicates, len(c))
    q = (1 - level) / 2
    low, mid, high = np.quantile(n_opt, [q, 0.5, 1 - q], axis=0)
    return pd.DataFrame(
        {
            "flops": c,
            "n_low": low,
            "n_mid": mid,
            "n_high": high,
            "n_used": int(ok.sum()),
            "n_excluded": int((~ok).sum()),
        }
    )


def bootstrap_intervals(boots: pd.DataFrame, *, level: float = 0.9) -> pd.DataFrame:
    """Percentile intervals of E, alpha, beta and a over the usable (non-degenerate) bootstrap replicates.

    Returns
    -------
    DataFrame
        One row per parameter: parameter, low, median, high, n_used, n_excluded (degenerate replicates). When
        every replicate is degenerate, low, median and high are NaN and n_used is 0.
    """
    level = check_probability(level, "level")
    ok = _usable(boots)
    q = (1 - level) / 2
    used = boots.loc[ok, ["E", "alpha", "beta"]].astype(float)
    used["a"] = used["beta"] / (used["alpha"] + used["beta"])  # usable rows have alpha, beta > 0
    rows = []
    for name in ("E", "alpha", "beta", "a"):
        low, mid, high = np.quantile(used[name].to_numpy(), [q, 0.5, 1 - q]) if ok.any() else (np.nan,) * 3
        rows.append(
            {
                "parameter": name,
                "low": low,
                "median": mid,
                "high": high,
                "n_used": int(ok.sum()),
                "n_excluded": int((~ok).sum()),
            }
        )
    return pd.DataFrame(rows)


def fit_per_group(runs: pd.DataFrame, *, by: str = "seed", delta: float = 1e-3) -> pd.DataFrame:
    """Fit the law separately to each group of runs (e.g. each seed), to show how far the fit moves.

    Returns
    -------
    DataFrame
        One row per group: ``by``, E, A, B, alpha, beta, a, objective.
    """
    if not {by, "N", "D", "loss"} <= set(runs.columns):
        raise ValueError(f"`runs` must have columns N, D, loss and {by!r}. Got {', '.join(runs.columns)}.")
    rows = []
    for key, g in runs.groupby(by):
        f = fit_scaling_law(g["N"].to_numpy(), g["D"].to_numpy(), g["loss"].to_numpy(), delta=delta)
        rows.append(
            {
                by: key,
                "E": f.law.E,
                "A": f.law.A,
                "B": f.law.B,
                "alpha": f.law.alpha,
                "beta": f.law.beta,
                "a": f.law.a,
                "objective": f.objective,
            }
        )
    return pd.DataFrame(rows)


def drop_highest_loss(runs: pd.DataFrame, k: int) -> pd.DataFrame:
    """Remove the ``k`` runs with the highest loss (Epoch AI drop 5 outliers of the Chinchilla data)."""
    k = check_int(k, "k", low=0)
    if len(runs) - k < 5:
        raise ValueError(f"Dropping {k} of {len(runs)} runs leaves fewer than 5 to fit. Drop fewer runs.")
    return runs.sort_values("loss").iloc[: len(runs) - k].reset_index(drop=True)


def power_law_view(law: ScalingLaw, N: np.ndarray, D: np.ndarray, loss: np.ndarray) -> pd.DataFrame:
    r"""Each term of the law isolated from the runs, for log-log plots where a power law is a straight line.

    For the N term, :math:`L - E - B/D^\beta` against N (the fit's own line is :math:`A/N^\alpha`, slope
    :math:`-\alpha`); for the D term, :math:`L - E - A/N^\alpha` against D. Rows whose isolated value is not
    positive (noise larger than the term) are dropped, as a log axis cannot show them.

    Returns
    -------
    DataFrame
        Long format: term ("N" or "D"), x, other (the run's other size), value, kind ("measured" or "fit").
    """
    n, d, ell = _check_runs(N, D, loss)
    rows = [
        pd.DataFrame({"term": "N", "x": n, "other": d, "value": ell - law.E - law.B / d**law.beta, "kind": "measured"}),
        pd.DataFrame(
            {"term": "D", "x": d, "other": n, "value": ell - law.E - law.A / n**law.alpha, "kind": "measured"}
        ),
    ]
    for term, x, coef, expo in (("N", n, law.A, law.alpha), ("D", d, law.B, law.beta)):
        grid = np.geomspace(x.min(), x.max(), 40)  # (40,)
        rows.append(pd.DataFrame({"term": term, "x": grid, "other": np.nan, "value": coef / grid**expo, "kind": "fit"}))
    out = pd.concat(rows, ignore_index=True)
    return out[out["value"] > 0].reset_index(drop=True)


def isoflop_penalty(law: ScalingLaw, flops: float, n: float) -> float:
    """Extra loss (nats/token) of spending ``flops`` on a model of ``n`` parameters (D = C / 6N) instead of N_opt.

    Small values mean a flat IsoFLOP valley: allocations far apart in N predict almost the same loss, so the
    fitted optimum moves a lot with small changes of the fit.
    """
    c = check_positive(flops, "flops")
    n = check_positive(n, "n")
    n_opt, d_opt = law.compute_optimal(c)
    return float(law.loss(n, c / (6.0 * n)) - law.loss(n_opt, d_opt))
