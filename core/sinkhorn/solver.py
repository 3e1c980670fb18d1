"""The Sinkhorn shortcut: entropic optimal transport, solved by POT.

Entropic OT (Cuturi 2013) blurs the transport plan to make it cheap and smooth:

    P_eps = argmin_{P >= 0, P 1 = a, P^T 1 = b}  <P, M> - eps H(P),    H(P) = -sum_ij P_ij log P_ij.

The minimiser is P = diag(u) K diag(v) with K = exp(-M / eps), and Sinkhorn's algorithm finds u and v by
alternately rescaling columns (v = b / K^T u) and rows (u = a / K v). The price of the blur is a bias bounded by
(Peyre & Cuturi 2019, Prop. 4.1 and its proof)

    0 <= <P_eps, M> - OT(a, b) <= eps min(H(a), H(b)) <= eps log min(n, m)     (nats, in units of M).

Everything here wraps POT's solvers (``ot.sinkhorn``, ``ot.emd``); this module adds the choice of a stable
method, the diagnostics and the experiments of the Sinkhorn page. Primary reference: M. Cuturi, "Sinkhorn
Distances: Lightspeed Computation of Optimal Transport", NeurIPS 2013.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import ot
import pandas as pd
import torch

from core._validation import check_array, check_int, check_positive, check_same_mass, check_weights

PLAIN_MAX_RATIO = 500.0  # plain scaling while span(M) / eps <= 500: K = exp(-M / eps) >= e^-500 stays representable
SCALING_START = 10.0  # epsilon scaling starts at eps = span(M) / 10, where plain Sinkhorn converges in a few iterations
SCALING_DECAY = float(np.exp(-1.0))  # each stage divides eps by e (POT's schedule)
SCALING_INNER = 100  # iteration budget of each intermediate stage (POT's numInnerItermax)
TAU_PER_POINT = 1e3  # absorb scalings above 1e3 * max(n, m); POT's fixed 1e3 re-absorbs every iteration once n >= 1000
DEFAULT_MAX_ITER = 10_000  # eps = 1e-4 max(M) needs ~3,000-6,000 iterations at n = 60-1000; caps a run at seconds
DEFAULT_TOL = 1e-6  # column-marginal violation ||P^T 1 - b||_2 (POT's stopThr): 1e-6 of the total mass
BLOCK_BYTES = 1 << 19  # row blocks of 512 KiB stay in a core's L2 cache (1 MiB here) between reductions


@dataclass(frozen=True)
class SinkhornResult:
    """An entropic transport plan and how it was found.

    ``cost`` and ``marginal_error`` are computed from ``plan`` and ``M`` on first access (one pass over both), not
    by the solver, so a caller who needs only the plan pays for no more than POT's own work.
    """

    plan: np.ndarray  # (n, m) P_eps, rows sum to a
    n_iter: int  # Sinkhorn iterations run (one iteration = one column and one row rescaling)
    converged: bool  # ||P^T 1 - b||_2 <= tol
    errors: np.ndarray  # (k,) ||P^T 1 - b||_2 recorded every `error_every` iterations
    error_every: int  # iterations between two entries of `errors`
    eps: float  # entropic regularisation, in units of M
    method: str  # the POT method that produced the plan
    a: np.ndarray = field(repr=False, compare=False)  # (n,) source weights of the problem solved
    b: np.ndarray = field(repr=False, compare=False)  # (m,) target weights
    M: np.ndarray = field(repr=False, compare=False)  # (n, m) the ground cost (the caller's array, not a copy)

    @cached_property
    def _report(self) -> tuple[float, float]:
        cost, rows, cols = _cost_and_marginals(self.plan, self.M)
        return cost, float(np.abs(rows - self.a).sum() + np.abs(cols - self.b).sum())

    @property
    def cost(self) -> float:
        """<P, M>, in units of M, without the entropy term."""
        return self._report[0]

    @property
    def marginal_error(self) -> float:
        """||P 1 - a||_1 + ||P^T 1 - b||_1: mass in the wrong row or column."""
        return self._report[1]


def _row_step(M: np.ndarray) -> int:
    return max(1, BLOCK_BYTES // max(1, M.shape[1] * M.itemsize))


def _bounds(M: np.ndarray) -> tuple[float, float]:
    """(min, max) of M in one fused pass (``torch.aminmax`` on a zero-copy view; numpy needs one pass for each).

    NaN anywhere makes both NaN; inf makes one of them infinite.
    """
    if M.flags.c_contiguous and M.flags.writeable and min(M.strides) >= 0:  # torch views these without a copy
        lo, hi = torch.aminmax(torch.from_numpy(M))
    else:
        lo, hi = M.min(), M.max()
    return float(lo), float(hi)


def _cost_and_marginals(P: np.ndarray, M: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """<P, M>, P 1 and P^T 1 in one pass over P and M (row blocks: the block of P is summed twice from cache)."""
    n, m = P.shape
    step, ones = _row_step(P), np.ones(max(n, m))
    cost, rows, cols = 0.0, np.empty(n), np.zeros(m)
    for i in range(0, n, step):
        block = P[i : i + step]  # (k, m)
        cost += float(np.einsum("ij,ij->", block, M[i : i + step]))
        rows[i : i + step] = block @ ones[:m]
        cols += ones[: block.shape[0]] @ block
    return cost, rows, cols


def _checked(a: object, b: object, M: object) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[float, float]]:
    """Validated weights and cost, and (min, max) of the cost: one pass over it, which also catches NaN and inf."""
    try:
        arr = np.asarray(M, dtype=np.float64)
        bounds = _bounds(arr) if arr.ndim == 2 and arr.size > 0 else (np.nan, np.nan)
    except (TypeError, ValueError):
        arr, bounds = None, (np.nan, np.nan)
    finite = math.isfinite(bounds[0]) and math.isfinite(bounds[1])
    M = arr if finite else check_array(M, "M", ndim=2)  # its message names the problem
    a = check_weights(a, "a", M.shape[0])
    b = check_weights(b, "b", M.shape[1])
    check_same_mass(a, b)
    return a, b, M, bounds


def _check_problem(a: object, b: object, M: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return _checked(a, b, M)[:3]


def _stabilized(a, b, M0, eps: float, max_iter: int, tol: float, warmstart=None) -> tuple:
    tau = TAU_PER_POINT * max(len(a), len(b))
    P, log = ot.bregman.sinkhorn_stabilized(
        a, b, M0, eps, numItermax=max_iter, stopThr=tol, warmstart=warmstart, tau=tau, log=True, warn=False
    )
    return P, log["n_iter"] + 1, log["err"], (log["alpha"], log["beta"])


def _scaled(a, b, M0, eps: float, max_iter: int, tol: float) -> tuple:
    """Epsilon scaling: stabilized Sinkhorn at eps_k = span / 10 * e^-k, each stage warm-started, ending at eps."""
    stage_eps, used, warm = float(M0.max()) / SCALING_START, 0, None
    while True:
        last = stage_eps <= eps or used + SCALING_INNER >= max_iter
        stage_eps = eps if last else stage_eps
        budget = max_iter - used if last else SCALING_INNER
        P, n_iter, errors, warm = _stabilized(a, b, M0, stage_eps, budget, tol, warmstart=warm)
        used += n_iter
        if last:
            return P, used, errors
        stage_eps *= SCALING_DECAY


def _col_error(cols: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(cols - b))  # ||P^T 1 - b||_2 from the column sums


def _col_sums(P: np.ndarray) -> np.ndarray:
    return np.ones(P.shape[0]) @ P  # (m,) P^T 1 as one BLAS mat-vec, faster than P.sum(0) on large plans


def _row_sums(P: np.ndarray) -> np.ndarray:
    return P @ np.ones(P.shape[1])  # (n,) P 1 as one BLAS mat-vec


def _pot_plan(a, b, M, eps: float, max_iter: int, tol: float, *, scaling: bool = True, bounds=None) -> tuple:
    """Solve with POT by the first stable route; return plan, n_iter, errors, method, column error.

    Routes: plain Sinkhorn (``ot.sinkhorn``, called on ``M`` itself, no copy) when ``max(M) / eps <= 500`` and
    ``M >= 0``, so the kernel ``exp(-M / eps)`` is representable; else, or when plain Sinkhorn returns NaN/inf or
    stops unconverged, epsilon scaling over the stabilized solver (with ``scaling=False``: the stabilized solver from
    a cold start, which keeps the textbook iterates); the log-domain solver as the last resort against NaN or inf.
    Every POT call runs with ``warn=False``: convergence is judged here, never from captured warnings.

    The plain route's plan is returned as POT computed it (its rows are exact after the last row rescaling). When
    POT stopped on its own check, the column error ``||P^T 1 - b||_2`` of that final iterate is POT's last recorded
    error: it stops right after measuring it below ``tol``, and a finite error below ``tol`` also means a finite
    plan (nonnegative entries with finite column sums). Only otherwise are the column sums computed here.
    """
    lo, hi = bounds if bounds is not None else _bounds(M)
    plain = hi - lo <= PLAIN_MAX_RATIO * eps
    M0 = M if 0.0 <= lo and hi <= PLAIN_MAX_RATIO * eps else M - lo  # (n, m); a shift leaves the plan unchanged
    out, spent = None, 0  # spent: iterations of routes given up on, counted in n_iter
    if plain:
        P, log = ot.sinkhorn(a, b, M0, eps, numItermax=max_iter, stopThr=tol, log=True, warn=False)
        spent, errors = log["niter"] + 1, log["err"]
        if errors and float(errors[-1]) < tol:  # POT stopped on this very iterate's column error
            return _finish((P, spent, errors, "sinkhorn", float(errors[-1])))
        col_err = _col_error(_col_sums(P), b)
        if np.isfinite(col_err):  # NaN or inf anywhere in P reaches the column sums
            out = (P, spent, errors, "sinkhorn", col_err)
            if not scaling or col_err <= tol:
                return _finish(out)
    route = _scaled if scaling else lambda *args: _stabilized(*args)[:3]
    P, n_iter, errors = route(a, b, M0, eps, max_iter, tol)
    P = _rows_exact(P, a)
    col_err = _col_error(_col_sums(P), b)
    if np.isfinite(col_err) and (out is None or col_err < out[4]):
        out = (P, n_iter + spent, errors, "epsilon_scaling" if scaling else "sinkhorn_stabilized", col_err)
    if out is None:
        P, log = ot.sinkhorn(
            a, b, M0, eps, method="sinkhorn_log", numItermax=max_iter, stopThr=tol, log=True, warn=False
        )
        P = _rows_exact(P, a)
        out = (P, log["niter"] + 1 + spent, log["err"], "sinkhorn_log", _col_error(_col_sums(P), b))
    return _finish(out)


def _rows_exact(P, a):
    """One more row rescaling: a no-op except after a late absorption (stabilized) or in the log domain."""
    rows = _row_sums(P)  # (n,)
    return P * (a / rows)[:, None] if float(rows.min()) > 0 else P


def _finish(out: tuple) -> tuple:
    P, n_iter, errors, method, col_err = out
    return P, int(n_iter), np.array([float(e) for e in errors]), method, float(col_err)


def _solve(
    a: np.ndarray,
    b: np.ndarray,
    M: np.ndarray,
    eps: float,
    max_iter: int,
    tol: float,
    *,
    scaling: bool = True,
    bounds: tuple[float, float] | None = None,
) -> SinkhornResult:
    ia, ib = a > 0, b > 0  # zero-weight rows and columns carry no mass: solve without them
    if ia.all() and ib.all():
        P, n_iter, errors, method, col_err = _pot_plan(a, b, M, eps, max_iter, tol, scaling=scaling, bounds=bounds)
    else:
        P = np.zeros_like(M)  # (n, m)
        sub, n_iter, errors, method, _ = _pot_plan(a[ia], b[ib], M[np.ix_(ia, ib)], eps, max_iter, tol, scaling=scaling)
        P[np.ix_(ia, ib)] = sub
        col_err = _col_error(_col_sums(P), b)
    return SinkhornResult(
        plan=P,
        n_iter=n_iter,
        converged=col_err <= tol,
        errors=errors,
        error_every=10 if method in ("sinkhorn", "sinkhorn_log") else 20,
        eps=eps,
        method=method,
        a=a,
        b=b,
        M=M,
    )


def _unconverged_message(eps_values: Sequence[float], max_iter: int, tol: float) -> str:
    shown = ", ".join(f"{e:.3g}" for e in eps_values)
    return (
        f"Sinkhorn did not reach the tolerance {tol:g} within {max_iter} iterations at eps = {shown}: "
        "increase `max_iter` or `eps` (or loosen `tol`)."
    )


def sinkhorn(
    a: object, b: object, M: object, *, eps: float, max_iter: int = DEFAULT_MAX_ITER, tol: float = DEFAULT_TOL
) -> SinkhornResult:
    r"""Solve entropic optimal transport with POT, choosing a numerically stable method by itself.

    .. math:: P_\varepsilon = \arg\min_{P \in U(a, b)} \langle P, M \rangle - \varepsilon H(P)

    Plain Sinkhorn (POT ``"sinkhorn"``) runs while ``(max(M) - min(M)) / eps <= 500`` (and if it stops
    unconverged, epsilon scaling gets a second try). Below that blur the kernel ``exp(-M / eps)`` under- or
    overflows, so it runs epsilon scaling instead: POT's ``sinkhorn_stabilized`` at
    eps_k = span / 10 * e^-k, each stage warm-started from the last, ending at ``eps``; the log-domain solver is the
    last resort. Measured (bench/bench_sinkhorn.py): at 1e-4 max(M) the scaling is several times faster than
    stabilized Sinkhorn from a cold start, which can return NaN, and 10-40x faster than the log-domain method.

    Parameters
    ----------
    a : array of shape (n,) or None
        Source weights (nonnegative; None for uniform).
    b : array of shape (m,) or None
        Target weights, same total mass as ``a``.
    M : array of shape (n, m)
        Ground cost.
    eps : float
        Entropic regularisation, in units of ``M`` (> 0). From 1 down to 1e-4 times max(M) is safe.
    max_iter : int
        Iterations before giving up, summed over the stages of epsilon scaling; one iteration is one column
        rescaling followed by one row rescaling.
    tol : float
        Stop when the column marginals are within ``tol`` in Euclidean norm (rows are exact after each iteration).

    Returns
    -------
    SinkhornResult
        ``plan`` (n, m), ``cost`` = <P, M> (no entropy term, computed when first read), ``n_iter``, ``converged``,
        ``errors``. If the run stops unconverged, ``converged`` is False and a warning says which knob to turn.

    References
    ----------
    Cuturi (2013), Sinkhorn distances; Schmitzer (2019), Stabilized sparse scaling algorithms for entropy
    regularized transport problems.

    Examples
    --------
    >>> res = sinkhorn([0.5, 0.5], [0.5, 0.5], [[0.0, 1.0], [1.0, 0.0]], eps=0.01)
    >>> round(res.cost, 6), res.converged
    (0.0, True)
    """
    a, b, M, bounds = _checked(a, b, M)
    eps = check_positive(eps, "eps")
    max_iter = check_int(max_iter, "max_iter", low=1)
    tol = check_positive(tol, "tol")
    res = _solve(a, b, M, eps, max_iter, tol, bounds=bounds)
    if not res.converged:
        warnings.warn(_unconverged_message([eps], max_iter, tol), stacklevel=2)
    return res


def sinkhorn_steps(a: object, b: object, M: object, *, eps: float, k: int) -> SinkhornResult:
    """The Sinkhorn iterate after exactly ``k`` iterations (no early stop, no warning).

    One iteration rescales the columns to sum to ``b`` (``v = b / K^T u``), then the rows to sum to ``a``
    (``u = a / K v``), starting from ``u = 1/n``. So after ``k`` iterations the rows are exact and the column
    error ``marginal_error`` shows how far the plan still is from a transport plan.

    Parameters
    ----------
    a, b : arrays of shape (n,) and (m,), or None
        Weights with equal mass (None for uniform).
    M : array of shape (n, m)
        Ground cost.
    eps : float
        Entropic regularisation, in units of ``M``.
    k : int
        Number of iterations, >= 1.

    Returns
    -------
    SinkhornResult
        The iterate; ``converged`` says whether it is already within the default tolerance 1e-6.
    """
    a, b, M, bounds = _checked(a, b, M)
    eps = check_positive(eps, "eps")
    k = check_int(k, "k", low=1, high=1_000_000)
    res = _solve(a, b, M, eps, k, 0.0, scaling=False, bounds=bounds)  # stopThr = 0: POT runs all k iterations
    return replace(res, converged=bool(np.linalg.norm(res.plan.sum(0) - b) <= DEFAULT_TOL))


def exact_plan(a: object, b: object, M: object) -> tuple[np.ndarray, float]:
    """The exact optimal plan and cost <P*, M> from POT's network simplex (``ot.emd``).

    Returns
    -------
    plan : ndarray of shape (n, m)
    cost : float
        OT(a, b) in units of ``M``.
    """
    a, b, M = _check_problem(a, b, M)
    P = ot.emd(a, b, M, numItermax=10_000_000)  # (n, m)
    return P, float(np.sum(P * M))


def _entropy(w: np.ndarray) -> float:
    w = w[w > 0] / w.sum()
    return float(-np.sum(w * np.log(w)))


def epsilon_sweep(
    a: object,
    b: object,
    M: object,
    *,
    epsilons: Sequence[float],
    max_iter: int = DEFAULT_MAX_ITER,
    tol: float = DEFAULT_TOL,
    repeats: int = 1,
) -> pd.DataFrame:
    r"""Measure the eps trade-off: bias of the entropic cost, iterations and wall time against eps.

    .. math:: 0 \le \langle P_\varepsilon, M\rangle - OT \le \varepsilon \min(H(a), H(b))
              \le \varepsilon \log \min(n, m)

    Parameters
    ----------
    a, b : arrays of shape (n,) and (m,), or None
        Weights with equal mass.
    M : array of shape (n, m)
        Ground cost.
    epsilons : sequence of float
        Regularisations to try, in units of ``M``.
    max_iter, tol : int, float
        As in :func:`sinkhorn`; one warning lists every eps that did not converge.
    repeats : int
        Timed runs per eps; ``seconds`` is their median.

    Returns
    -------
    DataFrame
        One row per eps: ``eps``, ``cost`` (<P_eps, M>), ``exact_cost`` (OT by ``ot.emd``), ``gap`` (cost -
        exact), ``rel_gap`` (gap / exact), ``bound`` (eps log min(n, m)), ``entropy_bound`` (eps min(H(a), H(b))),
        ``iterations``, ``seconds``, ``exact_seconds`` (the LP, for comparison), ``converged``, ``method``.
        Costs and bounds are in units of ``M`` (entropies in nats).
    """
    a, b, M, bounds = _checked(a, b, M)
    eps_values = [check_positive(e, "epsilons") for e in np.atleast_1d(np.asarray(epsilons, dtype=float))]
    max_iter = check_int(max_iter, "max_iter", low=1)
    tol = check_positive(tol, "tol")
    repeats = check_int(repeats, "repeats", low=1, high=50)
    t0 = time.perf_counter()
    P_exact = ot.emd(a, b, M, numItermax=10_000_000)  # (n, m)
    exact_seconds = time.perf_counter() - t0
    exact = float(np.sum(P_exact * M))
    h_min = min(_entropy(a), _entropy(b))
    rows = []
    for eps in eps_values:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            res = _solve(a, b, M, eps, max_iter, tol, bounds=bounds)
            times.append(time.perf_counter() - t0)
        rows.append(
            {
                "eps": eps,
                "cost": res.cost,
                "exact_cost": exact,
                "gap": res.cost - exact,
                "rel_gap": (res.cost - exact) / exact if exact > 0 else np.nan,
                "bound": eps * np.log(min(M.shape)),
                "entropy_bound": eps * h_min,
                "iterations": res.n_iter,
                "seconds": float(np.median(times)),
                "exact_seconds": exact_seconds,
                "converged": res.converged,
                "method": res.method,
            }
        )
    df = pd.DataFrame(rows)
    if not df["converged"].all():
        warnings.warn(_unconverged_message(df.loc[~df["converged"], "eps"], max_iter, tol), stacklevel=2)
    return df
