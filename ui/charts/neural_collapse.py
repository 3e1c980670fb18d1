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
    "CDNV": FALLBACK[3],
    "train error": "#4e79a7",
    "test error": "#e15759",
}
LOG_METRICS = ("NC1", "equinorm", "equiangularity", "NC3", "CDNV")
CLASS_COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1"]  # the 3 or 4 classes of the simplex view
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
    """NC1, equinorm, equiangularity, NC3 and CDNV against ``x`` on a log axis, the terminal phase shaded.

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


def _simplex_panel(
    df: pd.DataFrame, clouds: pd.DataFrame | None, h: str, v: str, title: str, size: int
) -> alt.LayerChart:
    reach = [1.35] + ([float(clouds[[h, v]].abs().quantile(0.98).max()) * 1.05] if clouds is not None else [])
    lim = min(max(reach), 8.0)  # equal axes; far outliers (init) leave the frame rather than shrink the simplex
    axis = {"scale": alt.Scale(domain=[-lim, lim]), "axis": None}
    edges = []
    for kind in ("ideal ETF", "trained"):
        pts = df[df.kind == kind].reset_index(drop=True)
        for n, (i, j) in enumerate(combinations(range(len(pts)), 2)):
            edges.append(pts.loc[[i, j], [h, v]].assign(edge=f"{kind}{n}", kind=kind))
    edge_df = pd.concat(edges)
    classes = sorted(df["class"].unique())
    class_color = alt.Color(
        "class:N", scale=alt.Scale(domain=classes, range=CLASS_COLORS[: len(classes)]), legend=alt.Legend(orient="top")
    )
    lines = (
        alt.Chart(edge_df)
        .mark_line(clip=True)
        .encode(
            x=alt.X(f"{h}:Q", **axis),
            y=alt.Y(f"{v}:Q", **axis),
            detail="edge:N",
            strokeDash=alt.StrokeDash(
                "kind:N", scale=alt.Scale(domain=["trained", "ideal ETF"], range=[[1, 0], [4, 3]]), legend=None
            ),
            color=alt.value("#555555"),
        )
    )
    layers = [lines]
    if clouds is not None:
        layers.append(
            alt.Chart(clouds)
            .mark_circle(size=14, opacity=0.45, clip=True)
            .encode(x=alt.X(f"{h}:Q", **axis), y=alt.Y(f"{v}:Q", **axis), color=class_color)
        )
    trained = df[df.kind == "trained"].assign(label=lambda d: d["class"].astype(str))
    dots = (
        alt.Chart(trained)
        .mark_point(size=160, filled=True, stroke="black", strokeWidth=1.5, clip=True)
        .encode(x=alt.X(f"{h}:Q", **axis), y=alt.Y(f"{v}:Q", **axis), color=class_color, tooltip=["class", h, v])
    )
    labels = (
        alt.Chart(trained)
        .mark_text(dx=11, dy=-11, fontSize=14, fontWeight="bold", clip=True)
        .encode(x=alt.X(f"{h}:Q", **axis), y=alt.Y(f"{v}:Q", **axis), text="label:N")
    )
    ideal = (
        alt.Chart(df[df.kind == "ideal ETF"])
        .mark_point(size=90, color="#999999", shape="diamond")
        .encode(x=alt.X(f"{h}:Q", **axis), y=alt.Y(f"{v}:Q", **axis))
    )
    return alt.layer(*layers, ideal, dots, labels, title=title).properties(width=size, height=size)


def simplex_chart(
    df: pd.DataFrame, clouds: pd.DataFrame | None = None, *, size: int = 230
) -> alt.VConcatChart | alt.HConcatChart:
    """The chosen class means (large, labelled), their samples (small dots) and the ideal simplex ETF (grey).

    ``df`` and ``clouds`` are :func:`core.neural_collapse.training.geometry_snapshots` ``.simplex`` and ``.clouds``; one
    panel per snapshot. Three classes give a triangle; four a tetrahedron, drawn as a top view (x1, x2) and a side
    view (x1, x3). Solid grey edges join the trained means, dashed ones the ideal ETF.
    """
    views = [("x1", "x2", "")] if "x3" not in df else [("x1", "x2", "top view: "), ("x1", "x3", "side view: ")]
    rows = []
    for h, v, prefix in views:
        panels = []
        for snap, part in df.groupby("snapshot", sort=False):
            cloud = None if clouds is None else clouds[clouds.snapshot == snap]
            panels.append(
                _simplex_panel(part, cloud if cloud is not None and len(cloud) else None, h, v, prefix + snap, size)
            )
        rows.append(alt.hconcat(*panels))
    return rows[0] if len(rows) == 1 else alt.vconcat(*rows)


def train_test_chart(history: pd.DataFrame, test_history: pd.DataFrame) -> alt.Chart:
    """NC1 and CDNV on the train features (solid) and the test features (dashed) against epoch, log y."""
    keep = ["NC1", "CDNV"]
    data = pd.concat([history.assign(split="train"), test_history.assign(split="test")], ignore_index=True)
    data = data[data.metric.isin(keep) & (data.value > 0)]
    return line(
        data,
        "epoch",
        "value",
        x_title="epoch",
        y_title="metric value (log scale)",
        log_y=True,
        dash="split",
        height=300,
        title="Collapse on the training set (solid) and on held-out test images (dashed)",
        tooltip=["epoch", "metric", "split", "value"],
    ).encode(color=_metric_color(keep))


def depth_chart(depth: pd.DataFrame) -> alt.Chart:
    """NC1 and CDNV of every hidden layer's output at the end of training (log y): collapse across depth."""
    data = depth.melt(id_vars=["layer", "name"], value_vars=["nc1", "cdnv"], var_name="metric", value_name="value")
    data["metric"] = data["metric"].str.upper()
    order = depth.sort_values("layer")["name"].tolist()
    return (
        alt.Chart(data[data.value > 0])
        .mark_line(point=True)
        .encode(
            x=alt.X("name:N", sort=order, title="layer (input → features)", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title="value at the end (log scale)", scale=alt.Scale(type="log")),
            color=_metric_color(["NC1", "CDNV"]),
            tooltip=["name", "metric", alt.Tooltip("value:Q", format=".3g")],
        )
        .properties(height=300, title="Collapse across depth: within-class variability per layer")
    )


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
