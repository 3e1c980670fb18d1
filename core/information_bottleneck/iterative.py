"""The iterative information bottleneck on a discrete joint table, with restarts that escape stuck fixed points.

Tishby, Pereira & Bialek (1999) solve ``min_{p(t|x)} I(X;T) - beta I(T;Y)`` by alternating the self-consistent
equations. Every update lowers the objective, but the iteration has fixed points that are not optima: a cluster
whose mass reached zero never comes back (its ``log p(t)`` is ``-inf``), and at large beta every hard assignment is
a fixed point. So each solve here keeps the best of several starts (the caller's, an identity-like one and seeded
random ones, as the ``embo`` package does), and when the objective stalls it tries moving each x alone into an
unused or duplicated cluster; only a stall that no such move improves counts as converged. ``ib_curve`` anneals
over beta and then makes every beta's solution the best of all solutions found at any beta, which makes the curve
monotone. Information is in bits.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core._validation import check_array, check_int, check_positive

_SUM_TOL = 1e-6  # a joint table must sum to 1 within this tolerance
_EMPTY = 1e-12  # a cluster with p(t) below this is unused
_SAME = 1e-6  # clusters whose p(x|t) differ by less than this (L1) are duplicates
_SMOOTH = 0.01  # share of uniform mass mixed into the identity-like start, so no cluster starts empty


def check_joint(p_xy: object, name: str = "p_xy") -> np.ndarray:
    """Return a nonnegative 2-D table summing to 1 (within 1e-6), or raise a message that says how to fix it."""
    p = check_array(p_xy, name, ndim=2, nonnegative=True)
    total = float(p.sum())
    if abs(total - 1.0) > _SUM_TOL:
        raise ValueError(
            f"`{name}` must sum to 1 (a joint probability table). Got a total of {total:.6g} instead; "
            "divide the counts by their sum."
        )
    return p / total


def _xlog2x(a: np.ndarray) -> np.ndarray:
    """Elementwise a log2 a with 0 log 0 = 0."""
    return a * np.log2(a, out=np.zeros(np.shape(a)), where=a > 0)


def mi_bits(p: np.ndarray) -> float:
    """I(X;Y) in bits of a (validated) joint table: H(X) + H(Y) - H(X, Y)."""
    return max(float(_xlog2x(p).sum() - _xlog2x(p.sum(axis=1)).sum() - _xlog2x(p.sum(axis=0)).sum()), 0.0)


@dataclass(frozen=True)
class _Channel:
    p_x: np.ndarray  # (n_x,)
    p_y_x: np.ndarray  # (n_x, n_y) p(y|x)
    p_xy: np.ndarray  # (n_x, n_y) p(x, y)
    neg_h_y_x: np.ndarray  # (n_x,) sum_y p(y|x) ln p(y|x)
    const: float  # sum_y p(y) log2 p(y)


def _channel(p: np.ndarray) -> _Channel:
    p_x = p.sum(axis=1)  # (n_x,)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_y_x = np.where(p_x[:, None] > 0, p / p_x[:, None], p.sum(axis=0)[None, :])  # (n_x, n_y)
    neg_h = (_xlog2x(p_y_x) * np.log(2.0)).sum(axis=1)  # (n_x,) in nats
    return _Channel(p_x, p_y_x, p, neg_h, float(_xlog2x(p.sum(axis=0)).sum()))


def _information(enc: np.ndarray, ch: _Channel) -> tuple[float, float]:
    """(I(X;T), I(T;Y)) in bits of an encoder p(t|x) of shape (n_x, n_t)."""
    p_t = ch.p_x @ enc  # (n_t,)
    h_t = float(_xlog2x(p_t).sum())  # -H(T)
    i_tx = float(ch.p_x @ _xlog2x(enc).sum(axis=1)) - h_t
    i_ty = float(_xlog2x(enc.T @ ch.p_xy).sum()) - h_t - ch.const
    return max(i_tx, 0.0), max(i_ty, 0.0)


def _step(enc: np.ndarray, ch: _Channel, beta: float) -> np.ndarray:
    """One self-consistent update p(t|x) ∝ p(t) exp(-beta KL[p(y|x) || p(y|t)])."""
    p_t = ch.p_x @ enc  # (n_t,)
    joint = enc.T @ ch.p_xy  # (n_t, n_y) p(t, y)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_y_t = np.where(p_t[:, None] > 0, joint / p_t[:, None], 1.0 / joint.shape[1])  # (n_t, n_y)
        log_p_t = np.log(p_t)  # -inf for an empty cluster: it stays empty
    kl = ch.neg_h_y_x[:, None] - ch.p_y_x @ np.log(np.maximum(p_y_t, 1e-300)).T  # (n_x, n_t) nats
    logits = log_p_t[None, :] - beta * kl  # (n_x, n_t)
    new = np.exp(logits - logits.max(axis=1, keepdims=True))
    return new / new.sum(axis=1, keepdims=True)


def _free_clusters(enc: np.ndarray, ch: _Channel) -> list[int]:
    """One empty cluster (if any) and one member of every group of duplicated clusters: where a split can go."""
    p_t = ch.p_x @ enc  # (n_t,)
    free = [int(np.argmax(p_t < _EMPTY))] if np.any(p_t < _EMPTY) else []
    used = np.flatnonzero(p_t >= _EMPTY)
    q = ch.p_x[:, None] * enc[:, used] / p_t[used]  # (n_x, n_used) p(x|t)
    seen: list[int] = []
    for i, t in enumerate(used):
        if any(np.abs(q[:, i] - q[:, j]).sum() < _SAME for j in seen):
            free.append(int(t))
        else:
            seen.append(i)
    return free


def _escape(enc: np.ndarray, ch: _Channel, beta: float, objective: float, tol: float) -> np.ndarray | None:
    """The best single move of one x, whole, into a free cluster, if it lowers the objective by more than ``tol``."""
    targets = _free_clusters(enc, ch)
    if not targets:
        return None
    n_t = enc.shape[1]
    p_t = ch.p_x @ enc  # (n_t,)
    joint = enc.T @ ch.p_xy  # (n_t, n_y)
    row_terms = _xlog2x(enc).sum(axis=1)  # (n_x,) sum_t e log2 e
    cond = float(ch.p_x @ row_terms)
    hot = np.eye(n_t)[targets]  # (m, n_t)
    best, move = objective - tol, None
    for x in range(enc.shape[0]):
        a, e = ch.p_x[x], enc[x]
        pt = p_t[None, :] - a * e[None, :] + a * hot  # (m, n_t)
        jt = joint[None] - a * (e[:, None] * ch.p_y_x[x])[None] + a * hot[:, :, None] * ch.p_y_x[x]  # (m, n_t, n_y)
        h_t = _xlog2x(pt).sum(axis=1)  # (m,)
        i_tx = cond - a * row_terms[x] - h_t
        i_ty = _xlog2x(jt).sum(axis=(1, 2)) - h_t - ch.const
        f = i_tx - beta * i_ty  # (m,)
        k = int(np.argmin(f))
        if f[k] < best:
            best, move = float(f[k]), (x, targets[k])
    if move is None:
        return None
    out = enc.copy()
    out[move[0]] = np.eye(n_t)[move[1]]
    return out


@dataclass(frozen=True)
class IBResult:
    """The outcome of the iterative IB algorithm at one beta (the best of several starts)."""

    encoder: np.ndarray  # (n_x, n_clusters) p(t|x), rows sum to 1
    decoder: np.ndarray  # (n_clusters, n_y) p(y|t)
    p_t: np.ndarray  # (n_clusters,) cluster marginal p(t)
    i_tx: float  # I(X;T) in bits
    i_ty: float  # I(T;Y) in bits
    beta: float
    history: np.ndarray  # (n_iter,) objective I(X;T) - beta I(T;Y) in bits after each update of the winning start
    converged: bool  # the objective stalled and no single move of one x into a free cluster lowers it
    n_iter: int  # updates of the winning start (escape moves included)
    start: str = "random 0"  # which start won: "init", "identity", "random k" or "from beta = b"
    n_escapes: int = 0  # stalls the winning start left by moving one x into a free cluster

    @property
    def objective(self) -> float:
        """Final value of ``I(X;T) - beta I(T;Y)`` in bits."""
        return float(self.history[-1])


def _run(enc: np.ndarray, ch: _Channel, beta: float, max_iter: int, tol: float, start: str) -> IBResult:
    enc = enc / enc.sum(axis=1, keepdims=True)
    history, converged, escapes = [], False, 0
    while len(history) < max_iter:
        enc = _step(enc, ch, beta)
        i_tx, i_ty = _information(enc, ch)
        history.append(i_tx - beta * i_ty)
        if len(history) > 1 and history[-2] - history[-1] < tol:
            moved = _escape(enc, ch, beta, history[-1], tol)
            if moved is None:
                converged = True
                break
            enc, escapes = moved, escapes + 1
            i_tx, i_ty = _information(enc, ch)
            history.append(i_tx - beta * i_ty)
    p_t = ch.p_x @ enc  # (n_t,)
    with np.errstate(divide="ignore", invalid="ignore"):
        dec = np.where(p_t[:, None] > 0, (enc.T @ ch.p_xy) / p_t[:, None], 1.0 / ch.p_xy.shape[1])  # (n_t, n_y)
    return IBResult(enc, dec, p_t, i_tx, i_ty, beta, np.asarray(history), converged, len(history), start, escapes)


def _identity_start(ch: _Channel, n_t: int) -> np.ndarray:
    """x_i -> t_i when there are enough clusters; else farthest-point centres in p(y|x), each x to its nearest."""
    n_x = ch.p_x.shape[0]
    if n_t >= n_x:
        hard = np.eye(n_x, n_t)
    else:
        centres = [int(np.argmax(ch.p_x))]
        dist = np.abs(ch.p_y_x - ch.p_y_x[centres[0]]).sum(axis=1)  # (n_x,) L1 to the nearest centre
        while len(centres) < n_t:
            centres.append(int(np.argmax(dist)))
            dist = np.minimum(dist, np.abs(ch.p_y_x - ch.p_y_x[centres[-1]]).sum(axis=1))
        d = np.abs(ch.p_y_x[:, None, :] - ch.p_y_x[None, centres, :]).sum(axis=2)  # (n_x, n_t)
        hard = np.eye(n_t)[np.argmin(d, axis=1)]
    return (1 - _SMOOTH) * hard + _SMOOTH / n_t


def _best_of(
    ch: _Channel, beta: float, n_t: int, *, starts: list[tuple[str, np.ndarray]], seed: int, n_restarts: int,
    max_iter: int, tol: float,
) -> IBResult:  # fmt: skip
    rng = np.random.default_rng(seed)
    starts = [*starts, ("identity", _identity_start(ch, n_t))]
    starts += [(f"random {k}", rng.random((ch.p_x.shape[0], n_t)) + 0.1) for k in range(n_restarts)]
    results = [_run(enc, ch, beta, max_iter, tol, name) for name, enc in starts]
    return min(results, key=lambda r: r.objective)


def iterative_ib(
    p_xy: object,
    *,
    beta: float,
    n_clusters: int,
    max_iter: int = 5000,
    tol: float = 1e-8,
    seed: int = 0,
    init: np.ndarray | None = None,
    n_restarts: int = 3,
) -> IBResult:
    """Solve the IB self-consistent equations by alternating updates (Tishby, Pereira & Bialek 1999).

    Repeats ``p(t) = sum_x p(x) p(t|x)``, ``p(y|t) = sum_x p(y|x) p(t|x) p(x) / p(t)`` and
    ``p(t|x) ∝ p(t) exp(-beta KL[p(y|x) || p(y|t)])``; each update lowers ``I(X;T) - beta I(T;Y)``. Because the
    updates have fixed points that are not optima (an emptied cluster never refills; at large beta every hard
    assignment is fixed), the solve runs from several starts and keeps the lowest objective: ``init`` (if given),
    an identity-like encoder (x_i -> t_i when ``n_clusters >= n_x``, otherwise farthest-point centres in p(y|x))
    and ``n_restarts`` seeded random encoders. When an update lowers the objective by less than ``tol``, the best
    move of a single x into an unused or duplicated cluster is tried; the run continues from it if it lowers the
    objective by more than ``tol`` and is *converged* only when no such move does. With ``n_clusters >= n_x`` and
    large beta the result keeps I(T;Y) = I(X;Y).

    Parameters
    ----------
    p_xy : array_like of shape (n_x, n_y)
        Joint probability table (sums to 1).
    beta : float
        Trade-off > 0; larger keeps more information about Y.
    n_clusters : int
        Size of the representation alphabet T (>= 1).
    max_iter : int
        Maximum number of updates per start.
    tol : float
        Stall threshold in bits per update (the encoder may still drift along flat, symmetric directions).
    seed : int
        Seed of the random starts.
    init : ndarray of shape (n_x, n_clusters), optional
        An extra start (rows are normalised), e.g. the solution at a nearby beta.
    n_restarts : int
        Number of random starts (>= 0).

    Returns
    -------
    IBResult
        The best start's encoder p(t|x), I(X;T) and I(T;Y) in bits, objective history (bits), ``converged``,
        ``n_iter``, ``start`` (which start won) and ``n_escapes``.
    """
    p = check_joint(p_xy)
    beta = check_positive(beta, "beta")
    n_t = check_int(n_clusters, "n_clusters", low=1, high=1000)
    max_iter = check_int(max_iter, "max_iter", low=1)
    tol = check_positive(tol, "tol")
    seed = check_int(seed, "seed", low=0)
    n_restarts = check_int(n_restarts, "n_restarts", low=0, high=100)
    starts = []
    if init is not None:
        enc = check_array(init, "init", ndim=2, nonnegative=True)
        if enc.shape != (p.shape[0], n_t) or np.any(enc.sum(axis=1) <= 0):
            raise ValueError(
                f"`init` must be a nonnegative ({p.shape[0]}, {n_t}) table with positive rows. "
                f"Got shape {enc.shape} instead."
            )
        starts.append(("init", enc))
    res = _best_of(_channel(p), beta, n_t, starts=starts, seed=seed, n_restarts=n_restarts, max_iter=max_iter, tol=tol)
    if not res.converged:
        warnings.warn(
            f"Iterative IB did not converge in {max_iter} updates at beta = {beta:.4g}; increase `max_iter` "
            "or `tol` (updates slow down near a phase transition).",
            stacklevel=2,
        )
    return res


def ib_objective(encoder: np.ndarray, p_xy: np.ndarray, beta: float) -> float:
    """``I(X;T) - beta I(T;Y)`` in bits of an encoder p(t|x) of shape (n_x, n_t) on a joint table p(x, y)."""
    p = check_joint(p_xy)
    enc = check_array(encoder, "encoder", ndim=2, nonnegative=True)
    if enc.shape[0] != p.shape[0] or not np.allclose(enc.sum(axis=1), 1.0, atol=1e-9):
        raise ValueError(f"`encoder` must have {p.shape[0]} rows, each summing to 1. Got shape {enc.shape} instead.")
    i_tx, i_ty = _information(enc, _channel(p))
    return i_tx - check_positive(beta, "beta") * i_ty


def ib_curve(
    p_xy: object,
    betas: object,
    *,
    n_clusters: int,
    seed: int = 0,
    max_iter: int = 5000,
    tol: float = 1e-8,
    n_restarts: int = 2,
) -> pd.DataFrame:
    """The IB curve: iterative IB solutions over a range of beta, annealed upwards, best of several starts.

    At each beta (ascending) the starts are the previous solution with every distinct cluster copied into the
    spare slots and perturbed (deterministic annealing, so a cluster can split past its critical beta), an
    identity-like start and ``n_restarts`` seeded random ones (see :func:`iterative_ib`). Then every beta takes the
    best of all solutions found at any beta, re-solved at its own beta, until none improves: for a common pool of
    candidates the minimisers' I(T;Y) and I(X;T) cannot fall as beta grows, so the curve is monotone.

    Parameters
    ----------
    p_xy : array_like of shape (n_x, n_y)
        Joint probability table.
    betas : array_like of shape (k,)
        Trade-off values > 0 (any order; computed in ascending order).
    n_clusters : int
        Size of the representation alphabet.
    seed : int
        Seed of the random starts and of the annealing perturbations.
    max_iter, tol : int, float
        Passed to :func:`iterative_ib`.
    n_restarts : int
        Random starts per beta.

    Returns
    -------
    DataFrame
        One row per beta (ascending): ``beta``, ``i_tx`` and ``i_ty`` (bits), ``objective`` (bits),
        ``n_iter``, ``converged``, ``start`` (which start won).
    """
    p = check_joint(p_xy)
    b = np.sort(check_array(betas, "betas", ndim=1))  # (k,)
    if np.any(b <= 0):
        raise ValueError(f"`betas` must all be > 0. Got minimum {b.min():.4g} instead.")
    n_t = check_int(n_clusters, "n_clusters", low=1, high=1000)
    seed = check_int(seed, "seed", low=0)
    n_restarts = check_int(n_restarts, "n_restarts", low=0, high=100)
    max_iter, tol = check_int(max_iter, "max_iter", low=1), check_positive(tol, "tol")
    ch, rng = _channel(p), np.random.default_rng(seed)
    res: list[IBResult] = []
    for k, beta in enumerate(b):
        starts = [] if not res else [("annealed", _split_clusters(res[-1].encoder, ch.p_x, rng))]
        kw = {"seed": seed + k, "n_restarts": n_restarts, "max_iter": max_iter, "tol": tol}
        res.append(_best_of(ch, float(beta), n_t, starts=starts, **kw))
    for _ in range(len(b)):  # each pass only lowers objectives; stops when no beta gains from another's solution
        improved = False
        for k, beta in enumerate(b):
            pool = [_information(r.encoder, ch) for r in res]
            f = np.array([tx - beta * ty for tx, ty in pool])  # (k,) every solution's objective at this beta
            j = int(np.argmin(f))
            if f[j] < res[k].objective - tol:
                cand = _run(res[j].encoder, ch, float(beta), max_iter, tol, f"from beta = {b[j]:.3g}")
                if cand.objective < res[k].objective - tol:
                    res[k], improved = cand, True
        if not improved:
            break
    rows = [(r.beta, r.i_tx, r.i_ty, r.objective, r.n_iter, r.converged, r.start) for r in res]
    n_bad = sum(not r.converged for r in res)
    if n_bad:
        warnings.warn(
            f"Iterative IB did not converge at {n_bad} of {len(res)} betas; increase `max_iter` or `tol`.",
            stacklevel=2,
        )
    return pd.DataFrame(rows, columns=["beta", "i_tx", "i_ty", "objective", "n_iter", "converged", "start"])


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
