"""The information bottleneck: the information plane of a training network, the estimator debate, drift and
diffusion, the IB curve."""

import dataclasses

import numpy as np
import streamlit as st

from core.information_bottleneck import theory as ib
from ui import controls, page
from ui.charts import information_bottleneck as cb
from ui.runs import live_run
from ui.text import information_bottleneck as copy

page.header(
    "The information bottleneck",
    "A good representation T of an input X keeps what X says about the label Y and forgets the rest; the "
    "information bottleneck turns that into a trade-off with one knob, β. Shwartz-Ziv and Tishby watched the "
    "hidden layers of a small network in the *information plane* and saw them compress after fitting; Saxe et al. "
    "found that this depends on the activation and on how mutual information is estimated. Here a tanh and a "
    "ReLU net train side by side, and three estimators measure the same activations.",
    r"\min_{p(t\mid x)}\; I(X;T) - \beta\, I(T;Y)",
)
with st.sidebar:
    controls.preset("Preset", copy.PRESETS, key="ib_preset")
    st.subheader("Training run")
    epochs = controls.select_slider("Epochs", [30, 100, 300, 1000, 3000, 8000], 3000, key="ib_epochs")
    lr = controls.select_slider("Adam learning rate", [3e-4, 1e-3, 3e-3], 1e-3, key="ib_lr", format_func="{:g}".format)
    seed = controls.seed(key="ib_seed")
    n_seeds = controls.slider("Seeds (mean, band = min to max)", 1, 5, 1, key="ib_seeds")
    batch = controls.select_slider(
        "Batch: full, or rows per minibatch (3-6x slower)", list(copy.BATCHES), "full", key="ib_batch"
    )
    linear = controls.toggle("Add a linear network (Saxe et al.'s control)", False, key="ib_linear")
    st.subheader("Estimator (no retraining)")
    est = controls.radio("Mutual information by", ib.ESTIMATORS, "adaptive", key="ib_est", format_func=cb.SHORT.get)
    n_bins = controls.select_slider("Bins per unit", [10, 30, 100], 30, key="ib_bins")
    kde_var = controls.select_slider("KDE noise variance", [0.01, 0.1, 1.0], 0.1, key="ib_kde_var")
    layer = controls.slider("Layer to compare (6 = softmax output)", 1, 6, 5, key="ib_layer")
    st.subheader("IB curve")
    noise = controls.select_slider("Channel noise", [0.03, 0.05, 0.08, 0.12, 0.2], 0.08, key="ib_noise")
    clusters = controls.slider("Clusters |T|", 2, 24, 12, key="ib_clusters")
    snr = controls.select_slider("Gaussian: SNR of the strongest direction", [1, 2, 4, 8, 16, 32], 8, key="ib_snr")
    table = controls.upload_csv(
        "Your joint table p(x, y) (CSV: rows x, columns y, counts or probabilities)",
        key="ib_upload",
        parser=ib.read_joint_table,
    )

tabs = st.tabs(["Information plane", "The estimator debate", "Drift and diffusion", "IB curve over β"], key="ib_tab",
               bind="query-params")  # fmt: skip
tab_plane, tab_debate, tab_drift, tab_curve = tabs
with tab_plane:
    st.caption(copy.SETTING)

    labels_y = page.compute(ib.twelve_bit_task, seed=0)[1]
    h_y = ib.entropy(np.bincount(labels_y) / labels_y.size)

    def plane(band, labels=True):
        return cb.information_plane_chart(
            band, estimator=est, n_bins=n_bins, max_epoch=epochs, labels=labels, h_y=h_y, panel_width=width
        )

    def live(records):
        rows = cb.live_rows(records)
        return plane(ib.seed_band(rows) if len(rows) else rows, False)

    estimators = ("adaptive", "fixed", "kde") if est == "kde" else ("adaptive", "fixed")  # KDE: ~40% more time
    acts = ("tanh", "relu", "linear") if linear else ("tanh", "relu")
    width = 360 if len(acts) == 2 else 240
    config = ib.InfoPlaneConfig(epochs=epochs, lr=lr, seed=seed, estimators=estimators, activations=acts,
                                kde_noise_var=kde_var if est == "kde" else 0.1, n_seeds=n_seeds,
                                batch=None if batch == "full" else int(batch))  # fmt: skip
    label = f"Training {', '.join(acts)} nets x {n_seeds} seed(s), {epochs} epochs, {copy.BATCHES[batch]}"
    result = live_run(ib.information_plane, config, label=label, key="ib_run", live_chart=live)

if tab_drift.open:
    with tab_drift:
        st.markdown(copy.DRIFT)
        twin = (
            config
            if config.batch
            else dataclasses.replace(config, batch=512, epochs=min(epochs, 1000), n_seeds=max(n_seeds, 3))
        )
        label = f"Training the minibatch twin: {copy.BATCHES[str(twin.batch)]}, {twin.epochs} epochs"
        sgd = result if twin == config else live_run(ib.information_plane, twin, label=label, key="ib_twin")
        if sgd is not None:
            dd = page.compute(ib.drift_diffusion, sgd.gradients)
            caption = (
                f"Seed mean; {copy.BATCHES[str(twin.batch)]}: each epoch's batches give a mean and a std per layer."
            )
            page.show_chart(cb.gradient_chart(sgd.gradients, panel_width=width), sgd.gradients, name="gradient_snr",
                            caption=caption)  # fmt: skip
            sgd_summary = page.compute(ib.compression_summary, sgd.plane)
            full = result if twin != config else None  # the page's own full-batch run is the control
            full_summary = None if full is None else page.compute(ib.compression_summary, full.plane)
            page.notice(copy.drift_notice(dd, sgd_summary, full_summary, est=est, n_bins=n_bins, layer=layer, run=twin))
            sgd_band = page.compute(ib.seed_band, sgd.plane)
            caption = (
                f"The same nets, {copy.BATCHES[str(twin.batch)]}; compare with the first tab."
                + copy.band_caption(twin.n_seeds, twin.seed)
            )
            page.show_chart(plane(sgd_band), cb.select_estimate(sgd_band, est, n_bins), name="info_plane_minibatch",
                            caption=caption)  # fmt: skip

