"""Neural collapse: NC1-NC4 of a network trained past zero error, the simplex ETF, and your own features."""

import streamlit as st

from core import collapse as nc
from core import collapse_training as ct
from ui import charts_collapse as cc
from ui import controls
from ui.page import compute, header, notice, references, show_chart
from ui.runs import live_run

header(
    "Neural collapse",
    "Keep training a classifier after it gets every training example right, with weight decay, and its last layer "
    "tidies itself up: the features of each class shrink onto their class mean (NC1), the class means spread out "
    "as far apart as possible, equal in length and at equal angles (a *simplex equiangular tight frame*, NC2), the "
    "classifier rows point along the means (NC3), and the network ends up classifying by the nearest class mean (NC4).",
    r"\mathrm{NC1} = \tfrac1C \operatorname{Tr}\!\big(\Sigma_W \Sigma_B^{+}\big), \qquad "
    r"\cos(\mu_c - \mu_G,\ \mu_{c'} - \mu_G) \;\to\; -\tfrac{1}{C-1}",
)
ON = {"nc_wd": 5e-3, "nc_cosine": True, "nc_bn": True, "nc_relu": False}
PRESETS = {
    "Custom": {},
    "Papyan et al. recipe": ON,
    "Weak weight decay": {**ON, "nc_wd": 5e-4},
    "No learning-rate decay": {**ON, "nc_cosine": False},
    "No BatchNorm": {**ON, "nc_bn": False},
    "ReLU on the features": {**ON, "nc_relu": True},
}
with st.sidebar:
    st.subheader("Network on digits")
    controls.preset("Preset", PRESETS, key="nc_preset", help="The working recipe, and variants that collapse less.")
    epochs = controls.select_slider("Epochs", [5, 10, 25, 50, 100, 200, 300, 500], 200, key="nc_epochs")
    wd = controls.select_slider("Weight decay", [0.0, 1e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2], 5e-3, key="nc_wd")
    cos = controls.toggle("Cosine learning-rate decay", True, key="nc_cosine")
    bn = controls.toggle("BatchNorm", True, key="nc_bn")
    relu = controls.toggle("ReLU on the features", False, key="nc_relu")
    digits = controls.multiselect("Digits drawn as a simplex (3 or 4)", range(10), [0, 1, 2], key="nc_digits")
    st.subheader("Unconstrained features")
    lam = controls.select_slider("Weight decay λ", [1e-4, 5e-4, 1e-3, 5e-3, 1e-2], 5e-3, key="nc_lambda")
    dim = controls.select_slider("Feature dimension p", [9, 10, 16, 32, 64, 256], 10, key="nc_dim")
    steps = controls.select_slider("Gradient steps", [100, 300, 1000, 2500, 5000], 2500, key="nc_steps")
    seed = controls.seed(key="nc_seed")

cfg = ct.CollapseConfig(
    epochs=epochs, weight_decay=wd, cosine_decay=cos, batchnorm=bn, penultimate_relu=relu, seed=seed
)
tabs = st.tabs(["Training", "Simplex", "Unconstrained features", "Your features"], key="nc_tab", bind="query-params")
run = None
if tabs[0].open or tabs[1].open:
    with tabs[0] if tabs[0].open else tabs[1]:
        label = f"Training a 64-256-256-256-10 MLP on digits for {epochs} epochs"
        run = live_run(ct.train_collapse, cfg, label=label, key="nc_run", live_chart=cc.live_metrics_chart)

if tabs[0].open and run is not None:
    with tabs[0]:
        chart = cc.metrics_chart(run.history, terminal_epoch=run.terminal_epoch, title="Collapse of the train features")
        show_chart(chart, run.history, name="neural collapse metrics")
        show_chart(cc.accuracy_chart(run.history), run.history, name="neural collapse accuracy")
        summary = compute(nc.terminal_summary, run.history, run.terminal_epoch)
        s = summary.set_index("metric").to_dict("index")
        low = min(s[m]["end"] for m in ("NC1", "equiangularity", "NC3"))
        fell = {m: f"{s[m]['start']:.2g} → {s[m]['end']:.2g} (÷{s[m]['factor']:.3g})" for m in s}
        honest = f"Within this budget the collapse is large but partial: the smallest of NC1-NC3 ends at {low:.1g}."
        notice(
            f"From {'the first epoch at 100% train accuracy' if run.converged else 'initialisation'} (epoch "
            f"{s['NC1']['start_epoch']}) to epoch {s['NC1']['end_epoch']}: NC1 {fell['NC1']}, equiangularity "
            f"{fell['equiangularity']}, equinorm {fell['equinorm']}, NC3 {fell['NC3']}; NC4 ends at "
            f"{s['NC4']['end']:.1%}, test accuracy at {run.history.test_acc.iloc[-1]:.1%}. {honest * run.converged}"
        )
        st.dataframe(summary, hide_index=True, width="stretch")
        npz = run.to_npz()
        st.download_button("This run's features (NPZ)", npz, "collapse_features.npz", on_click="ignore")

