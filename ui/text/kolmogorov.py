"""Copy of the algorithmic-information page that quotes a run's numbers (no streamlit here)."""

from __future__ import annotations

import numpy as np
import pandas as pd

LANGUAGE = (
    "A tiny language: `0` and `1` append that digit to the output, `+` adds one to a counter, `d` doubles it, and "
    "`[` … `]` runs its body once per count (each `]` counts one down), so `+dd[01]` prints `01` four times. The "
    "search runs every program in order of length until one prints the target. Some programs never stop (`+[+]` "
    "adds back what each pass counts down), and no test can tell in general whether a program will stop, so each "
    "run gets a **step limit**. Here the short programs are loops, and a loop with a shorter body makes more passes: "
    "the shorter program is the slower one, and a low limit misses it."
)


def search_notice(result) -> str:
    """What to notice in a shortest-program search: the programs found and how the bound moves with the limit."""
    rows, lim = result.per_length, result.by_limit.dropna(subset=["shortest"])
    found = ", ".join(f"`{p}`" for p in result.programs)
    text = (
        f"Shortest within {result.max_steps} steps: {found} ({len(result.programs[0])} instructions). "
        if result.found
        else f"No program up to {int(rows['length'].max())} instructions prints it within {result.max_steps} steps. "
    )
    if len(lim) and lim["shortest"].nunique() > 1:
        lo, hi = lim.iloc[0], lim.iloc[-1]
        text += (
            f"With {lo.step_limit} steps the best bound is {lo.shortest} instructions (`{lo.program}`); with "
            f"{hi.step_limit} it falls to {hi.shortest} (`{hi.program}` runs {hi.steps} steps). A larger limit can "
            "only lower the bound, and no limit certifies that it is K: the bound comes from above. "
        )
    elif len(lim):
        text += (
            f"Every step limit from {lim.iloc[0].step_limit} up gives the same {lim.iloc[0].shortest} instructions. "
        )
    return text + (
        f"{int(rows['programs'].sum()):,} programs up to length {int(rows['length'].max())} "
        f"({int(rows['programs_tried'].sum()):,} run; the rest print a wrong digit before any loop) in "
        f"{rows['seconds'].sum():.2f} s; each extra instruction multiplies the count by about "
        f"{rows['growth'].iloc[-1]:.1f}."
    )


CODING_THEOREM = (
    "Run every program of the tiny language up to 6 instructions and count what the halting ones print. Simple "
    "strings are printed by many programs, so by Levin's coding theorem K(s) ≈ -log2 m(s), with m(s) the share of "
    "programs that print s: the **Coding Theorem Method** (CTM, Delahaye & Zenil). Strings longer than any output "
    "are cut into 4-character blocks, and the **Block Decomposition Method** (BDM) adds each distinct block's CTM "
    "plus log2 of its repeats."
)


def ctm_strings(*, seed: int = 0) -> dict[str, str]:
    """The strings compared: a 4-bit one, a periodic and a constant 32-bit one, 32 seeded random bits."""
    bits = np.random.default_rng(seed).integers(0, 2, 32)
    return {"0110 (4 bits)": "0110", "01 x 16": "01" * 16, "0 x 32": "0" * 32,
            f"random (seed {seed})": "".join(map(str, bits))}  # fmt: skip


def ctm_notice(ctm: pd.DataFrame, estimates: pd.DataFrame) -> str:
    """CTM's range and how it compares with the compressors on short strings."""
    e = estimates.set_index(["name", "method"])["bits"]
    names = list(dict.fromkeys(estimates["name"]))
    short, periodic, rand = names[0], names[1], names[-1]
    return (
        f"{int(ctm['count'].sum()):,} halting programs print {len(ctm)} different strings. CTM gives "
        f"{short.split()[0]} {e[(short, 'CTM')]:.1f} bits, where lzma needs {e[(short, 'lzma')]:.0f} "
        f"({e[(short, 'lzma minus header')]:.0f} without its container). BDM gives {e[(periodic, 'BDM')]:.1f} bits "
        f"for 01 x 16 and {e[(rand, 'BDM')]:.1f} for 32 random bits, while lzma without its container needs "
        f"{e[(periodic, 'lzma minus header')]:.0f} and {e[(rand, 'lzma minus header')]:.0f}. BDM is only as good "
        "as its blocks: it sees no pattern longer than 4 characters, and it is an estimate, not a bound."
    )
