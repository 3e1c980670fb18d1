"""AppTest for the Optimal transport page: deep link, control changes, preset and uploads; the plan chart's axes."""

from __future__ import annotations

import numpy as np

from core.data import point_cloud
from core.optimal_transport.distances import divergences_vs_shift, exact_ot, plan_segments
from tests.apptest_helpers import assert_clean, open_page, widget
from ui.charts.optimal_transport import plan_chart

SMALL = {"ot_kind": "dirac", "ot_shift": "1.0", "ot_n": "20", "ot_m": "30", "ot_metric": "sqeuclidean"}


def _notices(at) -> str:
    return " ".join(i.value for i in at.info)


def _markdown(at) -> str:
    return " ".join(m.value for m in at.markdown)


def test_defaults_separate_js_from_w1():
    """The audit: with U[0, 1] JS = |θ| = W1 for |θ| < 1, so JS hid under W1. At the page's defaults the two must
    differ over most of the sweep, and JS must saturate (closed form min(1, |θ| / w)) while W1 keeps growing."""
    at = open_page("optimal_transport", {"ot_n": "20", "ot_m": "20"})
    assert_clean(at)
    kind, width = widget(at, "ot_kind").value, widget(at, "ot_width").value
    assert kind == "uniform"
    shifts = np.linspace(-3.0, 3.0, 121)
    df = divergences_vs_shift(shifts, kind=kind, width=width)
    np.testing.assert_allclose(df["js"], np.minimum(1.0, np.abs(shifts) / width))
    assert np.mean(np.abs(df["js"] - df["w1"]) < 0.05) < 0.1  # overlapping on under 10% of the sweep
    assert (df["js"] >= 0.999).mean() > 0.5 and df["w1"].max() >= 3 * width
    assert "JS reaches 1 bit at θ = 0.50" in _notices(at) and "keeps growing to 3.00" in _notices(at)
    at = open_page("optimal_transport", {"ot_n": "20", "ot_m": "20", "ot_tab": "Move the sand"})
    assert_clean(at)
    # n = m with equal weights: a permutation, so the page must not claim thicker segments carry more mass
    assert "one-to-one matching" in _markdown(at) and "thicker" not in _markdown(at)


def test_deep_link_renders_and_sets_the_controls():
    at = open_page("optimal_transport", SMALL)
    assert_clean(at)
    assert len(at.get("vega_lite_chart")) == 2  # divergences, gradients (the other tabs render when opened)
    assert widget(at, "ot_kind").value == "dirac"
    assert widget(at, "ot_shift").value == 1.0
    assert widget(at, "ot_n").value == 20 and widget(at, "ot_m").value == 30
    assert widget(at, "ot_metric").value == "sqeuclidean"
    text = _notices(at)
    assert "KL = ∞" in text and "JS = 1.000 bits" in text and "W1 = 1.000" in text  # WGAN Example 1 at θ = 1
    at = open_page("optimal_transport", {**SMALL, "ot_tab": "Move the sand"})
    assert_clean(at)
    assert len(at.get("vega_lite_chart")) == 3  # plan, histograms, CDFs
    text = _notices(at)
    assert "moves 20 points onto 30" in text and "W2 =" in text
    assert "split their mass" in _markdown(at) and "thicker" in _markdown(at)  # n != m: masses differ
    labels = [m.label for m in at.metric]
    assert labels == ["W2 distance", "Segments carrying mass", "Source points that split"]  # W2 shown once


def test_control_changes_and_preset_rerun_cleanly():
    at = open_page("optimal_transport", SMALL)
    widget(at, "ot_kind").set_value("gaussian").run()
    widget(at, "ot_width").set_value(1.0).run()
    assert_clean(at)
    assert "KL = 0.721 bits" in _notices(at)  # 1 / (2 ln 2) bits at θ = 1, sigma = 1
    assert "JS still has a slope" in _notices(at)
    widget(at, "ot_preset").set_value("Disjoint uniforms").run()
    assert_clean(at)
    assert widget(at, "ot_kind").value == "uniform" and widget(at, "ot_shift").value == 2.0
    assert "JS gives the generator nothing to follow" in _notices(at)


def test_metric_change_reruns_the_plan():
    at = open_page("optimal_transport", {**SMALL, "ot_tab": "Move the sand"})
    widget(at, "ot_metric").set_value("euclidean").run()
    assert_clean(at)
    assert "W1 =" in _notices(at) and "W2 =" not in _notices(at)
    assert next(m.label for m in at.metric) == "W1 distance"


def test_uploads_malformed_gives_an_error_and_valid_points_are_used():
    at = open_page("optimal_transport", {**SMALL, "ot_tab": "Move the sand"})
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


def test_plan_chart_has_equal_axes():
    """A ring must be drawn round: a square chart whose x and y domains have equal length."""
    x = point_cloud("gaussian", 30, seed=0)
    y = point_cloud("ring", 30, seed=1, center=(3.0, 0.0))  # wide along x, so unequal domains would show
    spec = plan_chart(x, y, plan_segments(x, y, exact_ot(x, y).plan)).to_dict()
    assert spec["width"] == spec["height"]
    scales = [(e["x"]["scale"]["domain"], e["y"]["scale"]["domain"]) for e in (spec["layer"][0]["encoding"],)]
    (xd, yd) = scales[0]
    assert abs((xd[1] - xd[0]) - (yd[1] - yd[0])) < 1e-9
    assert xd[0] <= min(x[:, 0].min(), y[:, 0].min()) and xd[1] >= max(x[:, 0].max(), y[:, 0].max())
    assert yd[0] <= min(x[:, 1].min(), y[:, 1].min()) and yd[1] >= max(x[:, 1].max(), y[:, 1].max())


USES = {"ot_tab": "Where it is used", "ot_n": "20", "ot_m": "20"}


def test_domain_adaptation_part_shows_accuracies_before_and_after():
    at = open_page("optimal_transport", {**USES, "ot_use": "Domain adaptation", "ot_da_angle": "50"})
    assert_clean(at)
    assert widget(at, "ot_da_angle").value == 50
    text = _notices(at)
    assert "Rotated by 50°, the source classifier scores" in text and "(entropic + class labels)" in text
    assert len(at.get("vega_lite_chart")) == 2  # accuracies, points


def test_fairness_part_quotes_the_repair():
    at = open_page("optimal_transport", {**USES, "ot_use": "Fairness", "ot_repair": "0.5"})
    assert_clean(at)
    assert "At λ = 0.5: W1" in _notices(at)
    widget(at, "ot_repair").set_value(1.0).run()
    assert_clean(at)
    assert "At λ = 1: W1 0.000" in _notices(at)


def test_interpolation_part_quotes_t_times_w2():
    at = open_page("optimal_transport", {**USES, "ot_use": "Displacement interpolation", "ot_t": "0.5"})
    assert_clean(at)
    assert "At t = 0.5 the moved cloud is W2 =" in _notices(at)
    assert len(at.get("vega_lite_chart")) == 2  # interpolant beside mixture, W1 beside W2 plan
