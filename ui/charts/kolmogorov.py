"""Charts for the algorithmic-information page: DataFrame in, ``alt.Chart`` out (no streamlit)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ui.charts import HEIGHT, color_scale, heatmap, line


def profile_chart(profile: pd.DataFrame) -> alt.LayerChart:
    """Upper bounds on K(x[:L]) against L, one line per compressor (and "program"), log-log, with 8 bits per byte."""
    bounds = line(
        profile,
        "length",
        "bits",
        "method",
        x_title="prefix length L (bytes, log scale)",
        y_title="upper bound on K (bits, log scale)",
        log_x=True,
        log_y=True,
        points=True,
        color_title="bound",
        tooltip=["method", "length", "bits", alt.Tooltip("bits_per_symbol:Q", format=".3f")],
    )
    lengths = sorted(profile["length"].unique())
    verbatim = pd.DataFrame({"length": lengths, "bits": [8 * L for L in lengths]})
    ref = alt.Chart(verbatim).mark_line(strokeDash=[5, 4], color="#555555").encode(x="length:Q", y="bits:Q")
    label = (
        alt.Chart(verbatim.tail(1))
        .mark_text(text="8 bits per byte", align="right", dy=-8, color="#555555")
        .encode(x="length:Q", y="bits:Q")
    )
    return alt.layer(ref, label, bounds)


def bounds_bars(table: pd.DataFrame) -> alt.Chart:
    """Bits per symbol for every source, grouped by bound (compressors and the short program)."""
    return (
        alt.Chart(table)
        .mark_bar()
        .encode(
            y=alt.Y("source:N", title=None, sort=None),
            yOffset=alt.YOffset("method:N", sort=None),
            x=alt.X("bits_per_symbol:Q", title="upper bound on K per byte (bits)"),
            color=alt.Color(
                "method:N", scale=color_scale(table["method"].unique()), title="bound", legend=alt.Legend(orient="top")
            ),
            tooltip=["source", "method", "length", "bits", alt.Tooltip("bits_per_symbol:Q", format=".3f")],
        )
        .properties(height=HEIGHT + 60)
    )


def ncd_heatmap(matrix: pd.DataFrame, order: list[str]) -> alt.Chart:
    """The NCD matrix as a grid, rows and columns in dendrogram leaf order."""
    return heatmap(
        matrix, "b", "a", "ncd", x_title=None, y_title=None, value_title="NCD", sort=order, height=HEIGHT + 40
    ).properties(width=HEIGHT + 40)


def dendrogram_chart(segments: pd.DataFrame, leaves: pd.DataFrame) -> alt.Chart:
    """A horizontal dendrogram from scipy's coordinates: leaf names on the y axis, merge height (NCD) along x."""
    label_expr = " : ".join(f"datum.value == {x:g} ? {label!r}" for label, x in zip(leaves["label"], leaves["x"]))
    return (
        alt.Chart(segments)
        .mark_rule(color="#4e79a7", strokeWidth=2)
        .encode(
            x=alt.X("y:Q", title="merge height (average NCD)"),
            x2="y2:Q",
            y=alt.Y(
                "x:Q",
                title=None,
                scale=alt.Scale(reverse=True, domain=[0, 10 * len(leaves)]),
                axis=alt.Axis(values=leaves["x"].tolist(), labelExpr=label_expr + " : ''", grid=False, labelLimit=220),
            ),
            y2="x2:Q",
        )
        .properties(height=HEIGHT + 40)
    )


def step_limit_chart(by_limit: pd.DataFrame) -> alt.Chart:
    """The shortest program found against the step limit: an upper bound on K that can only fall as the limit grows."""
    rows = by_limit.dropna(subset=["shortest"]).astype({"shortest": int})
    tip = ["step_limit", "shortest", "program", "steps"]
    base = alt.Chart(rows).encode(
        x=alt.X("step_limit:Q", title="step limit (log scale)", scale=alt.Scale(type="log")),
        y=alt.Y("shortest:Q", title="shortest program found (instructions)", axis=alt.Axis(tickMinStep=1),
                scale=alt.Scale(zero=False, padding=12)),
        tooltip=tip,
    )  # fmt: skip
    line = base.mark_line(interpolate="step-after", color="#4e79a7") + base.mark_circle(size=70, color="#4e79a7")
    return (line + base.mark_text(dy=-12, fontSize=11).encode(text="program:N")).properties(height=HEIGHT)


def search_chart(per_length: pd.DataFrame) -> alt.LayerChart:
    """Programs of each length (left axis) and seconds (right axis) against program length, both on log scales."""
    tip = ["length", "programs", "programs_tried", alt.Tooltip("seconds:Q", format=".4f"), "cap", "step_limit",
           "matches"]  # fmt: skip
    x = alt.X("length:Q", title="program length (instructions)", axis=alt.Axis(tickMinStep=1))

    def series(field: str, title: str, color: str, orient: str) -> alt.Chart:
        axis = alt.Axis(orient=orient, titleColor=color)
        y = alt.Y(f"{field}:Q", title=title, scale=alt.Scale(type="log"), axis=axis)
        return alt.Chart(per_length).mark_line(point=True, color=color).encode(x=x, y=y, tooltip=tip)

    return (
        alt.layer(
            series("programs", "programs of this length (log scale)", "#4e79a7", "left"),
            series("seconds", "seconds (log scale)", "#e15759", "right"),
        )
        .resolve_scale(y="independent")
        .properties(height=HEIGHT)
    )


def search_live(records: pd.DataFrame) -> alt.Chart:
    """Live view of a running search: programs run so far at each length."""
    latest = records.groupby("length", as_index=False)["programs_tried"].max()
    return (
        alt.Chart(latest)
        .mark_line(point=True, color="#4e79a7")
        .encode(
            x=alt.X("length:O", title="program length (instructions)"),
            y=alt.Y("programs_tried:Q", title="programs run (log scale)", scale=alt.Scale(type="log")),
        )
        .properties(height=200)
    )


def ctm_chart(estimates: pd.DataFrame) -> alt.Chart:
    """Bits per string under CTM/BDM and the compressors (with and without their container), log scale."""
    order = ["CTM", "BDM", "lzma minus header", "bz2 minus header", "lzma", "bz2"]
    return (
        alt.Chart(estimates)
        .mark_bar()
        .encode(
            y=alt.Y("name:N", title=None, sort=None),
            yOffset=alt.YOffset("method:N", sort=order),
            x=alt.X("bits:Q", title="bits (log scale)", scale=alt.Scale(type="log")),
            color=alt.Color("method:N", sort=order, legend=alt.Legend(orient="top", title=None)),
            tooltip=["name", "string", "length", "method", alt.Tooltip("bits:Q", format=".1f")],
        )
        .properties(height=HEIGHT + 80)
    )
