"""Sinkhorn experiments: normalisation step by step, and its cost against the exact LP as n grows.

``normalisation_view`` lays the Sinkhorn iterate after k steps beside the exact plan on two 1-D histograms.
``timing_vs_n`` times POT's network simplex (``ot.emd``) against :func:`core.sinkhorn.solver.sinkhorn` on growing point
clouds; ``frontier`` puts several eps and the LP on one accuracy-versus-time picture. (The gradient flows are in
``core.sinkhorn.flows``.) Primary reference: M. Cuturi, "Sinkhorn Distances: Lightspeed Computation of Optimal
Transport", NeurIPS 2013.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import ot
import pandas as pd

from core._validation import check_array, check_int, check_positive, check_weights
from core.data import point_cloud
from core.sinkhorn.solver import (
    DEFAULT_MAX_ITER,
    DEFAULT_TOL,
    SinkhornResult,
    _solve,
    exact_plan,
    sinkhorn_steps,
)


@dataclass(frozen=True)
class Histograms:
    """Two histograms on a common 1-D grid and their squared-distance cost."""

    x: np.ndarray  # (n,) grid in [0, 1]
    a: np.ndarray  # (n,) source weights, sum 1
    b: np.ndarray  # (n,) target weights, sum 1
    M: np.ndarray  # (n, n) (x_i - x_j)^2 / max: the largest cost is 1, so eps is a fraction of it


def example_histograms(n: int = 60) -> Histograms:
    """A bimodal source and a skewed unimodal target on ``n`` grid points of [0, 1] (squared-distance cost)."""
    n = check_int(n, "n", low=2, high=2000)
    x = np.linspace(0.0, 1.0, n)  # (n,)
    a = 0.6 * np.exp(-(((x - 0.2) / 0.07) ** 2)) + 0.4 * np.exp(-(((x - 0.5) / 0.06) ** 2))
    b = np.exp(-(((x - 0.75) / 0.12) ** 2)) * (1 + np.tanh((x - 0.7) / 0.1))
    return histograms(a, b, x=x)


def histograms(a: object, b: object, *, x: object = None) -> Histograms:
    """Normalise two histograms on a common grid and build their squared-distance cost scaled to max 1.

    Parameters
    ----------
    a, b : arrays of shape (n,)
        Nonnegative bin weights (any positive total; each is divided by its sum).
    x : array of shape (n,), optional
        Bin positions (strictly increasing); default the bin index.

    Returns
    -------
    Histograms
        ``x`` rescaled to [0, 1], ``a`` and ``b`` summing to 1, ``M = (x_i - x_j)^2``.
    """
    a = check_array(a, "a", ndim=1, min_len=2, nonnegative=True)
    check_int(len(a), "the number of bins", high=2000)  # M has n^2 entries
    b = check_weights(b, "b", len(a))
    a = check_weights(a, "a", len(a))
    x = np.arange(len(a), dtype=float) if x is None else check_array(x, "x", ndim=1)
    if len(x) != len(a) or np.any(np.diff(x) <= 0):
        raise ValueError(f"`x` must be {len(a)} strictly increasing bin positions. Got {len(x)} values instead.")
    x = (x - x[0]) / (x[-1] - x[0])  # (n,) in [0, 1]
    return Histograms(x=x, a=a / a.sum(), b=b / b.sum(), M=(x[:, None] - x[None, :]) ** 2)


@dataclass(frozen=True)
class NormalisationView:
    """The Sinkhorn iterate after k steps beside the exact plan, as tables for charts."""

    steps: SinkhornResult  # the iterate after k iterations
    exact_cost: float  # OT(a, b) from ot.emd, in units of M
    plans: pd.DataFrame  # long: plan, source, source_end, target, target_end, mass (one row per cell)
    marginals: pd.DataFrame  # long: x, series, mass (a, b and the iterate's column sums)


def normalisation_view(h: Histograms, *, eps: float, k: int) -> NormalisationView:
    """Run ``k`` Sinkhorn iterations on two histograms and lay the iterate and the exact plan out for heatmaps.

    Parameters
    ----------
    h : Histograms
        Weights on a common grid and their cost (from :func:`histograms` or :func:`example_histograms`).
    eps : float
        Regularisation in units of ``h.M`` (its max is 1, so a fraction of the largest cost).
    k : int
        Iterations (each: columns rescaled to ``b``, then rows to ``a``).

    Returns
    -------
    NormalisationView
        The iterate, the exact cost, a long table of both plans on the grid (cell edges from bin midpoints) and the
        marginals: ``a`` (source), ``b`` (target) and the column sums of the iterate.
    """
    res = sinkhorn_steps(h.a, h.b, h.M, eps=eps, k=k)
    P_exact, exact_cost = exact_plan(h.a, h.b, h.M)  # (n, n)
    mid = (h.x[1:] + h.x[:-1]) / 2  # (n - 1,)
    edges = np.concatenate([[h.x[0] - (mid[0] - h.x[0])], mid, [h.x[-1] + (h.x[-1] - mid[-1])]])  # (n + 1,)
    i, j = np.meshgrid(np.arange(len(h.x)), np.arange(len(h.x)), indexing="ij")  # (n, n) each
    cell = {"source": edges[i.ravel()], "source_end": edges[i.ravel() + 1]}
    cell |= {"target": edges[j.ravel()], "target_end": edges[j.ravel() + 1]}
    label = f"Sinkhorn after k = {k}"
    plans = pd.concat(
        [pd.DataFrame({"plan": name, **cell, "mass": P.ravel()}) for name, P in ((label, res.plan), ("exact", P_exact))]
    )
    n = len(h.x)
    marginals = pd.DataFrame(
        {
            "x": np.tile(h.x, 3),
            "series": np.repeat(["a (source)", "b (target)", f"column sums after k = {k}"], n),
            "mass": np.concatenate([h.a, h.b, res.plan.sum(0)]),
        }
    )
    return NormalisationView(steps=res, exact_cost=exact_cost, plans=plans, marginals=marginals)


@dataclass(frozen=True)
class TimingConfig:
    """Settings of the exact-LP-versus-Sinkhorn timing (defaults: about 15-25 s on a shared 2-core machine)."""

    sizes: tuple[int, ...] = (100, 200, 400, 800, 1200, 1600, 2000)  # up to where the LP is ~2x slower than Sinkhorn
    eps: float = 0.03  # 3% of the largest cost: ~50-60 iterations at every n, a visible but small blur
    tol: float = DEFAULT_TOL  # as in core.sinkhorn.solver.sinkhorn
    max_iter: int = DEFAULT_MAX_ITER  # as in core.sinkhorn.solver.sinkhorn
    repeats: int = 3  # timings per (n, solver), the median shown: single timings flipped the fitted exponents
    seed: int = 0  # seed of the point clouds


def timing_vs_n(
    config: TimingConfig = TimingConfig(),  # frozen, so a shared default is safe
    *,
    callback: Callable[[dict], None] | None = None,
) -> pd.DataFrame:
    """Time the exact LP (``ot.emd``) against :func:`core.sinkhorn.solver.sinkhorn` as the problem grows.

    The problem at size n: ``n`` points of two moons against ``n`` points of a ring (uniform weights), squared
    Euclidean cost divided by its max, so ``eps`` is a fraction of the largest cost. The network simplex costs
    about O(n^3) in practice; each Sinkhorn iteration costs O(n^2). Every (n, solver) is timed ``repeats`` times,
    interleaved (LP, Sinkhorn, LP, ...) so that a burst of load on a shared machine hits both; one untimed warm-up
    run of each solver comes first, so one-time costs (imports, caches) are not timed.

    Parameters
    ----------
    config : TimingConfig
        Sizes (each 2-5000), eps (a fraction of max(M)), tolerance, iteration cap, repeats, seed.
    callback : callable, optional
        Called after each timed run with ``progress``, ``n``, ``solver`` and that run's ``seconds``.

    Returns
    -------
    DataFrame
        Long format, one row per (n, solver): ``n``, ``solver`` ("exact" or "sinkhorn"), ``seconds`` (median wall
        time), ``seconds_min``, ``seconds_max`` (spread of the repeats), ``repeats``, ``cost`` (<P, M>),
        ``iterations`` (Sinkhorn iterations run, as counted by POT; NaN for the LP).
    """
    c = config
    sizes = [check_int(s, "sizes", low=2, high=5000) for s in c.sizes]
    if not sizes:
        raise ValueError("`sizes` must list at least one problem size. Got an empty tuple instead.")
    eps = check_positive(c.eps, "eps")
    tol = check_positive(c.tol, "tol")
    max_iter = check_int(c.max_iter, "max_iter", low=1)
    repeats = check_int(c.repeats, "repeats", low=1, high=50)
    seed = check_int(c.seed, "seed", low=0)
    rows, stalled = [], []
    w = np.full(8, 1 / 8)  # (8,)
    ot.emd(w, w, np.ones((8, 8)))  # warm-up, untimed
    _solve(w, w, np.ones((8, 8)), eps, max_iter, tol)
    total, done = len(sizes) * repeats * 2, 0
    for n in sizes:
        x, y = point_cloud("moons", n, seed=seed), point_cloud("ring", n, seed=seed + 1)  # (n, 2) each
        M = ot.dist(x, y)  # (n, n) squared distances
        M /= M.max()
        w = np.full(n, 1.0 / n)  # (n,)
        times = {"exact": [], "sinkhorn": []}
        for _ in range(repeats):
            for solver in ("exact", "sinkhorn"):
                t0 = time.perf_counter()
                if solver == "exact":
                    P_exact = ot.emd(w, w, M, numItermax=10_000_000)  # (n, n)
                else:
                    res = _solve(w, w, M, eps, max_iter, tol)
                times[solver].append(time.perf_counter() - t0)
                done += 1
                if callback is not None:
                    callback({"progress": done / total, "n": n, "solver": solver, "seconds": times[solver][-1]})
        if not res.converged:
            stalled.append(n)
        for solver, P, iters in (("exact", P_exact, np.nan), ("sinkhorn", res.plan, res.n_iter)):
            t = times[solver]
            rows.append(
                {
                    "n": n,
                    "solver": solver,
                    "seconds": float(np.median(t)),
                    "seconds_min": float(np.min(t)),
                    "seconds_max": float(np.max(t)),
                    "repeats": repeats,
                    "cost": float(np.einsum("ij,ij->", P, M)),
                    "iterations": iters,
                }
            )
    if stalled:
        warnings.warn(
            f"Sinkhorn did not reach the tolerance {tol:g} within {max_iter} iterations at n = "
            f"{', '.join(map(str, sorted(set(stalled))))}: increase `max_iter` or `eps`.",
            stacklevel=2,
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class FrontierConfig:
    """Settings of the accuracy-versus-time frontier (defaults: about 10-20 s on a shared 2-core machine)."""

    n: int = 800  # points per cloud: the LP takes about half a second here, so the trade-off is real
    epsilons: tuple[float, ...] = (0.3, 0.1, 0.03, 0.01, 0.003)  # fractions of max(M), blurry to sharp
    repeats: int = 3  # timings per solver, the median shown
    tol: float = DEFAULT_TOL  # as in core.sinkhorn.solver.sinkhorn
    max_iter: int = DEFAULT_MAX_ITER  # as in core.sinkhorn.solver.sinkhorn
    seed: int = 0  # seed of the point clouds


def frontier(
    config: FrontierConfig = FrontierConfig(), *, callback: Callable[[dict], None] | None = None
) -> pd.DataFrame:
    """Accuracy against time: Sinkhorn's gap to the exact cost at several eps, and the exact LP, on one problem.

    The problem is that of :func:`timing_vs_n` at size ``n``. Each solver is timed ``repeats`` times; the gap is
    ``<P_eps, M> - OT`` with OT from ``ot.emd`` (0 for the LP itself).

    Returns
    -------
    DataFrame
        One row per solver: ``solver`` ("exact" or "sinkhorn"), ``eps`` (NaN for the LP), ``seconds`` (median),
        ``gap`` and ``rel_gap`` (gap / OT), ``iterations`` (NaN for the LP), ``converged``.
    """
    c = config
    n = check_int(c.n, "n", low=2, high=5000)
    eps_values = [check_positive(e, "epsilons") for e in c.epsilons]
    if not eps_values:
        raise ValueError("`epsilons` must list at least one value. Got an empty tuple instead.")
    repeats = check_int(c.repeats, "repeats", low=1, high=50)
    tol, max_iter = check_positive(c.tol, "tol"), check_int(c.max_iter, "max_iter", low=1)
    x, y = point_cloud("moons", n, seed=c.seed), point_cloud("ring", n, seed=c.seed + 1)  # (n, 2) each
    M = ot.dist(x, y)  # (n, n)
    M /= M.max()
    w = np.full(n, 1.0 / n)  # (n,)
    times, total = [], (len(eps_values) + 1) * repeats
    for r in range(repeats):
        t0 = time.perf_counter()
        P = ot.emd(w, w, M, numItermax=10_000_000)  # (n, n)
        times.append(time.perf_counter() - t0)
        if callback is not None:
            callback({"progress": (r + 1) / total, "solver": "exact", "seconds": times[-1]})
    exact = float(np.einsum("ij,ij->", P, M))
    rows = [
        {
            "solver": "exact",
            "eps": np.nan,
            "seconds": float(np.median(times)),
            "gap": 0.0,
            "rel_gap": 0.0,
            "iterations": np.nan,
            "converged": True,
        }
    ]
    for k, eps in enumerate(eps_values):
        times = []
        for r in range(repeats):
            t0 = time.perf_counter()
            res = _solve(w, w, M, eps, max_iter, tol)
            times.append(time.perf_counter() - t0)
            if callback is not None:
                done = (k + 1) * repeats + r + 1
                callback({"progress": done / total, "solver": "sinkhorn", "eps": eps, "seconds": times[-1]})
        gap = res.cost - exact
        rows.append(
            {
                "solver": "sinkhorn",
                "eps": eps,
                "seconds": float(np.median(times)),
                "gap": gap,
                "rel_gap": gap / exact,
                "iterations": res.n_iter,
                "converged": res.converged,
            }
        )
    df = pd.DataFrame(rows)
    if not df["converged"].all():
        shown = ", ".join(f"{e:g}" for e in df.loc[~df["converged"], "eps"])
        warnings.warn(
            f"Sinkhorn did not reach the tolerance {tol:g} within {max_iter} iterations at eps = {shown}: "
            "increase `max_iter` or `eps`.",
            stacklevel=2,
        )
    return df


def growth_exponents(timings: pd.DataFrame, *, last: int = 3, min_n: int | None = None) -> dict[str, float]:
    """Fitted exponent p of seconds ~ n^p per solver, by least squares of log(seconds) on log(n).

    Parameters
    ----------
    timings : DataFrame
        A :func:`timing_vs_n` table (columns ``n``, ``solver``, ``seconds``).
    last : int
        Fit on the ``last`` largest sizes (>= 2) ...
    min_n : int, optional
        ... or, when given, on every size >= ``min_n`` (still at least the two largest).

    Returns
    -------
    dict
        Solver name to the fitted slope; NaN with fewer than two positive timings.
    """
    last = check_int(last, "last", low=2)
    out = {}
    for solver, g in timings.groupby("solver", sort=False):
        g = g.sort_values("n")
        g = g.tail(max(2, int((g["n"] >= min_n).sum()))) if min_n is not None else g.tail(last)
        ok = g["seconds"] > 0
        fit = len(g[ok]) >= 2
        out[str(solver)] = float(np.polyfit(np.log(g.n[ok]), np.log(g.seconds[ok]), 1)[0]) if fit else np.nan
    return out


def crossover(timings: pd.DataFrame) -> int | None:
    """The smallest measured n from which Sinkhorn beats the exact LP at every larger measured n (None: never)."""
    wide = timings.pivot(index="n", columns="solver", values="seconds").sort_index()
    faster = (wide["sinkhorn"] < wide["exact"]).to_numpy()[::-1]  # from the largest n down
    run = int(np.argmin(faster)) if not faster.all() else len(faster)  # how many of the largest n Sinkhorn wins
    return int(wide.index[len(faster) - run]) if run else None
