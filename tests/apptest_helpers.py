"""Open a page of the app in Streamlit's AppTest, the way `streamlit run app.py` would."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parent.parent / "app.py"


def open_page(stem: str, params: dict[str, str] | None = None, *, timeout: float = 60) -> AppTest:
    """Run ``app.py``, switch to ``pages/<stem>.py`` with the query ``params`` (a deep link), and return it."""
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.run()
    at.switch_page(f"pages/{stem}.py")
    for key, value in (params or {}).items():
        at.query_params[key] = value
    at.run()
    return at


def assert_clean(at: AppTest) -> None:
    """The page rendered with no exception element and no error box."""
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def widget(at: AppTest, key: str):
    """The widget with ``key`` on the page (any kind)."""
    return at.get_by_key(key)
