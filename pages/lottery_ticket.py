"""The lottery ticket hypothesis: IMP with rewinding vs re-init vs random masks; pruning at init; supermasks."""

import streamlit as st

from core import pruning, supermask
from ui import charts_lottery, controls, page, runs

page.header(
    "The lottery ticket hypothesis",
    "A dense network hides a small subnetwork that, trained from the *same* starting weights, learns as well as "
    "the whole net. Iterative magnitude pruning finds it: train, cut the smallest weights of every layer, rewind "
    "the survivors to their initial values, repeat (here a 64-300-100-10 net on scikit-learn's 8x8 digits). The "
    "mask alone is not the ticket: with fresh random weights, or a random mask of the same size, accuracy falls off.",
    r"m^{(r)}_\ell = \mathrm{top}_{(1-p_\ell)^r}\big|\theta^{(r-1)}_{T,\ell}\big|,\qquad "
    r"\theta^{(r)}_{\mathrm{start}} = m^{(r)} \odot \theta_k,\qquad p_{\mathrm{hidden}} = 20\%,\ "
    r"p_{\mathrm{out}} = 10\%",
)

PARTS = ["Winning tickets", "Pruning at init", "Strong tickets"]
F_AND_C = {"lt_net": "64-300-100-10", "lt_rounds": 12, "lt_epochs": 10, "lt_rate": 20, "lt_rewind": 0}
PRESETS = {
    "Custom": {},
    "Frankle & Carbin 2019": F_AND_C,
    "Late rewinding, step 100 (Frankle et al. 2020)": {**F_AND_C, "lt_rewind": 100},
    "Caveat: 3x the epochs (~30 s)": {**F_AND_C, "lt_epochs": 30},
}
pct = "{:.1%}".format
with st.sidebar:
    controls.preset("Preset", PRESETS, key="lt_preset", help="Sets the winning-ticket controls below.")
    seed = controls.seed(key="lt_seed")
    n_seeds = controls.slider("Seeds (a band)", 1, 3, 1, key="lt_seeds", help="Each seed adds a full run.")
    epochs = controls.select_slider("Epochs per training", [1, 2, 3, 5, 10, 20, 30], 10, key="lt_epochs")
    net = controls.select("Network", ["64-300-100-10", "64-100-50-10"], "64-300-100-10", key="lt_net")
    st.subheader("Winning tickets")
    rounds = controls.slider("Pruning rounds", 1, 20, 12, key="lt_rounds")
    rate = controls.select_slider(
        "Pruned per round (%)", [10, 20, 30, 40, 50], 20, key="lt_rate", help="Hidden layers; the output loses half."
    )
    rewind = controls.select_slider("Rewind to step", [0, 20, 100], 0, key="lt_rewind", help="0 = the init.")
    st.subheader("Pruning at init")
    methods = controls.multiselect(
        "Methods", charts_lottery.METHOD_ORDER, charts_lottery.METHOD_ORDER, key="lt_methods"
    )
    keeps = controls.multiselect("Weights kept (%)", [20, 10, 5, 2, 1, 0.5], [10, 5, 2, 1], key="lt_keep")
    st.subheader("Strong tickets")
    widths = controls.multiselect("Hidden widths", [2, 4, 8, 16, 32, 64, 128], [4, 8, 16, 32, 64], key="lt_widths")
    sm_keep = controls.select_slider("Edges kept (%)", [10, 30, 50, 70, 90], 50, key="lt_sm_keep")

part = controls.radio("Part", PARTS, PARTS[0], key="lt_part")
sizes = tuple(int(s) for s in net.split("-"))

if part == PARTS[0]:
    st.subheader("Winning tickets: iterative magnitude pruning")
    st.markdown(
        "Each round prunes the trained **winning ticket** and trains three nets with the new sparsity: the ticket "
        "rewound to its starting weights, **the same mask with fresh random weights**, and **a random mask** "
        "with the same count per layer (fresh weights scaled by 1/√density). The chart grows as rounds finish."
    )
    cfg = pruning.LotteryConfig(
        sizes=sizes, rounds=rounds, epochs=epochs, prune_hidden=rate / 100, prune_output=rate / 200, rewind_step=rewind,
        seed=seed, n_seeds=n_seeds,
    )  # fmt: skip
    label = f"Training 3 variants x {rounds} rounds x {n_seeds} seed(s)"
    end = page.compute(pruning.remaining_fraction, cfg)

    def live(df):
        return charts_lottery.ticket_chart(df, smallest=end)

    res = runs.live_run(pruning.lottery_ticket, cfg, label=label, key="lt_imp", live_chart=live)
    summary = None if res is None else page.compute(pruning.ticket_summary, res)
    if summary is not None:
        chart = charts_lottery.ticket_chart(res, dense_acc=summary.dense_acc, smallest=end)
        page.show_chart(chart, res, name="lottery tickets", caption="Lines: mean over seeds; band: min to max.")
        last = summary.last_acc
        fall = (
            f"From round {summary.falloff_round} ({pct(summary.falloff_fraction)} of the weights left) on, the "
            f"re-initialised mask stays at least 1 point behind the ticket ({pct(summary.reinit_at_falloff)} vs "
            f"{pct(summary.rewind_at_falloff)})."
            if summary.falloff_round is not None
            else "The re-initialised mask never stays 1 point behind the ticket here: prune further, or see how "
            "longer training lets fresh weights catch up."
        )
        page.notice(
            f"Dense net: {pct(summary.dense_acc)}. {fall} The ticket stays within 1 point of the dense net down "
            f"to {pct(summary.holds_fraction)} of the weights. At {pct(summary.last_fraction)}: ticket "
            f"{pct(last['rewind'])}, re-init {pct(last['reinit'])}, random mask {pct(last['random_prune'])}."
        )
        st.warning(
            "**Caveat.** In a short budget much of the ticket's lead over re-initialisation is training *speed*: "
            f"sparse nets with fresh weights learn more slowly. This run used {epochs} epochs per training; the "
            "'3x the epochs' preset (30) shows how much of the gap remains.",
            icon=":material/info:",
        )

