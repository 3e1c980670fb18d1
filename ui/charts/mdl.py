"""Charts for the minimum-description-length page: DataFrame in, ``alt.Chart`` out (no streamlit)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ui.charts import HEIGHT, color_scale, line

PARTS = ("data bits", "model bits")
SYMLOG_TICKS = [0, 1, 3, 10, 30, 100, 300, 1000, 3000, 10000]


def code_length_bars(dl: pd.DataFrame, pick: int) -> alt.LayerChart:
    """Stacked bars per degree: model bits on top of data bits (measured from the smallest data bits), MDL pick marked.

    ``dl`` is the output of ``core.mdl.two_part.polynomial_description_lengths``.
    """
    base = dl["data_bits"].min()
    long = pd.concat(
        [
            pd.DataFrame({"degree": dl["degree"], "part": "data bits", "bits": dl["data_bits"] - base, "order": 0}),
            pd.DataFrame({"degree": dl["degree"], "part": "model bits", "bits": dl["model_bits"], "order": 1}),
        ]
    )
    bars = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("degree:O", title="polynomial degree", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("sum(bits):Q", title="bits (data bits measured from the best fit's)", stack="zero"),
            color=alt.Color("part:N", scale=color_scale(PARTS), title=None, legend=alt.Legend(orient="top")),
            order=alt.Order("order:Q"),
            tooltip=["degree", "part", alt.Tooltip("bits:Q", format=".1f")],
        )
    )
    top = dl.assign(stack=dl["total_bits"] - base)
    marker = (
        alt.Chart(top[top["degree"] == pick])
        .mark_text(text="▼ MDL", dy=-10, fontWeight="bold", color="#333333")
        .encode(x="degree:O", y="stack:Q")
    )
    return alt.layer(bars, marker).properties(height=HEIGHT)


def fits_chart(points: pd.DataFrame, fits: pd.DataFrame) -> alt.LayerChart:
    """Data points with fitted curves (``fits``: x, y_hat, fit), y clipped to the data's range plus a margin."""
    lo, hi = points["y"].min(), points["y"].max()
    pad = 0.25 * (hi - lo or 1.0)
    dots = (
        alt.Chart(points)
        .mark_circle(size=30, color="#888888", opacity=0.7)
        .encode(x=alt.X("x:Q", title="x"), y=alt.Y("y:Q", title="y", scale=alt.Scale(domain=[lo - pad, hi + pad])))
    )
    curves = line(fits, "x", "y_hat", "fit", x_title="x", y_title="y", color_title="fit")
    return alt.layer(dots, curves).properties(height=HEIGHT)


def criteria_chart(scores: pd.DataFrame) -> alt.LayerChart:
    """Each criterion's excess bits over its own minimum per degree (symlog), picks as large points."""
    scale = color_scale(scores["criterion"].unique())
    enc = {
        "x": alt.X("degree:Q", title="polynomial degree", axis=alt.Axis(tickMinStep=1)),
        "y": alt.Y(
            "excess_bits:Q",
            title="bits above the criterion's minimum",
            scale=alt.Scale(type="symlog"),
            axis=alt.Axis(values=SYMLOG_TICKS),
        ),
        "color": alt.Color("criterion:N", scale=scale, title="criterion", legend=alt.Legend(orient="top")),
        "tooltip": ["criterion", "degree", alt.Tooltip("excess_bits:Q", format=".2f")],
    }
    lines = alt.Chart(scores).mark_line(point=True).encode(strokeDash=alt.StrokeDash("criterion:N", legend=None), **enc)
    picks = alt.Chart(scores[scores["picked"]]).mark_point(size=220, filled=False, strokeWidth=2).encode(**enc)
    return alt.layer(lines, picks).properties(height=HEIGHT)


def scheme_bars(schemes: pd.DataFrame) -> alt.LayerChart:
    """Horizontal bars of code length per scheme on a log axis, each labelled with its bits."""
    base = alt.Chart(schemes).encode(
        y=alt.Y("scheme:N", title=None, sort=None, axis=alt.Axis(labelLimit=260)),
        x=alt.X("bits:Q", title="code length (bits, log scale)", scale=alt.Scale(type="log")),
        tooltip=["scheme", alt.Tooltip("bits:Q", format=",d"), "detail"],
    )
    # A log axis has no zero: bars start at an explicit baseline of 10 bits.
    bars = base.mark_bar().encode(
        x2=alt.datum(10), color=alt.Color("scheme:N", scale=color_scale(schemes["scheme"]), legend=None)
    )
    labels = base.mark_text(align="left", dx=4).encode(text=alt.Text("bits:Q", format=",d"))
    return alt.layer(bars, labels).properties(height=180)


