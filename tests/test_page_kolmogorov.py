from tests.apptest_helpers import assert_clean, open_page, widget

SMALL = {
    "ko_length": "1000",
    "ko_ncd_size": "300",
    "ko_max_prog": "4",
    "ko_target": "0000",
    "ko_source": "LCG stream",
}  # a select holds its label in the URL


def _charts(at):
    return at.get("vega_lite_chart")


def test_renders_at_a_small_deep_link():
    at = open_page("kolmogorov", SMALL)
    assert_clean(at)
    assert len(_charts(at)) >= 5
    assert any("`0000`" in i.value for i in at.info)  # the shortest program for 0000 is found
    assert any("halting programs print" in i.value and "CTM gives 0110" in i.value for i in at.info)


def test_one_control_change_reruns_cleanly():
    at = open_page("kolmogorov", SMALL)
    widget(at, "ko_source").set_value("prose").run()
    assert_clean(at)
    assert len(_charts(at)) >= 5


def test_deep_link_sets_the_controls():
    at = open_page("kolmogorov", SMALL)
    assert widget(at, "ko_length").value == 1000
    assert widget(at, "ko_ncd_size").value == 300
    assert widget(at, "ko_max_prog").value == 4
    assert widget(at, "ko_target").value == "0000"
    assert widget(at, "ko_source").value == "lcg"


def test_bad_target_gives_a_message_not_a_traceback():
    at = open_page("kolmogorov", {**SMALL, "ko_target": "0120"})
    assert not at.exception
    assert any("`target` must be" in e.value for e in at.error)


def test_pasted_text_is_profiled():
    at = open_page("kolmogorov", {**SMALL, "ko_source": "your text"})
    assert_clean(at)
    at.text_area(key="ko_text").input("the cat sat on the mat " * 50).run()
    assert_clean(at)
    assert any("bits per byte" in i.value for i in at.info)


def test_the_default_search_shows_the_bound_falling_with_the_step_limit():
    at = open_page("kolmogorov", {"ko_length": "1000", "ko_ncd_size": "300"}, timeout=240)
    assert_clean(at)
    notice = next(i.value for i in at.info if "Shortest within" in i.value)
    assert "With 10 steps the best bound is 8 instructions" in notice and "falls to 7" in notice


def test_os_entropy_beside_the_seeded_generator_changes_on_every_rerun():
    at = open_page("kolmogorov", SMALL)
    assert_clean(at)
    assert any("A fresh OS draw is made on every rerun" in m.value for m in at.markdown)

    def notice(app):
        return next(i.value for i in app.info if "OS entropy: first bytes" in i.value)

    first = notice(at)
    at.run()
    second = notice(at)
    seeded = first.split("OS entropy")[0]
    assert seeded == second.split("OS entropy")[0]  # the seeded half is the same: the link reproduces it
    assert first != second  # the OS half is drawn again
    assert "no seed, link or program reproduces it" in first


def test_ncd_on_the_projects_own_texts_recovers_the_kinds():
    at = open_page("kolmogorov", {**SMALL, "ko_ncd_size": "1000"})
    assert_clean(at)
    notice = next(i.value for i in at.info if "adjusted Rand index" in i.value)
    assert "adjusted Rand index 1.00" in notice and "100% of texts" in notice
    assert widget(at, "ko_corpus").value == "project"
    widget(at, "ko_corpus").set_value("generated").run()
    assert_clean(at)
    assert any("The random stream is at least" in i.value for i in at.info)
