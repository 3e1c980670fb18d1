"""Copy and small view helpers of the Optimal transport page (no numerics: counts and sentences from results)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

REFERENCES = [
    "M. Arjovsky, S. Chintala, L. Bottou (2017). Wasserstein GAN. ICML (Example 1: Diracs at 0 and θ).",
    "G. Peyré, M. Cuturi (2019). Computational Optimal Transport. Foundations and Trends in ML 11(5-6).",
    "C. Villani (2009). Optimal Transport: Old and New. Springer. R. Flamary et al. (2021). POT. JMLR 22(78).",
    "I. Gulrajani et al. (2017). Improved Training of Wasserstein GANs. NeurIPS.",
    "N. Courty, R. Flamary, D. Tuia, A. Rakotomamonjy (2017). Optimal Transport for Domain Adaptation. IEEE TPAMI. "
    "B. B. Damodaran et al. (2018). DeepJDOT. ECCV.",
    "P. Gordaliza, E. del Barrio, F. Gamboa, J.-M. Loubes (2019). Obtaining Fairness using Optimal Transport "
    "Theory. ICML. E. Chzhen et al. (2020). Fair Regression with Wasserstein Barycenters. NeurIPS.",
    "R. J. McCann (1997). A Convexity Principle for Interacting Gases. Advances in Mathematics 128(1).",
    "G. Schiebinger et al. (2019). Optimal-Transport Analysis of Single-Cell Gene Expression Identifies "
    "Developmental Trajectories in Reprogramming. Cell 176(4). P. Demetci et al. (2022). SCOT. J. Comput. Biol.",
]


def kind_label(kind: str, width: float) -> str:
    """How P is described on the page."""
    return {"dirac": "Diracs", "uniform": f"uniforms U[0, {width:g}]", "gaussian": f"Gaussians N(0, {width:g}²)"}[kind]


def gradient_caption(kind: str, width: float, blur: float) -> str:
    """Why JS is blurred for the gradient chart, in the words that fit the chosen pair."""
    raw = {
        "dirac": "the raw JS of two Diracs is a step function: 0 bits at θ = 0, 1 bit everywhere else",
        "uniform": f"the raw JS of the uniforms is min(1, |θ| / {width:g}) bits: linear, then flat at 1 bit once "
        f"the supports are disjoint (|θ| ≥ {width:g})",
        "gaussian": "the Gaussians' JS is smooth already; the blur only widens them a little",
    }[kind]
    return (
        f"Computed by torch autograd. W1 from sorted samples; JS between the two densities blurred by a Gaussian "
        f"of width h = {blur} ({raw})."
    )


def saturation(div: pd.DataFrame) -> str:
    """Where JS reaches 1 bit in the sweep, and how far W1 has grown by the end of it."""
    full = div[(div["js"] >= 0.999) & (div["shift"] > 0)]
    if full.empty:
        return f"Over this sweep JS stays below 1 bit (at most {div['js'].max():.3f})."
    first, last = full.iloc[0], div.iloc[-1]
    return (
        f"JS reaches 1 bit at θ = {first['shift']:.2f} (W1 = {first['w1']:.2f}) and stays there, while W1 keeps "
        f"growing to {last['w1']:.2f} at θ = {last['shift']:.2f}."
    )


def split_points(segments: pd.DataFrame) -> int:
    """Source points whose mass leaves along more than one segment."""
    return int((segments["source"].value_counts() > 1).sum())


def plan_intro(n: int, m: int, segments: pd.DataFrame) -> str:
    """What the plan chart shows; the thickness claim only when the masses differ."""
    if len(segments) and float(segments["share"].min()) > 1 - 1e-9:
        how = (
            f"Here every segment carries the same mass 1/{n}: with n = m and equal weights the optimal plan is a "
            "one-to-one matching (a permutation), so no point splits its mass."
        )
    else:
        how = (
            f"Here {split_points(segments)} of the {n} source points split their mass between several targets; "
            "thicker, darker segments carry more mass."
        )
    return (
        f"Each source point carries mass 1/{n}, each target point 1/{m}. The exact plan (POT's network simplex) "
        f"says how much to move along each segment, drawn on equal axes. {how}"
    )


USES = ("Domain adaptation", "Fairness", "Displacement interpolation")
USES_INTRO = (
    "Three uses, computed live: train on one domain and transport it onto another; repair a score so it no longer "
    "depends on the group; move mass instead of fading it. Other uses: WGAN critics (Arjovsky et al. 2017), "
    "single-cell trajectories (Waddington-OT, Schiebinger et al. 2019)."
)


def show_domain_adaptation(seed: int) -> None:
    """Two moons, a rotated target, a classifier before and after POT's DA transports."""
    from core.optimal_transport.uses import DA_METHODS, DAConfig, domain_adaptation
    from ui import controls
    from ui.charts import optimal_transport as charts
    from ui.page import notice, show_chart
    from ui.runs import live_run

    angle = controls.slider("Rotation of the target (°)", -90, 90, 50, step=5, key="ot_da_angle")
    st.markdown(
        "Source: labelled two moons. Target: the same shape rotated, labels hidden from the transports. An RBF SVM "
        "trained on the source is scored on the target, then retrained on the source mapped onto the target by "
        "each of POT's `ot.da` transports (barycentric mapping)."
    )
    res = live_run(domain_adaptation, DAConfig(angle=float(angle), seed=seed), label="Adapting", key="ot_da")
    if res is None:
        return
    show_chart(charts.accuracy_chart(res.accuracy), res.accuracy, name="domain adaptation accuracy")
    show_chart(charts.da_chart(res.points, list(DA_METHODS)), res.points, name="domain adaptation points")
    acc = res.accuracy.set_index("method")["target_accuracy"]
    best = acc.drop("no adaptation").idxmax()
    notice(
        f"Rotated by {angle}°, the source classifier scores {acc['no adaptation']:.1%} on the target; trained on "
        f"the mapped source it scores {acc[DA_METHODS[0]]:.1%} (exact), {acc[DA_METHODS[1]]:.1%} (entropic) and "
        f"{acc[DA_METHODS[2]]:.1%} (entropic + class labels). Best here: {best}. With equal sample sizes the exact "
        "map sends each source point onto exactly one target point; the entropic maps average nearby targets."
    )


