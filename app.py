"""Learning Theory Lab: the router. It sets the page config and runs the selected page; nothing else."""

import streamlit as st

from ui.page import ROUTED
from ui.registry import HOME, available_topics

st.set_page_config(page_title="Learning Theory Lab", page_icon=":material/science:", layout="wide")
st.session_state[ROUTED] = True

sections: dict[str, list] = {HOME.section: [st.Page(HOME.file, title=HOME.title, icon=HOME.icon, default=True)]}
for info in available_topics():
    sections.setdefault(info.section, []).append(st.Page(info.file, title=info.title, icon=info.icon))

st.navigation(sections).run()
