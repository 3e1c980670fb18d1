"""Live runs for long work.

Progress and a throttled live chart while a ``core`` function trains, a Stop button, and a process-wide LRU of
finished runs so that a revisit with the same settings is instant.

The ``core`` function follows the project convention: ``fn(config, *, callback)`` (or ``fn(**config,
callback=...)`` when ``config`` is a dict) calls ``callback(record)`` every few steps with a dict that carries
``"progress"`` (fraction done, 0..1) and whatever the live chart plots, and returns the full result.
"""

from __future__ import annotations

import hashlib
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

MAX_FINISHED = 48  # finished runs kept per process (results are small DataFrames)
MIN_REDRAW_S = 0.1  # at most 10 live-chart updates per second

_finished: OrderedDict[tuple, Any] = OrderedDict()
_lock = threading.Lock()


def run_key(fn: Callable, config: Any) -> tuple:
    """The cache key of a run: the function and a stable repr of its configuration."""
    if isinstance(config, dict):
        config = tuple(sorted((k, _fingerprint(v)) for k, v in config.items()))
    return fn.__module__, fn.__qualname__, repr(config)


def _fingerprint(value: Any) -> str:
    """A repr that is exact for arrays of any size (numpy's repr elides long arrays with '...')."""
    if isinstance(value, np.ndarray | pd.Series | pd.DataFrame):
        data = np.ascontiguousarray(value.to_numpy() if hasattr(value, "to_numpy") else value)
        return f"array{data.shape}{data.dtype}:{hashlib.sha1(data.tobytes()).hexdigest()}"
    return repr(value)


def finished_run(fn: Callable, config: Any) -> tuple[Any, list[str]] | None:
    """The cached (result, warning messages) of a finished run, or ``None``."""
    key = run_key(fn, config)
    with _lock:
        if key in _finished:
            _finished.move_to_end(key)
            return _finished[key]
    return None


def _warn(messages: list[str]) -> None:
    for message in messages:
        st.warning(message, icon=":material/warning:")


def _store(key: tuple, result: Any) -> None:
    with _lock:
        _finished[key] = result
        _finished.move_to_end(key)
        while len(_finished) > MAX_FINISHED:
            _finished.popitem(last=False)


def live_run(
    fn: Callable,
    config: Any,
    *,
    label: str,
    key: str,
    live_chart: Callable[[pd.DataFrame], alt.TopLevelMixin] | None = None,
) -> Any | None:
    """Run ``fn`` with live progress, or return its cached result.

    Parameters
    ----------
    fn : callable
        A ``core`` function taking ``config`` and a keyword ``callback``.
    config : frozen dataclass or dict
        The run's settings; equal configurations share one cached result.
    label : str
        What the progress bar says ("Training 3 variants x 16 rounds").
    key : str
        A page-unique key for the Stop button and the stopped state.
    live_chart : callable, optional
        Builds a chart from the records so far (a DataFrame of the callback dicts), redrawn at most 10 times a
        second.

    Returns
    -------
    The result, or ``None`` when the user stopped the run or it failed with a bad-input message (both are
    shown on the page; the caller should then ``st.stop()`` or skip its charts). Warnings the run raised (e.g.
    a run that did not converge) are shown with ``st.warning``, again on every cached revisit.
    """
    rkey = run_key(fn, config)
    cached = finished_run(fn, config)
    if cached is not None:
        result, messages = cached
        _warn(messages)
        return result

    stopped_key, partial_key = f"_run_stopped_{key}", f"_run_partial_{key}"
    if st.session_state.get(stopped_key) == rkey:
        records = st.session_state.get(partial_key, [])
        done = records[-1].get("progress", 0.0) if records else 0.0
        shown = "; the chart shows what it had computed" if live_chart is not None and records else ""
        st.info(
            f"Run stopped by you at {done:.0%}{shown}. Change a setting or press Run to start it again.",
            icon=":material/stop_circle:",
        )
        if live_chart is not None and records:
            st.altair_chart(live_chart(pd.DataFrame(records)), width="stretch")
        if st.button("Run", key=f"_run_again_{key}", icon=":material/play_arrow:"):
            st.session_state.pop(stopped_key, None)
            st.rerun()
        return None

    area = st.empty()  # everything the run shows; cleared as one when it finishes
    with area.container():
        top = st.columns([5, 1], vertical_alignment="center")
        bar = top[0].progress(0.0, text=f"{label}: starting")
        if top[1].button("Stop", key=f"_run_stop_{key}", icon=":material/stop:"):
            st.session_state[stopped_key] = rkey
            st.rerun()
        slot = st.empty()
    records: list[dict] = []
    st.session_state[partial_key] = records
    next_draw = [0.0]
    started = time.monotonic()

    def draw() -> None:
        now = time.monotonic()
        if now < next_draw[0]:
            return
        frac = float(min(max(records[-1].get("progress", 0.0), 0.0), 1.0)) if records else 0.0
        bar.progress(frac, text=f"{label}: {frac:.0%} ({now - started:.1f} s)")
        if live_chart is not None and records:
            slot.altair_chart(live_chart(pd.DataFrame(records)), width="stretch")
        # Redraws cost CPU the run needs: keep them to at most a quarter of the time, and 10 a second.
        done = time.monotonic()
        next_draw[0] = done + max(MIN_REDRAW_S, 3 * (done - now))

    def callback(record: dict) -> None:
        records.append(dict(record))
        draw()

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = fn(**config, callback=callback) if isinstance(config, dict) else fn(config, callback=callback)
    except (ValueError, TypeError) as exc:
        area.empty()
        st.error(str(exc), icon=":material/error:")
        return None
    messages = list(dict.fromkeys(str(w.message) for w in caught))
    _store(rkey, (result, messages))
    area.empty()
    _warn(messages)
    st.session_state.pop(partial_key, None)
    return result
