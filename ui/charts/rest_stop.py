"""Chart builders for the rest-stop page: grokking through other lenses, overparameterisation, the closing map.

Steps, numbers of features and widths on log axes (the phenomena span decades); NC1, errors and norms on log axes.
"""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

from ui.charts import HEIGHT, SERIES_COLORS, color_scale, line, rule

LABELS = {
    "train_acc": "train accuracy",
    "test_acc": "test accuracy",
    "NC1": "NC1",
    "equiangularity": "equiangularity",
    "weight_norm": "weight norm (L2)",
    "description_kbits": "description (kbit, lzma)",
    "fourier": "Fourier frequencies",
}


def _run_dash(runs: list[str]) -> alt.StrokeDash:
    return alt.StrokeDash(
        "run:N", scale=alt.Scale(domain=runs, range=[[1, 0], [5, 4]]), legend=alt.Legend(orient="top")
    )


def lens_chart(history: pd.DataFrame, metrics: tuple[str, ...], *, title: str, log_y: bool = False) -> alt.Chart:
    """Metrics of :func:`core.rest_stop.grokking_lens` against step (log), solid with weight decay, dashed without."""
    data = history[history.metric.isin(metrics) & (history.step >= 1)].assign(
        series=lambda d: (
            d.metric.map(LABELS).str.replace("train accuracy", "train").str.replace("test accuracy", "test")
        )
    )
    runs = list(dict.fromkeys(data.run))
    return line(
        data,
        "step",
        "value",
        "series",
        x_title="training step (log scale)",
        y_title=title,
        log_x=True,
        log_y=log_y,
        tooltip=["run", "step", "series", "value"],
        color_title="",
    ).encode(strokeDash=_run_dash(runs))


def live_lens_chart(records: pd.DataFrame) -> alt.Chart:
    """Train and test accuracy of the records so far (the live view of :func:`core.rest_stop.grokking_lens`)."""
    cols = [c for c in ("train_acc", "test_acc") if c in records]
    data = records.melt(id_vars=["run", "step"], value_vars=cols, var_name="metric").dropna()
    return lens_chart(data, tuple(cols), title="accuracy (so far)")


def sweep_chart(features: pd.DataFrame, *, n_train: int) -> alt.LayerChart:
    """Median test error and min-norm solution norm against p (log-log), with a rule at p = n."""
    data = features[features.metric.isin(["test_mse", "norm"])].assign(
        series=lambda d: d.metric.map({"test_mse": "test", "norm": "norm of the min-norm fit"})
    )
    lines = line(
        data,
        "n_features",
        "value",
        "series",
        x_title="number of random features p (log scale)",
        y_title="test MSE  /  ‖a‖ (log scale)",
        log_x=True,
        log_y=True,
        points=True,
        tooltip=["n_features", "series", "value", "q25", "q75"],
        color_title="",
        title="Random ReLU features, min-norm least squares",
    )
    return alt.layer(lines, rule(n_train, label=f"p = n = {n_train}")).properties(height=HEIGHT)


def networks_chart(networks: pd.DataFrame) -> alt.Chart:
    """Train and test error and NC1 of the last hidden layer against width (log-log), one MLP per width."""
    names = {"train_error": "train", "test_error": "test", "NC1": "NC1 (last hidden layer)"}
    data = networks.dropna(subset=["value"]).assign(series=lambda d: d.metric.map(names))
    data = data.assign(value=data.value.clip(lower=1e-3))
    return line(
        data,
        "width",
        "value",
        "series",
        x_title="hidden width of a 64-w-w-10 MLP on digits (log scale)",
        y_title="error rate / NC1 (log scale; 0 drawn at 0.001)",
        log_x=True,
        log_y=True,
        points=True,
        tooltip=["width", "n_params", "series", "value"],
        color_title="",
        title="Small networks of growing width, at the end of training",
    )


