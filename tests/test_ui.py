"""AppTest of the live-run view (ui/runs.py): Stop, a settings change mid-run, a finished run, warm defaults."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_helpers import assert_clean, open_page
from ui import runs
from ui.registry import available_topics
from ui.run_service import Run, RunService
from ui.warm_defaults import default_runs


@dataclass(frozen=True)
class Slow:
    """A test run: reports progress every 5 ms for ``seconds``, then returns ``n``."""

    n: int
    seconds: float


def slow(config: Slow, *, callback=None) -> int:
    start = time.monotonic()
    while time.monotonic() - start < config.seconds:
        if callback is not None:
            callback({"progress": (time.monotonic() - start) / config.seconds, "n": config.n})
        time.sleep(0.005)
    return config.n


def script() -> None:
    import streamlit as st

    from tests.test_ui import Slow, slow
    from ui import runs

    n = st.slider("n", 1, 5, 1, key="n")
    seconds = float(st.query_params.get("seconds", "30"))
    result = runs.live_run(slow, Slow(n, seconds), label="Slow run", key="slow")
    if result is not None:
        st.markdown(f"result {result}")


@pytest.fixture
def service():
    svc = RunService(workers=2, max_waiting=4, max_bytes=1 << 20, heartbeat_s=30.0)
    old, blocking = runs.use_service(svc), runs.BLOCKING
    runs.BLOCKING = False  # follow runs as under a server: the script returns while they run
    yield svc
    runs.BLOCKING = blocking
    runs.use_service(old)
    svc.close()


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_stop_cancels_the_run_nobody_else_watches(service: RunService) -> None:
    at = AppTest.from_function(script, default_timeout=30).run()
    assert_clean(at)
    run = service.active(runs.run_key(slow, Slow(1, 30.0)))
    assert run is not None and "Slow run" in at.get("progress")[0].proto.text
    at.button(key="_run_stop_slow").click().run()
    assert any("Run stopped by you" in i.value for i in at.info)
    assert run.done.wait(3) and run.state == "cancelled" and run.records == []
    at.button(key="_run_restart_slow").click().run()  # Run: starts it again
    assert service.active(run.key) is not None and not at.info


def test_a_settings_change_mid_run_cancels_the_old_run_and_shows_the_new(service: RunService) -> None:
    at = AppTest.from_function(script, default_timeout=30)
    at.query_params["seconds"] = "0.5"
    at.run()
    old = service.active(runs.run_key(slow, Slow(1, 0.5)))
    assert old is not None
    at.slider(key="n").set_value(2).run()
    assert old.done.wait(3) and old.state == "cancelled"  # no zombie run keeps a worker
    new_key = runs.run_key(slow, Slow(2, 0.5))
    wait_until(lambda: service.finished(new_key) is not None)
    at.run()  # what the polling fragment triggers once the run is over
    assert_clean(at)
    assert [m.value for m in at.markdown if m.value.startswith("result")] == ["result 2"]
    assert any("Finished in" in c.value for c in at.caption)


def test_a_cached_run_says_when_it_was_computed_and_can_run_again(service: RunService) -> None:
    config = Slow(3, 0.05)
    got = service.request(slow, config, key=runs.run_key(slow, config))  # a background ("warm") run
    assert isinstance(got, Run) and got.done.wait(5)
    at = AppTest.from_function(script, default_timeout=30)
    at.query_params["seconds"] = "0.05"
    at.run()
    at.slider(key="n").set_value(3).run()
    caption = next(c.value for c in at.caption if "Cached run" in c.value)
    assert "in the background after the server started" in caption
    code = at.get("code")[0].value
    assert "from tests.test_ui import Slow, slow" in code and "config = Slow(n=3, seconds=0.05)" in code
    at.button(key="_run_again_slow").click().run()
    again = service.active(runs.run_key(slow, config))
    assert again is not None and again is not got  # a fresh run, watched live
    assert again.done.wait(5)
    at.run()
    assert any("Finished in" in c.value for c in at.caption)


def two_pages() -> None:
    import streamlit as st

    from tests.test_ui import Slow, slow
    from ui import runs

    page = st.query_params.get("page", "a")
    runs.keep_alive(page)  # as app.py does before running the page
    if page == "a":
        runs.live_run(slow, Slow(4, 30.0), label="Slow run", key="slow")


def test_navigating_away_lets_the_run_go(service: RunService) -> None:
    at = AppTest.from_function(two_pages, default_timeout=30).run()
    run = service.active(runs.run_key(slow, Slow(4, 30.0)))
    assert run is not None and run.viewers
    at.query_params["page"] = "b"
    at.run()
    assert run.done.wait(3) and run.state == "cancelled"


class Recorder:
    """A run service that records what pages ask for and runs nothing."""

    def __init__(self) -> None:
        self.asked: list[tuple] = []

    def finished(self, key):
        return None

    def request(self, fn, config, *, key, viewer=None, label="", fresh=False):
        self.asked.append((key, config))
        return Run(key, fn, config, label, 0, 0)

    def heartbeat(self, run, viewer) -> None:
        pass

    def detach(self, run, viewer) -> None:
        pass

    def ahead(self, run) -> int:
        return 0


def test_every_training_pages_default_run_is_warmed() -> None:
    warm = {runs.run_key(fn, config) for fn, config, _ in default_runs()}
    old, blocking = runs.BLOCKING, runs.BLOCKING
    runs.BLOCKING = False
    asked = {}
    try:
        for info in available_topics():
            recorder = Recorder()
            runs.use_service(recorder)
            open_page(info.url_path)
            asked[info.url_path] = recorder.asked
    finally:
        runs.BLOCKING = blocking
        runs.use_service(None)
    assert any(asked.values()), "no page asked for a run"
    for stem, requests in asked.items():
        for key, config in requests:
            assert key in warm, (
                f"pages/{stem}.py asks at its defaults for {key[0]}.{key[1]} with\n    {config!r}\nwhich "
                "ui/warm_defaults.py does not list: update its entry for this page to build this configuration."
            )
    del old
