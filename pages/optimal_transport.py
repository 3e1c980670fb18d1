"""Optimal transport: KL and JS fail on disjoint supports, the Wasserstein distance keeps measuring."""

from functools import partial

import numpy as np
import streamlit as st

from core.data import POINT_CLOUD_SHAPES, point_cloud
from core.optimal_transport.distances import (
    KINDS,
    METRICS,
    cdf_comparison,
    divergences_vs_shift,
    exact_ot,
    plan_segments,
    project,
)
from core.optimal_transport.gradients import generator_gradients
from ui import controls
from ui.charts import optimal_transport as charts
from ui.page import compute, header, notice, references, show_chart
from ui.views import optimal_transport as views

SHIFTS = np.linspace(-3.0, 3.0, 121)  # the sweep drawn in the charts
PRESETS = {
    "Custom": {},
    "WGAN Example 1 (Diracs at 0 and θ)": {"ot_kind": "dirac", "ot_shift": 1.0},
    "Disjoint uniforms": {"ot_kind": "uniform", "ot_width": 0.5, "ot_shift": 2.0},
    "Overlapping Gaussians": {"ot_kind": "gaussian", "ot_width": 1.0, "ot_shift": 1.0},
}
BLUR = 0.05  # kernel width h that makes JS differentiable for the gradient chart
XY = ["x", "y"]  # columns of an uploaded point cloud

header(
    "Optimal transport",
    "Think of two distributions as two piles of sand. KL and Jensen-Shannon compare the heights of the piles point "
    "by point, so once the piles do not overlap they stop seeing how far apart they are: KL is infinite, JS is stuck "
    "at 1 bit. The Wasserstein distance is the cheapest way to *move* one pile onto the other, so it grows with the "
    "distance, and a generator trained on it is always pushed towards the data (the WGAN argument).",
    r"W_p(\mu, \nu) = \Big(\min_{P \ge 0,\ P\mathbf{1} = a,\ P^\top\mathbf{1} = b}\ \sum_{ij} P_{ij}\,"
    r"\|x_i - y_j\|^p\Big)^{1/p}",
)

with st.sidebar:
    st.subheader("Disjoint piles")
    controls.preset("Preset", PRESETS, key="ot_preset")
    kind = controls.radio("Distributions", KINDS, "uniform", key="ot_kind", help="Diracs, U[0, w] or N(0, w²).")
    width = controls.slider(
        "Width w of P", 0.1, 2.0, 0.5, step=0.1, key="ot_width", help="Uniform: U[0, w]; Gaussian: std w."
    )
    shift = controls.slider("Shift θ of Q", -3.0, 3.0, 2.0, step=0.05, key="ot_shift")
    st.subheader("Move the sand")
    src_shape = controls.select("Source shape", POINT_CLOUD_SHAPES, "gaussian", key="ot_source")
    tgt_shape = controls.select("Target shape", POINT_CLOUD_SHAPES, "ring", key="ot_target")
    n = controls.slider("Source points", 10, 500, 60, step=10, key="ot_n")
    m = controls.slider("Target points", 10, 500, 60, step=10, key="ot_m")
    offset = controls.slider("Target offset along x", 0.0, 4.0, 1.5, step=0.25, key="ot_offset")
    metric = controls.radio("Ground cost", METRICS, "euclidean", key="ot_metric", help="|x - y|: W1; |x - y|²: W2.")
    angle = controls.slider("1-D projection direction (°)", 0, 180, 0, step=15, key="ot_angle")
    seed = controls.seed(key="ot_seed")

tabs = st.tabs(["Disjoint piles", "Move the sand", "Where it is used"], key="ot_tab", bind="query-params")

