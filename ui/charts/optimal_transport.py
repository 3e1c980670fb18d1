"""Chart builders for the Optimal transport page: DataFrame in, ``alt.Chart`` out (no streamlit).

Divergences against the shift (KL marked where it is infinite), the gradients a generator gets, the exact plan
between two 2-D clouds, and 1-D histograms with their CDFs and W1 as the shaded area between them.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from ui.charts import HEIGHT, SERIES_COLORS, color_scale, line, rule

CLOUDS = color_scale(["source", "target"])  # the same two colours in every chart of the page
NAMES = {"kl": "KL", "js": "JS", "w1": "W1"}


def divergence_chart(df: pd.DataFrame, *, shift: float) -> alt.LayerChart:
    """KL, JS and W1 against the shift; where KL is infinite a marker sits at the top, labelled "KL = inf"."""
    long = df.melt(id_vars="shift", value_vars=list(NAMES), var_name="divergence", value_name="value")
    long["divergence"] = long["divergence"].map(NAMES)
    finite = long[np.isfinite(long["value"])]
    top = max(1.2, float(finite["value"].max()) * 1.1)
    lines = line(
        finite,
        "shift",
        "value",
        "divergence",
        x_title="shift θ of Q (units of x)",
        y_title="KL, JS (bits) · W1 (units of x)",
        y_domain=(0, top * 1.04),
        tooltip=["shift", "divergence", "value"],
    )
    inf = df.loc[np.isinf(df["kl"]), ["shift"]].assign(value=top, label="KL = ∞")
    layers = [lines, rule(shift, label=f"θ = {shift:g}")]
    if len(inf):
        kl = SERIES_COLORS["KL"]
        marks = alt.Chart(inf).mark_point(shape="triangle-up", filled=True, size=28, color=kl)
        layers.append(marks.encode(x="shift:Q", y="value:Q", tooltip=["shift", "label"]))
        text = alt.Chart(inf.head(1)).mark_text(align="left", dx=4, dy=-10, color=kl, fontWeight="bold")
        layers.append(text.encode(x="shift:Q", y="value:Q", text="label:N"))
    return alt.layer(*layers)


def gradient_chart(df: pd.DataFrame, *, shift: float) -> alt.LayerChart:
    """The gradient d divergence / d theta against theta, one line per divergence (from generator_gradients)."""
    chart = line(
        df,
        "shift",
        "gradient",
        "divergence",
        x_title="generator location θ (units of x)",
        y_title="gradient d/dθ (bits or units of x per unit θ)",
        tooltip=["shift", "divergence", "value", "gradient"],
        height=260,
    )
    return alt.layer(chart, rule(shift, label=f"θ = {shift:g}"))


def square_domains(*clouds: np.ndarray, pad: float = 0.05) -> tuple[list[float], list[float]]:
    """Domains for x and y of equal length around 2-D clouds, so a square chart draws them at equal scale."""
    pts = np.concatenate([np.asarray(c, dtype=float) for c in clouds])  # (n_total, 2)
    lo, hi = pts.min(0), pts.max(0)  # (2,) each
    half = (1 + 2 * pad) * max(float((hi - lo).max()), 1e-9) / 2
    mid = (lo + hi) / 2
    return [mid[0] - half, mid[0] + half], [mid[1] - half, mid[1] + half]


def plan_chart(source: np.ndarray, target: np.ndarray, segments: pd.DataFrame, *, size: int = 440) -> alt.LayerChart:
    """The exact plan on equal axes: a segment per moved (source, target) pair over both clouds.

    ``source`` (n, 2) and ``target`` (m, 2) are the clouds; ``segments`` comes from
    ``core.optimal_transport.distances.plan_segments``.
    The chart is ``size`` pixels square with x and y domains of equal length (a ring is drawn round), so it must be
    shown at its own width (``st.altair_chart(..., width="content")``). Segment width and opacity follow the mass
    only when the masses differ (otherwise every segment is drawn alike).
    """
    points = pd.concat(
        pd.DataFrame({"x": pts[:, 0], "y": pts[:, 1], "cloud": name})
        for name, pts in (("source", source), ("target", target))
    )
    x_dom, y_dom = square_domains(source, target)
    x_axis = {"scale": alt.Scale(domain=x_dom, nice=False, zero=False)}
    y_axis = {"scale": alt.Scale(domain=y_dom, nice=False, zero=False)}
    fade = 0.7 * min(1.0, 100 / max(len(segments), 1))  # many segments: lighter, so the clouds stay visible
    equal = len(segments) == 0 or bool(np.ptp(segments["share"]) < 1e-9)
    width = alt.value(1.2) if equal else alt.StrokeWidth("share:Q", scale=alt.Scale(domain=[0, 1], range=[0.3, 2.5]))
    opacity = alt.value(fade) if equal else alt.Opacity("share:Q", scale=alt.Scale(domain=[0, 1], range=[0.1, fade]))
    edges = (
        alt.Chart(segments)
        .mark_rule(color="#555555")
        .encode(
            x=alt.X("x:Q", title="x", **x_axis),
            y=alt.Y("y:Q", title="y", **y_axis),
            x2="x2:Q",
            y2="y2:Q",
            strokeWidth=width if equal else width.legend(None),
            opacity=opacity if equal else opacity.legend(None),
            tooltip=["source", "target", alt.Tooltip("mass:Q", format=".4f")],
        )
    )
    dots = (
        alt.Chart(points)
        .mark_circle(size=36, opacity=0.9)
        .encode(
            x=alt.X("x:Q", **x_axis),
            y=alt.Y("y:Q", **y_axis),
            color=alt.Color("cloud:N", scale=CLOUDS, title="", legend=alt.Legend(orient="top")),
            tooltip=["cloud", "x", "y"],
        )
    )
    return alt.layer(edges, dots).properties(width=size, height=size)


def histogram_chart(hist: pd.DataFrame) -> alt.Chart:
    """Overlaid histograms of the two projected samples on shared bins."""
    return (
        alt.Chart(hist)
        .mark_bar(opacity=0.5, binSpacing=0)
        .encode(
            x=alt.X("left:Q", title="projection (units of x)"),
            x2="right:Q",
            y=alt.Y("density:Q", title="density (1 / unit of x)", stack=None),
            y2=alt.datum(0),
            color=alt.Color("sample:N", scale=CLOUDS, title="", legend=alt.Legend(orient="top")),
            tooltip=["sample", "left", "right", alt.Tooltip("density:Q", format=".3f")],
        )
        .properties(height=220)
    )


def cdf_chart(cdf: pd.DataFrame) -> alt.LayerChart:
    """The two empirical CDFs as steps, with the area between them (= W1) shaded."""
    base = alt.Chart(cdf).encode(x=alt.X("x:Q", title="projection (units of x)"))
    area = base.mark_area(interpolate="step-after", opacity=0.35, color="#bab0ac").encode(
        y=alt.Y("source:Q", title="cumulative probability"), y2="target:Q"
    )
    steps = (
        base.transform_fold(["source", "target"], as_=["sample", "F"])
        .mark_line(interpolate="step-after")
        .encode(
            y="F:Q",
            color=alt.Color("sample:N", scale=CLOUDS, title="", legend=alt.Legend(orient="top")),
            tooltip=["sample:N", "x:Q", "F:Q"],
        )
    )
    return alt.layer(area, steps).properties(height=HEIGHT - 40)


def _square(df: pd.DataFrame, size: int) -> dict:
    x_dom, y_dom = square_domains(df[["x", "y"]].to_numpy())
    return {
        "x": alt.X("x:Q", title="x", scale=alt.Scale(domain=x_dom, nice=False, zero=False)),
        "y": alt.Y("y:Q", title="y", scale=alt.Scale(domain=y_dom, nice=False, zero=False)),
        "size": size,
    }


def da_chart(points: pd.DataFrame, methods: list[str], *, size: int = 260) -> alt.FacetChart:
    """One square panel per method: the target (hollow) and the source as the classifier sees it (filled).

    ``points`` comes from ``core.optimal_transport.uses.domain_adaptation(...).points``; colour is the class label.
    """
    target = points[points["domain"] == "target"]
    source = points[points["domain"] == "source"]
    panels = [pd.concat([target, source]).assign(panel="no adaptation")]
    for m in methods:
        panels.append(pd.concat([target, points[points["method"] == m]]).assign(panel=m))
    df = pd.concat(panels, ignore_index=True)
    df["role"] = np.where(df["domain"] == "target", "target (labels unseen)", "source / mapped source")
    axes = _square(df, size)
    size = axes.pop("size")
    return (
        alt.Chart(df)
        .mark_point(size=22, filled=True)
        .encode(
            **axes,
            color=alt.Color("label:N", title="class", scale=alt.Scale(range=["#4e79a7", "#e15759"])),
            shape=alt.Shape("role:N", title="", legend=alt.Legend(orient="top")),
            opacity=alt.condition(alt.datum.domain == "target", alt.value(0.35), alt.value(0.9)),
            tooltip=["panel", "domain", "label", alt.Tooltip("x:Q", format=".3f"), alt.Tooltip("y:Q", format=".3f")],
        )
        .properties(width=size, height=size)
        .facet(facet=alt.Facet("panel:N", title=None, sort=["no adaptation", *methods]), columns=2)
    )


def accuracy_chart(accuracy: pd.DataFrame) -> alt.Chart:
    """Target accuracy per method, as bars from chance (0.5) to 1."""
    return (
        alt.Chart(accuracy)
        .mark_bar()
        .encode(
            x=alt.X("target_accuracy:Q", title="accuracy on the target", scale=alt.Scale(domain=[0.5, 1.0])),
            y=alt.Y("method:N", title=None, sort=None),
            color=alt.Color("method:N", legend=None),
            tooltip=["method", alt.Tooltip("target_accuracy:Q", format=".3f")],
        )
        .properties(height=160)
    )


def score_chart(scores: pd.DataFrame) -> alt.Chart:
    """The groups' score histograms, before and after the repair (one row each)."""
    return (
        alt.Chart(scores)
        .mark_bar(opacity=0.5, binSpacing=0)
        .encode(
            x=alt.X("score:Q", bin=alt.Bin(maxbins=40), title="score P(y = 1 | x)"),
            y=alt.Y("count():Q", stack=None, title="people"),
            color=alt.Color("group:N", scale=alt.Scale(range=["#4e79a7", "#f28e2b"]), legend=alt.Legend(orient="top")),
            row=alt.Row("stage:N", title=None, sort=["original", "repaired"]),
        )
        .properties(height=140)
    )


