"""AppTest of the frame: the router and the home page. Each topic page has its own tests/test_page_<stem>.py."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from tests.apptest_helpers import APP
from ui.registry import available_topics


def test_home_renders_a_card_per_page() -> None:
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "Learning Theory Lab"
    links = [el.proto.page for el in at.get("page_link")]
    cards = [p.url_path for p in available_topics()]
    assert links[: len(cards)] == cards
    assert links[len(cards) :] == ["rest_stop"]  # "How the topics connect" links the closing map


def test_every_page_is_reachable_from_the_router() -> None:
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    for info in available_topics():
        at.switch_page(info.file)  # raises if the router does not know the page
