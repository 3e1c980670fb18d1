"""Proper versus improper learning: a 2-term DNF by exhaustive search, or as a 2-CNF by elimination.

The representation can be the hard part. Learning a k-term DNF (k >= 2) *properly*, with a k-term DNF as the
hypothesis, is NP-hard unless RP = NP (Pitt & Valiant 1988): the obvious proper learner scores all ~9^n/2
pairs of conjunctions. The same concept class is learnable in polynomial time *improperly*: every k-term DNF
is a k-CNF, and the elimination algorithm learns k-CNF in time O(m (2n)^k) (Valiant 1984; Kearns & Vazirani
1994, ch. 1), at the price of a larger hypothesis class and so more samples.

Literals of n Boolean variables are indexed ``0..n-1`` for x_i and ``n..2n-1`` for not x_i.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core._validation import check_int

Callback = Callable[[dict], None] | None


# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BooleanFormula:
    """A DNF (OR of AND-terms) or a CNF (AND of OR-clauses); each part is a tuple of literal indices."""

    kind: str  # "dnf" or "cnf"
    parts: tuple[tuple[int, ...], ...]
    n_vars: int

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Evaluate on rows of ``X`` (m, n_vars) in {0, 1}; returns a bool array (m,)."""
        lit = _literals(np.asarray(X), self.n_vars)  # (m, 2n + 2): literals, then constants True, False
        if not self.parts:
            return np.full(lit.shape[0], self.kind == "cnf")
        pad = 2 * self.n_vars + (0 if self.kind == "dnf" else 1)  # padding that does not change AND / OR
        width = max(1, *(len(p) for p in self.parts))
        idx = np.array([(*p, *([pad] * (width - len(p)))) for p in self.parts])  # (parts, width)
        vals = lit[:, idx]  # (m, parts, width)
        return vals.all(-1).any(-1) if self.kind == "dnf" else vals.any(-1).all(-1)


@dataclass(frozen=True)
class BooleanFit:
    """A learned formula, its training errors and how many hypotheses (or clauses) the learner examined."""

    formula: BooleanFormula
    train_errors: int
    searched: float


def _literals(X: np.ndarray, n: int) -> np.ndarray:
    if X.ndim != 2 or X.shape[1] != n or not np.isin(X, (0, 1)).all():
        raise ValueError(f"`X` must be an (m, {n}) array of 0/1 values. Got shape {X.shape} instead.")
    B = X.astype(bool)
    const = np.ones((len(B), 1), bool)
    return np.hstack([B, ~B, const, ~const])  # (m, 2n + 2)


def _check_sample(X: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X)
    y = np.asarray(y).astype(int)
    if X.ndim != 2 or len(X) != len(y) or len(y) == 0 or not np.isin(y, (0, 1)).all():
        raise ValueError(f"`X` (m, n) and `y` (m,) must be 0/1 arrays of equal length. Got {X.shape}, {y.shape}.")
    _literals(X, X.shape[1])
    return X, y


def random_dnf(n_vars: int, *, terms: int = 2, term_size: int = 2, seed: int = 0) -> BooleanFormula:
    """A random DNF: ``terms`` conjunctions, each of ``term_size`` literals on distinct variables."""
    n_vars = check_int(n_vars, "n_vars", low=1)
    check_int(term_size, "term_size", low=1, high=n_vars)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    parts = []
    for _ in range(check_int(terms, "terms", low=1)):
        vars_ = rng.choice(n_vars, size=term_size, replace=False)  # (term_size,)
        parts.append(tuple(sorted(int(v + n_vars * rng.integers(2)) for v in vars_)))
    return BooleanFormula("dnf", tuple(parts), n_vars)


def _pack(B: np.ndarray) -> np.ndarray:
    """Bool (rows, m) -> uint64 (rows, ceil(m / 64)), one bit per example."""
    B = np.pad(B, ((0, 0), (0, (-B.shape[1]) % 64)))
    return np.packbits(B, axis=1, bitorder="little").view(np.uint64)


