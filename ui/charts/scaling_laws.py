"""Chart builders for the scaling-law page (no streamlit)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from ui import charts
from ui.text.scaling_laws import count, sci

# One colour per law, shared by every layer of a chart (lines, band, legend).
LAW_COLORS = {
    "Chinchilla A1": "#4e79a7",
    "Chinchilla A2": "#9c755f",
    "Chinchilla A3": "#76b7b2",
    "Chinchilla A3 (rounded)": "#bab0ac",
    "Epoch 2024": "#59a14f",
    "Kaplan": "#e15759",
    "your fit": "#f28e2b",
}


# Vega expressions for log-axis labels: powers of ten as 1e18 (no "e+"), counts as 40B / 1.5T / 386M.
POW10_LABELS = "'1e' + format(log(datum.value) / LN10, '.0f')"
COUNT_LABELS = (
    "datum.value >= 1e12 ? format(datum.value / 1e12, '.3~g') + 'T' : datum.value >= 1e9 ? "
    "format(datum.value / 1e9, '.3~g') + 'B' : datum.value >= 1e6 ? format(datum.value / 1e6, '.3~g') + 'M' : "
    "datum.value >= 1e3 ? format(datum.value / 1e3, '.3~g') + 'k' : format(datum.value, '.3~g')"
)


COUNT_AXIS = alt.Axis(labelExpr=COUNT_LABELS, values=[10.0**k for k in range(0, 17)])  # 1, 10, ..., 1e16


def _law_color(names: list[str]) -> alt.Color:
    names = list(dict.fromkeys(names))
    spare = iter(c for c in charts.FALLBACK if c not in LAW_COLORS.values())
    scale = alt.Scale(domain=names, range=[LAW_COLORS.get(n) or next(spare, "#888888") for n in names])
    return alt.Color("law:N", title="law", scale=scale, legend=alt.Legend(orient="top"))


def _labelled(df: pd.DataFrame, column: str, fmt) -> tuple[pd.DataFrame, list[str]]:
    """Replace a numeric column by display labels, returning the labels in numeric order (for legends)."""
    values = np.sort(df[column].unique())
    return df.assign(**{column: df[column].map(fmt)}), [fmt(v) for v in values]


def fit(runs: pd.DataFrame, curves: pd.DataFrame) -> alt.LayerChart:
    """Measured loss against N (points, one colour per data size D) with the fitted law (lines)."""
    order = [count(v) for v in np.sort(pd.concat([runs["D"], curves["D"]]).unique())]
    runs, curves = runs.assign(D=runs["D"].map(count)), curves.assign(D=curves["D"].map(count))
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


def frontier(df: pd.DataFrame, band: pd.DataFrame | None = None, *, title: str) -> alt.LayerChart:
    """Compute-optimal model size against compute, one colour per law; an optional bootstrap band for "your fit".

    The band and the lines share one colour scale (so each law keeps one colour and one legend swatch), and the
    x axis spans the budgets in ``df`` only.
    """
    df = df.dropna(subset=["n_opt"])
    names = list(df["law"].unique()) + ([] if band is None else ["your fit"])
    color = _law_color(names)
    lo, hi = float(df["flops"].min()), float(df["flops"].max())
    x = alt.X(
        "flops:Q",
        title="compute C (FLOPs)",
        scale=alt.Scale(type="log", domain=[lo, hi], nice=False),
        axis=alt.Axis(labelExpr=POW10_LABELS, values=[10.0**k for k in range(-2, 31)]),
    )
    y_title = "compute-optimal parameters N_opt"
    y_axis = COUNT_AXIS
    shown = df.assign(N_opt=df["n_opt"].map(count), D_opt=df["d_opt"].map(count), C=df["flops"].map(sci))
    layers = []
    if band is not None:
        layers.append(
            alt.Chart(band.assign(law="your fit"))
            .mark_area(opacity=0.2, clip=True)
            .encode(
                x=x,
                y=alt.Y("n_low:Q", scale=alt.Scale(type="log"), title=y_title, axis=y_axis),
                y2="n_high:Q",
                color=color,
            )
        )
    layers.append(
        alt.Chart(shown)
        .mark_line(clip=True)
        .encode(
            x=x,
            y=alt.Y("n_opt:Q", scale=alt.Scale(type="log"), title=y_title, axis=y_axis),
            color=color,
            tooltip=["law", "C", "N_opt", "D_opt", alt.Tooltip("tokens_per_param:Q", format=".3g")],
        )
    )
    return alt.layer(*layers).properties(height=charts.HEIGHT, title=title)


def power_law_view(view: pd.DataFrame) -> alt.HConcatChart:
    """Each term of the law isolated from the runs on log-log axes, where a power law is a straight line."""
    panels = []
    for term, other, title in (
        ("N", "D", "L − E − B/D^β against N: slope −α"),
        ("D", "N", "L − E − A/N^α against D: slope −β"),
    ):
        sub = view[view["term"] == term]
        measured, order = _labelled(sub[sub["kind"] == "measured"], "other", count)
        x = alt.X("x:Q", title=f"{'parameters' if term == 'N' else 'data'} {term}", scale=alt.Scale(type="log"))
        y = alt.Y("value:Q", title="isolated loss term", scale=alt.Scale(type="log"))
        points = (
            alt.Chart(measured)
            .mark_circle(size=40)
            .encode(
                x=x,
                y=y,
                color=alt.Color(
                    "other:N",
                    sort=order,
                    title=other,
                    scale=alt.Scale(scheme="viridis"),
                    legend=alt.Legend(orient="top"),
                ),
                tooltip=["x", "other", alt.Tooltip("value:Q", format=".3g")],
            )
        )
        line = alt.Chart(sub[sub["kind"] == "fit"]).mark_line(color="#555555").encode(x=x, y=y)
        panels.append(alt.layer(points, line).properties(title=title, height=charts.HEIGHT - 80, width=330))
    return alt.hconcat(*panels).resolve_scale(color="independent")


def recovery(table: pd.DataFrame) -> alt.LayerChart:
    """Fitted exponents with their bootstrap interval (bar) beside the theory's value (tick)."""
    base = alt.Chart(table)
    y = alt.Y("parameter:N", title=None)
    bars = base.mark_rule(strokeWidth=3, color="#f28e2b").encode(
        x=alt.X("low:Q", title="value"), x2="high:Q", y=y, tooltip=["parameter", "low", "high"]
    )
    fit = base.mark_circle(size=90, color="#f28e2b").encode(x="fit:Q", y=y, tooltip=["parameter", "fit"])
    true = base.mark_tick(size=26, thickness=3, color="#333333").encode(x="true:Q", y=y, tooltip=["parameter", "true"])
    return alt.layer(bars, fit, true).properties(
        height={"step": 45}, title="Recovered (dot, 90% bootstrap bar) vs true exponent (black tick)"
    )


