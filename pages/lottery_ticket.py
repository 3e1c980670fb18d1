"""The lottery ticket hypothesis: IMP with rewinding vs re-init vs random masks; pruning at init; supermasks."""

import streamlit as st

from core.lottery_ticket import pruning, stability, supermask
from ui import controls, page, runs
from ui.charts import lottery_ticket as charts_lottery
from ui.views import lottery_ticket as copy

page.header("The lottery ticket hypothesis", copy.INTRO, copy.FORMULA)

PARTS = ["Winning tickets", "Instability", "Pruning at init", "Strong tickets"]
F_AND_C = {"lt_net": "64-300-100-10", "lt_rounds": 12, "lt_epochs": 10, "lt_rate": 20, "lt_rewind": 0}
PRESETS = {
    "Custom": {},
    "Fast schedule to 1.25% (default)": {"lt_rounds": 9, "lt_epochs": 5, "lt_rate": 40, "lt_rewind": 0},
    "Frankle & Carbin 2019 (20% per round; slower)": F_AND_C,
    "Late rewinding, step 100 (Frankle et al. 2020)": {**F_AND_C, "lt_rewind": 100},
    "Caveat: 3x the epochs (slow)": {"lt_rounds": 9, "lt_epochs": 15, "lt_rate": 40, "lt_rewind": 0},
}
with st.sidebar:
    controls.preset("Preset", PRESETS, key="lt_preset", help="Sets the winning-ticket controls below.")
    seed = controls.seed(key="lt_seed")
    n_seeds = controls.slider("Seeds (a band)", 1, 5, 3, key="lt_seeds", help="Each seed adds a run to the batch.")
    epochs = controls.select_slider("Epochs per training", [1, 2, 3, 5, 10, 15, 20, 30], 5, key="lt_epochs")
    net = controls.select("Network", ["64-300-100-10", "64-100-50-10"], "64-300-100-10", key="lt_net")
    st.subheader("Winning tickets")
    rounds = controls.slider("Pruning rounds", 1, 20, 9, key="lt_rounds")
    rate = controls.select_slider(
        "Pruned per round (%)", [10, 20, 30, 40, 50], 40, key="lt_rate", help="Hidden layers; the output loses half."
    )
    rewind = controls.select_slider("Rewind to step", [0, 20, 100], 0, key="lt_rewind", help="0 = the init.")
    st.subheader("Instability")
    ks = controls.multiselect("Copies from step k", [0, 5, 20, 60, 100], [0, 5, 20, 60], key="lt_ks")
    st.subheader("Pruning at init")
    methods = controls.multiselect(
        "Methods", charts_lottery.METHOD_ORDER, charts_lottery.METHOD_ORDER, key="lt_methods"
    )
    keeps = controls.multiselect("Weights kept (%)", [20, 10, 5, 2, 1, 0.5, 0.1], [10, 5, 2, 1, 0.1], key="lt_keep")
    st.subheader("Strong tickets")
    widths = controls.multiselect("Hidden widths", [2, 4, 8, 16, 32, 64, 128], [4, 8, 16, 32, 64], key="lt_widths")
    sm_keep = controls.select_slider("Edges kept (%)", [10, 30, 50, 70, 90], 50, key="lt_sm_keep")
    sm_epochs = controls.select_slider("Epochs (strong tickets)", [5, 10, 20, 40], 20, key="lt_sm_epochs")

part = controls.radio("Part", PARTS, PARTS[0], key="lt_part")
sizes = tuple(int(s) for s in net.split("-"))

if part == PARTS[0]:
    st.subheader("Winning tickets: iterative magnitude pruning")
    st.markdown(copy.IMP)
    cfg = pruning.LotteryConfig(
        sizes=sizes, rounds=rounds, epochs=epochs, prune_hidden=rate / 100, prune_output=rate / 200, rewind_step=rewind,
        seed=seed, n_seeds=n_seeds,
    )  # fmt: skip
    end = page.compute(pruning.remaining_fraction, cfg)
    fc_rounds = page.compute(pruning.rounds_to_reach, cfg, end, prune_hidden=0.2, prune_output=0.1)
    if end is not None and fc_rounds is not None:
        st.caption(copy.schedule(rate, rounds, end, fc_rounds))

    def live(df):
        return charts_lottery.ticket_chart(df, smallest=end)

    label = f"Training 3 variants x {rounds} rounds x {n_seeds} seed(s)"
    res = runs.live_run(pruning.lottery_ticket, cfg, label=label, key="lt_imp", live_chart=live)
    summary = None if res is None else page.compute(pruning.ticket_summary, res)
    if summary is not None:
        chart = charts_lottery.ticket_chart(res, dense_acc=summary.dense_acc, smallest=end)
        page.show_chart(chart, res, name="lottery tickets", caption="Lines: mean over seeds; band: min to max.")
        page.notice(copy.ticket_notice(summary))
        st.warning(copy.caveat(epochs), icon=":material/info:")

elif part == PARTS[1]:
    st.subheader("Instability: do two copies trained from step k end in one basin?")
    st.markdown(copy.INSTABILITY)
    cfg = stability.InstabilityConfig(
        sizes=sizes, epochs=epochs, prune_hidden=rate / 100, prune_output=rate / 200, seed=seed, n_seeds=n_seeds,
        rewind_steps=tuple(sorted(ks)),
    )  # fmt: skip
    res = runs.live_run(
        stability.instability,
        cfg,
        label="Two copies per step",
        key="lt_lmc",
        live_chart=charts_lottery.instability_chart,
    )
    summary = None if res is None else page.compute(stability.instability_summary, res)
    if summary is not None:
        page.show_chart(charts_lottery.instability_chart(res), res, name="linear mode connectivity")
        page.notice(copy.instability_notice(summary, cfg))

elif part == PARTS[2]:
    st.subheader("Pruning at initialisation: pick the mask before any training")
    st.markdown(copy.PAI)
    cfg = supermask.PruneAtInitConfig(
        sizes=sizes, epochs=epochs, seed=seed, n_seeds=n_seeds, methods=tuple(methods),
        sparsities=tuple(round(1 - k / 100, 6) for k in keeps),
    )  # fmt: skip
    res = runs.live_run(
        supermask.prune_at_init, cfg, label="Pruning at init", key="lt_pai", live_chart=charts_lottery.pai_chart
    )
    summary = None if res is None else page.compute(supermask.pai_summary, res)
    if summary is not None:
        page.show_chart(charts_lottery.pai_chart(res, dense_acc=summary.dense_acc), res, name="pruning at init")
        page.notice(copy.pai_notice(summary))
        st.markdown(copy.COLLAPSE)
        dens = page.compute(supermask.layer_densities, cfg)
        if dens is not None:
            page.show_chart(charts_lottery.layer_density_chart(dens), dens, name="layer densities")
            page.notice(copy.collapse_notice(dens))

else:
    st.subheader("Strong tickets: accuracy without training any weight")
    st.markdown(copy.STRONG)
    cfg = supermask.SupermaskRunConfig(
        epochs=sm_epochs, seed=seed, n_seeds=n_seeds, widths=tuple(sorted(widths)), keep_fraction=sm_keep / 100
    )
    res = runs.live_run(
        supermask.supermask_run, cfg, label="Edge-popup", key="lt_sm", live_chart=charts_lottery.supermask_chart
    )
    summary = None if res is None else page.compute(supermask.supermask_summary, res)
    if summary is not None:
        page.show_chart(charts_lottery.supermask_chart(res), res, name="supermask widths")
        page.notice(copy.supermask_notice(summary))

page.references(copy.REFERENCES)