if tabs[1].open and run is not None:
    with tabs[1]:
        st.markdown(
            "Any k corners of a simplex ETF, centred at their own average, are again a simplex ETF. So the means "
            "of 3 digits of the 10-class run should form an equilateral triangle, and 4 digits a regular "
            "tetrahedron: drawn here exactly in their own span and rotated onto the ideal (grey). Projecting all "
            "ten means onto two principal components would not show this: an ETF has no preferred directions."
        )
        geo = compute(ct.geometry_snapshots, run, classes=tuple(digits))
        if geo is not None:
            show_chart(cc.simplex_chart(geo["simplex"]), geo["simplex"], name="neural collapse simplex")
            show_chart(cc.cosine_heatmap(geo["cosines"]), geo["cosines"], name="neural collapse cosines")
            a = geo["angles"].iloc[[0, -1]].reset_index(drop=True)
            notice(
                f"Angles between the centred means of digits {', '.join(map(str, digits))}: "
                f"{a.angle_min[0]:.0f}°-{a.angle_max[0]:.0f}° at initialisation, {a.angle_min[1]:.1f}°-"
                f"{a.angle_max[1]:.1f}° at the end (ideal {a.ideal_angle[0]:.1f}°). The 90 cosines between all ten "
                f"means span {a.cos_min[0]:.2f} to {a.cos_max[0]:.2f} at initialisation and {a.cos_min[1]:.3f} to "
                f"{a.cos_max[1]:.3f} at the end (ideal {geo['cosines'].ideal.iloc[0]:.3f})."
            )

if tabs[2].open:
    with tabs[2]:
        lams = (lam / 10, lam, lam * 10)
        st.markdown(
            "Drop the network and make every feature vector a free parameter: minimise cross-entropy plus weight "
            "decay λ on the features H and the classifier W (C = 10 classes, 120 points each). Every minimiser is "
            "an exact simplex ETF (Zhu et al. 2021), so this model collapses all the way; λ sets the pace. "
            "In high dimension p random features already look equiangular, so start near p = C."
        )
        ucfg = {"config": ct.UFMConfig(weight_decay=lam, dim=dim, steps=steps, seed=seed), "weight_decays": lams}
        sweep = live_run(ct.ufm_sweep, ucfg, label="3 values of λ", key="nc_ufm", live_chart=cc.live_metrics_chart)
        if sweep is not None:
            mine = sweep[sweep.weight_decay == lam]
            chart = cc.metrics_chart(
                mine, x="step", x_title="gradient step (log scale)", title=f"λ = {lam:g}, p = {dim}", log_x=True
            )
            show_chart(chart, mine, name="unconstrained features metrics")
            show_chart(cc.ufm_lambda_chart(sweep), sweep, name="unconstrained features lambda")
            hit = compute(nc.ufm_milestones, sweep).fillna(-1)
            when = "; ".join(
                f"λ = {r.weight_decay:.0e}: " + " / ".join(f"{v:.0f}" if v >= 0 else "not yet" for v in r[2:])
                for r in hit.itertuples()
            )
            notice(f"First step with NC1 < 1e-3 / equiangularity < 1e-2 (within {steps} steps): {when}.")

if tabs[3].open:
    with tabs[3]:
        st.markdown(
            "Upload penultimate features from your own network as an NPZ file: `features` (N, p), integer `labels` "
            "(N,) in 0..C-1, and optionally the last layer's `weights` (C, p) and `bias` (C,) for NC3 and NC4, e.g. "
            "`np.savez('f.npz', features=H, labels=y, weights=W)`. The file is never unpickled. The Training tab "
            "offers its run's features in this format."
        )
        arrays = controls.upload_npz(
            "Features (NPZ)", key="nc_upload", required=("features", "labels"), optional=("weights", "bias")
        )
        if arrays is not None:
            H, y, W = arrays["features"], arrays["labels"], arrays.get("weights")
            m = compute(nc.collapse_metrics, H, y, weights=W, bias=arrays.get("bias"))
            if m is not None:
                values = (m.nc1, m.equinorm, m.equiangularity, m.nc3, m.nc4)
                for col, name, value in zip(st.columns(5), nc.METRICS, values):
                    col.metric(name, "needs weights" if value is None else f"{value:.3g}")
                if m.n_classes <= 40:  # a readable heatmap
                    table = compute(nc.cosine_table, compute(nc.class_geometry, H, y, n_classes=m.n_classes).means)
                    show_chart(cc.cosine_heatmap(table), table, name="your features cosines")
                notice(
                    f"{m.n_samples} samples, {m.n_classes} classes, {H.shape[1]} features. All metrics are 0 for a "
                    f"perfect collapse; white heatmap cells sit exactly at the ETF cosine {-1 / (m.n_classes - 1):.3f}."
                )

references(
    [
        "V. Papyan, X. Y. Han, D. L. Donoho, *Prevalence of neural collapse during the terminal phase of deep "
        "learning training*, PNAS 117 (2020).",
        "D. G. Mixon, H. Parshall, J. Pi, *Neural collapse with unconstrained features*, arXiv:2011.11619 (2020).",
        "Z. Zhu et al., *A geometric analysis of neural collapse with unconstrained features*, NeurIPS 2021.",
    ]
)
