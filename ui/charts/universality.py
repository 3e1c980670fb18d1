"""Chart builders for the universality page (double descent, grokking, emergence): DataFrame in, chart out.

Error against the number of features and risk against p/n on log-log axes (the peak spans decades); accuracy
against training step on a log step axis (memorisation and generalisation are decades apart); metrics against model
size on a log size axis.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from ui.charts import FALLBACK, HEIGHT, SERIES_COLORS, line, rule

FLOOR = 1e-4  # log error axes stop here: an interpolating fit's train error is exactly 0
METRIC_COLORS = {
    "per-token accuracy": SERIES_COLORS["train"],
    "per-digit accuracy": SERIES_COLORS["train"],
    "exact match": SERIES_COLORS["test"],
    "token edit distance": FALLBACK[4],
    "digit edit distance": FALLBACK[4],
    "p^L": SERIES_COLORS["theory"],
}


def _metric_color(names: list[str], title: str | None = None) -> alt.Color:
    names = [n for n in METRIC_COLORS if n in set(names)]
    scale = alt.Scale(domain=names, range=[METRIC_COLORS[n] for n in names])
    return alt.Color("metric:N", scale=scale, title=title, legend=alt.Legend(orient="top"))


def _fit_label(ridge: float) -> str:
    return "ridgeless" if ridge == 0 else f"ridge λ = {ridge:g}"


def double_descent_long(curves: pd.DataFrame) -> pd.DataFrame:
    """Reshape ``double_descent.random_features_curve`` rows (one or more ridges) for the chart."""
    data = curves.sort_values("ridge", kind="stable").assign(fit=curves.ridge.map(_fit_label))
    long = data.melt(
        id_vars=["n_features", "fit", "test_q25", "test_q75"], value_vars=["train_mse", "test_mse"], var_name="split"
    )
    long["split"] = long.split.str.replace("_mse", "")
    long.loc[long.split == "train", ["test_q25", "test_q75"]] = None
    long["value"] = long.value.clip(lower=FLOOR)
    return long


def double_descent_chart(curves: pd.DataFrame, *, n_train: int) -> alt.LayerChart:
    """Median train and test MSE against p (log-log), the quartile band of the test error, and a rule at p = n."""
    long = double_descent_long(curves)
    fits = list(dict.fromkeys(long.fit))
    lines = line(
        long,
        "n_features",
        "value",
        "split",
        x_title="number of random features p (log scale)",
        y_title=f"mean squared error (log scale; < {FLOOR:g} drawn at {FLOOR:g})",
        log_x=True,
        log_y=True,
        points=True,
        tooltip=["n_features", "fit", "split", "value", "test_q25", "test_q75"],
        title="Random ReLU features: min-norm least squares",
    )
    log = alt.Scale(type="log")
    spread = (
        alt.Chart(long[long.split == "test"])
        .mark_area(opacity=0.12, color=SERIES_COLORS["test"], clip=True)
        .encode(x=alt.X("n_features:Q", scale=log), y=alt.Y("test_q25:Q", scale=log), y2="test_q75:Q", detail="fit:N")
    )
    if len(fits) > 1:  # ridgeless solid, ridge dashed
        dash = alt.Scale(domain=fits, range=[[1, 0], [6, 4]])
        lines = lines.encode(strokeDash=alt.StrokeDash("fit:N", scale=dash, legend=alt.Legend(orient="top")))
    return alt.layer(spread, lines, rule(n_train, label=f"p = n = {n_train}")).properties(height=HEIGHT + 80)


def risk_theory_chart(simulated: pd.DataFrame, theory: pd.DataFrame) -> alt.LayerChart:
    """The closed-form ridgeless risk against gamma = p/n (line) and the simulated isotropic regression (points)."""
    top = float(simulated.simulated.max()) * 1.5
    t = theory.assign(series="theory (Hastie et al.)").rename(columns={"theory": "risk"})
    t = t[t.risk <= top]
    s = simulated.assign(series="simulated (mean over trials)").rename(columns={"simulated": "risk"})
    s = s[s.risk > 0]
    domain, colors = ["theory (Hastie et al.)", "simulated (mean over trials)"], [SERIES_COLORS["theory"], FALLBACK[1]]
    legend = alt.Legend(orient="top", labelLimit=300)
    color = alt.Color("series:N", scale=alt.Scale(domain=domain, range=colors), title=None, legend=legend)
    x = alt.X("gamma:Q", title="γ = p / n (log scale)", scale=alt.Scale(type="log"))
    y = alt.Y("risk:Q", title="excess test risk (log scale)", scale=alt.Scale(type="log"))
    theory_line = alt.Chart(t).mark_line(clip=True).encode(x=x, y=y, color=color, detail="branch:N")
    theory_line = theory_line.transform_calculate(branch="datum.gamma < 1 ? 'under' : 'over'")
    points = (
        alt.Chart(s)
        .mark_circle(size=50, clip=True)
        .encode(x=x, y=y, color=color, tooltip=["n_features", "gamma", "risk", "theory"])
    )
    return alt.layer(theory_line, points, rule(1.0, label="γ = 1")).properties(
        height=HEIGHT + 80, title="Isotropic Gaussian features: the closed form and a simulation"
    )


def _accuracy_long(history: pd.DataFrame) -> pd.DataFrame:
    h = history[history.step > 0]
    long = h.melt(id_vars=["step"], value_vars=["train_acc", "test_acc"], var_name="split", value_name="accuracy")
    long["split"] = long.split.str.replace("_acc", "")
    return long


def grokking_chart(
    history: pd.DataFrame, *, memorised: int | None = None, generalised: int | None = None
) -> alt.LayerChart | alt.Chart:
    """Train and test accuracy against step (log x), with rules at the memorisation and generalisation steps."""
    chart = line(
        _accuracy_long(history),
        "step",
        "accuracy",
        "split",
        x_title="training step (log scale)",
        y_title="accuracy",
        log_x=True,
        y_domain=(0, 1),
        title="Modular arithmetic: memorising, then generalising",
        height=HEIGHT + 80,
    )
    marks = [
        rule(step, label=f"{name} (step {step})", color=SERIES_COLORS[split])
        for step, name, split in ((memorised, "memorised", "train"), (generalised, "generalised", "test"))
        if step
    ]
    return alt.layer(chart, *marks) if marks else chart


def live_grokking_chart(records: pd.DataFrame) -> alt.Chart:
    """The live view: accuracy so far from the callback records."""
    return grokking_chart(records)


def weight_norm_chart(history: pd.DataFrame) -> alt.Chart:
    """The L2 norm of all weights against step (log x)."""
    h = history[history.step > 0].assign(series="weight norm")
    return line(
        h,
        "step",
        "weight_norm",
        x_title="training step (log scale)",
        y_title="‖θ‖₂, all parameters",
        log_x=True,
        title="Weight norm",
        height=HEIGHT - 40,
    ).encode(color=alt.value(FALLBACK[6]))


def emergence_accuracy_chart(curves: pd.DataFrame) -> alt.Chart:
    """Per-token accuracy and exact match against model size (log x): the smooth one and the 'emergent' one."""
    data = curves[curves.metric.isin(["per-token accuracy", "exact match"])]
    length = int(curves.length.iloc[0])
    return line(
        data,
        "scale",
        "value",
        x_title="model size N, parameters (log scale)",
        y_title="accuracy",
        log_x=True,
        y_domain=(0, 1),
        title=f"The same models, two metrics (target of L = {length} tokens)",
        tooltip=["scale", "metric", "value"],
        height=HEIGHT + 80,
    ).encode(color=_metric_color(data.metric.unique().tolist()))


def edit_distance_chart(curves: pd.DataFrame) -> alt.Chart:
    """Expected token edit distance L (1 - p) against model size (log x)."""
    data = curves[curves.metric == "token edit distance"]
    return line(
        data,
        "scale",
        "value",
        x_title="model size N, parameters (log scale)",
        y_title="wrong tokens per answer",
        log_x=True,
        title="Token edit distance: a metric linear in per-token errors",
        height=HEIGHT,
        tooltip=["scale", "metric", "value"],
    ).encode(color=_metric_color(["token edit distance"]))


def addition_chart(result: pd.DataFrame) -> alt.Chart:
    """Measured per-digit accuracy, exact match and p^L against parameter count (log x), one point per model."""
    data = result[result.metric.isin(["per-digit accuracy", "exact match", "p^L"])]
    length = int(result.length.iloc[0])
    return line(
        data,
        "n_params",
        "value",
        x_title="parameters (log scale)",
        y_title="accuracy on held-out sums",
        log_x=True,
        points=True,
        y_domain=(0, 1),
        title=f"MLPs on addition: {length}-digit sums, one model per width",
        tooltip=["width", "n_params", "metric", "value"],
        height=HEIGHT + 80,
    ).encode(color=_metric_color(data.metric.unique().tolist()))


def addition_edit_chart(result: pd.DataFrame) -> alt.Chart:
    """Measured mean number of wrong digits against parameter count (log x)."""
    data = result[result.metric == "digit edit distance"]
    return line(
        data,
        "n_params",
        "value",
        x_title="parameters (log scale)",
        y_title="wrong digits per sum",
        log_x=True,
        points=True,
        title="Digit edit distance of the same models",
        height=HEIGHT,
        tooltip=["width", "n_params", "value"],
    ).encode(color=_metric_color(["digit edit distance"]))


def live_addition_chart(records: pd.DataFrame) -> alt.Chart:
    """The live view: training loss per digit against step, one line per width."""
    data = records.assign(width=records.width.astype(str))
    return line(
        data,
        "step",
        "loss",
        "width",
        x_title="Adam step",
        y_title="train cross-entropy per digit (nats)",
        color_title="width",
        title="Training the addition models",
    )


def _n_test_label(df: pd.DataFrame) -> pd.DataFrame:
    return df.assign(test_set=[f"{n:,} items" for n in df.n_test])


def test_set_chart(sampled: pd.DataFrame) -> alt.HConcatChart:
    """Exact match and edit distance of the same idealised models measured on test sets of several sizes.

    Left: measured exact match on a log axis (a measured 0 is drawn at ``FLOOR``) with the population value
    ``p^L`` dashed; right: the measured token edit distance (log axis), a continuous metric.
    """
    data = _n_test_label(sampled)
    order = [f"{n:,} items" for n in sorted(sampled.n_test.unique())]
    colour = alt.Color("test_set:N", sort=order, title="test set", legend=alt.Legend(orient="top"),
                       scale=alt.Scale(domain=order, range=FALLBACK[: len(order)]))  # fmt: skip
    x = alt.X("scale:Q", title="model size N, parameters (log scale)", scale=alt.Scale(type="log"))
    em = data[data.metric == "exact match"].assign(shown=lambda d: d.value.clip(lower=FLOOR))
    truth = em.drop_duplicates("scale").assign(shown=lambda d: d.expected.clip(lower=FLOOR))
    y_em = alt.Y("shown:Q", title=f"exact match (log scale; 0 drawn at {FLOOR:g})", scale=alt.Scale(type="log"))
    measured = (
        alt.Chart(em)
        .mark_line(point=True, clip=True)
        .encode(x=x, y=y_em, color=colour, tooltip=["scale", "test_set", "value", "expected"])
    )
    expected = alt.Chart(truth).mark_line(strokeDash=[4, 4], color=SERIES_COLORS["theory"]).encode(x=x, y=y_em)
    left = alt.layer(expected, measured).properties(title="Exact match: p^L dashed, measured in colour", height=HEIGHT)
    ed = data[data.metric == "token edit distance"].assign(value=lambda d: d.value.clip(lower=FLOOR))
    right = (
        alt.Chart(ed, title="Token edit distance of the same answers")
        .mark_line(point=True, clip=True)
        .encode(
            x=x,
            y=alt.Y("value:Q", title="wrong tokens per answer (log scale)", scale=alt.Scale(type="log")),
            color=colour,
            tooltip=["scale", "test_set", "value", "expected"],
        )
        .properties(height=HEIGHT)
    )
    return alt.hconcat(left, right)


def fit_line_chart(df: pd.DataFrame) -> alt.Chart:
    """The target and the fitted functions at a few p along one line through input space."""
    order = ["target", *[s for s in dict.fromkeys(df.series) if s != "target"]]
    colors = [SERIES_COLORS["theory"], *FALLBACK[: len(order) - 1]]
    return (
        alt.Chart(df, title="The fitted function along one line through the 10-d input space")
        .mark_line(clip=True)
        .encode(
            x=alt.X("t:Q", title="position t on the line x = t·(u + v)/|u + v|"),
            y=alt.Y("y:Q", title="f(x)", scale=alt.Scale(domain=[-6, 10])),
            color=alt.Color("series:N", sort=order, scale=alt.Scale(domain=order, range=colors), title=None,
                            legend=alt.Legend(orient="top")),
            strokeWidth=alt.condition(alt.datum.series == "target", alt.value(3), alt.value(1.5)),
            tooltip=["series", "t", "y"],
        )
        .properties(height=HEIGHT - 60)
    )  # fmt: skip


def bias_variance_chart(df: pd.DataFrame, *, n_train: int) -> alt.LayerChart:
    """Squared bias, variance and their sum (the test error) against p, log-log, with p = n marked."""
    order = ["test error", "bias²", "variance"]
    colors = [SERIES_COLORS["test"], FALLBACK[0], FALLBACK[4]]
    lines = (
        alt.Chart(df.assign(value=df.value.clip(lower=FLOOR)), title="Test error = bias² + variance (over trials)")
        .mark_line(point=True, clip=True)
        .encode(
            x=alt.X("n_features:Q", title="number of random features p (log scale)", scale=alt.Scale(type="log")),
            y=alt.Y("value:Q", title="squared error (log scale)", scale=alt.Scale(type="log")),
            color=alt.Color("part:N", sort=order, scale=alt.Scale(domain=order, range=colors), title=None,
                            legend=alt.Legend(orient="top")),
            tooltip=["n_features", "part", "value"],
        )
        .properties(height=HEIGHT - 60)
    )  # fmt: skip
    return alt.layer(lines, rule(n_train, label=f"p = n = {n_train}"))


def samplewise_chart(df: pd.DataFrame, *, n_features: int) -> alt.LayerChart:
    """Median test error against the number of training points at a fixed p (log-log), with n = p marked."""
    data = df.assign(series="test", value=df.test_mse)
    chart = line(
        data,
        "n_train",
        "value",
        "series",
        x_title="training points n (log scale)",
        y_title="median test MSE (log scale)",
        log_x=True,
        log_y=True,
        points=True,
        title=f"Sample-wise double descent at p = {n_features} features",
        tooltip=["n_train", "test_mse", "test_q25", "test_q75"],
        height=HEIGHT - 60,
    )
    return alt.layer(chart, rule(n_features, label=f"n = p = {n_features}"))


def grokking_loss_chart(history: pd.DataFrame) -> alt.Chart:
    """Train and test cross-entropy against step, log-log: train falls first, test falls when it generalises."""
    h = history[history.step > 0]
    long = h.melt(id_vars=["step"], value_vars=["train_loss", "test_loss"], var_name="split", value_name="loss")
    long["split"] = long.split.str.replace("_loss", "")
    long["loss"] = long.loss.clip(lower=1e-6)
    return line(
        long,
        "step",
        "loss",
        "split",
        x_title="training step (log scale)",
        y_title="cross-entropy, nats (log scale)",
        log_x=True,
        log_y=True,
        title="Loss: memorised (train) long before generalised (test)",
        height=HEIGHT - 40,
    )


def spectrum_chart(spectrum: pd.DataFrame, *, key: tuple[int, ...]) -> alt.LayerChart:
    """The embedding's share of squared norm per frequency against step: key frequencies brighten, the rest fade."""
    data = spectrum[(spectrum.step > 0) & (spectrum.frequency > 0)].assign(
        kind=lambda d: d.frequency.isin(key).map({True: "key frequency", False: "other"})
    )
    x = alt.X("step:Q", title="training step (log scale)", scale=alt.Scale(type="log"))
    y = alt.Y("share:Q", title="share of the embedding's squared norm")
    kinds = alt.Scale(domain=["key frequency", "other"], range=[SERIES_COLORS["test"], "#bab0ac"])
    colour = alt.Color("kind:N", title=None, legend=alt.Legend(orient="top"), scale=kinds)
    return (
        alt.Chart(data, title="Fourier spectrum of the embedding over training: one line per frequency")
        .mark_line(clip=True)
        .encode(x=x, y=y, color=colour, detail="frequency:N", tooltip=["step", "frequency", "share", "kind"])
        .properties(height=HEIGHT - 40)
    )


