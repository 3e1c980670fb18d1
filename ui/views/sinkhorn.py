"""Copy of the Sinkhorn page: the "what to notice" sentences, built from this run's numbers, and the references."""

from __future__ import annotations

import numpy as np
import pandas as pd

REFERENCES = [
    "M. Cuturi (2013). Sinkhorn Distances: Lightspeed Computation of Optimal Transport. NeurIPS.",
    "G. Peyré, M. Cuturi (2019). Computational Optimal Transport, ch. 4. Foundations and Trends in ML 11(5-6).",
    "B. Schmitzer (2019). Stabilized Sparse Scaling Algorithms for Entropy Regularized Transport Problems. "
    "SIAM J. Sci. Comput. 41(3) (log-stabilisation and ε-scaling).",
    "J. Altschuler, J. Weed, P. Rigollet (2017). Near-linear Time Approximation Algorithms for Optimal Transport "
    "via Sinkhorn Iteration. NeurIPS.",
    "J. Feydy et al. (2019). Interpolating between Optimal Transport and MMD using Sinkhorn Divergences. AISTATS.",
    "A. Genevay, G. Peyré, M. Cuturi (2018). Learning Generative Models with Sinkhorn Divergences. AISTATS.",
    "R. Flamary et al. (2021). POT: Python Optimal Transport. JMLR 22(78).",
]


def percent(share: float) -> str:
    """A share as a percentage: two decimals from 1% up, two significant digits below (0.0021%, never 0.00%)."""
    return f"{share:.2%}" if abs(share) >= 0.01 or share == 0 else f"{share * 100:.2g}%"


def iterations_run(iterations: int, method: str) -> str:
    """The iteration count as run, with why plain counts end in 1 (POT checks the marginals every 10th)."""
    if method in ("sinkhorn", "sinkhorn_log"):
        return (
            f"{iterations} iterations ({method}; POT checks the tolerance at iterations 1, 11, 21, ..., so a "
            "converged run stops at one of those)"
        )
    return f"{iterations} iterations ({method}, summed over its stages of decreasing ε)"


def normalisation_notice(view, row: pd.Series, eps: float, k: int) -> str:
    """After k steps: mass in the wrong columns, the iterate's cost against the exact cost, and the converged run."""
    steps = view.steps
    below = (
        " That is below the exact cost: the iterate is not yet a transport plan (its columns do not sum to b), so "
        "the LP's minimum over plans does not bound it."
        if steps.cost < view.exact_cost
        else ""
    )
    return (
        f"After k = {k} iterations the rows sum to a exactly, and {percent(steps.marginal_error / 2)} of the mass "
        f"still sits in the wrong columns; cost ⟨P, M⟩ = {steps.cost:.4f} against the exact "
        f"{view.exact_cost:.4f}.{below} "
        f"At ε = {eps:g} Sinkhorn meets the tolerance after {iterations_run(row.iterations, row.method)}, at cost "
        f"{row.cost:.4f}: {percent(row.rel_gap)} above exact."
    )


def tradeoff_notice(sweep: pd.DataFrame, eps: float) -> str:
    """The gap, the bound and the effort at the chosen eps and at the smallest eps."""
    row, low = sweep.loc[sweep["eps"] == eps].iloc[0], sweep.iloc[0]
    return (
        f"At ε = {eps:g} the gap is {row.gap:.2e} ({percent(row.rel_gap)} of OT = {row.exact_cost:.4f}), "
        f"{'under' if row.gap <= row.bound else 'above'} the bound ε log n = {row.bound:.2e}; Sinkhorn ran "
        f"{iterations_run(row.iterations, row.method)} in {row.seconds * 1e3:.1f} ms. At ε = {low.eps:g}: gap "
        f"{low.gap:.1e}, {low.iterations} iterations ({low.seconds * 1e3:.1f} ms). The exact LP took "
        f"{row.exact_seconds * 1e3:.1f} ms, {'less' if row.exact_seconds < row.seconds else 'more'} than Sinkhorn "
        f"at ε = {eps:g}."
    )


def timing_notice(timings: pd.DataFrame, slope: dict, cross: int | None, eps: float, fit_from: int) -> str:
    """Times at the largest n, the speed-up there, the fitted exponents and the crossover."""
    n_max = int(timings["n"].max())
    big = timings[timings["n"] == n_max].set_index("solver")
    lp, sk = big.seconds["exact"], big.seconds["sinkhorn"]
    ratio = f"Sinkhorn is {lp / sk:.1f}x faster there" if sk < lp else f"the LP is {sk / lp:.1f}x faster there"
    wins = f"Sinkhorn is faster from n = {cross} on" if cross else "Sinkhorn is not faster at any n measured"
    return (
        f"At n = {n_max} the exact LP took {lp:.3f} s and Sinkhorn (ε = {eps:g}) {sk:.3f} s in "
        f"{big.iterations['sinkhorn']:.0f} iterations (medians of {int(big.repeats['exact'])} runs each): {ratio}. "
        f"Fitted over n ≥ {fit_from}, the time grows like n^{slope['exact']:.1f} (LP) and "
        f"n^{slope['sinkhorn']:.1f} (Sinkhorn: a fixed number of O(n²) iterations). {wins} at ε = {eps:g}."
    )


