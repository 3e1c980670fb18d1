"""Altair chart builders with one look across the lab: DataFrame in, ``alt.Chart`` out (no streamlit).

Conventions: long-format data (one row per x, series, value); one colour per series name across all pages
(``SERIES_COLORS``); axis titles carry units; log scales where the science is multiplicative.
Topic pages compose these builders (``alt.layer``); a chart that only one topic needs lives in
``ui/charts_<topic>.py`` and is built from the helpers here.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import pandas as pd

HEIGHT = 400  # Streamlit sizes the whole chart (title, legend, axes included) to this height

# One colour per named series, everywhere in the app (Tableau 10, colour-blind friendly order).
SERIES_COLORS: dict[str, str] = {
    "KL": "#e15759",
    "JS": "#f28e2b",
    "W1": "#4e79a7",
    "exact": "#4e79a7",
    "sinkhorn": "#f28e2b",
    "tanh": "#4e79a7",
    "relu": "#e15759",
    "train": "#4e79a7",
    "test": "#e15759",
    "ntk": "#4e79a7",
    "mup": "#e15759",
    "sp": "#59a14f",
    "rewind": "#4e79a7",
    "reinit": "#f28e2b",
    "random_prune": "#e15759",
    "mdl": "#4e79a7",
    "bic": "#f28e2b",
    "aic": "#59a14f",
    "cv": "#e15759",
    "lzma": "#4e79a7",
    "bz2": "#f28e2b",
    "zlib": "#59a14f",
    "program": "#e15759",
    "Chinchilla": "#4e79a7",
    "Chinchilla (rounded)": "#76b7b2",
    "Epoch 2024": "#59a14f",
    "Kaplan": "#e15759",
    "your fit": "#f28e2b",
    "theory": "#555555",
}
FALLBACK = [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
]


def color_scale(series: Sequence[str]) -> alt.Scale:
    """A colour scale giving each series its app-wide colour (unknown names get the fallback palette)."""
    names = list(dict.fromkeys(str(s) for s in series))
    spare = iter(c for c in FALLBACK if c not in {SERIES_COLORS.get(n) for n in names})
    colors = [SERIES_COLORS.get(n) or next(spare, "#888888") for n in names]
    return alt.Scale(domain=names, range=colors)


def _scale(log: bool, zero: bool = False, domain: Sequence[float] | None = None) -> alt.Scale:
    kwargs = {"type": "log"} if log else {"zero": zero}
    if domain is not None:
        kwargs["domain"] = list(domain)
    return alt.Scale(**kwargs)


def _color(df: pd.DataFrame, color: str | None, title: str | None) -> dict:
    if color is None:
        return {}
    return {
        "color": alt.Color(
            f"{color}:N", scale=color_scale(df[color].unique()), title=title or color, legend=alt.Legend(orient="top")
        )
    }


def line(
    df: pd.DataFrame,
    x: str,
    y: str,
    color: str | None = None,
    *,
    x_title: str,
    y_title: str,
    log_x: bool = False,
    log_y: bool = False,
    points: bool = False,
    title: str = "",
    color_title: str | None = None,
    dash: str | None = None,
    y_domain: Sequence[float] | None = None,
    tooltip: Sequence[str] | None = None,
    height: int = HEIGHT,
) -> alt.Chart:
    """Lines of ``y`` against ``x``, one per ``color`` value."""
    enc = {
        "x": alt.X(f"{x}:Q", title=x_title, scale=_scale(log_x)),
        "y": alt.Y(f"{y}:Q", title=y_title, scale=_scale(log_y, domain=y_domain)),
        "tooltip": list(tooltip) if tooltip else [c for c in (x, y, color) if c],
        **_color(df, color, color_title),
    }
    if dash:
        enc["strokeDash"] = alt.StrokeDash(f"{dash}:N", legend=alt.Legend(orient="top"))
    return alt.Chart(df, title=title).mark_line(point=points, clip=True).encode(**enc).properties(height=height)


def scatter(
    df: pd.DataFrame,
    x: str,
    y: str,
    color: str | None = None,
    *,
    x_title: str,
    y_title: str,
    log_x: bool = False,
    log_y: bool = False,
    title: str = "",
    size: int = 40,
    opacity: float = 0.8,
    color_title: str | None = None,
    tooltip: Sequence[str] | None = None,
    equal_axes: bool = False,
    height: int = HEIGHT,
) -> alt.Chart:
    """Points of ``y`` against ``x``; ``equal_axes`` keeps one unit the same length on both axes."""
    chart = (
        alt.Chart(df, title=title)
        .mark_circle(size=size, opacity=opacity)
        .encode(
            x=alt.X(f"{x}:Q", title=x_title, scale=_scale(log_x)),
            y=alt.Y(f"{y}:Q", title=y_title, scale=_scale(log_y)),
            tooltip=list(tooltip) if tooltip else [c for c in (x, y, color) if c],
            **_color(df, color, color_title),
        )
    )
    return chart.properties(height=height, width=height) if equal_axes else chart.properties(height=height)


def bars(
    df: pd.DataFrame,
    x: str,
    y: str,
    color: str | None = None,
    *,
    x_title: str,
    y_title: str,
    title: str = "",
    stacked: bool = True,
    x_type: str = "O",
    color_title: str | None = None,
    height: int = HEIGHT,
) -> alt.Chart:
    """Bars of ``y`` per ``x`` (ordinal by default), stacked by ``color``.

    For bars on a log axis, build them by hand with an explicit baseline (``y2=alt.datum(...)``): Vega-Lite
    draws nothing from a zero baseline on a log scale.
    """
    return (
        alt.Chart(df, title=title)
        .mark_bar()
        .encode(
            x=alt.X(f"{x}:{x_type}", title=x_title),
            y=alt.Y(f"{y}:Q", title=y_title, stack="zero" if stacked else None),
            tooltip=[c for c in (x, y, color) if c],
            **_color(df, color, color_title),
        )
        .properties(height=height)
    )


def heatmap(
    df: pd.DataFrame,
    x: str,
    y: str,
    value: str,
    *,
    x_title: str,
    y_title: str,
    value_title: str,
    title: str = "",
    scheme: str = "viridis",
    domain_mid: float | None = None,
    sort: Sequence[str] | None = None,
    height: int = HEIGHT,
) -> alt.Chart:
    """A grid of ``value`` over categorical ``x`` and ``y``; ``domain_mid`` gives a diverging scale."""
    scale = (
        alt.Scale(scheme="redblue", domainMid=domain_mid, reverse=True)
        if domain_mid is not None
        else alt.Scale(scheme=scheme)
    )
    order = list(sort) if sort is not None else "ascending"
    return (
        alt.Chart(df, title=title)
        .mark_rect()
        .encode(
            x=alt.X(f"{x}:O", title=x_title, sort=order),
            y=alt.Y(f"{y}:O", title=y_title, sort=order),
            color=alt.Color(f"{value}:Q", title=value_title, scale=scale),
            tooltip=[x, y, alt.Tooltip(f"{value}:Q", format=".4g")],
        )
        .properties(height=height)
    )


def band(
    df: pd.DataFrame,
    x: str,
    low: str,
    high: str,
    color: str | None = None,
    *,
    log_x: bool = False,
    log_y: bool = False,
    opacity: float = 0.2,
) -> alt.Chart:
    """A shaded band between ``low`` and ``high`` (bootstrap or seed spread); layer it under a line."""
    return (
        alt.Chart(df)
        .mark_area(opacity=opacity, clip=True)
        .encode(
            x=alt.X(f"{x}:Q", scale=_scale(log_x)),
            y=alt.Y(f"{low}:Q", scale=_scale(log_y)),
            y2=alt.Y2(f"{high}:Q"),
            **_color(df, color, None),
        )
    )


def rule(value: float, *, axis: str = "x", label: str = "", color: str = "#555555") -> alt.LayerChart:
    """A dashed marker line at ``value`` on the ``x`` or ``y`` axis with a text label."""
    data = pd.DataFrame({"v": [value], "label": [label]})
    enc = {axis: alt.X("v:Q") if axis == "x" else alt.Y("v:Q")}
    line_ = alt.Chart(data).mark_rule(strokeDash=[5, 4], color=color).encode(**enc)
    text = (
        alt.Chart(data)
        .mark_text(align="left", dx=4, dy=-6 if axis == "y" else 0, baseline="top", color=color)
        .encode(text="label:N", **enc)
    )
    if axis == "x":
        text = text.encode(y=alt.value(4))
    else:
        text = text.encode(x=alt.value(4))
    return alt.layer(line_, text)


def shade(start: float, end: float, *, label: str = "", color: str = "#bab0ac") -> alt.LayerChart:
    """A shaded x-interval [start, end] (e.g. the terminal phase of training) with a label."""
    data = pd.DataFrame({"start": [start], "end": [end], "label": [label]})
    area = alt.Chart(data).mark_rect(opacity=0.15, color=color).encode(x="start:Q", x2="end:Q")
    text = (
        alt.Chart(data)
        .mark_text(align="left", dx=4, baseline="top", color="#555555")
        .encode(x="start:Q", y=alt.value(4), text="label:N")
    )
    return alt.layer(area, text)
