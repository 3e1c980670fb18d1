"""Copy for the rest-stop page: the closing map's data and the "what to notice" sentences built from a run's results.

Everything quoted here is read from the results passed in; nothing is computed beyond picking values out of them.
"""

from __future__ import annotations

import math

import pandas as pd

from core.rest_stop import CurveReading, LensSummary, OverparamResult
from ui.registry import TOPICS

# (x = section column, y = row) of each topic page on the closing map; rows staggered so links do not cross nodes
POSITIONS = {
    "optimal_transport": (0, 0.4),
    "sinkhorn": (0, 1.6),
    "information_bottleneck": (1, 0.0),
    "mdl": (1, 1.0),
    "kolmogorov": (1, 2.0),
    "learnability": (2, 0.4),
    "feature_learning": (2, 1.6),
    "lottery_ticket": (3, 0.2),
    "neural_collapse": (3, 1.3),
    "scaling_laws": (4, 0.5),
    "universality": (4, 1.9),
}
COMPUTED, IN_WORDS = "computed on this page", "described in the chapter (not computed here)"
LINKS = (
    ("universality", "neural_collapse", "grokking with and without collapse; NC1 by width (parts 1, 2)", COMPUTED),
    ("universality", "mdl", "description length through grokking; norm of the min-norm fit (parts 1, 2)", COMPUTED),
    ("scaling_laws", "universality", "one curve read twice: power law and double descent (part 3)", COMPUTED),
    ("information_bottleneck", "mdl", "a good learner compresses what it keeps", IN_WORDS),
    ("mdl", "kolmogorov", "K(x) is the ideal description length; compressors bound it", IN_WORDS),
    ("optimal_transport", "sinkhorn", "entropic blur trades precision for speed and smoothness", IN_WORDS),
    ("learnability", "feature_learning", "what any learner can do vs what gradient descent does", IN_WORDS),
    ("lottery_ticket", "mdl", "a sparse ticket is a shorter description of the network", IN_WORDS),
    ("feature_learning", "scaling_laws", "muP: hyperparameters that transfer across model size", IN_WORDS),
)


