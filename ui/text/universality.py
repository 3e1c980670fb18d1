"""Copy and sentence builders of the universality page (no streamlit), kept out of the page file."""

from __future__ import annotations

import math

from core.universality import emergence as em
from core.universality.grokking_phases import GROK_DELAY

TITLE = "Universality: double descent, grokking, emergence"
INTRO = (
    "Three surprises seen across models and data. Once a model can fit its training set exactly, test error peaks "
    "and then falls again (*double descent*). A network can be 100% right on its training data and at chance on "
    "test data for thousands of steps, then suddenly generalise (*grokking*). And an ability can seem to switch on "
    "at some scale when only the yardstick is all-or-nothing (*emergence*)."
)
FORMULA = (
    r"R(\gamma) = \begin{cases} \sigma^2 \frac{\gamma}{1-\gamma} & \gamma = \frac pn < 1 \\ r^2\big(1 - \frac1\gamma"
    r"\big) + \frac{\sigma^2}{\gamma - 1} & \gamma > 1 \end{cases} \qquad \text{exact match} = p_{\text{token}}^{\,L}"
)
REFERENCES = [
    "M. Belkin, D. Hsu, S. Ma, S. Mandal, *Reconciling modern machine-learning practice and the classical "
    "bias-variance trade-off*, PNAS 116 (2019).",
    "T. Hastie, A. Montanari, S. Rosset, R. J. Tibshirani, *Surprises in high-dimensional ridgeless least "
    "squares interpolation*, Ann. Statist. 50 (2022).",
    "A. Power, Y. Burda, H. Edwards, I. Babuschkin, V. Misra, *Grokking: generalization beyond overfitting on "
    "small algorithmic datasets*, arXiv:2201.02177 (2022).",
    "N. Nanda, L. Chan, T. Lieberum, J. Smith, J. Steinhardt, *Progress measures for grokking via mechanistic "
    "interpretability*, ICLR 2023.",
    "Z. Liu, O. Kitouni, N. Nolte, E. J. Michaud, M. Tegmark, M. Williams, *Towards understanding grokking: an "
    "effective theory of representation learning*, NeurIPS 2022.",
    "Z. Liu, E. J. Michaud, M. Tegmark, *Omnigrok: grokking beyond algorithmic data*, ICLR 2023.",
    "J. Wei et al., *Emergent abilities of large language models*, TMLR 2022.",
    "R. Schaeffer, B. Miranda, S. Koyejo, *Are emergent abilities of large language models a mirage?*, NeurIPS 2023.",
]

# The idealised emergence chart's defaults: per-token accuracy rising steadily (by the same amount per decade)
# from 50% to 99.9% over the five decades of the axis, scored on 50-token answers. Exact match then sits near 0
# for most of the axis and climbs from 5% to 95% within about half a decade, as in the computed addition example.
EMERGENCE_DEFAULTS = {"model": em.PER_TOKEN_MODELS[1], "length": 50, "alpha": 1.0}
TEST_SET_SIZES = (10, 100, 10_000)

GROKKING_INTRO = (
    "(a {op} b) mod {mod}, learned from {frac:.0%} of all pairs by an MLP (a 64-d embedding per operand, "
    "concatenated, one hidden layer of 192 ReLUs), full-batch AdamW. Weight decay pulls the weights towards zero "
    "at every step; set it to 0 to see memorisation without generalisation within this step budget."
)
NO_DECAY = (
    " With no weight decay nothing pulled it to the general solution within this budget; Power et al. (2022) "
    "saw grokking without weight decay too, only far later and less reliably."
)

EMERGENCE_INTRO = (
    "**Idealised (not measured).** Suppose each output token is right with probability p(N) that improves "
    "smoothly with model size N: *steady accuracy* rises by the same amount per decade of size; *power-law loss* "
    "(Schaeffer et al.'s model) has a per-token loss falling as N^-α. Scoring whole answers (exact match: all L "
    "tokens right) gives p^L; counting wrong tokens (edit distance) gives L(1 − p). The measured version follows."
)
TEST_SET_INTRO = (
    "**The same models on a finite benchmark.** Each model now answers a test set of n items (each token right "
    "with its probability p, independently). A measured exact match is a multiple of 1/n: with 10 items it reads "
    "exactly 0 until p^L nears 1/10, then jumps; with 10,000 items the log axis shows it rising all along "
    "(Schaeffer et al.'s resolution argument). The edit distance of the very same answers moves at every size."
)


def _sci(x: float) -> str:
    """7.5e+11 -> '7.5 × 10^11' (page text, not Python's exponent notation)."""
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')} × 10^{int(exponent)}"