with tabs[0]:
    if tabs[0].open is not False:
        st.markdown(
            f"P sits at 0 and Q is the same distribution shifted by θ ({views.kind_label(kind, width)}). "
            "KL and JS are in bits, W1 in units of x."
        )
        size = {"width": width, "sigma": width}
        div = compute(divergences_vs_shift, SHIFTS, kind=kind, **size)
        grads = compute(generator_gradients, SHIFTS, kind=kind, bandwidth=BLUR, **size)
        here = compute(divergences_vs_shift, (shift,), kind=kind, **size)
        push = compute(generator_gradients, (shift,), kind=kind, bandwidth=BLUR, **size)
        if div is not None and grads is not None:
            show_chart(charts.divergence_chart(div, shift=shift), div, name="divergences vs shift")
            st.markdown("**The gradient a generator gets.** The generator outputs θ + z; how does each loss move θ?")
            show_chart(
                charts.gradient_chart(grads, shift=shift),
                grads,
                name="generator gradients",
                caption=views.gradient_caption(kind, width, BLUR),
            )
        if here is not None and push is not None:
            kl, js, w1 = here.iloc[0][["kl", "js", "w1"]]
            g_js, g_w1 = push["gradient"]
            kl_text = "∞" if np.isinf(kl) else f"{kl:.3f} bits"
            flat = abs(g_js) < 1e-6 * max(abs(g_w1), 1e-12)
            verdict = "JS gives the generator nothing to follow" if flat else "JS still has a slope here"
            verdict = "θ = 0 is the minimum of both" if w1 == 0 else verdict
            notice(
                f"At θ = {shift:g}: KL = {kl_text}, JS = {js:.3f} bits, W1 = {w1:.3f}. Gradient for the generator: "
                f"from JS {g_js:.2g}, from W1 {g_w1:+.3f}. {verdict}; W1's slope stays ±1 at every distance. "
                + (views.saturation(div) if div is not None else "")
            )

with tabs[1]:
    if tabs[1].open is not False:
        with st.expander("Use your own points (two CSV files with columns x, y; at most 500 rows each)"):
            up = st.columns(2)
            parse = partial(controls.parse_csv, required=XY, min_rows=2, max_rows=500)
            with up[0]:
                own_src = controls.upload_csv("Source points", key="ot_upload_source", parser=parse)
            with up[1]:
                own_tgt = controls.upload_csv("Target points", key="ot_upload_target", parser=parse)
        centre = (offset, 0.0)
        x = own_src[XY].to_numpy() if own_src is not None else compute(point_cloud, src_shape, n, seed=seed)
        y = (
            own_tgt[XY].to_numpy()
            if own_tgt is not None
            else compute(point_cloud, tgt_shape, m, seed=seed + 1, center=centre)
        )
        result = compute(exact_ot, x, y, metric=metric) if x is not None and y is not None else None
        if result is not None:
            segments = compute(plan_segments, x, y, result.plan)
            st.markdown(views.plan_intro(len(x), len(y), segments))
            left, right = st.columns([3, 1])
            with left:
                show_chart(charts.plan_chart(x, y, segments), segments, name="transport plan", square=True)
            right.metric(f"{result.distance_name} distance", f"{result.distance:.4f}", help="Exact, by ot.emd.")
            right.metric(
                "Segments carrying mass", f"{len(segments)}", help=f"at most n + m - 1 = {len(x) + len(y) - 1}"
            )
            right.metric("Source points that split", f"{views.split_points(segments)}", help="Mass on 2+ segments.")
            st.markdown(
                f"**One dimension.** Both clouds projected onto the direction at {angle}°: W1 is the area between "
                "the CDFs."
            )
            comp = compute(cdf_comparison, compute(project, x, angle=angle), compute(project, y, angle=angle))
            if comp is not None:
                show_chart(charts.histogram_chart(comp.hist), comp.hist, name="projected histograms")
                show_chart(charts.cdf_chart(comp.cdf), comp.cdf, name="projected cdfs", caption="Shaded: |F - G|.")
                notice(
                    f"The plan moves {len(x)} points onto {len(y)} along {len(segments)} segments: "
                    f"{result.distance_name} = {result.distance:.3f}. In 1-D at {angle}°, W1 = {comp.w1:.3f} is the "
                    f"shaded area between the CDFs; a projection never lengthens a move, so it is at most the 2-D "
                    f"{result.distance_name}."
                )

with tabs[2]:
    if tabs[2].open is not False:
        st.markdown(views.USES_INTRO)
        part = controls.radio("Show", views.USES, views.USES[0], key="ot_use", horizontal=True)
        if part == views.USES[0]:
            views.show_domain_adaptation(seed)
        elif part == views.USES[1]:
            views.show_fairness(seed)
        else:
            x = compute(point_cloud, src_shape, n, seed=seed)
            y = compute(point_cloud, tgt_shape, m, seed=seed + 1, center=(offset, 0.0))
            views.show_interpolation(x, y)

references(views.REFERENCES)
