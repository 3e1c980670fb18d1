"""A room full of viewers: N headless Chromium sessions open one training page of a real server at once.

For each case a fresh ``streamlit run app.py`` on loopback (warm defaults off, an empty disk cache), one page load
and a wait until the server is idle (it imports torch and the science in the background), then the viewers: N = 1,
4, 8 on the same settings, and 4 viewers with 4 different seeds (each opened 0.5 s after the previous one's progress
bar showed, so their runs reach the server in opening order even on a loaded machine). Prints, per case, the time
until every viewer shows its finished run ("Finished in" / "Cached run" under the live run, then the page's chart),
how long the shared run itself took (its "Finished in" caption), the server's CPU time over the case, its peak RSS
and the load average (the machine may be shared: compare the ratios), plus what each viewer saw (its place in the
queue, "watched by N other viewers").

Usage::

    python bench/bench_crowd.py                        # lottery_ticket at lt_rounds=4, lt_epochs=5
    python bench/bench_crowd.py --page neural_collapse --params nc_epochs=50 --seed-key nc_seed
    python bench/bench_crowd.py --nice 10              # viewers' Chromium at a lower priority, as if remote
    python bench/bench_crowd.py --threads              # two trainings: threads vs processes (ui/run_service.py)

Targets (2 cores): 4 and 8 identical viewers finish within 1.3x of one viewer; 4 different settings finish in FIFO
order with peak RSS <= 1.5 GB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]  # fmt: skip
DONE = "text=/Finished in|Cached run/"


def _port(preferred: int) -> int:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", preferred))
        except OSError:
            s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``streamlit run app.py`` on loopback with its own empty disk cache and no warm defaults."""

    def __init__(self, port: int) -> None:
        self.cache = tempfile.mkdtemp(prefix="ltl-bench-cache-")
        env = {**os.environ, "LTL_RUN_WARM": "0", "LTL_RUN_CACHE_DIR": self.cache}
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true"]  # fmt: skip
        self.log = open(Path(self.cache) / "server.log", "w+")  # closed in stop()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self.log)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("streamlit did not start")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> str:
        """Stop the server; returns the warnings and errors it logged."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.seek(0)
        logged = self.log.read()
        self.log.close()
        shutil.rmtree(self.cache, ignore_errors=True)
        return "\n".join(line for line in logged.splitlines() if "WARNING" in line or "ERROR" in line)


async def _viewer(
    browser, url: str, t0: float, timeout_s: float, after: asyncio.Event | None, shown: asyncio.Event
) -> dict:
    """Open ``url`` (once ``after`` is set: the previous viewer's run reached the server) and wait for its result."""
    if after is not None:
        await after.wait()
        await asyncio.sleep(0.5)
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    page = await context.new_page()
    seen = {"queued": "", "others": 0}

    async def watch() -> None:
        while True:
            try:
                texts = await page.locator('[data-testid="stProgress"]').all_inner_texts()
            except Exception:  # the page is navigating (the router's first rerun)
                texts = []
            if texts:
                shown.set()
            for text in texts:
                if "queued" in text and not seen["queued"]:
                    seen["queued"] = text.split("queued: ", 1)[1]
                if "watched by" in text:
                    seen["others"] = max(seen["others"], int(text.split("watched by ", 1)[1].split()[0]))
            await asyncio.sleep(0.25)

    watcher = asyncio.create_task(watch())
    opened = time.monotonic() - t0
    await page.goto(url, timeout=timeout_s * 1000, wait_until="commit")  # 8 tabs at once on a loaded server: slow
    await page.wait_for_selector(DONE, timeout=timeout_s * 1000)
    shown.set()  # a cached result shows no progress bar
    await page.wait_for_selector('[data-testid="stVegaLiteChart"]', timeout=60_000)
    done = time.monotonic() - t0
    watcher.cancel()
    caption = await page.locator(DONE).first.inner_text()
    run_s = float(caption.split(" in ", 1)[1].split(" s", 1)[0]) if " in " in caption else float("nan")
    exceptions = await page.locator('[data-testid="stException"]').count()
    await context.close()
    return {"opened": opened, "done": done, "run_s": run_s, "exceptions": exceptions, **seen}


async def _settle(server: Server, quiet_cpu_s: float = 0.1, window_s: float = 1.0, limit_s: float = 120.0) -> None:
    """Wait until the server is idle (it imports torch and the science in the background after its first page)."""
    deadline = time.monotonic() + limit_s
    before = server.cpu_seconds()
    while time.monotonic() < deadline:
        await asyncio.sleep(window_s)
        now = server.cpu_seconds()
        if now - before < quiet_cpu_s:
            return
        before = now


def _niced_chromium(niceness: int, folder: str) -> str:
    """A Chromium launcher at a lower CPU priority (the viewers' browsers then stand in for other machines)."""
    if not niceness:
        return CHROMIUM
    launcher = Path(folder) / "chromium"
    launcher.write_text(f'#!/bin/sh\nexec nice -n {niceness} {CHROMIUM} "$@"\n')
    launcher.chmod(0o755)
    return str(launcher)


async def _crowd(
    server: Server, urls: list[str], in_turn: bool, timeout_s: float, niceness: int
) -> tuple[list[dict], float]:
    """All viewers at once, or (``in_turn``) each opened 0.5 s after the previous one's run reached the server."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=_niced_chromium(niceness, server.cache), headless=True, args=ARGS
        )
        warm = await browser.new_page()  # the server imports torch after its first page, before the clock starts
        await warm.goto(server.url)
        await warm.wait_for_selector("h1", timeout=120_000)
        await warm.close()
        await _settle(server)
        t0 = time.monotonic()
        shown = [asyncio.Event() for _ in urls]
        views = await asyncio.gather(
            *(
                _viewer(browser, u, t0, timeout_s, shown[i - 1] if in_turn and i else None, shown[i])
                for i, u in enumerate(urls)
            )
        )
        wall = time.monotonic() - t0
        await browser.close()
    return list(views), wall


def run_case(name: str, urls: list[str], *, port: int, in_turn: bool, timeout_s: float, niceness: int = 0) -> dict:
    server = Server(port)
    try:
        cpu0, load0 = server.cpu_seconds(), os.getloadavg()[0]
        views, wall = asyncio.run(_crowd(server, urls, in_turn, timeout_s, niceness))
        cpu = server.cpu_seconds() - cpu0  # includes the warm page and the settling before the clock starts
        rss = server.peak_rss_mb()
        load = (load0, os.getloadavg()[0])
    finally:
        logged = server.stop()
    if logged:
        print(f"{name}: the server logged\n{logged}")
    return {"case": name, "wall": wall, "views": views, "cpu": cpu, "rss": rss, "load": load}


def threads_vs_processes(repeats: int = 5) -> None:
    """Two small lottery-ticket trainings: alone, in sequence, in two threads, in two warm worker processes."""
    import multiprocessing as mp

    from bench.calibration import unit_seconds

    ctx = mp.get_context("spawn")
    start = time.perf_counter()
    pipes = [(ctx.Queue(), ctx.Queue()) for _ in range(2)]
    procs = [ctx.Process(target=_process_worker, args=p) for p in pipes]
    for proc in procs:
        proc.start()
    rss = [out.get() for _, out in pipes]
    spawn = time.perf_counter() - start
    _train()
    times: dict[str, list[float]] = {"alone": [], "sequence": [], "threads": [], "processes": []}
    for _ in range(repeats):
        t = time.perf_counter()
        _train()
        times["alone"].append(time.perf_counter() - t)
        t = time.perf_counter()
        _train()
        _train()
        times["sequence"].append(time.perf_counter() - t)
        threads = [threading.Thread(target=_train) for _ in range(2)]
        t = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        times["threads"].append(time.perf_counter() - t)
        t = time.perf_counter()
        for inbox, _ in pipes:
            inbox.put("go")
        for _, out in pipes:
            out.get()
        times["processes"].append(time.perf_counter() - t)
    for inbox, _ in pipes:
        inbox.put("stop")
    unit = unit_seconds()
    print(
        f"unit = {unit:.2f} s; medians of {repeats} (s):", {k: round(statistics.median(v), 2) for k, v in times.items()}
    )
    print(f"two worker processes: {spawn:.1f} s to spawn, import and train once; peak RSS {rss} MB each")


def _train() -> None:
    from core.lottery_ticket.pruning import LotteryConfig, lottery_ticket

    lottery_ticket(LotteryConfig(rounds=2, epochs=3, seed=0))


def _process_worker(inbox, out) -> None:
    import resource

    _train()
    out.put(round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    while inbox.get() == "go":
        _train()
        out.put(None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", default="lottery_ticket")
    parser.add_argument("--params", default="lt_rounds=4&lt_epochs=5", help="query string of the shared setting")
    parser.add_argument("--seed-key", default="lt_seed", help="the page's seed control (for 4 different settings)")
    parser.add_argument("--port", type=int, default=8620)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--cases", default="1,4,8,4x", help="comma list: N identical viewers, or 4x = 4 settings")
    parser.add_argument("--threads", action="store_true", help="only compare threads and processes")
    parser.add_argument(
        "--nice", type=int, default=0, help="run the viewers' Chromium at this niceness (as if on other machines)"
    )
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.threads:
        threads_vs_processes()
        return
    if CHROMIUM is None:
        sys.exit("Chromium is missing: apt-get install -y --no-install-recommends chromium")
    from bench.calibration import unit_seconds

    base = f"/{args.page}?{args.params}"
    results = []
    for i, case in enumerate(args.cases.split(",")):
        port = _port(args.port + i)
        if case.endswith("x"):
            n = int(case[:-1])
            urls = [f"http://127.0.0.1:{port}{base}&{args.seed_key}={s + 1}" for s in range(n)]
            res = run_case(
                f"{n} viewers, {n} settings", urls, port=port, in_turn=True, timeout_s=args.timeout, niceness=args.nice
            )
        else:
            urls = [f"http://127.0.0.1:{port}{base}"] * int(case)
            res = run_case(
                f"{case} viewer(s), same setting",
                urls,
                port=port,
                in_turn=False,
                timeout_s=args.timeout,
                niceness=args.nice,
            )
        results.append(res)
        views = res["views"]
        print(
            f"{res['case']}: all finished at {max(v['done'] for v in views):.1f} s; per viewer "
            + ", ".join(f"{v['done']:.1f}" for v in views)
            + f"; queued: {[v['queued'] or '-' for v in views]}; max other viewers seen: "
            f"{max(v['others'] for v in views)}; exceptions: {sum(v['exceptions'] for v in views)}; server CPU "
            f"{res['cpu']:.1f} s, peak RSS {res['rss']:.0f} MB; the run itself took "
            f"{max(v['run_s'] for v in views):.1f} s; load average {res['load'][0]:.1f} -> {res['load'][1]:.1f}",
            flush=True,
        )
    unit = unit_seconds()
    singles = [r for r in results if len(r["views"]) == 1]
    one = max(v["done"] for v in singles[0]["views"]) if singles else float("nan")
    print(
        f"\npage {base}, {os.cpu_count()} cores, viewers' Chromium at niceness {args.nice}, unit = {unit:.2f} s "
        "(bench/calibration.py, measured after the cases)"
    )
    print(
        "| case | all viewers finished (s) | x one viewer | the run (s) | server CPU (s) | server peak RSS (MB) "
        "| load average (start -> end) |"
    )
    print("|---|---|---|---|---|---|---|")
    for res in results:
        done = max(v["done"] for v in res["views"])
        run_s = max(v["run_s"] for v in res["views"])
        print(
            f"| {res['case']} | {done:.1f} | {done / one:.2f} | {run_s:.1f} | {res['cpu']:.1f} | {res['rss']:.0f} "
            f"| {res['load'][0]:.1f} -> {res['load'][1]:.1f} |"
        )
    for res in results:
        if "settings" in res["case"]:
            done = [v["done"] for v in res["views"]]
            order = sorted(range(len(done)), key=done.__getitem__)
            w = os.cpu_count() or 2  # the pool's default size: the first w start at once, the rest wait in turn
            fifo = all(max(done[:w]) <= d for d in done[w:]) and order[w:] == sorted(order[w:])
            print(
                f"{res['case']}: finish order by arrival {order}; queue places seen "
                f"{[v['queued'] for v in res['views']]}"
                f"; FIFO: {fifo}"
            )


if __name__ == "__main__":
    main()
