"""Copy of the minimum-description-length page that quotes a run's numbers (no streamlit here)."""

from __future__ import annotations

import pandas as pd

THOUSAND_NUMBERS = r"""
A sender has 1000 integers in $[0, 2^{16})$: $x_i = 3i + 7$ except at a few random positions. Both sides know the
count and the range.
- **Verbatim**: 16 bits per number.
- **Rule + exceptions**: the rule's two integers (17 bits each, with sign), the number of exceptions (10 bits), then
  per exception its position (10 bits) and value (16 bits).
- **Interpolating polynomial**: the degree-999 polynomial through all points has exact integer coefficients in
  Newton form $p(i) = \sum_k c_k \binom{i}{k}$; each is sent as sign + Elias-gamma length + magnitude bits.
- **The same polynomial, values at the nodes**: written in the Lagrange basis of the nodes $i = 0, \dots, 999$, its
  coefficients are its values $p(i) = x_i$, 16 bits each.
- **lzma**: a general-purpose compressor on the 2-byte numbers, for reference.
"""


def thousand_numbers_notice(schemes: pd.DataFrame, n_exceptions: int) -> str:
    """What to notice in the 1000-number codes: the rule wins, and the polynomial's cost depends on its basis."""
    bits = schemes.set_index("scheme")["bits"]
    detail = schemes.set_index("scheme")["detail"]
    newton, nodes = bits["interpolating polynomial"], bits["polynomial, values at the nodes"]
    return (
        f"With {n_exceptions} exceptions the rule + exceptions takes **{bits['rule + exceptions']:,} bits** against "
        f"{bits['verbatim']:,} verbatim. The polynomial that fits every point exactly needs {newton:,} bits in "
        f"Newton form ({detail['interpolating polynomial']}), but that number belongs to the basis, not to the "
        f"polynomial: sent as its values at the nodes the same polynomial costs {nodes:,} bits, exactly the raw data. "
        "In both bases the interpolant is no shorter than the data it copies: it learns nothing, where the rule "
        f"saves {bits['verbatim'] - bits['rule + exceptions']:,} bits."
    )


REFINED_CAPTION = (
    "Bits above each code's own minimum. Bayes mixture: the marginal density of y with the weights drawn from "
    "N(0, s²) (s: the prior scale in the sidebar). Prequential: the points in a seeded random order, sent in blocks "
    "of 2, 2, 4, 8, ... with the MAP fit of the points before each block (Voita & Titov's online code)."
)


def refined_notice(refined: pd.DataFrame, sigma: float, prior: float) -> str:
    """Which degree each code picks, and where the refined codes part from the two-part code."""
    picks = refined[refined["picked"]].set_index("code")["degree"]
    same = picks.nunique() == 1
    return (
        f"With σ = {sigma:.3g} and prior scale s = {prior:g}: the two-part code (BIC) picks degree "
        f"{picks['two-part (BIC)']}, the Bayes mixture {picks['Bayes mixture']} and the prequential code "
        f"{picks['prequential']}. "
        + (
            "Here all three agree; with few noisy points they part."
            if same
            else "The refined codes charge a model for what its weights actually cost on these data, not a flat "
            "log2(n)/2 bits each."
        )
    )


def picks_table(counts: pd.DataFrame) -> pd.DataFrame:
    """Data sets on which each code picked each degree: one row per degree, one column per code."""
    table = counts.pivot(index="degree", columns="code", values="count").fillna(0).astype(int)
    return table.reset_index()


def picks_notice(counts: pd.DataFrame, true_degree: int) -> str:
    """How often each code finds the true degree over the seeds."""
    total = int(counts.groupby("code")["count"].sum().iloc[0])
    hits = counts[counts["true"]].set_index("code")["count"].reindex(counts["code"].unique(), fill_value=0)
    return (
        f"Over {total} data sets from the generator the true degree {true_degree} is picked by "
        + ", ".join(f"{code} {int(k)} times" for code, k in hits.items())
        + "."
    )


def penalty_text(degree: int, n: int) -> str:
    """How L2 and L1 penalties are code lengths for the weights."""
    return (
        f"Fit a degree-{degree} polynomial to {n} points and send its {degree + 1} Legendre weights too, each "
        "rounded to 0.01. Under a Gaussian prior N(0, s²) a weight costs −log2(N(w; 0, s²)·0.01) bits: "
        "w²/(2s² ln 2) plus a constant, the **L2** penalty. Under a Laplace prior with scale s it costs "
        "|w|/(s ln 2) plus a constant, the **L1** penalty. Data bits + weight bits is then the ridge or lasso "
        "objective, shortest at λ = σ²/s² (L2) or 2σ²/s (L1): the MAP fit."
    )


