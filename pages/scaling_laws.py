import numpy as np
import pandas as pd
import streamlit as st

from core.scaling_laws import laws as sc
from core.scaling_laws.experiment import MiniScalingConfig, mean_over_seeds, mini_scaling_experiment, true_exponents
from ui import controls
from ui.charts import scaling_laws as charts
from ui.page import compute, header, notice, references, show_chart
from ui.runs import live_run
from ui.text import scaling_laws as txt
from ui.views import scaling_laws as views

header(
    "Scaling laws",
    txt.INTUITION,
    r"L(N, D) = E + \frac{A}{N^{\alpha}} + \frac{B}{D^{\beta}}, \qquad N_{opt} \propto C^{\beta/(\alpha+\beta)},"
    r"\quad D_{opt} \propto C^{\alpha/(\alpha+\beta)}",
)

with st.sidebar:
    source = controls.radio("Runs to fit", ["Solvable model", "Upload CSV"], "Solvable model", key="sl_source")
    if source == "Solvable model":
        n_seeds = controls.slider("Seeds (input draws) per cell", 1, 8, 4, key="sl_seeds")
        decay = controls.select_slider("Target decay s", [1.5, 1.75, 2.0, 2.5, 3.0], 2.0, key="sl_decay")
        noise = controls.slider("Label-noise variance σ² (= true E)", 0.5, 4.0, 2.0, step=0.5, key="sl_noise")
    else:
        drop = controls.slider("Drop the highest-loss runs", 0, 20, 5, key="sl_drop", help="Epoch AI drop 5.")
    n_boot = controls.slider("Bootstrap replicates", 10, 200, 40, step=10, key="sl_boot")
    log_c = controls.slider("Budget log10 C (FLOPs)", 18.0, 27.0, 23.76, step=0.01, key="sl_budget")

truth = None
if source == "Solvable model":
    st.caption(txt.EXPERIMENT)
    config = MiniScalingConfig(seeds=tuple(range(n_seeds)), target_decay=decay, noise_var=noise)
    truth = true_exponents(config)
    raw = live_run(mini_scaling_experiment, config, label="Fitting models", key="sl_mini", live_chart=charts.live)
    runs = None if raw is None else compute(mean_over_seeds, raw)
else:
    label = "Runs CSV: columns N, D, loss, or Epoch AI's 'Model Size', 'Training FLOP', 'loss'"
    runs = controls.upload_csv(label, key="sl_upload", parser=sc.read_runs_csv)
    if runs is None:
        st.info(txt.UPLOAD_HINT)
    else:
        runs = compute(sc.drop_highest_loss, runs, drop)

tab_fit, tab_frontier, tab_iso, tab_dec = st.tabs(
    ["Fit and uncertainty", "Compute-optimal frontier", "IsoFLOP curves and Approach 2", "Decisions"]
)
fit = boots = ci = None
if runs is not None:
    n, d, loss = runs["N"].to_numpy(), runs["D"].to_numpy(), runs["loss"].to_numpy()
    fit = compute(sc.fit_scaling_law, n, d, loss)
usable = fit is not None and not fit.degenerate
with tab_fit:
    if fit is not None:
        law = fit.law
        for col, (name, value) in zip(
            st.columns(6),
            [("E", law.E), ("A", law.A), ("B", law.B), ("α", law.alpha), ("β", law.beta), ("a = β/(α+β)", law.a)],
            strict=True,
        ):
            col.metric(name, txt.number(value, 4))
        if fit.degenerate:
            st.warning(f"Degenerate fit ({', '.join(fit.degenerate)}): it has no meaningful compute optimum.")
        curves = compute(sc.law_curves, law, (n.min(), n.max()), np.unique(d))
        show_chart(charts.fit(runs, curves), runs, name="scaling runs")
        view = compute(sc.power_law_view, law, n, d, loss)
        st.altair_chart(charts.power_law_view(view), width="stretch")
        res = compute(sc.residuals, law, n, d, loss)
        show_chart(charts.residuals(res), res, name="scaling residuals")
        boots = live_run(
            sc.bootstrap_run,
            sc.BootstrapConfig(
                N=tuple(map(float, n)), D=tuple(map(float, d)), loss=tuple(map(float, loss)), n_boot=n_boot
            ),
            label=f"Refitting {n_boot} bootstrap resamples",
            key="sl_bootstrap",
        )
        ci = None if boots is None else compute(sc.bootstrap_intervals, boots)
        if ci is not None and ci["n_used"].iloc[0] == 0:
            st.warning(f"All {len(boots)} bootstrap refits are degenerate (a parameter at its bound): no intervals.")
        elif ci is not None:
            q = ci.set_index("parameter")
            if truth is not None:
                table = q.loc[["alpha", "beta"]].assign(fit=[law.alpha, law.beta], true=[truth["alpha"], truth["beta"]])
                show_chart(charts.recovery(table.reset_index()), table.reset_index(), name="exponent recovery")
            show_chart(charts.exponents(boots), boots, name="bootstrap exponents")
            left_out = int(q["n_excluded"].iloc[0])
            vs_truth = (
                ""
                if truth is None
                else f" Theory: α = {truth['alpha']:.3f}, β = {truth['beta']:.3f}, E = {truth['E']:.3f}."
            )
            notice(
                f"Fitted α = {law.alpha:.3f} (90% bootstrap interval {q.low.alpha:.3f}–{q.high.alpha:.3f}), "
                f"β = {law.beta:.3f} ({q.low.beta:.3f}–{q.high.beta:.3f}), E = {law.E:.3f} ({q.low.E:.3f}–"
                f"{q.high.E:.3f}); median |log residual| {np.median(np.abs(res.log_residual)):.2%}.{vs_truth} "
                f"{left_out} of {len(boots)} refits were degenerate (a parameter at its bound) and are left out of "
                "the intervals and the band."
            )

