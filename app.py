"""Learning Theory Lab: the router, plus the process set-up every page relies on.

Thread counts, a background import of torch and POT, the run service's warm defaults, and the heartbeat of the runs
a session follows (``ui.runs.keep_alive``).
"""

import importlib
import threading

import streamlit as st
from threadpoolctl import threadpool_limits

from ui import runs
from ui.page import ROUTED
from ui.registry import HOME, available_topics
from ui.warm_defaults import default_runs

# One BLAS thread per computation (numpy's pools start before this file runs, so the limit is set here, for the
# whole server process; torch's thread count is set by core/__init__.py). On 2 shared cores, small matrix work is
# many times faster this way and concurrent users' runs share the cores instead of thrashing them.
threadpool_limits(1)


def _import_science() -> None:
    # core first: it sets torch's thread count before torch loads. torch._dynamo: the first optimizer a run builds
    # imports it (and sympy), ~3 s that would otherwise land on the first run a visitor waits for.
    for module in ("core", "core.training", "ot", "torch._dynamo"):
        importlib.import_module(module)
    runs.freeze_heap()


@st.cache_resource(show_spinner=False)
def _preload_science() -> threading.Thread:
    """Import torch and POT (~5 s) once per server, in the background, while the visitor reads the first page."""
    thread = threading.Thread(target=_import_science, daemon=True)
    thread.start()
    return thread


_preload_science()


@st.cache_resource(show_spinner=False)
def _warm_defaults() -> threading.Thread | None:
    """Queue every training page's default run once per server, behind any viewer's run (see ui/warm_defaults.py)."""
    return runs.warm_in_background(default_runs)


_warm_defaults()

st.set_page_config(page_title="Learning Theory Lab", page_icon=":material/science:", layout="wide")
st.session_state[ROUTED] = True

sections: dict[str, list] = {HOME.section: [st.Page(HOME.file, title=HOME.title, icon=HOME.icon, default=True)]}
for info in available_topics():
    sections.setdefault(info.section, []).append(st.Page(info.file, title=info.title, icon=info.icon))

page = st.navigation(sections)
runs.keep_alive(page.url_path)
page.run()
