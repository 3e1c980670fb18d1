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
    python bench/bench_crowd.py --nice 19              # viewers' Chromium at the lowest priority, as if remote
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


SCAN = """() => ({
    progress: [...document.querySelectorAll('[data-testid="stProgress"]')].map(e => e.textContent),
    done: [...document.querySelectorAll('[data-testid="stCaptionContainer"]')].map(e => e.textContent)
        .find(t => /Finished in|Cached run/.test(t)) || null,
    chart: document.querySelector('[data-testid="stVegaLiteChart"]') !== null,
    exceptions: document.querySelectorAll('[data-testid="stException"]').length,
})"""  # textContent: reading it lays nothing out, so the viewers' checks cost their browser next to nothing


async def _viewer(
    browser, url: str, t0: float, timeout_s: float, after: asyncio.Event | None, shown: asyncio.Event
) -> dict:
    """Open ``url`` (once ``after`` is set: the previous viewer's run reached the server) and wait for its result.

    The page is read four times a second with one cheap script (``SCAN``) rather than Playwright's selector waits,
    which re-run a text search over the whole page on every animation frame of every tab: with 8 tabs in one
    browser on 2 cores, that polling alone was a large share of the browser's CPU.
    """
    if after is not None:
        await after.wait()
        await asyncio.sleep(0.5)
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    page = await context.new_page()
    seen = {"queued": "", "others": 0}
    opened = time.monotonic() - t0
    await page.goto(url, timeout=timeout_s * 1000, wait_until="commit")  # 8 tabs at once on a loaded server: slow
    while True:
        try:
            state = await page.evaluate(SCAN)
        except Exception:  # the page is navigating (the router's first rerun)
            state = {"progress": [], "done": None, "chart": False, "exceptions": 0}
        if state["progress"] or state["done"]:
            shown.set()
        for text in state["progress"]:
            if "queued" in text and not seen["queued"]:
                seen["queued"] = text.split("queued: ", 1)[1]
            if "watched by" in text:
                seen["others"] = max(seen["others"], int(text.split("watched by ", 1)[1].split()[0]))
        if state["done"] and state["chart"]:
            break
        if time.monotonic() - t0 > timeout_s:
            raise TimeoutError(f"a viewer of {url} saw no finished run within {timeout_s:.0f} s")
        await asyncio.sleep(0.25)
    done = time.monotonic() - t0
    caption = state["done"]
    run_s = float(caption.split(" in ", 1)[1].split(" s", 1)[0]) if " in " in caption else float("nan")
    await context.close()
    return {"opened": opened, "done": done, "run_s": run_s, "exceptions": state["exceptions"], **seen}


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


def _chromium_launcher(folder: str) -> str:
    """A Chromium launcher that records the browser's PID (for its CPU time and its niceness)."""
    launcher = Path(folder) / "chromium"
    launcher.write_text(f'#!/bin/sh\necho $$ > {folder}/chromium.pid\nexec {CHROMIUM} "$@"\n')
    launcher.chmod(0o755)
    return str(launcher)


def _browser_processes(folder: str) -> list[tuple[int, list[str]]]:
    """(pid, stat fields after the name) of the viewers' browser and every process descended from it."""
    leader = int((Path(folder) / "chromium.pid").read_text())
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            stats[int(stat.parent.name)] = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
    family, grew = {leader}, True
    while grew:
        more = {pid for pid, fields in stats.items() if int(fields[1]) in family} - family
        family |= more
        grew = bool(more)
    return [(pid, stats[pid]) for pid in family if pid in stats]


def _browser_cpu_seconds(folder: str) -> float:
    """CPU time of the viewers' browser so far: its live processes plus the children they reaped.

    Counted over the process tree with the reaped children's time (a tab's renderer ends when its viewer closes
    it, and its parent, Chromium's zygote, reaps it).
    """
    ticks = sum(sum(int(f) for f in fields[11:15]) for _, fields in _browser_processes(folder))  # u/s time, reaped
    return ticks / os.sysconf("SC_CLK_TCK")


