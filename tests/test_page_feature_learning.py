"""AppTest for pages/feature_learning.py: small deep links for each part, one control change, controls from the URL."""

from __future__ import annotations

import pytest

from tests.apptest_helpers import assert_clean, open_page, widget

SLOW = 240  # seconds: a shared 2-core machine under load can take minutes
# Tiny settings: two narrow widths and a few GD steps, so every part renders in a second or two.
LAZY = {
    "fl_part": "Lazy vs rich",
    "fl_lz_widths": ["16", "32"],
    "fl_lz_steps": "20",
    "fl_seed": "2",
    "fl_lz_seeds": "2",
}
PARTS = {
    "Coord check": {"fl_cc_steps": "1", "fl_cc_lr": "0.03", "fl_cc_seeds": "2"},
    "LR transfer": {"fl_tr_widths": ["64", "128"], "fl_tr_steps": "20"},
    "Function space": {"fl_fv_narrow": "8", "fl_fv_wide": "256", "fl_fv_steps": "30"},
}


def _charts(at) -> int:
    return len(at.get("vega_lite_chart"))


def test_lazy_part_renders_from_a_small_deep_link() -> None:
    at = open_page("feature_learning", LAZY, timeout=SLOW)
    assert_clean(at)
    assert _charts(at) == 2  # weight change and kernel change against width
    notice = next(i.value for i in at.info if "What to notice" in i.value)
    assert "width 16" in notice and "width 32" in notice and "fitted slope" in notice
    assert "over 2 seed(s)" in notice and "±" in notice  # the slope is a mean over seeds with its spread
    spec = at.get("vega_lite_chart")[0].proto.spec
    assert "Input-to-hidden weight change" in spec and '"area"' in spec  # the band over seeds


def test_table_8_separates_the_sgd_and_adam_learning_rates() -> None:
    at = open_page("feature_learning", LAZY, timeout=SLOW)
    table = next(m.value for m in at.markdown if "Table" in m.value or "LR factor" in m.value)
    assert "LR factor with **SGD** | n (fan_out) | 1 | n (fan_in)" in table
    assert "LR factor with **Adam** | 1 | 1/n (1/fan_in) | 1" in table


def test_tanh_activation_and_adam_transfer_render() -> None:
    at = open_page("feature_learning", {**LAZY, "fl_lz_act": "Tanh"}, timeout=SLOW)
    assert_clean(at)
    assert "theory −1)" in next(i.value for i in at.info if "What to notice" in i.value)
    link = {"fl_part": "LR transfer", "fl_tr_opt": "Adam", "fl_tr_widths": ["64", "128"], "fl_tr_steps_adam": "20"}
    at = open_page("feature_learning", link, timeout=SLOW)
    assert_clean(at)
    assert "Adam, 20 steps" in next(i.value for i in at.info if "What to notice" in i.value)


@pytest.mark.parametrize("part", list(PARTS))
def test_each_other_part_renders(part: str) -> None:
    at = open_page("feature_learning", {"fl_part": part, **PARTS[part]}, timeout=SLOW)
    assert_clean(at)
    assert _charts(at) >= 1
    assert any("What to notice" in i.value for i in at.info)


def test_one_control_change_reruns_cleanly() -> None:
    at = open_page("feature_learning", LAZY, timeout=SLOW)
    widget(at, "fl_lz_steps").set_value(50).run(timeout=SLOW)
    assert_clean(at)
    assert _charts(at) == 2
    widget(at, "fl_lz_sp").set_value(True).run(timeout=SLOW)  # adds a third parametrization to both charts
    assert_clean(at)
    assert _charts(at) == 2
    assert '"sp"' in at.get("vega_lite_chart")[0].proto.spec


def test_deep_link_sets_the_controls() -> None:
    link = {"fl_part": "LR transfer", "fl_tr_widths": ["64", "256"], "fl_tr_steps": "20", "fl_tr_fine": "false"}
    at = open_page("feature_learning", {**link, "fl_seed": "7"}, timeout=SLOW)
    assert_clean(at)
    assert widget(at, "fl_part").value == "transfer"
    assert widget(at, "fl_tr_widths").value == [64, 256]
    assert widget(at, "fl_tr_steps").value == 20
    assert widget(at, "fl_tr_fine").value is False
    assert widget(at, "fl_seed").value == 7
    notice = next(i.value for i in at.info if "What to notice" in i.value)
    assert "(width 64)" in notice and "(width 256)" in notice


def test_too_few_widths_is_a_warning_not_an_error() -> None:
    at = open_page("feature_learning", {**LAZY, "fl_lz_widths": ["64"]}, timeout=SLOW)
    assert not at.exception and not at.error
    assert any("at least two widths" in w.value for w in at.warning)
