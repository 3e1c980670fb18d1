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
