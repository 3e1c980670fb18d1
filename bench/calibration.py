"""The machine-independent time unit of the training budgets.

1 unit = the time of 300 full-batch Adam steps of a 64-256-256-10 ReLU MLP on 1024 random rows with one torch
thread, measured in the calling process (median of ``repeats``). Usage: ``python bench/calibration.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def unit_seconds(repeats: int = 3) -> float:
    """Seconds per calibration unit on this machine, now (median of ``repeats`` timings)."""
    import torch

    from core.training import make_mlp, seeded_generator

    torch.set_num_threads(1)
    times = []
    for r in range(repeats):
        gen = seeded_generator(r)
        x = torch.randn(1024, 64, generator=gen)  # (1024, 64)
        y = torch.randint(0, 10, (1024,), generator=gen)  # (1024,)
        model = make_mlp((64, 256, 256, 10), generator=gen)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        opt.step()  # the first step imports torch's optimizer machinery; keep it out of the timing
        t0 = time.perf_counter()
        for _ in range(300):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


if __name__ == "__main__":
    print(f"1 unit = {unit_seconds():.2f} s")
