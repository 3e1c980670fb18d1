"""Chart builders for the scaling-law page (no streamlit)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from ui import charts


def fit(runs: pd.DataFrame, curves: pd.DataFrame) -> alt.LayerChart:
    """Measured loss against N (points, one colour per data size D) with the fitted law (lines)."""
    runs, curves = runs.assign(D=runs["D"].map("{:.3g}".format)), curves.assign(D=curves["D"].map("{:.3g}".format))
    order = sorted(runs["D"].unique(), key=float)
    color = alt.Color(
        "D:N", title="data size D", sort=order, scale=alt.Scale(scheme="viridis"), legend=alt.Legend(orient="top")
    )
    x = alt.X("N:Q", title="parameters N", scale=alt.Scale(type="log"))
    losses = pd.concat([runs["loss"], curves["loss"]])
    low, high = losses.min(), losses.max()
    y = alt.Y("loss:Q", title="loss", scale=alt.Scale(type="log", domain=[low / 1.1, high * 1.1], nice=False))
    points = alt.Chart(runs).mark_circle(size=50).encode(x=x, y=y, color=color, tooltip=["N", "D", "loss"])
    lines = alt.Chart(curves).mark_line(opacity=0.8).encode(x=x, y=y, color=color)
    return alt.layer(lines, points).properties(height=charts.HEIGHT, title="Measured loss and the fitted L(N, D)")


def residuals(res: pd.DataFrame) -> alt.LayerChart:
    """Log residuals ln L - ln L_hat against N, with zero marked."""
    points = charts.scatter(
        res,
        "N",
        "log_residual",
        x_title="parameters N",
        y_title="ln L − ln L̂ (≈ relative error)",
        log_x=True,
        tooltip=["N", "D", "loss", "predicted"],
        title="Residuals of the fit",
    )
    return alt.layer(points, charts.rule(0.0, axis="y"))


def exponents(boots: pd.DataFrame) -> alt.Chart:
    """Histograms of the bootstrap exponents alpha and beta."""
    long = boots.melt(value_vars=["alpha", "beta"], var_name="exponent", value_name="value")
    return (
        alt.Chart(long, title="Bootstrap distribution of the exponents")
        .mark_bar(opacity=0.6)
        .encode(
            x=alt.X("value:Q", bin=alt.Bin(maxbins=30), title="exponent value"),
            y=alt.Y("count():Q", title="replicates", stack=None),
            color=alt.Color("exponent:N", scale=charts.color_scale(["alpha", "beta"]), legend=alt.Legend(orient="top")),
        )
        .properties(height=charts.HEIGHT)
    )


def frontier(df: pd.DataFrame, band: pd.DataFrame | None = None) -> alt.LayerChart:
    """Compute-optimal model size against compute for each law, with an optional bootstrap band for the fit."""
    layers = []
    if band is not None:
        layers.append(
            charts.band(band.assign(law="your fit"), "flops", "n_low", "n_high", "law", log_x=True, log_y=True)
        )
    layers.append(
        charts.line(
            df,
            "flops",
            "n_opt",
            "law",
            x_title="compute C (FLOPs)",
            y_title="compute-optimal parameters N_opt",
            log_x=True,
            log_y=True,
            tooltip=["law", "flops", "n_opt", "d_opt", "tokens_per_param"],
            title="Where to spend compute: N_opt(C)",
        )
    )
    return alt.layer(*layers)


def isoflops(df: pd.DataFrame) -> alt.LayerChart:
    """IsoFLOP profiles: loss against N at fixed compute, minimum marked."""
    df = df.assign(budget=df["flops"].map("{:.0e} FLOPs".format))
    order = sorted(df["budget"].unique(), key=lambda s: float(s.split()[0]))
    color = alt.Color(
        "budget:N", sort=order, title="compute", scale=alt.Scale(scheme="plasma"), legend=alt.Legend(orient="top")
    )
    x = alt.X("N:Q", title="parameters N", scale=alt.Scale(type="log"))
    y = alt.Y("loss:Q", title="predicted loss", scale=alt.Scale(zero=False))
    lines = alt.Chart(df[~df.is_optimum]).mark_line().encode(x=x, y=y, color=color)
    optima = (
        alt.Chart(df[df.is_optimum])
        .mark_point(size=80, filled=True, shape="diamond")
        .encode(x=x, y=y, color=color, tooltip=["budget", "N", "D", "loss"])
    )
    return alt.layer(lines, optima).properties(height=charts.HEIGHT, title="IsoFLOP curves: loss at fixed compute")


def live(records: pd.DataFrame) -> alt.Chart:
    """While the mini experiment trains: best validation loss so far of each student against N."""
    latest = records.groupby(["seed", "N", "D"], as_index=False).last().rename(columns={"val_loss": "loss"})
    return fit(latest, latest.iloc[0:0]).properties(title="Training students: best validation loss so far")
