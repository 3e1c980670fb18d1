"""AppTest of pages/universality.py: tiny deep links for each part, one control change, and controls set by a link."""

from __future__ import annotations

import math
import re

import pytest

from core.universality.emergence import metric_curves, rise_decades
from tests.apptest_helpers import assert_clean, open_page, widget
from ui.text.universality import EMERGENCE_DEFAULTS

DD = {"uv_part": "Double descent", "uv_n": "20", "uv_trials": "1"}
GROK = {"uv_part": "Grokking", "uv_mod": "23", "uv_frac": "0.7", "uv_lr": "0.01", "uv_steps": "300"}
PHASES = {"uv_part": "Grokking phases", "uv_pmod": "11", "uv_psteps": "300"}
EMERGE = {"uv_part": "Emergence", "uv_digits": "2", "uv_widest": "32", "uv_len": "20"}


def _charts(at):
    return at.get("vega_lite_chart")


def _notices(at) -> list[str]:
    return [i.value for i in at.info if "What to notice" in i.value]


def test_double_descent_renders_with_the_peak_quoted():
    at = open_page("universality", DD)
    assert_clean(at)
    assert len(_charts(at)) == 5  # the sweep, fitted functions, bias-variance, sample-wise, the closed form
    notes = _notices(at)
    assert any("the peak is variance" in t for t in notes)
    assert any("At a fixed p = 20 features, test error peaks at n =" in t for t in notes)
    assert any("(n = 20)" in t and "peaks at p =" in t for t in notes)
    assert any("With ridge λ = 0.01" in t for t in notes)
    assert any("of the formula" in t and "the simulation at n = 20" in t for t in notes)


def test_one_control_change_reruns_cleanly():
    at = open_page("universality", DD)
    widget(at, "uv_ridge").set_value(0.0)
    at.run()
    assert_clean(at)
    assert widget(at, "uv_ridge").value == 0.0
    assert len(_charts(at)) == 5
    assert not any("With ridge" in t for t in _notices(at))


def test_grokking_tiny_run_quotes_its_milestones_and_its_key_frequencies():
    at = open_page("universality", GROK)
    assert_clean(at)
    assert len(_charts(at)) == 5  # accuracy, loss, weight norm, the embedding's spectrum, the key frequencies' share
    notes = _notices(at)
    assert any("memorised its training pairs at step" in t for t in notes)
    assert any("of the 11 frequencies carry 80% of the final embedding: k =" in t for t in notes)
    assert any("at initialisation (step 0)" in t and "a random embedding would give them" in t for t in notes)
    downloads = {b.proto.label for b in at.get("download_button")}
    assert "CSV" in downloads


def test_phase_diagram_tiny_sweep_classifies_every_cell():
    at = open_page("universality", PHASES, timeout=180)
    assert_clean(at)
    assert widget(at, "uv_pmod").value == 11 and widget(at, "uv_psteps").value == 300
    assert len(_charts(at)) == 1
    notes = _notices(at)
    assert len(notes) == 1 and re.search(r"\d+ runs? (learn|grok|memorise|fail)s?\b", notes[0])
    assert any("groks" in m.value and "memorises" in m.value for m in at.markdown)  # the definitions are shown


def test_emergence_renders_analytic_and_computed_parts():
    at = open_page("universality", EMERGE, timeout=180)
    assert_clean(at)
    assert len(_charts(at)) == 5
    notes = _notices(at)
    assert any("exact match over L = 20 tokens" in t for t in notes)
    assert any("per-digit accuracy climbs" in t for t in notes)
    assert any("10 items: first nonzero at N =" in t and "1/n" in t for t in notes)


def test_emergence_defaults_make_exact_match_look_sudden():
    # the old defaults (L = 10, per-token loss ~ N^-0.5) climbed from 5% to 95% over 3.5 of the axis's 5 decades.
    # Independent closed form for the steady model: p^L = q at p = q^(1/L), and p is linear in log10 N
    # from 0.5 at 1e7 to 0.999 at 1e12, so the climb takes 5 (0.95^(1/L) - 0.05^(1/L)) / 0.499 decades.
    L = EMERGENCE_DEFAULTS["length"]
    closed = 5 * (0.95 ** (1 / L) - 0.05 ** (1 / L)) / 0.499
    curves = metric_curves(length=L, model=EMERGENCE_DEFAULTS["model"], n_points=2001)
    assert rise_decades(curves, "exact match") == pytest.approx(closed, abs=0.01)
    assert closed / 5 < 0.15  # under a seventh of the axis: sudden on the page
    old = rise_decades(metric_curves(length=10, alpha=0.5, n_points=2001), "exact match")
    assert old == pytest.approx(math.log10(math.log(20) / -math.log(0.95)) / 0.5, abs=0.01)
    at = open_page("universality", {"uv_part": "Emergence", "uv_digits": "2", "uv_widest": "32"}, timeout=180)
    assert_clean(at)
    assert widget(at, "uv_len").value == L and widget(at, "uv_ptm").value == EMERGENCE_DEFAULTS["model"]
    assert any("of the 5-decade axis" in t for t in _notices(at))


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
    notes = _notices(at)
    assert any("did not reach 95% test accuracy" in t for t in notes)
    # no weight decay: the page may only claim what happened within the budget (Power et al. grokked without it)
    assert any("within this budget" in t for t in notes)
    assert not any("nothing pulls it" in t for t in notes)
