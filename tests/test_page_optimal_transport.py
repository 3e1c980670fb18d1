"""AppTest for the Optimal transport page: deep link, control changes, preset and uploads."""

from __future__ import annotations

from tests.apptest_helpers import assert_clean, open_page, widget

SMALL = {"ot_kind": "dirac", "ot_shift": "1.0", "ot_n": "20", "ot_m": "30", "ot_metric": "sqeuclidean"}


def _notices(at) -> str:
    return " ".join(i.value for i in at.info)


def test_deep_link_renders_and_sets_the_controls():
    at = open_page("optimal_transport", SMALL)
    assert_clean(at)
    assert len(at.get("vega_lite_chart")) >= 4  # divergences, gradients, plan, histograms, CDFs
    assert widget(at, "ot_kind").value == "dirac"
    assert widget(at, "ot_shift").value == 1.0
    assert widget(at, "ot_n").value == 20 and widget(at, "ot_m").value == 30
    assert widget(at, "ot_metric").value == "sqeuclidean"
    text = _notices(at)
    assert "KL = ∞" in text and "JS = 1.000 bits" in text and "W1 = 1.000" in text  # WGAN Example 1 at θ = 1
    assert "moves 20 points onto 30" in text and "W2 =" in text


def test_control_changes_and_preset_rerun_cleanly():
    at = open_page("optimal_transport", SMALL)
    widget(at, "ot_kind").set_value("gaussian").run()
    assert_clean(at)
    assert "KL = 0.721 bits" in _notices(at)  # 1 / (2 ln 2) bits at θ = 1, sigma = 1
    assert "JS still has a slope" in _notices(at)
    widget(at, "ot_metric").set_value("euclidean").run()
    assert_clean(at)
    assert "W1 =" in _notices(at) and "W2 =" not in _notices(at)
    widget(at, "ot_preset").set_value("Disjoint uniforms").run()
    assert_clean(at)
    assert widget(at, "ot_kind").value == "uniform" and widget(at, "ot_shift").value == 2.0
    assert "JS gives the generator nothing to follow" in _notices(at)


def test_uploads_malformed_gives_an_error_and_valid_points_are_used():
    at = open_page("optimal_transport", SMALL)
    uploader = widget(at, "ot_upload_source")
    uploader.set_value(("points.csv", b"a,b\n1,2\n3,4\n", "text/csv")).run()
    assert not at.exception
    assert any("x, y" in e.value for e in at.error)  # names the missing columns
    assert "moves 20 points" in _notices(at)  # fell back to the generated cloud
    widget(at, "ot_upload_source").set_value(("points.csv", b"x,y\n0,0\n1,0\n0,1\n", "text/csv")).run()
    assert_clean(at)
    assert "moves 3 points onto 30" in _notices(at)
    widget(at, "ot_upload_target").set_value(("t.csv", b"x,y\n0,nan\n1,1\n", "text/csv")).run()
    assert not at.exception
    assert any("not finite numbers" in e.value for e in at.error)
