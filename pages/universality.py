"""Universality: double descent at p = n, grokking long after memorisation, and emergence as a metric effect."""

import streamlit as st

from core.universality import double_descent as dd
from core.universality import emergence as em
from core.universality.grokking import OPERATIONS, SYMBOLS, GrokkingConfig, grokking_mechanism, grokking_summary
from core.universality.grokking_phases import PhaseConfig, phase_sweep
from ui import controls
from ui.charts import universality as uc
from ui.page import compute, header, notice, references, show_chart
from ui.runs import live_run
from ui.text import universality as ux

header(ux.TITLE, ux.INTRO, ux.FORMULA)
D = GrokkingConfig()
PRIMES = [23, 31, 41, 47, 53, 59, 67, 71, 83, 97]
BASE = {"uv_op": "add", "uv_mod": 59, "uv_frac": 0.4, "uv_wd": 1.0}
PRESETS = {
    "Custom": {},
    "This page's recipe": {**BASE, "uv_lr": D.lr, "uv_steps": D.steps},
    "SCIENCE.md recipe (lr 3e-3, 2x slower)": {**BASE, "uv_lr": 3e-3, "uv_steps": 6000},
    "No weight decay": {"uv_wd": 0.0},
}
g: dict = {}  # GrokkingConfig fields set by the sidebar
with st.sidebar:
    st.subheader("Double descent")
    n = controls.select_slider("Training points n", [20, 40, 100, 200], 100, key="uv_n")
    noise = controls.select_slider("Label noise σ", [0.0, 0.1, 0.2, 0.5, 1.0], 0.2, key="uv_noise")
    ridge = controls.select_slider("Ridge λ (0: none)", [0.0, 1e-4, 1e-3, 1e-2, 0.1, 1.0], 1e-2, key="uv_ridge")
    trials = controls.select_slider("Trials (median)", [1, 3, 5, 10, 20], 10, key="uv_trials")
    st.subheader("Grokking")
    controls.preset("Preset", PRESETS, key="uv_preset")
    g["operation"] = controls.select("Operation", OPERATIONS, D.operation, key="uv_op")
    g["modulus"] = controls.select_slider("Modulus p", PRIMES, D.modulus, key="uv_mod")
    g["train_fraction"] = controls.slider("Training fraction", 0.2, 0.9, D.train_fraction, step=0.05, key="uv_frac")
    g["lr"] = controls.select_slider("AdamW learning rate", [1e-3, 3e-3, 5e-3, 1e-2], D.lr, key="uv_lr")
    g["weight_decay"] = controls.select_slider("Weight decay", [0.0, 0.1, 0.3, 1.0, 2.0, 3.0], 1.0, key="uv_wd")
    g["steps"] = controls.select_slider("Step budget", [300, 1000, 2000, 3000, 6000, 10000], D.steps, key="uv_steps")
    stop = controls.toggle(f"Stop {D.patience} steps after test accuracy ≥ 99%", True, key="uv_stop")
    st.subheader("Grokking phases")
    pmod = controls.select_slider("Phases: modulus p", [11, 17, 23, 29], PhaseConfig().modulus, key="uv_pmod")
    psteps = controls.select_slider(
        "Phases: steps per run", [300, 500, 1000, 2000], PhaseConfig().steps, key="uv_psteps"
    )
    st.subheader("Emergence")
    ptm = controls.select(
        "Per-token model (idealised)", em.PER_TOKEN_MODELS, ux.EMERGENCE_DEFAULTS["model"], key="uv_ptm"
    )
    length = controls.select_slider("Target length L (tokens)", [1, 2, 5, 10, 20, 50, 100], 50, key="uv_len")
    alpha = controls.select_slider("Power-law loss ∝ N^-α, α =", [0.2, 0.3, 0.5, 0.7, 1.0, 2.0], 1.0, key="uv_alpha")
    digits = controls.select_slider("Addition: digits per operand", [2, 3, 4, 5, 6, 8], 6, key="uv_digits")
    widest = controls.select_slider("Addition: widest model", [32, 64, 128, 256, 512], 512, key="uv_widest")
    seed = controls.seed(key="uv_seed")

tabs = st.tabs(["Double descent", "Grokking", "Grokking phases", "Emergence"], key="uv_part", bind="query-params")
if tabs[0].open:
    with tabs[0]:
        st.markdown(ux.dd_intro(n, trials))
        kw = {"n_train": n, "noise": noise, "n_trials": trials, "seed": seed}
        both = compute(dd.stack_curves, *(compute(dd.random_features_curve, **kw, ridge=lam) for lam in (0.0, ridge)))
        if both is not None:
            show_chart(uc.double_descent_chart(both, n_train=n), both, name="double descent")
            s, r = (compute(dd.peak_summary, both, n, ridge=lam) for lam in (0.0, ridge))
            notice(ux.dd_notice(s, r, n=n, ridge=ridge))
            st.markdown(ux.WHY_PEAK)
            ps = (max(s.under_p, 1), n, 10 * n)
            fits = compute(dd.fit_along_line, n_train=n, n_features=ps, noise=noise, seed=seed)
            bv = compute(dd.bias_variance_curve, n_train=n, noise=noise, n_trials=20, seed=seed)
            if fits is not None and bv is not None:
                left, right = st.columns(2)
                with left:
                    show_chart(uc.fit_line_chart(fits), fits, name="fitted functions")
                with right:
                    show_chart(uc.bias_variance_chart(bv, n_train=n), bv, name="bias and variance")
                notice(ux.why_notice(fits, bv, n=n))
        sw = compute(dd.samplewise_curve, n_features=n, noise=noise, n_trials=trials, seed=seed)
        if sw is not None:
            show_chart(uc.samplewise_chart(sw, n_features=n), sw, name="sample-wise double descent")
            top = sw.loc[sw.test_mse.idxmax()]
            notice(
                f"At a fixed p = {n} features, test error peaks at n = {top.n_train:.0f} training points "
                f"({top.test_mse:.3g}): adding data first hurts, until n passes p."
            )
        st.markdown(
            "**The theory beside it.** For isotropic Gaussian features (x ~ N(0, I_p), |β| = 1, same n and σ) the "
            "min-norm fit's excess risk has the closed form above; the points simulate it (mean of 40 trials)."
        )
        iso = compute(dd.isotropic_risk_curve, n_train=n, noise=noise, n_trials=40, seed=seed)
        theory = compute(dd.ridgeless_risk_curve, noise=noise)
        if iso is not None and theory is not None:
            show_chart(uc.risk_theory_chart(iso, theory), iso, name="ridgeless risk theory")
            gap = compute(dd.isotropic_agreement, iso)
            notice(
                f"Away from γ = 1 (|γ − 1| > 0.2) the simulation at n = {n} is within {gap:.0%} of the formula, "
                "which is the limit of large n and p at fixed γ; the peak sits at γ = 1 in both."
            )