async def _lower_browser_priority(folder: str, niceness: int) -> None:
    """Keep every process of the viewers' browser at ``niceness``, for itself and for its session (autogroup).

    Playwright starts the browser in a session of its own (``setsid``). With the kernel's autogroup scheduling on
    (``/proc/sys/kernel/sched_autogroup_enabled``), CPU is shared fairly between sessions first and a process's
    niceness only ranks it within its session, so a plain ``nice chromium`` does not make the browser yield to the
    server; Chromium also sets its own processes' niceness (browser and GPU -8, renderers 0 or 5). This sets the
    session's niceness and re-applies the niceness to each process as it appears.
    """
    while True:
        for pid, _ in _browser_processes(folder):
            try:
                os.setpriority(os.PRIO_PROCESS, pid, niceness)
                Path(f"/proc/{pid}/autogroup").write_text(str(niceness))
            except OSError:  # it ended, or the kernel has no autogroups
                continue
        await asyncio.sleep(0.2)


async def _crowd(
    server: Server, urls: list[str], in_turn: bool, timeout_s: float, niceness: int
) -> tuple[list[dict], float, float]:
    """All viewers at once, or (``in_turn``) each opened 0.5 s after the previous one's run reached the server.

    Returns the viewers' observations, the wall time until the last finished and the browser's CPU time meanwhile.
    """
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=_chromium_launcher(server.cache), headless=True, args=ARGS)
        lowering = asyncio.create_task(_lower_browser_priority(server.cache, niceness)) if niceness else None
        warm = await browser.new_page()  # the server imports torch after its first page, before the clock starts
        await warm.goto(server.url)
        await warm.wait_for_selector("h1", timeout=120_000)
        await warm.close()
        await _settle(server)
        t0, browser_cpu0 = time.monotonic(), _browser_cpu_seconds(server.cache)
        shown = [asyncio.Event() for _ in urls]
        views = await asyncio.gather(
            *(
                _viewer(browser, u, t0, timeout_s, shown[i - 1] if in_turn and i else None, shown[i])
                for i, u in enumerate(urls)
            )
        )
        wall = time.monotonic() - t0
        browser_cpu = _browser_cpu_seconds(server.cache) - browser_cpu0
        if lowering is not None:
            lowering.cancel()
        await browser.close()
    return list(views), wall, browser_cpu


def run_case(name: str, urls: list[str], *, port: int, in_turn: bool, timeout_s: float, niceness: int = 0) -> dict:
    server = Server(port)
    try:
        cpu0, load0 = server.cpu_seconds(), os.getloadavg()[0]
        views, wall, browser_cpu = asyncio.run(_crowd(server, urls, in_turn, timeout_s, niceness))
        cpu = server.cpu_seconds() - cpu0  # includes the warm page and the settling before the clock starts
        rss = server.peak_rss_mb()
        load = (load0, os.getloadavg()[0])
    finally:
        logged = server.stop()
    if logged:
        print(f"{name}: the server logged\n{logged}")
    return {"case": name, "wall": wall, "views": views, "cpu": cpu, "browser_cpu": browser_cpu, "rss": rss,
            "load": load}  # fmt: skip


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
        "| case | all viewers finished (s) | x one viewer | the run (s) | server CPU (s) | viewers' browser CPU (s) "
        "| server peak RSS (MB) | load average (start -> end) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for res in results:
        done = max(v["done"] for v in res["views"])
        run_s = max(v["run_s"] for v in res["views"])
        print(
            f"| {res['case']} | {done:.1f} | {done / one:.2f} | {run_s:.1f} | {res['cpu']:.1f} "
            f"| {res['browser_cpu']:.1f} | {res['rss']:.0f} | {res['load'][0]:.1f} -> {res['load'][1]:.1f} |"
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
