"""AppTest for pages/learnability.py: deep links with small settings, one control change, controls from the URL."""

from __future__ import annotations

import altair as alt
import pandas as pd

from core.learnability.pac import pac_bound_curve, pac_sample_bound
from core.learnability.parity import fit_exponents
from tests.apptest_helpers import assert_clean, open_page, widget
from ui.charts import learnability as lc

PAC = {"lp_eps": "0.1", "lp_delta": "0.05", "lp_logh": "3", "lp_vc": "10"}
# Tiny training settings: a handful of SGD steps on a narrow net, so each tab renders in seconds.
PARITY = {"lp_tab": "Sparse parity", "lp_ns": ["6", "8"], "lp_seeds": "2", "lp_width": "32", "lp_steps": "500",
          "lp_seed": "1"}  # fmt: skip
NOISE = {"lp_tab": "Label noise", "lp_nn": "6", "lp_nsteps": "100", "lp_width": "32", "lp_noise": "0.2"}
PROPER = {"lp_tab": "Proper vs improper", "lp_max_n": "4", "lp_m": "20"}
HIDDEN = {"lp_tab": "Hidden progress", "lp_hn": "12", "lp_hk": "2", "lp_hs": "500", "lp_width": "32"}


def _charts(at) -> int:
    return len(at.get("vega_lite_chart"))


def test_pac_tab_renders_the_three_bounds_from_a_deep_link() -> None:
    at = open_page("learnability", PAC)
    assert_clean(at)
    assert _charts(at) >= 1
    # |H| = 10^3, eps = 0.1, delta = 0.05 (the hand-computed case of tests/test_learnability.py)
    # the ERM guarantee is 4x the uniform-convergence size; the VC bound is Blumer et al.'s max of two terms
    assert [m.value for m in at.metric] == ["100", "2,120", "530", "5,618"]
    assert at.info and "What to notice" in at.info[0].value


def test_one_control_change_reruns_cleanly() -> None:
    at = open_page("learnability", PAC)
    widget(at, "lp_delta").set_value(0.01).run()
    assert_clean(at)
    expected = pac_sample_bound(eps=0.1, delta=0.01, h_size=1e3)
    assert at.metric[0].value == f"{expected:,}"
    assert _charts(at) >= 1


def test_deep_link_sets_the_controls() -> None:
    link = {**PAC, **PARITY, "lp_ns": ["6", "10"], "lp_tab": "PAC bounds"}  # training tabs stay closed
    at = open_page("learnability", link)
    assert_clean(at)
    assert widget(at, "lp_eps").value == 0.1
    assert widget(at, "lp_logh").value == 3
    assert widget(at, "lp_ns").value == [6, 10]
    assert widget(at, "lp_width").value == 32
    assert widget(at, "lp_steps").value == 500
    assert widget(at, "lp_seed").value == 1
    assert widget(at, "lp_seeds").value == 2


def test_sparse_parity_tab_trains_and_fits() -> None:
    at = open_page("learnability", PARITY, timeout=120)
    assert_clean(at)
    assert _charts(at) >= 1
    notes = [i.value for i in at.info if "What to notice" in i.value]
    assert any("steps to 99% grow like" in t and "2 seed(s) per point" in t for t in notes)
    assert any("90% interval" in m.delta for m in at.metric)


def test_label_noise_tab_renders() -> None:
    at = open_page("learnability", NOISE, timeout=120)
    assert_clean(at)
    assert _charts(at) >= 1
    assert any("clean labels" in i.value for i in at.info)


def test_hidden_progress_tab_renders() -> None:
    at = open_page("learnability", HIDDEN, timeout=120)
    assert_clean(at)
    assert _charts(at) >= 2  # accuracy + share + gap, and the per-bit heat map
    assert any("relevant bits" in i.value or "stayed at chance" in i.value for i in at.info)


def test_proper_vs_improper_tab_renders() -> None:
    at = open_page("learnability", PROPER)
    assert_clean(at)
    assert _charts(at) >= 2
    assert any("exhaustive search" in i.value and "not that the problem is hard" in i.value for i in at.info)


def test_chart_builders_accept_the_core_frames() -> None:
    sweep = pd.DataFrame(
        {"n": [10, 20, 40, 10, 20, 40] * 2, "k": [2, 2, 2, 3, 3, 3] * 2, "seed": [0] * 6 + [1] * 6,
         "steps_to_99": [40, 80, 130, 300, 650, float("nan"), 45, 70, 140, 280, 700, 1500],
         "seconds": [0.1] * 12, "final_acc": [1.0] * 12}
    )  # fmt: skip
    curves = pd.DataFrame({"noise": [0.0, 0.0, 0.3, 0.3], "step": [25, 50] * 2, "test_acc": [0.5, 1.0, 0.5, 0.5]})
    proper = pd.DataFrame(
        {"n": [2, 2, 3, 3], "learner": ["a", "b"] * 2, "seconds": [1e-4, 1e-4, 1e-3, 1e-4],
         "train_acc": [1.0] * 4, "test_acc": [1.0, 0.9, 1.0, 0.8], "searched": [45, 8, 378, 18]}
    )  # fmt: skip
    live = pd.DataFrame({"series": ["k = 2, n = 10"] * 2, "step": [5, 10], "test_acc": [0.5, 0.9]})
    hidden = pd.DataFrame(
        {"step": [0, 0, 0, 0, 0, 10, 10, 10, 10, 10],
         "measure": ["test accuracy", "support weight share", "gradient gap", "bit weight", "bit weight"] * 2,
         "bit": [-1, -1, -1, 0, 1] * 2, "value": [0.5, 0.5, 1.0, 0.1, 0.1, 1.0, 0.7, 2.0, 0.2, 0.1]}
    )  # fmt: skip
    hidden_live = pd.DataFrame({"step": [10, 20], "test_acc": [0.5, 0.6], "support_share": [0.2, 0.3]})
    charts = [
        lc.pac_chart(pac_bound_curve(delta=0.05, h_size=1e3, vc_dim=10, num=5), eps=0.1),
        lc.parity_steps_chart(sweep, fit_exponents(sweep, n_boot=20)),
        lc.parity_live_chart(live),
        lc.noise_chart(curves),
        lc.proper_time_chart(proper),
        lc.proper_accuracy_chart(proper),
        lc.hidden_progress_chart(hidden),
        lc.bit_weight_heatmap(hidden, [0]),
        lc.hidden_live_chart(hidden_live),
    ]
    for chart in charts:
        assert isinstance(chart, alt.TopLevelMixin)
        assert chart.to_dict()  # valid Vega-Lite