def flow_notice(flow) -> str:
    """Where each loss left the cloud: final W2 to the target, spread and stragglers, quoted from this run."""
    c, hist = flow.config, flow.history
    start = float(hist.loc[hist["step"] == 0, "w2"].iloc[0])
    end = flow.final().set_index("loss")
    s, ot_, k = end.loc["Sinkhorn divergence"], end.loc["entropic OT"], end.loc["MMD"]
    kernel = f"Gaussian kernel of width σ = √ε = {np.sqrt(c.eps):.2f}" if c.kernel == "gaussian" else "energy kernel"
    shape = (
        f"its cloud shrunk to {ot_.spread:.0%} of the target's spread: it fits a blurred copy of the target, as "
        "OT_ε(α, α) > 0"
        if ot_.spread < 0.95
        else f"its cloud at {ot_.spread:.0%} of the target's spread (a smaller ε blurs less)"
    )
    return (
        f"All three start at W2 = {start:.2f} from the target and take {c.steps} steps at ε = {c.eps:g}. The Sinkhorn "
        f"divergence ends at W2 = {s.w2:.3f}, spread {s.spread:.0%} of the target's, {s.stragglers:.0f} of {c.n} "
        f"points farther than {c.arrived:g} from every target point. Entropic OT ends at W2 = {ot_.w2:.3f} "
        f"({ot_.w2 / s.w2:.1f}x), {shape}. MMD ({kernel}) ends at W2 = {k.w2:.3f} with {k.stragglers:.0f} points "
        f"still away, though its own loss fell to {k.relative:.0%} of its start: far from the target the kernel's "
        "pull fades, so a small MMD does not mean the cloud has arrived."
    )


def frontier_notice(front: pd.DataFrame) -> str:
    """The LP's time, the sharpest eps that still beats it, and its gap."""
    lp = float(front.loc[front["solver"] == "exact", "seconds"].iloc[0])
    sk = front[front["solver"] == "sinkhorn"]
    faster = sk[sk["seconds"] < lp]
    if faster.empty:
        return f"The exact LP took {lp:.3f} s; no ε measured here was faster, so on this problem the LP wins."
    best = faster.loc[faster["eps"].idxmin()]
    sharp = sk.loc[sk["eps"].idxmin()]
    return (
        f"The exact LP took {lp:.3f} s. The sharpest blur that is still faster is ε = {best.eps:g}: "
        f"{best.seconds:.3f} s with a gap of {best.rel_gap:.1%} of OT. At ε = {sharp.eps:g} the gap falls to "
        f"{sharp.rel_gap:.1%} but it takes {sharp.seconds:.3f} s in {sharp.iterations:.0f} iterations: halving "
        "the gap costs more iterations, and only past some n does Sinkhorn's n² per iteration beat the LP's ~n³."
    )


def scale_notice(df: pd.DataFrame, exponent: float, eps: float) -> str:
    """The largest n both solved, the largest n Sinkhorn solved, their memory, and the LP extrapolated (labelled)."""
    lp, sk = df[df["solver"].str.startswith("exact")], df[~df["solver"].str.startswith("exact")].set_index("n")
    top = sk.iloc[-1]
    text = (
        f"Sinkhorn (torch {top.dtype}, ε = {eps:g}) solved n = {top.name:,} in {top.seconds:.2f} s "
        f"({top.iterations:.0f} iterations, {percent(top.marginal_error)} of the mass left in wrong columns), "
        f"holding {top.memory_mb:,.0f} MB: the {top.name:,} × {top.name:,} cost "
        f"matrix and plan at {top.cost_bytes / top.name**2:.0f} bytes per entry. "
    )
    if lp.empty:
        return text + "The exact LP was not run (raise the LP limit to time it)."
    last = lp.iloc[-1]
    s = sk.loc[last.n]
    text += (
        f"At n = {last.n:,} the exact LP took {last.seconds:.2f} s against Sinkhorn's {s.seconds:.2f} s, whose "
        f"cost is {(s.cost - last.cost) / last.cost:.0%} above the optimum (the blur's price at this ε). "
    )
    if np.isfinite(exponent) and top.name > last.n:
        guess = last.seconds * (top.name / last.n) ** exponent
        text += (
            f"The LP's time grew as n^{exponent:.1f} here; extrapolated (not run) it would take about {guess:,.0f} s "
            f"at n = {top.name:,}, with {2 * top.name**2 * 8 / 1e6:,.0f} MB of float64 cost matrix and plan."
        )
    return text