if tab_curve.open:  # only when shown: its solves would otherwise hold the GIL while the default run trains
    with tab_curve:
        st.subheader("The IB curve of a noisy channel (iterative algorithm)")
        p_xy = table if table is not None else page.compute(ib.noisy_channel_joint, 12, 12, noise=noise)
        curve = page.compute(ib.ib_curve, p_xy, tuple(np.geomspace(0.5, 200, 30)), n_clusters=clusters, seed=seed)
        if curve is not None:
            i_xy, h_x = page.compute(ib.mutual_information, p_xy), page.compute(ib.entropy, p_xy.sum(axis=1))
            caption = "Each point solves the self-consistent IB equations at one β, annealed upwards from β = 0.5."
            page.show_chart(cb.ib_curve_chart(curve, i_xy=i_xy, h_x=h_x), curve, name="ib_curve", caption=caption)
            top = curve.iloc[-1]
            source = "your table" if table is not None else f"X on a circle of 12 points and Y = X + noise {noise:g}"
            page.notice(
                f"For {source}, I(X;Y) = {i_xy:.3f} bits. At β = {curve.beta.iloc[0]:g} nothing is kept (I(X;T) = "
                f"{curve.i_tx.iloc[0]:.3f} bits); at β = {top.beta:.0f}, {clusters} clusters keep {top.i_ty:.3f} bits "
                f"about Y for {top.i_tx:.2f} bits about X. Each extra bit about X buys less about Y."
            )
        st.subheader("Jointly Gaussian X, Y: the exact curve (Chechik et al. 2005)")
        covs = page.compute(ib.gaussian_channel_covariances, (snr, snr / 4, snr / 16), seed=seed)
        crit = page.compute(ib.gaussian_ib_critical_betas, *covs)
        gauss = page.compute(ib.gaussian_ib_curve, *covs, tuple(np.geomspace(1.0, 60, 300)))
        kinks, g_xy = (
            page.compute(ib.gaussian_ib_curve, *covs, tuple(crit)),
            page.compute(ib.gaussian_mutual_information, *covs),
        )
        caption = "Three directions with SNR s, s/4 and s/16, mixed by a random matrix (seeded); β from 1 to 60."
        chart = cb.gaussian_ib_chart(gauss, critical=kinks, i_xy=g_xy)
        page.show_chart(chart, gauss, name="gaussian_ib", caption=caption)
        st.latex(
            r"\beta_i = \frac{1}{1-\lambda_i},\ \lambda_i \in \operatorname{eig}(\Sigma_{x|y}\Sigma_x^{-1}),\quad"
            r"\frac{dI(T;Y)}{dI(T;X)} = \frac{1}{\beta}"
        )
        page.notice(copy.gaussian_notice(crit, gauss, g_xy))


if result is not None:
    summary = page.compute(ib.compression_summary, result.plane)
    band = page.compute(ib.seed_band, result.plane)
    rep = page.compute(ib.layer_report, result.plane, estimator=est, n_bins=n_bins, layer=layer)
    setting, sat = cb.estimator_label(est, n_bins), rep.saturated
    with tab_plane:
        caption = (
            f"{setting}, at ~30 log-spaced epochs on all 4096 patterns (KDE: 1024). Numbers label the layers. Dashed: "
            f"the bound I(T;Y) ≤ min(I(X;T), H(Y)), H(Y) = {h_y:.3f} bits." + copy.band_caption(n_seeds, seed)
        )
        page.show_chart(plane(band), cb.select_estimate(band, est, n_bins), name="info_plane", caption=caption)
        page.notice(
            f"Layer {layer} ({setting}{copy.seeds_note(n_seeds)}): "
            + "; ".join(copy.story(a, r) for a, r in rep.by_activation.items())
            + (f". {sat:.0%} of tanh layer-{layer} activations end saturated (|h| > 0.99)." if sat == sat else ".")
            + copy.spread_note(cb.select_estimate(band, est, n_bins), layer=layer)
        )
        st.caption(copy.dead_units(rep, seed))
    with tab_debate:
        fits = {a: r["fit_epoch"] for a, r in rep.by_activation.items()}
        caption = "Dotted grey: the epoch at which each net reached 99 % of its best training accuracy (fitted)." + (
            "" if est == "kde" else " Choose the KDE in the sidebar to add it (it costs a longer run)."
        )
        chart = cb.estimator_chart(band, layer=layer, fit_epochs=fits, panel_width=width)
        page.show_chart(chart, band[band.layer == layer], name="estimators_by_epoch", caption=caption)
        bars = cb.after_fit_bars(summary, layer=layer)
        page.show_chart(bars, summary[summary.layer == layer], name="compression_after_fit")
        page.notice(copy.after_fit_notice(rep, layer, cb.estimator_label))
        st.markdown(copy.why_estimator(rep, layer))
page.references(copy.REFERENCES)