def key_share_chart(history: pd.DataFrame, *, chance: float, generalised: int | None) -> alt.LayerChart:
    """The key frequencies' share of the embedding against step, with its chance level and the generalisation step."""
    h = history[history.step > 0].assign(series="key frequencies' share")
    chart = line(
        h,
        "step",
        "key_share",
        "series",
        x_title="training step (log scale)",
        y_title="share of the embedding's squared norm",
        log_x=True,
        y_domain=(0, 1),
        title="How much of the embedding the key frequencies carry",
        height=HEIGHT - 40,
    )
    marks = [rule(chance, axis="y", label=f"chance {chance:.0%}")]
    if generalised:
        marks.append(rule(generalised, label=f"generalised (step {generalised})", color=SERIES_COLORS["test"]))
    return alt.layer(chart, *marks)


PHASE_COLORS = {"learns": "#59a14f", "groks": "#4e79a7", "memorises": "#f28e2b", "fails": "#bab0ac"}


def phase_chart(phases: pd.DataFrame) -> alt.LayerChart:
    """The phase of every (training fraction, weight decay) cell, with its generalisation step written in."""
    data = phases.assign(
        label=[f"{g:.0f}" if g == g else "" for g in phases.generalised_step],
        fraction=[f"{f:.0%}" for f in phases.train_fraction],
    )
    order = [f"{f:.0%}" for f in sorted(phases.train_fraction.unique())]
    x = alt.X("fraction:O", title="training fraction", sort=order)
    y = alt.Y("weight_decay:O", title="weight decay", sort="descending")
    colour = alt.Color("phase:N", title=None, legend=alt.Legend(orient="top"),
                       scale=alt.Scale(domain=list(PHASE_COLORS), range=list(PHASE_COLORS.values())))  # fmt: skip
    tip = ["train_fraction", "weight_decay", "phase", "memorised_step", "generalised_step", "final_test_acc"]
    cells = alt.Chart(data).mark_rect().encode(x=x, y=y, color=colour, tooltip=tip)
    text = alt.Chart(data).mark_text(color="white", fontSize=13).encode(x=x, y=y, text="label:N")
    return alt.layer(cells, text).properties(
        height=HEIGHT - 80, title="Phase of each run (number: step where test accuracy reached 95%)"
    )


def live_phase_chart(records: pd.DataFrame) -> alt.Chart:
    """The live view of the sweep: how many cells have memorised and generalised so far."""
    long = records.melt(id_vars=["step"], value_vars=["memorised", "generalised"], var_name="split", value_name="n")
    long["split"] = long.split.map({"memorised": "train", "generalised": "test"})
    return line(
        long[long.step > 0],
        "step",
        "n",
        "split",
        x_title="training step (log scale)",
        y_title="cells (train: memorised, test: generalised)",
        log_x=True,
        title="The sweep so far",
    )