def emergence_notice(curves, *, length: int) -> str:
    """The idealised chart's "what to notice": where each metric passes 50% and how fast exact match climbs."""
    half_p, half_em = em.scale_at(curves, em.METRICS[0], 0.5), em.scale_at(curves, em.METRICS[1], 0.5)
    axis = math.log10(curves.scale.max() / curves.scale.min())
    rise = em.rise_decades(curves, em.METRICS[1])
    at = f"N = {_sci(half_em)}" if half_em else "no size in this range"
    first = f"N = {_sci(half_p)}" if half_p else "no size in this range"
    if half_p and half_em:
        at = f"{at}, {half_em / half_p:,.0f} times larger"
    climb = (
        f" Exact match climbs from 5% to 95% within {rise:.2g} decades, {rise / axis:.0%} of the {axis:.0f}-decade "
        "axis, while per-token accuracy improved all along."
        if rise is not None
        else " Exact match does not climb from 5% to 95% within this range."
    )
    return f"Per-token accuracy passes 50% at {first}; exact match over L = {length} tokens at {at}.{climb}"


def test_set_notice(sampled) -> str:
    """The finite-benchmark chart's "what to notice": the first model each test set sees above 0."""
    em_rows = sampled[(sampled.metric == em.METRICS[1]) & (sampled.value > 0)]
    first = em_rows.groupby("n_test").scale.min()
    seen = "; ".join(f"{n:,} items: first nonzero at N = {_sci(s)}" for n, s in first.items()) or "none is ever nonzero"
    ed = sampled[sampled.metric == em.METRICS[2]]
    return (
        f"Exact match, {seen}. The smallest nonzero score a test set of n items can report is 1/n. The token "
        f"edit distance of the same answers goes from {ed.value.max():.3g} to {ed.value.min():.3g} wrong tokens "
        "per answer over the model sizes."
    )


def dd_intro(n: int, trials: int) -> str:
    """The double-descent tab's first paragraph."""
    return (
        f"Fit a fixed target (half linear, half quadratic in 10 inputs) from n = {n} noisy points with p random "
        "ReLU features, by least squares, taking the smallest-norm solution once many fit exactly. Median of "
        f"{trials} trial(s), each with new data and features; the band spans their middle half."
    )


def dd_notice(s, r, *, n: int, ridge: float) -> str:
    """The double-descent chart's "what to notice" from the two peak summaries (ridgeless, ridge)."""
    text = (
        f"Test error peaks at p = {s.peak_p} (n = {n}) at {s.peak_mse:.3g}, {s.peak_mse / s.under_mse:.0f}× the "
        f"classical sweet spot (p = {s.under_p}, {s.under_mse:.2f}), just as train error reaches 0. Past the peak "
        f"it descends again, to {s.over_mse:.2f} at p = {s.over_p}, "
        f"{'below' if s.second_descent_wins else 'still above'} the sweet spot."
    )
    return text + (f" With ridge λ = {ridge:g} the error at p = n is {r.at_n_mse:.2f} instead." if ridge else "")


WHY_PEAK = (
    "**Why the peak.** Left: one trial's fits along a line through input space, at the sweet spot, at p = n and "
    "far past it. At p = n exactly one set of weights fits every noisy label, and it bends wildly to do so; with "
    "many more features the smallest-norm fit is calm. Right: over trials with one target, the test error splits "
    "into squared bias (the average fit's miss) and variance (how much the fit changes with the sample)."
)


def why_notice(line, bv, *, n: int) -> str:
    """The fitted-function and bias-variance charts' "what to notice"."""
    target = line[line.series == "target"].y.to_numpy()
    rms = {
        int(p): float(((g.y.to_numpy() - target) ** 2).mean() ** 0.5)
        for p, g in line[line.series != "target"].groupby("n_features")
    }
    fits = ", ".join(f"{v:.2f} at p = {p}" for p, v in rms.items())
    w = bv.pivot(index="n_features", columns="part", values="value")
    at = w.loc[w.index[abs(w.index - n).argmin()]]
    return (
        f"Along the line the fits miss the target by (root mean square) {fits}. At p = {n} the variance is "
        f"{at['variance']:.3g} and the squared bias {at['bias²']:.3g}: the peak is variance. Far past it, at p = "
        f"{w.index[-1]}, the variance is {w['variance'].iloc[-1]:.3g}."
    )


