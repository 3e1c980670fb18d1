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
