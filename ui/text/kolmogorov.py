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


def bounds_notice(table: pd.DataFrame) -> str:
    """Pi and the LCG fool every compressor but not a short program."""
    bpb = table.pivot(index="source", columns="method", values="bits_per_symbol")
    comp = bpb.drop(columns="program").min(axis=1)
    return (
        f"The digits of pi cost at least {comp['pi']:.2f} bits per digit with every compressor (a digit carries "
        f"at most log2 10 = 3.32 bits), the LCG stream {comp['lcg']:.2f} bits per byte: no compressor finds the "
        f"rule. The programs below print them with {bpb.loc['pi', 'program']:.3f} and {bpb.loc['lcg', 'program']:.3f} "
        "bits per symbol, a far better upper bound on K. The seeded random stream has a short program too (it is "
        "pseudo-random; truly random bytes would not, see below). For our prose the only program is "
        "print-the-text, and the compressors beat it."
    )


RANDOM_SOURCES = (
    "The seeded generator above only looks random: a program of one line prints it. The operating system's "
    "entropy source (`os.urandom`, what `secrets` uses) mixes in physical noise. Below, the same number of bytes "
    "from each, through the same compressors. **A fresh OS draw is made on every rerun of this page**, so its "
    "fingerprint changes whenever you touch a control; the link in your address bar reproduces the seeded bytes "
    "exactly, and the OS bytes never."
)


def random_sources_notice(table: pd.DataFrame, seed: int) -> str:
    """Both sources are incompressible; only the seeded one is reproducible and has a short program."""
    by = table.set_index(["source", "method"])
    n = int(table["length"].iloc[0])
    seeded, fresh = by.loc["seeded generator"], by.loc["OS entropy"]
    comp = [m for m in fresh.index if m != "program"]
    best = min(comp, key=lambda m: fresh.loc[m, "bits"])
    return (
        f"Seeded generator (seed {seed}): first bytes `{seeded['head'].iloc[0]}`, SHA-256 `{seeded['sha256'].iloc[0]}`"
        f", the same on every run and for anyone with this link. OS entropy: first bytes `{fresh['head'].iloc[0]}`, "
        f"SHA-256 `{fresh['sha256'].iloc[0]}`, drawn for this run only; no seed, link or program reproduces it. "
        f"Neither compresses: the best compressor ({best}) needs {fresh.loc[best, 'bits_per_symbol']:.3f} bits per "
        f"byte on the OS bytes and {seeded.loc[best, 'bits_per_symbol']:.3f} on the seeded ones, 8 bits plus its "
        f"container. The difference is K: the seeded {n:,} bytes come from a program of "
        f"{seeded.loc['program', 'bits'] // 8} characters, while for the OS bytes the best bound we have is "
        f"about {8 * n:,} bits, and by counting at most one string in 2^20 (a million) has a program 20 bits shorter."
    )


NCD_GENERATED = (
    "Below: our prose, the same paragraph with its words shuffled, a second paragraph, a piece of this lab's source "
    "code and the generated strings, clustered by scipy (average linkage)."
)
NCD_PROJECT = (
    "Below: twelve texts this project writes or generates, nothing downloaded: **Python code** (three of the lab's "
    "own modules, imports, comments and docstrings removed), **English prose** (the README, the docstrings of the "
    "optimal-transport package, this page's essay), **numbers** (digits of pi, the primes, a seeded table of "
    "measurements) and **DNA-like** strings (three draws from one order-2 Markov chain). The compressor is not "
    "told the kinds; scipy clusters the NCD matrix (average linkage)."
)


def ncd_notice(matrix: pd.DataFrame, recovery=None) -> str:
    """The closest pair, the range of NCD(x, x) and, for the project corpus, how well the kinds are recovered."""
    pairs = matrix[matrix["a"] < matrix["b"]].sort_values("ncd")
    close, diag = pairs.iloc[0], matrix[matrix["a"] == matrix["b"]]["ncd"]
    text = (
        f"The closest pair is {close['a']} and {close['b']} (NCD {close['ncd']:.2f}); NCD(x, x) stays between "
        f"{diag.min():.2f} and {diag.max():.2f}. "
    )
    if recovery is None:
        rand = pairs[(pairs["a"] == "random") | (pairs["b"] == "random")]["ncd"].min()
        return text + f"The random stream is at least {rand:.2f} from everything."
    k = recovery.assignment["kind"].nunique()
    return text + (
        f"Texts of the same kind are {recovery.within:.2f} apart on average, of different kinds {recovery.between:.2f}."
        f" Cut into {k} clusters, the tree recovers the kinds with adjusted Rand index {recovery.ari:.2f} (1: "
        f"perfectly, 0: chance), and {recovery.nearest_same:.0%} of texts have a nearest neighbour of their own kind."
        + ("" if recovery.ari > 0.99 else " Try lzma at 1000 bytes: compressors differ in what they can see.")
    )


BERRY = (
    "**The Berry paradox, in plain words.** Suppose some program `K` computed the complexity of any string. Then "
    "a short program could list all strings in order and print the first one whose complexity is more than a "
    "million bits. That program is only a few hundred bits long plus the number one million, yet it prints a "
    "string that by definition needs more than a million bits. So `K` cannot exist: every compressor gives an "
    "upper bound, but no program can certify that a bound is the shortest for every string."
)
