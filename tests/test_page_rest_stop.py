"""AppTest of pages/rest_stop.py: tiny deep links for each part, one control change, and controls set by a link."""

from __future__ import annotations

from tests.apptest_helpers import assert_clean, open_page, widget

LENS = {"rs_mod": "11", "rs_frac": "0.7", "rs_steps": "100"}
OVER = {"rs_part": "Why overparameterised models generalise", "rs_n": "20", "rs_trials": "1", "rs_widest": "16"}
OVER |= {"rs_netsteps": "100"}
READ = {"rs_part": "One curve read twice", "rs_n": "20", "rs_trials": "1"}
# timeout=180: the first render trains two tiny grokking runs; on a crowded 2-core machine that took ~60 s


def _charts(at):
    return at.get("vega_lite_chart")


def _notices(at) -> list[str]:
    return [i.value for i in at.info if "What to notice" in i.value]


def test_grokking_lens_tiny_run_quotes_both_runs():
    at = open_page("rest_stop", LENS, timeout=180)
    assert_clean(at)
    assert len(_charts(at)) == 4
    (note,) = _notices(at)
    assert "With weight decay the network memorised at step" in note
    assert "NC1 of its hidden layer went" in note and "Without weight decay: test accuracy" in note


def test_overparameterisation_part_quotes_the_peak_and_the_networks():
    at = open_page("rest_stop", OVER, timeout=180)
    assert_clean(at)
    assert len(_charts(at)) == 2
    (note,) = _notices(at)
    assert "(n = 20)" in note and "norm of the min-norm fit" in note and "from width 4 to 16" in note
    assert any("Hypotheses" in m.value for m in at.markdown)


def test_one_control_change_reruns_the_power_law_reading():
    at = open_page("rest_stop", READ, timeout=180)
    assert_clean(at)
    assert len(_charts(at)) == 2
    assert any("α =" in t and "resamples excluded" in t for t in _notices(at))
    widget(at, "rs_hi").set_value(3.0)
    at.run()
    assert_clean(at)
    assert widget(at, "rs_hi").value == 3.0
    assert any("γ = p/n ∈ [0.5, 3]" in m.value for m in at.markdown)


def test_the_map_lists_computed_and_described_links():
    at = open_page("rest_stop", {"rs_part": "The map"}, timeout=180)
    assert_clean(at)
    assert len(_charts(at)) == 1
    links = [m.value for m in at.markdown if "computed on this page" in m.value]
    assert links and links[0].count("\n- ") == 8  # nine links, three of them computed here


def test_deep_link_sets_the_controls():
    params = {**LENS, "rs_wd": "2.0", "rs_prec": "0.1", "rs_seed": "3", "rs_n": "40", "rs_lo": "0.3", "rs_hi": "5.0"}
    at = open_page("rest_stop", params, timeout=180)
    assert_clean(at)
    assert widget(at, "rs_mod").value == 11
    assert widget(at, "rs_frac").value == 0.7
    assert widget(at, "rs_steps").value == 100
    assert widget(at, "rs_wd").value == 2.0
    assert widget(at, "rs_prec").value == 0.1
    assert widget(at, "rs_seed").value == 3
    assert widget(at, "rs_n").value == 40
    assert (widget(at, "rs_lo").value, widget(at, "rs_hi").value) == (0.3, 5.0)
    assert any("weight decay 2" in m.value for m in at.markdown)
