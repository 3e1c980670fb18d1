"""Default runs of the lottery-ticket page, in seconds and in calibration units (see bench/calibration.py).

Each run is timed once between two unit measurements in the same process (one torch thread); the unit used is the
mean of the two, so a load change on a shared machine during the run is partly averaged out.
Usage: python bench/bench_lottery_ticket.py [imp pai lmc sm]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.calibration import unit_seconds


def main(names: list[str]) -> None:
    """Time the default run of each named part of the page and print a markdown table."""
    import torch

    from core.lottery_ticket import pruning, stability, supermask

    torch.set_num_threads(1)
    runs = {
        "imp": ("winning tickets (default view)", pruning.lottery_ticket, pruning.LotteryConfig(), 3),
        "lmc": ("instability (tab)", stability.instability, stability.InstabilityConfig(), 5),
        "pai": ("pruning at init (tab)", supermask.prune_at_init, supermask.PruneAtInitConfig(), 5),
        "sm": ("strong tickets (tab)", supermask.supermask_run, supermask.SupermaskRunConfig(n_seeds=3), 5),
    }  # fmt: skip
    print("| run | seconds | units | budget |\n|---|---|---|---|")
    before = unit_seconds()
    for name in names or list(runs):
        label, fn, config, budget = runs[name]
        t0 = time.perf_counter()
        fn(config)
        seconds = time.perf_counter() - t0
        after = unit_seconds()
        print(f"| {label} | {seconds:.1f} | {seconds / (0.5 * (before + after)):.2f} | {budget} |", flush=True)
        before = after


if __name__ == "__main__":
    main(sys.argv[1:])