def erm_two_term_dnf(X: np.ndarray, y: np.ndarray, *, block: int = 64) -> BooleanFit:
    r"""Proper learning: the 2-term DNF with the fewest training errors, by exhaustive search.

    All :math:`T = 3^n` conjunctions (each variable absent, positive or negated) are evaluated on the sample
    and every unordered pair is scored, :math:`T(T+1)/2 \approx 9^n/2` hypotheses, with bit-packed popcounts.

    Parameters
    ----------
    X : ndarray, shape (m, n)
        0/1 examples, n <= 10.
    y : ndarray, shape (m,)
        0/1 labels.

    Returns
    -------
    BooleanFit
        The best DNF (ties: the first found), its training errors and the number of hypotheses scored.

    References
    ----------
    Pitt & Valiant (1988), JACM 35(4): properly learning k-term DNF (k >= 2) is NP-hard unless RP = NP.
    """
    X, y = _check_sample(X, y)
    n = X.shape[1]
    check_int(n, "n (columns of X)", low=1, high=10)
    codes = np.array(list(itertools.product((0, 1, 2), repeat=n)), dtype=np.float32).reshape(-1, n)  # (T, n)
    Xf = X.astype(np.float32)
    viol = (codes == 1) @ (1 - Xf).T + (codes == 2) @ Xf.T  # (T, m): literals of the term violated
    E = _pack(viol == 0)  # (T, W): term true on example
    Y = _pack(y[None, :].astype(bool))[0]  # (W,)
    T = len(E)
    words = [np.ascontiguousarray(E[:, w]) for w in range(E.shape[1])]
    best = (len(y) + 1, 0, 0)
    for i in range(0, T, block):
        err = np.zeros((min(block, T - i), T - i), dtype=np.uint16)  # (block, T - i): pairs (a, b), b >= i
        for w, col in enumerate(words):
            err += np.bitwise_count((col[i : i + block, None] | col[None, i:]) ^ Y[w])
        err[np.tril_indices(err.shape[0], -1)] = np.iinfo(np.uint16).max  # keep a <= b
        j = int(np.argmin(err))
        if err.flat[j] < best[0]:
            best = (int(err.flat[j]), i + j // (T - i), i + j % (T - i))

    def term(c: np.ndarray) -> tuple[int, ...]:
        return tuple(int(v) if c[v] == 1 else int(v + n) for v in np.flatnonzero(c))

    formula = BooleanFormula("dnf", (term(codes[best[1]]), term(codes[best[2]])), n)
    return BooleanFit(formula, best[0], T * (T + 1) / 2)


def eliminate_kcnf(X: np.ndarray, y: np.ndarray, *, k: int = 2) -> BooleanFit:
    r"""Improper learning: the elimination algorithm for k-CNF.

    Start from every clause of at most k literals; delete each clause that a positive example falsifies; the
    hypothesis is the AND of the survivors. It is consistent with the positives by construction, and with
    the negatives whenever the target is a k-CNF, e.g. a k-term DNF
    :math:`T_1 \vee \dots \vee T_k = \bigwedge_{l_i \in T_i} (l_1 \vee \dots \vee l_k)`.
    Time :math:`O(m (2n)^k)`, polynomial for fixed k.

    Parameters
    ----------
    X : ndarray, shape (m, n)
        0/1 examples.
    y : ndarray, shape (m,)
        0/1 labels.
    k : int
        Clause size, 1..3.

    Returns
    -------
    BooleanFit
        The CNF, its training errors, and the number of candidate clauses examined.

    References
    ----------
    Valiant (1984), CACM 27(11); Kearns & Vazirani (1994), An Introduction to Computational Learning Theory, 1.3-1.4.
    """
    X, y = _check_sample(X, y)
    k = check_int(k, "k", low=1, high=3)
    n = X.shape[1]
    clauses = [c for size in range(1, k + 1) for c in itertools.combinations(range(2 * n), size)]
    clauses = [c for c in clauses if len({v % n for v in c}) == len(c)]  # drop tautologies x or not x
    idx = np.array([(*c, *([c[0]] * (k - len(c)))) for c in clauses])  # (C, k), padded by repetition
    lit = _literals(X[y == 1], n)  # (m+, 2n + 2)
    survive = lit[:, idx].any(-1).all(0) if len(lit) else np.ones(len(clauses), bool)  # (C,)
    formula = BooleanFormula("cnf", tuple(c for c, s in zip(clauses, survive, strict=True) if s), n)
    return BooleanFit(formula, int((formula.predict(X) != y).sum()), float(len(clauses)))


def _timed(fit: Callable, X: np.ndarray, y: np.ndarray, *, repeats: int, budget: float = 0.05) -> tuple:
    """``fit(X, y)`` and the median wall time of up to ``repeats`` runs (more runs only while under ``budget`` s)."""
    times: list[float] = []
    while not times or (len(times) < repeats and sum(times) < budget):
        t0 = time.perf_counter()
        res = fit(X, y)
        times.append(time.perf_counter() - t0)
    return res, float(np.median(times))


@dataclass(frozen=True)
class ProperConfig:
    """Defaults of the proper-versus-improper experiment."""

    ns: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8, 9)  # n = 9 scores ~2e8 DNF pairs (~0.2 s at m = 50); n = 10 is 9x more
    m: int = (
        50  # enough for the proper learner (ln 2e8 ~ 19) but not for the 2-CNF (162 clauses at n = 9): the trade-off
    )
    n_test: int = 2000  # accuracy to about +-1%
    term_size: int = 2  # each target term fires on 1/4 of inputs, so labels are balanced-ish
    seed: int = 0  # target formula and samples
    repeats: int = 5  # timed runs per (n, learner) while under 50 ms: the median removes scheduler noise


