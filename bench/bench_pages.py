"""Page latency and memory, measured with Streamlit's AppTest (the script side of a page view).

For every page, in a fresh process each repetition:
- cold: first render of the page at its defaults (imports, computation and any default training run included);
- first progress: for pages with a live run, when the first progress update after the start reached the page, in
  the fresh process (imports included) and again on a warm process with its caches emptied;
- revisit: the same page and settings in a new session (finished runs and pure results come from the caches);
- rerun: one control change (the first sidebar slider moved one step, else the next option of the first select
  slider or selectbox) and the rerun it triggers (a new training run on training pages).
Then one process visits every page in turn and reports its peak resident memory.
Prints a markdown table of medians. Usage: python bench/bench_pages.py [--repeats 3] [--pages stem ...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _progress_probe() -> list[float]:
    """Record when the script sends a progress update (patched into Streamlit's progress element)."""
    from streamlit.delta_generator import DeltaGenerator

    stamps: list[float] = []
    original = DeltaGenerator.progress

    def progress(self, value, text=None):
        stamps.append(time.perf_counter())
        return original(self, value, text=text)

    DeltaGenerator.progress = progress
    return stamps


def measure_one(stem: str) -> dict:
    from streamlit.testing.v1 import AppTest

    stamps = _progress_probe()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.run()
    at.switch_page(f"pages/{stem}.py")
    t0 = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t0
    updates = [s - t0 for s in stamps]
    first_update = updates[1] if len(updates) > 1 else None
    assert not at.exception, [e.message for e in at.exception]

    again = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    again.run()
    again.switch_page(f"pages/{stem}.py")
    t0 = time.perf_counter()
    again.run()
    revisit = time.perf_counter() - t0

    t0 = time.perf_counter()
    rerun = again.run() if _change_one_control(again) else None
    rerun = None if rerun is None else time.perf_counter() - t0

    warm_update = None
    if updates:  # a live run: time to its first update on a warm server (imports done, caches emptied)
        import streamlit as st

        from ui import runs

        st.cache_data.clear()
        runs._finished.clear()
        stamps.clear()
        warm = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        warm.run()
        warm.switch_page(f"pages/{stem}.py")
        t0 = time.perf_counter()
        warm.run()
        warm_update = stamps[1] - t0 if len(stamps) > 1 else None
    return {"cold": cold, "first_update": first_update, "warm_update": warm_update, "revisit": revisit, "rerun": rerun}


def _change_one_control(at) -> bool:
    """Move the first sidebar slider one step (or pick the next option of a select slider or selectbox)."""
    for s in at.sidebar.get("slider"):
        if isinstance(s.value, int | float) and not isinstance(s.value, bool):
            step = s.step or 1
            s.set_value(s.value + step if s.value + step <= s.max else s.value - step)
            return True
    for s in [*at.sidebar.get("select_slider"), *at.sidebar.get("selectbox")]:
        options = list(s.options)
        if len(options) > 1:
            current = options.index(s.format_func(s.value)) if s.format_func(s.value) in options else 0
            s.set_value(s.options[(current + 1) % len(options)])
            return True
    return False


def peak_memory(stems: list[str]) -> float:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.run()
    for stem in stems:
        at.switch_page(f"pages/{stem}.py")
        at.run()
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MB


def _child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fmt(values: list[float | None]) -> str:
    values = [v for v in values if v is not None]
    return f"{statistics.median(values):.2f}" if values else "–"


def main() -> None:
    from ui.registry import available_topics

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pages", nargs="*")
    parser.add_argument("--one")
    parser.add_argument("--memory", nargs="*")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one)))
        return
    if args.memory is not None:
        print(json.dumps({"peak_mb": peak_memory(args.memory)}))
        return
    stems = args.pages or [p.url_path for p in available_topics()]
    print(f"Page latency on {os.cpu_count()} cores, median of {args.repeats} fresh processes (seconds)\n")
    print("| page | cold render | first progress (cold / warm server) | cached revisit | rerun after one change |")
    print("|---|---|---|---|---|")
    for stem in stems:
        runs = [_child(["--one", stem]) for _ in range(args.repeats)]
        print(
            f"| {stem} | {_fmt([r['cold'] for r in runs])} | "
            f"{_fmt([r['first_update'] for r in runs])} / {_fmt([r['warm_update'] for r in runs])} | "
            f"{_fmt([r['revisit'] for r in runs])} | {_fmt([r['rerun'] for r in runs])} |",
            flush=True,
        )
    mem = _child(["--memory", *stems])
    print(f"\nPeak memory after visiting every page in one process: {mem['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
