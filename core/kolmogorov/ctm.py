"""The coding theorem made concrete: K(s) estimated from how often the tiny language's programs print s.

Levin's coding theorem says K(s) = -log2 m(s) + O(1), with m(s) the probability that a random program prints s.
Delahaye & Zenil's Coding Theorem Method (CTM) takes m from an exhaustive run of small programs: D(s) is the share
of halting programs that print s, and ``CTM(s) = -log2 D(s)``. Here the programs are every program of
``core.kolmogorov.search``'s language up to a length; a program still running at the step cap is left out (it may
never halt). For longer strings the Block Decomposition Method (BDM; Zenil et al. 2018) adds up the CTM of the
string's distinct blocks plus log2 of how often each repeats. For short strings a compressor's container alone is
larger than the string; CTM and BDM are not. All values are in bits.

References: L. Levin (1974); J.-P. Delahaye, H. Zenil (2012), Numerical evaluation of algorithmic complexity for
short strings, Applied Mathematics and Computation 219; H. Zenil et al. (2018), A decomposition method for global
evaluation of Shannon entropy and local estimations of algorithmic complexity, Entropy 20(8).
"""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pandas as pd

from core._validation import check_int
from core.kolmogorov.compression import compressed_bits, header_bits
from core.kolmogorov.search import LANGUAGE, _execute, _jumps


def output_distribution(*, max_length: int = 6, max_steps: int = 100) -> pd.DataFrame:
    """Run every program up to ``max_length`` instructions; tabulate what the halting ones print.

    Returns
    -------
    DataFrame
        One row per output string s (the empty string included): ``output``, ``count`` (halting programs that
        print s), ``share`` (D(s): count over all halting programs), ``ctm_bits`` (-log2 D(s)) and ``shortest``
        (the length of the shortest such program). Sorted by ``ctm_bits``.
    """
    max_length = check_int(max_length, "max_length", low=1, high=7)
    max_steps = check_int(max_steps, "max_steps", low=1, high=10_000)
    counts: Counter[str] = Counter()
    shortest: dict[str, int] = {}
    for L in range(1, max_length + 1):
        for chars in itertools.product(LANGUAGE, repeat=L):
            program = "".join(chars)
            jump = _jumps(program)
            if jump is None:
                continue
            out, status, _ = _execute(program, jump, max_steps, None, 64)
            if status == "halted":
                counts[out] += 1
                shortest.setdefault(out, L)
    total = sum(counts.values())
    df = pd.DataFrame({"output": list(counts), "count": list(counts.values())})
    df["share"] = df["count"] / total
    df["ctm_bits"] = -np.log2(df["share"])
    df["shortest"] = df["output"].map(shortest)
    return df.sort_values(["ctm_bits", "output"], ignore_index=True)


def bdm_bits(s: str, ctm: pd.DataFrame, *, block: int = 4) -> float:
    """Block Decomposition Method: ``sum over distinct blocks b of CTM(b) + log2(n_b)``, in bits.

    ``s`` (0s and 1s) is cut into non-overlapping blocks of ``block`` characters (a shorter last block is a block
    of its own); ``ctm`` is :func:`output_distribution`'s table, which must hold every block.
    """
    if not isinstance(s, str) or not s or set(s) - {"0", "1"}:
        raise ValueError(f"`s` must be a non-empty string of 0s and 1s. Got {s!r} instead.")
    block = check_int(block, "block", low=1, high=16)
    table = ctm.set_index("output")["ctm_bits"]
    blocks = Counter(s[i : i + block] for i in range(0, len(s), block))
    missing = [b for b in blocks if b not in table.index]
    if missing:
        raise ValueError(
            f"The CTM table has no value for the block(s) {missing[:3]}; use a smaller `block` or a CTM table "
            "from longer programs."
        )
    return float(sum(table[b] + np.log2(n) for b, n in blocks.items()))


def complexity_estimates(strings: dict[str, str], ctm: pd.DataFrame, *, block: int = 4) -> pd.DataFrame:
    """CTM (when the table has the string) or BDM, beside lzma and bz2 with and without their container, in bits.

    Returns
    -------
    DataFrame
        Long format: ``name``, ``string``, ``length``, ``method`` ("CTM", "BDM", "lzma", "bz2", "lzma minus
        header", "bz2 minus header"), ``bits``. The compressors get the string as ASCII bytes of '0' and '1'.
    """
    table = ctm.set_index("output")["ctm_bits"]
    rows = []
    for name, s in strings.items():
        if s in table.index:
            rows.append((name, s, len(s), "CTM", float(table[s])))
        rows.append((name, s, len(s), "BDM", bdm_bits(s, ctm, block=block)))
        for m in ("lzma", "bz2"):
            bits = compressed_bits(s.encode(), method=m)
            rows += [(name, s, len(s), m, float(bits)), (name, s, len(s), f"{m} minus header", bits - header_bits(m))]
    return pd.DataFrame(rows, columns=["name", "string", "length", "method", "bits"])