def penalty_notice(pen: pd.DataFrame, prior: float, *, estimated: bool) -> str:
    """The MAP lambda is the shortest total, and an unpenalised fit costs more bits."""
    at_map = pen[pen["is_map"]].set_index("penalty")
    weakest = pen.loc[pen.groupby("penalty")["lam_ratio"].idxmin()].set_index("penalty")
    return (
        f"With σ = {at_map.loc['L2', 'noise']:.3g} and s = {prior} the shortest total is at the MAP λ: "
        f"L2 λ = {at_map.loc['L2', 'lam']:.3g} ({at_map.loc['L2', 'data_bits']:.1f} data + "
        f"{at_map.loc['L2', 'weight_bits']:.1f} weight bits), L1 λ = {at_map.loc['L1', 'lam']:.3g} "
        f"({at_map.loc['L1', 'data_bits']:.1f} + {at_map.loc['L1', 'weight_bits']:.1f} bits). A nearly "
        f"unpenalised fit (λ/1000) costs {weakest.loc['L2', 'excess_bits']:.1f} (L2) and "
        f"{weakest.loc['L1', 'excess_bits']:.1f} (L1) bits more: it saves data bits but its weights cost more."
        + (" σ is estimated from the residuals of the MDL pick." if estimated else "")
    )


IB_LINK = (
    "The information bottleneck squeezes X into clusters T that keep what X says about Y, but it does not say how "
    "many clusters to use. A code length does. Take n draws (x, y) from the IB page's channel (X on a circle of 12 "
    "points, Y = X + noise, binned) and send the y's to a receiver who knows the x's: first the **encoder**, each "
    "x's cluster (12 log2 |T| bits), then the y's cluster by cluster with an adaptive code that learns p(y|t) as "
    "it goes (Krichevsky–Trofimov), so no probability table is sent. Its **data bits** are the plug-in bits "
    "n·H(Y|T) plus a **learning cost** of about (12 − 1)/2 · log2 n_t per cluster. For each |T| the clusters are "
    "the hard IB solution (β → ∞: agglomerative IB polished by sequential IB), fitted to the draws."
)


def ib_notice(result, n: int) -> str:
    """The |T| the code picks at this n, what its neighbours cost, and how the pick moves with n."""
    at_n = result.curve[result.curve["n"] == n].set_index("clusters")
    k = int(at_n.index[at_n["picked"]][0])
    best, k_max = at_n.loc[k], int(at_n.index.max())
    text = (
        f"With n = {n:,} draws the code is shortest at **|T| = {k}**: {best['encoder_bits']:.1f} encoder bits + "
        f"{best['data_bits']:,.1f} data bits (of which {best['learning_bits']:.1f} learning cost). "
    )
    if k > 1:
        text += f"|T| = {k - 1} costs {at_n.loc[k - 1, 'excess_bits']:.1f} bits more: it mixes x's whose y's differ. "
    if k < k_max:
        fewer = at_n.loc[k, "plugin_bits"] - at_n.loc[k + 1, "plugin_bits"]
        text += (
            f"|T| = {k + 1} saves {fewer:.1f} plug-in bits but costs {at_n.loc[k + 1, 'excess_bits']:.1f} bits "
            "more in all: its label bits and learning cost outweigh the saving. "
        )
    picks = result.picks
    return text + (
        f"The pick grows from |T| = {picks['clusters'].iloc[0]} at n = {picks['n'].iloc[0]:,} to "
        f"{picks['clusters'].iloc[-1]} at n = {picks['n'].iloc[-1]:,}: more data affords more clusters. The chosen "
        f"clusters keep I(T;Y) = {best['i_ty']:.3f} bits of the draws' {at_n.loc[k_max, 'i_ty']:.3f} (one cluster "
        f"per x); the channel itself has I(X;Y) = {result.i_xy:.3f} bits."
    )


def pick_notice(dl: pd.DataFrame, pick: int, under: int, max_degree: int, true_degree: int | None) -> str:
    """The MDL pick's model and data bits, and what an underfit and the largest degree cost more."""
    best = dl.loc[pick]
    excess = dl["total_bits"] - dl["total_bits"].min()
    text = (
        f"MDL picks degree **{pick}**: {best['model_bits']:.1f} model bits and {best['data_bits']:.1f} data "
        f"bits, {best['total_bits']:.1f} in all"
        + (" (negative: a density, not a count; only differences matter)." if best["data_bits"] < 0 else ".")
    )
    if under < pick:
        text += f" Degree {under} costs {excess[under]:.1f} bits more: its residuals are too big."
    if max_degree > pick:
        text += (
            f" Degree {max_degree} costs {excess[max_degree]:.1f} bits more: each coefficient costs log2(n)/2 = "
            f"{dl['model_bits'].iloc[0]:.2f} bits and the extra ones save less."
        )
    return text + (f" The data were generated with degree {true_degree}." if true_degree is not None else "")
