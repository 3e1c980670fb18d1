import numpy as np
import pandas as pd
import streamlit as st

from core import scaling as sc
from core.scaling_experiment import MiniScalingConfig, mean_over_seeds, mini_scaling_experiment
from ui import charts_scaling as charts
from ui import controls
from ui.page import compute, header, notice, references, show_chart
from ui.runs import live_run

header(
    "Scaling laws",
    "Loss falls as a power law in model size N and data size D, down to an irreducible floor E. Fit the law "
    "to a grid of runs and it tells you how to split a compute budget C ≈ 6 N D between parameters and "
    "tokens: Kaplan et al. (2020) said mostly parameters; Chinchilla (2022) said both equally, about 20 tokens "
    "per parameter. Fit your own runs, or the app's mini experiment trained live on this machine.",
    r"L(N, D) = E + \frac{A}{N^{\alpha}} + \frac{B}{D^{\beta}}, \qquad N_{opt} \propto C^{\beta/(\alpha+\beta)},"
    r"\quad D_{opt} \propto C^{\alpha/(\alpha+\beta)}",
)

with st.sidebar:
    source = controls.radio("Runs to fit", ["Mini experiment", "Upload CSV"], "Mini experiment", key="sl_source")
    if source == "Mini experiment":
        n_seeds = controls.slider("Seeds (teachers) per cell", 1, 3, 3, key="sl_seeds")
        steps = controls.select_slider("AdamW steps per student", [100, 300, 600, 1200], 600, key="sl_steps")
        noise = controls.slider("Label-noise variance (= true E)", 0.0, 0.5, 0.1, step=0.05, key="sl_noise")
    else:
        drop = controls.slider("Drop the highest-loss runs", 0, 20, 5, key="sl_drop", help="Epoch AI drop 5.")
    n_boot = controls.slider("Bootstrap replicates", 10, 200, 40, step=10, key="sl_boot")
    log_c = controls.slider("Budget log10 C (FLOPs)", 18.0, 27.0, 23.76, step=0.01, key="sl_budget")

if source == "Mini experiment":
    st.caption(
        "Teacher-student regression: a random tanh teacher (8 inputs) plus label noise; GELU students with two "
        "hidden layers of width 4 to 64 (N = 61 to 4,801) on 256 to 4,096 examples; test loss at the best "
        "validation check. Each seed draws its own teacher; the fit uses each cell's mean over seeds."
    )
    config = MiniScalingConfig(seeds=tuple(range(n_seeds)), steps=steps, noise_var=noise)
    raw = live_run(mini_scaling_experiment, config, label="Training students", key="sl_mini", live_chart=charts.live)
    runs = None if raw is None else compute(mean_over_seeds, raw)
else:
    label = "Runs CSV: columns N, D, loss, or Epoch AI's 'Model Size', 'Training FLOP', 'loss'"
    runs = controls.upload_csv(label, key="sl_upload", parser=sc.read_runs_csv)
    if runs is None:
        st.info(
            "Upload a CSV of runs, e.g. Epoch AI's digitised Chinchilla data (svg_extracted_data.csv in "
            "epoch-research/analyzing-chinchilla), or switch to the mini experiment."
        )
    else:
        runs = compute(sc.drop_highest_loss, runs, drop)

tab_fit, tab_frontier, tab_iso = st.tabs(["Fit and uncertainty", "Compute-optimal frontier", "IsoFLOP curves"])
fit = boots = None
if runs is not None:
    n, d, loss = runs["N"].to_numpy(), runs["D"].to_numpy(), runs["loss"].to_numpy()
    fit = compute(sc.fit_scaling_law, n, d, loss)
