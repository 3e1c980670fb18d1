"""AppTest of pages/neural_collapse.py: deep links with tiny runs, one control change, and the NPZ upload path."""

from __future__ import annotations

import io

import numpy as np
import pytest

from core.neural_collapse.metrics import simplex_etf
from tests.apptest_helpers import assert_clean, open_page, widget
from ui.controls import parse_npz

TINY = {"nc_epochs": "10", "nc_seed": "1"}
SLOW = 240  # seconds: a shared 2-core machine under load can take minutes for the 10-epoch run


def _charts(at):
    return at.get("vega_lite_chart")


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_training_tab_renders_a_tiny_run_with_charts():
    at = open_page("neural_collapse", TINY, timeout=SLOW)
    assert_clean(at)
    assert len(_charts(at)) >= 4  # metrics, errors, train vs test, depth
    notices = [i.value for i in at.info if "What to notice" in i.value]
    assert any("NC1" in n and "CDNV" in n and "test images" in n for n in notices)
    assert any("layer by layer" in n for n in notices)
    assert any("population" in c.value and "C − 1" in c.value for c in at.caption)  # the equinorm convention


def test_one_control_change_reruns_cleanly():
    at = open_page("neural_collapse", TINY, timeout=SLOW)
    widget(at, "nc_wd").set_value(1e-3)
    at.run(timeout=SLOW)
    assert_clean(at)
    assert widget(at, "nc_wd").value == 1e-3
    assert len(_charts(at)) >= 2


def test_deep_link_sets_the_controls():
    params = {**TINY, "nc_wd": "0.001", "nc_cosine": "false", "nc_lambda": "0.001", "nc_dim": "16"}
    at = open_page("neural_collapse", params, timeout=SLOW)
    assert_clean(at)
    assert widget(at, "nc_epochs").value == 10
    assert widget(at, "nc_wd").value == 1e-3
    assert widget(at, "nc_cosine").value is False
    assert widget(at, "nc_lambda").value == 1e-3
    assert widget(at, "nc_dim").value == 16
    assert widget(at, "nc_seed").value == 1


def test_simplex_tab_leads_with_the_cosines_and_draws_sample_clouds():
    at = open_page("neural_collapse", {**TINY, "nc_tab": "Simplex", "nc_digits": ["3", "5", "8", "9"]}, timeout=SLOW)
    assert_clean(at)
    assert widget(at, "nc_digits").value == [3, 5, 8, 9]
    charts = _charts(at)
    assert len(charts) >= 2
    assert "cosine (ETF -0.111)" in charts[0].proto.spec  # the heatmap against -1/(C-1) comes first
    assert '"circle"' in charts[1].proto.spec  # per-sample clouds in the simplex view
    assert any("digits 3, 5, 8, 9" in i.value and "90 cosines" in i.value for i in at.info)


def test_simplex_tab_with_two_digits_explains_the_fix():
    at = open_page("neural_collapse", {**TINY, "nc_tab": "Simplex", "nc_digits": ["3", "5"]}, timeout=SLOW)
    assert not at.exception
    assert any("3 or 4" in e.value for e in at.error)


def test_unconstrained_features_tab_runs_the_lambda_sweep():
    at = open_page("neural_collapse", {"nc_tab": "Unconstrained features", "nc_steps": "100", "nc_lambda": "0.01"})
    assert_clean(at)
    assert len(_charts(at)) >= 2
    assert any("NC1 < 1e-3" in i.value for i in at.info)


def test_uploaded_features_give_a_metrics_report():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 30)
    means = 3 * simplex_etf(4, 6)
    H = (means[y] + 0.1 * rng.normal(size=(120, 6))).astype(np.float32)
    at = open_page("neural_collapse", {"nc_tab": "Your features"})
    at.file_uploader(key="nc_upload").set_value(("f.npz", _npz(features=H, labels=y, weights=means), "application/zip"))
    at.run()
    assert_clean(at)
    assert [m.label for m in at.metric] == ["NC1", "equinorm", "equiangularity", "NC3", "NC4", "CDNV"]
    assert float(at.metric[4].value) == 0.0
    assert len(_charts(at)) == 1


def test_a_malformed_upload_shows_an_error_not_a_traceback():
    at = open_page("neural_collapse", {"nc_tab": "Your features"})
    at.file_uploader(key="nc_upload").set_value(("f.npz", b"not an npz", "application/zip"))
    at.run()
    assert not at.exception
    assert any("NPZ" in e.value for e in at.error)
    bad = _npz(features=np.ones((6, 3)), labels=np.array([0, 0, 0, 2, 2, 2]))
    at.file_uploader(key="nc_upload").set_value(("g.npz", bad, "application/zip"))
    at.run()
    assert not at.exception
    assert any("class(es) [1]" in e.value for e in at.error)


def test_parse_npz_rejects_malformed_files_and_pickled_objects():
    with pytest.raises(ValueError, match="not a readable NPZ"):
        parse_npz(b"garbage", required=("features", "labels"))
    with pytest.raises(ValueError, match="needs the array"):
        parse_npz(_npz(features=np.ones((4, 2))), required=("features", "labels"))
    objects = _npz(features=np.array([{"a": 1}, None], dtype=object), labels=np.zeros(2))
    with pytest.raises(ValueError, match="never unpickled"):
        parse_npz(objects, required=("features", "labels"))
    ok = parse_npz(_npz(features=np.ones((4, 2)), labels=np.arange(4)), required=("features", "labels"))
    assert ok["features"].shape == (4, 2)
