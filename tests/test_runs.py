"""The run service without a server: sharing, FIFO, cancellation, eviction, warnings, determinism, faults, disk."""

from __future__ import annotations

import gc
import json
import logging
import threading
import time
import tomllib
import warnings
from dataclasses import dataclass
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import pytest

from core.neural_collapse.training import CollapseConfig, train_collapse
from core.universality.grokking import GrokkingConfig, train_grokking
from ui import runs
from ui.run_service import QueueFull, Run, RunService, collect_warnings
from ui.run_store import DiskCache, Stored, Unsupported, decode, encode

TINY_GROK = GrokkingConfig(modulus=11, embed_dim=8, hidden=16, steps=60, patience=0)


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.01)


@dataclass(frozen=True)
class Gate:
    """A configuration for ``gated``: the run waits for ``release`` before returning ``value``."""

    value: int
    release: threading.Event
    steps: int = 1


calls: list[int] = []


def gated(config: Gate, *, callback=None) -> int:
    calls.append(config.value)
    for step in range(config.steps):
        while not config.release.wait(0.01):
            if callback is not None:
                callback({"progress": step / config.steps})
    return config.value


def endless(config: Gate, *, callback=None) -> int:
    """Reports progress until cancelled (or ``release`` is set)."""
    while not config.release.is_set():
        callback({"progress": 0.5, "value": config.value})
        time.sleep(0.005)
    return config.value


@pytest.fixture
def make_service():
    made = []

    def make(**kwargs) -> RunService:
        options = {"workers": 1, "max_waiting": 16, "max_bytes": 1 << 20, "heartbeat_s": 30.0, **kwargs}
        made.append(RunService(**options))
        return made[-1]

    yield make
    for svc in made:
        svc.close()


def submit(svc: RunService, fn, config, viewer: str | None = "v", **kwargs) -> Run:
    got = svc.request(fn, config, key=runs.run_key(fn, config), viewer=viewer, **kwargs)
    assert isinstance(got, Run)
    return got


def test_two_viewers_share_one_run_and_get_one_result(make_service) -> None:
    svc, release = make_service(), threading.Event()
    calls.clear()
    config = Gate(7, release, steps=3)
    first, second = submit(svc, gated, config, "alice"), submit(svc, gated, config, "bob")
    assert first is second and set(first.viewers) == {"alice", "bob"}
    wait_until(lambda: first.records)  # both read the same live records
    release.set()
    assert first.done.wait(5) and first.state == "done" and first.result == 7
    assert calls == [7]  # trained once
    assert svc.finished(first.key).result == 7  # and cached: a third viewer gets the result without a run
    assert svc.request(gated, config, key=first.key, viewer="carol").result == 7


def test_runs_start_in_arrival_order_and_viewers_see_their_place(make_service) -> None:
    svc = make_service(workers=1)
    blocker, release = Gate(0, threading.Event()), threading.Event()
    first = submit(svc, gated, blocker)
    wait_until(lambda: first.state == "running")
    queued = [submit(svc, gated, Gate(i, release), f"v{i}") for i in (1, 2, 3)]
    assert [svc.ahead(r) for r in queued] == [0, 1, 2]
    blocker.release.set()
    release.set()
    for run in queued:
        assert run.done.wait(5)
    assert [k for k in svc.order] == [first.key, *(r.key for r in queued)]


def test_a_background_run_never_goes_ahead_of_a_viewer_and_gives_way(make_service) -> None:
    svc = make_service(workers=1)
    warm_cfg = Gate(1, threading.Event())
    warm = submit(svc, endless, warm_cfg, viewer=None)  # background: no viewer
    wait_until(lambda: warm.state == "running")
    mine = submit(svc, gated, Gate(2, threading.Event()), "me")
    wait_until(lambda: mine.state == "running", timeout=5)  # the background run was cancelled to free the worker
    assert warm.state == "cancelled" and warm.records == []
    requeued = svc.active(warm.key)
    assert requeued is not None and requeued.state == "queued"  # and waits behind
    mine.config.release.set()
    warm_cfg.release.set()
    assert mine.done.wait(5)
    wait_until(lambda: svc.finished(warm.key) is not None)
    assert svc.order == [warm.key, mine.key, warm.key]


def test_a_run_is_cancelled_when_its_last_viewer_leaves(make_service) -> None:
    svc = make_service()
    run = submit(svc, endless, Gate(3, threading.Event()), "alice")
    submit(svc, endless, run.config, "bob")
    wait_until(lambda: len(run.records) > 2)
    svc.detach(run, "alice")
    time.sleep(0.1)
    assert run.state == "running"  # bob still watches
    svc.detach(run, "bob")
    assert run.done.wait(2) and run.state == "cancelled"
    assert run.records == [] and svc.finished(run.key) is None  # partial records dropped, nothing cached
    assert submit(svc, gated, Gate(4, threading.Event()), "carol").config.value == 4  # the worker is free again


