"""Sinkhorn: blur the transport plan by eps and optimal transport becomes fast, smooth and differentiable."""

from functools import partial

import streamlit as st

from core.data import POINT_CLOUD_SHAPES
from core.sinkhorn import experiments as sx
from core.sinkhorn import flows as fl
from core.sinkhorn import scale as sc
from core.sinkhorn.solver import epsilon_sweep
from ui import controls
from ui.charts import sinkhorn as charts
from ui.page import compute, header, notice, references, show_chart
from ui.runs import live_run
from ui.views import sinkhorn as views

EPS = (1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0)  # the eps sweep, and the choices of the eps controls
ITERS = (1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000)
SIZES = sx.TimingConfig().sizes  # up to n = 2000, where the LP takes ~2x longer than Sinkhorn
FIT_FROM = 400  # exponents fitted over n >= 400, where one-time overheads no longer dominate
MAX_ITER = 50_000  # far above the ~1,500-3,000 iterations the smallest eps needs on these histograms
fmt = "{:g}".format

header(
    "The Sinkhorn shortcut",
    "Exact optimal transport is a linear program: up to ~n³ log n operations for n points. Cuturi's shortcut adds a "
    "little entropy, which blurs the plan by ε: the optimal plan becomes the kernel exp(−M/ε) with its rows and "
    "columns rescaled, found by alternately normalising rows and columns. Each round is a matrix-vector product, the "
    "result is differentiable, and the price, a bias of at most ε log n, is yours to set.",
    r"P_\varepsilon = \mathrm{diag}(u)\,e^{-M/\varepsilon}\,\mathrm{diag}(v),\quad v \leftarrow b \oslash K^\top u,"
    r"\ \ u \leftarrow a \oslash K v;\qquad 0 \le \langle P_\varepsilon, M\rangle - \mathrm{OT} \le \varepsilon\log n",
)

with st.sidebar:
    st.subheader("Histograms")
    bins = controls.select_slider("Bins n", (20, 40, 60, 80, 100, 150), 60, key="sk_n")
    eps = controls.select_slider("Blur ε (fraction of the largest cost)", EPS, 0.01, key="sk_eps", format_func=fmt)
    k = controls.select_slider("Iterations k", ITERS, 5, key="sk_k", help="One iteration: columns, then rows.")
    with st.expander("Your own histograms"):
        parse = partial(controls.parse_csv, required=["a", "b"], min_rows=2, max_rows=200)
        own = controls.upload_csv("CSV with columns a, b (and x), 2-200 rows", key="sk_upload", parser=parse)
    st.subheader("Cost as n grows")
    n_max = controls.select_slider("Largest n", SIZES[2:], SIZES[-1], key="sk_nmax")
    eps_n = controls.select_slider("ε for the timing", EPS[2:7], 0.03, key="sk_eps_n", format_func=fmt)
    st.subheader("Past the LP")
    big = controls.select_slider("Largest n for Sinkhorn", (4000, 6000, 8000, 10_000), 8000, key="sk_big")
    lp_max = controls.select_slider("Largest n for the LP", (1000, 2000, 3000, 4000), 2000, key="sk_lpmax")
    st.subheader("Gradient flow")
    source = controls.select("Source cloud", POINT_CLOUD_SHAPES, "gaussian", key="sk_source")
    target = controls.select("Target cloud", POINT_CLOUD_SHAPES, "moons", key="sk_target")
    eps_f = controls.select_slider("Blur ε of the losses", (0.03, 0.1, 0.3, 1.0), 0.3, key="sk_eps_f", format_func=fmt)
    kernel = controls.select("MMD kernel", fl.KERNELS, "gaussian", key="sk_kernel", help="Gaussian: width √ε.")
    steps = controls.select_slider("Steps", (10, 20, 40, 60, 100, 150), 60, key="sk_steps")
    seed = controls.seed(key="sk_seed")

if own is not None:
    h = compute(sx.histograms, own["a"].to_numpy(), own["b"].to_numpy(), x=own["x"].to_numpy() if "x" in own else None)
else:
    h = compute(sx.example_histograms, bins)
TABS = ["Normalisation", "The ε trade-off", "Accuracy vs time", "Cost as n grows", "Past the LP", "Differentiable"]
tabs = st.tabs(TABS, key="sk_tab", bind="query-params")

with tabs[0]:
    show = tabs[0].open is not False and h is not None
    one = compute(epsilon_sweep, h.a, h.b, h.M, epsilons=(eps,), max_iter=MAX_ITER) if show else None
    if one is not None:
        st.markdown(
            f"Two histograms on {len(h.x)} bins, cost (x − y)² (largest cost 1). Left: the plan after k rounds of "
            "rescaling from the blurred kernel; right: the exact plan of the linear program."
        )
        view, row = compute(sx.normalisation_view, h, eps=eps, k=k), one.iloc[0]
        if view is not None:
            show_chart(charts.plan_heatmaps(view.plans), view.plans, name="plans")
            show_chart(charts.marginals_chart(view.marginals), view.marginals, name="marginals")
            notice(views.normalisation_notice(view, row, eps, k))

