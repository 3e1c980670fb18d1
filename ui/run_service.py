"""The run service: one process-wide registry of long runs, a bounded pool of worker threads, and a FIFO queue.

No streamlit here (``ui/runs.py`` draws it); the tests drive it directly.

- **One run per key.** A run key is (function, configuration). A viewer asking for a run that is queued or running
  joins it; every viewer then reads the same live records and gets the same result. Finished runs stay in an LRU
  bounded by bytes, and (when a ``DiskCache`` is given) on disk.
- **Workers are threads.** Measured with ``python bench/bench_crowd.py --threads`` (two lottery-ticket trainings,
  2 rounds x 3 epochs, medians of 5, on the 2-core machine while other jobs loaded it): one alone 6.2 s, two one
  after the other 12.4 s, two in threads of one process 9.5 s, two in two warm worker processes 9.6 s. Torch
  releases the GIL inside its ops, so threads overlap about as well as processes here, while each process costs
  ~460 MB of RSS (its own torch, data and allocator) and ~50 s to spawn and import under that load, and would have
  to stream its records back. So the pool is threads (one torch thread each), ``workers`` of them (default: the
  number of cores). A crowd of viewers polling one run was 17x slower than one viewer until Streamlit's full garbage
  collection after every fragment rerun was turned off (``ui/runs.py``); after that the shared run took about as long
  with 4 or 8 viewers as with one (bench_crowd on the idle machine, the viewers' browser at the lowest priority:
  4.8 s with 1, 5.4 s with 4, 5.6 s with 8; README), so a process per worker would buy little speed for its
  memory.
- **FIFO, viewers first.** Viewer runs are served in arrival order; background ("warm") runs only take a worker no
  viewer run waits for, and a viewer run that finds every worker busy preempts a running warm run (requeued).
- **Cancellation is cooperative.** Every viewer heartbeats the runs it follows; a run whose last viewer detached or
  stopped heartbeating for ``heartbeat_s`` is cancelled: its next callback raises inside the worker, its partial
  records are dropped and the worker moves on.
- **Warnings travel with their run.** ``collect_warnings()`` routes ``warnings.warn`` calls made in the current
  thread to that run's list through a ``warnings.showwarning`` hook (installed once, under a lock) plus an "always"
  filter for the routed categories, so the same warning in two runs is reported in both, and never in a third.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import sys
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

import numpy as np
import pandas as pd

from ui.run_store import DiskCache, Stored

log = logging.getLogger(__name__)

VIEWER, WARM = 0, 1  # queue priorities: every viewer run comes before any background run


# ---------------------------------------------------------------------------------------------------------------
# Warnings, per thread


_sink = threading.local()
_install_lock = threading.Lock()
_ROUTED = (UserWarning, RuntimeWarning)  # what core code warns with (sklearn and POT warnings are UserWarnings)
_fallback: list[Callable] = []


def _route(message, category, filename, lineno, file=None, line=None) -> None:
    messages = getattr(_sink, "messages", None)
    if messages is not None and issubclass(category, _ROUTED):
        messages.append(str(message))
    elif _fallback:
        _fallback[0](message, category, filename, lineno, file, line)


def _install_router() -> None:
    """Install the showwarning hook and the "always" filters (again, if something reset them)."""
    with _install_lock:
        if warnings.showwarning is not _route:
            _fallback[:] = [warnings.showwarning]
            warnings.showwarning = _route
        for category in _ROUTED:
            if ("always", None, category, None, 0) not in warnings.filters:
                warnings.filterwarnings("always", category=category)


@contextmanager
def collect_warnings() -> Iterator[list[str]]:
    """Collect the warnings raised in this thread (only) into the yielded list, in order, without duplicates."""
    _install_router()
    outer = getattr(_sink, "messages", None)
    messages: list[str] = []
    _sink.messages = messages
    try:
        yield messages
    finally:
        _sink.messages = outer
        messages[:] = list(dict.fromkeys(messages))


# ---------------------------------------------------------------------------------------------------------------
# Sizes and keys


def nbytes(obj: Any) -> int:
    """An estimate of the memory a result holds (arrays and frames counted by their buffers)."""
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if isinstance(obj, pd.DataFrame | pd.Series | pd.Index):
        usage = obj.memory_usage(deep=True)
        return int(usage.sum() if hasattr(usage, "sum") else usage)
    if is_dataclass(obj) and not isinstance(obj, type):
        return 64 + sum(nbytes(getattr(obj, f.name)) for f in fields(obj))
    if isinstance(obj, dict):
        return 64 + sum(nbytes(k) + nbytes(v) for k, v in obj.items())
    if isinstance(obj, list | tuple | set | frozenset):
        return 64 + sum(nbytes(v) for v in obj)
    return sys.getsizeof(obj)


class QueueFull(RuntimeError):
    """More viewer runs wait than the service accepts."""


class _Cancelled(BaseException):
    """Raised by a cancelled run's callback; a BaseException so that ``except Exception`` in core code passes it."""