def test_asking_again_for_a_run_being_cancelled_starts_a_new_one(make_service) -> None:
    svc = make_service(workers=2)
    config = Gate(8, threading.Event())
    old = submit(svc, endless, config, "alice")
    wait_until(lambda: old.records)
    svc.detach(old, "alice")  # A -> B: the old run is cancelled ...
    new = submit(svc, endless, config, "alice")  # ... and B -> A again before it noticed
    assert new is not old
    assert old.done.wait(3) and old.state == "cancelled"
    assert svc.active(old.key) is new
    wait_until(lambda: new.state == "running")
    config.release.set()
    assert new.done.wait(3) and new.state == "done" and svc.finished(old.key).result == 8


def test_a_viewer_that_stops_heartbeating_has_left(make_service) -> None:
    svc = make_service(heartbeat_s=0.3)
    run = submit(svc, endless, Gate(5, threading.Event()), "alice")
    queued = submit(svc, endless, Gate(6, threading.Event()), "bob")
    for _ in range(10):  # alice keeps polling for 0.5 s, bob closed his tab
        svc.heartbeat(run, "alice")
        time.sleep(0.05)
    assert run.state == "running" and queued.state == "cancelled"
    assert run.done.wait(3) and run.state == "cancelled"  # alice stops polling too


def test_a_closed_tab_lets_its_runs_go_without_waiting_for_the_heartbeat(make_service) -> None:
    sessions = {"tab1": True, "tab2": True}
    svc = make_service(heartbeat_s=60.0, alive=lambda viewer: sessions[viewer.split(":")[0]])
    run = submit(svc, endless, Gate(7, threading.Event()), "tab1:key")
    submit(svc, endless, run.config, "tab2:key")
    sessions["tab1"] = False
    time.sleep(1.0)
    assert run.state == "running" and set(run.viewers) == {"tab2:key"}
    sessions["tab2"] = False
    assert run.done.wait(3) and run.state == "cancelled"


def test_finished_results_are_evicted_by_bytes_least_recent_first(make_service) -> None:
    item = np.zeros(1000)  # 8000 bytes
    svc = make_service(max_bytes=3 * item.nbytes + 1000)

    def array_run(config: Gate, *, callback=None) -> np.ndarray:
        return np.full(1000, float(config.value))

    done = threading.Event()
    done.set()
    keys = []
    for i in range(4):
        run = submit(svc, array_run, Gate(i, done))
        assert run.done.wait(5)
        keys.append(run.key)
        if i == 2:
            svc.finished(keys[0])  # touch the oldest: it becomes the most recent
    assert svc.finished(keys[1]) is None  # the least recently used one went
    assert [svc.finished(k).result[0] for k in (keys[0], keys[2], keys[3])] == [0.0, 2.0, 3.0]
    assert svc.cached_bytes <= 3 * item.nbytes + 1000


@dataclass(frozen=True)
class WarnIf:
    """A configuration for ``warn_if``: warn or not, once both runs are running (``barrier``)."""

    tag: str
    warns: bool
    barrier: threading.Barrier


def warn_if(config: WarnIf, *, callback=None) -> str:
    """Warns "did not converge" only when ``config.warns``, after both runs are running."""
    config.barrier.wait(5)
    if config.warns:
        warnings.warn("did not converge: raise max_iter", UserWarning, stacklevel=1)
    config.barrier.wait(5)
    return config.tag


def test_warnings_stay_with_their_own_run_every_time(make_service) -> None:
    svc = make_service(workers=2)
    for attempt in range(4):  # the same warning from the same line, again and again: no once-per-location dedup
        barrier = threading.Barrier(2)
        quiet = submit(svc, warn_if, WarnIf(f"quiet{attempt}", False, barrier))
        loud = submit(svc, warn_if, WarnIf(f"loud{attempt}", True, barrier))
        assert quiet.done.wait(5) and loud.done.wait(5)
        assert loud.warnings == ("did not converge: raise max_iter",)
        assert quiet.warnings == ()