budget = 10.0**log_c
laws = dict(sc.PRESETS) | ({"your fit": fit.law} if usable else {})
measured = {"your fit": fit.compute_range} if usable else {}
with tab_frontier:
    front = compute(sc.frontier, sc.PRESETS, np.geomspace(1e18, 1e26, 60))
    own = band = None
    if usable:
        own = compute(sc.frontier, {"your fit": fit.law}, np.geomspace(*fit.compute_range, 30))
        if ci is not None and ci["n_used"].iloc[0] > 0:
            band = compute(sc.frontier_band, boots, own["flops"].to_numpy())
    on_llm_axis = usable and fit.compute_range[1] >= 1e18
    main = pd.concat([front, own], ignore_index=True) if on_llm_axis else front
    title = "Where to spend compute: N_opt(C)"
    show_chart(charts.frontier(main, band if on_llm_axis else None, title=title), main, name="compute frontier")
    if usable and not on_llm_axis:
        show_chart(
            charts.frontier(own, band, title="Your fit over the compute it was measured on (6·N·D of its runs)"),
            own,
            name="your fit frontier",
        )
    if band is not None:
        st.caption(
            f"Band: 90% of {int(band.n_used.iloc[0])} bootstrap refits; {int(band.n_excluded.iloc[0])} degenerate "
            "refits left out."
        )
    table = compute(sc.frontier, laws, np.array([budget]), measured=measured)
    st.markdown(f"**Budget calculator** at C = {txt.sci(budget, 2)} FLOPs ({txt.number(budget / sc.PF_DAY)} PF-days)")
    st.dataframe(txt.budget_table(table), width="stretch")
    if usable and not table.set_index("law").loc["your fit", "in_range"]:
        lo, hi = fit.compute_range
        st.caption(
            f"Your fit was measured on 6·N·D from {txt.sci(lo)} to {txt.sci(hi)} FLOPs; it is not applied at "
            "this budget (–)."
        )
    penalty = compute(sc.isoflop_penalty, sc.CHINCHILLA, budget, sc.CHINCHILLA_APPROACH_1.compute_optimal(budget)[0])
    notice(txt.approaches(table, budget, a3=sc.CHINCHILLA.a, epoch=sc.EPOCH_2024.a, penalty=penalty))
    st.markdown(txt.kaplan(table.set_index("law").loc["Kaplan"], budget))
    views.reconcile()

with tab_iso:
    fitted = [k for k, v in laws.items() if isinstance(v, sc.ScalingLaw)]
    with st.sidebar:
        iso_law = controls.select("IsoFLOP law", fitted, "Chinchilla A3", key="sl_iso")
    chosen: sc.ScalingLaw = laws[iso_law]
    centre = budget if iso_law != "your fit" else 6 * float(np.median(n * d))
    iso = compute(sc.isoflop_curves, chosen, centre * np.logspace(-2, 2, 5))
    show_chart(charts.isoflops(iso), iso, name="isoflop curves")
    best = iso[iso.is_optimum]
    notice(
        f"Each curve is one budget; its minimum (diamond) sits at N_opt. From {txt.sci(best.flops.iloc[0])} to "
        f"{txt.sci(best.flops.iloc[-1])} FLOPs (x10,000) the optimal size grows x{best.N.iloc[-1] / best.N.iloc[0]:.3g}"
        f" and the optimal data x{best.D.iloc[-1] / best.D.iloc[0]:.3g}."
    )
    if fit is not None:
        views.approach2(runs, fit, None if truth is None else truth["beta"] / (truth["alpha"] + truth["beta"]))

with tab_dec:
    views.decisions({k: v for k, v in sc.PRESETS.items() if isinstance(v, sc.ScalingLaw)})

references(txt.REFERENCES)