@dataclass(eq=False)
class Run:
    """A run that is queued, running or over; viewers read it without locking (records only grow)."""

    key: tuple
    fn: Callable
    config: Any
    label: str
    seq: int
    priority: int
    state: str = "queued"  # queued -> running -> done | error | cancelled
    records: list[dict] = field(default_factory=list)
    result: Any = None
    warnings: tuple[str, ...] = ()
    error: str | None = None
    bad_input: bool = False  # the error is a ValueError/TypeError: a message for the user
    submitted: float = field(default_factory=time.monotonic)
    started: float | None = None
    seconds: float | None = None
    viewers: dict[str, float] = field(default_factory=dict)  # viewer id -> last heartbeat (monotonic)
    preempted: bool = False
    cancel: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def progress(self) -> float:
        """Fraction done, from the last record's ``"progress"``."""
        if not self.records:
            return 0.0
        return float(min(max(self.records[-1].get("progress", 0.0), 0.0), 1.0))

    @property
    def in_flight(self) -> bool:
        """Queued or running."""
        return self.state in ("queued", "running")


def call(fn: Callable, config: Any, callback: Callable | None = None) -> Any:
    """Call a run function the way the service does: ``fn(config, callback=...)``, ``config`` a frozen dataclass."""
    params = getattr(config, "__dataclass_params__", None)
    if isinstance(config, type) or params is None or not params.frozen:
        raise TypeError(
            f"A run's configuration must be a frozen dataclass (the experiment contract `fn(config, *, callback)`). "
            f"Got {type(config).__name__} for {fn.__qualname__} instead."
        )
    return fn(config, callback=callback)