def show_fairness(seed: int) -> None:
    """Two groups' scores, their W1, and the repair toward the Wasserstein barycentre."""
    from core.optimal_transport.uses import FairnessConfig, fair_repair
    from ui import controls
    from ui.charts import optimal_transport as charts
    from ui.page import compute, notice, show_chart

    gap = controls.slider("Gap between the groups' features", 0.0, 3.0, 1.0, step=0.25, key="ot_fair_gap")
    lam = controls.slider("Repair λ", 0.0, 1.0, 0.5, step=0.05, key="ot_repair")
    st.markdown(
        "Each person has a feature x (group A centred at +gap/2, B at −gap/2) and a calibrated score "
        "P(y = 1 | x) = sigmoid(2x); the decision is score ≥ 1/2. The repair moves each score a fraction λ of the "
        "way to the same rank in the groups' 1-D Wasserstein barycentre (the average of their quantile functions)."
    )
    res = compute(fair_repair, FairnessConfig(gap=float(gap), seed=seed), repair=float(lam))
    if res is None:
        return
    show_chart(charts.score_chart(res.scores), res.scores, name="fairness scores")
    show_chart(charts.tradeoff_chart(res.tradeoff, repair=lam), res.tradeoff, name="fairness tradeoff")
    t = res.tradeoff.set_index("repair")
    notice(
        f"Before repair W1 between the groups' scores is {t.loc[0.0, 'w1']:.3f} and the parity gap "
        f"{t.loc[0.0, 'parity_gap']:+.1%} (accuracy {t.loc[0.0, 'accuracy']:.1%}). At λ = {lam:g}: W1 "
        f"{t.loc[lam, 'w1']:.3f} (= (1 − λ) times the original), parity gap {t.loc[lam, 'parity_gap']:+.1%}, "
        f"accuracy {t.loc[lam, 'accuracy']:.1%}. Full repair costs "
        f"{t.loc[0.0, 'accuracy'] - t.loc[1.0, 'accuracy']:.1%} of accuracy on these calibrated scores."
    )


def show_interpolation(x, y) -> None:
    """McCann's interpolant beside the mixture, and the W1 and W2 plans on the same clouds."""
    from core.optimal_transport.uses import displacement_interpolation
    from ui import controls
    from ui.charts import optimal_transport as charts
    from ui.page import compute, notice

    t = controls.slider("Time t", 0.0, 1.0, 0.5, step=0.05, key="ot_t")
    res = compute(displacement_interpolation, x, y, t=float(t))
    if res is None:
        return
    st.altair_chart(charts.interpolation_chart(res.moved, res.mixture), width="content")
    st.altair_chart(charts.plans_chart(res.plans, x, y), width="content")
    keys = ["source", "target"]
    w1_edges, w2_edges = (res.plans[res.plans["cost"] == c][keys] for c in ("W1 plan", "W2 plan"))
    shared = len(w1_edges.merge(w2_edges, on=keys))
    notice(
        f"At t = {t:g} the moved cloud is W2 = {res.w2_to_moved:.3f} from the source, t times W2(P, Q) = "
        f"{res.w2:.3f}: mass travels along straight lines of the W2 plan at constant speed. The mixture never "
        f"holds a point in between; it only fades one cloud into the other. {shared} of the W2 plan's "
        f"{len(w2_edges)} segments are also in the W1 plan: the two costs move the sand differently."
    )