elif part == PARTS[1]:
    st.subheader("Pruning at initialisation: pick the mask before any training")
    st.markdown(
        "Score every weight of the untrained net once, keep the top fraction over all layers and train: **SNIP** "
        "keeps large |gradient x weight|, **GraSP** keeps the weights whose removal would shrink the gradient "
        "norm most (score w ⊙ Hg; Wang et al. remove the top of −w ⊙ Hg), **magnitude** keeps large |w|, "
        "**random** keeps the same fraction in every layer. Every sparse net starts at the dense net's signal "
        "scale (survivors scaled by 1/√density of their layer)."
    )
    cfg = pruning.LotteryConfig(sizes=sizes, epochs=epochs, seed=seed, n_seeds=n_seeds)
    job = {"config": cfg, "method": tuple(methods), "sparsities": tuple(round(1 - k / 100, 6) for k in keeps)}
    res = runs.live_run(
        supermask.prune_at_init, job, label="Pruning at init", key="lt_pai", live_chart=charts_lottery.pai_chart
    )
    summary = None if res is None else page.compute(supermask.pai_summary, res)
    if summary is not None:
        page.show_chart(charts_lottery.pai_chart(res, dense_acc=summary["dense_acc"]), res, name="pruning at init")
        at = ", ".join(f"{m} {pct(a)}" for m, a in summary["at_sparsest"].items())
        collapsed = "".join(f" **{m}** empties a whole layer at {pct(k)} kept or fewer." for m, k in
                            summary["collapsed"].items())  # fmt: skip
        page.notice(
            f"Keeping {pct(summary['sparsest'])} of the weights: {at} (dense {pct(summary['dense_acc'])})."
            f"{collapsed} The winning tickets of the first part are found by training; these masks are not."
        )

else:
    st.subheader("Strong tickets: accuracy without training any weight")
    st.markdown(
        "Edge-popup freezes random weights of ±√(2/fan-in) and learns only a score per edge; the forward pass "
        "uses the top-scoring edges of every layer. No weight ever changes, yet a wide enough random net "
        f"contains a subnetwork that classifies digits. Baseline: the same nets with trained weights. Both train "
        f"for twice the epochs per training ({2 * epochs}): scores move slowly."
    )
    cfg = supermask.SupermaskConfig(epochs=2 * epochs, seed=seed, n_seeds=n_seeds)
    job = {"config": cfg, "widths": tuple(sorted(widths)), "keep_fraction": sm_keep / 100}
    res = runs.live_run(
        supermask.supermask_run, job, label="Edge-popup", key="lt_sm", live_chart=charts_lottery.supermask_chart
    )
    summary = None if res is None else page.compute(supermask.supermask_summary, res)
    if summary is not None:
        page.show_chart(charts_lottery.supermask_chart(res), res, name="supermask widths")
        acc, wide, narrow, match = summary["acc"], summary["widest"], summary["narrowest"], summary["match_width"]
        lines = [
            f"At width {wide} the supermask reaches {pct(acc['supermask'][wide])} with every weight frozen "
            f"(trained weights: {pct(acc['trained'][wide])}).",
            f"At width {narrow}: {pct(acc['supermask'][narrow])} vs {pct(acc['trained'][narrow])}." * (narrow < wide),
            f"From width {match} on it stays within 2 points of training: wider random nets hide better subnetworks."
            if match is not None
            else "It never comes within 2 points of training here; add wider nets.",
        ]
        page.notice(" ".join(line for line in lines if line))

page.references(
    [
        "J. Frankle, M. Carbin (2019). The lottery ticket hypothesis: finding sparse, trainable networks. *ICLR*.",
        "J. Frankle et al. (2020). Linear mode connectivity and the lottery ticket hypothesis. *ICML* (rewinding).",
        "N. Lee et al. (2019). SNIP: single-shot network pruning based on connection sensitivity. *ICLR*.",
        "C. Wang et al. (2020). Picking winning tickets before training by preserving gradient flow. *ICLR*.",
        "J. Frankle et al. (2021). Pruning neural networks at initialization: why are we missing the mark? *ICLR*.",
        "H. Zhou et al. (2019). Deconstructing lottery tickets: zeros, signs, and the supermask. *NeurIPS*.",
        "V. Ramanujan et al. (2020). What's hidden in a randomly weighted neural network? *CVPR* (edge-popup).",
    ]
)
