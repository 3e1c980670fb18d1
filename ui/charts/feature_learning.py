"""Charts of the feature-learning page (lazy vs rich, coord check, LR transfer, function space).

DataFrame in, ``alt.Chart`` out; built on ``ui.charts`` and its series colours (ntk / mup / sp).
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from ui.charts import HEIGHT, SERIES_COLORS, color_scale, line

LOG2_LABEL = "'2^' + format(round(log(datum.value) / log(2)), 'd')"
MEASURES = {
    "rel_weight_change": ("Input-to-hidden weight change ‖W₁−W₁(0)‖/‖W₁(0)‖", -0.5, "∝ n^-1/2"),
    "kernel_change": ("Tangent-kernel change ‖K−K₀‖/‖K₀‖", -1.0, "∝ n^-1 (smooth φ)"),
}
LABELS = {"sp": "SP", "ntk": "NTK", "mup": "muP"}
KIND_COLORS = {"target": "#9d9d9d", "train": "#000000", "network": "#4e79a7", "linearised": "#f28e2b"}
_POW2 = [2**k for k in range(1, 15)]
_UPPER = "datum.value == 'mup' ? 'muP' : upper(datum.value)"


def change_vs_width(bands: pd.DataFrame, measure: str, slopes: pd.DataFrame | None = None) -> alt.LayerChart:
    """One panel of the lazy/rich sweep: ``measure`` against width on log-log axes, one line per parametrization.

    ``bands`` is ``core.feature_learning.lazy_rich.change_bands`` (geometric mean over seeds and the min-max band,
    shaded). A
    dashed grey line through the smallest-width NTK point shows the lazy-regime slope (-1/2, or -1 for the kernel
    with a smooth activation); ``slopes`` (``width_slopes``) puts the fitted slopes, mean ± sd over seeds, in the
    subtitle.
    """
    title, slope, label = MEASURES[measure]
    data = bands[bands["measure"] == measure]
    x = alt.X(
        "width:Q", title="hidden width n (log scale)", scale=alt.Scale(type="log", base=2), axis=alt.Axis(values=_POW2)
    )
    y = alt.Y("value:Q", title="relative change (log scale)", scale=alt.Scale(type="log"))
    color = alt.Color(
        "parametrization:N",
        title=None,
        scale=color_scale(data["parametrization"].unique()),
        legend=alt.Legend(orient="top", labelExpr=_UPPER.replace("value", "label")),
    )
    tip = ["parametrization", "width", alt.Tooltip("value:Q", format=".4g", title="geometric mean"), "n_seeds"]
    tip += [alt.Tooltip("low:Q", format=".4g", title="min"), alt.Tooltip("high:Q", format=".4g", title="max")]
    base = alt.Chart(data).encode(x=x, color=color)
    layers = [
        base.mark_area(opacity=0.2).encode(y="low:Q", y2="high:Q"),
        base.mark_line(point=True).encode(y=y, tooltip=tip),
    ]
    anchor = data[data["parametrization"] == "ntk"].sort_values("width")
    if len(anchor) and data["width"].nunique() > 1:
        w0, y0 = float(anchor["width"].iloc[0]), float(anchor["value"].iloc[0])
        ws = np.array(sorted(data["width"].unique()), dtype=float)
        ref = pd.DataFrame({"width": ws, "value": y0 * (ws / w0) ** slope, "label": f"theory {label}"})
        theory = alt.Chart(ref).encode(x=x, y=y)
        layers += [
            theory.mark_line(strokeDash=[6, 4], color=SERIES_COLORS["theory"]).encode(tooltip=["label:N"]),
            theory.transform_filter(f"datum.width == {ws[-1]}")
            .mark_text(align="right", dy=12, color=SERIES_COLORS["theory"])
            .encode(text="label:N"),
        ]
    subtitle = ""
    if slopes is not None:
        fitted = slopes[slopes["measure"] == measure]
        subtitle = "fitted slope: " + ", ".join(
            f"{LABELS.get(r.parametrization, r.parametrization)} {r.slope:.2f}"
            + (f" ± {r.slope_sd:.2f}" if np.isfinite(r.slope_sd) else "")
            for r in fitted.itertuples()
        )
    return alt.layer(*layers).properties(height=HEIGHT, title=alt.Title(title, subtitle=subtitle))


def live_changes(records: pd.DataFrame) -> alt.Chart:
    """Live chart of the lazy/rich sweep: hidden-weight change against GD step, one line per width."""
    records = records[np.isfinite(records["rel_weight_change"])] if "rel_weight_change" in records else records[:0]
    data = records.assign(width=records["width"].astype(str))
    return line(
        data,
        "step",
        "rel_weight_change",
        "width",
        x_title="GD step",
        y_title="‖W−W₀‖/‖W₀‖",
        color_title="width",
        height=240,
    )


def coord_chart(bands: pd.DataFrame, value: str = "act_rms", *, title: str = "") -> alt.FacetChart:
    """Coord check in microsoft/mup's layout: one panel per step, size against width, a line per layer; log-log.

    ``bands`` is ``core.feature_learning.mup.coord_bands``: the geometric mean over seeds (line) and the min-max band
    (shaded).
    """
    data = bands.assign(step_label=bands["step"].map(lambda t: "init" if t == 0 else f"step {t}"))
    y_title = "RMS of activations (log)" if value == "act_rms" else "RMS of h(t) − h(0) (log)"
    layers = sorted(data["layer"].unique(), key=lambda name: (name == "output", name))
    color = alt.Color("layer:N", title="layer", sort=layers, scale=color_scale(layers), legend=alt.Legend(orient="top"))
    x = alt.X("width:Q", title="width (log)", scale=alt.Scale(type="log", base=2))
    tip = ["layer", "width", "step", alt.Tooltip("value:Q", format=".4g"), "n_seeds"]
    base = alt.Chart().encode(x=x, color=color)
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("low:Q", scale=alt.Scale(type="log")), y2="high:Q")
    lines = base.mark_line(point=True).encode(
        y=alt.Y("value:Q", title=y_title, scale=alt.Scale(type="log")), tooltip=tip
    )
    steps = list(dict.fromkeys(data.sort_values("step")["step_label"]))
    return (
        alt.layer(band, lines, data=data)
        .properties(width=150, height=180)
        .facet(column=alt.Column("step_label:N", title=title, sort=steps))
        .resolve_scale(y="shared")
    )


def transfer_chart(df: pd.DataFrame, *, title: str) -> alt.LayerChart:
    """LR transfer: final loss against the learning rate (log2 axis), one line per width.

    The best LR of each width is a large ring; diverged runs are crosses drawn above the curves.
    """
    data = df.assign(width=df["width"].astype(str))
    widths = list(dict.fromkeys(data["width"]))
    color = alt.Color("width:N", title="width", scale=color_scale(widths), sort=widths, legend=alt.Legend(orient="top"))
    x = alt.X(
        "lr:Q",
        title="learning rate (log2 scale)",
        scale=alt.Scale(type="log", base=2),
        axis=alt.Axis(labelExpr=LOG2_LABEL),
    )
    y = alt.Y("loss:Q", title="final train loss, ½·MSE (log scale)", scale=alt.Scale(type="log"))
    ok = data[np.isfinite(data["loss"])]
    lines = alt.Chart(ok).mark_line(point=True).encode(x=x, y=y, color=color, tooltip=["width", "lr", "loss"])
    best = alt.Chart(ok[ok["best"]]).mark_point(size=260, strokeWidth=2.5).encode(x=x, y=y, color=color)
    layers = [lines, best]
    bad = data[~np.isfinite(data["loss"])]
    if len(bad) and len(ok):
        top = float(ok["loss"].max()) * 1.6
        layers.append(
            alt.Chart(bad.assign(loss=top, status="diverged"))
            .mark_point(shape="cross", size=90, filled=True, opacity=0.8)
            .encode(x=x, y=y, color=color, tooltip=["width", "lr", "status"])
        )
    return alt.layer(*layers, title=title).properties(height=HEIGHT)


def live_losses(records: pd.DataFrame, series: str) -> alt.Chart:
    """Live chart of training runs: train loss against step, one line per ``series`` value (log y)."""
    data = records[np.isfinite(records["loss"]) & (records["loss"] > 0)]
    labels = data[series].map(lambda v: f"2^{round(np.log2(v))}") if series == "lr" else data[series].astype(str)
    data = data.assign(series=labels)
    return line(
        data,
        "step",
        "loss",
        "series",
        x_title="GD step",
        y_title="train loss (log)",
        log_y=True,
        color_title=series,
        height=240,
    )


def function_chart(df: pd.DataFrame) -> alt.FacetChart:
    """The learned function (solid) and its linearisation (dashed) with target and data, per parametrization x width."""
    kinds = [k for k in KIND_COLORS if k in set(df["kind"])]
    color = alt.Color(
        "kind:N",
        title=None,
        scale=alt.Scale(domain=kinds, range=[KIND_COLORS[k] for k in kinds]),
        legend=alt.Legend(orient="top"),
    )
    base = alt.Chart().encode(
        x=alt.X("x:Q", title="input x"), y=alt.Y("y:Q", title="output f(x)"), color=color, tooltip=["kind", "x", "y"]
    )
    curves = (
        base.transform_filter("datum.kind != 'train'")
        .mark_line()
        .encode(strokeDash=alt.condition("datum.kind == 'linearised'", alt.value([6, 3]), alt.value([1, 0])))
    )
    points = base.transform_filter("datum.kind == 'train'").mark_circle(size=55, opacity=1)
    return (
        alt.layer(curves, points, data=df)
        .properties(width=380, height=220)
        .facet(
            row=alt.Row("parametrization:N", title=None, sort=list(LABELS), header=alt.Header(labelExpr=_UPPER)),
            column=alt.Column("width:O", title="hidden width"),
        )
    )
