"""Computational complexity of learning: samples (PAC bounds), compute (sparse parity), representation (DNF)."""

import streamlit as st

from core.learnability import pac, proper
from core.learnability import parity as lt
from ui import controls, page
from ui.charts import learnability as lc
from ui.runs import live_run
from ui.text import learnability as lx

page.header(
    "Computational complexity of learning",
    "PAC theory answers *how many examples* a learner needs; complexity theory asks *how much computation*. "
    "A k-sparse parity of n bits is pinned down by a few dozen examples, yet gradient descent has to search "
    "for its k hidden bits, and the search grows with n faster the larger k is. And sometimes the hard part is "
    "the *form* of the answer: a 2-term DNF is NP-hard to learn as a 2-term DNF but easy as a 2-CNF.",
    r"m \;\ge\; \frac{\ln|H| + \ln(1/\delta)}{\epsilon} \qquad\text{(finite class, realisable)}",
)

with st.sidebar:
    st.subheader("PAC calculator")
    eps = controls.select_slider("Target error ε", [0.01, 0.02, 0.05, 0.1, 0.2, 0.3], 0.05, key="lp_eps")
    delta = controls.select_slider("Failure probability δ", [0.001, 0.01, 0.05, 0.1, 0.2], 0.05, key="lp_delta")
    log_h = controls.slider("log10 |H| of the finite class", 1, 100, 6, key="lp_logh")
    vc = controls.select_slider("VC dimension d", [1, 2, 3, 5, 10, 20, 50, 100, 300, 1000], 10, key="lp_vc")
    st.subheader("Sparse parity (SGD)")
    barak = {"lp_width": 1000, "lp_ns": [20, 30, 40, 50], "lp_steps": 10000, "lp_seeds": 2}
    controls.preset("Preset", {"Custom": {}, "Barak et al. 2022 (width 1000, n = 20-50)": barak}, key="lp_preset")
    ns = controls.multiselect("Input bits n", lx.N_CHOICES, lt.ParitySweepConfig.ns, key="lp_ns")
    n_seeds = controls.select_slider("Seeds per n", [1, 2, 3, 5, 8], lt.ParitySweepConfig.n_seeds, key="lp_seeds")
    width = controls.select_slider("Hidden width", [16, 32, 64, 128, 256, 512, 1000], lt.PARITY.width, key="lp_width")
    steps = [100, 200, 500, 1000, 2000, 3000, 4000, 6000, 10000, 20000]
    cap = controls.select_slider("Step cap", steps, lt.ParitySweepConfig.max_steps, key="lp_steps")
    noise = controls.slider("Label noise p (flip probability)", 0.0, 0.45, lt.PARITY.noise, step=0.05, key="lp_noise")
    noise_n = controls.select_slider("n, noise runs (k = 3)", [6, 10, 20, 30, 40], lt.PARITY.noise_n, key="lp_nn")
    noise_steps = controls.select_slider("Steps, noise runs", steps, lt.PARITY.noise_steps, key="lp_nsteps")
    seed = controls.seed(key="lp_seed")
    st.subheader("Hidden progress")
    hp_n = controls.select_slider(
        "n, hidden progress", [12, 16, 20, 24, 32], lt.HiddenProgressConfig.n_bits, key="lp_hn"
    )
    hp_k = controls.select_slider("k, hidden progress", [2, 3, 4], lt.HiddenProgressConfig.k, key="lp_hk")
    hp_steps = controls.select_slider("Steps, hidden progress", steps, lt.HiddenProgressConfig.steps, key="lp_hs")
    st.subheader("Proper vs improper")
    max_n = controls.select_slider("Largest n", list(range(3, 11)), max(proper.PROPER.ns), key="lp_max_n")
    m = controls.select_slider("Training examples m", [20, 50, 100, 200, 500], proper.PROPER.m, key="lp_m")

names = ["PAC bounds", "Sparse parity", "Hidden progress", "Label noise", "Proper vs improper"]
tabs = st.tabs(names, key="lp_tab", bind="query-params")

with tabs[0]:
    if tabs[0].open:
        h = 10.0**log_h
        kwargs = (
            {"h_size": h},
            {"h_size": h, "realizable": False},
            {"h_size": h, "realizable": False, "uniform": True},
        )
        ms = [page.compute(pac.pac_sample_bound, eps=eps, delta=delta, **kw) for kw in (*kwargs, {"vc_dim": vc})]
        curve = page.compute(pac.pac_bound_curve, delta=delta, h_size=h, vc_dim=vc, eps_min=0.005)
        if curve is not None and None not in ms:
            for col, name, value in zip(st.columns(4), pac.BOUND_NAMES, ms, strict=True):
                col.metric(f"m, {name}", f"{value:,}")
            page.show_chart(lc.pac_chart(curve, eps=eps), curve, name="pac bounds")
            page.notice(lx.pac_notice(ms, eps=eps, delta=delta, log_h=log_h, vc=vc))
        st.markdown(lx.PAC_GUARANTEES)

