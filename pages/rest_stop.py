"""Rest stop: the chapter's links between topics, each computed from a run and labelled where it is a conjecture."""

import streamlit as st

from core import rest_stop as rs
from ui import controls
from ui.charts import rest_stop as rc
from ui.page import compute, header, notice, references, show_chart
from ui.runs import live_run
from ui.text import rest_stop as txt

header(
    "Rest stop: how the topics connect",
    "The chapter names links between its topics: description length and compression, collapse and generalisation, "
    "scaling laws and double descent. Here each link is computed from a run rather than asserted. Where the link "
    "itself is a conjecture in the literature, the page says so; what it measures is a fact about this run.",
    r"\text{bits}(\theta) = |\mathrm{lzma}(\mathrm{rint}(\theta/\delta))| \qquad "
    r"\mathrm{NC1} = \tfrac1C \operatorname{Tr}(\Sigma_W \Sigma_B^+) \qquad L(p) = E + A\,p^{-\alpha}",
)
L, OV = rs.LensConfig(), rs.OverparamConfig()
with st.sidebar:
    st.subheader("Grokking, collapse, description")
    mod = controls.select_slider("Modulus p of (a + b) mod p", [11, 17, 23, 31, 41], L.modulus, key="rs_mod")
    frac = controls.slider("Training fraction", 0.4, 0.9, L.train_fraction, step=0.05, key="rs_frac")
    wd = controls.select_slider("Weight decay (control: 0)", [0.3, 1.0, 2.0, 3.0], L.weight_decay, key="rs_wd")
    steps = controls.select_slider("Steps (both runs)", [100, 300, 600, 1200, 2000, 3000], L.steps, key="rs_steps")
    prec = controls.select_slider("Quantisation step δ", [0.001, 0.01, 0.1], L.precision, key="rs_prec")
    st.subheader("Overparameterisation and scaling")
    n = controls.select_slider("Training points n (features)", [20, 40, 100, 200], OV.n_train, key="rs_n")
    trials = controls.select_slider("Trials (median)", [1, 3, 5, 10, 20], OV.n_trials, key="rs_trials")
    widest = controls.select_slider("Widest network", [16, 32, 64, 128, 256], max(OV.widths), key="rs_widest")
    net_steps = controls.select_slider("Network steps", [100, 200, 400, 800], OV.steps, key="rs_netsteps")
    lo = controls.select_slider("Fit left out from γ =", [0.2, 0.3, 0.5, 0.7], 0.5, key="rs_lo")
    hi = controls.select_slider("... up to γ =", [1.5, 2.0, 3.0, 5.0], 2.0, key="rs_hi")
    seed = controls.seed(key="rs_seed")

tabs = st.tabs(
    ["Grokking through other lenses", "Why overparameterised models generalise", "One curve read twice", "The map"],
    key="rs_part",
    bind="query-params",
)
if tabs[0].open:
    with tabs[0]:
        st.markdown(
            f"The Universality page's task, (a + b) mod {mod} from {frac:.0%} of the pairs, trained twice from the "
            f"same start: with weight decay {wd:g} and with none. At log-spaced steps we measure accuracy, the "
            "neural-collapse metrics of the hidden layer on the training pairs (Neural collapse page), the weight "
            f"norm, and two description lengths (MDL and Kolmogorov pages): the lzma-compressed weights on a grid "
            f"δ = {prec:g}, and how many Fourier frequencies carry 90% of the embedding (few for the known algorithm)."
        )
        cfg = rs.LensConfig(modulus=mod, train_fraction=frac, weight_decay=wd, steps=steps, precision=prec, seed=seed)
        label = f"Training (a + b) mod {mod} twice for {steps:,} steps"
        hist = live_run(rs.grokking_lens, cfg, label=label, key="rs_lens", live_chart=rc.live_lens_chart)
        if hist is not None:
            show_chart(rc.lens_chart(hist, ("train_acc", "test_acc"), title="accuracy"), hist, name="grokking lens")
            nc = rc.lens_chart(hist, ("NC1", "equiangularity"), title="NC metric (log scale)", log_y=True)
            st.altair_chart(nc, width="stretch")
            st.altair_chart(
                rc.lens_chart(hist, ("description_kbits", "weight_norm"), title="kbit / norm"), width="stretch"
            )
            st.altair_chart(rc.lens_chart(hist, ("fourier",), title="frequencies"), width="stretch")
            runs = list(dict.fromkeys(hist.run))
            s, c = (compute(rs.lens_summary, hist, r) for r in runs)
            if s is not None and c is not None:
                notice(txt.lens_notice(s, c))
        st.caption(
            "Hypothesis, not shown here in general: that grokking is a move to a simpler (shorter, more collapsed) "
            "solution, pushed by weight decay (Liu et al.; Nanda et al.). The run above is one test of it."
        )