with tab_fit:
    if fit is not None:
        law = fit.law
        for col, (name, value) in zip(
            st.columns(6),
            [("E", law.E), ("A", law.A), ("B", law.B), ("α", law.alpha), ("β", law.beta), ("a = β/(α+β)", law.a)],
            strict=True,
        ):
            col.metric(name, f"{value:.4g}")
        curves = compute(sc.law_curves, law, (n.min() / 1.5, n.max() * 1.5), np.unique(d))
        show_chart(charts.fit(runs, curves), runs, name="scaling runs")
        res = compute(sc.residuals, law, n, d, loss)
        show_chart(charts.residuals(res), res, name="scaling residuals")
        boots = live_run(
            sc.bootstrap_scaling_law,
            {"N": n, "D": d, "loss": loss, "n_boot": n_boot},
            label=f"Refitting {n_boot} bootstrap resamples",
            key="sl_bootstrap",
        )
        if boots is not None:
            show_chart(charts.exponents(boots), boots, name="bootstrap exponents")
            q = boots[["alpha", "beta", "E"]].quantile([0.05, 0.95])
            seeds = compute(sc.fit_per_group, raw) if source == "Mini experiment" and n_seeds > 1 else None
            spread = (
                ""
                if seeds is None
                else (
                    f" Fitting each seed alone gives α from {seeds.alpha.min():.2f} to {seeds.alpha.max():.2f} and β "
                    f"from {seeds.beta.min():.2f} to {seeds.beta.max():.2f}: with 25 noisy cells α and β trade off, "
                    "so read the exponents as rough."
                )
            )
            notice(
                f"Fitted α = {law.alpha:.3f} (90% bootstrap interval {q.alpha.iloc[0]:.3f}–{q.alpha.iloc[1]:.3f}),"
                f" β = {law.beta:.3f} ({q.beta.iloc[0]:.3f}–{q.beta.iloc[1]:.3f}), E = {law.E:.3f} "
                f"({q.E.iloc[0]:.3f}–{q.E.iloc[1]:.3f}); median |log residual| "
                f"{np.median(np.abs(res.log_residual)):.1%}." + spread
            )

budget = 10.0**log_c
laws = dict(sc.PRESETS) | ({"your fit": fit.law} if fit is not None else {})
with tab_frontier:
    flops = np.geomspace(1e18, 1e27, 60)
    front = compute(sc.frontier, sc.PRESETS, flops)
    band = None
    if fit is not None:
        own = np.geomspace(6 * (n * d).min() / 3, 6 * (n * d).max() * 3, 30)
        front = pd.concat([front, compute(sc.frontier, {"your fit": fit.law}, own)], ignore_index=True)
        band = compute(sc.frontier_band, boots, own) if boots is not None else None
    show_chart(
        charts.frontier(front, band),
        front,
        name="compute optimal frontier",
        caption="Presets over LLM budgets; your fit over its own compute range (6·N·D of its runs), with "
        "its 90% bootstrap band.",
    )
    table = compute(sc.frontier, laws, np.array([budget]))
    st.markdown(f"**Budget calculator** at C = {budget:.3g} FLOPs ({budget / 8.64e19:.3g} PF-days)")
    st.dataframe(
        table.drop(columns="flops").set_index("law"),
        width="stretch",
        column_config={c: st.column_config.NumberColumn(format="%.3g") for c in table.columns[2:]},
    )
    chin, kap = table.set_index("law").loc["Chinchilla"], table.set_index("law").loc["Kaplan"]
    notice(
        f"At {budget:.3g} FLOPs Chinchilla puts {chin.n_opt:.3g} parameters on {chin.d_opt:.3g} tokens "
        f"({chin.tokens_per_param:.1f} tokens per parameter); Kaplan's frontier puts {kap.n_opt:.3g} parameters "
        f"on {kap.d_opt:.3g} tokens ({kap.tokens_per_param:.2g} per parameter). N_opt grows like C^"
        f"{sc.PRESETS['Chinchilla'].a:.2f} (Chinchilla), C^{sc.PRESETS['Epoch 2024'].a:.2f} (Epoch) and C^0.73 "
        "(Kaplan)."
    )

with tab_iso:
    with st.sidebar:
        iso_law = controls.select("IsoFLOP law", [k for k in laws if k != "Kaplan"], "Chinchilla", key="sl_iso")
    chosen: sc.ScalingLaw = laws[iso_law]
    centre = budget if iso_law != "your fit" else 6 * float(np.median(n * d))
    iso = compute(sc.isoflop_curves, chosen, centre * np.logspace(-2, 2, 5))
    show_chart(charts.isoflops(iso), iso, name="isoflop curves")
    best = iso[iso.is_optimum]
    notice(
        f"Each curve is one budget; its minimum (diamond) sits at N_opt. From {best.flops.iloc[0]:.2g} to "
        f"{best.flops.iloc[-1]:.2g} FLOPs (x10,000) the optimal size grows x{best.N.iloc[-1] / best.N.iloc[0]:.3g}"
        f" and the optimal data x{best.D.iloc[-1] / best.D.iloc[0]:.3g}."
    )

references(
    [
        "Kaplan et al. (2020). Scaling Laws for Neural Language Models. arXiv:2001.08361.",
        "Hoffmann et al. (2022). Training Compute-Optimal Large Language Models (Chinchilla). NeurIPS.",
        "Besiroglu, Erdil, Barnett, You (2024). Chinchilla Scaling: A replication attempt. arXiv:2404.10102.",
        "Bahri, Dyer, Kaplan, Lee, Sharma (2021). Explaining Neural Scaling Laws. arXiv:2102.06701.",
    ]
)