PROPER = ProperConfig()
LEARNERS = ("proper: DNF search", "improper: CNF elimination")


def proper_vs_improper(
    *,
    ns: Sequence[int] = PROPER.ns,
    m: int = PROPER.m,
    n_test: int = PROPER.n_test,
    term_size: int = PROPER.term_size,
    seed: int = 0,
    repeats: int = 5,
    callback: Callback = None,
) -> pd.DataFrame:
    """Learn a random 2-term DNF properly (:func:`erm_two_term_dnf`) and improperly (:func:`eliminate_kcnf`).

    For each n, draw ``m`` uniform training examples and ``n_test`` test examples labelled by a random 2-term
    DNF with terms of ``term_size`` literals, run both learners and time them. Both learners run once on a tiny
    sample before any timing (first calls pay one-off costs that would inflate the smallest n), and each timing
    is the median of up to ``repeats`` runs, repeated while they take under 50 ms in all.

    The timing shows how *these two algorithms* scale: exhaustive search is exponential in n, elimination
    polynomial. It does not show that proper learning is hard; that is Pitt & Valiant's NP-hardness theorem, a
    statement about every polynomial-time algorithm, which no experiment can check.

    Returns
    -------
    pandas.DataFrame
        Long format, one row per (n, learner): ``n``, ``learner`` (one of ``LEARNERS``), ``seconds`` (median
        wall time), ``train_acc``, ``test_acc`` (fractions), ``searched`` (hypotheses or clauses examined).
        The callback receives ``{"progress", "n", "learner", "seconds"}`` after each learner.
    """
    ns = sorted({check_int(n, "ns[i]", low=1, high=10) for n in ns})
    if not ns:
        raise ValueError("`ns` must list at least one number of variables. Got an empty list instead.")
    m = check_int(m, "m", low=1, high=100_000)
    n_test = check_int(n_test, "n_test", low=1, high=1_000_000)
    term_size = check_int(term_size, "term_size", low=1)
    repeats = check_int(repeats, "repeats", low=1, high=100)
    if term_size > ns[0]:
        raise ValueError(
            f"`term_size` must be <= the smallest n ({ns[0]}). Got {term_size} instead; raise n or lower it."
        )
    weights = np.array([9.0**n for n in ns])  # cost of the exhaustive search dominates the run
    fits = (erm_two_term_dnf, eliminate_kcnf)
    warm_x = np.array([[0, 1], [1, 0], [1, 1]])  # (3, 2): one tiny call each loads every code path before timing
    for fit in fits:
        fit(warm_x, np.array([1, 0, 1]))
    rows = []
    for i, n in enumerate(ns):
        rng = np.random.default_rng([check_int(seed, "seed", low=0), n])
        target = random_dnf(n, term_size=term_size, seed=int(rng.integers(2**31)))
        X, Xt = rng.integers(0, 2, (m, n)), rng.integers(0, 2, (n_test, n))  # (m, n), (n_test, n)
        y, yt = target.predict(X).astype(int), target.predict(Xt)
        for learner, fit in zip(LEARNERS, fits, strict=True):
            res, seconds = _timed(fit, X, y, repeats=repeats)
            test_acc = float((res.formula.predict(Xt) == yt).mean())
            rows.append((n, learner, seconds, 1 - res.train_errors / m, test_acc, res.searched))
            if callback is not None:
                done = (weights[:i].sum() + weights[i] * (learner == LEARNERS[1])) / weights.sum()
                callback({"progress": float(done), "n": n, "learner": learner, "seconds": seconds})
    return pd.DataFrame(rows, columns=["n", "learner", "seconds", "train_acc", "test_acc", "searched"])


def proper_vs_improper_run(config: ProperConfig = PROPER, *, callback: Callback = None) -> pd.DataFrame:
    """:func:`proper_vs_improper` with its settings in a :class:`ProperConfig` (the run-service shape)."""
    if not isinstance(config, ProperConfig):
        raise TypeError(f"`config` must be a ProperConfig. Got {type(config).__name__} instead.")
    return proper_vs_improper(
        ns=config.ns,
        m=config.m,
        n_test=config.n_test,
        term_size=config.term_size,
        seed=config.seed,
        repeats=config.repeats,
        callback=callback,
    )
