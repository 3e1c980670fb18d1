"""Copy and number formatting for the scaling-laws page (no streamlit): every number comes in as an argument."""

from __future__ import annotations

import math

import pandas as pd

INTUITION = (
    "Loss falls as a power law in model size N and data size D, down to an irreducible floor E. Fit the law to a "
    "grid of runs and it tells you how to split a compute budget C ≈ 6 N D between parameters and tokens. Kaplan "
    "et al. (2020) said mostly parameters (N_opt ∝ C^0.73, non-embedding N); Chinchilla (Hoffmann et al. 2022) "
    "said both about equally: its Approaches 1 and 2 give about 20 tokens per parameter, while its fitted law "
    "(Approach 3) puts more tokens per parameter. Fit your own runs, or a solvable model whose true exponents are "
    "known, computed live on this machine."
)

EXPERIMENT = (
    "Solvable model: ridge regression on features with variances k^-ν; mode k of the target carries power k^-s "
    "and labels carry noise σ². A model of size N uses the first N features; D examples train it; the ridge is "
    "tuned per cell and the test loss is exact (averaged in closed form over the label noise). Theory: "
    "E = σ², α = s − 1 (what N features leave out), β = (s − 1)/s (the minimax rate of ridge with noise; "
    "Caponnetto & De Vito 2007). The fit uses each cell's mean over seeds."
)

REFERENCES = [
    "Kaplan et al. (2020). Scaling Laws for Neural Language Models. arXiv:2001.08361.",
    "Hoffmann et al. (2022). Training Compute-Optimal Large Language Models (Chinchilla). NeurIPS.",
    "Besiroglu, Erdil, Barnett, You (2024). Chinchilla Scaling: A replication attempt. arXiv:2404.10102.",
    "Pearce, Song (2024). Reconciling Kaplan and Chinchilla Scaling Laws. arXiv:2406.12907.",
    "Porian et al. (2024). Resolving Discrepancies in Compute-Optimal Scaling of Language Models. arXiv:2406.19146.",
    "Sardana, Portes, Doubov, Frankle (2024). Beyond Chinchilla-Optimal: Accounting for Inference. arXiv:2401.00448.",
    "Muennighoff et al. (2023). Scaling Data-Constrained Language Models. NeurIPS. arXiv:2305.16264.",
    "Bahri, Dyer, Kaplan, Lee, Sharma (2021). Explaining Neural Scaling Laws. arXiv:2102.06701.",
    "Maloney, Roberts, Sully (2022). A Solvable Model of Neural Scaling Laws. arXiv:2210.16859.",
    "Caponnetto, De Vito (2007). Optimal rates for the regularized least-squares algorithm. Found. Comput. Math.",
    "Cui, Loureiro, Krzakala, Zdeborová (2021). Generalization error rates in kernel regression. NeurIPS.",
]

UPLOAD_HINT = (
    "Upload a CSV of runs, e.g. Epoch AI's digitised Chinchilla data (svg_extracted_data.csv in "
    "epoch-research/analyzing-chinchilla), or switch to the solvable model."
)


def count(x: float | None) -> str:
    """A count with a unit suffix: 40.3B, 1.5T, 386.8M, 2.4k, 12; NaN or None as "–"."""
    if x is None or not math.isfinite(x):
        return "–"
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= scale:
            return f"{x / scale:.1f}{suffix}"
    return f"{x:.3g}"


def sci(x: float | None, digits: int = 1) -> str:
    """Scientific notation without a plus sign or padding: 1.0e3, 5.8e23, 2.5e-4; NaN or None as "–"."""
    if x is None or not math.isfinite(x):
        return "–"
    if x == 0:
        return "0"
    exp = math.floor(math.log10(abs(x)))
    mant = x / 10**exp
    if round(abs(mant), digits) >= 10:
        mant, exp = mant / 10, exp + 1
    return f"{mant:.{digits}f}e{exp}"


def number(x: float | None, digits: int = 3) -> str:
    """A plain number with ``digits`` significant digits, or sci() when very large or small; "–" for NaN."""
    if x is None or not math.isfinite(x):
        return "–"
    if x == 0:
        return "0"
    if not 1e-3 <= abs(x) < 1e5:
        return sci(x, digits - 1)
    decimals = max(digits - 1 - math.floor(math.log10(abs(round(x, digits)) or abs(x))), 0)
    return f"{x:.{decimals}f}"


def budget_table(table: pd.DataFrame) -> pd.DataFrame:
    """The budget calculator's rows as display strings (law, N_opt, D_opt, tokens/param, loss)."""
    return pd.DataFrame(
        {
            "law": table["law"],
            "parameters N_opt": table["n_opt"].map(count),
            "tokens D_opt": table["d_opt"].map(count),
            "tokens per parameter": table["tokens_per_param"].map(lambda v: number(v, 3)),
            "predicted loss": table["loss"].map(lambda v: number(v, 4)),
        }
    ).set_index("law")


def approaches(rows: pd.DataFrame, budget: float, *, a3: float, epoch: float, penalty: float) -> str:
    """Why Approach 3 and Table 3 disagree and what Epoch AI found, with the numbers of ``rows`` at ``budget``.

    ``a3`` and ``epoch`` are the laws' N_opt exponents; ``penalty`` the Approach 3 law's extra loss at Approach 1's N.
    """
    r = rows.set_index("law")
    a1, a3_row, ep = r.loc["Chinchilla A1"], r.loc["Chinchilla A3"], r.loc["Epoch 2024"]
    return (
        f"At {sci(budget, 2)} FLOPs Chinchilla's Approach 1 (Table 2's N_opt ∝ C^0.50, anchored at Table 3's 67B "
        f"on 1.5T tokens at 5.76e23) gives {count(a1.n_opt)} parameters on {count(a1.d_opt)} tokens "
        f"({number(a1.tokens_per_param, 3)} tokens per parameter); the fitted law of Approach 3 (N_opt ∝ "
        f"C^{number(a3, 3)}) gives {count(a3_row.n_opt)} on {count(a3_row.d_opt)} ({number(a3_row.tokens_per_param, 3)}"
        " per parameter). Approaches 1 and 2 read the optimum off the runs (the lower envelope of training curves, "
        "the IsoFLOP minima); Approach 3 fits one formula to every run's final loss, and its IsoFLOP valley is "
        f"flat: by its own law, Approach 1's model size costs only {penalty:.4f} nats/token more here, so small "
        "changes of the fit move the optimum far. Besiroglu et al. (2024, Epoch AI) refitted Approach 3 on the "
        "paper's data (digitised from its Figure 4) and found the published estimates fit that data poorly, "
        "disagree with Approaches 1 and 2 and come with implausibly narrow confidence intervals; their refit has "
        f"N_opt ∝ C^{number(epoch, 3)}: {count(ep.n_opt)} parameters on {count(ep.d_opt)} tokens here "
        f"({number(ep.tokens_per_param, 3)} per parameter), in line with Approaches 1 and 2."
    )


def kaplan(row: pd.Series, budget: float) -> str:
    """Kaplan's allocation at the budget, with its conventions."""
    return (
        f"Kaplan's frontier (Table 6: N_opt = 1.3e9 C_min^0.73, D_opt = 2e10 C_min^0.27, C_min in PF-days, "
        f"C ≈ 2 C_min at the critical batch size) puts {count(row.n_opt)} non-embedding parameters on "
        f"{count(row.d_opt)} tokens at {sci(budget, 2)} FLOPs ({number(row.tokens_per_param, 2)} tokens per "
        "parameter). Its N excludes embedding parameters, which matter at small scale; Chinchilla counts all."
    )
