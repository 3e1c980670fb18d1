"""Chart builders for the complexity-of-learning page: DataFrame in, ``alt.Chart`` out (no streamlit)."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from ui.charts import color_scale, line, rule, scatter


def pac_chart(curve: pd.DataFrame, *, eps: float) -> alt.LayerChart:
    """Examples m against target error eps for the three PAC bounds, log-log, with the chosen eps marked."""
    lines = line(
        curve,
        "eps",
        "m",
        "bound",
        x_title="target error ε",
        y_title="examples m (upper bound, log scale)",
        log_x=True,
        log_y=True,
        color_title="bound",
        tooltip=["bound", "eps", "m"],
    ).encode(x=alt.X("eps:Q", title="target error ε (log scale)", scale=alt.Scale(type="log", nice=False)))
    return alt.layer(lines, rule(eps, label=f"ε = {eps:g}"))


def _k_label(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(series=[f"k = {int(k)}" for k in df["k"]])


def parity_steps_chart(sweep: pd.DataFrame, fits: pd.DataFrame) -> alt.LayerChart:
    """Steps to 99% test accuracy against n per k (points, log-log) with the fitted power laws (dashed)."""
    data = _k_label(sweep.dropna(subset=["steps_to_99"]))
    points = scatter(
        data,
        "n",
        "steps_to_99",
        "series",
        x_title="input bits n (log scale)",
        y_title="SGD steps to 99% test accuracy (log scale)",
        log_x=True,
        log_y=True,
        size=80,
        opacity=1.0,
        color_title="parity order",
        tooltip=["k", "n", "steps_to_99", "seconds"],
    ).encode(x=alt.X("n:Q", title="input bits n (log scale)", scale=alt.Scale(type="log", nice=False)))
    rows = []
    for fit in fits.dropna(subset=["exponent"]).itertuples():
        ns = data.loc[data["k"] == fit.k, "n"]
        for n in np.geomspace(ns.min(), ns.max(), 20):  # (20,) points along the fitted line
            rows.append((fit.k, float(n), fit.prefactor * n**fit.exponent, f"steps ∝ n^{fit.exponent:.2f}"))
    if not rows:
        return alt.layer(points)
    fitted = _k_label(pd.DataFrame(rows, columns=["k", "n", "steps_fit", "fit"]))
    lines = (
        alt.Chart(fitted)
        .mark_line(strokeDash=[6, 4])
        .encode(
            x=alt.X("n:Q", scale=alt.Scale(type="log", nice=False)),
            y=alt.Y("steps_fit:Q", scale=alt.Scale(type="log")),
            color=alt.Color("series:N", scale=color_scale(data["series"].unique()), legend=None),
            detail="series:N",
            tooltip=["series", "fit"],
        )
    )
    return alt.layer(points, lines)


def parity_live_chart(records: pd.DataFrame) -> alt.Chart:
    """Held-out accuracy against step for each (k, n) run so far (the live view of the sweep)."""
    return line(
        records,
        "step",
        "test_acc",
        "series",
        x_title="SGD step",
        y_title="test accuracy",
        color_title="run",
        y_domain=(0.4, 1.0),
        height=260,
    )


def noise_chart(curves: pd.DataFrame, *, target: float = 0.99) -> alt.LayerChart:
    """Test accuracy against step with clean labels and with flipped labels."""
    data = curves.assign(labels=[f"flip p = {p:g}" if p > 0 else "clean labels" for p in curves["noise"]])
    lines = line(
        data,
        "step",
        "test_acc",
        "labels",
        x_title="SGD step",
        y_title="test accuracy (clean test labels)",
        color_title="training labels",
        y_domain=(0.4, 1.0),
        tooltip=["labels", "step", "test_acc"],
    )
    return alt.layer(lines, rule(target, axis="y", label=f"{target:.0%}"))


_N_AXIS = alt.X("n:Q", title="Boolean variables n", axis=alt.Axis(tickMinStep=1, format="d"))


def proper_time_chart(df: pd.DataFrame) -> alt.Chart:
    """Wall time of each learner against the number of variables, log y."""
    return line(
        df,
        "n",
        "seconds",
        "learner",
        x_title="Boolean variables n",
        y_title="learning time (s, log scale)",
        log_y=True,
        points=True,
        tooltip=["learner", "n", "seconds", "searched"],
    ).encode(x=_N_AXIS)


def proper_accuracy_chart(df: pd.DataFrame) -> alt.Chart:
    """Held-out accuracy of each learner against the number of variables."""
    return line(
        df,
        "n",
        "test_acc",
        "learner",
        x_title="Boolean variables n",
        y_title="test accuracy",
        points=True,
        y_domain=(0.5, 1.02),
        tooltip=["learner", "n", "train_acc", "test_acc"],
        height=240,
    ).encode(x=_N_AXIS)
