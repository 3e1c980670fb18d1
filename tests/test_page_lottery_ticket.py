"""AppTest of pages/lottery_ticket.py with tiny deep links (1 round, 1 epoch, a small net)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_helpers import assert_clean, open_page, widget

pytestmark = pytest.mark.filterwarnings("ignore:The dense network reached only")  # 1-epoch runs are meant to be weak
TINY = {"lt_rounds": "2", "lt_epochs": "1", "lt_net": "64-100-50-10", "lt_seeds": "2"}


def _charts(at: AppTest) -> list:
    return at.get("vega_lite_chart")


def _notices(at: AppTest) -> list[str]:
    return [m.value for m in at.info if "What to notice" in m.value]


@pytest.fixture(scope="module")
def imp_page() -> AppTest:
    return open_page("lottery_ticket", TINY)


def test_tiny_deep_link_renders_the_ticket_chart_and_notice(imp_page: AppTest) -> None:
    assert_clean(imp_page)
    assert len(_charts(imp_page)) >= 1
    (notice,) = _notices(imp_page)
    assert "Dense net:" in notice and "chance is 10%" in notice
    assert any("Caveat" in w.value for w in imp_page.warning)
    caption = " ".join(c.value for c in imp_page.caption)
    assert "40% of every hidden layer" in caption and "Frankle & Carbin prune 20%" in caption


def test_the_sidebar_defaults_are_the_fast_schedule_with_a_seed_band() -> None:
    # the sidebar of the (cheap) strong-tickets part, so that the long default IMP run does not start
    at = open_page("lottery_ticket", {"lt_part": "Strong tickets", "lt_widths": "2", "lt_sm_epochs": "5"})
    assert widget(at, "lt_rounds").value == 9 and widget(at, "lt_rate").value == 40
    assert widget(at, "lt_seeds").value == 3 and widget(at, "lt_epochs").value == 5


def test_deep_link_sets_the_controls(imp_page: AppTest) -> None:
    assert widget(imp_page, "lt_rounds").value == 2
    assert widget(imp_page, "lt_epochs").value == 1
    assert widget(imp_page, "lt_seeds").value == 2
    assert widget(imp_page, "lt_rate").value == 40  # the default schedule
    assert widget(imp_page, "lt_net").value == "64-100-50-10"
    assert widget(imp_page, "lt_part").value == "Winning tickets"


def test_one_control_change_reruns_cleanly(imp_page: AppTest) -> None:
    before = _notices(imp_page)
    widget(imp_page, "lt_seed").set_value(1).run()
    assert_clean(imp_page)
    assert len(_charts(imp_page)) >= 1
    assert _notices(imp_page) and _notices(imp_page) != before  # a new run with the new seed


def test_pruning_at_init_part_from_a_deep_link() -> None:
    params = {
        **TINY, "lt_part": "Pruning at init", "lt_keep": ["10", "0.1"], "lt_methods": ["snip", "synflow", "magnitude"],
    }  # fmt: skip
    at = open_page("lottery_ticket", params)
    assert_clean(at)
    assert widget(at, "lt_keep").value == [10, 0.1]
    assert widget(at, "lt_methods").value == ["snip", "synflow", "magnitude"]
    assert len(_charts(at)) >= 2  # accuracy, and the weights left per layer
    accuracy, collapse = _notices(at)
    assert "Keeping 0.1% of the weights" in accuracy
    # at 0.1% kept global magnitude and SNIP cut a layer off at init; iterative SynFlow does not
    assert "**magnitude** empties a layer" in collapse and "**synflow** leave weights in every layer" in collapse


def test_strong_tickets_part_and_a_bad_input_message() -> None:
    params = {"lt_part": "Strong tickets", "lt_widths": "4", "lt_sm_epochs": "5", "lt_seeds": "1"}
    at = open_page("lottery_ticket", params)
    assert_clean(at)
    assert widget(at, "lt_widths").value == [4]
    assert len(_charts(at)) >= 1 and "At width 4" in _notices(at)[0]
    widget(at, "lt_widths").set_value([]).run()  # nothing to train: a message naming the fix, no traceback
    assert not at.exception
    assert any("`widths` must list at least one" in e.value for e in at.error)


def test_instability_part_from_a_deep_link_and_a_bad_rewind_step() -> None:
    params = {**TINY, "lt_part": "Instability", "lt_seeds": "1", "lt_ks": ["0", "5"]}
    at = open_page("lottery_ticket", params)
    assert_clean(at)
    assert widget(at, "lt_ks").value == [0, 5]
    assert len(_charts(at)) >= 1
    (notice,) = _notices(at)
    assert "Dense net: barrier" in notice and "Subnetwork with" in notice
    widget(at, "lt_ks").set_value([0, 100]).run()  # 100 steps > one epoch of 20: a message naming the fix
    assert not at.exception
    assert any("`rewind_steps` must be <= 19" in e.value for e in at.error)
