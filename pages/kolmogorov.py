"""Algorithmic information: compressors bound K(x), pi and an LCG fool them, OS entropy, NCD, K is uncomputable."""

import pandas as pd
import streamlit as st

from core.kolmogorov import compression as ko
from core.kolmogorov import corpus as ko_corpus
from core.kolmogorov import ctm as ko_ctm
from core.kolmogorov import search as ks
from ui import controls, page
from ui.charts import kolmogorov as charts
from ui.runs import live_run
from ui.text import kolmogorov as copy_kolmogorov

page.header(
    "Algorithmic information",
    "The Kolmogorov complexity K(x) of a string is the length of the shortest program that prints it. Every "
    "lossless compressor gives an upper bound: the compressed file plus a fixed decompressor is such a program. "
    "The bound can be very loose (a few lines print a million digits of pi, which no compressor shrinks), and no "
    "algorithm can close the gap for every string.",
    r"K(x) = \min\{\,|p| : U(p) = x\,\} \;\le\; C(x) + c_C",
)

LABELS = dict(zip([*ko.SOURCES, "text", "file"], ["periodic", "seeded random", "digits of pi", "LCG stream",
    "Thue-Morse (self-similar)", "prose (ours)", "your text", "your file"]))  # fmt: skip
LENGTHS = (100, 300, 1000, 3000, 10_000, 30_000, 100_000)
with st.sidebar:
    source = controls.select("String", [*ko.SOURCES, "text", "file"], "pi", key="ko_source", format_func=LABELS.get)
    length = controls.select_slider("Length (bytes)", [1000, 3000, 10_000, 30_000], 10_000, key="ko_length")
    seed = controls.seed(key="ko_seed")
    st.divider()
    corpus_kind = controls.radio("NCD texts", ["project", "generated"], "project", key="ko_corpus")
    ncd_method = controls.radio("NCD compressor", ko.METHODS, "lzma", key="ko_ncd_method")
    ncd_size = controls.select_slider("NCD string size (bytes)", [300, 1000, 3000], 1000, key="ko_ncd_size")
    st.divider()
    target = controls.text("Target string (0s and 1s)", "01010101", key="ko_target")
    max_prog = controls.slider("Longest program searched", 1, 8, 8, key="ko_max_prog", help="Each step is ~5x slower.")
    max_steps = controls.select_slider("Step limit", [10, 30, 100, 300, 1000], 100, key="ko_steps")

st.subheader("Compressors bound K(x) from above")
if source == "text":
    data = st.text_area("Paste text (at most 100,000 characters)", key="ko_text", max_chars=100_000).encode()
elif source == "file":
    file = st.file_uploader("Any file (at most 1 MB; read as bytes)", key="ko_file", max_upload_size=1)
    data = file.getvalue()[: 2**20] if file is not None else b""
else:
    data = page.compute(ko.generate, source, length, seed=seed)
profile = page.compute(ko.complexity_profile, data, lengths=(*LENGTHS, len(data))) if data else None
if not data:
    st.info("Nothing to compress yet: paste some text or upload a file.", icon=":material/upload:")
elif profile is not None:
    if source in ko.SOURCES:
        lengths = tuple(profile["length"].unique().tolist())
        profile = pd.concat([profile, page.compute(ko.program_profile, source, lengths=lengths, seed=seed)])
    page.show_chart(
        charts.profile_chart(profile),
        profile,
        name="kolmogorov profile",
        caption="program: Python source that prints exactly this prefix, 8 bits per character."
        if source in ko.SOURCES
        else None,
    )
    last = profile[profile["length"] == len(data)].set_index("method")["bits_per_symbol"]
    best = last.drop("program", errors="ignore")
    page.notice(
        f"At {len(data):,} bytes the best compressor ({best.idxmin()}) needs {best.min():.3f} bits per byte, the "
        f"worst ({best.idxmax()}) {best.max():.3f}."
        + (f" The short program needs {last['program']:.3f}." if "program" in last else "")
        + " Each compressor's fixed container costs "
        + ", ".join(f"{m} {page.compute(ko.header_bits, m)} bits" for m in ko.METHODS)
        + " (included: they are part of an honest bound)."
    )