def grokking_notice(s, *, weight_decay: float) -> str:
    """The accuracy chart's "what to notice" from the run's :class:`GrokkingSummary`."""
    mem = f"memorised its training pairs at step {s.memorised_step} (test accuracy then "
    mem = f"{mem}{s.test_acc_at_memorisation:.0%})" if s.memorised_step else "never memorised (train < 99%)"
    gen = f"generalised (test ≥ 95%) at step {s.generalised_step}, {s.delay:.0f}× later" if s.delay else ""
    gen = gen or f"did not reach 95% test accuracy within {s.last_step:,} steps (best {s.best_test_acc:.0%})"
    why = NO_DECAY if not weight_decay and not s.delay else ""
    return (
        f"The network {mem}, and {gen}. Its weight norm went {s.norm_start:.0f} → {s.norm_peak:.0f} (peak) → "
        f"{s.norm_end:.0f} by step {s.last_step:,}.{why}"
    )


MECHANISM_INTRO = (
    "**The mechanism.** Nanda et al. (2023) found that a network that has learned (a + b) mod p computes it with "
    "waves: each residue x is represented by cos(2πkx/p) and sin(2πkx/p) for a few *key frequencies* k, and "
    "trigonometric identities turn those into the answer. Below, the embedding as the hidden layer reads it "
    "(row x: the first layer's weights applied to the learned vector of x) is Fourier-transformed over x at every "
    "logged step; each line is one frequency's share of its squared norm. The key frequencies are the fewest that "
    "carry 80% of the final embedding's norm (the constant k = 0 left out)."
)


def mechanism_notice(run, s, *, modulus: int) -> str:
    """The spectrum charts' "what to notice": the key frequencies and their share at the run's milestones."""
    h = run.history.set_index("step").key_share
    keys = ", ".join(str(k) for k in run.key_frequencies)
    at = [("initialisation", 0), ("memorisation", s.memorised_step), ("generalisation", s.generalised_step)]
    path = ", ".join(f"{h[t]:.0%} at {name} (step {t})" for name, t in at if t is not None and t in h.index)
    return (
        f"{len(run.key_frequencies)} of the {modulus // 2} frequencies carry 80% of the final embedding: k = {keys}. "
        f"Their share of the embedding was {path}, and {h.iloc[-1]:.0%} at step {h.index[-1]:,}; a random "
        f"embedding would give them {run.chance_share:.0%}. The weights reorganise into these waves while the "
        "accuracy curves sit still, and the test loss falls as they take over."
    )


def phase_intro(cfg) -> str:
    """The phase tab's first paragraph."""
    return (
        f"The same network, smaller (embedding {cfg.embed_dim}, {cfg.hidden} hidden units), on (a + b) mod "
        f"{cfg.modulus}: {len(cfg.train_fractions) * len(cfg.weight_decays)} runs, one per training fraction and "
        f"weight decay, each for {cfg.steps:,} full-batch AdamW steps (lr {cfg.lr:g}) from the same initialisation, "
        "trained together as one batched model. Each run's phase is read from its own accuracy curves "
        "(after Liu et al. 2022):"
    )


PHASE_DEFINITIONS = (
    "- **learns**: test accuracy reaches 95% less than "
    f"{GROK_DELAY:g}× after train accuracy reaches 99% (it generalises about as soon as it fits);\n"
    f"- **groks**: test accuracy reaches 95%, but only {GROK_DELAY:g}× or more later than train accuracy 99%;\n"
    "- **memorises**: train accuracy reaches 99%, test accuracy never 95% within the budget;\n"
    "- **fails**: train accuracy never reaches 99% within the budget."
)


def _span(values, fmt: str) -> str:
    lo, hi = values.min(), values.max()
    return fmt.format(lo) if lo == hi else f"{fmt.format(lo)}–{fmt.format(hi)}"


def phase_notice(phases) -> str:
    """The phase diagram's "what to notice": how many cells fall in each phase and where."""
    counts = phases.phase.value_counts()
    parts = []
    for name in ("learns", "groks", "memorises", "fails"):
        cells = phases[phases.phase == name]
        if cells.empty:
            continue
        wd, frac = _span(cells.weight_decay, "{:g}"), _span(cells.train_fraction, "{:.0%}")
        n = int(counts[name])
        verb = name if n == 1 else name.removesuffix("s")
        parts.append(f"{n} run{'s' * (n != 1)} {verb} (weight decay {wd}, training fraction {frac})")
    groks = phases[phases.phase == "groks"]
    slow = ""
    if not groks.empty:
        delay = (groks.generalised_step / groks.memorised_step.clip(lower=1)).median()
        slow = f" The grokking runs generalised a median {delay:.0f}× later than they memorised."
    none = phases[phases.weight_decay == 0].phase
    zero = (
        " Without weight decay no run generalises within the budget."
        if (none.isin(["memorises", "fails"])).all()
        else ""
    )
    return "; ".join(parts) + "." + slow + (zero if not none.empty else "")
