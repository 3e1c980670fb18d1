"""Copy and sentence builders of the complexity-of-learning page (no streamlit), kept out of the page file."""

from __future__ import annotations

import pandas as pd

from core.learnability.proper import LEARNERS

PAC_GUARANTEES = (
    "**Which guarantee.** *Realisable*: some hypothesis is perfect and any consistent learner's error is at most "
    "ε. *Agnostic (ERM)*: no promise about the labels; empirical risk minimisation lands within ε of the best "
    "hypothesis in the class, m ≥ 2 ln(2|H|/δ)/ε² (Shalev-Shwartz & Ben-David, Cor. 4.6). It rests on "
    "*uniform convergence* (every hypothesis' training error within ε/2 of its true error), so it needs four "
    "times the uniform-convergence size (ln|H| + ln(2/δ))/(2ε²) that is shown beside it for ε. *VC*: Blumer et "
    "al.'s Theorem 2.1 as stated, the larger of (4/ε) log₂(2/δ) and (8d/ε) log₂(13/ε); textbooks often quote "
    "the sum of the two terms, at most twice as large."
)


def pac_notice(ms: list[int], *, eps: float, delta: float, log_h: int, vc: int) -> str:
    """The PAC tab's "what to notice" from the four computed sample sizes (order of ``BOUND_NAMES``)."""
    real, erm, uc, vc_m = ms
    return (
        f"At ε = {eps:g}, δ = {delta:g}, a class of 10^{log_h} hypotheses needs {real:,} examples when some "
        f"hypothesis is perfect, but {erm:,} ({erm / real:.0f}×) for ERM to come within ε of the best one "
        f"without that promise: the agnostic rate is 1/ε², not 1/ε. Uniform convergence to ε alone takes "
        f"{uc:,}, a quarter of that. VC dimension {vc} gives {vc_m:,} by Blumer et al.'s bound. All are "
        "guarantees for *any* distribution, so real learners usually need far fewer."
    )


N_CHOICES = [6, 8, 10, 12, 16, 20, 24, 30, 32, 40, 48, 50, 64, 80]
PARITY_INTRO = (
    "Inputs are random ±1 strings of n bits; the label is the product of k hidden bits. SGD trains a 2-layer "
    "ReLU net (hinge loss, fresh samples every step) until 99% of a held-out batch is right; each seed is its "
    "own network, hidden bits and data. Both axes are logarithmic, so a power law is a straight line."
)
PARITY_THEORY = (
    "**What theory predicts, and what a small-n run can show.** The theory is about large n. Gradient methods "
    "with noisy gradients are statistical-query learners, and those need about n^k total work for a k-sparse "
    "parity (there are ~n^k candidate supports). Barak et al. (2022) find that SGD learns at roughly n^O(k) "
    "iterations on small instances and prove an n^O(k) bound for their setting, without pinning the constant in "
    "the exponent. For a sign-SGD variant, Kou et al. (2024) prove Õ(n^(k−1)) samples suffice, matching the "
    "statistical-query limit; at a fixed batch that is n^(k−1) steps, the dotted lines. Over a factor of a few "
    "in n, lower-order terms (the final fitting phase, which hardly grows with n, and the log factors) bend the "
    "curves, so a fitted slope here is a local slope, not the asymptotic exponent. What this range does show is "
    "the ordering: the larger k, the steeper the growth."
)


def parity_notice(sweep: pd.DataFrame, fits: pd.DataFrame) -> str:
    """The sparse-parity tab's "what to notice", from the sweep and its bootstrap fits."""
    ns = sorted(sweep["n"].unique())
    seeds = int(sweep.groupby(["k", "n"]).size().max())
    fit = fits.dropna(subset=["exponent"]).set_index("k")
    slopes = "; ".join(
        f"k = {k}: n^{r.exponent:.2f} (90% interval {r.exponent_lo:.2f}-{r.exponent_hi:.2f}; "
        f"sign-SGD theory at large n: n^{k - 1})"
        for k, r in fit.iterrows()
    )
    order = ""
    if len(fit) >= 2:
        lo_k, hi_k = fit.index[0], fit.index[-1]
        apart = fit.loc[hi_k, "exponent_lo"] > fit.loc[lo_k, "exponent_hi"]
        order = (
            f" The k = {hi_k} slope is {'clearly' if apart else 'not clearly'} steeper than the k = {lo_k} one "
            f"({'the intervals do not overlap' if apart else 'the intervals overlap: add seeds or widen n'})."
        )
    top = sweep[sweep["n"] == ns[-1]].groupby("k")["steps_to_99"].median().dropna()
    at_top = ", ".join(f"k = {k} took {v:,.0f} steps (median)" for k, v in top.items()) or "none reached 99%"
    missed = int(sweep["steps_to_99"].isna().sum())
    miss = f" {missed} run(s) missed 99% within the step cap and are left out." if missed else ""
    return (
        f"Over n = {ns[0]}-{ns[-1]} with {seeds} seed(s) per point, steps to 99% grow like "
        f"{slopes or '? (pick two n)'}.{order} At n = {ns[-1]}: {at_top}.{miss}"
    )


