"""Live runs for long work, shared by every session of the server.

A page calls ``live_run(fn, config, label=..., key=..., live_chart=...)`` in its script body. The run itself executes
on the process-wide ``RunService`` (``ui/run_service.py``: worker threads, FIFO queue, one run per key, byte-bounded
LRU plus an on-disk cache): a second session asking for the same (function, configuration) joins the run in flight.
The page follows it with a polling ``st.fragment`` (progress, the live chart, Stop) that reruns the whole page once
the run is over, so the viewer can move other controls meanwhile. ``app.py`` calls ``keep_alive`` on every run:
while the session follows a run on the page it shows, a small fragment heartbeats it even from another tab of the
page; navigating away, pressing Stop, changing the setting or closing the tab lets the run go (it is cancelled
within a few seconds when nobody else watches it).

**A room of viewers costs about one viewer.** Every viewer's fragment reruns once a second (and ``keep_alive`` every
two), all in the server process whose worker thread trains the run. What made four viewers of one run 17x slower
than one (333 s against 19.9 s, server CPU 310 s) was not the polling itself but Streamlit's ``runner.postScriptGC``:
a full ``gc.collect()`` after every script run, fragment reruns included, which walks the ~460k objects that torch,
scipy, pandas and sympy create at import (~250 ms holding the GIL, measured) about 1.5 times a second per viewer, so
the GIL was never free for the run's torch ops. ``.streamlit/config.toml`` turns it off, ``freeze_heap()`` moves the
imported objects out of the reach of Python's own full collections, and the live chart is rebuilt only when a
record with data arrives (an Altair build is ~90-200 ms; most records only move the progress bar), at most
``LIVE_SHARE`` (10%) of the time, once for all viewers. What a poll costs now: ~6 ms of server CPU per viewer and
second; a Python thread busy 5% / 20% / 100% of the time slows a training thread 1.07x / 1.22x / 3.3x (measured), so
runs stay in threads (``ui/run_service.py``): with the viewers' browsers at the lowest CPU priority, the shared
run took 4.8 s with one viewer, 5.4 s with 4 and 5.6 s with 8. Numbers: README, "The run service";
``python bench/bench_crowd.py`` measures a crowd.

The ``core`` function follows the project convention: ``fn(config, *, callback)`` with ``config`` a frozen dataclass
calls ``callback(record)`` every few steps with a dict that carries ``"progress"`` (fraction done, 0..1) and whatever
the live chart plots, and returns the full result.

Settings (environment variables): ``LTL_RUN_WORKERS`` (runs at once; default: the number of cores),
``LTL_RUN_MAX_WAITING`` (viewer runs that may wait; default 16), ``LTL_RUN_MEMORY_MB`` (finished results kept in
memory; default 256), ``LTL_RUN_CACHE_DIR`` (the disk cache; default ``~/.cache/learning-theory-lab``, ``off`` to
disable), ``LTL_RUN_DISK_MB`` (its size; default 500).
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import math
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ui.run_service import QueueFull, Run, RunService
from ui.run_store import DiskCache, Stored

POLL_S = 1.0  # how often a viewer's fragment redraws a run it follows (and heartbeats it)
KEEPALIVE_S = 2.0  # heartbeat of runs the session follows from another tab of the page
# A viewer silent for this long has left. A closed tab is noticed sooner, from its session (``_session_alive``); the
# heartbeat covers a session that stays connected but stopped polling. It is generous because on a loaded server a
# fragment rerun can wait several seconds for the CPU, and a watched run must never be cancelled by mistake.
HEARTBEAT_S = 15.0
LIVE_SHARE = 0.1  # at most this share of the time goes to rebuilding a run's live chart (it holds the GIL)
BLOCKING: bool | None = None  # wait for runs in the script thread; None: only without a server (AppTest, bare mode)

_service: list[RunService] = []
_service_lock = threading.Lock()
_live_lock = threading.Lock()  # one build of a run's live chart at a time, shared by its viewers
FOLLOWED = "_runs_followed"  # session: page key -> (run, viewer id, page)


def cache_dir() -> Path | None:
    """The disk cache folder (``LTL_RUN_CACHE_DIR``; ``off`` disables it)."""
    folder = os.environ.get("LTL_RUN_CACHE_DIR", "")
    if folder.lower() == "off":
        return None
    if folder:
        return Path(folder)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "learning-theory-lab"


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def service() -> RunService:
    """The server's run service, created on first use from the environment settings."""
    with _service_lock:
        if not _service:
            folder = cache_dir()
            disk = None if folder is None else DiskCache(folder, max_bytes=_env_int("LTL_RUN_DISK_MB", 500) << 20)
            _service.append(
                RunService(
                    workers=_env_int("LTL_RUN_WORKERS", os.cpu_count() or 2),
                    max_waiting=_env_int("LTL_RUN_MAX_WAITING", 16),
                    max_bytes=_env_int("LTL_RUN_MEMORY_MB", 256) << 20,
                    disk=disk,
                    heartbeat_s=HEARTBEAT_S,
                    alive=_session_alive if _served() else None,
                )
            )
        return _service[0]


