"""Every page in a real browser: it loads with no exception, shows a chart, and survives one interaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from ui.registry import HOME, available_topics

pytestmark = pytest.mark.e2e

EXCEPTION = '[data-testid="stException"]'
CHART = '[data-testid="stVegaLiteChart"]'
RUNNING = '[data-testid="stStatusWidget"]'


def _settle(page, timeout_ms: int = 90_000) -> None:
    """Wait until the script has finished its run (the running indicator is gone)."""
    page.wait_for_timeout(500)
    page.wait_for_selector(RUNNING, state="detached", timeout=timeout_ms)


def test_home_links_every_page(page, app_url: str, artifacts: Path) -> None:
    page.goto(app_url)
    page.wait_for_selector("h1:has-text('Learning Theory Lab')", timeout=30_000)
    _settle(page)
    assert page.locator(EXCEPTION).count() == 0
    links = page.locator('[data-testid="stPageLink"]')
    assert links.count() == len(available_topics()) + 1  # one card per topic, plus the rest stop's closing map
    texts = " ".join(links.all_inner_texts())
    assert all(info.title in texts for info in available_topics())
    page.screenshot(path=str(artifacts / f"{Path(HOME.file).stem}.png"), full_page=True)


@pytest.mark.parametrize("info", available_topics(), ids=lambda p: p.url_path)
def test_page_loads_shows_a_chart_and_takes_an_interaction(page, app_url: str, artifacts: Path, info) -> None:
    page.goto(f"{app_url}/{info.url_path}")
    page.wait_for_selector(CHART, timeout=60_000)
    _settle(page)
    assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()
    page.screenshot(path=str(artifacts / f"{info.url_path}.png"), full_page=True)

    slider = page.locator('[data-testid="stSidebar"] [data-testid="stSlider"] input[type="range"]').first
    assert slider.count(), "every page has at least one sidebar slider"
    at_max = float(slider.input_value()) >= float(slider.get_attribute("max"))
    slider.focus()
    slider.press("ArrowLeft" if at_max else "ArrowRight")
    page.wait_for_url("**?**", timeout=10_000)  # the new value is written into the URL
    _settle(page)
    # A training page follows its new run without blocking: progress first, then the live or finished chart.
    page.wait_for_selector(CHART, timeout=240_000)
    assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()


def test_a_deep_link_as_a_fresh_servers_first_request_goes_through_the_router(page, fresh_app_url: str) -> None:
    page.goto(f"{fresh_app_url}/mdl?mdl_degree=5")
    page.wait_for_selector(CHART, timeout=60_000)
    _settle(page)
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Comparing distributions" in nav and "app" not in nav.split(), nav  # sections, not the pages/ folder
    degree = page.locator('[data-testid="stSidebar"] [data-testid="stSlider"] input[type="range"]').first
    assert degree.input_value() == "5"
    assert page.locator(EXCEPTION).count() == 0


@pytest.mark.parametrize(
    ("link", "ran"),
    [
        ("optimal_transport?ot_tab=Where+it+is+used", True),  # domain adaptation
        ("optimal_transport?ot_tab=Where+it+is+used&ot_use=Fairness", False),
        ("optimal_transport?ot_tab=Where+it+is+used&ot_use=Displacement+interpolation", False),
        ("sinkhorn?sk_tab=Accuracy+vs+time", True),
        ("sinkhorn?sk_tab=Past+the+LP", True),
        ("sinkhorn?sk_tab=Differentiable", True),
        ("information_bottleneck?ib_tab=Drift+and+diffusion", True),
        ("universality?uv_part=Grokking", True),
        ("universality?uv_part=Grokking+phases", True),
        ("universality?uv_part=Emergence", True),  # the addition models
    ],
)
def test_a_new_view_opened_by_its_link_runs_at_its_defaults(
    page, app_url: str, artifacts: Path, link: str, ran: bool
) -> None:
    """The views added this round open by their links and finish at their defaults with no exception."""
    page.goto(f"{app_url}/{link}")
    page.wait_for_selector(f"{CHART}:visible", timeout=120_000)  # the open tab's chart (other tabs' are hidden)
    if ran:
        done = [f'[data-testid="stCaptionContainer"]:visible:has-text("{s}")' for s in ("Finished in", "Cached run")]
        page.wait_for_selector(", ".join(done), timeout=300_000)  # the run behind the view has finished
    _settle(page)
    assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()
    name = link.replace("?", "-").replace("=", "-").replace("&", "-").replace("+", "_")
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
