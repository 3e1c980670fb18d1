"""Feature learning: lazy (NTK) versus rich (muP) training, the coord check and learning-rate transfer."""

import math

import pandas as pd
import streamlit as st

from core import feature_learning as fl
from ui import charts_feature_learning as cfl
from ui import controls, page, runs

PARTS = {"lazy": "Lazy vs rich", "coord": "Coord check", "transfer": "LR transfer", "function": "Function space"}
NAMES = {"sp": "SP", "ntk": "NTK", "mup": "muP"}
WIDTHS = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
LZ, CC, TR, FV = fl.LazyRichConfig(), fl.CoordCheckConfig(), fl.TransferConfig(), fl.FunctionViewConfig()
PRESETS = {
    "Custom": {},
    "Quick sweep (64-1024)": {"fl_lz_widths": [64, 256, 1024], "fl_lz_steps": 200},
    "Full recipe (64-4096, ~3x the time)": {"fl_lz_widths": [64, 256, 1024, 4096], "fl_lz_steps": 200},
}


def run(fn, config: dict, label: str, key: str, chart=None):
    """A live run that stops the page when the user stops it (or it fails with a message)."""
    result = runs.live_run(fn, config, label=label, key=key, live_chart=chart)
    if result is None:
        st.stop()
    return result


page.header(
    "Feature learning: lazy (NTK) vs rich (muP)",
    "Make a network wider and train it the usual way: under NTK scaling each weight moves less and less, the "
    "network becomes its own linearisation and learns with a fixed kernel (*lazy*). The maximal-update "
    "parametrization (muP, Tensor Programs V) rescales init, multipliers and learning rates per layer so that "
    "features keep moving by order one at every width (*rich*), and the best learning rate stops depending on width.",
    r"f_{\mathrm{NTK}}(x)=\tfrac{1}{\sqrt n}\sum_i v_i\,\phi\big(\tfrac{w_i\cdot x}{\sqrt d}\big),\;"
    r"f_{\mu P}(x)=\tfrac{1}{n}\sum_i v_i\,\phi(w_i\cdot x),\;"
    r"\tfrac{\lVert W-W_0\rVert}{\lVert W_0\rVert}\sim\begin{cases}n^{-1/2}&\text{NTK}\\ \Theta(1)&\mu P\end{cases}",
)
with st.expander("The three parametrizations (Tensor Programs V, Table 8; n = width, d = input size)"):
    st.markdown(
        "| | input weights | hidden weights | output weights |\n|---|---|---|---|\n"
        "| **SP** | var 1/d | var 1/n | var 1/n; one LR everywhere |\n"
        "| **NTK** | var 1, times 1/√d | var 1, times 1/√n | var 1, times 1/√n; one LR |\n"
        "| **muP** | var 1/d; LR × n (SGD) | var 1/n; LR × 1/n (Adam) | var 1, times 1/n; LR × n (SGD) |\n\n"
        "Biases are a constant-1 input coordinate; the factors are taken literally (no base width). Lazy vs rich and "
        "LR transfer: x ~ N(0, I₁₀) and a constant 1, target tanh(2z₁) + z₁z₂ on random directions, 256 points, "
        "full-batch GD (NTK lr 1, muP lr 0.5); kernel = empirical NTK on 32 probe points, weighted by layer LRs."
    )
part = controls.radio("Part", list(PARTS), "lazy", key="fl_part", format_func=PARTS.get)

with st.sidebar:
    seed = controls.seed(key="fl_seed")
    if part == "lazy":
        controls.preset("Preset", PRESETS, key="fl_lz_preset")
        widths = controls.multiselect("Widths", WIDTHS, LZ.widths, key="fl_lz_widths")
        steps = controls.select_slider("GD steps", (20, 50, 100, 200, 400), LZ.steps, key="fl_lz_steps")
        with_sp = controls.toggle(f"Add SP (one lr, 2^{round(math.log2(LZ.lr_sp))})", False, key="fl_lz_sp")
    elif part == "coord":
        opt = controls.radio("Optimizer", ("Adam", "SGD"), "Adam", key="fl_cc_opt")
        lr = controls.select_slider("Learning rate", (0.01, 0.03, 0.1, 0.3), CC.lr, key="fl_cc_lr")
        steps = controls.select_slider("Steps", (1, 2, 3, 4, 6, 8, 10), CC.steps, key="fl_cc_steps")
        shows = {"act_rms": "activation size", "delta_rms": "change since init"}
        value = controls.radio("Show", list(shows), "act_rms", key="fl_cc_value", format_func=shows.get)
        names = controls.multiselect("Models", NAMES, ("sp", "mup"), key="fl_cc_names", format_func=NAMES.get)
    elif part == "transfer":
        widths = controls.multiselect("Widths", WIDTHS[2:8], TR.widths, key="fl_tr_widths")
        fine = controls.toggle("Every octave of LR (twice the cost)", False, key="fl_tr_fine")
        steps = controls.select_slider("GD steps", (20, 50, 100, 200, 400), TR.steps, key="fl_tr_steps")
    else:
        narrow = controls.select("Narrow width", (8, 16, 32, 64), FV.widths[0], key="fl_fv_narrow")
        wide = controls.select("Wide width", (256, 1024, 2048, 4096, 8192), FV.widths[1], key="fl_fv_wide")
        steps = controls.select_slider("GD steps", (30, 100, 300, 1000, 3000), FV.steps, key="fl_fv_steps")
        names = controls.multiselect("Models", NAMES, FV.parametrizations, key="fl_fv_names", format_func=NAMES.get)