if tabs[1].open:
    with tabs[1]:
        st.markdown(
            f"Two systems through their interpolation threshold. **Random features**: n = {n} noisy points, p ReLU "
            "features, the minimum-norm least-squares fit (Universality page), with the norm of that fit. "
            "**Networks**: 64-w-w-10 MLPs on 300 digits, one per width, and NC1 of the last hidden layer at the end."
        )
        ocfg = rs.OverparamConfig(
            n_train=n,
            n_trials=trials,
            widths=tuple(w for w in (*OV.widths, 256) if w <= widest),
            steps=net_steps,
            seed=seed,
        )
        label = "Sweeping features, training networks"
        res = live_run(rs.overparam_run, ocfg, label=label, key="rs_over", live_chart=rc.live_networks_chart)
        if res is not None:
            show_chart(rc.sweep_chart(res.features, n_train=n), res.features, name="min-norm sweep")
            show_chart(rc.networks_chart(res.networks), res.networks, name="networks by width")
            notice(txt.overparam_notice(res, n_train=n))
        st.markdown(
            "**Measured here**: where test error and the norm peak, how far they fall, the networks' errors and NC1. "
            "**Proved, for its setting**: in linear regression the minimum-norm interpolant can generalise when the "
            "data have many weak directions (Bartlett et al. 2020). **Hypotheses**: that overparameterised networks "
            "generalise because training finds small-norm, short-description solutions (Zhang et al. 2017; Neyshabur "
            "et al. 2015), and that neural collapse explains generalisation, which Hui, Belkin & Nakkiran (2022) "
            "dispute: collapse on training data need not carry over to test data."
        )

if tabs[2].open:
    with tabs[2]:
        st.markdown(
            f"The same random-features sweep (n = {n}, {trials} trial(s)) read as a scaling law in the model size p: "
            f"fit L = E + A/p^α to the median test error outside γ = p/n ∈ [{lo:g}, {hi:g}], then look at where the "
            "measured curve leaves the law. The interval on α resamples the fitted points (100 bootstrap fits)."
        )
        sweep = compute(rs.feature_sweep, n_train=n, n_trials=trials, seed=seed)
        reading = None if sweep is None else compute(rs.read_twice, sweep, window=(lo, hi), seed=seed)
        if reading is not None:
            show_chart(rc.reading_chart(reading.table, n_train=n), reading.table, name="power law reading")
            st.altair_chart(rc.residual_chart(reading.table, tolerance=reading.tolerance), width="stretch")
            notice(txt.reading_notice(reading))
        st.caption(
            "Hypothesis: that scaling laws and double descent are two views of one structure (the error of a model "
            "family as its size passes the data size). Measured: only this curve, at this n."
        )

if tabs[3].open:
    with tabs[3]:
        nodes, edges = txt.map_data()
        show_chart(rc.map_chart(nodes, edges), edges, name="chapter map")
        st.markdown(
            "\n".join(
                f"- **{a} – {b}**: {t} ({k})" for a, b, t, k in edges[["source", "target", "link", "kind"]].values
            )
        )

references(
    [
        "N. Nanda, L. Chan, T. Lieberum, J. Smith, J. Steinhardt, *Progress measures for grokking via mechanistic "
        "interpretability*, ICLR 2023.",
        "Z. Liu, E. J. Michaud, M. Tegmark, *Omnigrok: grokking beyond algorithmic data*, ICLR 2023.",
        "V. Papyan, X. Y. Han, D. L. Donoho, *Prevalence of neural collapse during the terminal phase of deep "
        "learning training*, PNAS 117 (2020).",
        "L. Hui, M. Belkin, P. Nakkiran, *Limitations of neural collapse for understanding generalization in deep "
        "learning*, arXiv:2202.08384 (2022).",
        "P. L. Bartlett, P. M. Long, G. Lugosi, A. Tsigler, *Benign overfitting in linear regression*, "
        "PNAS 117 (2020).",
        "C. Zhang, S. Bengio, M. Hardt, B. Recht, O. Vinyals, *Understanding deep learning requires rethinking "
        "generalization*, ICLR 2017.",
        "B. Neyshabur, R. Tomioka, N. Srebro, *In search of the real inductive bias*, ICLR workshop 2015.",
        "M. Belkin, D. Hsu, S. Ma, S. Mandal, *Reconciling modern machine-learning practice and the classical "
        "bias-variance trade-off*, PNAS 116 (2019).",
        "J. Kaplan et al., *Scaling laws for neural language models*, arXiv:2001.08361 (2020).",
        "P. Grünwald, *The Minimum Description Length Principle*, MIT Press (2007).",
    ]
)
