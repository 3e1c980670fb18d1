"""AppTest of pages/universality.py: tiny deep links for each part, one control change, and controls set by a link."""

from __future__ import annotations

from tests.apptest_helpers import assert_clean, open_page, widget

DD = {"uv_part": "Double descent", "uv_n": "20", "uv_trials": "1"}
GROK = {"uv_part": "Grokking", "uv_mod": "23", "uv_frac": "0.7", "uv_lr": "0.01", "uv_steps": "300"}
EMERGE = {"uv_part": "Emergence", "uv_digits": "2", "uv_widest": "32", "uv_len": "20"}


def _charts(at):
    return at.get("vega_lite_chart")


def _notices(at) -> list[str]:
    return [i.value for i in at.info if "What to notice" in i.value]


def test_double_descent_renders_with_the_peak_quoted():
    at = open_page("universality", DD)
    assert_clean(at)
    assert len(_charts(at)) == 2
    notes = _notices(at)
    assert any("(n = 20)" in t and "peaks at p =" in t for t in notes)
    assert any("With ridge λ = 0.01" in t for t in notes)
    assert any("of the formula" in t and "the simulation at n = 20" in t for t in notes)


def test_one_control_change_reruns_cleanly():
    at = open_page("universality", DD)
    widget(at, "uv_ridge").set_value(0.0)
    at.run()
    assert_clean(at)
    assert widget(at, "uv_ridge").value == 0.0
    assert len(_charts(at)) == 2
    assert not any("With ridge" in t for t in _notices(at))


def test_grokking_tiny_run_quotes_its_milestones():
    at = open_page("universality", GROK)
    assert_clean(at)
    assert len(_charts(at)) == 2
    assert any("memorised its training pairs at step" in t for t in _notices(at))


def test_emergence_renders_analytic_and_computed_parts():
    at = open_page("universality", EMERGE)
    assert_clean(at)
    assert len(_charts(at)) == 4
    notes = _notices(at)
    assert any("exact match over L = 20 tokens" in t for t in notes)
    assert any("per-digit accuracy climbs" in t for t in notes)


def test_deep_link_sets_the_controls():
    params = {**GROK, "uv_wd": "0.0", "uv_op": "subtract", "uv_stop": "false", "uv_seed": "3", "uv_n": "40"}
    at = open_page("universality", params)
    assert_clean(at)
    assert widget(at, "uv_mod").value == 23
    assert widget(at, "uv_frac").value == 0.7
    assert widget(at, "uv_lr").value == 0.01
    assert widget(at, "uv_steps").value == 300
    assert widget(at, "uv_wd").value == 0.0
    assert widget(at, "uv_op").value == "subtract"
    assert widget(at, "uv_stop").value is False
    assert widget(at, "uv_seed").value == 3
    assert widget(at, "uv_n").value == 40
    assert any("did not reach 95% test accuracy" in t for t in _notices(at))