def live_networks_chart(records: pd.DataFrame) -> alt.Chart:
    """The networks finished so far in :func:`core.rest_stop.overparam_run` (its per-width records)."""
    cols = ["train_error", "test_error", "NC1"]
    done = records.dropna(subset=["test_error"]) if "test_error" in records else records.iloc[:0]
    long = done.reindex(columns=["width", "n_params", *cols]).melt(id_vars=["width", "n_params"], var_name="metric")
    return networks_chart(long)


def reading_chart(table: pd.DataFrame, *, n_train: int) -> alt.LayerChart:
    """The measured test error (points: filled where fitted) and the power law, against p (log-log)."""
    log = alt.Scale(type="log")
    x = alt.X("n_features:Q", title="number of random features p (log scale)", scale=log)
    points = (
        alt.Chart(table.assign(used=table.in_fit.map({True: "fitted", False: "left out"})))
        .mark_point(filled=True, size=60, color=SERIES_COLORS["test"])
        .encode(
            x=x,
            y=alt.Y("measured:Q", title="test MSE (log scale)", scale=log),
            shape=alt.Shape("used:N", title="", legend=alt.Legend(orient="top")),
            tooltip=["n_features", "measured", "power_law", "log_residual", "used"],
        )
    )
    law = alt.Chart(table).mark_line(color=SERIES_COLORS["theory"]).encode(x=x, y="power_law:Q")
    return alt.layer(points, law, rule(n_train, label=f"p = n = {n_train}")).properties(height=HEIGHT)


def residual_chart(table: pd.DataFrame, *, tolerance: float) -> alt.LayerChart:
    """ln(measured / power law) against p (log x), with the tolerance band."""
    x = alt.X("n_features:Q", title="number of random features p (log scale)", scale=alt.Scale(type="log"))
    band = pd.DataFrame({"lo": [-math.log(tolerance)], "hi": [math.log(tolerance)]})
    shade = alt.Chart(band).mark_rect(opacity=0.12, color=SERIES_COLORS["theory"]).encode(y="lo:Q", y2="hi:Q")
    bars = (
        alt.Chart(table)
        .mark_line(point=alt.OverlayMarkDef(color=SERIES_COLORS["test"]), color=SERIES_COLORS["test"])
        .encode(
            x=x, y=alt.Y("log_residual:Q", title="ln(measured / power law)"), tooltip=["n_features", "log_residual"]
        )
    )
    return alt.layer(shade, bars).properties(height=HEIGHT - 120)


def map_chart(nodes: pd.DataFrame, edges: pd.DataFrame) -> alt.LayerChart:
    """The chapter's topics (nodes by section) and the links between them (solid: computed on this page)."""
    kinds = list(dict.fromkeys(edges.kind))
    colors = color_scale(kinds)
    xs = alt.X("x:Q", axis=None, scale=alt.Scale(domain=[-0.6, nodes.x.max() + 0.6]))
    ys = alt.Y("y:Q", axis=None, scale=alt.Scale(domain=[-0.7, nodes.y.max() + 0.5], reverse=True))
    links = (
        alt.Chart(edges)
        .mark_rule(strokeWidth=2.5, opacity=0.7)
        .encode(
            x=xs,
            y=ys,
            x2="x2:Q",
            y2="y2:Q",
            color=alt.Color("kind:N", scale=colors, title="", legend=alt.Legend(orient="top", labelLimit=400)),
            strokeDash=alt.StrokeDash("kind:N", scale=alt.Scale(domain=kinds, range=[[1, 0], [4, 4]][: len(kinds)])),
            tooltip=["source", "target", "link", "kind"],
        )
    )
    dots = alt.Chart(nodes).mark_circle(size=260, color="#4e79a7").encode(x=xs, y=ys, tooltip=["title", "section"])
    text = alt.Chart(nodes).mark_text(dy=-16, fontSize=12).encode(x=xs, y=ys, text="title:N")
    heads = alt.Chart(nodes.drop_duplicates("section")).mark_text(fontWeight="bold", fontSize=12, color="#555")
    heads = heads.encode(x=xs, y=alt.datum(-0.55), text="section:N")
    return alt.layer(links, dots, text, heads).properties(height=HEIGHT)
