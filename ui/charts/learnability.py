"""Chart builders for the complexity-of-learning page: DataFrame in, ``alt.Chart`` out (no streamlit)."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from ui.charts import FALLBACK, color_scale, line, rule


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
    """Steps to 99% against n per k, log-log, with the fitted power law and the asymptotic rate beside it.

    Every seed is a faint point, the median a line with its min-max bar; dashed: the fitted power law; dotted:
    n^(k-1) through the median at the smallest n.
    """
    data = _k_label(sweep.dropna(subset=["steps_to_99"]))
    stats = data.groupby(["k", "series", "n"], as_index=False)["steps_to_99"].agg(["median", "min", "max"])
    colour = alt.Color("series:N", scale=color_scale(sorted(data["series"].unique())), title="parity order",
                       legend=alt.Legend(orient="top"))  # fmt: skip
    x = alt.X("n:Q", title="input bits n (log scale)", scale=alt.Scale(type="log", nice=False))
    y_log = alt.Scale(type="log")
    tips = [c for c in ("k", "n", "seed", "steps_to_99") if c in data]
    y_title = "SGD steps to 99% test accuracy (log scale)"
    seeds = (
        alt.Chart(data)
        .mark_circle(size=30, opacity=0.35)
        .encode(x=x, y=alt.Y("steps_to_99:Q", title=y_title, scale=y_log), color=colour, tooltip=tips)
    )
    bars = alt.Chart(stats).mark_rule().encode(x=x, y=alt.Y("min:Q", scale=y_log), y2="max:Q", color=colour)
    medians = (
        alt.Chart(stats)
        .mark_line(point=alt.OverlayMarkDef(size=70, filled=True))
        .encode(x=x, y=alt.Y("median:Q", scale=y_log), color=colour, tooltip=["series", "n", "median", "min", "max"])
    )
    rows = []
    for fit in fits.dropna(subset=["exponent"]).itertuples():
        ks = stats[stats["k"] == fit.k]
        n0, m0 = float(ks["n"].iloc[0]), float(ks["median"].iloc[0])
        for n in np.geomspace(ks["n"].min(), ks["n"].max(), 20):  # (20,) points along each line
            rows.append((fit.k, float(n), fit.prefactor * n**fit.exponent, f"fit: steps ∝ n^{fit.exponent:.2f}"))
            if fit.k > 1:
                rows.append((fit.k, float(n), m0 * (n / n0) ** (fit.k - 1), f"reference: n^{fit.k - 1}"))
    layers = [seeds, bars, medians]
    if rows:
        guides = _k_label(pd.DataFrame(rows, columns=["k", "n", "steps", "line"]))
        dash = alt.StrokeDash("kind:N", title=None, legend=alt.Legend(orient="top"),
                              scale=alt.Scale(domain=["fitted power law", "n^(k−1) from the smallest n"],
                                              range=[[6, 4], [2, 3]]))  # fmt: skip
        guides["kind"] = np.where(
            guides["line"].str.startswith("fit"), "fitted power law", "n^(k−1) from the smallest n"
        )
        layers.append(
            alt.Chart(guides)
            .mark_line(opacity=0.8, clip=True)
            .encode(x=x, y=alt.Y("steps:Q", scale=y_log), color=colour, strokeDash=dash, detail="line:N",
                    tooltip=["series", "line"])
        )  # fmt: skip
    return alt.layer(*layers).properties(height=420)


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


def hidden_progress_chart(df: pd.DataFrame) -> alt.VConcatChart:
    """Test accuracy and the support's weight share against step (top), the gradient gap (bottom)."""
    scalars = df[df["bit"] < 0]
    top = line(
        scalars[scalars["measure"].isin(["test accuracy", "support weight share"])],
        "step",
        "value",
        "measure",
        x_title="SGD step",
        y_title="fraction",
        y_domain=(0, 1),
        color_title=None,
        title="Accuracy jumps late; the weight on the relevant bits grows before it",
        height=300,
    )
    gap = line(
        scalars[scalars["measure"] == "gradient gap"],
        "step",
        "value",
        x_title="SGD step",
        y_title="|grad| relevant / other bits",
        title="Gradient gap (1 = none), estimated on a fixed sample",
        height=160,
    ).encode(color=alt.value(FALLBACK[6]))
    return alt.vconcat(top, alt.layer(gap, rule(1.0, axis="y", label="no gap")))


def bit_weight_heatmap(df: pd.DataFrame, support: Sequence[int]) -> alt.Chart:
    """Each input bit's share of the first layer's mean |weight| over steps; relevant bits marked with '*'."""
    bits = df[df["measure"] == "bit weight"].copy()
    bits["share"] = bits["value"] / bits.groupby("step")["value"].transform("sum")
    bits["input bit"] = [f"x{b} *" if b in support else f"x{b}" for b in bits["bit"]]
    order = [f"x{b} *" if b in support else f"x{b}" for b in sorted(bits["bit"].unique())]
    return (
        alt.Chart(bits, title="Share of first-layer |weight| per input bit (* = relevant)")
        .mark_rect()
        .encode(
            x=alt.X("step:O", title="SGD step", axis=alt.Axis(labelOverlap=True)),
            y=alt.Y("input bit:O", sort=order, title="input bit"),
            color=alt.Color("share:Q", title="share", scale=alt.Scale(scheme="viridis")),
            tooltip=["step", "input bit", alt.Tooltip("share:Q", format=".3f")],
        )
        .properties(height=380)
    )


def hidden_live_chart(records: pd.DataFrame) -> alt.Chart:
    """The live view of the hidden-progress run: accuracy and the support's weight share so far."""
    long = records.melt(id_vars=["step"], value_vars=["test_acc", "support_share"], var_name="measure")
    long["measure"] = long["measure"].map({"test_acc": "test accuracy", "support_share": "support weight share"})
    return line(long, "step", "value", "measure", x_title="SGD step", y_title="fraction", y_domain=(0, 1), height=260)