st.subheader("Random-looking, yet simple")
table = page.compute(ko.bounds_table, length, seed=seed)
if table is not None:
    page.show_chart(charts.bounds_bars(table), table, name="kolmogorov bounds")
    page.notice(copy_kolmogorov.bounds_notice(table))
    cols = st.columns(2)
    cols[0].code(page.compute(ko.short_program, "pi", length), language="python")
    cols[1].code(page.compute(ko.short_program, "lcg", length, seed=seed), language="python")

st.subheader("A truly random source next to the seeded one")
st.markdown(copy_kolmogorov.RANDOM_SOURCES)
fresh = ko.os_random_bytes(length)  # deliberately outside any cache: a new draw on every rerun
sources = page.compute(ko.random_sources, length, seed=seed, fresh=fresh)
if sources is not None:
    page.show_chart(charts.bounds_bars(sources), sources, name="kolmogorov random sources")
    page.notice(copy_kolmogorov.random_sources_notice(sources, seed))

st.subheader("Compression distance")
st.markdown(
    "Two strings are close if compressing them together costs little more than compressing one: "
    "$\\mathrm{NCD}(x, y) = \\frac{C(xy) - \\min(C(x), C(y))}{\\max(C(x), C(y))}$. "
    + (copy_kolmogorov.NCD_PROJECT if corpus_kind == "project" else copy_kolmogorov.NCD_GENERATED)
)
corpus = page.compute(ko_corpus.project_corpus, size=ncd_size, seed=seed) if corpus_kind == "project" else None
if corpus is not None and corpus.missing:
    st.warning(f"Left out, not found in this checkout: {', '.join(corpus.missing)}.", icon=":material/warning:")
items = corpus.items() if corpus is not None else page.compute(ko.ncd_corpus, size=ncd_size, seed=seed)
matrix = page.compute(ko.ncd_matrix, items, method=ncd_method)
if matrix is not None:
    tree = page.compute(ko.ncd_dendrogram, matrix)
    cols = st.columns(2)
    with cols[0]:
        page.show_chart(charts.ncd_heatmap(matrix, tree.leaves["label"].tolist()), matrix, name="ncd matrix")
    with cols[1]:
        page.show_chart(charts.dendrogram_chart(tree.segments, tree.leaves), tree.segments, name="ncd dendrogram")
    recovery = None if corpus is None else page.compute(ko_corpus.kind_recovery, matrix, tree, corpus.texts)
    page.notice(copy_kolmogorov.ncd_notice(matrix, recovery))

st.subheader("Why K cannot be computed")
st.markdown(copy_kolmogorov.LANGUAGE)
config = ks.SearchConfig(target=target, max_length=max_prog, max_steps=max_steps)
label = f"Searching programs up to length {max_prog}"
result = live_run(ks.search_programs, config, label=label, key="ko_search", live_chart=charts.search_live)
if result is not None:
    cols = st.columns(2)
    with cols[0]:
        page.show_chart(charts.step_limit_chart(result.by_limit), result.by_limit, name="shortest by step limit")
    with cols[1]:
        page.show_chart(charts.search_chart(result.per_length), result.per_length, name="program search")
    page.notice(copy_kolmogorov.search_notice(result))
st.subheader("The coding theorem: K from how often programs print a string")
st.markdown(copy_kolmogorov.CODING_THEOREM)
ctm = page.compute(ko_ctm.output_distribution, max_length=6, max_steps=100)
strings = page.compute(copy_kolmogorov.ctm_strings, seed=seed)
estimates = None if ctm is None else page.compute(ko_ctm.complexity_estimates, strings, ctm)
if estimates is not None:
    page.show_chart(charts.ctm_chart(estimates), estimates, name="ctm and bdm")
    page.notice(copy_kolmogorov.ctm_notice(ctm, estimates))
st.markdown(copy_kolmogorov.BERRY)

page.references(
    [
        "M. Li, P. Vitányi (2019). *An Introduction to Kolmogorov Complexity and Its Applications*, 4th ed. Springer.",
        "R. Cilibrasi, P. Vitányi (2005). Clustering by compression. *IEEE Trans. Information Theory* 51(4).",
        "G. Chaitin (1974). Information-theoretic limitations of formal systems. *Journal of the ACM* 21(3).",
        "J. Gibbons (2006). Unbounded spigot algorithms for the digits of pi. *American Mathematical Monthly* 113(4).",
    ]
)