with tabs[1]:
    if tabs[1].open:
        st.markdown(lx.PARITY_INTRO)
        config = lt.ParitySweepConfig(ns=tuple(sorted(ns)), n_seeds=n_seeds, width=width, max_steps=cap, seed=seed)
        label = f"Training {len(ns) * len(config.ks) * n_seeds} sparse-parity networks"
        sweep = live_run(lt.parity_scaling, config, label=label, key="lp_sweep", live_chart=lc.parity_live_chart)
        if sweep is not None:
            fits = page.compute(lt.fit_exponents, sweep, n_boot=1000, seed=seed)
            page.show_chart(lc.parity_steps_chart(sweep, fits), sweep, name="sparse parity steps")
            shown = fits.dropna(subset=["exponent"]).itertuples()
            for col, f in zip(st.columns(max(len(fits), 1)), shown, strict=False):
                interval = f"90% interval {f.exponent_lo:.2f} to {f.exponent_hi:.2f}"
                col.metric(f"fitted exponent, k = {f.k}", f"{f.exponent:.2f}", interval, "off", delta_arrow="off")
            page.notice(lx.parity_notice(sweep, fits))
            st.markdown(lx.PARITY_THEORY)

with tabs[2]:
    if tabs[2].open:
        st.markdown(lx.HIDDEN_INTRO)
        config = lt.HiddenProgressConfig(n_bits=hp_n, k=hp_k, steps=hp_steps, width=width, seed=seed)
        label = f"Training on a {hp_k}-sparse parity of {hp_n} bits"
        hp = live_run(lt.hidden_progress, config, label=label, key="lp_hidden", live_chart=lc.hidden_live_chart)
        if hp is not None:
            page.show_chart(lc.hidden_progress_chart(hp.measures), hp.measures, name="hidden progress")
            st.altair_chart(lc.bit_weight_heatmap(hp.measures, hp.support), width="stretch")
            page.notice(lx.hidden_notice(hp.measures, k=hp_k, n=hp_n))

with tabs[3]:
    if tabs[3].open:
        config = lt.NoiseConfig(n_bits=noise_n, noise=noise, steps=noise_steps, width=width, seed=seed)
        label = "Training with clean and with noisy labels"
        curves = live_run(lt.parity_noise_run, config, label=label, key="lp_noisy", live_chart=lc.noise_chart)
        if curves is not None:
            page.show_chart(lc.noise_chart(curves), curves, name="parity label noise")
            hit = page.compute(lt.steps_to_target, curves).itertuples()
            said = [f"99% after {r.steps_to_target:,.0f} steps" if r.reached else f"{r.final_acc:.0%}" for r in hit]
            page.notice(
                f"In {noise_steps:,} steps, clean labels: {said[0]}. Set the label noise p > 0 to compare."
                if noise == 0
                else f"In {noise_steps:,} steps, clean labels: {said[0]}; flipped with p = {noise:g}: {said[-1]}. "
                f"Flips shrink the signal in every gradient by 1 - 2p = {1 - 2 * noise:.1f}, so SGD needs about "
                f"(1 - 2p)^-2 = {(1 - 2 * noise) ** -2:.1f}× as many steps and sits near 50% that much longer."
            )

with tabs[4]:
    if tabs[4].open:
        st.markdown(lx.PROPER_INTRO)
        config = proper.ProperConfig(ns=tuple(range(2, max_n + 1)), m=m, seed=seed)
        res = live_run(proper.proper_vs_improper_run, config, label="Learning 2-term DNFs", key="lp_proper")
        if res is not None:
            page.show_chart(lc.proper_time_chart(res), res, name="proper vs improper")
            st.altair_chart(lc.proper_accuracy_chart(res), width="stretch")
            page.notice(lx.proper_notice(res, max_n=max_n, m=m))

st.subheader("Hardness you cannot train around")
st.markdown(
    "Some classes are hard for *every* efficient learner, not only for SGD, and not only for proper ones. "
    "Kearns & Valiant (1994) showed that learning small Boolean formulas or finite automata would break "
    "RSA-style cryptography. Regev's *learning with errors* (2005) is parity with noise over larger numbers: "
    "given random a and b = ⟨a, s⟩ + small noise (mod q), find s. It is as hard as worst-case lattice problems "
    "(for quantum algorithms), and post-quantum cryptography such as ML-KEM (Kyber) builds on a variant of it. "
    "For practice: a network failing on a task with this structure may face a computational wall, not a lack "
    "of data or width, and more steps will not fix it."
)
page.references(
    [
        "L. G. Valiant (1984). A theory of the learnable. CACM 27(11).",
        "A. Blumer, A. Ehrenfeucht, D. Haussler, M. Warmuth (1989). Learnability and the Vapnik-Chervonenkis "
        "dimension. JACM 36(4).",
        "L. Pitt, L. G. Valiant (1988). Computational limitations on learning from examples. JACM 35(4).",
        "M. Kearns, L. G. Valiant (1994). Cryptographic limitations on learning Boolean formulae and finite "
        "automata. JACM 41(1).",
        "M. Kearns, U. Vazirani (1994). An Introduction to Computational Learning Theory. MIT Press.",
        "O. Regev (2005). On lattices, learning with errors, random linear codes, and cryptography. STOC.",
        "B. Barak, B. Edelman, S. Goel, S. Kakade, E. Malach, C. Zhang (2022). Hidden progress in deep "
        "learning: SGD learns parities near the computational limit. NeurIPS. arXiv:2207.08799.",
        "Y. Kou, Z. Chen, Q. Gu, S. Kakade (2024). Matching the statistical query lower bound for k-sparse "
        "parity problems with sign stochastic gradient descent. NeurIPS.",
        "S. Shalev-Shwartz, S. Ben-David (2014). Understanding Machine Learning, ch. 2-8. Cambridge UP.",
    ]
)
