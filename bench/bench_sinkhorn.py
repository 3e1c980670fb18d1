"""Benchmark: core.sinkhorn.sinkhorn against POT's plain, log-domain, stabilized and epsilon-scaling Sinkhorn.

Same problem (two moons against a ring, n points each, squared distances divided by their max, so eps is a
fraction of the largest cost), same eps, same tolerance (stopThr = tol on the column marginals) and the same
iteration budget. Prints a markdown table: median wall time of several runs, the time ratio to ours, the cost
<P, M> and its gap to the exact OT cost (ot.emd2), the column-marginal error of the returned plan, and whether that
error met the tolerance. POT's own warnings are silenced; slow runs (> 5 s) are not repeated.

Run: ``python bench/bench_sinkhorn.py`` (about a minute on an idle 2-core machine).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import ot

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.data import point_cloud
from core.sinkhorn import sinkhorn

TOL = 1e-6
REPEATS = 3
SLOW_S = 5.0  # a run slower than this is not repeated
# (n, eps, iteration budget, POT methods to run); the log-domain method is skipped at n = 1000 (minutes per run)
SETTINGS = [
    (200, 1e-2, 10_000, ("sinkhorn", "sinkhorn_log", "sinkhorn_stabilized", "epsilon_scaling")),
    (200, 1e-3, 10_000, ("sinkhorn", "sinkhorn_log", "sinkhorn_stabilized", "epsilon_scaling")),
    (200, 1e-4, 10_000, ("sinkhorn", "sinkhorn_log", "sinkhorn_stabilized", "epsilon_scaling")),
    (1000, 1e-2, 2_000, ("sinkhorn", "sinkhorn_stabilized", "epsilon_scaling")),
    (1000, 1e-3, 2_000, ("sinkhorn", "sinkhorn_stabilized", "epsilon_scaling")),
]


def problem(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, y = point_cloud("moons", n, seed=0), point_cloud("ring", n, seed=1)
    M = ot.dist(x, y)
    M /= M.max()
    w = np.full(n, 1.0 / n)
    return w, w.copy(), M


def run(method: str, a: np.ndarray, b: np.ndarray, M: np.ndarray, eps: float, max_iter: int) -> np.ndarray:
    if method == "ours":
        return sinkhorn(a, b, M, eps=eps, tol=TOL, max_iter=max_iter).plan
    if method == "epsilon_scaling":  # POT's outer loop runs up to 100 inner iterations per stage
        return ot.bregman.sinkhorn_epsilon_scaling(a, b, M, eps, numItermax=max(max_iter // 100, 35), stopThr=TOL)
    return ot.sinkhorn(a, b, M, eps, method=method, numItermax=max_iter, stopThr=TOL)


def timed(method: str, a, b, M, eps: float, max_iter: int) -> tuple[float, np.ndarray]:
    times, plan = [], None
    for _ in range(REPEATS):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            plan = run(method, a, b, M, eps, max_iter)
            times.append(time.perf_counter() - t0)
        if times[-1] > SLOW_S:
            break
    return float(np.median(times)), plan


def main() -> None:
    print("| n | eps | method | median time (s) | time / ours | cost <P, M> | gap to OT | col. error | met tol |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n, eps, max_iter, methods in SETTINGS:
        a, b, M = problem(n)
        exact = float(ot.emd2(a, b, M, numItermax=10_000_000))
        ours_t = None
        for method in ("ours", *methods):
            seconds, P = timed(method, a, b, M, eps, max_iter)
            ours_t = seconds if method == "ours" else ours_t
            finite = bool(np.isfinite(P).all())
            cost = float(np.sum(P * M)) if finite else float("nan")
            err = float(np.linalg.norm(P.sum(0) - b)) if finite else float("nan")
            print(
                f"| {n} | {eps:g} | {method} | {seconds:.4f} | {seconds / ours_t:.2f} | {cost:.6f} | "
                f"{cost - exact:+.2e} | {err:.1e} | {'yes' if err <= TOL else 'NO'} |"
            )


if __name__ == "__main__":
    main()
