"""Benchmark: core.sinkhorn.solver.sinkhorn against POT's plain, log-domain, stabilized and epsilon-scaling Sinkhorn.

Same problem (two moons against a ring, n points each, squared distances divided by their max, so eps is a
fraction of the largest cost), same eps, same tolerance (stopThr = tol on the column marginals) and the same
iteration budget. Prints a markdown table: median wall time of several runs, the time ratio to ours, the cost
<P, M> and its gap to the exact OT cost (ot.emd2), the column-marginal error of the returned plan, and whether that
error met the tolerance. POT runs with ``warn=False`` (its convergence shows in the last two columns); slow runs
(> 5 s) are not repeated. Ours and plain POT are timed interleaved, so a burst of load hits both; the ratio to plain
POT is the number to watch where plain POT converges (the issue: ours must never be slower there). Every round
alternates which of the two goes first, and the table also gives the median of the per-round ratios (ours / plain
POT, paired: the two runs of a round see the same load) with its 90% bootstrap interval; the two keep taking turns
for 6 s (at most 61 rounds), so fast settings rest on many pairs. BLAS runs on one thread, as in the app
(``app.py``); the header line gives the load average and the calibration unit (``bench/calibration.py``) measured
at the start.

Run: ``python bench/bench_sinkhorn.py`` (a few minutes on a shared 2-core machine).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

threadpool_limits(1)  # one BLAS thread, as app.py sets for the server

import numpy as np  # noqa: E402
import ot  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.calibration import unit_seconds  # noqa: E402
from core.data import point_cloud  # noqa: E402
from core.sinkhorn.solver import sinkhorn  # noqa: E402

TOL = 1e-6
REPEATS = 5  # rounds at least
PAIRED_S = 6.0  # ours and plain POT keep taking turns until their rounds took this long (at most MAX_ROUNDS)
MAX_ROUNDS = 61
SLOW_S = 5.0  # a run slower than this is not repeated
# (n, eps, iteration budget, POT methods to run); the log-domain method is skipped at n = 1000 (minutes per run)
SETTINGS = [
    (200, 1e-2, 10_000, ("sinkhorn", "sinkhorn_log", "sinkhorn_stabilized", "epsilon_scaling")),
    (200, 1e-3, 10_000, ("sinkhorn", "sinkhorn_log", "sinkhorn_stabilized", "epsilon_scaling")),
    (200, 1e-4, 10_000, ("sinkhorn", "sinkhorn_log", "sinkhorn_stabilized", "epsilon_scaling")),
    (1000, 1e-2, 2_000, ("sinkhorn", "sinkhorn_stabilized", "epsilon_scaling")),
    (1000, 1e-3, 2_000, ("sinkhorn", "sinkhorn_stabilized", "epsilon_scaling")),
    (1600, 3e-1, 10_000, ("sinkhorn",)),  # the audit's size: few iterations, where fixed overheads show most
    (1600, 3e-2, 10_000, ("sinkhorn",)),  # the audit's size at the timing tab's default eps
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
        return ot.bregman.sinkhorn_epsilon_scaling(
            a, b, M, eps, numItermax=max(max_iter // 100, 35), stopThr=TOL, warn=False
        )
    return ot.sinkhorn(a, b, M, eps, method=method, numItermax=max_iter, stopThr=TOL, warn=False)


def timed(methods: tuple[str, ...], a, b, M, eps: float, max_iter: int) -> tuple[dict, float, tuple[float, float]]:
    """Median time and plan per method, and the median over rounds of ours / plain POT with its 90% bootstrap
    interval. The other methods run REPEATS rounds; ours and plain POT go on taking turns (swapping places every
    round) until their rounds took PAIRED_S seconds, so the ratio of two fast runs rests on many pairs."""
    times: dict[str, list[float]] = {m: [] for m in methods}
    plans: dict[str, np.ndarray] = {}
    spent, r = 0.0, 0

    def pairing() -> bool:  # more rounds of ours and plain POT: time left, and neither too slow to repeat
        return spent < PAIRED_S and r < MAX_ROUNDS and max(times["ours"][-1], times["sinkhorn"][-1]) <= SLOW_S

    while r < REPEATS or pairing():
        order = methods if r % 2 == 0 else (methods[1], methods[0], *methods[2:])
        for method in order if r < REPEATS else order[:2]:
            if times[method] and times[method][-1] > SLOW_S:
                continue
            t0 = time.perf_counter()
            plans[method] = run(method, a, b, M, eps, max_iter)
            times[method].append(time.perf_counter() - t0)
            spent += times[method][-1] if method in ("ours", "sinkhorn") else 0.0
        r += 1
    k = min(len(times["ours"]), len(times["sinkhorn"]))  # a run past SLOW_S stops repeating: pair the rounds both ran
    ratios = np.array(times["ours"][:k]) / np.array(times["sinkhorn"][:k])  # (k,)
    rng = np.random.default_rng(0)
    boot = np.median(rng.choice(ratios, size=(2000, len(ratios))), axis=1)  # (2000,)
    interval = (float(np.percentile(boot, 5)), float(np.percentile(boot, 95)))
    return {m: (float(np.median(times[m])), plans[m]) for m in methods}, float(np.median(ratios)), interval


def main() -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, load average {load}, 1 unit = {unit_seconds():.2f} s\n")
    print(
        "| n | eps | method | median time (s) | time / plain POT | paired ratio [90% CI] | cost <P, M> | gap to OT "
        "| col. error | met tol |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n, eps, max_iter, methods in SETTINGS:
        a, b, M = problem(n)
        exact = float(ot.emd2(a, b, M, numItermax=10_000_000))
        results, paired, (low, high) = timed(("ours", *methods), a, b, M, eps, max_iter)
        plain_t = results["sinkhorn"][0]
        for method, (seconds, P) in results.items():
            finite = bool(np.isfinite(P).all())
            cost = float(np.sum(P * M)) if finite else float("nan")
            err = float(np.linalg.norm(P.sum(0) - b)) if finite else float("nan")
            print(
                f"| {n} | {eps:g} | {method} | {seconds:.4f} | {seconds / plain_t:.2f} | "
                f"{f'{paired:.3f} [{low:.3f}, {high:.3f}]' if method == 'ours' else ''} | {cost:.6f} | "
                f"{cost - exact:+.2e} | {err:.1e} | {'yes' if err <= TOL else 'NO'} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
