from core.information_bottleneck.theory import mutual_information, noisy_channel_joint
from tests.apptest_helpers import assert_clean, open_page, widget

SMALL = {"mdl_n": "30", "mdl_max_degree": "6", "mdl_degree": "2", "mdl_noise": "0.1", "mdl_exceptions": "3"}


def _charts(at):
    return at.get("vega_lite_chart")


def test_renders_at_a_small_deep_link():
    at = open_page("mdl", SMALL)
    assert_clean(at)
    assert len(_charts(at)) >= 5
    assert any("MDL picks degree" in i.value for i in at.info)


def test_one_control_change_reruns_cleanly():
    at = open_page("mdl", SMALL)
    widget(at, "mdl_max_degree").set_value(8).run()
    assert_clean(at)
    assert len(_charts(at)) >= 5


def test_deep_link_sets_the_controls():
    at = open_page("mdl", SMALL)
    assert widget(at, "mdl_n").value == 30
    assert widget(at, "mdl_max_degree").value == 6
    assert widget(at, "mdl_degree").value == 2
    assert widget(at, "mdl_noise").value == 0.1
    assert widget(at, "mdl_exceptions").value == 3


def test_csv_source_without_a_file_asks_for_one():
    at = open_page("mdl", {**SMALL, "mdl_source": "your CSV"})
    assert_clean(at)
    assert any("upload" in i.value.lower() for i in at.info)


def test_refined_codes_and_the_count_over_seeds():
    at = open_page("mdl", {**SMALL, "mdl_seeds": "true"})
    assert_clean(at)
    notices = " ".join(i.value for i in at.info)
    assert "the Bayes mixture" in notices and "prequential code" in notices
    assert "Over 20 data sets" in notices
    assert "values at the nodes the same polynomial costs 16,000 bits, exactly the raw data" in notices


def test_ib_cluster_count_by_code_length():
    at = open_page("mdl", {**SMALL, "mdl_ib_n": "300", "mdl_ib_noise": "0.12"})
    assert_clean(at)
    assert widget(at, "mdl_ib_n").value == 300 and widget(at, "mdl_ib_noise").value == 0.12
    notice = next(i.value for i in at.info if "draws the code is shortest at" in i.value)
    assert "With n = 300 draws" in notice and "more data affords more clusters" in notice
    i_xy = mutual_information(noisy_channel_joint(12, 12, noise=0.12))  # the IB package's own number
    assert f"I(X;Y) = {i_xy:.3f} bits" in notice
    assert len(_charts(at)) >= 8