class RunService:
    """The process-wide registry, queue and worker pool.

    Parameters
    ----------
    workers : int
        Worker threads: runs executing at once.
    max_waiting : int
        Viewer runs that may wait in the queue; one more raises ``QueueFull``.
    max_bytes : int
        Bytes of finished results kept in memory (least recently used evicted first).
    disk : DiskCache, optional
        Where finished runs are also written, and looked up after a restart.
    heartbeat_s : float
        A viewer that has not sent a heartbeat for this long no longer watches.
    alive : callable, optional
        ``alive(viewer)`` is false once the viewer's browser session is gone (a closed tab): checked every tick, so
        a closed tab lets its runs go within a second, without waiting for ``heartbeat_s``.
    """

    def __init__(
        self,
        *,
        workers: int,
        max_waiting: int,
        max_bytes: int,
        disk: DiskCache | None = None,
        heartbeat_s: float = 4.0,
        alive: Callable[[str], bool] | None = None,
    ) -> None:
        if workers < 1 or max_waiting < 0 or max_bytes < 0:
            raise ValueError("need workers >= 1, max_waiting >= 0 and max_bytes >= 0")
        self.workers, self.max_waiting, self.max_bytes = workers, max_waiting, max_bytes
        self.disk, self.heartbeat_s, self.alive = disk, heartbeat_s, alive
        self._cond = threading.Condition()
        self._queue: list[tuple[int, int, Run]] = []
        self._active: dict[tuple, Run] = {}  # queued or running, by key
        self._running: set[Run] = set()
        self._finished: OrderedDict[tuple, tuple[Stored, int]] = OrderedDict()
        self._bytes = 0
        self._seq = itertools.count()
        self._closed = False
        self.order: list[tuple] = []  # keys in the order runs started (for tests and the bench)
        self._threads = [
            threading.Thread(target=self._work, name=f"run-worker-{i}", daemon=True) for i in range(workers)
        ]
        self._threads.append(threading.Thread(target=self._watch, name="run-watchdog", daemon=True))
        for thread in self._threads:
            thread.start()

    # -- lookups ---------------------------------------------------------------------------------------------

    def finished(self, key: tuple) -> Stored | None:
        """The finished run of ``key`` from memory, else from disk (then kept in memory), else ``None``."""
        with self._cond:
            hit = self._finished.get(key)
            if hit is not None:
                self._finished.move_to_end(key)
                return hit[0]
        stored = self.disk.load(key) if self.disk is not None else None
        if stored is not None:
            with self._cond:
                self._remember(key, stored)
        return stored

    def active(self, key: tuple) -> Run | None:
        """The queued or running run of ``key``."""
        with self._cond:
            return self._active.get(key)

    def ahead(self, run: Run) -> int:
        """How many queued runs will start before ``run``."""
        with self._cond:
            me = (run.priority, run.seq)
            return sum(1 for r in self._active.values() if r.state == "queued" and (r.priority, r.seq) < me)

    @property
    def cached_bytes(self) -> int:
        """Bytes of finished results held in memory."""
        return self._bytes

    # -- requests --------------------------------------------------------------------------------------------

    def request(
        self,
        fn: Callable,
        config: Any,
        *,
        key: tuple,
        viewer: str | None = None,
        label: str = "",
        fresh: bool = False,
    ) -> Run | Stored:
        """Join the run of ``key``, or return its finished result, or queue a new run.

        ``viewer=None`` queues a background run at the lowest priority. ``fresh=True`` ignores a finished result
        (a "Run again"). Raises ``QueueFull`` when ``max_waiting`` viewer runs already wait.
        """
        stored = None if fresh else self.finished(key)
        with self._cond:
            run = self._active.get(key)
            if run is not None and run.cancel.is_set():  # being cancelled: it ends at its next callback
                run = None
            if run is None:
                if stored is not None:
                    return stored
                if viewer is not None and self._waiting() >= self.max_waiting:
                    raise QueueFull(
                        f"The server is busy: {self._waiting()} runs are waiting already. Try again in a minute."
                    )
                run = Run(key, fn, config, label, next(self._seq), VIEWER if viewer is not None else WARM)
                self._active[key] = run
                heapq.heappush(self._queue, (run.priority, run.seq, run))
            if viewer is not None:
                run.viewers[viewer] = time.monotonic()
                if run.priority == WARM:  # a viewer joined a background run: it is a viewer run now
                    run.priority = VIEWER
                    if run.state == "queued":
                        heapq.heappush(self._queue, (run.priority, run.seq, run))
                self._preempt()
            self._cond.notify_all()
            return run

    def heartbeat(self, run: Run, viewer: str) -> None:
        """``viewer`` still watches ``run``."""
        with self._cond:
            if run.in_flight:
                run.viewers[viewer] = time.monotonic()

    def detach(self, run: Run, viewer: str) -> None:
        """``viewer`` stops watching ``run``; the run is cancelled if nobody else does."""
        with self._cond:
            run.viewers.pop(viewer, None)
            if run.in_flight and run.priority == VIEWER and not run.viewers:
                log.info("Cancelling run %s: its last viewer left", run.label or run.key[:2])
                self._cancel(run)

    def close(self) -> None:
        """Cancel everything and stop the workers (tests)."""
        with self._cond:
            self._closed = True
            for run in list(self._active.values()):
                self._cancel(run)
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=10)

    # -- internals (called with the lock held) ---------------------------------------------------------------

    def _waiting(self) -> int:
        return sum(1 for r in self._active.values() if r.state == "queued" and r.priority == VIEWER)

    def _preempt(self) -> None:
        """A viewer run waits and every worker is busy: cancel one running background run (it is requeued)."""
        if len(self._running) < self.workers or not self._waiting():
            return
        for run in self._running:
            if run.priority == WARM and not run.cancel.is_set():
                run.preempted = True
                run.cancel.set()
                return

    def _cancel(self, run: Run) -> None:
        if run.state == "queued":
            self._active.pop(run.key, None)
            run.state, run.records = "cancelled", []
            run.done.set()
        elif run.state == "running":
            run.cancel.set()

    def _remember(self, key: tuple, stored: Stored) -> None:
        size = nbytes(stored.result)
        if key in self._finished:
            self._bytes -= self._finished.pop(key)[1]
        if size > self.max_bytes:
            return
        self._finished[key] = (stored, size)
        self._bytes += size
        while self._bytes > self.max_bytes:
            _, (_, old) = self._finished.popitem(last=False)
            self._bytes -= old

    # -- threads ---------------------------------------------------------------------------------------------

    def _next(self) -> Run | None:
        with self._cond:
            while True:
                if self._closed:
                    return None
                while self._queue:
                    priority, _, run = heapq.heappop(self._queue)
                    if run.state == "queued" and priority == run.priority:
                        run.state, run.started = "running", time.monotonic()
                        self._running.add(run)
                        self.order.append(run.key)
                        return run
                self._cond.wait()

    def _work(self) -> None:
        while (run := self._next()) is not None:
            try:
                self._execute(run)
            except BaseException:  # never lose a worker, whatever a run does
                log.exception("Run service: unexpected failure around run %s", run.label or run.key[:2])

    def _execute(self, run: Run) -> None:
        def callback(record: dict) -> None:
            if run.cancel.is_set():
                raise _Cancelled
            run.records.append(dict(record))

        outcome, result, error = "done", None, None
        with collect_warnings() as caught:
            try:
                if run.cancel.is_set():
                    raise _Cancelled
                result = call(run.fn, run.config, callback)
            except _Cancelled:
                outcome = "cancelled"
            except (ValueError, TypeError) as exc:
                outcome, error = "bad_input", str(exc)
            except Exception as exc:
                outcome = "error"
                error = f"The run '{run.label or run.key[1]}' failed: {type(exc).__name__}: {exc}"
                log.exception("Run %s (%s.%s) failed", run.label, run.key[0], run.key[1])
        seconds = time.monotonic() - (run.started or time.monotonic())
        stored = None
        if outcome == "done":
            stored = Stored(result, tuple(caught), time.time(), seconds, run.priority == WARM and not run.viewers)
        with self._cond:
            self._running.discard(run)
            if self._active.get(run.key) is run:
                del self._active[run.key]
            run.seconds = seconds
            if outcome == "cancelled":
                run.state, run.records = "cancelled", []
                if run.preempted and not self._closed:  # a background run that gave way: back in the queue
                    again = Run(run.key, run.fn, run.config, run.label, next(self._seq), WARM)
                    self._active.setdefault(run.key, again)
                    if self._active[run.key] is again:
                        heapq.heappush(self._queue, (WARM, again.seq, again))
            elif outcome == "done":
                run.state, run.result, run.warnings = "done", result, tuple(caught)
                self._remember(run.key, stored)
            else:
                run.state, run.error, run.warnings = "error", error, tuple(caught)
                run.bad_input = outcome == "bad_input"
            run.done.set()
            self._cond.notify_all()
        if stored is not None and self.disk is not None:
            try:
                self.disk.save(run.key, stored)
            except OSError:
                log.warning("Could not write run %s to the disk cache", run.label, exc_info=True)

    def _watch(self) -> None:
        """Drop viewers that stopped heartbeating; cancel viewer runs nobody watches."""
        tick = min(0.5, self.heartbeat_s / 4)
        while True:
            time.sleep(tick)
            with self._cond:
                if self._closed:
                    return
                now = time.monotonic()
                for run in list(self._active.values()):
                    for viewer, beat in list(run.viewers.items()):
                        if now - beat > self.heartbeat_s or (self.alive is not None and not self.alive(viewer)):
                            del run.viewers[viewer]
                    if run.priority == VIEWER and not run.viewers:
                        log.warning("Cancelling run %s: its viewers closed their tabs or stopped polling", run.label)
                        self._cancel(run)