def map_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nodes (one per topic page, with x, y, title, section) and edges (x, y, x2, y2, link, kind) of the map."""
    info = {t.url_path: t for t in TOPICS}
    nodes = pd.DataFrame(
        [
            {"page": k, "x": x, "y": y, "title": info[k].title, "section": info[k].section}
            for k, (x, y) in POSITIONS.items()
        ]
    )
    edges = pd.DataFrame(
        [
            {"x": POSITIONS[a][0], "y": POSITIONS[a][1], "x2": POSITIONS[b][0], "y2": POSITIONS[b][1],
             "source": info[a].title, "target": info[b].title, "link": text, "kind": kind}
            for a, b, text, kind in LINKS
        ]
    )  # fmt: skip
    return nodes, edges


def _relative(step: int | None, reference: int | None) -> str:
    """Say "(N steps before/after test accuracy's half-way point)"; empty when either step is missing."""
    if step is None or reference is None:
        return ""
    lead = step - reference
    where = f"{abs(lead)} steps {'before' if lead < 0 else 'after'}" if lead else "at"
    return f" ({where} test accuracy's half-way point)"


def lens_notice(s: LensSummary, c: LensSummary) -> str:
    """Part 1: milestones of the weight-decay run ``s`` and the control ``c``, with how far apart they came."""
    st, en, half = s.start, s.end, s.halfway
    gen = f"test ≥ 95% at step {s.generalised_step}" if s.generalised_step else "never reached 95% test accuracy"
    nc_step, nc_low = s.lowest["NC1"]
    ratio = st["NC1"] / en["NC1"]
    kb = f"{st['description_kbits']:.0f} → {en['description_kbits']:.0f} kbit"
    bits = (
        f"the description shrank {kb}, half-way by step {half['description_kbits']}"
        + _relative(half["description_kbits"], half["test_acc"])
        if half["description_kbits"]
        else f"the description did not shrink ({kb} at this precision)"
    )
    return (
        f"With weight decay the network memorised at step {s.memorised_step} and {gen} (half-way up at step "
        f"{half['test_acc']}). NC1 of its hidden layer went {st['NC1']:.2f} → lowest {nc_low:.2f} at step {nc_step}"
        f"{_relative(nc_step, half['test_acc'])} → {en['NC1']:.2f} at the end. Meanwhile {bits}; the embedding used "
        f"{st['fourier']:.0f} → {en['fourier']:.0f} Fourier frequencies and the weight norm went "
        f"{st['weight_norm']:.1f} → {en['weight_norm']:.1f}. Without weight decay: test accuracy "
        f"{c.end['test_acc']:.0%} at the end, NC1 {c.start['NC1']:.2f} → {c.end['NC1']:.2f}, description "
        f"{c.start['description_kbits']:.0f} → {c.end['description_kbits']:.0f} kbit, weight norm "
        f"{c.start['weight_norm']:.1f} → {c.end['weight_norm']:.1f}. So in this run generalisation came "
        f"{'with' if half['description_kbits'] else 'without'} a shorter description at this precision, and NC1 "
        f"ended {max(ratio, 1 / ratio):.1f}× {'below' if ratio > 1 else 'above'} its value at memorisation."
    )


def overparam_notice(res: OverparamResult, *, n_train: int) -> str:
    """Part 2: the peak of test error and of the norm at p = n, and the networks' errors and NC1 by width."""
    f = res.features.pivot_table(index="n_features", columns="metric", values="value")
    nets = res.networks.pivot_table(index="width", columns="metric", values="value", dropna=False)
    fits = nets.index[nets.train_error == 0]
    under = f[f.index < n_train]
    nc = nets.NC1.dropna()
    nc_text = (
        f"NC1 of the last hidden layer (defined from width C − 1 = 9 on) is largest at width {nc.idxmax()} "
        f"({nc.max():.2f}) and {nc.iloc[-1]:.2f} at "
        f"width {nc.index[-1]}"
        if len(nc)
        else "NC1 is undefined at these widths"
    )
    ratio, best_under, last = f.norm.max() / f.norm.iloc[-1], under.test_mse.min(), f.test_mse.iloc[-1]
    return (
        f"Test error peaks at p = {f.test_mse.idxmax()} (n = {n_train}) at {f.test_mse.max():.3g}, and so does the "
        f"norm of the min-norm fit ({f.norm.max():.0f}, at p = {f.norm.idxmax()}); at p = {f.index[-1]} the fit is "
        f"{ratio:.0f}× shorter and its test error {last:.2f}, {'below' if last < best_under else 'above'} the best "
        f"underparameterised one ({best_under:.2f}). "
        f"The networks fit every training label from width {fits[0] if len(fits) else 'none swept'} on; test error "
        f"goes {nets.test_error.iloc[0]:.1%} → {nets.test_error.iloc[-1]:.1%} from width {nets.index[0]} to "
        f"{nets.index[-1]}, and {nc_text}."
    )


def reading_notice(r: CurveReading) -> str:
    """Part 3: the fitted exponent with its interval, and where the law breaks and resumes."""
    fit = r.fit
    interval = (
        f"{fit.level:.0%} bootstrap interval {fit.alpha_lo:.2f}–{fit.alpha_hi:.2f}"
        if math.isfinite(fit.alpha_lo)
        else "no bootstrap interval: too few usable resamples"
    )
    peak = r.table.loc[r.table.n_features == r.peak_p].iloc[0]
    text = (
        f"Away from p = n the test error follows L = E + A/p^α with α = {fit.alpha:.2f} ({interval}; "
        f"{fit.n_excluded} of {fit.n_boot} resamples excluded as degenerate) and E = {fit.E:.3f}, on {fit.n_points} "
        f"points. The law breaks (off by more than ×{r.tolerance:g}) from p = {r.breaks_p}, peaks at p = {r.peak_p} "
        f"where the error is {math.exp(peak.log_residual):.0f}× the law, and "
        + (f"holds again from p = {r.resumes_p} on." if r.resumes_p else "does not come back within the swept range.")
    )
    if fit.at_bound:
        text += f" The fit sits at a bound ({', '.join(fit.at_bound)}): read α with care."
    return text
