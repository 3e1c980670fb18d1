"""Chart builders for the neural-collapse page: DataFrame in, ``alt.Chart`` out (no streamlit).

The metric charts use a log y axis (collapse is multiplicative); the simplex views keep one unit the same length
on both axes; the cosine heatmap diverges around the ETF value -1/(C-1).
"""

from __future__ import annotations

from itertools import combinations

import altair as alt
import pandas as pd

from ui.charts import FALLBACK, HEIGHT, line, shade

METRIC_COLORS = {
    "NC1": FALLBACK[0],
    "equinorm": FALLBACK[4],
    "equiangularity": FALLBACK[1],
    "NC3": FALLBACK[2],
    "NC4": FALLBACK[6],
    "train error": "#4e79a7",
    "test error": "#e15759",
}
LOG_METRICS = ("NC1", "equinorm", "equiangularity", "NC3")
TALL = HEIGHT + 80  # Streamlit fits title, legend and axes inside the height: leave room for the plot
FLOOR = 1e-8  # log axes stop here: smaller values are float round-off of an exact collapse


def _metric_color(names: list[str]) -> alt.Color:
    names = [n for n in METRIC_COLORS if n in set(names)]
    scale = alt.Scale(domain=names, range=[METRIC_COLORS[n] for n in names])
    return alt.Color("metric:N", scale=scale, title=None, legend=alt.Legend(orient="top"))


def metrics_chart(
    df: pd.DataFrame,
    *,
    x: str = "epoch",
    x_title: str = "epoch",
    terminal_epoch: int | None = None,
    title: str = "",
    log_x: bool = False,
) -> alt.LayerChart | alt.Chart:
    """NC1, equinorm, equiangularity and NC3 against ``x`` on a log axis, the terminal phase shaded.

    ``df`` is long (``x``, ``metric``, ``value``); NC4 and non-positive values are left out (NC4 has its own chart),
    and so is x = 0 on a log x axis. Values below ``FLOOR`` (round-off of an exact collapse) leave the chart.
    """
    data = df[df.metric.isin(LOG_METRICS) & (df.value > 0) & ((df[x] > 0) | (not log_x))]
    low = max(float(data.value.min()) if len(data) else FLOOR, FLOOR)
    chart = line(
        data,
        x,
        "value",
        x_title=x_title,
        y_title="metric value (log scale; 0 = full collapse)",
        log_x=log_x,
        log_y=True,
        height=TALL,
        title=title,
        y_domain=(low, max(float(data.value.max()) if len(data) else 1.0, low * 10)),
        tooltip=[x, "metric", "value"],
    ).encode(color=_metric_color(data.metric.unique().tolist()))
    if terminal_epoch is None or data.empty:
        return chart
    return alt.layer(shade(terminal_epoch, float(data[x].max()), label="terminal phase (100% train accuracy)"), chart)


def live_metrics_chart(records: pd.DataFrame) -> alt.Chart:
    """The live view of a run: the callback records (one wide row per checkpoint) drawn as :func:`metrics_chart`."""
    x = "epoch" if "epoch" in records else "step"
    if "weight_decay" in records:  # a sweep: show the run in progress
        records = records[records.weight_decay == records.weight_decay.iloc[-1]]
    cols = [c for c in LOG_METRICS if c in records]
    long = records.melt(id_vars=[x], value_vars=cols, var_name="metric", value_name="value").dropna()
    return metrics_chart(long, x=x, x_title=x)


def accuracy_chart(history: pd.DataFrame) -> alt.Chart:
    """Train and test error and NC4 (all in %) against epoch; the axis fits the late epochs, the first ones clip."""
    wide = history.pivot_table(index="epoch", columns="metric", values="value").reset_index()
    acc = history.groupby("epoch")[["train_acc", "test_acc"]].first().reset_index()
    data = pd.DataFrame(
        {
            "epoch": acc.epoch,
            "train error": 100 * (1 - acc.train_acc),
            "test error": 100 * (1 - acc.test_acc),
            "NC4": 100 * wide["NC4"].to_numpy(),
        }
    ).melt(id_vars="epoch", var_name="metric", value_name="percent")
    late = data[data.epoch >= 0.1 * data.epoch.max()].percent
    top = min(100.0, max(1.0, 1.3 * float(late.max()))) if len(late) else 100.0
    return line(
        data,
        "epoch",
        "percent",
        x_title="epoch",
        y_title=f"% of samples (axis cut at {top:.2g}%)",
        y_domain=(0, top),
        height=300,
        title="Errors and NC4 (classifier disagrees with the nearest class mean)",
    ).encode(color=_metric_color(data.metric.unique().tolist()))