if tabs[1].open:
    with tabs[1]:
        op, mod = SYMBOLS[g["operation"]], g["modulus"]
        st.markdown(ux.GROKKING_INTRO.format(op=op, mod=mod, frac=g["train_fraction"]))
        cfg = GrokkingConfig(**g, patience=D.patience if stop else 0, seed=seed)
        label = f"Training on (a {op} b) mod {mod} for up to {cfg.steps:,} steps"
        run = live_run(grokking_mechanism, cfg, label=label, key="uv_grok", live_chart=uc.live_grokking_chart)
        if run is not None:
            hist = run.history
            s = compute(grokking_summary, hist)
            chart = uc.grokking_chart(hist, memorised=s.memorised_step, generalised=s.generalised_step)
            show_chart(chart, hist, name="grokking")
            notice(ux.grokking_notice(s, weight_decay=g["weight_decay"]))
            left, right = st.columns(2)
            with left:
                show_chart(uc.grokking_loss_chart(hist), hist, name="grokking loss")
            with right:
                show_chart(uc.weight_norm_chart(hist), hist, name="grokking weight norm")
            st.markdown(ux.MECHANISM_INTRO)
            spectrum = uc.spectrum_chart(run.spectrum, key=run.key_frequencies)
            show_chart(spectrum, run.spectrum, name="embedding spectrum")
            chart = uc.key_share_chart(hist, chance=run.chance_share, generalised=s.generalised_step)
            show_chart(chart, hist[["step", "key_share"]], name="key frequency share")
            notice(ux.mechanism_notice(run, s, modulus=mod))

if tabs[2].open:
    with tabs[2]:
        pcfg = PhaseConfig(modulus=pmod, steps=psteps, seed=seed)
        st.markdown(ux.phase_intro(pcfg) + "\n" + ux.PHASE_DEFINITIONS)
        label = f"Training {len(pcfg.train_fractions) * len(pcfg.weight_decays)} runs on (a + b) mod {pmod}"
        res = live_run(phase_sweep, pcfg, label=label, key="uv_phase", live_chart=uc.live_phase_chart)
        if res is not None:
            show_chart(uc.phase_chart(res.phases), res.phases, name="grokking phases")
            notice(ux.phase_notice(res.phases))

if tabs[3].open:
    with tabs[3]:
        st.markdown(ux.EMERGENCE_INTRO)
        curves = compute(em.metric_curves, length=length, alpha=alpha, model=ptm, n_points=401)
        if curves is not None:
            show_chart(uc.emergence_accuracy_chart(curves), curves, name="emergence metrics")
            show_chart(uc.edit_distance_chart(curves), curves, name="emergence edit distance")
            notice(ux.emergence_notice(curves, length=length))
        st.markdown(ux.TEST_SET_INTRO)
        sampled = compute(em.sampled_metric_curves, length=length, alpha=alpha, model=ptm, seed=seed)
        if sampled is not None:
            show_chart(uc.test_set_chart(sampled), sampled, name="emergence test-set size")
            notice(ux.test_set_notice(sampled))
        st.markdown(
            f"**Computed.** MLPs of widths up to {widest} (one hidden layer) learn {digits}-digit addition for "
            f"{em.AdditionConfig().steps:,} Adam steps on fresh random sums, each digit of the sum its own softmax."
        )
        widths = tuple(w for w in em.AdditionConfig().widths if w <= widest)
        acfg = em.AdditionConfig(digits=digits, widths=widths, seed=seed)
        label = f"Training {len(acfg.widths)} MLPs on addition"
        res = live_run(em.train_addition_models, acfg, label=label, key="uv_add", live_chart=uc.live_addition_chart)
        if res is not None:
            show_chart(uc.addition_chart(res), res, name="addition metrics")
            show_chart(uc.addition_edit_chart(res), res, name="addition edit distance")
            a = compute(em.addition_summary, res)
            flat = f"Exact match is still below 5% at width {a.last_flat_width}, where per-digit accuracy is already "
            flat = f"{flat}{a.digit_acc_when_flat:.0%}. " if a.last_flat_width else ""
            notice(
                f"From width {a.smallest} to {a.largest}, per-digit accuracy climbs {a.digit_acc[0]:.0%} → "
                f"{a.digit_acc[1]:.0%} and exact match {a.exact[0]:.1%} → {a.exact[1]:.0%}. {flat}p^L, what "
                f"independent digit errors would give, stays within {a.max_gap_independent:.2f} of exact match."
            )

references(ux.REFERENCES)
