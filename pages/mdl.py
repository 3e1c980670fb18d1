"""Minimum description length: model bits + data bits, BIC/AIC/CV, refined codes, 1000 numbers, L1/L2, IB clusters."""

import streamlit as st

from core.mdl import ib_clusters as mdl_ib
from core.mdl import refined as mdl_refined
from core.mdl import two_part as mdl
from ui import controls, page
from ui.charts import mdl as charts_mdl
from ui.runs import live_run
from ui.text import mdl as copy_mdl

page.header(
    "Minimum description length",
    "Send a data set to a friend in as few bits as possible: first the model, then the data with the model's "
    "help. A model that is too simple leaves large residuals that are expensive to send; one that is too complex "
    "costs more to describe than it saves. The shortest total message picks the model. For continuous data only "
    "differences in length between models mean anything: the absolute number depends on the precision at which "
    "the numbers are sent, which is the same for every model.",
    r"L(d) = \underbrace{\tfrac{k}{2}\log_2 n}_{\text{model bits}} + "
    r"\underbrace{\tfrac{n}{2}\log_2\!\big(2\pi e\,\mathrm{RSS}_d/n\big)}_{\text{data bits}}"
    r" = \frac{\mathrm{BIC}}{2\ln 2},\qquad k = d + 1",
)

PRESETS = {
    "Custom": {},
    "Clear cubic": {"mdl_degree": 3, "mdl_noise": 0.1, "mdl_n": 200},
    "Few noisy points": {"mdl_degree": 3, "mdl_noise": 1.0, "mdl_n": 20},
    "Wiggly truth": {"mdl_degree": 8, "mdl_noise": 0.3, "mdl_n": 300, "mdl_max_degree": 15},
}
with st.sidebar:
    controls.preset("Preset", PRESETS, key="mdl_preset")
    source = controls.radio("Data", ["generator", "your CSV"], "generator", key="mdl_source")
    true_degree = controls.slider("True degree", 0, 10, 3, key="mdl_degree")
    noise = controls.select_slider("Noise sd", [0.03, 0.1, 0.3, 0.5, 1.0, 2.0], 0.3, key="mdl_noise")
    n = controls.select_slider("Points n", [10, 15, 20, 30, 45, 60, 100, 200, 300, 500, 1000], 60, key="mdl_n")
    seed = controls.seed(key="mdl_seed")
    max_degree = controls.slider("Largest degree tried", 1, 20, 12, key="mdl_max_degree")
    st.divider()
    n_exceptions = controls.slider("Exceptions among the 1000 numbers", 0, 50, 5, key="mdl_exceptions")
    prior = controls.select_slider("Prior scale s (L1/L2)", [0.1, 0.3, 1.0, 3.0, 10.0], 1.0, key="mdl_prior")
    st.divider()
    ib_noise = controls.select_slider("IB channel noise", [0.03, 0.05, 0.08, 0.12, 0.2], 0.08, key="mdl_ib_noise")
    ib_n = controls.select_slider("IB draws n", list(mdl_ib.IBCodeConfig.sweep), 1000, key="mdl_ib_n")

if source == "generator":
    data = page.compute(mdl.polynomial_data, degree=true_degree, noise=noise, n=n, seed=seed)
else:
    st.caption("Upload a CSV with numeric columns `x` and `y`; the generator controls are then ignored.")
    data = controls.upload_csv("Your x, y data (CSV)", key="mdl_csv", required=("x", "y"))
    if data is None:
        st.info("No file yet: upload one to fit your own data.", icon=":material/upload:")
        st.stop()
x, y = data["x"].to_numpy(), data["y"].to_numpy()

dl = page.compute(mdl.polynomial_description_lengths, x, y, max_degree=max_degree)
scores = None if dl is None else page.compute(mdl.selection_scores, x, y, max_degree=max_degree, seed=seed)
if scores is None:
    st.stop()
picks = scores[scores["picked"]].set_index("criterion")["degree"].to_dict()
best = dl.loc[picks["mdl"]]

st.subheader("Model bits + data bits")
st.caption(
    f"Data bits are drawn from the smallest data length of any degree ({dl['data_bits'].min():.1f} bits), so the "
    "bars show what each degree costs beyond the best possible fit; the CSV has the raw values."
)
page.show_chart(charts_mdl.code_length_bars(dl, picks["mdl"]), dl, name="mdl code lengths")
under = max(picks["mdl"] - 2, 0)
page.notice(copy_mdl.pick_notice(dl, picks["mdl"], under, max_degree, true_degree if source == "generator" else None))

st.subheader("Underfit, MDL pick, overfit")
degrees = tuple(sorted({under, picks["mdl"], max_degree}))
fits = page.compute(mdl.polynomial_fits, x, y, degrees=degrees)
if fits is not None:
    names = {under: "underfit", max_degree: "overfit", picks["mdl"]: "MDL pick"}
    fits["fit"] = [f"degree {d} ({names[d]})" for d in fits["degree"]]
    page.show_chart(charts_mdl.fits_chart(data, fits), fits, name="mdl fits")