def freeze_heap() -> None:
    """Exempt every object alive now from the cyclic garbage collector (``gc.freeze``); called once after imports.

    The imported libraries hold ~460k objects; a full collection walks them all, ~250 ms holding the GIL while a
    run in a worker thread waits. After the freeze, Python's own full collections walk only what was made since.
    """
    gc.collect()
    gc.freeze()


def use_service(svc: RunService | None) -> RunService | None:
    """Replace the server's run service (tests); returns the previous one. ``None``: create anew on next use."""
    with _service_lock:
        old = _service[0] if _service else None
        _service[:] = [] if svc is None else [svc]
        return old


# ---------------------------------------------------------------------------------------------------------------
# Keys, JSON and the "Reproduce in Python" snippet


def _fingerprint(value: Any) -> str:
    """A repr that is exact for arrays of any size (numpy's repr elides long arrays with '...')."""
    if isinstance(value, np.ndarray | pd.Series | pd.DataFrame):
        data = np.ascontiguousarray(value.to_numpy() if hasattr(value, "to_numpy") else value)
        return f"array{data.shape}{data.dtype}:{hashlib.sha1(data.tobytes()).hexdigest()}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        inner = ", ".join(f"{f.name}={_fingerprint(getattr(value, f.name))}" for f in dataclasses.fields(value))
        return f"{type(value).__module__}.{type(value).__qualname__}({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_fingerprint(k)}: {_fingerprint(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, tuple | list):
        inner = ", ".join(_fingerprint(v) for v in value)
        return f"({inner},)" if isinstance(value, tuple) else f"[{inner}]"
    return repr(value)


def run_key(fn: Callable, config: Any) -> tuple[str, str, str]:
    """The key of a run: the function's module and name and an exact repr of its configuration."""
    return fn.__module__, fn.__qualname__, _fingerprint(config)


def _py(value: Any, imports: set[tuple[str, str]]) -> str:
    """Python source that rebuilds ``value``, adding what it needs to ``imports`` ((module, name) pairs)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        imports.add((cls.__module__, cls.__qualname__.split(".")[0]))
        init = [f.name for f in dataclasses.fields(value) if f.init]
        args = ", ".join(f"{name}={_py(getattr(value, name), imports)}" for name in init)
        return f"{cls.__qualname__}({args})"
    if isinstance(value, np.ndarray):
        imports.add(("numpy", "np"))
        return f"np.array({value.tolist()!r}, dtype={value.dtype.str!r})"
    if isinstance(value, np.generic):
        imports.add(("numpy", "np"))
        return f"np.{value.dtype.name}({_py(value.item(), imports)})"
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, tuple):
        inner = ", ".join(_py(v, imports) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(_py(v, imports) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py(k, imports)}: {_py(v, imports)}" for k, v in value.items()) + "}"
    if value is None or isinstance(value, bool | int | float | str):
        return repr(value)
    raise TypeError(f"cannot write a {type(value).__name__} as Python source")


def reproduce_code(fn: Callable, config: Any) -> str:
    """The imports, the configuration and the call of a run, runnable from the repository root."""
    imports: set[tuple[str, str]] = {(fn.__module__, fn.__qualname__.split(".")[0])}
    source = _py(config, imports)
    lines = ["# Run from the repository root (python, or a notebook started there)."]
    modules: dict[str, set[str]] = {}
    for module, name in imports:
        modules.setdefault(module, set()).add(name)
    for module, names in sorted(modules.items()):
        lines.append("import numpy as np" if module == "numpy" else f"from {module} import {', '.join(sorted(names))}")
    return "\n".join([*lines, "", f"config = {source}", f"result = {fn.__qualname__}(config)", ""])


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        body = {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"class": f"{cls.__module__}.{cls.__qualname__}", **body}
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    return value


def config_json(fn: Callable, config: Any) -> str:
    """The run's function and configuration as JSON (arrays as lists)."""
    return json.dumps({"function": f"{fn.__module__}.{fn.__qualname__}", "config": _jsonable(config)}, indent=2)


