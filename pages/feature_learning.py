"""Feature learning: lazy (NTK) vs rich (muP) training, the coord check and learning-rate transfer."""

import math

import pandas as pd
import streamlit as st

from core.feature_learning import lazy_rich as fl
from core.feature_learning import mup
from ui import controls, page, runs
from ui.charts import feature_learning as cfl
from ui.views import feature_learning as text

PARTS = {"lazy": "Lazy vs rich", "coord": "Coord check", "transfer": "LR transfer", "function": "Function space"}
NAMES = text.NAMES
WIDTHS = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
LZ, CC, FV = fl.LazyRichConfig(), mup.CoordCheckConfig(), fl.FunctionViewConfig()
TR = mup.TransferConfig()
PRESETS = {
    "Custom": {},
    "Quick sweep (64-1024)": {"fl_lz_widths": [64, 256, 1024], "fl_lz_steps": 200},
    "Full recipe (64-4096, ~3x the time)": {"fl_lz_widths": [64, 256, 1024, 4096], "fl_lz_steps": 200},
}


def run(fn, config, label: str, key: str, chart=None):
    """A live run that stops the page when the user stops it (or it fails with a message)."""
    result = runs.live_run(fn, config, label=label, key=key, live_chart=chart)
    if result is None:
        st.stop()
    return result


page.header("Feature learning: lazy (NTK) vs rich (muP)", text.INTRO, text.FORMULA)
with st.expander("The three parametrizations (Tensor Programs V, Table 8; n = width, d = input size)"):
    st.markdown(text.TABLE_8)
part = controls.radio("Part", list(PARTS), "lazy", key="fl_part", format_func=PARTS.get)

with st.sidebar:
    seed = controls.seed(key="fl_seed")
    if part == "lazy":
        controls.preset("Preset", PRESETS, key="fl_lz_preset")
        widths = controls.multiselect("Widths", WIDTHS, LZ.widths, key="fl_lz_widths")
        steps = controls.select_slider("GD steps", (20, 50, 100, 200, 400), LZ.steps, key="fl_lz_steps")
        n_seeds = controls.select_slider("Seeds (band = min-max)", (1, 2, 3, 5), LZ.n_seeds, key="fl_lz_seeds")
        act = controls.radio("Activation", ("relu", "tanh"), LZ.activation, key="fl_lz_act", format_func=str.title)
        with_sp = controls.toggle(f"Add SP (one lr, 2^{round(math.log2(fl.DEFAULT_LR['sp']))})", False, key="fl_lz_sp")
    elif part == "coord":
        opt = controls.radio("Optimizer", ("Adam", "SGD"), "Adam", key="fl_cc_opt")
        lr = controls.select_slider("Learning rate", (0.01, 0.03, 0.1, 0.3), CC.lr, key="fl_cc_lr")
        steps = controls.select_slider("Steps", (1, 2, 3, 4, 5, 8), CC.steps, key="fl_cc_steps")
        n_seeds = controls.select_slider("Seeds (band = min-max)", (1, 2, 3, 5), CC.n_seeds, key="fl_cc_seeds")
        shows = {"act_rms": "activation size", "delta_rms": "change since init"}
        value = controls.radio("Show", list(shows), "act_rms", key="fl_cc_value", format_func=shows.get)
        names = controls.multiselect("Models", NAMES, ("sp", "mup"), key="fl_cc_names", format_func=NAMES.get)
    elif part == "transfer":
        opt = controls.radio("Optimizer", ("SGD", "Adam"), "SGD", key="fl_tr_opt")
        widths = controls.multiselect("Widths", WIDTHS[2:8], TR.widths, key="fl_tr_widths")
        fine = controls.toggle("Every octave of LR (twice the cost)", False, key="fl_tr_fine")
        default_steps = mup.DEFAULT_STEPS[opt.lower()]
        key = "fl_tr_steps" if opt == "SGD" else "fl_tr_steps_adam"
        steps = controls.select_slider("Steps", (20, 40, 50, 100, 200, 400), default_steps, key=key)
    else:
        narrow = controls.select("Narrow width", (8, 16, 32, 64), FV.widths[0], key="fl_fv_narrow")
        wide = controls.select("Wide width", (256, 1024, 2048, 4096, 8192), FV.widths[1], key="fl_fv_wide")
        steps = controls.select_slider("GD steps", (30, 100, 300, 1000, 3000), FV.steps, key="fl_fv_steps")
        names = controls.multiselect("Models", NAMES, FV.parametrizations, key="fl_fv_names", format_func=NAMES.get)