def isoflops(df: pd.DataFrame) -> alt.LayerChart:
    """IsoFLOP profiles: loss against N at fixed compute, minimum marked."""
    df, order = _labelled(df.rename(columns={"flops": "budget"}), "budget", lambda v: f"{sci(v)} FLOPs")
    color = alt.Color(
        "budget:N", sort=order, title="compute", scale=alt.Scale(scheme="plasma"), legend=alt.Legend(orient="top")
    )
    x = alt.X("N:Q", title="parameters N", scale=alt.Scale(type="log"), axis=COUNT_AXIS)
    y = alt.Y("loss:Q", title="predicted loss", scale=alt.Scale(zero=False))
    lines = alt.Chart(df[~df.is_optimum]).mark_line().encode(x=x, y=y, color=color)
    optima = (
        alt.Chart(df[df.is_optimum])
        .mark_point(size=80, filled=True, shape="diamond")
        .encode(
            x=x,
            y=y,
            color=color,
            tooltip=["budget", alt.Tooltip("N:Q", format=".3~s"), alt.Tooltip("D:Q", format=".3~s"), "loss"],
        )
    )
    return alt.layer(lines, optima).properties(height=charts.HEIGHT, title="IsoFLOP curves: loss at fixed compute")


def live(records: pd.DataFrame) -> alt.Chart:
    """While the experiment runs: the loss of each cell so far against N, one colour per data size D."""
    rows = pd.DataFrame([row for batch in records["rows"] for row in batch])
    cells = rows.groupby(["N", "D"], as_index=False)["loss"].mean()
    return fit(cells, cells.iloc[0:0]).properties(title="Fitting models: loss of each (N, D) cell so far")


