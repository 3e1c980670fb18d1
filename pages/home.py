"""Home: the landscape of the chapter, one card per topic page."""

import streamlit as st

from ui.registry import available_topics

st.title("Learning Theory Lab")
st.markdown(
    "Interactive, computed demonstrations of the mathematical frontiers of deep learning. Every chart on every "
    "page comes from a real computation run when you open it: an optimal-transport solver, a training run, a "
    "fit. Move a control in the sidebar and the computation runs again; copy the URL to share exactly what "
    "you see."
)

topics = available_topics()
sections: dict[str, list] = {}
for info in topics:
    sections.setdefault(info.section, []).append(info)

for section, infos in sections.items():
    st.subheader(section)
    cols = st.columns(3)
    for i, info in enumerate(infos):
        with cols[i % 3].container(border=True, height="stretch"):
            st.page_link(info.file, label=f"**{info.title}**", icon=info.icon)
            st.caption(info.hook)

st.subheader("How the topics connect")
st.markdown(
    """
- **Distances between distributions** (optimal transport, Sinkhorn) are what generative models and domain
  adaptation minimise; the entropic blur that makes Sinkhorn fast is the same trade of precision for
  smoothness that runs through the rest of the chapter.
- **Information and compression** (information bottleneck, MDL, Kolmogorov complexity) ask what a model keeps:
  a good learner compresses its data, and the shortest description is the best explanation, up to a point
  nobody can compute.
- **Learnability** asks what any learner can do with so many samples and so much compute; feature learning
  theory asks what gradient descent on a wide network actually does (a fixed kernel, or learned features).
- **Inside trained networks**, pruning (lottery tickets) and the geometry of the last layer (neural collapse)
  show that training finds far simpler structure than the parameter count suggests.
- **Scale and surprises**: power laws make loss predictable from size and data, while double descent,
  grokking and emergence show where the classical picture of over-fitting breaks.
- **The rest stop** computes some of these links from runs (grokking seen through collapse and description
  length, why overparameterised fits generalise, a scaling law and double descent on one curve) and draws the
  chapter's map, saying which links are measured and which are conjectures.
"""
)
st.page_link("pages/rest_stop.py", label="The closing map and the computed links", icon=":material/hub:")
