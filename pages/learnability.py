"""Computational complexity of learning: samples (PAC bounds), compute (sparse parity), representation (DNF)."""

import streamlit as st

import core.learnability as lt
from ui import charts_learnability as lc
from ui import controls, page
from ui.runs import live_run

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
    barak = {"lp_width": 1000, "lp_ns": [20, 30, 40, 50], "lp_steps": 10000}
    controls.preset("Preset", {"Custom": {}, "Barak et al. 2022 (width 1000, n = 20-50)": barak}, key="lp_preset")
    ns = controls.multiselect("Input bits n", [6, 10, 15, 20, 30, 40, 50, 60, 80], lt.PARITY.ns, key="lp_ns")
    width = controls.select_slider("Hidden width", [16, 32, 64, 128, 256, 512, 1000], lt.PARITY.width, key="lp_width")
    steps = [100, 200, 500, 1000, 2000, 3000, 4000, 6000, 10000, 20000]
    cap = controls.select_slider("Step cap", steps, lt.PARITY.max_steps, key="lp_steps")
    noise = controls.slider("Label noise p (flip probability)", 0.0, 0.45, lt.PARITY.noise, step=0.05, key="lp_noise")
    noise_n = controls.select_slider("n, noise runs (k = 3)", [6, 10, 20, 30, 40], lt.PARITY.noise_n, key="lp_nn")
    noise_steps = controls.select_slider("Steps, noise runs", steps, lt.PARITY.noise_steps, key="lp_nsteps")
    seed = controls.seed(key="lp_seed")
    st.subheader("Proper vs improper")
    max_n = controls.select_slider("Largest n", list(range(3, 11)), max(lt.PROPER.ns), key="lp_max_n")
    m = controls.select_slider("Training examples m", [20, 50, 100, 200, 500], lt.PROPER.m, key="lp_m")

tabs = st.tabs(["PAC bounds", "Sparse parity", "Label noise", "Proper vs improper"], key="lp_tab", bind="query-params")

with tabs[0]:
    if tabs[0].open:
        kwargs = ({"h_size": 10.0**log_h}, {"h_size": 10.0**log_h, "realizable": False}, {"vc_dim": vc})
        ms = [page.compute(lt.pac_sample_bound, eps=eps, delta=delta, **kw) for kw in kwargs]
        curve = page.compute(lt.pac_bound_curve, delta=delta, h_size=10.0**log_h, vc_dim=vc, eps_min=0.005)
        if curve is not None and None not in ms:
            for col, name, value in zip(st.columns(3), lt.BOUND_NAMES, ms, strict=True):
                col.metric(f"m, {name}", f"{value:,}")
            page.show_chart(lc.pac_chart(curve, eps=eps), curve, name="pac bounds")
            page.notice(
                f"At ε = {eps:g}, δ = {delta:g}, a class of 10^{log_h} hypotheses needs {ms[0]:,} examples when "
                f"some hypothesis is perfect, but {ms[1]:,} ({ms[1] / ms[0]:.0f}×) without that promise: the "
                f"agnostic rate is 1/ε², not 1/ε. VC dimension {vc} gives {ms[2]:,} by the Blumer et al. bound. "
                "All three are guarantees for *any* distribution, so real learners usually need far fewer."
            )

with tabs[1]:
    if tabs[1].open:
        st.markdown(
            "Inputs are random ±1 strings of n bits; the label is the product of k hidden bits. SGD trains a "
            "2-layer ReLU net (hinge loss, fresh samples every step) until 99% of a held-out batch is right. "
            "Both axes are logarithmic, so a power law is a straight line."
        )
        config = {"ns": tuple(sorted(ns)), "ks": lt.PARITY.ks, "width": width, "max_steps": cap, "seed": seed}
        label = f"Training {len(ns) * len(lt.PARITY.ks)} sparse-parity runs"
        sweep = live_run(lt.steps_to_accuracy, config, label=label, key="lp_sweep", live_chart=lc.parity_live_chart)
        if sweep is not None:
            fits = page.compute(lt.fit_exponents, sweep)
            page.show_chart(lc.parity_steps_chart(sweep, fits), sweep, name="sparse parity steps")
            fit = {row.k: row.exponent for row in fits.dropna().itertuples()}
            for col, (k, a) in zip(st.columns(max(len(fit), 1)), fit.items(), strict=False):
                col.metric(f"fitted exponent, k = {k}", f"{a:.2f}", f"theory: {k - 1}", "off", delta_arrow="off")
            slopes = " and ".join(f"n^{a:.2f} for k = {k}" for k, a in fit.items()) or "? (pick two or more n)"
            last = sweep[sweep["n"] == max(ns)].dropna().itertuples()
            top = [f"k = {r.k} took {r.steps_to_99:,.0f} steps" for r in last]
            page.notice(
                f"Steps to 99% grow like {slopes} over n = {min(ns)}-{max(ns)}. At n = {max(ns)}: "
                f"{', '.join(top) or 'none reached 99%'} ({sweep['seconds'].sum():.1f} s of training in all)."
            )
            st.markdown(
                "**Theory.** Gradient methods see only noisy averages, and against ~n^k candidate supports such "
                "*statistical-query* learners need n^Ω(k) total work. Barak et al. (2022) find SGD learns within "
                "n^O(k) steps, near that limit; for a sign-SGD variant Kou et al. (2024) prove ~n^(k-1) samples "
                "(steps at a fixed batch) suffice, n^k work in all. These are large-n statements: at the small n "
                "a CPU affords, fixed costs can flatten the slopes, so compare k = 3 with k = 2 rather than with k."
            )

with tabs[2]:
    if tabs[2].open:
        config = {"n_bits": noise_n, "k": 3, "noise": noise, "steps": noise_steps, "width": width, "seed": seed}
        label = "Training with clean and with noisy labels"
        curves = live_run(lt.parity_noise_curves, config, label=label, key="lp_noisy", live_chart=lc.noise_chart)
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

with tabs[3]:
    if tabs[3].open:
        st.markdown(
            "A random 2-term DNF labels m uniform examples. The **proper** learner must answer with a 2-term "
            "DNF: it scores every pair of the 3^n conjunctions. The **improper** learner answers with a 2-CNF, "
            "which can express every 2-term DNF: it deletes each 2-literal clause a positive example falsifies."
        )
        config = {"ns": tuple(range(2, max_n + 1)), "m": m, "seed": seed}
        res = live_run(lt.proper_vs_improper, config, label="Learning 2-term DNFs", key="lp_proper")
        if res is not None:
            page.show_chart(lc.proper_time_chart(res), res, name="proper vs improper")
            st.altair_chart(lc.proper_accuracy_chart(res), width="stretch")
            top = res[res["n"] == max_n].set_index("learner")
            p, q = top.loc[lt.LEARNERS[0]], top.loc[lt.LEARNERS[1]]
            page.notice(
                f"At n = {max_n} the exhaustive search scored {p.searched:,.0f} DNFs in {p.seconds:.3g} s; "
                f"elimination examined {q.searched:,.0f} clauses in {q.seconds * 1e3:.2g} ms. Test accuracy from "
                f"m = {m} examples: {p.test_acc:.0%} (proper) vs {q.test_acc:.0%} (improper). The 2-CNF class is "
                f"far larger (2^{q.searched:.0f} hypotheses), so by the PAC bound it needs more examples."
            )

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
