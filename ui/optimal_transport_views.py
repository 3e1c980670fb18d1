"""Copy and small view helpers of the Optimal transport page (no numerics: counts and sentences from results)."""

from __future__ import annotations

import altair as alt
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


def show_square_chart(chart: alt.TopLevelMixin, data: pd.DataFrame, *, name: str) -> None:
    """Show a chart at its own (square) size, so equal axes stay equal, with a CSV download of its data."""
    st.altair_chart(chart, width="content")
    st.download_button(
        "CSV",
        data.to_csv(index=False).encode(),
        file_name=f"{name.replace(' ', '_')}.csv",
        mime="text/csv",
        key=f"download_{name.replace(' ', '_')}",
        icon=":material/download:",
        on_click="ignore",
        help="Download the data behind this chart",
        type="tertiary",
    )