st.subheader("MDL, BIC, AIC and cross-validation")
cols = st.columns([3, 1])
with cols[0]:
    page.show_chart(charts_mdl.criteria_chart(scores), scores, name="mdl criteria")
cols[1].dataframe(
    scores[scores["picked"]][["criterion", "degree"]].rename(columns={"degree": "picked degree"}), hide_index=True
)
page.notice(
    f"MDL and BIC pick degree {picks['mdl']} and always agree: the two-part code is BIC / (2 ln 2). AIC charges "
    f"1/ln 2 = 1.44 bits per coefficient instead of log2(n)/2 = {dl['model_bits'].iloc[0]:.2f} and picks "
    f"{picks['aic']}; 5-fold cross-validation (seed {seed}) picks {picks['cv']}."
)

st.subheader("Refined codes: the Bayes mixture and the prequential code")
sig = noise if source == "generator" else float((best["rss"] / len(x)) ** 0.5)
refined = page.compute(
    mdl_refined.refined_code_lengths, x, y, max_degree=max_degree, noise=sig, prior_scale=prior, seed=seed
)
if refined is not None:
    chart = charts_mdl.criteria_chart(refined.rename(columns={"code": "criterion"}))
    page.show_chart(chart, refined, name="mdl refined codes", caption=copy_mdl.REFINED_CAPTION)
    page.notice(copy_mdl.refined_notice(refined, sig, prior))
    if source == "generator" and controls.toggle("Count the picks over 20 data sets", False, key="mdl_seeds"):
        counts = page.compute(mdl_refined.picks_over_seeds, degree=true_degree, noise=noise, n=n,
                              max_degree=max_degree, seeds=20, prior_scale=prior)  # fmt: skip
        if counts is not None:
            st.dataframe(copy_mdl.picks_table(counts), hide_index=True)
            page.notice(copy_mdl.picks_notice(counts, true_degree))

st.subheader("The 1000 numbers")
values = page.compute(mdl.rule_with_exceptions, n_exceptions=n_exceptions, seed=seed)
schemes = page.compute(mdl.thousand_numbers_code, values)
if schemes is not None:
    st.markdown(copy_mdl.THOUSAND_NUMBERS)
    page.show_chart(charts_mdl.scheme_bars(schemes), schemes, name="mdl thousand numbers")
    page.notice(copy_mdl.thousand_numbers_notice(schemes, n_exceptions))

st.subheader("L2 and L1 penalties are code lengths for the weights")
if source == "generator":  # a small fresh sample, barely larger than the number of weights, so the prior matters
    pen_data = page.compute(mdl.polynomial_data, degree=true_degree, noise=noise, n=max_degree + 3, seed=seed)
    pen_x, pen_y, sigma = pen_data["x"].to_numpy(), pen_data["y"].to_numpy(), noise
else:
    pen_x, pen_y, sigma = x, y, None
pen = page.compute(mdl.penalty_code_lengths, pen_x, pen_y, degree=max_degree, noise=sigma, prior_scale=prior)
if pen is not None:
    st.markdown(copy_mdl.penalty_text(max_degree, len(pen_x)))
    page.show_chart(charts_mdl.penalty_chart(pen), pen, name="mdl penalties")
    page.notice(copy_mdl.penalty_notice(pen, prior, estimated=source != "generator"))

st.subheader("MDL and the information bottleneck: how many clusters?")
st.markdown(copy_mdl.IB_LINK)
ib_config = mdl_ib.IBCodeConfig(noise=ib_noise, n=ib_n, seed=seed)
ib = live_run(mdl_ib.ib_cluster_code, ib_config, label="Clustering draws from the IB channel", key="mdl_ib",
              live_chart=charts_mdl.ib_live)  # fmt: skip
if ib is not None:
    at_n = ib.curve[ib.curve["n"] == ib_n]
    cols = st.columns(2)
    with cols[0]:
        page.show_chart(charts_mdl.ib_code_bars(at_n), at_n, name="mdl ib code lengths")
    with cols[1]:
        page.show_chart(charts_mdl.ib_picks_chart(ib.picks, ib_n), ib.picks, name="mdl ib picks")
    pick = int(at_n.loc[at_n["picked"], "clusters"].iloc[0])
    caption = "The hard IB clustering for each |T| (neighbouring x's share a cluster); the MDL pick outlined."
    page.show_chart(charts_mdl.ib_clusters_chart(ib.labels, pick), ib.labels, name="mdl ib clusters", caption=caption)
    page.notice(copy_mdl.ib_notice(ib, ib_n))

page.references(
    [
        "J. Rissanen (1978). Modeling by shortest data description. *Automatica* 14(5).",
        "P. Grünwald (2007). *The Minimum Description Length Principle*. MIT Press.",
        "G. Schwarz (1978). Estimating the dimension of a model. *Annals of Statistics* 6(2).",
        "G. Hinton, D. van Camp (1993). Keeping neural networks simple by minimizing the description length of "
        "the weights. *COLT*.",
    ]
)