if (part in ("lazy", "transfer") and len(widths) < 2) or (part in ("coord", "function") and not names):
    st.warning("Pick at least two widths (the point is how things change with width) or one parametrization.")
    st.stop()

if part == "lazy":
    label = f"training widths {', '.join(map(str, sorted(widths)))}"
    df = pd.concat(
        run(fl.lazy_vs_rich, {"widths": tuple(widths), "parametrization": n, "steps": steps, "seed": seed},
            f"{NAMES[n]}: {label}", f"fl_lz_{n}", cfl.live_changes)
        for n in ("ntk", "mup", "sp")[: 3 if with_sp else 2]
    )  # fmt: skip
    slopes = page.compute(fl.width_slopes, df)
    for col, measure in zip(st.columns(2), ("rel_weight_change", "kernel_change")):
        with col:
            page.show_chart(cfl.change_vs_width(df, measure, slopes), df, name=f"lazy_rich_{measure}")
    s = slopes.set_index(["parametrization", "measure"])["slope"]
    a, b = df.groupby("parametrization").first(), df.groupby("parametrization").last()
    w, k = "rel_weight_change", "kernel_change"
    page.notice(
        f"Under NTK the hidden weights moved by {a.loc['ntk', w]:.3f} at width {a.loc['ntk', 'width']} and "
        f"{b.loc['ntk', w]:.3f} at width {b.loc['ntk', 'width']} (fitted slope {s['ntk', w]:.2f}, theory −0.5); the "
        f"kernel by {a.loc['ntk', k]:.3f} → {b.loc['ntk', k]:.4f} (slope {s['ntk', k]:.2f}, theory −1). Under muP: "
        f"weights {a.loc['mup', w]:.2f} → {b.loc['mup', w]:.2f} (slope {s['mup', w]:.2f}), kernel {a.loc['mup', k]:.1f}"
        f" → {b.loc['mup', k]:.1f}: the features keep learning at every width."
    )

elif part == "coord":
    found = {}
    for n in names:
        config = dict(parametrization=n, widths=CC.widths, steps=steps, seed=seed, optimizer=opt.lower(), lr=lr)
        res = run(fl.coord_check, config, f"{NAMES[n]}: coord check", f"fl_cc_{n}")
        found[n] = page.compute(fl.coord_slopes, res, value).set_index("layer")["slope"]
        title = f"{NAMES[n]} ({opt}, lr {lr}), one panel per layer"
        page.show_chart(cfl.coord_chart(res, value, title=title), res, name=f"coord_check_{n}")
    slopes = "; ".join(f"{s['hidden 3']:.2f} under {NAMES[n]} (output {s['output']:.2f})" for n, s in found.items())
    slopes = slopes.replace("inf", "∞ (overflow)")
    page.notice(
        f"After {steps} step(s) the last hidden layer's {shows[value]} grows like width^slope with slope {slopes}, "
        f"over widths {CC.widths[0]}-{CC.widths[-1]}. Slope ≈ 0: width-stable; above 0: blows up; below 0: freezes."
    )

elif part == "transfer":
    best = {}
    for col, n in zip(st.columns(2), ("sp", "mup")):
        lrs = TR.lrs(n, fine=fine)
        config = {"parametrization": n, "widths": tuple(widths), "lrs": lrs, "steps": steps, "seed": seed}
        with col:
            label = f"{NAMES[n]}: {len(lrs)} LRs x {len(widths)} widths"
            res = run(fl.lr_transfer, config, label, f"fl_tr_{n}", lambda r: cfl.live_losses(r, "lr"))
            best[n] = " → ".join(f"2^{round(math.log2(r.lr))} (width {r.width})" for r in res[res["best"]].itertuples())
            chart = cfl.transfer_chart(res, title=f"{NAMES[n]}: loss vs learning rate")
            page.show_chart(chart, res, name=f"lr_transfer_{n}")
    page.notice(
        f"Best learning rate under SP: {best['sp']}. Under muP: {best['mup']}. Rings mark each width's optimum, "
        "crosses the runs that diverged."
    )

else:
    config = {"widths": (narrow, wide), "parametrizations": tuple(names), "steps": steps, "seed": seed}
    res = run(fl.function_space_view, config, "Training the networks", "fl_fv", lambda r: cfl.live_losses(r, "width"))
    page.show_chart(cfl.function_chart(res), res, name="function_space")
    gap = res.groupby(["parametrization", "width"])["gap"].first()
    gaps = "; ".join(f"{NAMES[n]} {gap[n, narrow]:.3f} at width {narrow}, {gap[n, wide]:.3f} at {wide}" for n in names)
    page.notice(
        f"RMS distance between the trained network (solid) and its linearisation around init (dashed): {gaps}. "
        "Lazy training turns the wide network into a kernel machine; rich training does not."
    )

page.references(
    [
        "Jacot, Gabriel, Hongler (2018). Neural Tangent Kernel: convergence and generalization. NeurIPS.",
        "Lee et al. (2019). Wide neural networks of any depth evolve as linear models under gradient descent. NeurIPS.",
        "Chizat, Oyallon, Bach (2019). On lazy training in differentiable programming. NeurIPS.",
        "Yang & Hu (2021). Tensor Programs IV: Feature learning in infinite-width neural networks. ICML.",
        "Yang et al. (2022). Tensor Programs V: Tuning large neural networks via zero-shot hyperparameter transfer "
        "(Table 8, coord check, muTransfer); github.com/microsoft/mup.",
    ]
)