if (part in ("lazy", "transfer") and len(widths) < 2) or (part in ("coord", "function") and not names):
    st.warning("Pick at least two widths (the point is how things change with width) or one parametrization.")
    st.stop()

if part == "lazy":
    label = f"{n_seeds} seed(s) x widths {', '.join(map(str, sorted(widths)))}"
    parts = [
        run(fl.lazy_vs_rich, fl.LazyRichConfig(parametrization=n, widths=tuple(widths), steps=steps, activation=act,
                                               n_seeds=n_seeds, seed=seed),
            f"{NAMES[n]}: {label}", f"fl_lz_{n}", cfl.live_changes)
        for n in ("ntk", "mup", "sp")[: 3 if with_sp else 2]
    ]  # fmt: skip
    df = pd.concat(parts, ignore_index=True)
    bands, slopes = page.compute(fl.change_bands, df), page.compute(fl.width_slopes, df)
    for col, measure in zip(st.columns(2), fl.MEASURES):
        with col:
            page.show_chart(cfl.change_vs_width(bands, measure, slopes), df, name=f"lazy_rich_{measure}")
    page.notice(text.lazy_notice(bands, slopes, act))
    st.caption(text.THEORY)

elif part == "coord":
    found = {}
    for n in names:
        config = mup.CoordCheckConfig(
            parametrization=n, steps=steps, optimizer=opt.lower(), lr=lr, n_seeds=n_seeds, seed=seed
        )
        res = run(mup.coord_check, config, f"{NAMES[n]}: coord check, {n_seeds} seed(s)", f"fl_cc_{n}")
        found[n] = page.compute(mup.coord_slopes, res, value).set_index("layer")["slope"]
        title = f"{NAMES[n]} ({opt}, lr {lr}): one panel per step, geometric mean over {n_seeds} seed(s)"
        page.show_chart(cfl.coord_chart(page.compute(mup.coord_bands, res, value), value, title=title), res,
                        name=f"coord_check_{n}")  # fmt: skip
    slopes = "; ".join(f"{s['hidden 3']:.2f} under {NAMES[n]} (output {s['output']:.2f})" for n, s in found.items())
    slopes = slopes.replace("inf", "∞ (overflow)")
    page.notice(
        f"After {steps} step(s) the last hidden layer's {shows[value]} grows like width^slope with slope {slopes}, "
        f"over widths {CC.widths[0]}-{CC.widths[-1]}. Slope ≈ 0: width-stable; above 0: blows up; below 0: freezes."
    )

elif part == "transfer":
    best = {}
    for col, n in zip(st.columns(2), ("sp", "mup")):
        config = mup.TransferConfig(parametrization=n, widths=tuple(widths), optimizer=opt.lower(), steps=steps,
                                    lrs=mup.transfer_lrs(n, opt.lower(), fine=fine), seed=seed)  # fmt: skip
        with col:
            label = f"{NAMES[n]} ({opt}): {len(config.lrs)} LRs x {len(widths)} widths"
            res = run(mup.lr_transfer, config, label, f"fl_tr_{n}", lambda r: cfl.live_losses(r, "lr"))
            best[n] = text.best_lrs(res)
            chart = cfl.transfer_chart(res, title=f"{NAMES[n]} with {opt}: loss vs learning rate")
            page.show_chart(chart, res, name=f"lr_transfer_{n}_{opt.lower()}")
    page.notice(
        f"{opt}, {steps} steps. Best learning rate under SP: {best['sp']}. Under muP: {best['mup']}. Rings mark each "
        "width's optimum, crosses the runs that diverged."
    )

else:
    config = fl.FunctionViewConfig(widths=(narrow, wide), parametrizations=tuple(names), steps=steps, seed=seed)
    res = run(fl.function_space_view, config, "Training the networks", "fl_fv", lambda r: cfl.live_losses(r, "width"))
    page.show_chart(cfl.function_chart(res), res, name="function_space")
    gap = res.groupby(["parametrization", "width"])["gap"].first()
    gaps = "; ".join(f"{NAMES[n]} {gap[n, narrow]:.3f} at width {narrow}, {gap[n, wide]:.3f} at {wide}" for n in names)
    page.notice(
        f"RMS distance between the trained network (solid) and its linearisation around init (dashed): {gaps}. "
        "Lazy training turns the wide network into a kernel machine; rich training does not."
    )

page.references(text.REFERENCES)