def approach2(runs: pd.DataFrame, curves: pd.DataFrame, budgets: pd.DataFrame) -> alt.LayerChart:
    """Approach 2: the runs of each budget (points), its fitted parabola in ln N (line) and vertex (diamond)."""
    fmt = lambda v: f"{sci(v)} FLOPs"  # noqa: E731
    order = [fmt(v) for v in np.sort(budgets["flops"].unique())]
    label = lambda df: df.assign(budget=df["flops"].map(fmt))  # noqa: E731
    color = alt.Color(
        "budget:N", sort=order, title="compute", scale=alt.Scale(scheme="plasma"), legend=alt.Legend(orient="top")
    )
    x = alt.X("N:Q", title="parameters N", scale=alt.Scale(type="log"), axis=COUNT_AXIS)
    y = alt.Y("loss:Q", title="loss", scale=alt.Scale(zero=False))
    points = alt.Chart(label(runs)).mark_circle(size=35, opacity=0.7).encode(x=x, y=y, color=color)
    lines = alt.Chart(label(curves)).mark_line().encode(x=x, y=y, color=color)
    used = budgets[budgets["used"]]
    vertex = used.assign(
        N=used["n_opt"],
        loss=used["c0"] + used["c1"] * np.log(used["n_opt"]) + used["curvature"] * np.log(used["n_opt"]) ** 2,
    )
    tips = ["budget", alt.Tooltip("N:Q", format=".3~s")]
    diamonds = (
        alt.Chart(label(vertex))
        .mark_point(shape="diamond", filled=True, size=90)
        .encode(x=x, y=y, color=color, tooltip=tips)
    )
    return alt.layer(points, lines, diamonds).properties(
        height=charts.HEIGHT, title="Approach 2: a parabola in ln N per budget; its vertex is N_opt"
    )


def repeated(curve: pd.DataFrame) -> alt.Chart:
    """Loss against epochs over the same unique tokens, repeated (Muennighoff et al.) vs if every token were new."""
    long = curve.melt(id_vars="epochs", value_vars=["loss_repeated", "loss_fresh"], var_name="data", value_name="loss")
    long["data"] = long["data"].map({"loss_repeated": "repeated tokens", "loss_fresh": "all tokens new"})
    return charts.line(
        long,
        "epochs",
        "loss",
        "data",
        x_title="epochs over the unique data",
        y_title="predicted loss",
        log_x=True,
        title="Where extra epochs stop paying",
    )


def reconcile(data: pd.DataFrame, kaplan_range: tuple[float, float]) -> alt.LayerChart:
    """Compute-optimal non-embedding size against non-embedding compute, Kaplan's measured range shaded."""
    x = alt.X(
        "flops:Q",
        title="non-embedding compute C (FLOPs)",
        scale=alt.Scale(type="log"),
        axis=alt.Axis(labelExpr=POW10_LABELS, values=[10.0**k for k in range(0, 31)]),
    )
    y = alt.Y(
        "n:Q",
        title="optimal non-embedding parameters",
        scale=alt.Scale(type="log"),
        axis=COUNT_AXIS,
    )
    color = alt.Color(
        "law:N",
        title="frontier",
        legend=alt.Legend(orient="top"),
        scale=alt.Scale(range=["#59a14f", "#76b7b2", "#e15759"]),
    )
    lines = (
        alt.Chart(data).mark_line().encode(x=x, y=y, color=color, tooltip=["law", alt.Tooltip("n:Q", format=".3~s")])
    )
    band = (
        alt.Chart(pd.DataFrame({"lo": [kaplan_range[0]], "hi": [kaplan_range[1]]}))
        .mark_rect(opacity=0.1, color="#e15759")
        .encode(x="lo:Q", x2="hi:Q")
    )
    return alt.layer(band, lines).properties(height=charts.HEIGHT, title="Kaplan vs Chinchilla, counted Kaplan's way")


def accounting(data: pd.DataFrame, kaplan_range: tuple[float, float], law_a: float) -> alt.LayerChart:
    """Local exponent d log N_opt / d log C along each accounting's frontier, Kaplan's range shaded, the law's a."""
    x = alt.X(
        "flops:Q",
        title="compute held fixed C (FLOPs, counted as in the legend)",
        scale=alt.Scale(type="log"),
        axis=alt.Axis(labelExpr=POW10_LABELS, values=[10.0**k for k in range(0, 31)]),
    )
    y = alt.Y("slope:Q", title="local exponent of N_opt in C")
    color = alt.Color("convention:N", title="counted as", legend=alt.Legend(orient="top", columns=2))
    lines = (
        alt.Chart(data)
        .mark_line()
        .encode(x=x, y=y, color=color, tooltip=["convention", alt.Tooltip("slope:Q", format=".3f")])
    )
    band = (
        alt.Chart(pd.DataFrame({"lo": [kaplan_range[0]], "hi": [kaplan_range[1]]}))
        .mark_rect(opacity=0.1, color="#e15759")
        .encode(x="lo:Q", x2="hi:Q")
    )
    rule = alt.Chart(pd.DataFrame({"a": [law_a]})).mark_rule(strokeDash=[4, 4], color="gray").encode(y="a:Q")
    return alt.layer(band, rule, lines).properties(height=charts.HEIGHT, title="Where each accounting's exponent sits")