PROPER_INTRO = (
    "A random 2-term DNF labels m uniform examples. The **proper** learner must answer with a 2-term DNF: it "
    "scores every pair of the 3^n conjunctions. The **improper** learner answers with a 2-CNF, which can express "
    "every 2-term DNF: it deletes each 2-literal clause a positive example falsifies. Times are medians of "
    "repeated runs after a warm-up run."
)


def proper_notice(res: pd.DataFrame, *, max_n: int, m: int) -> str:
    """The proper-vs-improper tab's "what to notice", from the run's rows at the largest n."""
    top = res[res["n"] == max_n].set_index("learner")
    p, q = top.loc[LEARNERS[0]], top.loc[LEARNERS[1]]
    return (
        f"At n = {max_n} the exhaustive search scored {p.searched:,.0f} DNFs in {p.seconds:.3g} s; elimination "
        f"examined {q.searched:,.0f} clauses in {q.seconds * 1e3:.2g} ms. Test accuracy from m = {m} examples: "
        f"{p.test_acc:.0%} (proper) vs {q.test_acc:.0%} (improper). The 2-CNF class is far larger "
        f"(2^{q.searched:.0f} hypotheses), so by the PAC bound it needs more examples. The timing shows that "
        "*this* proper algorithm is exponential in n, not that the problem is hard: that every polynomial-time "
        "proper learner fails (unless RP = NP) is Pitt & Valiant's theorem, which no timing can show."
    )


HIDDEN_INTRO = (
    "**Hidden progress** (Barak et al. 2022). One network learns a k-sparse parity. While its test accuracy sits "
    "at chance, look inside: the share of the first layer's weight on the k relevant bits, and the gap between "
    "the loss gradient on relevant and on other bits (their *Fourier gap*), move before the accuracy does. "
    "The heat map is the picture of Google PAIR's explorable: each input bit's share of the first-layer weight."
)


def hidden_notice(df: pd.DataFrame, *, k: int, n: int) -> str:
    """The hidden-progress tab's "what to notice", from the recorded run."""
    w = df[df["bit"] < 0].pivot(index="step", columns="measure", values="value")
    acc, share = w["test accuracy"], w["support weight share"]
    left = acc.index[acc >= 0.6]
    done = acc.index[acc >= 0.99]
    if left.empty:
        return (
            f"Test accuracy stayed at chance for all {acc.index[-1]:,} steps (best {acc.max():.0%}), while the "
            f"relevant bits' weight share went {share.iloc[0]:.3f} → {share.iloc[-1]:.3f} (k/n = {k / n:.3f}). "
            "Raise the step budget to see the jump."
        )
    t = int(left[0])
    before = share[share.index < t]
    gap, gap0 = w["gradient gap"][w.index < t].iloc[-3:].mean(), w["gradient gap"].iloc[0]
    finish = f"and reached 99% at step {int(done[0]):,}" if len(done) else "but not 99% within the budget"
    trend = "kept climbing, to" if share.iloc[-1] > before.iloc[-1] else "ended at"
    return (
        f"Test accuracy first left chance (≥ 60%) at step {t:,} {finish}. Before that, at step "
        f"{int(before.index[-1]):,}, the relevant bits held {before.iloc[-1]:.3f} of the first-layer weight, "
        f"against {share.iloc[0]:.3f} at initialisation (k/n = {k / n:.3f}); it {trend} {share.iloc[-1]:.3f} "
        f"by the last step. The gradient gap, noisy on a finite sample, went from {gap0:.2f} at step 0 to "
        f"{gap:.2f} (mean of the last three snapshots before step {t:,})."
    )
