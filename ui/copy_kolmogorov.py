"""Copy of the algorithmic-information page that quotes a run's numbers (no streamlit here)."""

from __future__ import annotations

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

