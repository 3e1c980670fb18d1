"""Sinkhorn past the LP: time and memory of entropic OT on POT's torch backend against the exact LP as n grows.

The exact LP (``ot.emd``, network simplex, float64 numpy) costs about n^3 in practice; one Sinkhorn iteration costs
n^2 and runs on whatever backend holds the arrays. Both need the dense n x n cost matrix and return a dense n x n
plan, so memory grows as n^2 * itemsize: in float32 (the torch run here) half the bytes of the LP's float64.
Primary reference: M. Cuturi, "Sinkhorn Distances: Lightspeed Computation of Optimal Transport", NeurIPS 2013;
R. Flamary et al., "POT: Python Optimal Transport", JMLR 2021 (the backend-agnostic solvers).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import ot
import pandas as pd

from core._validation import check_choice, check_int, check_positive
from core.data import point_cloud

DTYPES = ("float32", "float64")
LP_SOLVER, SINKHORN_SOLVER = "exact LP", "Sinkhorn (torch)"
MAX_RATIO = {"float32": 80.0, "float64": 500.0}  # max(M) / eps with exp(-max(M) / eps) above the smallest normal


@dataclass(frozen=True)
class ScaleConfig:
    """Settings of the scale run (defaults: 0.8 calibration units measured, 4.9 s on a shared 2-core machine)."""

    sizes: tuple[int, ...] = (500, 1000, 2000, 4000, 8000)  # points per cloud; 8000: a 256 MB float32 cost matrix
    lp_max: int = 2000  # the LP is timed only up to here (it grows ~n^3: ~10x per doubling past this)
    eps: float = 0.03  # fraction of the largest cost: ~50-100 iterations at every n
    dtype: str = "float32"  # the torch dtype of the Sinkhorn run (the LP is always float64)
    tol: float = 1e-5  # column-marginal violation ||P^T 1 - b||_2 (POT's stopThr), above float32 round-off
    max_iter: int = 5000  # Sinkhorn iteration cap
    seed: int = 0  # seed of the point clouds


def matrix_bytes(n: int, dtype: str) -> int:
    """Bytes of one dense n x n matrix of ``dtype`` ("float32" or "float64"): ``n * n * itemsize``."""
    n = check_int(n, "n", low=1)
    return n * n * np.dtype(check_choice(dtype, "dtype", DTYPES)).itemsize


def _problem(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    return point_cloud("moons", n, seed=seed), point_cloud("ring", n, seed=seed + 1)  # (n, 2) each


def torch_sinkhorn(x: np.ndarray, y: np.ndarray, *, eps: float, dtype: str, tol: float, max_iter: int) -> dict:
    """Entropic OT between uniform clouds ``x`` and ``y`` with ``ot.sinkhorn`` on torch tensors of ``dtype``.

    The cost is the squared Euclidean distance divided by its maximum (so ``eps`` is a fraction of the largest
    cost), built on torch; ``eps`` below ``1 / MAX_RATIO[dtype]`` is refused (the plain kernel would underflow to 0
    for the farthest pairs and a row of zeros breaks the scaling). Returns ``cost`` (<P, M> without the entropy
    term, in units of max(M)), ``iterations``, ``converged`` (POT's last marginal error <= ``tol``; an l2 norm,
    so at large n a looser per-point match), ``marginal_error`` (the l1 column error of the returned plan),
    ``seconds`` (the solver only), ``cost_bytes`` and ``plan_bytes`` (``element_size() * numel()`` of the tensors
    actually held).
    """
    import torch  # imported here, so that the page loads without torch until this tab runs

    tdt = getattr(torch, check_choice(dtype, "dtype", DTYPES))
    if 1.0 / check_positive(eps, "eps") > MAX_RATIO[dtype]:
        raise ValueError(
            f"eps = {eps:g} of the largest cost underflows the kernel exp(-M / eps) in {dtype} (it needs eps >= "
            f"{1 / MAX_RATIO[dtype]:.3g}): raise `eps` or use float64."
        )
    xt, yt = torch.tensor(x, dtype=tdt), torch.tensor(y, dtype=tdt)  # (n, 2), (m, 2)
    M = ot.dist(xt, yt)  # (n, m)
    M /= M.max()
    a = torch.full((len(x),), 1.0 / len(x), dtype=tdt)  # (n,)
    b = torch.full((len(y),), 1.0 / len(y), dtype=tdt)  # (m,)
    t0 = time.perf_counter()
    P, log = ot.sinkhorn(a, b, M, eps, numItermax=max_iter, stopThr=tol, log=True, warn=False)  # (n, m)
    seconds = time.perf_counter() - t0
    cost = float(torch.sum(P * M, dtype=torch.float64))  # accumulated in float64
    if not np.isfinite(cost):
        raise ValueError(f"Sinkhorn overflowed at eps = {eps:g} in {dtype}: raise `eps` or use float64.")
    return {
        "cost": cost,
        "iterations": int(log["niter"]) + 1,
        "converged": float(log["err"][-1]) <= tol,
        "marginal_error": float((P.sum(0) - b).abs().sum()),  # ||P^T 1 - b||_1: mass in the wrong column
        "seconds": seconds,
        "cost_bytes": M.element_size() * M.numel(),
        "plan_bytes": P.element_size() * P.numel(),
    }


def scale_run(config: ScaleConfig = ScaleConfig(), *, callback: Callable[[dict], None] | None = None) -> pd.DataFrame:
    """Time Sinkhorn on POT's torch backend at every size, the exact LP up to ``lp_max``, with their memory.

    The problem at size n is that of :func:`core.sinkhorn.experiments.timing_vs_n`: n points of two moons against
    n points of a ring, uniform weights, squared Euclidean cost divided by its max. Times are single wall-clock runs
    of the solver alone (building the cost matrix is not timed); one small untimed warm-up of each solver first.

    Parameters
    ----------
    config : ScaleConfig
        Sizes (each 10-10,000, increasing), ``lp_max``, eps, dtype, tolerance, iteration cap, seed.
    callback : callable, optional
        Called after each solve with ``progress``, ``n``, ``solver`` and ``seconds``.

    Returns
    -------
    DataFrame
        One row per (n, solver run): ``n``, ``solver`` (``LP_SOLVER`` or ``SINKHORN_SOLVER``), ``dtype``,
        ``seconds``, ``cost`` (<P, M>, units of max(M)), ``iterations`` (NaN for the LP), ``converged``,
        ``marginal_error`` (||P^T 1 - b||_1),
        ``cost_bytes`` and ``plan_bytes`` (of the arrays held), ``memory_mb`` (their sum / 10^6).
    """
    c = config
    sizes = [check_int(s, "sizes", low=10, high=10_000) for s in c.sizes]
    if not sizes or sorted(set(sizes)) != sizes:
        raise ValueError(f"`sizes` must be increasing problem sizes. Got {c.sizes!r} instead.")
    lp_max = check_int(c.lp_max, "lp_max", low=0, high=5000)
    eps, tol = check_positive(c.eps, "eps"), check_positive(c.tol, "tol")
    max_iter = check_int(c.max_iter, "max_iter", low=1)
    check_choice(c.dtype, "dtype", DTYPES)
    seed = check_int(c.seed, "seed", low=0)
    kw = {"eps": eps, "dtype": c.dtype, "tol": tol, "max_iter": max_iter}
    torch_sinkhorn(*_problem(20, seed), **kw)  # warm-up, untimed
    ot.emd(np.full(8, 1 / 8), np.full(8, 1 / 8), np.ones((8, 8)))
    runs = [(n, s) for n in sizes for s in (LP_SOLVER, SINKHORN_SOLVER) if s == SINKHORN_SOLVER or n <= lp_max]
    weights = [n**3 / 400 if s == LP_SOLVER else n**2 for n, s in runs]  # ~relative run times, for the progress
    rows, done = [], 0
    for (n, solver), weight in zip(runs, weights, strict=True):
        x, y = _problem(n, seed)
        if solver == LP_SOLVER:
            M = ot.dist(x, y)  # (n, n) float64
            M /= M.max()
            w = np.full(n, 1.0 / n)  # (n,)
            t0 = time.perf_counter()
            P = ot.emd(w, w, M, numItermax=10_000_000)  # (n, n)
            row = {"seconds": time.perf_counter() - t0, "cost": float(np.einsum("ij,ij->", P, M))}
            row |= {"iterations": np.nan, "converged": True, "marginal_error": float(np.abs(P.sum(0) - w).sum())}
            row |= {"cost_bytes": M.nbytes, "plan_bytes": P.nbytes}
            row["dtype"] = "float64"
            del M, P
        else:
            row = torch_sinkhorn(x, y, **kw) | {"dtype": c.dtype}
        rows.append({"n": n, "solver": solver} | row)
        done += weight
        if callback is not None:
            callback({"progress": done / sum(weights), "n": n, "solver": solver, "seconds": row["seconds"]})
    df = pd.DataFrame(rows)
    df["memory_mb"] = (df["cost_bytes"] + df["plan_bytes"]) / 1e6
    if not df["converged"].all():
        shown = ", ".join(str(n) for n in df.loc[~df["converged"], "n"])
        warnings.warn(
            f"Sinkhorn did not reach the tolerance {tol:g} within {max_iter} iterations at n = {shown}: "
            "increase `max_iter` or `eps`.",
            stacklevel=2,
        )
    return df


def lp_exponent(df: pd.DataFrame, *, min_n: int = 1000) -> float:
    """Fitted p of the LP's seconds ~ n^p over its sizes >= ``min_n`` (at least its two largest); NaN below two."""
    lp = df[df["solver"] == LP_SOLVER].sort_values("n")
    lp = lp.tail(max(2, int((lp["n"] >= min_n).sum())))
    ok = lp[lp["seconds"] > 0]
    return float(np.polyfit(np.log(ok["n"]), np.log(ok["seconds"]), 1)[0]) if len(ok) >= 2 else float("nan")
