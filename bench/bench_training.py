"""Every training run a page starts by default, in seconds and in calibration units, against a baseline commit.

The runs are the warm-default list (``ui/warm_defaults.py``: each training page's default view) plus the default
runs behind tabs (``TAB_RUNS`` below). Each is timed ``--repeats`` times (median), with the calibration unit
(bench/calibration.py) measured in the same process. With ``--baseline REF`` the same runs, by label, are timed on a
git worktree of REF in a subprocess in the same bench run, and the table shows the speed-up ratio.
Usage: python bench/bench_training.py [--repeats 3] [--baseline HEAD~1] [--only label-substring ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


TAB_RUNS = [  # (module, function, configuration class, configuration keywords, label)
    ("core.lottery_ticket.supermask", "prune_at_init", "PruneAtInitConfig", {},
     "lottery_ticket: pruning at init (tab)"),
    ("core.lottery_ticket.supermask", "supermask_run", "SupermaskRunConfig", {"n_seeds": 3},
     "lottery_ticket: strong tickets (tab)"),
    ("core.lottery_ticket.stability", "instability", "InstabilityConfig", {}, "lottery_ticket: instability (tab)"),
    ("core.learnability.parity", "parity_scaling", "ParitySweepConfig", {}, "learnability: parity sweep (tab)"),
    ("core.learnability.parity", "hidden_progress", "HiddenProgressConfig", {}, "learnability: hidden progress (tab)"),
    ("core.feature_learning.mup", "lr_transfer", "TransferConfig", {},
     "feature_learning: learning-rate transfer (tab)"),
    ("core.universality.grokking", "grokking_mechanism", "GrokkingConfig", {}, "universality: grokking (tab)"),
    ("core.universality.grokking_phases", "phase_sweep", "PhaseConfig", {}, "universality: grokking phases (tab)"),
    ("core.universality.emergence", "train_addition_models", "AdditionConfig", {}, "universality: addition (tab)"),
    ("core.rest_stop", "overparam_run", "OverparamConfig", {}, "rest_stop: overparameterised (tab)"),
    ("core.optimal_transport.uses", "domain_adaptation", "DAConfig", {},
     "optimal_transport: domain adaptation (tab)"),
    ("core.sinkhorn.experiments", "frontier", "FrontierConfig", {}, "sinkhorn: accuracy vs time (tab)"),
    ("core.sinkhorn.scale", "scale_run", "ScaleConfig", {}, "sinkhorn: past the LP (tab)"),
    ("core.sinkhorn.flows", "loss_flows", "LossFlowConfig", {}, "sinkhorn: three losses as flows (tab)"),
    ("core.information_bottleneck.info_plane", "information_plane", "InfoPlaneConfig",
     {"batch": 512, "epochs": 1000, "n_seeds": 3},
     "information_bottleneck: drift and diffusion (tab)"),
]  # fmt: skip


def tab_runs() -> list[tuple]:
    """(function, configuration, label) of the runs a tab starts; runs a checkout does not have are left out."""
    import importlib

    runs = []
    for module, fn, cls, kwargs, label in TAB_RUNS:
        try:
            mod = importlib.import_module(module)
            runs.append((getattr(mod, fn), getattr(mod, cls)(**kwargs), label))
        except (ImportError, AttributeError, TypeError):  # an older checkout (the baseline) may lack it
            continue
    return runs


def all_runs() -> list[tuple]:
    """The default views (warm defaults) and, where the checkout has them, the tab runs."""
    from ui.warm_defaults import default_runs

    return [*default_runs(), *tab_runs()]


def measure(repeats: int, only: list[str], on_row=None) -> dict:
    """Time every run: {label: seconds}, the unit before the runs (used for units) and after (a check on the load).

    ``on_row(label, seconds, unit)`` is called as each run is measured.
    """
    import torch

    from bench.calibration import unit_seconds

    torch.set_num_threads(1)
    unit = unit_seconds()
    seconds = {}
    for fn, config, label in all_runs():
        if only and not any(o in label for o in only):
            continue
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn(config)
            times.append(time.perf_counter() - t0)
        seconds[label] = statistics.median(times)
        if on_row is not None:
            on_row(label, seconds[label], unit)
    return {"unit": unit, "unit_after": unit_seconds(), "seconds": seconds}


def baseline(ref: str, repeats: int, only: list[str]) -> dict | None:
    """The same measurement on a git worktree of ``ref``, in a subprocess (None when that checkout cannot run it)."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "baseline"
        add = ["git", "worktree", "add", "--detach", str(tree), ref]
        subprocess.run(add, cwd=ROOT, check=True, capture_output=True)
        try:
            (tree / "bench").mkdir(exist_ok=True)
            for name in ("bench_training.py", "calibration.py"):
                (tree / "bench" / name).write_text((ROOT / "bench" / name).read_text())
            if not (tree / "ui" / "warm_defaults.py").exists():
                return None
            out = subprocess.run(
                [sys.executable, "bench/bench_training.py", "--json", "--repeats", str(repeats), "--only", *only],
                cwd=tree, capture_output=True, text=True, check=True,
            )  # fmt: skip
            return json.loads(out.stdout.strip().splitlines()[-1])
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline", default=None, help="a git ref to compare with, e.g. HEAD~1")
    parser.add_argument("--only", nargs="*", default=[])
    parser.add_argument("--json", action="store_true", help="print the raw measurement as JSON (used for baselines)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.json:
        print(json.dumps(measure(args.repeats, args.only)))
        return
    before = baseline(args.baseline, args.repeats, args.only) if args.baseline else None
    print("| run | seconds | units | baseline units | speed-up |\n|---|---|---|---|---|", flush=True)

    def row(label: str, sec: float, unit: float) -> None:
        units = sec / unit
        old = before["seconds"][label] / before["unit"] if before and label in before["seconds"] else None
        ratio = f"{old / units:.2f}x" if old else "–"
        print(f"| {label} | {sec:.1f} | {units:.2f} | {f'{old:.2f}' if old else '–'} | {ratio} |", flush=True)

    now = measure(args.repeats, args.only, on_row=row)
    print(f"\n1 unit = {now['unit']:.2f} s before the runs ({now['unit_after']:.2f} s after them)")


if __name__ == "__main__":
    main()