def tradeoff_chart(tradeoff: pd.DataFrame, *, repair: float) -> alt.LayerChart:
    """W1 between the groups, demographic-parity gap and accuracy against the amount of repair."""
    long = tradeoff.melt(id_vars="repair", value_vars=["w1", "parity_gap", "accuracy"], var_name="measure")
    long["measure"] = long["measure"].map(
        {"w1": "W1 between groups", "parity_gap": "parity gap", "accuracy": "accuracy"}
    )
    chart = line(
        long,
        "repair",
        "value",
        "measure",
        x_title="repair λ (0: none, 1: to the barycentre)",
        y_title="score units / fraction",
        points=True,
        height=260,
    )
    return alt.layer(chart, rule(repair, label=f"λ = {repair:g}"))


def interpolation_chart(moved: pd.DataFrame, mixture: pd.DataFrame, *, size: int = 300) -> alt.HConcatChart:
    """McCann's interpolant (mass moved) beside the mixture (mass faded), on the same square axes."""
    both = pd.concat([moved.assign(cloud="moved"), mixture], ignore_index=True)
    axes = _square(both, size)
    size = axes.pop("size")
    top = float(both["mass"].max())

    def panel(df: pd.DataFrame, title: str) -> alt.Chart:
        return (
            alt.Chart(df, title=title)
            .mark_circle(size=30)
            .encode(
                **axes,
                color=alt.Color(
                    "cloud:N",
                    scale=color_scale(["source", "target", "moved"]),
                    legend=alt.Legend(orient="top"),
                    title="",
                ),
                opacity=alt.Opacity("mass:Q", scale=alt.Scale(domain=[0, top], range=[0.05, 1.0]), legend=None),
                tooltip=["cloud", alt.Tooltip("mass:Q", format=".4f")],
            )
            .properties(width=size, height=size)
        )

    return alt.hconcat(
        panel(moved.assign(cloud="moved"), "moving mass: McCann's P_t"), panel(mixture, "fading mass: (1 − t) P + t Q")
    )


def plans_chart(plans: pd.DataFrame, source: np.ndarray, target: np.ndarray, *, size: int = 300) -> alt.HConcatChart:
    """The W1 and W2 plans on the same clouds, side by side on equal axes."""
    return alt.hconcat(
        *(plan_chart(source, target, g, size=size).properties(title=name) for name, g in plans.groupby("cost"))
    )
