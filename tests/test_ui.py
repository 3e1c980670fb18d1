"""The UI kit: upload parsing, chart builders and the live-run cache."""

from __future__ import annotations

import io
import pickle

import altair as alt
import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from ui import charts
from ui.controls import parse_csv, parse_npz
from ui.runs import run_key


def test_parse_csv_reads_numbers() -> None:
    df = parse_csv(b"x,y\n1,2\n3,4.5\n", required=["x", "y"])
    assert df["y"].tolist() == [2.0, 4.5]


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"a,b\n1,2\n", "needs the column"),
        (b"x,y\n1,nan\n", "not finite numbers"),
        (b"x,y\n1,hello\n", "not finite numbers"),
        (b"x,y\n1,inf\n", "not finite numbers"),
        (b"", "not a readable CSV"),
        (b"x,y\n", "between 1 and"),
    ],
)
def test_parse_csv_says_what_to_fix(raw: bytes, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_csv(raw, required=["x", "y"])


def _npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def test_parse_npz_reads_arrays() -> None:
    out = parse_npz(_npz(features=np.ones((4, 2)), labels=np.arange(4)), required=["features", "labels"])
    assert out["features"].shape == (4, 2)


def test_parse_npz_never_unpickles() -> None:
    raw = _npz(features=np.array([{"evil": 1}], dtype=object), labels=np.arange(1))
    with pytest.raises(ValueError, match="never unpickled"):
        parse_npz(raw, required=["features", "labels"])


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (_npz(features=np.ones(3)), "needs the array"),
        (_npz(features=np.array([np.nan]), labels=np.arange(1)), "NaN or inf"),
        (_npz(features=np.array(["a"]), labels=np.arange(1)), "must be numeric"),
        (b"not a zip file", "not a readable NPZ"),
        (pickle.dumps({"features": 1}), "not a readable NPZ|never unpickled"),
    ],
)
def test_parse_npz_says_what_to_fix(raw: bytes, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_npz(raw, required=["features", "labels"])


def test_series_keep_their_colour_across_charts() -> None:
    one = charts.color_scale(["W1", "KL"]).to_dict()
    two = charts.color_scale(["KL", "JS", "W1"]).to_dict()
    assert dict(zip(one["domain"], one["range"]))["W1"] == dict(zip(two["domain"], two["range"]))["W1"]


def test_unknown_series_get_distinct_colours() -> None:
    scale = charts.color_scale(["alpha", "beta", "gamma"]).to_dict()
    assert len(set(scale["range"])) == 3


def test_builders_give_valid_vega_lite() -> None:
    df = pd.DataFrame({"x": [1.0, 2.0, 4.0], "y": [1.0, 0.5, 0.25], "s": ["train", "test", "train"]})
    layered = alt.layer(
        charts.line(df, "x", "y", "s", x_title="x (units)", y_title="y (bits)", log_x=True, log_y=True),
        charts.rule(2.0, label="p = n"),
        charts.shade(1.0, 2.0, label="terminal phase"),
    )
    spec = layered.to_dict()
    assert spec["layer"][0]["encoding"]["x"]["scale"]["type"] == "log"
    assert spec["layer"][0]["encoding"]["y"]["title"] == "y (bits)"
    for chart in (
        charts.scatter(df, "x", "y", "s", x_title="x", y_title="y", equal_axes=True),
        charts.bars(df, "x", "y", "s", x_title="x", y_title="y"),
        charts.heatmap(df, "s", "s", "y", x_title="a", y_title="b", value_title="v", domain_mid=0.5),
        charts.band(df.assign(lo=df.y - 0.1, hi=df.y + 0.1), "x", "lo", "hi", "s"),
    ):
        assert "mark" in chart.to_dict() or "layer" in chart.to_dict()


def test_run_key_is_stable_and_distinguishes_configs() -> None:
    assert run_key(test_run_key_is_stable_and_distinguishes_configs, {"b": 2, "a": 1}) == run_key(
        test_run_key_is_stable_and_distinguishes_configs, {"a": 1, "b": 2}
    )
    assert run_key(test_builders_give_valid_vega_lite, {"a": 1}) != run_key(
        test_builders_give_valid_vega_lite, {"a": 2}
    )


def _live_run_app() -> None:
    import streamlit as st

    from ui.runs import live_run

    def slow_square(*, n: int, callback=None) -> int:
        st.session_state["calls"] = st.session_state.get("calls", 0) + 1
        for i in range(n):
            callback({"progress": (i + 1) / n, "i": i})
        if n < 0:
            raise ValueError("`n` must be >= 0. Got -1 instead.")
        return n * n

    n = st.number_input("n", value=3, key="n")
    result = live_run(slow_square, {"n": int(n)}, label="Squaring", key="sq")
    st.write(f"result={result}")


def test_live_run_caches_finished_runs_and_reports_bad_input() -> None:
    at = AppTest.from_function(_live_run_app).run()
    assert not at.exception
    assert at.markdown[-1].value == "result=9"
    at.run()
    assert at.session_state["calls"] == 1, "a finished run with the same config must come from the cache"
    at.number_input(key="n").set_value(-1).run()
    assert not at.exception
    assert "must be >= 0" in at.error[0].value


def _warning_run_app() -> None:
    import warnings

    import streamlit as st

    from ui.runs import live_run

    def noisy(*, n: int, callback=None) -> int:
        warnings.warn("Did not converge: increase `max_iter`.", RuntimeWarning, stacklevel=2)
        return n

    st.write(f"result={live_run(noisy, {'n': 1}, label='Noisy', key='noisy')}")


def test_live_run_shows_warnings_on_first_run_and_on_cached_revisit() -> None:
    at = AppTest.from_function(_warning_run_app).run()
    assert "increase `max_iter`" in at.warning[0].value
    revisit = AppTest.from_function(_warning_run_app).run()
    assert revisit.markdown[-1].value == "result=1"
    assert "increase `max_iter`" in revisit.warning[0].value