def penalty_chart(df: pd.DataFrame) -> alt.LayerChart:
    """Total (data + weight) bits above each penalty's minimum against lambda / lambda_MAP, the MAP fit marked."""
    enc = {
        "x": alt.X("lam_ratio:Q", title="λ / λ_MAP (log scale)", scale=alt.Scale(type="log")),
        "y": alt.Y(
            "excess_bits:Q",
            title="data + weight bits above the minimum",
            scale=alt.Scale(type="symlog"),
            axis=alt.Axis(values=SYMLOG_TICKS),
        ),
        "color": alt.Color(
            "penalty:N", scale=color_scale(df["penalty"].unique()), title="penalty", legend=alt.Legend(orient="top")
        ),
        "tooltip": [
            "penalty",
            alt.Tooltip("lam:Q", format=".3g"),
            alt.Tooltip("data_bits:Q", format=".1f"),
            alt.Tooltip("weight_bits:Q", format=".1f"),
            alt.Tooltip("total_bits:Q", format=".1f"),
        ],
    }
    lines = alt.Chart(df).mark_line(point=True).encode(**enc)
    at_map = alt.Chart(df[df["is_map"]]).mark_point(size=220, filled=False, strokeWidth=2).encode(**enc)
    return alt.layer(lines, at_map).properties(height=HEIGHT)


IB_PARTS = ("plug-in data bits", "learning cost", "encoder bits")


def ib_code_bars(at_n: pd.DataFrame) -> alt.LayerChart:
    """Stacked bars per |T|: encoder bits, the KT learning cost and the plug-in data bits (above the smallest).

    ``at_n`` is one n's rows of ``core.mdl.ib_clusters.IBCodeResult.curve``; the pick is marked. The y axis stops at
    2.5 times the pick's bar so that the decision is visible; taller bars are cut and labelled with their height.
    """
    base = at_n["plugin_bits"].min()
    parts = {"plug-in data bits": at_n["plugin_bits"] - base, "learning cost": at_n["learning_bits"],
             "encoder bits": at_n["encoder_bits"]}  # fmt: skip
    long = pd.concat(
        [pd.DataFrame({"clusters": at_n["clusters"], "part": p, "bits": v, "order": i})
         for i, (p, v) in enumerate(parts.items())]
    )  # fmt: skip
    top = at_n.assign(stack=at_n["total_bits"] - base)
    y_max = 2.5 * float(top.loc[top["picked"], "stack"].iloc[0])
    bars = (
        alt.Chart(long)
        .mark_bar(clip=True)
        .encode(
            x=alt.X("clusters:O", title="number of clusters |T|", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("sum(bits):Q", title="bits (plug-in bits from the smallest)", stack="zero",
                    scale=alt.Scale(domain=[0, y_max])),
            color=alt.Color("part:N", scale=color_scale(IB_PARTS), sort=IB_PARTS, title=None,
                            legend=alt.Legend(orient="top")),
            order=alt.Order("order:Q"),
            tooltip=["clusters", "part", alt.Tooltip("bits:Q", format=",.1f")],
        )
    )  # fmt: skip
    cut = top[top["stack"] > y_max].assign(y=y_max)
    cut_labels = (
        alt.Chart(cut)
        .mark_text(dy=8, baseline="top", color="white", fontSize=10)
        .encode(x="clusters:O", y="y:Q", text=alt.Text("stack:Q", format=".2~s"))
    )
    marker = (
        alt.Chart(top[top["picked"]])
        .mark_text(text="▼ MDL", dy=-10, fontWeight="bold", color="#333333")
        .encode(x="clusters:O", y="stack:Q")
    )
    return alt.layer(bars, cut_labels, marker).properties(height=HEIGHT)


def ib_picks_chart(picks: pd.DataFrame, n: int) -> alt.LayerChart:
    """The |T| with the shortest code against the number of draws n (log scale); the page's n circled."""
    enc = {
        "x": alt.X("n:Q", title="draws n (log scale)", scale=alt.Scale(type="log")),
        "y": alt.Y("clusters:Q", title="|T| with the shortest code", axis=alt.Axis(tickMinStep=1),
                   scale=alt.Scale(domainMin=0)),
        "tooltip": ["n", "clusters", alt.Tooltip("total_bits:Q", format=",.1f"), alt.Tooltip("i_ty:Q", format=".3f")],
    }  # fmt: skip
    steps = alt.Chart(picks).mark_line(interpolate="step-after", point=True, color="#4e79a7").encode(**enc)
    here = alt.Chart(picks[picks["n"] == n]).mark_point(size=260, strokeWidth=2, color="#e15759").encode(**enc)
    return alt.layer(steps, here).properties(height=HEIGHT)


def ib_clusters_chart(labels: pd.DataFrame, pick: int) -> alt.Chart:
    """Each hard IB clustering as a row of the 12 x's around the circle, coloured by cluster; the pick outlined."""
    return (
        alt.Chart(labels.assign(picked=labels["clusters"] == pick))
        .mark_rect(stroke="#333333")
        .encode(
            x=alt.X("x:O", title="x (position on the circle)", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("clusters:O", title="|T|"),
            color=alt.Color("t:N", title="cluster", scale=alt.Scale(scheme="tableau20"), legend=None),
            strokeWidth=alt.condition("datum.picked", alt.value(2.5), alt.value(0)),
            tooltip=["clusters", "x", "t"],
        )
        .properties(height=HEIGHT - 100)
    )


def ib_live(records: pd.DataFrame) -> alt.Chart:
    """Live view: the pick at each n coded so far."""
    return (
        alt.Chart(records)
        .mark_line(point=True, interpolate="step-after", color="#4e79a7")
        .encode(
            x=alt.X("n:Q", title="draws n (log scale)", scale=alt.Scale(type="log")),
            y=alt.Y("clusters:Q", title="|T| with the shortest code"),
        )
        .properties(height=200)
    )
