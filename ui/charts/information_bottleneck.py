"""Charts for the information-bottleneck page: the information plane, the estimator comparison, the IB curves.

DataFrame in, ``alt.Chart`` out; built on ``ui.charts`` (colours, rules). No streamlit here.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from ui.charts import HEIGHT, SERIES_COLORS, color_scale, rule

ACTIVATION_ORDER = ["tanh", "relu", "linear"]
SHORT = {"adaptive": "bins over range", "fixed": "bins on [-1, 1]", "kde": "KDE"}  # radio labels (and URL values)
# estimator colours avoid the tanh (blue) and relu (red) colours used for activations on the same page
ESTIMATOR_SCALE = alt.Scale(domain=list(SHORT.values()), range=["#59a14f", "#f28e2b", "#b07aa1"])
_BY_ACTIVATION = alt.Column("activation:N", sort=ACTIVATION_ORDER, title=None, header=alt.Header(labelFontSize=14))


def estimator_label(estimator: str, n_bins: object = None) -> str:
    """A short name of one estimator setting, e.g. ``"bins over range, 30"`` or ``"KDE"``."""
    base = SHORT.get(estimator, estimator)
    return base if estimator == "kde" or n_bins is None or pd.isna(n_bins) else f"{base}, {int(n_bins)}"


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
    band: pd.DataFrame,
    *,
    estimator: str,
    n_bins: int,
    max_epoch: int,
    max_bits: float = 12.0,
    panel_width: int = 360,
    labels: bool = True,
    h_y: float | None = None,
) -> alt.FacetChart:
    """Each layer's path through (I(X;T), I(T;Y)) over training, coloured by epoch, one panel per activation.

    ``band`` is ``seed_band`` output: dots at the mean over seeds and, where seeds differ, thin bars from the min
    to the max over seeds in both directions. ``labels=False`` drops the layer numbers, which halves the cost of a
    redraw (for the live chart). With ``h_y`` the bound ``I(T;Y) <= min(I(X;T), H(Y))`` (data processing: T is a
    function of X) is drawn as a dashed line.
    """
    cols = ["epoch", "layer", "i_tx", "i_ty", "activation", "i_tx_lo", "i_tx_hi", "i_ty_lo", "i_ty_hi"]
    data = select_estimate(band, estimator, n_bins).reindex(columns=cols)
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
    tip = ["activation", "layer", "epoch", alt.Tooltip("i_tx:Q", format=".2f"), alt.Tooltip("i_ty:Q", format=".3f")]
    dots = base.mark_circle(size=55, opacity=0.9).encode(color=color, tooltip=tip)
    spread = "datum.i_tx_hi > datum.i_tx_lo || datum.i_ty_hi > datum.i_ty_lo"
    bars = alt.Chart().transform_filter(spread).mark_rule(strokeWidth=1, opacity=0.35, color="#777777")
    h_bar = bars.encode(x=alt.X("i_tx_lo:Q"), x2="i_tx_hi:Q", y="i_ty:Q")
    v_bar = bars.encode(x="i_tx:Q", y=alt.Y("i_ty_lo:Q"), y2="i_ty_hi:Q")
    newest = [alt.SortField("epoch", order="descending")]
    last = base.transform_window(rank="rank(epoch)", sort=newest, groupby=["layer"]).transform_filter("datum.rank == 1")
    layers = [paths, h_bar, v_bar, dots]
    if h_y is not None:
        bound = pd.DataFrame({"i_tx": [0.0, h_y, max_bits], "i_ty": [0.0, h_y, h_y]})
        layers.insert(0, alt.Chart(bound).mark_line(strokeDash=[6, 4], color="#999999").encode(x="i_tx:Q", y="i_ty:Q"))
    if labels:
        layers.append(last.mark_text(dx=8, dy=-6, fontSize=11, color="#333333").encode(text=alt.Text("layer:N")))
    return alt.layer(*layers, data=data).properties(width=panel_width, height=HEIGHT).facet(column=_BY_ACTIVATION)


def gradient_chart(gradients: pd.DataFrame, *, panel_width: int = 360) -> alt.FacetChart:
    """Drift and diffusion: each layer's gradient mean (solid) and spread (dashed) over an epoch's minibatches.

    Norms of the mean and standard deviation of the layer's weight gradient against epoch, log-log, averaged over
    seeds; one panel per activation.
    """
    rows = gradients.melt(
        id_vars=["epoch", "activation", "seed", "layer"], value_vars=["grad_mean", "grad_std"], var_name="statistic"
    )
    rows["statistic"] = rows["statistic"].map({"grad_mean": "‖mean‖ (drift)", "grad_std": "‖std‖ (diffusion)"})
    rows = rows[rows["value"] > 0]  # full batch: the std is 0 and has no place on a log axis
    return (
        alt.Chart(rows)
        .transform_aggregate(value="mean(value)", groupby=["epoch", "activation", "layer", "statistic"])
        .mark_line()
        .encode(
            x=alt.X("epoch:Q", title="epoch (log scale)", scale=alt.Scale(type="log")),
            y=alt.Y("value:Q", title="norm of the weight gradient", scale=alt.Scale(type="log")),
            color=alt.Color("layer:O", scale=alt.Scale(scheme="viridis"), legend=alt.Legend(orient="top")),
            strokeDash=alt.StrokeDash("statistic:N", legend=alt.Legend(orient="top", title=None)),
            tooltip=["activation", "layer", "statistic", "epoch", alt.Tooltip("value:Q", format=".3g")],
        )
        .properties(width=panel_width, height=HEIGHT)
        .facet(column=_BY_ACTIVATION)
    )


def estimator_chart(
    df: pd.DataFrame, *, layer: int, fit_epochs: dict[str, float], panel_width: int = 360
) -> alt.FacetChart:
    """I(X;T) of one layer over training under every estimator (colour) and bin count (dash), per activation.

    A dashed grey rule marks the epoch at which each net fitted its training set (``fit_epochs``).
    """
    rows = df[df["layer"] == layer].copy()
    rows["estimator"] = rows["estimator"].map(SHORT)
    rows["bins"] = [("none (KDE)" if pd.isna(b) else f"{int(b)} bins") for b in rows["n_bins"]]
    bin_order = sorted(rows["bins"].unique(), key=lambda b: (b.startswith("none"), len(b), b))
    rows["fit"] = rows["activation"].map(fit_epochs)
    rows = rows[["epoch", "activation", "estimator", "bins", "i_tx", "i_ty", "fit"]]
    base = alt.Chart().encode(
        x=alt.X("epoch:Q", title="epoch (log scale)", scale=alt.Scale(type="log")),
        y=alt.Y("i_tx:Q", title=f"I(X;T) of layer {layer} (bits)"),
        color=alt.Color("estimator:N", scale=ESTIMATOR_SCALE, legend=alt.Legend(orient="top")),
        detail="bins:N",
        tooltip=["activation", "estimator", "bins", "epoch", alt.Tooltip("i_tx:Q", format=".2f")],
    )
    # The dash legend belongs to a plain line layer: a line with overlaid points draws filled legend symbols, and
    # a filled "stroke" symbol is invisible. The points are a layer of their own.
    legend = alt.Legend(
        orient="top", symbolType="stroke", symbolStrokeColor="#555555", symbolStrokeWidth=2, symbolSize=400
    )
    dash = alt.StrokeDash("bins:N", sort=bin_order, legend=legend)
    lines = alt.layer(base.mark_line().encode(strokeDash=dash), base.mark_circle(size=18))
    fit_rule = alt.Chart().mark_rule(strokeDash=[2, 3], color="#555555").encode(x="min(fit):Q")
    return (
        alt.layer(lines, fit_rule, data=rows).properties(width=panel_width, height=HEIGHT).facet(column=_BY_ACTIVATION)
    )


def after_fit_bars(summary: pd.DataFrame, *, layer: int) -> alt.Chart:
    """Bars of the fall of I(X;T) after fitting (the 'compression phase') per estimator setting and activation."""
    rows = summary[summary["layer"] == layer].copy()
    rows["estimator setting"] = [estimator_label(e, b) for e, b in zip(rows["estimator"], rows["n_bins"])]
    rows = rows.drop(columns="n_bins")
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
        tooltip=[alt.Tooltip(c, format=".3g") for c in ("beta", "i_tx", "i_ty")] + ["n_iter", "converged", "start"],
    )
    return alt.layer(
        curve,
        dots,
        rule(i_xy, axis="y", label=f"I(X;Y) = {i_xy:.3f} bits"),
        rule(h_x, axis="x", label=f"H(X) = {h_x:.2f} bits"),
    ).properties(height=HEIGHT)


def gaussian_ib_chart(df: pd.DataFrame, *, critical: pd.DataFrame, i_xy: float) -> alt.LayerChart:
    """The exact Gaussian IB curve; a labelled point and a dashed rule where each critical beta adds a direction.

    ``critical`` holds ``beta``, ``i_tx`` and ``i_ty`` at the critical betas (the curve's kinks); only those inside
    the curve's beta range are drawn.
    """
    base = alt.Chart(df).encode(
        x=alt.X("i_tx:Q", title="I(T;X) (bits)"),
        y=alt.Y("i_ty:Q", title="I(T;Y) (bits)", scale=alt.Scale(domain=[0, i_xy * 1.1])),
    )
    curve = base.mark_line(color=SERIES_COLORS["theory"], strokeWidth=2.5).encode(
        tooltip=[alt.Tooltip(c, format=".3g") for c in ("beta", "i_tx", "i_ty")] + ["n_active"]
    )
    shown = critical.assign(name=[f"β{i + 1} = {b:.3g}" for i, b in enumerate(critical["beta"])])
    shown = shown[(shown["beta"] >= df["beta"].min()) & (shown["beta"] <= df["beta"].max())]
    marks = [rule(r.i_tx, color="#e15759") for r in shown.itertuples()]
    kinks = alt.Chart(shown).encode(x="i_tx:Q", y="i_ty:Q", tooltip=["name", alt.Tooltip("i_tx:Q", format=".3f")])
    dots = kinks.mark_point(size=90, color="#e15759", filled=True)
    labels = kinks.mark_text(align="left", dx=7, dy=10, color="#e15759", fontSize=12).encode(text="name:N")
    top = rule(i_xy, axis="y", label=f"I(X;Y) = {i_xy:.3f} bits")
    return alt.layer(curve, *marks, dots, labels, top).properties(height=HEIGHT)
