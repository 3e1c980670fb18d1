"""AppTest for the Sinkhorn page: a deep link per tab at small settings, control changes, and an upload."""

from __future__ import annotations

import numpy as np
import ot

from core.sinkhorn.experiments import example_histograms
from core.sinkhorn.solver import sinkhorn_steps
from tests.apptest_helpers import assert_clean, open_page, widget

SMALL = {"sk_n": "20", "sk_eps": "0.1", "sk_k": "3"}


def _notices(at) -> str:
    return " ".join(i.value for i in at.info)


def _charts(at) -> int:
    return len(at.get("vega_lite_chart"))


def test_deep_link_renders_and_sets_the_controls():
    at = open_page("sinkhorn", SMALL)
    assert_clean(at)
    assert _charts(at) >= 2  # the two plans, the marginals
    assert widget(at, "sk_n").value == 20
    assert widget(at, "sk_eps").value == 0.1
    assert widget(at, "sk_k").value == 3
    assert "After k = 3 iterations" in _notices(at) and "above exact" in _notices(at)


def test_control_changes_rerun_cleanly():
    at = open_page("sinkhorn", SMALL)
    widget(at, "sk_k").set_value(50).run()
    assert_clean(at)
    assert "After k = 50 iterations" in _notices(at)
    widget(at, "sk_eps").set_value(1e-4).run()  # the stabilized and epsilon-scaling routes
    assert_clean(at)
    assert not at.warning
    assert "At ε = 0.0001 Sinkhorn meets the tolerance" in _notices(at)


def test_tabs_open_by_deep_link():
    at = open_page("sinkhorn", {**SMALL, "sk_tab": "The ε trade-off"})
    assert_clean(at)
    assert _charts(at) == 3  # gap, iterations, time
    assert "the gap is" in _notices(at) and "bound ε log n" in _notices(at)
    at = open_page("sinkhorn", {"sk_tab": "Cost as n grows", "sk_nmax": "400", "sk_eps_n": "0.1"})
    assert_clean(at)
    assert widget(at, "sk_nmax").value == 400 and widget(at, "sk_eps_n").value == 0.1
    assert _charts(at) == 1 and "At n = 400 the exact LP took" in _notices(at)
    assert "medians of 3 runs each" in _notices(at) and "Fitted over n ≥ 400" in _notices(at)
    at = open_page("sinkhorn", {"sk_tab": "Differentiable", "sk_steps": "10", "sk_kernel": "energy"}, timeout=120)
    assert_clean(at)
    assert widget(at, "sk_steps").value == 10 and widget(at, "sk_kernel").value == "energy"
    assert widget(at, "sk_eps_f").value == 0.3  # the default blur, where entropic OT visibly shrinks the cloud
    assert _charts(at) == 2  # snapshots, curves
    text = _notices(at)
    assert "take 10 steps at ε = 0.3" in text and "MMD (energy kernel) ends at W2 =" in text
    assert "The Sinkhorn divergence ends at W2 =" in text and "Entropic OT ends at W2 =" in text


def test_upload_bad_file_errors_and_good_file_is_used():
    at = open_page("sinkhorn", SMALL)
    widget(at, "sk_upload").set_value(("h.csv", b"p,q\n1,2\n", "text/csv")).run()
    assert not at.exception
    assert any("a, b" in e.value for e in at.error)  # names the missing columns
    assert "on 20 bins" in " ".join(m.value for m in at.markdown)  # fell back to the example histograms
    widget(at, "sk_upload").set_value(("h.csv", b"a,b\n1,0\n2,1\n1,3\n0,1\n", "text/csv")).run()
    assert_clean(at)
    assert "on 4 bins" in " ".join(m.value for m in at.markdown)
    widget(at, "sk_upload").set_value(("h.csv", b"a,b\n1,-1\n2,2\n", "text/csv")).run()
    assert not at.exception
    assert any("`b` must be nonnegative" in e.value for e in at.error)


def test_an_unfinished_iterate_below_the_exact_cost_is_explained():
    """After one step at eps = 0.01 the iterate's <P, M> is below OT (POT's exact cost): the page must say why."""
    at = open_page("sinkhorn", {"sk_n": "20", "sk_eps": "0.01", "sk_k": "1"})
    assert_clean(at)
    h = example_histograms(20)
    P = sinkhorn_steps(h.a, h.b, h.M, eps=0.01, k=1).plan
    assert np.sum(P * h.M) < ot.emd2(h.a, h.b, h.M)  # the phenomenon, against POT's LP
    assert np.abs(P.sum(0) - h.b).sum() > 1e-3  # and the reason: the columns are not yet b
    assert "not yet a transport plan" in _notices(at)
    widget(at, "sk_k").set_value(1000).run()
    assert_clean(at)
    assert "not yet a transport plan" not in _notices(at)


def test_frontier_tab_puts_the_lp_on_the_trade_off():
    at = open_page("sinkhorn", {"sk_tab": "Accuracy vs time"})
    assert_clean(at)
    assert _charts(at) == 1 and "The exact LP took" in _notices(at)


def test_iteration_counts_say_what_pot_ran():
    at = open_page("sinkhorn", SMALL)
    assert "POT checks the tolerance at iterations 1, 11, 21" in _notices(at)


def test_past_the_lp_tab_quotes_time_and_memory():
    at = open_page("sinkhorn", {"sk_tab": "Past the LP", "sk_big": "4000", "sk_lpmax": "1000"}, timeout=240)
    assert_clean(at)
    text = _notices(at)
    assert "solved n = 4,000" in text  # float32: 2 x 16e6 entries x 4 bytes = 128 MB
    assert "128 MB" in text and "4 bytes per entry" in text
    assert "At n = 1,000 the exact LP took" in text and "extrapolated (not run)" in text
    assert _charts(at) >= 1


def test_small_shares_keep_their_digits():
    """At eps = 1e-4 the gap is ~0.002% of OT: the page must not print it as 0.00%."""
    from ui.views.sinkhorn import percent

    assert [percent(x) for x in (0.2037, 0.01, 2.1e-5, 0.0, -3e-4)] == ["20.37%", "1.00%", "0.0021%", "0.00%", "-0.03%"]
    at = open_page("sinkhorn", {**SMALL, "sk_eps": "0.0001", "sk_tab": "The ε trade-off"})
    assert_clean(at)
    notice = _notices(at)
    assert "of OT" in notice and "(0.00% of OT" not in notice
