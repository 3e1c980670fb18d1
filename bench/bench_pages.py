"""Page latency and memory: the script side (AppTest) and, with ``--browser``, what a visitor waits for.

Script side, for every page, in a fresh process each repetition (run service's disk cache off, so nothing computed
by an earlier process is reused):
- cold: first render of the page at its defaults (imports, computation and, on a training page, its default run:
  without a server the page waits for its run in the script thread);
- revisit: the same page and settings in a new session (finished runs and pure results come from the caches);
- rerun: one control change (the first sidebar slider moved one step, else the next option of the first select
  slider or selectbox) and the rerun it triggers (a new training run on training pages).
Then one process visits every page in turn and reports its peak resident memory.

``--browser``: a real ``streamlit run app.py`` on loopback (warm defaults off, an empty disk cache), its first page
loaded and the server idle (the science imported in the background) before the clock starts, then every page in
turn in a fresh headless Chromium tab: the time from navigation until its first chart shows, and until the page is
finished (the script idle for a second, no progress bar left), in seconds and in calibration units
(``bench/calibration.py``, measured in this process before the first server starts), and how long the page's
default run itself took (its "Finished in" caption: the run service's own timing). Each repetition starts a
fresh server, so every page's default run is computed anew.

Prints markdown tables of medians. Usage: python bench/bench_pages.py [--repeats 3] [--pages stem ...] [--browser]
"""

from __future__ import annotations

import argparse
import asyncio
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


def measure_one(stem: str) -> dict:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    at.run()
    at.switch_page(f"pages/{stem}.py")
    t0 = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t0
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
    return {"cold": cold, "revisit": revisit, "rerun": rerun}


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
    env = {**os.environ, "LTL_RUN_CACHE_DIR": "off"}
    out = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, cwd=ROOT, check=True, env=env
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


CHART = '[data-testid="stVegaLiteChart"]:visible'
BUSY = '[data-testid="stStatusWidget"], [data-testid="stProgress"]:visible'  # the script runs, or a run is followed
FINISHED = '[data-testid="stCaptionContainer"]:visible:has-text("Finished in")'


async def _time_page(browser, url: str, timeout_s: float) -> dict:
    """Seconds from navigation to the first visible chart and to the finished page (idle for a whole second)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    t0 = time.monotonic()
    await page.goto(url, wait_until="commit")
    await page.wait_for_selector(CHART, timeout=timeout_s * 1000)
    chart = time.monotonic() - t0
    idle_since = None
    while time.monotonic() - t0 < timeout_s:
        now = time.monotonic()
        if await page.locator(BUSY).count():
            idle_since = None
        elif idle_since is None:
            idle_since = now
        elif now - idle_since >= 1.0:
            break
        await asyncio.sleep(0.1)
    else:
        raise TimeoutError(f"{url} was still busy after {timeout_s:.0f} s")
    captions = await page.locator(FINISHED).all_inner_texts()
    run_s = sum(float(text.split("Finished in ", 1)[1].split(" s", 1)[0]) for text in captions) if captions else None
    exceptions = await page.locator('[data-testid="stException"]').count()
    await context.close()
    return {"chart": chart, "done": idle_since - t0, "run": run_s, "exceptions": exceptions}


async def _browse(stems: list[str], port: int, timeout_s: float) -> dict[str, dict]:
    """One fresh server; its first page and the background imports first, then every page in turn."""
    from playwright.async_api import async_playwright

    from bench.bench_crowd import ARGS, CHROMIUM, Server, _settle

    server = Server(port)
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            first = await browser.new_page()
            await first.goto(server.url)
            await first.wait_for_selector("h1", timeout=120_000)
            await first.close()
            await _settle(server)
            times = {stem: await _time_page(browser, f"{server.url}/{stem}", timeout_s) for stem in stems}
            await browser.close()
    finally:
        logged = server.stop()
    if logged:
        print(f"the server logged:\n{logged}", file=sys.stderr)
    return times


def browser_table(stems: list[str], repeats: int, port: int, timeout_s: float) -> None:
    from bench.bench_crowd import _port
    from bench.calibration import unit_seconds

    unit = unit_seconds()
    rounds = [asyncio.run(_browse(stems, _port(port + i), timeout_s)) for i in range(repeats)]
    print(
        f"Navigation to a finished page in a running server with empty caches, {os.cpu_count()} cores, median of "
        f"{repeats} fresh servers; 1 unit = {unit:.2f} s (measured before the servers started)\n"
    )
    print("| page | first chart (s) | finished page (s) | finished page (units) | its default run (s) | exceptions |")
    print("|---|---|---|---|---|---|")
    for stem in stems:
        got = [r[stem] for r in rounds]
        done = statistics.median(g["done"] for g in got)
        print(
            f"| {stem} | {_fmt([g['chart'] for g in got])} | {done:.2f} | {done / unit:.2f} "
            f"| {_fmt([g['run'] for g in got])} | {sum(g['exceptions'] for g in got)} |",
            flush=True,
        )


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
    parser.add_argument("--browser", action="store_true", help="time navigation to the finished page in Chromium")
    parser.add_argument("--port", type=int, default=8640)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one)))
        return
    if args.memory is not None:
        print(json.dumps({"peak_mb": peak_memory(args.memory)}))
        return
    stems = args.pages or [p.url_path for p in available_topics()]
    if args.browser:
        browser_table(stems, args.repeats, args.port, args.timeout)
        return
    print(f"Page latency on {os.cpu_count()} cores, median of {args.repeats} fresh processes (seconds)\n")
    print("| page | cold render (default run included) | cached revisit | rerun after one change |")
    print("|---|---|---|---|")
    for stem in stems:
        runs = [_child(["--one", stem]) for _ in range(args.repeats)]
        print(
            f"| {stem} | {_fmt([r['cold'] for r in runs])} | "
            f"{_fmt([r['revisit'] for r in runs])} | {_fmt([r['rerun'] for r in runs])} |",
            flush=True,
        )
    mem = _child(["--memory", *stems])
    print(f"\nPeak memory after visiting every page in one process: {mem['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
