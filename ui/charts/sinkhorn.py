"""Chart builders for the Sinkhorn page: DataFrame in, ``alt.Chart`` out (no streamlit).

The iterate after k normalisations beside the exact plan, the marginals, the eps trade-off (gap, iterations,
time on log axes, with the entropic bound), time against n, and the three gradient flows (entropic OT, Sinkhorn
divergence, MMD) with their loss and W2 curves.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from ui.charts import HEIGHT, SERIES_COLORS, color_scale, line, rule

GREY = "#bab0ac"


def _scale(names: list[str], colors: list[str]) -> alt.Scale:
    return alt.Scale(domain=names, range=colors)


def plan_heatmaps(plans: pd.DataFrame, *, size: int = 330) -> alt.FacetChart:
    """Both plans (``normalisation_view(...).plans``) side by side: mass moved from source x to target y."""
    order = list(dict.fromkeys(plans["plan"]))
    overlap = "(datum.{0}_end - datum.{0}) * 0.15"  # cells overlap a little, which hides antialiasing hairlines
    return (
        alt.Chart(plans)
        .transform_calculate(x1=f"datum.source_end + {overlap.format('source')}")
        .transform_calculate(y1=f"datum.target_end + {overlap.format('target')}")
        .mark_rect()
        .encode(
            x=alt.X("source:Q", title="source position x", scale=alt.Scale(nice=False, zero=False)),
            x2="x1:Q",
            y=alt.Y("target:Q", title="target position y", scale=alt.Scale(nice=False, zero=False)),
            y2="y1:Q",
            color=alt.Color("mass:Q", title="mass P_ij", scale=alt.Scale(scheme="viridis", type="sqrt")),
            tooltip=[
                "plan",
                alt.Tooltip("source:Q", format=".3f"),
                alt.Tooltip("target:Q", format=".3f"),
                alt.Tooltip("mass:Q", format=".3g"),
            ],
        )
        .properties(width=size, height=size)
        .facet(column=alt.Column("plan:N", title=None, sort=order))
    )


def marginals_chart(marginals: pd.DataFrame) -> alt.Chart:
    """The source ``a``, the target ``b`` and the column sums of the iterate, against position."""
    names = list(dict.fromkeys(marginals["series"]))
    colors = [GREY, SERIES_COLORS["exact"], SERIES_COLORS["sinkhorn"]][: len(names)]
    chart = line(marginals, "x", "mass", "series", x_title="position x", y_title="mass per bin", height=220)
    return chart.encode(
        color=alt.Color("series:N", title=None, scale=_scale(names, colors), legend=alt.Legend(orient="top"))
    )


def gap_chart(sweep: pd.DataFrame, *, eps: float) -> alt.LayerChart:
    """Measured gap <P_eps, M> - OT against eps, with the bounds eps min(H(a), H(b)) and eps log n (log-log)."""
    names = ["measured gap", "bound ε min(H(a), H(b))", "bound ε log n"]
    long = pd.concat(
        [
            sweep.assign(series=names[0], value=sweep["gap"]),
            sweep.assign(series=names[1], value=sweep["entropy_bound"]),
            sweep.assign(series=names[2], value=sweep["bound"]),
        ]
    )
    long = long[long["value"] > 0]
    chart = line(
        long,
        "eps",
        "value",
        "series",
        x_title="ε (fraction of the largest cost)",
        y_title="⟨P_ε, M⟩ − OT (cost units)",
        log_x=True,
        log_y=True,
        points=True,
        tooltip=["eps", "series", "value", "iterations"],
    )
    colors = [SERIES_COLORS["sinkhorn"], "#76b7b2", SERIES_COLORS["theory"]]
    chart = chart.encode(
        color=alt.Color("series:N", title=None, scale=_scale(names, colors), legend=alt.Legend(orient="top")),
        strokeDash=alt.StrokeDash("series:N", scale=_scale(names, [[1, 0], [4, 3], [6, 3]]), legend=None),
    )
    return alt.layer(chart, rule(eps, label=f"ε = {eps:g}"))


def effort_chart(sweep: pd.DataFrame, *, eps: float, y: str) -> alt.LayerChart:
    """Iterations (``y="iterations"``) or seconds (``y="seconds"``, with the exact LP's time) against eps."""
    titles = {"iterations": "iterations to tolerance", "seconds": "wall time (s)"}
    chart = line(
        sweep,
        "eps",
        y,
        x_title="ε (fraction of the largest cost)",
        y_title=titles[y],
        log_x=True,
        log_y=True,
        points=True,
        tooltip=["eps", "iterations", "seconds", "method", "converged"],
        height=260,
    ).encode(color=alt.value(SERIES_COLORS["sinkhorn"]))
    layers = [chart, rule(eps, label=f"ε = {eps:g}")]
    if y == "seconds":
        layers.append(
            rule(float(sweep["exact_seconds"].iloc[0]), axis="y", label="exact LP", color=SERIES_COLORS["exact"])
        )
    return alt.layer(*layers)


def timing_chart(timings: pd.DataFrame) -> alt.LayerChart:
    """Median wall time against n for the exact LP and Sinkhorn (log-log), a bar from the fastest to the slowest repeat.

    Works on a finished ``timing_vs_n`` table and on the live records of a run (one row per timed run: their
    median per (n, solver) is drawn).
    """
    if "seconds_min" not in timings:
        grouped = timings.groupby(["n", "solver"], sort=False)["seconds"]
        timings = grouped.agg(seconds="median", seconds_min="min", seconds_max="max").reset_index()
    lines = line(
        timings,
        "n",
        "seconds",
        "solver",
        x_title="points per cloud n",
        y_title="wall time (s), median of repeats",
        log_x=True,
        log_y=True,
        points=True,
        tooltip=[c for c in ("n", "solver", "seconds", "seconds_min", "seconds_max", "iterations") if c in timings],
    )
    spread = (
        alt.Chart(timings)
        .mark_rule(strokeWidth=2, opacity=0.6)
        .encode(
            x="n:Q",
            y=alt.Y("seconds_min:Q", scale=alt.Scale(type="log")),
            y2="seconds_max:Q",
            color=alt.Color("solver:N", scale=color_scale(timings["solver"].unique()), legend=None),
        )
    )
    return alt.layer(lines, spread)


LOSS_NAMES = ["entropic OT", "Sinkhorn divergence", "MMD"]  # core.sinkhorn.flows.LOSSES, in its order
LOSS_COLORS = [SERIES_COLORS["sinkhorn"], SERIES_COLORS["exact"], SERIES_COLORS["KL"]]


def _loss_color(**legend) -> alt.Color:
    return alt.Color("loss:N", title=None, scale=_scale(LOSS_NAMES, LOSS_COLORS), legend=alt.Legend(**legend))


def flow_curves(history: pd.DataFrame) -> alt.HConcatChart:
    """Each loss relative to its start, and the exact W2 to the target, against the step (log y), one line per loss.

    Works on a finished ``loss_flows(...).history`` and on the live records of a run.
    """
    base = alt.Chart(history).encode(
        x=alt.X("step:Q", title="gradient step"),
        color=_loss_color(orient="top"),
        tooltip=["loss", "step", alt.Tooltip("value:Q", format=".4g"), alt.Tooltip("w2:Q", format=".4g")],
    )
    relative = base.transform_filter("datum.relative > 0").mark_line(clip=True)
    relative = relative.encode(y=alt.Y("relative:Q", title="loss / loss at step 0", scale=alt.Scale(type="log")))
    w2 = base.mark_line(clip=True).encode(
        y=alt.Y("w2:Q", title="exact W2 to the target (units of x)", scale=alt.Scale(type="log"))
    )
    return alt.hconcat(relative.properties(height=HEIGHT - 80), w2.properties(height=HEIGHT - 80))


def flow_live_chart(records: pd.DataFrame) -> alt.Chart:
    """The flows so far: exact W2 to the target against the step, one line per loss."""
    return (
        alt.Chart(records)
        .mark_line()
        .encode(
            x=alt.X("step:Q", title="gradient step"),
            y=alt.Y("w2:Q", title="exact W2 to the target", scale=alt.Scale(type="log")),
            color=_loss_color(orient="top"),
        )
        .properties(height=HEIGHT - 120)
    )


def flow_snapshots(positions: pd.DataFrame, target: pd.DataFrame, *, shown: int = 4, size: int = 150) -> alt.FacetChart:
    """A grid of snapshots: one row per loss, one column per shown step, the target in grey behind each cloud."""
    last = int(positions["step"].max())
    steps = sorted({round(last * k / (shown - 1)) for k in range(shown)})
    snaps = positions[positions["step"].isin(steps)]
    goal = pd.concat([target.assign(loss=name, step=s) for name in LOSS_NAMES for s in steps])
    layered = pd.concat([goal.assign(role="target"), snaps.assign(role="cloud")], ignore_index=True)
    axes = {
        "x": alt.X("x:Q", title=None, scale=alt.Scale(zero=False), axis=alt.Axis(labels=False, ticks=False)),
        "y": alt.Y("y:Q", title=None, scale=alt.Scale(zero=False), axis=alt.Axis(labels=False, ticks=False)),
    }
    color = alt.Color(
        "role_loss:N",
        title=None,
        scale=_scale(["target", *LOSS_NAMES], [GREY, *LOSS_COLORS]),
        legend=alt.Legend(orient="top"),
    )
    return (
        alt.Chart(layered)
        .transform_calculate(role_loss="datum.role == 'target' ? 'target' : datum.loss")
        .mark_circle(size=14, opacity=0.75)
        .encode(**axes, color=color, order=alt.Order("role:N", sort="descending"))
        .properties(width=size, height=size)
        .facet(
            row=alt.Row("loss:N", title=None, sort=LOSS_NAMES),
            column=alt.Column("step:O", title="gradient step", sort=steps),
        )
    )


def frontier_chart(df: pd.DataFrame) -> alt.LayerChart:
    """Relative gap to the exact cost against median wall time (log-log), one point per eps; the LP as a rule."""
    sk = df[df["solver"] == "sinkhorn"].assign(label=lambda d: "ε = " + d["eps"].map("{:g}".format))
    base = alt.Chart(sk).encode(
        x=alt.X("seconds:Q", title="median wall time (s)", scale=alt.Scale(type="log")),
        y=alt.Y("rel_gap:Q", title="(⟨P_ε, M⟩ − OT) / OT", scale=alt.Scale(type="log")),
        tooltip=["eps", "seconds", "rel_gap", "iterations"],
    )
    color = SERIES_COLORS["sinkhorn"]
    layers = [
        base.mark_line(point=True, color=color),
        base.mark_text(align="left", dx=6, dy=-6, color=color).encode(text="label:N"),
    ]
    lp = float(df.loc[df["solver"] == "exact", "seconds"].iloc[0])
    layers.append(rule(lp, label="exact LP (gap 0)", color=SERIES_COLORS["exact"]))
    return alt.layer(*layers).properties(height=HEIGHT - 40)


def scale_charts(df: pd.DataFrame) -> alt.HConcatChart:
    """Wall time and memory (cost matrix + plan) against n, log-log, one line per solver."""
    names = sorted(df["solver"].unique())
    colors = [SERIES_COLORS["exact"] if s.startswith("exact") else SERIES_COLORS["sinkhorn"] for s in names]
    base = alt.Chart(df).encode(
        x=alt.X("n:Q", title="points per cloud n", scale=alt.Scale(type="log")),
        color=alt.Color("solver:N", scale=_scale(names, colors), legend=alt.Legend(orient="bottom")),
        tooltip=["n", "solver", "dtype", "seconds", "memory_mb", "iterations", "marginal_error"],
    )
    time_ = base.mark_line(point=True).encode(y=alt.Y("seconds:Q", title="wall time (s)", scale=alt.Scale(type="log")))
    mem = base.mark_line(point=True).encode(
        y=alt.Y("memory_mb:Q", title="cost matrix + plan (MB)", scale=alt.Scale(type="log"))
    )
    return alt.hconcat(time_.properties(height=HEIGHT - 60), mem.properties(height=HEIGHT - 60))


def scale_live_chart(records: pd.DataFrame) -> alt.Chart:
    """The scale run so far: wall time against n per solver."""
    return (
        alt.Chart(records)
        .mark_line(point=True)
        .encode(
            x=alt.X("n:Q", scale=alt.Scale(type="log")),
            y=alt.Y("seconds:Q", title="wall time (s)", scale=alt.Scale(type="log")),
            color="solver:N",
        )
        .properties(height=HEIGHT - 60)
    )
