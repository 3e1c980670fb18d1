"""Charts of the lottery-ticket page: accuracy against remaining weights, pruning at init, supermask widths.

DataFrame in, ``alt.Chart`` out. Seeds are averaged into a line with a min-max band when there are several; accuracy
axes run from chance (10%) to 100%.
Remaining fractions are on a log axis drawn right-to-left (100% at the left), so pruning goes rightward.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from ui.charts import HEIGHT, color_scale

VARIANT_LABELS = {"rewind": "winning ticket (rewind)", "reinit": "same mask, re-init", "random_prune": "random mask"}
METHOD_ORDER = ["snip", "grasp", "synflow", "magnitude", "random"]
CHANCE = 0.1  # ten digit classes: the y axes start at chance, so a collapse to guessing shows as one


def _seed_band(df: pd.DataFrame, x: str, series: str) -> pd.DataFrame:
    """Mean, min and max of ``test_acc`` over seeds per (x, series); rows without a result are dropped."""
    if "test_acc" not in df.columns:
        return pd.DataFrame(columns=[x, series, "test_acc", "low", "high", "n_seeds"])
    done = df.dropna(subset=["test_acc"])
    out = done.groupby([series, x], as_index=False)["test_acc"].agg(["mean", "min", "max", "count"])
    return out.rename(columns={"mean": "test_acc", "min": "low", "max": "high", "count": "n_seeds"})


def _accuracy_lines(
    df: pd.DataFrame,
    x: str,
    series: str,
    *,
    x_axis: alt.X,
    series_title: str,
    domain: list[str],
    dense: float | None,
    dense_x: float | None = None,
) -> alt.LayerChart:
    agg = _seed_band(df, x, series)
    colors = color_scale(domain)
    legend = alt.Legend(orient="top")
    y = alt.Y(
        "test_acc:Q",
        title="test accuracy (axis from chance, 10%)",
        scale=alt.Scale(domain=[CHANCE, 1.0], clamp=True),
        axis=alt.Axis(format=".0%"),
    )
    tooltip = [
        alt.Tooltip(f"{series}:N", title=series_title),
        alt.Tooltip(f"{x}:Q", format=".3~"),
        alt.Tooltip("test_acc:Q", title="mean test accuracy", format=".1%"),
        alt.Tooltip("n_seeds:Q", title="seeds"),
    ]
    base = alt.Chart(agg).encode(x=x_axis)
    layers = [
        base.mark_area(opacity=0.18).encode(
            y=alt.Y("low:Q"), y2="high:Q", color=alt.Color(f"{series}:N", scale=colors, legend=None)
        ),
        base.mark_line(point=True).encode(
            y=y, tooltip=tooltip, color=alt.Color(f"{series}:N", scale=colors, title=series_title, legend=legend)
        ),
    ]
    if dense is not None:
        ref = pd.DataFrame({"y": [dense], "x": [dense_x], "label": [f"dense net {dense:.1%}"]})
        layers.append(alt.Chart(ref).mark_rule(strokeDash=[5, 4], color="#555555").encode(y="y:Q"))
        if dense_x is not None:
            text = alt.Chart(ref).mark_text(align="right", baseline="bottom", dy=-3, color="#555555")
            layers.append(text.encode(x=alt.X("x:Q"), y="y:Q", text="label:N"))
    return alt.layer(*layers).resolve_legend(color="independent").properties(height=HEIGHT)


def _fraction_axis(field: str, title: str, smallest: float | None) -> alt.X:
    domain = {"domain": [smallest, 1.0]} if smallest else {}
    return alt.X(
        f"{field}:Q",
        title=title,
        scale=alt.Scale(type="log", reverse=True, nice=False, **domain),
        axis=alt.Axis(format=".1~%"),
    )


def ticket_chart(df: pd.DataFrame, *, dense_acc: float | None = None, smallest: float | None = None) -> alt.LayerChart:
    """Test accuracy against the fraction of weights left, one line per variant (works on partial live records).

    ``smallest`` fixes the right end of the x axis (the last round's fraction), so a live chart grows rightward.
    """
    data = df.assign(variant=df["variant"].map(VARIANT_LABELS)) if "variant" in df.columns else df
    return _accuracy_lines(
        data,
        "remaining_fraction",
        "variant",
        x_axis=_fraction_axis("remaining_fraction", "weights remaining (log scale; pruning goes right)", smallest),
        series_title="variant",
        domain=list(VARIANT_LABELS.values()),
        dense=dense_acc,
        dense_x=smallest,
    )


def pai_chart(df: pd.DataFrame, *, dense_acc: float | None = None) -> alt.LayerChart:
    """Test accuracy against the kept fraction for each pruning-at-init method."""
    data = df[df["method"] != "dense"] if "method" in df.columns else df
    smallest = (
        float(data["keep_fraction"].min())
        if "keep_fraction" in data.columns and data["keep_fraction"].notna().any()
        else None
    )
    return _accuracy_lines(
        data,
        "keep_fraction",
        "method",
        x_axis=_fraction_axis(
            "keep_fraction", "weights kept at initialisation (log scale; sparser to the right)", None
        ),
        series_title="method",
        domain=METHOD_ORDER,
        dense=dense_acc,
        dense_x=smallest,
    )


def supermask_chart(df: pd.DataFrame) -> alt.LayerChart:
    """Test accuracy against hidden width: a supermask on frozen random weights vs trained weights."""
    x_axis = alt.X(
        "width:Q",
        title="hidden width w of the 64-w-w-10 net (log scale)",
        scale=alt.Scale(type="log", base=2),
        axis=alt.Axis(values=[1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]),
    )
    return _accuracy_lines(
        df, "width", "variant", x_axis=x_axis, series_title="weights", domain=["supermask", "trained"], dense=None
    )


def layer_density_chart(df: pd.DataFrame) -> alt.FacetChart:
    """Weights left in each layer against the kept fraction, one panel per method (a 0 is a collapsed layer)."""
    layers = list(dict.fromkeys(df["layer"]))
    base = alt.Chart(df).encode(
        x=alt.X(
            "keep_fraction:Q",
            title="kept overall (log)",
            scale=alt.Scale(type="log", reverse=True, nice=False),
            axis=alt.Axis(format=".1~%", values=sorted(set(df["keep_fraction"].round(6)))),
        ),
        y=alt.Y(
            "kept:Q",
            title="weights left in the layer (0 = cut off)",
            scale=alt.Scale(type="symlog"),
            axis=alt.Axis(values=[0, 1, 10, 100, 1000, 10000, 100000]),
        ),
        color=alt.Color("layer:N", scale=color_scale(layers), sort=layers, legend=alt.Legend(orient="top")),
        tooltip=[
            alt.Tooltip("method:N"),
            alt.Tooltip("layer:N"),
            alt.Tooltip("keep_fraction:Q", title="kept overall", format=".2~%"),
            alt.Tooltip("kept:Q", title="weights left"),
            alt.Tooltip("density:Q", title="layer density", format=".2~%"),
        ],
    )
    return (
        base.mark_line(point=True)
        .properties(width=150, height=170)
        .facet(column=alt.Column("method:N", sort=[m for m in METHOD_ORDER if m in set(df["method"])], title=None))
    )


def instability_chart(df: pd.DataFrame) -> alt.FacetChart:
    """Test error along the linear path between two copies, one line per rewind step, one panel per variant.

    Works on partial live records (rows without ``test_error`` are dropped); seeds give a min-max band.
    """
    if not {"alpha", "test_error"} <= set(df.columns):
        df = pd.DataFrame(columns=["variant", "rewind_step", "alpha", "test_error", "low", "high"])
    else:
        df = df.dropna(subset=["test_error"])
        df = df.groupby(["variant", "rewind_step", "alpha"], as_index=False)["test_error"].agg(
            test_error="mean", low="min", high="max"
        )
    steps = sorted(df["rewind_step"].unique().tolist())
    color = alt.Color(
        "rewind_step:O", title="copies trained from step k", scale=alt.Scale(scheme="tableau10"),
        sort=steps, legend=alt.Legend(orient="top"),
    )  # fmt: skip
    base = alt.Chart().encode(
        x=alt.X("alpha:Q", title="α on the path (1-α)·θ_A + α·θ_B", scale=alt.Scale(domain=[0, 1])),
        color=color,
    )
    band = base.mark_area(opacity=0.15).encode(y="low:Q", y2="high:Q")
    line = base.mark_line(point=True).encode(
        y=alt.Y("test_error:Q", title="test error (mean over seeds)", axis=alt.Axis(format=".0%")),
        tooltip=[
            alt.Tooltip("variant:N"),
            alt.Tooltip("rewind_step:O", title="step k"),
            alt.Tooltip("alpha:Q", format=".2f"),
            alt.Tooltip("test_error:Q", format=".1%"),
        ],
    )
    return (
        alt.layer(band, line, data=df)
        .properties(width=330, height=220)
        .facet(column=alt.Column("variant:N", title=None, sort=["dense", "sparse"]))
    )