def _simplex_panel(df: pd.DataFrame, h: str, v: str, title: str, size: int) -> alt.LayerChart:
    axis = {"scale": alt.Scale(domain=[-1.35, 1.35]), "axis": None}
    edges = []
    for kind in ("ideal ETF", "trained"):
        pts = df[df.kind == kind].reset_index(drop=True)
        for n, (i, j) in enumerate(combinations(range(len(pts)), 2)):
            edges.append(pts.loc[[i, j], [h, v]].assign(edge=f"{kind}{n}", kind=kind))
    edge_df = pd.concat(edges)
    lines = (
        alt.Chart(edge_df)
        .mark_line()
        .encode(
            x=alt.X(f"{h}:Q", **axis),
            y=alt.Y(f"{v}:Q", **axis),
            detail="edge:N",
            strokeDash=alt.StrokeDash(
                "kind:N", scale=alt.Scale(domain=["trained", "ideal ETF"], range=[[1, 0], [4, 3]])
            ),
            color=alt.Color(
                "kind:N",
                scale=alt.Scale(domain=["trained", "ideal ETF"], range=["#4e79a7", "#999999"]),
                title=None,
                legend=alt.Legend(orient="top"),
            ),
        )
    )
    trained = df[df.kind == "trained"].assign(label=lambda d: d["class"].astype(str))
    dots = (
        alt.Chart(trained)
        .mark_circle(size=140, color="#4e79a7")
        .encode(x=f"{h}:Q", y=f"{v}:Q", tooltip=["class", h, v])
    )
    labels = (
        alt.Chart(trained)
        .mark_text(dx=10, dy=-10, fontSize=14, fontWeight="bold")
        .encode(x=f"{h}:Q", y=f"{v}:Q", text="label:N")
    )
    ideal = (
        alt.Chart(df[df.kind == "ideal ETF"])
        .mark_point(size=90, color="#999999", shape="diamond")
        .encode(x=f"{h}:Q", y=f"{v}:Q")
    )
    return alt.layer(lines, ideal, dots, labels, title=title).properties(width=size, height=size)


def simplex_chart(df: pd.DataFrame, *, size: int = 230) -> alt.VConcatChart | alt.HConcatChart:
    """The chosen class means (blue, labelled) beside the ideal simplex ETF (grey diamonds), one panel per snapshot.

    ``df`` is :func:`core.collapse_training.geometry_snapshots` ``["simplex"]``. Three classes give a triangle;
    four give a tetrahedron, drawn as a top view (x1, x2) and a side view (x1, x3).
    """
    views = [("x1", "x2", "")] if "x3" not in df else [("x1", "x2", "top view: "), ("x1", "x3", "side view: ")]
    rows = []
    for h, v, prefix in views:
        panels = [_simplex_panel(part, h, v, prefix + snap, size) for snap, part in df.groupby("snapshot", sort=False)]
        rows.append(alt.hconcat(*panels))
    return rows[0] if len(rows) == 1 else alt.vconcat(*rows)


def cosine_heatmap(df: pd.DataFrame) -> alt.FacetChart | alt.Chart:
    """Cosines between centred class means, diverging around -1/(C-1) (white = ETF); blank diagonal.

    ``df`` has ``class_a``, ``class_b``, ``cosine``, ``ideal`` and optionally ``snapshot`` (one panel each).
    """
    mid = float(df.ideal.iloc[0])
    spread = max(float((df.cosine - mid).abs().max()), 1e-3)
    scale = alt.Scale(scheme="redblue", reverse=True, domain=[mid - spread, mid + spread], domainMid=mid, clamp=True)
    chart = (
        alt.Chart(df)
        .mark_rect()
        .encode(
            x=alt.X("class_b:O", title="class"),
            y=alt.Y("class_a:O", title="class"),
            color=alt.Color("cosine:Q", scale=scale, title=f"cosine (ETF {mid:.3f})"),
            tooltip=["class_a", "class_b", alt.Tooltip("cosine:Q", format=".4f")],
        )
        .properties(width=220, height=220)
    )
    if "snapshot" not in df:
        return chart
    return chart.facet(column=alt.Column("snapshot:N", sort=list(dict.fromkeys(df.snapshot)), title=None))


def ufm_lambda_chart(df: pd.DataFrame) -> alt.Chart:
    """NC1 (solid) and equiangularity (dashed) against step for several weight decays, log-log."""
    data = df[df.metric.isin(["NC1", "equiangularity"]) & (df.value > 0) & (df.step > 0)].assign(
        lam=lambda d: "λ = " + d.weight_decay.map("{:.0e}".format)
    )
    low = max(float(data.value.min()), FLOOR)
    return line(
        data,
        "step",
        "value",
        "lam",
        x_title="gradient step (log scale)",
        log_x=True,
        y_title="metric value (log scale)",
        log_y=True,
        dash="metric",
        color_title="weight decay",
        y_domain=(low, float(data.value.max())),
        tooltip=["step", "lam", "metric", "value"],
        height=TALL,
    )
