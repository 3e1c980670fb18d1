"""Neural collapse: NC1-NC4 of a network trained past zero error, the simplex ETF, and your own features."""

import streamlit as st

from core.neural_collapse import metrics as nc
from core.neural_collapse import training as ct
from ui import controls
from ui.charts import neural_collapse as cc
from ui.page import compute, header, notice, references, show_chart
from ui.runs import live_run
from ui.views import neural_collapse as text

header("Neural collapse", text.INTRO, text.FORMULA)
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
    epochs = controls.select_slider("Epochs", [5, 10, 25, 50, 100, 160, 200, 300, 500], ct.EPOCHS, key="nc_epochs")
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
        notice(text.training_notice(summary, run))
        st.dataframe(summary, hide_index=True, width="stretch")
        st.caption(text.CONVENTIONS)
        left, right = st.columns(2)
        with left:
            both = run.test_history.assign(split="test")
            show_chart(cc.train_test_chart(run.history, run.test_history), both, name="neural collapse test set")
        with right:
            show_chart(cc.depth_chart(run.depth), run.depth, name="neural collapse depth")
        notice(text.depth_notice(run.depth))
        npz = run.to_npz()
        st.download_button("This run's features (NPZ)", npz, "collapse_features.npz", on_click="ignore")

if tabs[1].open and run is not None:
    with tabs[1]:
        st.markdown(text.simplex_text(run.weights.shape[0]))
        geo = compute(ct.geometry_snapshots, run, classes=tuple(digits), seed=seed)
        if geo is not None:
            show_chart(cc.cosine_heatmap(geo.cosines), geo.cosines, name="neural collapse cosines")
            a = geo.angles.iloc[[0, -1]].reset_index(drop=True)
            notice(
                f"The {len(geo.cosines) // len(geo.angles)} cosines between all {run.weights.shape[0]} centred means "
                f"span {a.cos_min[0]:.2f} to {a.cos_max[0]:.2f} at initialisation and {a.cos_min[1]:.3f} to "
                f"{a.cos_max[1]:.3f} at the end (ideal {geo.cosines.ideal.iloc[0]:.3f}). Angles between the centred "
                f"means of digits {', '.join(map(str, digits))}: {a.angle_min[0]:.0f}°-{a.angle_max[0]:.0f}° at "
                f"initialisation, {a.angle_min[1]:.1f}°-{a.angle_max[1]:.1f}° at the end (ideal "
                f"{a.ideal_angle[0]:.1f}°)."
            )
            show_chart(cc.simplex_chart(geo.simplex, geo.clouds), geo.clouds, name="neural collapse simplex")

if tabs[2].open:
    with tabs[2]:
        st.markdown(text.UFM)
        base = ct.UFMConfig(weight_decay=lam, dim=dim, steps=steps, seed=seed)
        ucfg = ct.UFMSweepConfig(base=base, weight_decays=(lam / 10, lam, lam * 10))
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
        st.markdown(text.UPLOAD)
        arrays = controls.upload_npz(
            "Features (NPZ)", key="nc_upload", required=("features", "labels"), optional=("weights", "bias")
        )
        if arrays is not None:
            H, y, W = arrays["features"], arrays["labels"], arrays.get("weights")
            m = compute(nc.collapse_metrics, H, y, weights=W, bias=arrays.get("bias"))
            if m is not None:
                values = (m.nc1, m.equinorm, m.equiangularity, m.nc3, m.nc4, m.cdnv)
                for col, name, value in zip(st.columns(6), nc.METRICS, values):
                    col.metric(name, "needs weights" if value is None else f"{value:.3g}")
                if m.n_classes <= 40:  # a readable heatmap
                    table = compute(nc.cosine_table, compute(nc.class_geometry, H, y, n_classes=m.n_classes).means)
                    show_chart(cc.cosine_heatmap(table), table, name="your features cosines")
                notice(
                    f"{m.n_samples} samples, {m.n_classes} classes, {H.shape[1]} features. All metrics are 0 for a "
                    f"perfect collapse; white heatmap cells sit exactly at the ETF cosine {-1 / (m.n_classes - 1):.3f}."
                )

references(text.REFERENCES)