def test_collect_warnings_is_per_thread() -> None:
    barrier, found = threading.Barrier(2), {}

    def work(name: str, warns: bool) -> None:
        with collect_warnings() as caught:
            barrier.wait(5)
            if warns:
                warnings.warn("solver stalled", RuntimeWarning, stacklevel=1)
            barrier.wait(5)
        found[name] = list(caught)

    threads = [threading.Thread(target=work, args=(n, n == "b")) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert found == {"a": [], "b": ["solver stalled"]}


@dataclass(frozen=True)
class Tagged:
    """A grokking configuration under a key of its own (``tag`` only tells the runs apart)."""

    config: GrokkingConfig
    tag: int


def grok(config: Tagged, *, callback=None) -> pd.DataFrame:
    """``train_grokking`` under a key of its own."""
    return train_grokking(config.config, callback=callback)


def test_same_seed_same_result_alone_or_interleaved_with_three_others(make_service) -> None:
    alone = train_grokking(TINY_GROK)
    other = GrokkingConfig(**{**TINY_GROK.__dict__, "seed": 1})
    svc = make_service(workers=4)
    started = [submit(svc, grok, Tagged(cfg, i)) for i, cfg in enumerate((TINY_GROK, other, TINY_GROK, other))]
    for run in started:
        assert run.done.wait(60) and run.state == "done", run.error
    pd.testing.assert_frame_equal(started[0].result, alone, check_exact=True)
    pd.testing.assert_frame_equal(started[2].result, alone, check_exact=True)
    pd.testing.assert_frame_equal(started[1].result, started[3].result, check_exact=True)
    assert not started[1].result.equals(alone)  # the other seed really differs


def crash(config: Gate, *, callback=None) -> int:
    raise RuntimeError(f"boom {config.value}")


def bad_input(config: Gate, *, callback=None) -> int:
    raise ValueError("`steps` must be at least 1. Got 0 instead.")


def test_a_crashing_run_is_reported_and_the_pool_keeps_working(make_service, caplog) -> None:
    svc = make_service(workers=1)
    done = threading.Event()
    done.set()
    with caplog.at_level(logging.ERROR, logger="ui.run_service"):
        broken = submit(svc, crash, Gate(1, done), label="Exploding run")
        assert broken.done.wait(5)
    assert broken.state == "error" and not broken.bad_input
    assert "Exploding run" in broken.error and "RuntimeError: boom 1" in broken.error
    assert "Traceback" in caplog.text and "boom 1" in caplog.text
    bad = submit(svc, bad_input, Gate(2, done))
    assert bad.done.wait(5) and bad.bad_input and bad.error.startswith("`steps` must be")
    assert svc.finished(bad.key) is None and svc.finished(broken.key) is None  # errors are not cached
    ok = submit(svc, gated, Gate(3, done))
    assert ok.done.wait(5) and ok.result == 3


def test_a_dict_configuration_is_refused_as_bad_input(make_service) -> None:
    svc = make_service(workers=1)
    run = submit(svc, gated, {"value": 1})
    assert run.done.wait(5) and run.bad_input
    assert "must be a frozen dataclass" in run.error and "Got dict for gated" in run.error
    assert svc.finished(run.key) is None


def test_a_full_queue_refuses_with_a_message(make_service) -> None:
    svc = make_service(workers=1, max_waiting=1)
    blocker = submit(svc, endless, Gate(0, threading.Event()))
    wait_until(lambda: blocker.state == "running")
    submit(svc, endless, Gate(1, threading.Event()), "w1")
    with pytest.raises(QueueFull, match="busy: 1 runs are waiting"):
        submit(svc, endless, Gate(2, threading.Event()), "w2")
    assert isinstance(svc.request(endless, Gate(3, threading.Event()), key=("warm",)), Run)  # background: no limit


def test_the_run_key_is_exact_for_long_arrays() -> None:
    a = np.zeros(5000)
    b = a.copy()
    b[2500] = 1e-12  # numpy's repr elides the middle of a long array
    assert runs.run_key(gated, {"x": a}) != runs.run_key(gated, {"x": b})
    assert runs.run_key(gated, {"x": a}) == runs.run_key(gated, {"x": a.copy()})
    assert runs.run_key(gated, (a, 1)) != runs.run_key(gated, (b, 1))


# --- a room of viewers: what keeps their polling from starving the run -------------------------------------------


def test_the_server_does_not_collect_all_garbage_after_every_rerun() -> None:
    # Streamlit's default gc.collect() after every script run, fragment reruns included, held the GIL ~250 ms once
    # a second per viewer: four viewers of one run made it 17x slower (bench/bench_crowd.py, README).
    config = tomllib.loads((Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False


def test_freeze_heap_takes_the_objects_alive_now_out_of_full_collections() -> None:
    frozen_before = gc.get_freeze_count()  # app.py froze the heap already if an AppTest ran in this process
    gc.unfreeze()
    alive = len(gc.get_objects())
    try:
        runs.freeze_heap()
        assert gc.get_freeze_count() >= alive // 2  # the imported libraries' objects (some were garbage)
        assert len(gc.get_objects()) < alive // 10  # what a full collection still walks
    finally:
        if not frozen_before:
            gc.unfreeze()


def test_the_live_chart_is_rebuilt_only_when_a_record_with_data_arrives() -> None:
    built: list[int] = []
    now = [0.0]

    def live_chart(df: pd.DataFrame):
        built.append(len(df))
        return alt.Chart(df.dropna()).mark_line().encode(x="step:Q", y="loss:Q")

    def later() -> float:  # builds take no time on this clock, and polls are minutes apart: only records decide
        return now[0]

    run = Run(("m", "f", "c"), gated, None, "", 0, 0)
    run.records += [{"progress": 0.0}]
    first = runs._live_spec(run, live_chart, clock=later)
    now[0] += 100.0
    run.records += [{"progress": 0.1}, {"progress": 0.2}]  # progress only: the chart cannot change
    assert runs._live_spec(run, live_chart, clock=later) is first and built == [1]
    now[0] += 100.0
    run.records += [{"progress": 0.3, "step": 1, "loss": 0.5}]
    second = runs._live_spec(run, live_chart, clock=later)
    assert built == [1, 4] and second != first  # a data record: rebuilt, from every record so far
    now[0] += 100.0
    run.records += [{"progress": 0.4}]
    assert runs._live_spec(run, live_chart, clock=later) is second and built == [1, 4]  # shared by every viewer


def test_an_expensive_live_chart_is_rebuilt_at_most_live_share_of_the_time() -> None:
    now = [0.0]
    built: list[float] = []

    def clock() -> float:
        return now[0]

    def live_chart(df: pd.DataFrame):
        built.append(now[0])
        now[0] += 0.2  # the build takes 0.2 s of the (fake) clock: the next may start 0.2 / LIVE_SHARE later
        return alt.Chart(df).mark_line().encode(x="step:Q", y="loss:Q")

    run = Run(("m", "f", "c"), gated, None, "", 0, 0)
    for step in range(60):  # a record with data every 0.1 s, and a viewer's poll after each
        run.records.append({"progress": step / 60, "step": step, "loss": 1.0 / (step + 1)})
        runs._live_spec(run, live_chart, clock=clock)
        now[0] += 0.1
    gaps = np.diff(built)
    assert len(built) >= 3 and gaps.min() >= 0.2 / runs.LIVE_SHARE  # every 2 s at most, however fast data comes
    assert sum(0.2 for _ in built) / now[0] <= runs.LIVE_SHARE + 0.2 / now[0]  # the share of time spent building


# --- the disk cache -----------------------------------------------------------------------------------------------


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "step": np.arange(4),
            "loss": [0.5, np.nan, 0.25, 1e-300],
            "name": ["a", "b", None, "d"],
            "kind": pd.Categorical(["x", "y", "x", "x"], categories=["y", "x"], ordered=True),
            "ok": [True, False, True, True],
            "count": pd.array([1, None, 3, 4], dtype="Int64"),
        },
        index=pd.Index([10, 20, 30, 40], name="row"),
    )


def same(a, b) -> None:
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_exact=True)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            same(a[k], b[k])
    elif isinstance(a, tuple | list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
    elif hasattr(a, "__dataclass_fields__"):
        for name in a.__dataclass_fields__:
            same(getattr(a, name), getattr(b, name))
    else:
        assert a == b or (a != a and b != b)


def test_the_disk_format_round_trips_results(tmp_path) -> None:
    collapse = train_collapse(CollapseConfig(epochs=2, widths=(8, 8), train_per_class=6, n_evals=2, batch_size=20))
    cases = [
        frame(),
        frame()["name"],
        collapse,  # a core dataclass with a DataFrame, a dict of arrays, arrays, None/int and a float
        {"dense_acc": np.float64(0.93), "at": {"snip": 0.5, 2: (1, "x")}, "rows": [np.int64(3), None]},
        pd.DataFrame({"a": []}),
    ]
    disk = DiskCache(tmp_path, max_bytes=1 << 24, code="v1")
    for i, result in enumerate(cases):
        key = ("core.x", "f", f"case{i}")
        assert disk.save(key, Stored(result, ("note",), 1.0, 2.0, True))
        back = disk.load(key)
        same(back.result, result)
        assert back.warnings == ("note",) and back.seconds == 2.0 and back.warm
    assert not list(tmp_path.glob("*.pkl")) and not list(tmp_path.glob(".*.tmp*"))


def test_values_outside_the_format_stay_in_memory(tmp_path) -> None:
    @dataclass(frozen=True)
    class NotCore:
        x: int

    disk = DiskCache(tmp_path, max_bytes=1 << 20, code="v1")
    for value in (NotCore(1), np.array([object()]), {1, 2}):
        with pytest.raises(Unsupported):
            encode(value, {})
        assert not disk.save(("k",), Stored(value, (), 0.0, 0.0, False))
    assert list(tmp_path.iterdir()) == []


def test_corrupt_or_foreign_files_are_ignored_and_logged(tmp_path, caplog) -> None:
    disk = DiskCache(tmp_path, max_bytes=1 << 20, code="v1")
    key = ("core.x", "f", "c")
    disk.save(key, Stored(frame(), (), 0.0, 0.0, False))
    meta = next(tmp_path.glob("run-*.json"))
    good = meta.read_text()

    def rejected(text: str, expected: str) -> None:
        meta.write_text(text)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="ui.run_store"):
            assert disk.load(key) is None
        assert expected in caplog.text

    rejected(good[: len(good) // 2], "unreadable")  # truncated JSON
    rejected(good.replace('"v1"', '"v0"'), "another version")  # the core code changed
    rejected(good.replace('"c"', '"other"'), "another run")  # a file of another key under this name
    head = json.loads(good)
    head["result"] = {"$dataclass": "os:_wrap_close", "fields": {}}
    rejected(json.dumps(head), "unreadable")  # only core dataclasses are rebuilt
    head["result"] = {"$array": "a0"}
    meta.write_text(json.dumps(head))
    np.savez(meta.with_suffix(".npz"), a0=np.array([{"evil": 1}], dtype=object))  # a pickled object array
    with caplog.at_level(logging.WARNING, logger="ui.run_store"):
        assert disk.load(key) is None
    assert DiskCache(tmp_path, max_bytes=1 << 20, code="v2").load(key) is None  # another code version: a miss


def test_the_disk_cache_is_bounded_and_survives_a_restart(tmp_path, make_service) -> None:
    disk = DiskCache(tmp_path, max_bytes=1 << 20, code="v1")
    svc = make_service(disk=disk)
    done = threading.Event()
    done.set()
    run = submit(svc, gated, Gate(9, done))
    assert run.done.wait(5)
    wait_until(lambda: disk.load(run.key) is not None)
    restarted = make_service(disk=DiskCache(tmp_path, max_bytes=1 << 20, code="v1"))
    assert restarted.finished(run.key).result == 9  # from disk, without running
    small = DiskCache(tmp_path, max_bytes=1, code="v1")
    for i in range(3):
        small.save(("k", str(i)), Stored(np.zeros(100), (), 0.0, 0.0, False))
    assert len(list(tmp_path.glob("run-*.json"))) <= 1


def test_decode_refuses_classes_outside_core() -> None:
    with pytest.raises(ValueError, match="only dataclasses of the core package"):
        decode({"$dataclass": "subprocess:Popen", "fields": {}}, {})
    with pytest.raises(ValueError, match="not a dataclass of the core package"):
        decode({"$dataclass": "core.universality.grokking:train_grokking", "fields": {}}, {})


# --- reproduce in Python ------------------------------------------------------------------------------------------


def test_the_reproduce_snippet_runs_and_gives_the_same_result() -> None:
    code = runs.reproduce_code(train_grokking, TINY_GROK)
    assert "from core.universality.grokking import GrokkingConfig" in code and "result = train_grokking(config)" in code
    scope: dict = {}
    exec(compile(code, "<reproduce>", "exec"), scope)
    pd.testing.assert_frame_equal(scope["result"], train_grokking(TINY_GROK), check_exact=True)
    assert json.loads(runs.config_json(train_grokking, TINY_GROK))["config"]["modulus"] == 11


@dataclass(frozen=True)
class Nested:
    """A configuration with a nested dataclass, an array, a 1-tuple and an infinity."""

    config: GrokkingConfig
    x: np.ndarray
    t: tuple
    inf: float


def test_the_reproduce_snippet_writes_arrays_and_nested_configs_exactly() -> None:
    config = Nested(TINY_GROK, np.array([0.1, 1 / 3, np.pi]), (1,), float("inf"))
    scope: dict = {}
    exec(runs.reproduce_code(gated, config).replace("result = gated(config)", ""), scope)
    got = scope["config"]
    assert got.config == TINY_GROK and got.t == (1,) and got.inf == float("inf")
    assert np.array_equal(got.x, config.x) and got.x.dtype == config.x.dtype
