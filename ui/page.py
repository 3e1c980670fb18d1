"""Page anatomy shared by every topic page.

Header, computed calls with clear messages, charts with the data behind them, the "what to notice" line and
the references.

Pages stay thin by calling these; nothing here does numerics.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Sequence
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from ui.run_service import collect_warnings

ROUTED = "_routed_by_app"  # session flag set by app.py on every run


def _ensure_router() -> None:
    """Make a deep link work even when it is the server's first request.

    While a ``pages/`` folder sits beside the entrypoint, Streamlit starts in its legacy multipage mode and runs a
    deep-linked page by itself, without ``app.py``, until some session calls ``st.navigation`` (then the whole
    server switches to the router). A page that finds no mark of ``app.py`` in its session registers the real
    navigation and reruns, so ``app.py`` runs first from then on, for every session.
    """
    if st.session_state.get(ROUTED):
        return
    from ui.registry import HOME, available_topics

    st.navigation([st.Page(HOME.file, default=True)] + [st.Page(p.file) for p in available_topics()])
    st.rerun()


def header(title: str, intuition: str, formula: str | None = None) -> None:
    """Title, 2-4 sentences of intuition and the key formula."""
    _ensure_router()
    st.title(title)
    st.markdown(intuition)
    if formula:
        st.latex(formula)


@st.cache_data(max_entries=256, show_spinner=False)
def _cached_call(module: str, qualname: str, args: tuple, kwargs: dict) -> tuple[Any, list[str]]:
    fn = importlib.import_module(module)
    for part in qualname.split("."):
        fn = getattr(fn, part)
    with collect_warnings() as caught:  # this thread's warnings only: sessions share the process
        result = fn(*args, **kwargs)
    return result, list(caught)


def compute(fn: Callable, *args: Any, **kwargs: Any) -> Any | None:
    """Call a pure ``core`` function through a process-wide cache and report problems on the page.

    A ``ValueError``/``TypeError`` (bad input) becomes ``st.error`` with the message, which names the fix, and the
    call returns ``None``; warnings (e.g. a solver that did not converge) become ``st.warning``. Arguments must be
    hashable by ``st.cache_data`` (numbers, strings, tuples, arrays, DataFrames, frozen dataclasses).
    """
    try:
        result, messages = _cached_call(fn.__module__, fn.__qualname__, args, kwargs)
    except (ValueError, TypeError) as exc:
        st.error(f"{exc}", icon=":material/error:")
        return None
    for message in messages:
        st.warning(message, icon=":material/warning:")
    return result


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "data"


def show_chart(
    chart: alt.TopLevelMixin, data: pd.DataFrame, *, name: str, caption: str | None = None, square: bool = False
) -> None:
    """Show an Altair chart with a CSV download of the data behind it.

    At full width, or with ``square=True`` at the chart's own size, so that equal axes stay equal.
    """
    st.altair_chart(chart, width="content" if square else "stretch")
    if caption:
        st.caption(caption)
    st.download_button(
        "CSV",
        data.to_csv(index=False).encode(),
        file_name=f"{_slug(name)}.csv",
        mime="text/csv",
        key=f"download_{_slug(name)}",
        icon=":material/download:",
        on_click="ignore",
        help="Download the data behind this chart",
        type="tertiary",
    )


def notice(text: str) -> None:
    """The "what to notice" line: a sentence quoting numbers measured in this run."""
    st.info(f"**What to notice.** {text}", icon=":material/visibility:")


def references(items: Sequence[str]) -> None:
    """The papers behind the page, as a bulleted list at the bottom."""
    st.divider()
    st.markdown("**References**\n\n" + "\n".join(f"- {item}" for item in items))
