"""Charts for the information-bottleneck page: the information plane, the estimator comparison, the IB curves.

DataFrame in, ``alt.Chart`` out; built on ``ui.charts`` (colours, rules). No streamlit here.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

from ui.charts import HEIGHT, color_scale, rule

ACTIVATION_ORDER = ["tanh", "relu"]
SHORT = {"adaptive": "bins over range", "fixed": "bins on [-1, 1]", "kde": "KDE"}  # radio labels (and URL values)
ESTIMATOR_LABELS = {
    "adaptive": "bins over the layer's range",
    "fixed": "fixed bins on [-1, 1]",
    "kde": "KDE upper bound (noise)",
}


_BY_ACTIVATION = alt.Column("activation:N", sort=ACTIVATION_ORDER, title=None, header=alt.Header(labelFontSize=14))


def estimator_label(estimator: str, n_bins: object = None) -> str:
    """A readable name of one estimator setting, e.g. ``"bins over the layer's range, 30 bins"``."""
    base = ESTIMATOR_LABELS.get(estimator, estimator)
    return base if estimator == "kde" or n_bins is None or pd.isna(n_bins) else f"{base}, {int(n_bins)} bins"


def live_rows(records: pd.DataFrame) -> pd.DataFrame:
    """The measured rows inside the live records of ``information_plane`` (each logged epoch sends ``"rows"``)."""
    if "rows" not in records.columns:
        return pd.DataFrame()
    return pd.DataFrame([row for rows in records["rows"] if isinstance(rows, list) for row in rows])


def select_estimate(df: pd.DataFrame, estimator: str, n_bins: int) -> pd.DataFrame:
    """Rows of one estimator setting (the KDE ignores ``n_bins``); progress-only live records are dropped."""
    if "i_tx" not in df.columns or "estimator" not in df.columns:
        return pd.DataFrame(columns=["epoch", "layer", "i_tx", "i_ty", "activation"])
    rows = df.dropna(subset=["i_tx"])
    rows = rows[rows["estimator"] == estimator]
    if estimator != "kde":
        rows = rows[rows["n_bins"] == n_bins]
    return rows


def information_plane_chart(
    df: pd.DataFrame,
    *,
    estimator: str,
    n_bins: int,
    max_epoch: int,
    max_bits: float = 12.0,
    panel_width: int = 430,
    labels: bool = True,
) -> alt.FacetChart:
    """Each layer's path through (I(X;T), I(T;Y)) over training, coloured by epoch, one panel per activation.

    ``labels=False`` drops the layer numbers, which halves the cost of a redraw (for the live chart).
    """
    data = select_estimate(df, estimator, n_bins)[["epoch", "layer", "i_tx", "i_ty", "activation"]]
    x = alt.X("i_tx:Q", title="I(X;T) (bits)", scale=alt.Scale(domain=[0, max_bits]))
    y = alt.Y("i_ty:Q", title="I(T;Y) (bits)", scale=alt.Scale(domain=[0, 1.02]))
    color = alt.Color(
        "epoch:Q",
        title="epoch",
        scale=alt.Scale(type="log", domain=[1, max(max_epoch, 2)], scheme="viridis"),
        legend=alt.Legend(orient="right", gradientLength=200),
    )
    base = alt.Chart().encode(x=x, y=y)
    paths = base.mark_line(color="#bbbbbb", strokeWidth=1).encode(detail="layer:N", order="epoch:Q")
    dots = base.mark_circle(size=55, opacity=0.9).encode(
        color=color, tooltip=["activation", "layer", "epoch", alt.Tooltip("i_tx:Q", format=".2f"), "i_ty"]
    )
    newest = [alt.SortField("epoch", order="descending")]
    last = base.transform_window(rank="rank(epoch)", sort=newest, groupby=["layer"]).transform_filter("datum.rank == 1")
    layers = [paths, dots]
    if labels:
        layers.append(last.mark_text(dx=8, dy=-6, fontSize=11, color="#333333").encode(text=alt.Text("layer:N")))
    return alt.layer(*layers, data=data).properties(width=panel_width, height=HEIGHT).facet(column=_BY_ACTIVATION)


def estimator_chart(
    df: pd.DataFrame, *, layer: int, fit_epochs: dict[str, float], panel_width: int = 430
) -> alt.FacetChart:
    """I(X;T) of one layer over training under every estimator setting, one panel per activation.

    A dashed rule marks the epoch at which each net fitted its training set (``fit_epochs``, NaN: never).
    """
    rows = df[df["layer"] == layer].copy()
    rows["estimator setting"] = [estimator_label(e, b) for e, b in zip(rows["estimator"], rows["n_bins"])]
    rows["fit"] = rows["activation"].map(fit_epochs)
    rows = rows[["epoch", "activation", "estimator setting", "i_tx", "i_ty", "fit"]]
    names = sorted(rows["estimator setting"].unique())
    lines = (
        alt.Chart()
        .mark_line(point=True)
        .encode(
            x=alt.X("epoch:Q", title="epoch (log scale)", scale=alt.Scale(type="log")),
            y=alt.Y("i_tx:Q", title=f"I(X;T) of layer {layer} (bits)"),
            color=alt.Color(
                "estimator setting:N", scale=color_scale(names), legend=alt.Legend(orient="bottom", columns=3)
            ),
            tooltip=["activation", "estimator setting", "epoch", alt.Tooltip("i_tx:Q", format=".2f")],
        )
    )
    fit_rule = alt.Chart().mark_rule(strokeDash=[5, 4], color="#555555").encode(x="min(fit):Q")
    return (
        alt.layer(lines, fit_rule, data=rows).properties(width=panel_width, height=HEIGHT).facet(column=_BY_ACTIVATION)
    )


def after_fit_bars(summary: pd.DataFrame, *, layer: int) -> alt.Chart:
    """Bars of the fall of I(X;T) after fitting (the 'compression phase') per estimator setting and activation."""
    rows = summary[summary["layer"] == layer].copy()
    rows["estimator setting"] = [estimator_label(e, b) for e, b in zip(rows["estimator"], rows["n_bins"])]
    return (
        alt.Chart(rows)
        .mark_bar()
        .encode(
            y=alt.Y("estimator setting:N", title=None, sort=None),
            yOffset=alt.YOffset("activation:N", sort=ACTIVATION_ORDER),
            x=alt.X("after_fit:Q", title=f"fall of I(X;T) in layer {layer} after fitting (bits; < 0 = expansion)"),
            color=alt.Color("activation:N", scale=color_scale(ACTIVATION_ORDER), legend=alt.Legend(orient="top")),
            tooltip=[
                "activation",
                "estimator setting",
                alt.Tooltip("fit_i_tx:Q", format=".2f", title="I(X;T) when fitted"),
                alt.Tooltip("final_i_tx:Q", format=".2f", title="I(X;T) at the end"),
                alt.Tooltip("after_fit:Q", format=".2f"),
            ],
        )
        .properties(height=HEIGHT)
    )


def ib_curve_chart(df: pd.DataFrame, *, i_xy: float, h_x: float) -> alt.LayerChart:
    """The IB curve I(T;Y) against I(X;T), points coloured by beta, with I(X;Y) and H(X) marked."""
    base = alt.Chart(df).encode(
        x=alt.X("i_tx:Q", title="I(X;T) (bits)", scale=alt.Scale(domain=[0, h_x * 1.02])),
        y=alt.Y("i_ty:Q", title="I(T;Y) (bits)", scale=alt.Scale(domain=[0, i_xy * 1.1])),
    )
    curve = base.mark_line(color="#999999").encode(order="beta:Q")
    dots = base.mark_circle(size=60).encode(
        color=alt.Color("beta:Q", scale=alt.Scale(type="log", scheme="plasma"), title="beta"),
        tooltip=[alt.Tooltip(c, format=".3g") for c in ("beta", "i_tx", "i_ty")] + ["n_iter", "converged"],
    )
    return alt.layer(
        curve,
        dots,
        rule(i_xy, axis="y", label=f"I(X;Y) = {i_xy:.3f} bits"),
        rule(h_x, axis="x", label=f"H(X) = {h_x:.2f} bits"),
    ).properties(height=HEIGHT)


def gaussian_ib_chart(df: pd.DataFrame, *, critical_betas: Sequence[float], i_xy: float) -> alt.LayerChart:
    """Exact Gaussian IB: I(T;X) and I(T;Y) against beta (log scale), critical betas as dashed rules."""
    long = df.melt(id_vars=["beta", "n_active"], value_vars=["i_tx", "i_ty"], var_name="quantity", value_name="bits")
    long["quantity"] = long["quantity"].map({"i_tx": "I(T;X)", "i_ty": "I(T;Y)"})
    lines = (
        alt.Chart(long)
        .mark_line()
        .encode(
            x=alt.X("beta:Q", title="beta (log scale)", scale=alt.Scale(type="log")),
            y=alt.Y("bits:Q", title="information (bits)"),
            color=alt.Color("quantity:N", scale=color_scale(["I(T;X)", "I(T;Y)"]), legend=alt.Legend(orient="top")),
            tooltip=[alt.Tooltip("beta:Q", format=".3g"), "quantity", alt.Tooltip("bits:Q", format=".3f"), "n_active"],
        )
    )
    marks = [rule(b, label=f"β{i + 1} = {b:.3g}") for i, b in enumerate(critical_betas)]
    return alt.layer(lines, *marks, rule(i_xy, axis="y", label=f"I(X;Y) = {i_xy:.3f} bits")).properties(height=HEIGHT)