# ---------------------------------------------------------------------------------------------------------------
# What a page shows


def finished_run(fn: Callable, config: Any) -> tuple[Any, list[str]] | None:
    """The cached (result, warning messages) of a finished run (memory or disk), or ``None``."""
    stored = service().finished(run_key(fn, config))
    return None if stored is None else (stored.result, list(stored.warnings))


def _served() -> bool:
    """Whether a real server runs the script (AppTest mocks the runtime; bare mode has none)."""
    return runtime.exists() and type(runtime.get_instance()) is runtime.Runtime  # a spec'd mock passes isinstance


def _blocking() -> bool:
    return (not _served()) if BLOCKING is None else BLOCKING


def _viewer(key: str) -> str:
    """A viewer id: the browser session's id and the run's place on the page."""
    ctx = get_script_run_ctx() if _served() else None  # AppTest gives every session the same id
    session = ctx.session_id if ctx is not None else st.session_state.setdefault("_run_viewer", uuid.uuid4().hex)
    return f"{session}:{key}"


def _session_alive(viewer: str) -> bool:
    """False once the browser session of ``viewer`` has disconnected (the tab was closed)."""
    return runtime.get_instance().is_active_session(viewer.split(":", 1)[0])


def _ago(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def _show_finished(fn: Callable, config: Any, stored: Stored, *, key: str, watched: bool) -> Any:
    for message in stored.warnings:
        st.warning(message, icon=":material/warning:")
    when = time.strftime("%H:%M:%S %Z", time.localtime(stored.computed_at))
    how = " in the background after the server started" if stored.warm else ""
    ago = _ago(time.time() - stored.computed_at)
    text = (
        f"Finished in {stored.seconds:.1f} s."
        if watched
        else f"Cached run: computed at {when} ({ago}){how}, in {stored.seconds:.1f} s."
    )
    row = st.columns([6, 2, 1.4], vertical_alignment="center")
    row[0].caption(text)
    with row[1].popover("Reproduce in Python", icon=":material/code:"):
        try:
            st.code(reproduce_code(fn, config), language="python")
        except TypeError as exc:
            st.caption(f"No Python snippet for this run: {exc}.")
        st.download_button(
            "Config (JSON)",
            config_json(fn, config),
            file_name=f"{fn.__qualname__}_config.json",
            mime="application/json",
            key=f"_run_json_{key}",
            on_click="ignore",
            icon=":material/download:",
        )
    if row[2].button("Run again", key=f"_run_again_{key}", icon=":material/replay:", type="tertiary",
                     help="Recompute this run and watch it live"):  # fmt: skip
        st.session_state[f"_run_fresh_{key}"] = run_key(fn, config)
        st.rerun()
    return stored.result


def _show_error(run: Run) -> None:
    st.error(run.error, icon=":material/error:")


def _follow(run: Run, *, label: str, key: str, viewer: str, live_chart: Callable | None) -> None:
    """The polling fragment: progress, Stop, the live chart; it reruns the page once the run is over."""
    svc = service()

    def body() -> None:
        if run.done.is_set():
            st.rerun(scope="app")
        svc.heartbeat(run, viewer)
        top = st.columns([5, 1], vertical_alignment="center")
        if run.state == "queued":
            ahead = svc.ahead(run)
            text = f"{label}: queued: {ahead} run{'s' * (ahead != 1)} ahead of yours" if ahead else (
                f"{label}: queued: next in line, waiting for a free worker")  # fmt: skip
            top[0].progress(0.0, text=text)
        else:
            elapsed = time.monotonic() - (run.started or time.monotonic())
            others = len(run.viewers) - 1
            watching = f", watched by {others} other viewer{'s' * (others != 1)}" if others > 0 else ""
            top[0].progress(run.progress, text=f"{label}: {run.progress:.0%} ({elapsed:.0f} s{watching})")
        if top[1].button("Stop", key=f"_run_stop_{key}", icon=":material/stop:"):
            st.session_state[f"_run_stopped_{key}"] = run.key
            st.session_state[f"_run_partial_{key}"] = list(run.records)
            st.session_state.get(FOLLOWED, {}).pop(key, None)
            svc.detach(run, viewer)
            st.rerun(scope="app")
        if live_chart is not None and run.records:
            st.vega_lite_chart(_live_spec(run, live_chart), width="stretch")

    st.fragment(body, run_every=POLL_S)()


def _live_spec(run: Run, live_chart: Callable, *, clock: Callable[[], float] = time.monotonic) -> dict:
    """The live chart's Vega-Lite spec, shared by every viewer of the run and rebuilt only when it can change.

    Records that carry nothing but ``"progress"`` (most of them on some pages: one per epoch) add only empty rows
    to the chart, so the spec is rebuilt when a record with data has arrived, not on every record. Building and
    validating an Altair chart holds the GIL (~90 ms for a loss curve, ~200 ms for the information plane), which
    the run in its worker thread waits for; so a rebuild also waits until ``LIVE_SHARE`` of the time since the
    last one would cover it (the information plane: every 2 s instead of every poll).
    """
    with _live_lock:
        records = list(run.records)
        with_data = sum(1 for record in records if record.keys() - {"progress"})
        cached = getattr(run, "_live", None)  # (records with data, spec, built at, seconds to build)
        if cached is not None and (cached[0] == with_data or clock() - cached[2] < cached[3] / LIVE_SHARE):
            return cached[1]
        start = clock()
        spec = live_chart(pd.DataFrame(records)).to_dict()
        run._live = (with_data, spec, start, clock() - start)  # type: ignore[attr-defined]
        return spec


def _show_stopped(rkey: tuple, *, key: str, live_chart: Callable | None) -> None:
    records = st.session_state.get(f"_run_partial_{key}", [])
    done = records[-1].get("progress", 0.0) if records else 0.0
    shown = "; the chart shows what it had computed" if live_chart is not None and records else ""
    st.info(
        f"Run stopped by you at {done:.0%}{shown}. Change a setting or press Run to start it again.",
        icon=":material/stop_circle:",
    )
    if live_chart is not None and records:
        st.altair_chart(live_chart(pd.DataFrame(records)), width="stretch")
    if st.button("Run", key=f"_run_restart_{key}", icon=":material/play_arrow:"):
        st.session_state.pop(f"_run_stopped_{key}", None)
        st.rerun()


def live_run(
    fn: Callable,
    config: Any,
    *,
    label: str,
    key: str,
    live_chart: Callable[[pd.DataFrame], alt.TopLevelMixin] | None = None,
) -> Any | None:
    """Follow the shared run of ``fn(config)`` live, or return its finished result.

    Parameters
    ----------
    fn : callable
        A ``core`` function ``fn(config, *, callback=None)``.
    config : frozen dataclass
        The run's settings; equal configurations share one run and one cached result.
    label : str
        What the progress bar says ("Training 3 variants x 16 rounds").
    key : str
        A page-unique key for this run's place on the page (Stop button, stopped state).
    live_chart : callable, optional
        Builds a chart from the records so far (a DataFrame of the callback dicts).

    Returns
    -------
    The result, or ``None`` while the run is queued or running (the page is rerun when it is over), when the user
    stopped it, or when it failed (the message is shown). Warnings the run raised are shown with ``st.warning``,
    again on every cached revisit.
    """
    svc = service()
    rkey = run_key(fn, config)
    state = st.session_state
    viewer = _viewer(key)
    followed: dict = state.setdefault(FOLLOWED, {})
    current: Run | None = followed.get(key, (None,))[0]
    if current is not None and current.key != rkey:  # the setting changed: let the old run go
        svc.detach(current, viewer)
        followed.pop(key, None)
        current = None
    if state.get(f"_run_stopped_{key}") == rkey:
        _show_stopped(rkey, key=key, live_chart=live_chart)
        return None
    state.pop(f"_run_stopped_{key}", None)
    if current is not None and current.state == "error":
        _show_error(current)
        return None
    if current is not None and current.state == "done":
        followed.pop(key, None)
        stored = svc.finished(rkey) or Stored(
            current.result, current.warnings, time.time(), current.seconds or 0.0, False
        )
        return _show_finished(fn, config, stored, key=key, watched=True)
    if current is None or not current.in_flight:
        fresh = state.pop(f"_run_fresh_{key}", None) == rkey
        try:
            got = svc.request(fn, config, key=rkey, viewer=viewer, label=label, fresh=fresh)
        except QueueFull as exc:
            st.error(str(exc), icon=":material/hourglass_top:")
            return None
        if isinstance(got, Stored):
            followed.pop(key, None)
            return _show_finished(fn, config, got, key=key, watched=False)
        current = got
        followed[key] = (current, viewer, state.get("_runs_page", ""))
    if _blocking():
        while not current.done.wait(0.2):
            svc.heartbeat(current, viewer)
        return live_run(fn, config, label=label, key=key, live_chart=live_chart)
    _follow(current, label=label, key=key, viewer=viewer, live_chart=live_chart)
    return None


def keep_alive(page: str) -> None:
    """Called by ``app.py`` before the page runs: heartbeat the runs this session follows on ``page``.

    Runs followed on another page are let go (navigating away); while some followed run is in flight a fragment
    heartbeats it every few seconds, even when its place on the page is in a tab that is not drawn, and reruns the
    page when it is over.
    """
    state = st.session_state
    state["_runs_page"] = page
    followed: dict = state.setdefault(FOLLOWED, {})
    svc = service()
    for key, (run, viewer, where) in list(followed.items()):
        if where != page:
            svc.detach(run, viewer)
            del followed[key]
    watching = [(run, viewer) for run, viewer, _ in followed.values() if run.in_flight]
    if _blocking() or not watching:
        return

    def beat() -> None:
        for run, viewer in watching:
            svc.heartbeat(run, viewer)
        if any(not run.in_flight for run, _ in watching):
            st.rerun(scope="app")

    st.fragment(beat, run_every=KEEPALIVE_S)()


def warm(defaults: list[tuple[Callable, Any, str]]) -> int:
    """Queue the (fn, config, label) runs that are not cached yet at the lowest priority; returns how many."""
    svc = service()
    queued = 0
    for fn, config, label in defaults:
        got = svc.request(fn, config, key=run_key(fn, config), label=label)
        queued += isinstance(got, Run)
    return queued


def warm_in_background(defaults: Callable[[], list[tuple[Callable, Any, str]]]) -> threading.Thread | None:
    """Queue ``defaults()`` from a background thread (it imports torch); returns it, or ``None`` when off.

    Warming runs under a server only (not in AppTest or bare mode), unless ``LTL_RUN_WARM=0``.
    """
    if not _served() or os.environ.get("LTL_RUN_WARM", "1") == "0":
        return None
    thread = threading.Thread(target=lambda: warm(defaults()), name="run-warm-defaults", daemon=True)
    thread.start()
    return thread