with tabs[1]:
    show = tabs[1].open is not False and h is not None
    sweep = compute(epsilon_sweep, h.a, h.b, h.M, epsilons=EPS, max_iter=MAX_ITER) if show else None
    if sweep is not None:
        st.markdown("The same histograms, solved at every ε from 1 down to 10⁻⁴ (times the largest cost).")
        show_chart(charts.gap_chart(sweep, eps=eps), sweep, name="epsilon sweep")
        left, right = st.columns(2)
        with left:
            st.altair_chart(charts.effort_chart(sweep, eps=eps, y="iterations"), width="stretch")
        with right:
            st.altair_chart(charts.effort_chart(sweep, eps=eps, y="seconds"), width="stretch")
        notice(views.tradeoff_notice(sweep, eps))

with tabs[2]:
    if tabs[2].open is not False:
        st.markdown(
            f"The price of speed in one picture: two moons against a ring, n = {sx.FrontierConfig().n} points each, "
            "solved at several ε; each point is the median of 3 timings and its gap to the exact cost."
        )
        front = live_run(sx.frontier, sx.FrontierConfig(seed=seed), label="Timing the frontier", key="sk_frontier")
        if front is not None:
            show_chart(charts.frontier_chart(front), front, name="accuracy vs time")
            notice(views.frontier_notice(front))

with tabs[3]:
    if tabs[3].open is not False:
        st.markdown(
            "Two moons against a ring, n points each, cost divided by its maximum, timed live on this machine (wall "
            "clock, shared with other users), then cached. Sinkhorn costs iterations × n², and the iterations grow "
            "as ε shrinks: move ε to see where the curves cross."
        )
        config = sx.TimingConfig(sizes=tuple(s for s in SIZES if s <= n_max), eps=eps_n, seed=seed)
        timings = live_run(
            sx.timing_vs_n, config, label="Timing both solvers", key="sk_timing", live_chart=charts.timing_chart
        )
        if timings is not None:
            show_chart(charts.timing_chart(timings), timings, name="time vs n", caption="Bars: fastest to slowest run.")
            slope = compute(sx.growth_exponents, timings, min_n=FIT_FROM)
            notice(views.timing_notice(timings, slope, compute(sx.crossover, timings), eps_n, FIT_FROM))

with tabs[4]:
    if tabs[4].open is not False:
        sizes = tuple(sorted({*(s for s in (500, 1000, 2000, 4000, 8000) if s < big), big, lp_max}))
        cfg = sc.ScaleConfig(sizes=sizes, lp_max=lp_max, seed=seed)
        st.markdown(
            f"The same moons and ring at n up to {big:,}: Sinkhorn (ε = {cfg.eps:g}) on POT's torch backend in "
            f"{cfg.dtype}, the exact LP (float64) only up to n = {lp_max:,}, as it grows about as n³. Both hold a "
            "dense n × n cost matrix and plan; one run each, wall clock on a shared machine."
        )
        scale = live_run(
            sc.scale_run, cfg, label="Solving at scale", key="sk_scale", live_chart=charts.scale_live_chart
        )
        if scale is not None:
            show_chart(charts.scale_charts(scale), scale, name="past the LP")
            notice(views.scale_notice(scale, compute(sc.lp_exponent, scale), cfg.eps))

with tabs[5]:
    if tabs[5].open is not False:
        st.markdown(
            "One cloud, one target, three losses (Feydy et al.'s comparison): entropic OT_ε, the Sinkhorn divergence "
            "S_ε = OT_ε(α, β) − ½OT_ε(α, α) − ½OT_ε(β, β), and MMD. Each step moves every point down its loss's "
            "gradient (plans from POT on torch tensors, gradients by autograd); the exact W2 is the common yardstick."
        )
        config = fl.LossFlowConfig(source=source, target=target, eps=eps_f, kernel=kernel, steps=steps, seed=seed)
        label = f"Flowing 3 clouds for {steps} steps"
        flow = live_run(fl.loss_flows, config, label=label, key="sk_flow", live_chart=charts.flow_live_chart)
        if flow is not None:
            show_chart(charts.flow_snapshots(flow.positions, flow.target), flow.positions, name="flow positions")
            show_chart(charts.flow_curves(flow.history), flow.history, name="flow losses")
            notice(views.flow_notice(flow))

references(views.REFERENCES)
