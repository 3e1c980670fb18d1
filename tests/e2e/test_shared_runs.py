"""Two browsers on one training page of one server at once: one shared run, and both see it finish."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.e2e

CHART = '[data-testid="stVegaLiteChart"]'
PROGRESS = '[data-testid="stProgress"]'
EXCEPTION = '[data-testid="stException"]'
# A short lottery-ticket setting nobody else asks for (not a warm default): the run starts when the pages open.
URL = "/lottery_ticket?lt_rounds=3&lt_epochs=3&lt_seed=7"


def test_two_viewers_of_the_same_setting_share_one_run(browser, fresh_app_url: str) -> None:
    contexts = [browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in range(2)]
    pages = [c.new_page() for c in contexts]
    try:
        for page in pages:
            page.goto(fresh_app_url + URL)
        shared = False
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not all(p.get_by_text("What to notice").count() for p in pages):
            texts = [t for p in pages for t in p.locator(PROGRESS).all_inner_texts()]
            shared = shared or any("watched by 1 other viewer" in t for t in texts)
            pages[0].wait_for_timeout(250)
        for page in pages:
            assert page.get_by_text("What to notice").count(), "a viewer never saw the finished run"
            assert page.locator(CHART).count() >= 1
            assert page.locator(EXCEPTION).count() == 0
        assert shared, "the progress bar never said the run was watched by the other viewer"
        captions = [p.get_by_text("Finished in").count() + p.get_by_text("Cached run").count() for p in pages]
        assert all(captions), captions
    finally:
        for context in contexts:
            context.close()
